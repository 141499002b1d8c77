/* rt_plastic.h - plastic and short-term-plasticity projections (ABI v2):
 * per-synapse state, pre/post traces, the CSC index by post neuron, and the
 * calls of the on_pre, on_pre_row, on_post and every kernels from the step
 * loop. rt_sim.c calls the hooks below; see "ABI v2" in rt_abi.h for the
 * event order and /work/notes/spec-plastic-rt.md for the SPEC text.
 * Not part of the ABI. */
#ifndef EIC_RT_PLASTIC_H
#define EIC_RT_PLASTIC_H

#include <stdint.h>

#include "rt_abi.h"
#include "rt_syn.h"

typedef struct RtSim RtSim;

typedef struct RtPlastic {
    const RtPlasticDesc *d;
    int proj;
    int64_t npre, npost, nsyn;
    int delay;                /* homogeneous delay in steps (ngroups == 1) */
    /* Per-synapse delays (SPEC [S-plastic-1]): the synapses are split into
     * groups of one delay each (rows sorted by delay, then post); every
     * pre-indexed array (pre traces, pre_before, pre_snap, last_arr) holds a
     * block of npre per group, and kernels see the "virtual" pre index
     * g*npre + i, so a group's pre traces jump at its own arrivals. */
    int ngroups;              /* 1 without per-synapse delays */
    int *gdelay;              /* [ngroups] delay of each group in steps, ascending */
    int *group_of;            /* [max delay + 1] group of a delay, or NULL */
    const uint16_t *syn_delay; /* the CSR's per-synapse delays, or NULL */
    int64_t nvirt;            /* ngroups * npre */
    int64_t *col;             /* npost + 1 offsets into csc */
    uint32_t *csc;            /* the synapses of each post neuron, ascending:
                                 csc_pre == NULL: packed (pre i << off_bits) |
                                 (q - row[i]); else the synapse index q */
    uint32_t *csc_pre;        /* when i and the longest row's offsets do not fit
                                 in 32 bits together: the (virtual) pre index of
                                 each entry; otherwise NULL */
    int off_bits;             /* 32 - bits of npre: a packed entry's offset bits */
    int64_t max_in;           /* largest in-degree (scratch size) */
    uint32_t **scratch;       /* per thread, packed: the synapse indices of one
                                 column, then (at max_in + 1) their pre neurons */
    double **syn;             /* nsynvars arrays (nsyn, or npre when per_pre) */
    RtStep *syn_last;         /* nsyn, or NULL */
    double **pre_tr;          /* current pre traces, nvirt each */
    double **pre_before;      /* value before the jump of this step's arrival */
    double **post_tr;         /* npost each */
    double *pre_f, *post_f;   /* per-step decay factors exp(-dt/tau) */
    double **pre_snap;        /* npre_vars snapshots of pre states, nvirt each */
    RtStep *last_arr;         /* nvirt: step of the row's (group's) last arrival (0: none) */
    RtStep *last_post;        /* npost: step of the neuron's last spike (0: none) */
    double *consts;           /* copy of d->consts (events change it) */
    RtStep n_every;           /* steps per every-kernel call, 0: none */
    RtSynArgs args_pre;       /* for on_pre, on_pre_row: pre_trace = pre_before */
    RtSynArgs args_post;      /* for on_post, every: pre_trace = pre_tr */
} RtPlastic;

/* Sorts every row of a plastic projection's CSR with per-synapse delays by
 * (delay, post), moving weights and delays along; called right after the
 * CSR is built, before anything indexes its synapses. */
void rt_plastic_sort_rows(RtCsr *c);

/* Checks the plastic descriptors of `m` and the RT_EV_SET_PROJ_CONST events
 * (called by rt_sim_create before anything is built). */
RtErrorCode rt_plastic_validate(const RtModelDesc *m, RtError *err);

/* Builds the plastic part of every projection with plastic != NULL, after
 * the projections and the populations' initial values exist. */
RtErrorCode rt_plastic_build(RtSim *s, RtError *err);

/* Step s, thread t, post neurons [lo, hi) of projection k: the on_pre calls
 * of the spikes arriving in step s. */
void rt_plastic_deliver(RtSim *s, int k, RtStep step, int64_t lo, int64_t hi);

/* Step s, thread t, neurons [lo, hi) of population p, after its update and
 * after thread t's spike list of step s (pop->tspk) was gathered: the
 * on_post calls and post-trace jumps of its spiking neurons, the every
 * calls when due, and the post traces' decay to the next step, for every
 * plastic projection into p. */
void rt_plastic_post(RtSim *s, int p, int t, RtStep step, int64_t lo, int64_t hi);

/* Serial part after gather of step s: on_pre_row and last arrival for the
 * arrivals of s, pre traces and pre-state snapshots ready for step s+1. */
void rt_plastic_serial(RtSim *s, RtStep step);

/* RT_EV_SET_PROJ_CONST. */
void rt_plastic_set_const(RtSim *s, int proj, int index, double value);

void rt_plastic_free(RtPlastic *pl, int nthreads);

#endif
