/* rt_abi.h - the contract between generated code (JIT or AOT) and libeicrt.
 *
 * This is the ONE public header of the runtime. The compiler fills an
 * RtModelDesc (from JIT'd code or from an AOT object's static data): the
 * populations with their state layout and kernels, projections, inputs,
 * recordings and protocol events. The runtime builds the network from it
 * (connectivity, initial values, all random draws keyed by Philox so they are
 * identical for any thread count) and runs the fixed-step loop.
 *
 * The runtime knows nothing of the language or of LLVM; it uses libc, libm
 * and pthreads only, never prints and never exits: every failure is an
 * RtError (code + message naming population, neuron, variable and time).
 *
 * Units: everything crossing this header is SI (seconds, volts, siemens,
 * amperes, hertz). Time inside the runtime is counted in steps (RtStep).
 *
 * Step order (rt_sim_step), for step s covering [s*dt, (s+1)*dt):
 *   1. deliver  - spikes emitted in step s-d reach the receptor buffers of
 *                 projections with delay d steps (d >= 1): input[r][post] += w;
 *                 Poisson inputs and current injections add to their buffers;
 *   2. update   - the population's update kernel on [begin, end) per thread:
 *                 consume and zero the buffers, integrate, refractoriness,
 *                 threshold, reset; writes spiked[i] = 0 or 1;
 *   3. check    - non-finite state is an error (RT_E_NONFINITE);
 *   4. gather   - spikes collected in neuron order into the spike history;
 *   5. record   - spike, state and rate monitors;
 *   6. events   - protocol events due at step s+1 are applied.
 * Threads own contiguous neuron ranges of every population and do 1 and 2
 * for their own neurons only, walking spikes in one global order, so each
 * per-neuron sum is formed in the same order for any thread count.
 */
#ifndef EIC_RT_ABI_H
#define EIC_RT_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on every incompatible change of a struct layout or kernel type below.
 * RtModelDesc.abi_version must equal it, or rt_sim_create fails. */
#define RT_ABI_VERSION 1

/* Alignment in bytes of every state, parameter and input array. */
#define RT_ALIGN 64

typedef int64_t RtStep;    /* integer time step index */
typedef uint32_t RtNeuron; /* neuron index within a population */

/* ---- kernels -------------------------------------------------------------- */

/* Everything one kernel invocation sees of its population. The struct lives in
 * the runtime; its arrays are owned by the runtime and never alias each other,
 * so generated code may treat every loaded pointer as noalias (suggested: an
 * inner function with noalias parameters, inlined, keeps that for LLVM).
 *
 * Field order and types are part of the ABI (x86-64 offsets in brackets):
 * pointers first, then scalars; do not reorder. */
typedef struct RtPopArgs {
    double *const *state;   /* [0]  state[v][i]: nstates arrays of size doubles */
    double *const *param;   /* [8]  param[p][i]: heterogeneous parameters (read only
                                    for update; written by the runtime / init) */
    double *const *input;   /* [16] input[r][i]: receptor accumulation buffers, summed
                                    weights (SI) arrived for this step; the update
                                    kernel reads and then ZEROES them */
    const double *consts;   /* [24] constant block: values the compiler did not fold
                                    into code (e.g. targets of protocol events) */
    RtStep *ref_until;      /* [32] neuron i is refractory in step s iff s < ref_until[i];
                                    on a spike in step s the kernel stores
                                    s + round(t_ref/dt) (the spike time is s*dt;
                                    integration resumes at s*dt + t_ref, as Brian2) */
    uint8_t *spiked;        /* [40] update writes spiked[i] = 1 if i spiked in this
                                    step, else 0, for every i in [begin, end) */
    RtStep step;            /* [48] current step s */
    double t;               /* [56] s*dt, seconds, start of the step */
    double dt;              /* [64] seconds */
    uint64_t seed;          /* [72] run seed, for kernels that draw noise */
    uint32_t pop;           /* [80] population index in RtModelDesc.pops */
    uint32_t reserved0;     /* [84] */
    int64_t size;           /* [88] population size */
} RtPopArgs;

