/* rt_sim.h - the runtime's internal state of one simulation (RtSim), shared
 * by rt_sim.c (step loop, threads), rt_pop.c (populations, initial values)
 * and rt_rec.c (recordings, manifest). Not part of the ABI. */
#ifndef EIC_RT_SIM_H
#define EIC_RT_SIM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "rt_abi.h"
#include "rt_npy.h"
#include "rt_plastic.h"
#include "rt_syn.h"

typedef struct RtPop {
    const RtPopDesc *d;
    int64_t size;
    double **state, **param, **input;   /* SoA arrays, RT_ALIGN aligned; float
                                           arrays behind these pointers when f32 */
    int f32;                            /* d->precision == RT_PREC_F32 */
    double *consts;                     /* copy of d->consts (events change it) */
    RtStep *ref_until;
    uint8_t *spiked;
    RtPopArgs args;                     /* what kernels see; step/t set per step */
    int hist_len;                       /* spike history ring: slots of steps */
    uint32_t **hist;                    /* hist[s % hist_len]: spikes of step s,
                                           merged in neuron order (serial phase) */
    int64_t *hist_n;
    /* Per-thread spike lists, written by thread t in its own step phase:
     * tspk[t*hist_len + slot] holds the spikes of thread t's neuron range.
     * Delivery walks them for t = 0..nthreads-1, which is neuron order, so
     * no thread waits for a merge. With one thread they are hist itself. */
    uint32_t **tspk;
    int64_t *tspk_n;
    int64_t ntspk;                      /* entries of tspk (0 when it is hist) */
    int64_t *src_tpos;                  /* RT_POP_SPIKE_TIMES: cursor per thread */
    int64_t spikes_total;
    int64_t *src_step;                  /* RT_POP_SPIKE_TIMES: sorted (step, neuron) */
    uint32_t *src_neuron;
    int64_t src_n, src_pos;
    double rate_hz;                     /* RT_POP_POISSON: the rate in effect (d->rate_hz
                                           at the start, RT_EV_SET_POP_RATE changes it) */
    int *in_projs, nin_projs;           /* projections into this population, in order */
    int *in_inputs, nin_inputs;         /* inputs into this population, in order */
} RtPop;

typedef struct RtProj {
    const RtProjDesc *d;
    RtCsr csr;
    double *ring;        /* heterogeneous delays: ring_len slots of npost sums */
    int ring_len;
    RtPlastic *pl;       /* plastic projection (ABI v2), or NULL */
    double gain;         /* v3: factor on delivered efficacies (rt_ei.c sets it) */
    uint32_t *split;     /* several threads, homogeneous static: per row, the offsets
                            where threads 1..nthreads-1 begin (npre x (nthreads-1)),
                            or NULL (rt_sim.c build_split) */
} RtProj;

typedef struct RtInputRt {
    const RtInputDesc *d;
    double rate_hz;      /* changed by RT_EV_SET_INPUT_RATE */
    RtStep start, stop;
    int64_t begin, end;
    double *w;           /* [i - begin]: drawn weights (RtInputDesc.weight_dist), or NULL */
    RtStep *shift;       /* [i - begin]: drawn delays in steps (delay_dist), or NULL */
    int nchg;            /* with shift: the input's rate changes, by step */
    RtStep *chg_step;    /* [nchg] step from which chg_rate applies (ascending) */
    double *chg_rate;    /* [nchg] */
} RtInputRt;

typedef struct RtRecRt {
    const RtRecDesc *d;
    RtNpy npy;
    int64_t begin, end;
    int64_t bin_count;   /* RT_REC_RATE: spikes in the current bin */
    double *row;         /* RT_REC_STATE: one sample; RT_REC_PROBE: the due row */
    double **outs;       /* RT_REC_PROBE: per thread part, the probe kernel's out[] */
    char file[256];
} RtRecRt;

typedef struct RtEventRt {
    RtStep step;
    const RtEventDesc *d;
} RtEventRt;

