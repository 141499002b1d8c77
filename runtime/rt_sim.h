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
    double **state, **param, **input;   /* SoA arrays, RT_ALIGN aligned */
    double *consts;                     /* copy of d->consts (events change it) */
    RtStep *ref_until;
    uint8_t *spiked;
    RtPopArgs args;                     /* what kernels see; step/t set per step */
    int hist_len;                       /* spike history ring: slots of steps */
    uint32_t **hist;                    /* hist[s % hist_len]: spikes of step s */
    int64_t *hist_n;
    int64_t spikes_total;
    int64_t *src_step;                  /* RT_POP_SPIKE_TIMES: sorted (step, neuron) */
    uint32_t *src_neuron;
    int64_t src_n, src_pos;
    int *in_projs, nin_projs;           /* projections into this population, in order */
    int *in_inputs, nin_inputs;         /* inputs into this population, in order */
} RtPop;

typedef struct RtProj {
    const RtProjDesc *d;
    RtCsr csr;
    double *ring;        /* heterogeneous delays: ring_len slots of npost sums */
    int ring_len;
    RtPlastic *pl;       /* plastic projection (ABI v2), or NULL */
} RtProj;

typedef struct RtInputRt {
    const RtInputDesc *d;
    double rate_hz;      /* changed by RT_EV_SET_INPUT_RATE */
    RtStep start, stop;
    int64_t begin, end;
} RtInputRt;

typedef struct RtRecRt {
    const RtRecDesc *d;
    RtNpy npy;
    int64_t begin, end;
    int64_t bin_count;   /* RT_REC_RATE: spikes in the current bin */
    double *row;         /* RT_REC_STATE: one sample */
    char file[256];
} RtRecRt;

typedef struct RtEventRt {
    RtStep step;
    const RtEventDesc *d;
} RtEventRt;

/* A reusable barrier for the step loop: arriving threads spin briefly, then
 * yield, then sleep with growing pauses. A step takes microseconds, so the
 * futex sleep and wake-up of pthread_barrier_wait (tens of microseconds,
 * twice per step) cost more than the work it synchronises. */
typedef struct RtBarrier {
    atomic_int count;    /* threads arrived in this generation */
    atomic_int gen;      /* bumped by the last thread to arrive */
    int n;
} RtBarrier;

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
    int nthreads;
    RtPop *pops;
    RtProj *projs;
    RtInputRt *inputs;
    RtRecRt *recs;
    RtEventRt *events;
    int nevents, ev_pos;
    RtBad *bad;                   /* per thread */
    pthread_t *tids;
    int nstarted;                 /* worker threads running */
    RtBarrier bar_start, bar_end;
    int quit;
    pthread_mutex_t gate_mu;      /* workers start only when all exist */
    pthread_cond_t gate_cv;
    int gate_open;                /* 1: run, 2: end without running */
    char *out_dir;                /* NULL: no files */
    RtError fail;                 /* first error of a step; code RT_OK if none */
    int finished;
    double build_s, sim_s;
};

/* Neuron range [*lo, *hi) of thread t for a population of n neurons. */
static inline void rt_sim_range(int64_t n, int t, int nt, int64_t *lo, int64_t *hi) {
    *lo = n * t / nt;
    *hi = n * (t + 1) / nt;
}

/* rt_pop.c */
RtErrorCode rt_pop_create(RtSim *s, int p, RtError *err);
RtErrorCode rt_pop_init_values(RtSim *s, int p, RtError *err);
RtErrorCode rt_pop_alloc_history(RtPop *pop, int len, RtError *err);
void rt_pop_free(RtPop *pop);

/* rt_rec.c */
RtErrorCode rt_rec_open(RtSim *s, RtError *err);
RtErrorCode rt_rec_step(RtSim *s, RtStep step, RtError *err);
RtErrorCode rt_rec_flush(RtSim *s, RtError *err);
RtErrorCode rt_rec_close(RtSim *s, RtError *err);
RtErrorCode rt_rec_manifest(RtSim *s, const RtTimings *t, int complete, RtError *err);

#endif