/* Integrate neurons [begin, end) one step, in place, as in the step order
 * above: 1) apply and zero the input buffers, 2) advance the states by dt,
 * 3) while refractory (a->step < ref_until[i]) keep the clamped states at
 * their values from before 2) and do not test the threshold, 4) otherwise if
 * the threshold holds: reset, ref_until[i] = step + n_ref, spiked[i] = 1
 * (n_ref = round(t_ref/dt); without refractoriness ref_until is left alone).
 * Called concurrently by several threads on disjoint ranges: it must touch
 * only elements [begin, end) of the arrays and keep no global state. */
typedef void (*RtUpdateFn)(const RtPopArgs *a, int64_t begin, int64_t end);

/* Initial values that are expressions: called once, after the runtime has
 * filled every variable whose RtVarDesc.init is a distribution or constant,
 * in declaration order. Writes the RT_DIST_KERNEL states/params of [begin, end). */
typedef void (*RtInitFn)(const RtPopArgs *a, int64_t begin, int64_t end);

/* ---- descriptor ----------------------------------------------------------- */

typedef enum RtDistKind {
    RT_DIST_CONST,    /* a */
    RT_DIST_UNIFORM,  /* uniform on [a, b) */
    RT_DIST_NORMAL,   /* mean a, standard deviation b */
    RT_DIST_KERNEL,   /* computed by RtPopDesc.init (variables only) */
} RtDistKind;

/* A value or a distribution. Draws are keyed by (seed, stream, element), so
 * they are identical for any thread count and between JIT and AOT. */
typedef struct RtDist {
    RtDistKind kind;
    double a, b;
} RtDist;

typedef struct RtVarDesc {
    const char *name;   /* as in the model, e.g. "V", "AMPA.g" */
    const char *unit;   /* SI unit text for manifests, e.g. "V", "S", "1" */
    RtDist init;        /* initial value (states) or value (parameters) */
} RtVarDesc;

typedef enum RtPopKind {
    RT_POP_NEURON,      /* neurons with an update kernel */
    RT_POP_POISSON,     /* spike sources: independent Poisson trains, rate_hz each */
    RT_POP_SPIKE_TIMES, /* spike sources: given spike times (arrays or a file) */
} RtPopKind;

#define RT_PREC_F64 0   /* double state arrays: the only precision of ABI v1 */
#define RT_PREC_F32 1   /* reserved for ABI v2 (float state); rejected in v1 */

typedef struct RtPopDesc {
    const char *name;
    int64_t size;                 /* neurons, >= 1, < 2^32 */
    RtPopKind kind;
    int precision;                /* RT_PREC_F64 */
    int nstates;  const RtVarDesc *states;  /* state variables (SoA arrays) */
    int nparams;  const RtVarDesc *params;  /* heterogeneous parameters */
    int ninputs;  const char *const *input_names; /* receptor buffers, e.g. "AMPA" */
    int nconsts;  const double *consts;     /* initial constant block, copied */
    RtUpdateFn update;            /* RT_POP_NEURON: required */
    RtInitFn init;                /* NULL unless some variable is RT_DIST_KERNEL */
    double rate_hz;               /* RT_POP_POISSON */
    /* RT_POP_SPIKE_TIMES: either arrays (times in s, neuron indices) or a file
     * ("time_s,neuron" CSV lines, or .npy: float64 [n,2]); spikes at time t
     * are emitted in step round(t/dt). */
    int64_t nspikes;  const double *spike_times;  const int32_t *spike_neurons;
    const char *spike_file;
} RtPopDesc;

typedef enum RtConnRule {
    RT_CONN_ALL_TO_ALL,
    RT_CONN_ONE_TO_ONE,       /* pre and post of equal size */
    RT_CONN_PROBABILITY,      /* each pair independently with probability p */
    RT_CONN_FIXED_INDEGREE,   /* each post gets `degree` distinct pre */
    RT_CONN_FIXED_OUTDEGREE,  /* each pre gets `degree` distinct post */
    RT_CONN_FILE,             /* rows pre,post[,weight[,delay]]: .csv or .npy float64 [n,k] */
} RtConnRule;

/* Per-synapse state and event handlers: reserved for ABI v2 (plasticity,
 * STP). v1 requires RtProjDesc.plastic == NULL. */