/* Step synchronisation. A step is split into P = nthreads parts (the
 * contiguous neuron ranges rt_sim_range(size, part, P)); the calling thread
 * and the P-1 workers claim parts (sync.claim counts claims over all steps:
 * step*P + part) and count finished ones in sync.parts_done, so the step's
 * ONE barrier is parts_done >= (step+1)*P. Which thread runs a part does not
 * change its result, so a descheduled worker (a busy machine) no longer
 * stalls every step: the others take its parts. After the barrier the
 * workers go on to step+1 while the calling thread does the serial part of
 * the step (merge, record, events), but never further: step+1 needs
 * released >= step (the serial part of step-1 done). If the serial part of
 * the step reads or writes what step+1 touches (a state sample is due, an
 * event, a plastic projection), hold[step&1], published with the release of
 * the step before, makes step+1 wait for released >= step+1. Waiting spins
 * briefly, then yields, and sleeps only when idle (between runs). */
typedef struct RtSync {
    _Alignas(64) atomic_llong claim;      /* next part to claim: step*P + part */
    _Alignas(64) atomic_llong parts_done; /* parts finished, all steps */
    _Alignas(64) atomic_llong authorized; /* steps < authorized may run */
    atomic_llong released;                /* serial part done for steps < released */
    atomic_int hold[2];                   /* hold[s&1]: step s+1 waits for released */
    atomic_int quit;
} RtSync;

/* The first non-finite state a thread found in the current check. */
typedef struct RtBad {
    int pop, var;        /* pop < 0: none */
    int64_t neuron;
    double value;
} RtBad;

struct RtSim {
    const RtModelDesc *m;
    RtRunOptions opt;
    uint64_t seed;
    double dt;
    RtStep now, total;
    int nthreads;                 /* threads of the step loop = parts of a step */
    int build_threads;            /* threads for building connectivity */
    RtPop *pops;
    RtProj *projs;
    RtInputRt *inputs;
    RtRecRt *recs;
    RtEventRt *events;
    int nevents, ev_pos;
    struct RtEi *ei;              /* v3: globals, silencing, balance, weights (rt_ei.c) */
    RtBad *bad;                   /* [2*part + (step&1)]: per part, double-buffered */
    RtPopArgs *targs;             /* [part*npops + p]: each part's copy of pops[p].args */
    pthread_t *tids;
    int nstarted;                 /* worker threads running */
    RtSync sync;
    int always_hold;              /* plastic projections: serial part every step */
    int probed;                   /* ABI v5: some recording evaluates probe kernels */
    int intr_latched;             /* interrupt seen: stop before step intr_stop */
    RtStep intr_stop;
    int quit;
    pthread_mutex_t gate_mu;      /* workers start only when all exist */
    pthread_cond_t gate_cv;
    int gate_open;                /* 1: run, 2: end without running */
    char *out_dir;                /* NULL: no files */
    RtError fail;                 /* first error of a step; code RT_OK if none */
    int finished;
    double build_s, sim_s;
};

/* Neurons per step-loop thread when the thread count is automatic. */
#define RT_SIM_NEURONS_PER_THREAD 2000

/* Neuron range [*lo, *hi) of thread t for a population of n neurons. */
static inline void rt_sim_range(int64_t n, int t, int nt, int64_t *lo, int64_t *hi) {
    *lo = n * t / nt;
    *hi = n * (t + 1) / nt;
}

/* rt_pop.c */
RtErrorCode rt_pop_create(RtSim *s, int p, RtError *err);
RtErrorCode rt_pop_init_values(RtSim *s, int p, RtError *err);
RtErrorCode rt_pop_alloc_history(RtPop *pop, int len, int nthreads, RtError *err);
void rt_pop_free(RtPop *pop);

/* rt_rec.c */
RtErrorCode rt_rec_open(RtSim *s, RtError *err);
RtErrorCode rt_rec_step(RtSim *s, RtStep step, RtError *err);
/* 1 if the recordings read state arrays after step `step` (a sample is due). */
int rt_rec_reads_state(const RtSim *s, RtStep step);
/* Thread phase, part t, neurons [lo, hi) of neuron population p, before its
 * update in `step` (args: the part's RtPopArgs, step and t set): the probe
 * recordings of p due in this step evaluate the probe kernel (ABI v5). */
void rt_rec_probe(RtSim *s, int p, int t, RtPopArgs *args, RtStep step, int64_t lo, int64_t hi);
RtErrorCode rt_rec_flush(RtSim *s, RtError *err);
RtErrorCode rt_rec_close(RtSim *s, RtError *err);
RtErrorCode rt_rec_manifest(RtSim *s, const RtTimings *t, int complete, RtError *err);

#endif