typedef struct RtSynArgs RtSynArgs;
typedef void (*RtOnPreFn)(const RtSynArgs *a, int64_t first, int64_t last);
typedef void (*RtOnPostFn)(const RtSynArgs *a, int64_t first, int64_t last);
typedef struct RtPlasticDesc {
    int nsynvars;  const RtVarDesc *synvars;  /* per-synapse state (v2) */
    RtOnPreFn on_pre;                         /* (v2) */
    RtOnPostFn on_post;                       /* (v2) */
} RtPlasticDesc;

typedef struct RtProjDesc {
    const char *name;         /* for messages, e.g. "E->I" */
    int pre, post;            /* population indices */
    int receptor;             /* input buffer index of the post population */
    RtConnRule rule;
    double p;                 /* RT_CONN_PROBABILITY */
    int64_t degree;           /* RT_CONN_FIXED_INDEGREE / OUTDEGREE */
    const char *file;         /* RT_CONN_FILE */
    bool autapses;            /* allow i->i when pre == post (ignored otherwise) */
    RtDist weight;            /* SI, added to input[receptor][post] per spike */
    RtDist delay;             /* seconds; d = max(1, round(delay/dt)) steps: a
                                 spike of step s acts on the update of step s+d */
    const RtPlasticDesc *plastic; /* reserved for v2: must be NULL */
} RtProjDesc;

typedef enum RtInputKind {
    RT_INPUT_POISSON,  /* each target gets n_sources independent Poisson trains:
                          count ~ Poisson(n_sources*rate*dt) per step, adds count*weight */
    RT_INPUT_CURRENT,  /* adds `weight` to the buffer every step of the window */
} RtInputKind;

typedef struct RtInputDesc {
    const char *name;
    RtInputKind kind;
    int post, receptor;       /* target population and buffer */
    int64_t begin, end;       /* target neurons [begin, end); end < 0: all */
    int64_t n_sources;        /* RT_INPUT_POISSON, >= 1 */
    double rate_hz;           /* RT_INPUT_POISSON, per source */
    double weight;            /* SI */
    double start_s, stop_s;   /* active in steps [round(start/dt), round(stop/dt));
                                 stop_s < 0: until the end */
} RtInputDesc;

typedef enum RtRecKind {
    RT_REC_SPIKES, /* NAME.npy: structured [('t','<f8'),('i','<i4')], seconds + neuron */
    RT_REC_STATE,  /* NAME.npy: float64 [samples, neurons] of state `var` */
    RT_REC_RATE,   /* NAME.npy: float64 [bins], population rate in Hz per `every` steps */
} RtRecKind;

typedef struct RtRecDesc {
    RtRecKind kind;
    int pop;
    int var;                  /* RT_REC_STATE: state index */
    int64_t begin, end;       /* recorded neurons [begin, end); end < 0: all */
    int64_t every;            /* steps between samples / per rate bin; >= 1 */
    const char *file;         /* file name in the output directory, e.g. "E_spikes.npy" */
} RtRecDesc;

typedef enum RtEventKind {
    RT_EV_SET_CONST,      /* pops[target].consts[index] = value */
    RT_EV_SET_INPUT_RATE, /* inputs[target].rate_hz = value */
    RT_EV_SILENCE,        /* reserved for v2 (lesions) */
} RtEventKind;

typedef struct RtEventDesc {
    double time_s;            /* applied before the update of step round(time_s/dt) */
    RtEventKind kind;
    int target, index;
    double value;
} RtEventDesc;

typedef struct RtModelDesc {
    uint32_t abi_version;     /* RT_ABI_VERSION */
    const char *name;         /* model (network) name, for the manifest */
    double dt;                /* seconds */
    double duration_s;        /* default run length */
    uint64_t seed;            /* default seed */
    int npops;    const RtPopDesc *pops;
    int nprojs;   const RtProjDesc *projs;
    int ninputs;  const RtInputDesc *inputs;
    int nrecs;    const RtRecDesc *recs;
    int nevents;  const RtEventDesc *events;
} RtModelDesc;

/* ---- running -------------------------------------------------------------- */

typedef enum RtErrorCode {
    RT_OK = 0,
    RT_E_NOMEM,        /* allocation failed */
    RT_E_INVALID,      /* descriptor or option invalid */
    RT_E_NONFINITE,    /* NaN or infinite state */
    RT_E_OVERFLOW,     /* a buffer or index would overflow */
    RT_E_IO,           /* file error, including disk full */
    RT_E_INTERRUPTED,  /* *RtRunOptions.interrupt became nonzero */
    RT_E_UNSUPPORTED,  /* reserved feature */
} RtErrorCode;

typedef struct RtError {
    RtErrorCode code;
    char msg[512];     /* e.g. "population 'E' neuron 17: state 'V' is nan at t = 0.1234 s" */
} RtError;

typedef struct RtTimings {   /* seconds; the driver fills what it measured */
    double parse_s, compile_s, build_s, simulate_s, total_s;
} RtTimings;

typedef struct RtRunOptions {
    uint64_t seed;            /* run seed */
    int threads;              /* 0: all online cores */
    double duration_s;        /* < 0: the model's duration */
    const char *out_dir;      /* NULL: no files (monitors still count spikes) */
    const char *model_file;   /* for the manifest */
    const char *eic_version;  /* for the manifest */
    int64_t check_every;      /* steps between non-finite state checks; 0: 1 */
    const volatile int *interrupt; /* polled every step when non-NULL */
    /* progress callback, every ~1% of the run; the runtime never prints */
    void (*progress)(void *ctx, RtStep done, RtStep total);
    void *progress_ctx;
} RtRunOptions;

typedef struct RtSim RtSim;

/* Sets defaults: seed 1, threads 0, duration -1, check_every 1. */
void rt_run_options_init(RtRunOptions *o);

/* Builds the network of `m` (connectivity, initial values, recordings opened,
 * manifest written with "complete": false). Returns NULL and fills *err on
 * failure. `m` must stay valid while the RtSim lives. */
RtSim *rt_sim_create(const RtModelDesc *m, const RtRunOptions *o, RtError *err);
/* One step (see "Step order"). Returns RT_OK or an error code (also in *err). */
RtErrorCode rt_sim_step(RtSim *s, RtError *err);
/* Runs `nsteps` steps (< 0: the rest of the run's duration). */
RtErrorCode rt_sim_run(RtSim *s, RtStep nsteps, RtError *err);
/* Flushes recordings and writes the manifest; "complete" is true iff the whole
 * duration was simulated without error. Call once, before rt_sim_free. */
RtErrorCode rt_sim_finish(RtSim *s, const RtTimings *t, RtError *err);
void rt_sim_free(RtSim *s);

/* Inspection (for drivers and tests). Arrays are owned by the runtime. */
RtStep rt_sim_now(const RtSim *s);               /* steps done */
RtStep rt_sim_total_steps(const RtSim *s);
int rt_sim_threads(const RtSim *s);
double *rt_sim_state(RtSim *s, int pop, int var);
double *rt_sim_param(RtSim *s, int pop, int par);
int64_t rt_sim_spike_count(const RtSim *s, int pop);        /* since step 0 */
/* Spikes of the last completed step, in neuron order; *n receives the count. */
const RtNeuron *rt_sim_last_spikes(const RtSim *s, int pop, int64_t *n);
int64_t rt_sim_synapse_count(const RtSim *s, int proj);

/* ---- callbacks for generated code ---------------------------------------- */

/* Runtime functions generated code may call, registered by the JIT as
 * absolute symbols under these names (and linked normally in AOT). */
typedef struct RtAbiSymbol {
    const char *name;
    void (*addr)(void);       /* cast to the documented type before calling */
} RtAbiSymbol;
/* Terminated by {NULL, NULL}. Entries of ABI v1:
 *   "rt_abi_uniform": double (uint64_t seed, uint32_t pop, uint64_t neuron,
 *                     RtStep step, uint32_t k) -> uniform on [0, 1)
 *   "rt_abi_normal":  same arguments -> standard normal
 * k distinguishes several draws of one neuron in one step. */
extern const RtAbiSymbol rt_abi_symbols[];

double rt_abi_uniform(uint64_t seed, uint32_t pop, uint64_t neuron, RtStep step, uint32_t k);
double rt_abi_normal(uint64_t seed, uint32_t pop, uint64_t neuron, RtStep step, uint32_t k);

#ifdef __cplusplus
}
#endif
#endif
