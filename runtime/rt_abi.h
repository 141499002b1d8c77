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
 * Plastic projections (ABI v2, see "ABI v2" below) add on_pre kernels to 1,
 * on_post and every kernels after 2 (same thread, own neurons), and the
 * per-pre and pre-trace bookkeeping after 4.
 * ABI v3 ("ABI v3" below): after 2, silenced neurons' spike flags are
 * cleared and balance monitors accumulate (same thread, own neurons); after
 * 5, balance windows and weight samples are written, then the globals
 * (modulators, context levels) advance to step s+1, before 6.
 * ABI v5 ("ABI v5: probes" below): between 1 and 2, probe kernels are
 * evaluated over the recorded neurons (same thread, own neurons) for probe
 * recordings due in the step and balance monitors of populations with
 * probes (then those accumulate there rather than after 2); after 5, due
 * probe rows are written.
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
 * rt_sim_create accepts RtModelDesc.abi_version 1 (then every projection has
 * plastic == NULL), 2 (v2: plastic projections, RT_EV_SET_PROJ_CONST) or 3
 * (v3: globals, gains, silencing, lesions, balance and weight recordings)
 * or 4 (v4: neuron ranges of projections, RtProjDesc.pre_begin..post_end)
 * or 5 (v5: RT_EV_SET_POP_RATE; neuron ranges of silences and lesions,
 * RtEventDesc.begin/end; probe kernels, RtPopDesc.nprobes/probes/probe, and
 * RT_REC_PROBE; sliding balance windows, RtRecDesc.hop; see "ABI v5: probes").
 * v3, v4 and v5 only APPEND fields to structs (zero = the earlier meaning)
 * and values to enums, so a v1..v4 descriptor compiled against this header
 * still works. */
#define RT_ABI_VERSION 5

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
    double *const *state;   /* [0]  state[v][i]: nstates arrays of size doubles
                                    (floats for RT_PREC_F32: the same pointer,
                                    reinterpreted; so are param and input) */
    double *const *param;   /* [8]  param[p][i]: heterogeneous parameters (read only
                                    for update; written by the runtime / init) */
    double *const *input;   /* [16] input[r][i]: receptor accumulation buffers, summed
                                    weights (SI) arrived for this step; the update
                                    kernel reads and then ZEROES them */
    const double *consts;   /* [24] constant block: values the compiler did not fold
                                    into code (e.g. targets of protocol events) */
    RtStep *ref_until;      /* [32] neuron i is refractory in step s iff s < ref_until[i];
                                    on a spike in step s the kernel stores
                                    s + round(t_ref/dt), with the neuron's own
                                    t_ref if it differs per neuron (the spike time is s*dt;
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
    const double *globals;  /* [96] v3: globals[g] (RtModelDesc.globals: modulator
                                    states, context levels) at t = step*dt; read only;
                                    the same array for every population and step */
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

/* Initial values that are expressions: called once over all neurons, after
 * the runtime has filled every variable whose RtVarDesc.init is a
 * distribution or constant. Writes the RT_DIST_KERNEL states/params of
 * [begin, end), and may rewrite drawn ones (eic: a distribution whose
 * parameters differ per neuron is described as uniform(0, 1) or
 * normal(0, 1) and the kernel scales the draw), in the order the compiler
 * chose (eic: dependency order, SPEC [S-neuron-1a]). */
typedef void (*RtInitFn)(const RtPopArgs *a, int64_t begin, int64_t end);

/* v5: the population's probes (RtPopDesc.probes) of neurons [begin, end) in
 * step a->step: the values the update kernel of that step computes after
 * applying the input buffers (its step 1) and before integrating (step 2),
 * computed the same way. Reads states, parameters and input buffers; writes
 * only out: for every k < nprobes with out[k] != NULL, out[k][i - begin] =
 * probe k of neuron i (a float kernel's float value widened to double, so
 * exactly). The runtime calls it right before the update of the step, only
 * over neurons it records, concurrently on disjoint ranges. */
typedef void (*RtProbeFn)(const RtPopArgs *a, int64_t begin, int64_t end, double *const *out);

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

/* Precision of a population's arrays (RtPopDesc.precision).
 *
 * RT_PREC_F64: state, parameter and input arrays of doubles.
 * RT_PREC_F32 (`simulate ... precision float`): the same arrays hold FLOATS
 *   (4 bytes, RT_ALIGN aligned). No struct changes: RtPopArgs.state, .param
 *   and .input keep their double *const * type and a float kernel
 *   reinterprets each array as float * (so does an init kernel). consts,
 *   globals, t and dt stay double; ref_until and spiked are unchanged.
 *   - Initial values are drawn in double (the same draws as RT_PREC_F64) and
 *     rounded to the nearest float.
 *   - Delivery adds each weight (double, in CSR) to the float buffer in
 *     double and rounds the sum to float once per add:
 *     buf[j] = (float)((double)buf[j] + w), in the same global order as in
 *     double, so sums are bit-identical for any thread count. Delay rings
 *     (double) and Poisson/current inputs are added the same way.
 *   - The non-finite check reads the float states.
 *   - State recordings of the population are float32 ('<f4', the stored
 *     values exactly; the manifest's "dtype" says "float32"); balance
 *     monitors read the float states or (v5) the probe kernel's float
 *     values widened to double, and keep double statistics; probe
 *     recordings (v5) are float64 holding the float values.
 *   - A plastic projection (RtProjDesc.plastic) whose pre or post population
 *     is RT_PREC_F32 keeps its synapse state double (w, syn, traces,
 *     consts). RtSynArgs.pre_state is a double snapshot of the float
 *     states (exact); RtSynArgs.post_state and .input point at the post
 *     population's FLOAT arrays (behind the double * types): a kernel
 *     compiled for a float post reads a state widened to double and adds
 *     input[j] = (float)((double)input[j] + gain*efficacy), one rounding,
 *     as the runtime does when it delivers w itself (on_pre == NULL).
 *     (Runtimes before this one rejected it with RT_E_UNSUPPORTED.)
 *   - rt_sim_state / rt_sim_param return the float array's address typed
 *     double *: use rt_sim_precision and rt_sim_state_f32.
 * RT_PREC_F32 needs no new ABI version: no layout changed, and earlier
 * runtimes rejected it with RT_E_UNSUPPORTED. */
#define RT_PREC_F64 0
#define RT_PREC_F32 1

typedef struct RtPopDesc {
    const char *name;
    int64_t size;                 /* neurons, >= 1, < 2^32 */
    RtPopKind kind;
    int precision;                /* RT_PREC_F64 or RT_PREC_F32 (see above) */
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
    /* v5: values the update kernel computes but does not store (balance
     * currents, definitions, port currents), named with their units (init
     * unused); the probe kernel computes them (RtProbeFn). nprobes > 0 needs
     * probes != NULL, probe != NULL and an RT_POP_NEURON population
     * (RT_E_INVALID otherwise, as for nprobes < 0); ignored below v5. */
    int nprobes;  const RtVarDesc *probes;
    RtProbeFn probe;
} RtPopDesc;

typedef enum RtConnRule {
    RT_CONN_ALL_TO_ALL,
    RT_CONN_ONE_TO_ONE,       /* pre and post of equal size */
    RT_CONN_PROBABILITY,      /* each pair independently with probability p */
    RT_CONN_FIXED_INDEGREE,   /* each post gets `degree` distinct pre */
    RT_CONN_FIXED_OUTDEGREE,  /* each pre gets `degree` distinct post */
    RT_CONN_FILE,             /* rows pre,post[,weight[,delay]]: .csv or .npy float64 [n,k] */
} RtConnRule;

/* ---- ABI v2: plastic projections ------------------------------------------
 *
 * A projection with RtProjDesc.plastic != NULL keeps per-synapse state
 * (a synapse model: Tsodyks-Markram u, x; or one value per presynaptic
 * neuron: `synapse X per pre`), traces of its pre and post neurons, and
 * event kernels that may change the weights w, which then live in the
 * runtime (CSR order, synapse index q). v1-only models just have
 * plastic == NULL. SPEC text: /work/notes/spec-plastic-rt.md.
 *
 * Restrictions: the delay is homogeneous (one value, not a distribution);
 * the post population is RT_POP_NEURON; fewer than 2^32 synapses.
 *
 * Events of a plastic projection with delay d, in step s (additions to the
 * step order at the top of this file):
 *   1. deliver (per thread, its post neurons [lo, hi)): for every spike of
 *      the pre population emitted in step s-d (it ARRIVES in step s), in
 *      neuron order: on_pre(the part of row i in [lo, hi)); on_pre adds the
 *      efficacy to a->input[post] itself. With on_pre == NULL the runtime
 *      adds w[q] (plain plastic projection).
 *   2. update, then (per thread) for every post neuron j of [lo, hi) that
 *      spiked in step s, ascending: on_post(the synapses into j), then the
 *      post traces of j jump; then, if (s+1) % n_every == 0 (n_every =
 *      max(1, round(every_s/dt))), every() per post neuron j of [lo, hi).
 *   4. after gather (serial): on_pre_row(row i) for every arrival of step s
 *      (per_pre state only), last arrival of i := s; then all pre traces
 *      decay by one step and jump for the arrivals of step s+1.
 * So a handler sees every trace at time s*dt just before its own event's
 * jump: in on_pre, pre traces include the arrivals before s (not this
 * one) and post traces the post spikes before s; in on_post, pre traces
 * include the arrivals up to and including s (a spike that arrives in the
 * step its post neuron fires counts as pre-before-post, delta t = 0).
 * Pre traces jump at ARRIVAL (emission + d), the time STDP and STP act.
 * With per-synapse delays (not with per_pre state) the runtime keeps the
 * pre traces, last arrivals and pre-state snapshots once per distinct delay
 * d_g and passes the kernels the index g*npre + i instead of the pre neuron
 * i (RtSynEvent.neuron of on_pre, RtSynEvent.pre of on_post/every), so
 * each synapse reads the traces of the arrivals at its own delay; rows are
 * sorted by (delay, post) and on_pre's range is one delay's part of a row.
 *
 * Traces decay exactly: x *= exp(-dt/tau) per step (both sides), and at a
 * spike x += inc (RT_TRACE_ADD) or x = inc (RT_TRACE_SET). A rate estimate
 * (`rate r of post tau T`) is an ADD trace with tau = T, inc = 1/T, in Hz.
 *
 * Threads: per-synapse state and w are written only by the thread owning
 * the synapse's post neuron; post traces by the owner of the post neuron;
 * pre traces, per_pre state and pre-state snapshots only in the serial
 * phase. Every sum and every update happens in one order for any thread
 * count, so results are bit-identical.
 *
 * Memory per synapse: post uint32 (4) + w double (8) + CSC index uint32
 * (4) = 16 bytes; each per-synapse variable adds 8, syn_clock adds 8.
 * Per neuron: 8 bytes per post trace, 16 per pre trace (value and the
 * before-arrival copy), 8 per pre var snapshot, 8+8 for the last-event steps,
 * 8 per CSC column offset. rt_sim_synapse_bytes() reports the total. */

typedef enum RtTraceMode {
    RT_TRACE_ADD,    /* x += inc at each spike of the trace's neuron */
    RT_TRACE_SET,    /* x = inc (nearest-spike interactions) */
} RtTraceMode;

typedef struct RtTraceDesc {
    const char *name;         /* "x_pre", "r_post", for messages */
    double tau;               /* seconds, > 0 */
    double inc;               /* jump (ADD) or value (SET), SI; rates: 1/tau */
    RtTraceMode mode;
} RtTraceDesc;

/* What a synapse kernel sees of its projection. One struct per projection
 * and kernel kind, owned by the runtime; step and t are set every step.
 * Arrays never alias each other (noalias is safe). Field order and types are
 * part of the ABI (x86-64 offsets in brackets); do not reorder. */
typedef struct RtSynArgs {
    double *w;                       /* [0]   w[q], SI; q = synapse index (CSR order) */
    double *const *syn;              /* [8]   syn[v][q] per-synapse state; per_pre:
                                              syn[v][i] per pre neuron (read only in
                                              on_pre: on_pre_row writes it) */
    const uint32_t *post;            /* [16]  post[q]: post neuron of synapse q */
    const int64_t *row;              /* [24]  synapses of pre i: [row[i], row[i+1]) */
    const double *const *pre_trace;  /* [32]  pre_trace[k][i], see "Events" above */
    double *const *post_trace;       /* [40]  post_trace[k][j] (read only: the
                                              runtime makes the jumps) */
    const double *const *post_state; /* [48]  state[v][j] of the post population
                                              (all its states; read only) */
    const double *const *pre_state;  /* [56]  pre_state[k][i]: snapshot of state
                                              pre_vars[k] of the pre population at
                                              the start of step s (read only) */
    double *input;                   /* [64]  input[j]: the projection's receptor
                                              buffer of the post population */
    const double *consts;            /* [72]  the projection's constant block */
    RtStep *syn_last;                /* [80]  syn_clock: syn_last[q] = step of the last
                                              event of synapse q, kept by the kernel
                                              (runtime sets 0 at start); else NULL */
    RtStep step;                     /* [88]  current step s */
    double t;                        /* [96]  s*dt, seconds */
    double dt;                       /* [104] seconds */
    uint64_t seed;                   /* [112] run seed */
    uint32_t proj;                   /* [120] projection index */
    uint32_t reserved0;              /* [124] */
    int64_t nsyn;                    /* [128] synapses of the projection */
    const double *globals;           /* [136] v3: as RtPopArgs.globals */
    double gain;                     /* [144] v3: the projection's gain in this step
                                              (RT_EV_SET_GAIN, gain_global); on_pre
                                              must add gain * efficacy to input[j]
                                              (1.0 * x == x exactly, so gain 1 is
                                              bit-identical to no gain) */
} RtSynArgs;

/* One kernel call. The struct lives on the calling thread's stack.
 * Offsets in brackets. */
typedef struct RtSynEvent {
    const uint32_t *syn;     /* [0]  on_post, every: syn[k] = synapse index q;
                                     on_pre, on_pre_row: NULL */
    const uint32_t *pre;     /* [8]  on_post, every: pre[k] = pre neuron of syn[k];
                                     on_pre, on_pre_row: NULL */
    int64_t first;           /* [16] on_pre: synapses q in [first, last), a part of
                                     row `neuron`, post ascending; on_pre_row: the
                                     whole row; on_post, every: k in [first, last) */
    int64_t last;            /* [24] */
    uint32_t neuron;         /* [32] on_pre, on_pre_row: pre neuron i;
                                     on_post, every: post neuron j */
    uint32_t reserved0;      /* [36] */
    double elapsed;          /* [40] seconds. on_pre, on_pre_row: since row i's
                                     previous arrival (first arrival: since t = 0);
                                     on_post: since j's previous spike (first: since
                                     t = 0); every: the period n_every*dt */
} RtSynEvent;

/* A synapse kernel. on_pre and every run concurrently on several threads
 * (disjoint post neurons); on_pre_row runs on one thread. A kernel touches
 * only w/syn/syn_last of the synapses it is given, input[j] of their post
 * neurons, and nothing global. */
typedef void (*RtSynFn)(const RtSynArgs *a, const RtSynEvent *e);

typedef struct RtPlasticDesc {
    int nsynvars;  const RtVarDesc *synvars;  /* per-synapse state; init CONST, UNIFORM or
                                                 NORMAL (keyed by seed, projection, row) */
    bool per_pre;             /* synvars are per presynaptic neuron (`synapse X per
                                 pre`): on_pre reads them, on_pre_row updates them */
    bool syn_clock;           /* keep syn_last[q] (8 bytes per synapse) */
    int ntraces_pre;   const RtTraceDesc *traces_pre;    /* per pre neuron */
    int ntraces_post;  const RtTraceDesc *traces_post;   /* per post neuron */
    int npre_vars;     const int *pre_vars;  /* pre population states to snapshot
                                                for pre.X (RtSynArgs.pre_state) */
    int nconsts;       const double *consts; /* copied; RT_EV_SET_PROJ_CONST changes it */
    RtSynFn on_pre;           /* NULL: the runtime delivers w */
    RtSynFn on_pre_row;       /* per_pre: required when on_pre may change state */
    RtSynFn on_post;          /* NULL: none */
    RtSynFn every;            /* NULL: none */
    double every_s;           /* period of `every`, seconds (> 0 when every != NULL) */
    /* Appended after v4 (zero = none; the runtime only reports them): */
    const char *rule;         /* plasticity rule name, or NULL */
    double accel;             /* `with R accelerated by F`: F, by which every_s and the
                                 rate estimates' tau were already divided; 0 = none.
                                 Stated in manifest.json "acceleration" */
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
    const RtPlasticDesc *plastic; /* v2: NULL for a static projection */
    int gain_global;          /* v3: 0: the gain is 1 until RT_EV_SET_GAIN changes it;
                                 g+1: the gain in step s is globals[g] of step s
                                 (a context scaling by a modulator; then
                                 RT_EV_SET_GAIN on this projection is invalid) */
    int64_t pre_begin, pre_end;   /* v4: presynaptic neurons [pre_begin, pre_end) of
                                     pops[pre]; pre_end == 0: the whole population */
    int64_t post_begin, post_end; /* v4: postsynaptic neurons [post_begin, post_end)
                                     of pops[post]; post_end == 0: all. The rule
                                     connects within the ranges only (sizes,
                                     degrees, one-to-one and autapses count in
                                     range terms); indices in the CSR, in files
                                     and in recordings stay population indices */
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
    /* Appended after v5 (zero = the earlier meaning), RT_INPUT_POISSON only.
       Both are drawn once per target neuron i at the start of the run, keyed
       by (seed, stream (RT_STREAM_INPUT, input, 1 resp. 2), element i): */
    RtDist weight_dist;       /* kind != RT_DIST_CONST: neuron i's weight w_i
                                 (SI; every source of its trains adds w_i per
                                 spike), replacing `weight` */
    RtDist delay_dist;        /* kind != RT_DIST_CONST: neuron i's trains are
                                 shifted by d_i = max(0, round(draw/dt)) steps
                                 (seconds; round half away from zero, as the
                                 compiler rounds a constant delay into
                                 start_s): its count in step s is drawn with
                                 the rate in effect in step s - d_i (its
                                 RT_EV_SET_INPUT_RATE history) and none while
                                 s - d_i < round(start_s/dt) */
} RtInputDesc;

typedef enum RtRecKind {
    RT_REC_SPIKES, /* NAME.npy: structured [('t','<f8'),('i','<i4')], seconds + neuron */
    RT_REC_STATE,  /* NAME.npy: float64 [samples, neurons] of state `var`
                      (float32 when the population is RT_PREC_F32) */
    RT_REC_RATE,   /* NAME.npy: float64 [bins], population rate in Hz per `every` steps */
    RT_REC_BALANCE, /* v3: NAME.npy: structured [windows, neurons], see "ABI v3" */
    RT_REC_WEIGHTS, /* v3: NAME.npy float64 [samples, synapses] + NAME_syn.npy, "ABI v3" */
    RT_REC_PROBE,   /* v5: NAME.npy float64 [samples, neurons] of probe `var`, "ABI v5" */
} RtRecKind;

typedef struct RtRecDesc {
    RtRecKind kind;
    int pop;
    int var;                  /* RT_REC_STATE: state index */
    int64_t begin, end;       /* recorded neurons [begin, end); end < 0: all */
    int64_t every;            /* steps between samples / per rate bin; >= 1;
                                 RT_REC_BALANCE: window length in steps, >= 1;
                                 RT_REC_WEIGHTS: >= 0 (0: one sample at the end) */
    const char *file;         /* file name in the output directory, e.g. "E_spikes.npy" */
    int var2;                 /* v3, RT_REC_BALANCE: state index of I_I (var: I_E) */
    int proj;                 /* v3, RT_REC_WEIGHTS: projection index (pop ignored) */
    int64_t hop;              /* v5, RT_REC_BALANCE: steps between rows, dividing
                                 `every` (sliding windows); 0: = every */
} RtRecDesc;

typedef enum RtEventKind {
    RT_EV_SET_CONST,      /* pops[target].consts[index] = value */
    RT_EV_SET_INPUT_RATE, /* inputs[target].rate_hz = value */
    RT_EV_SILENCE,        /* v3: silence round(value*size) neurons of pops[target],
                             chosen by key `index` (see "ABI v3"), until the
                             RT_EV_UNSILENCE with the same target and index */
    RT_EV_SET_PROJ_CONST, /* v2: projs[target].plastic consts[index] = value */
    RT_EV_UNSILENCE,      /* v3: ends the silence of pops[target] with key `index` */
    RT_EV_LESION,         /* v3: like RT_EV_SILENCE, for the rest of the run */
    RT_EV_SET_GLOBAL,     /* v3: globals[target] = value */
    RT_EV_ADD_GLOBAL,     /* v3: globals[target] += value (`release MOD amount`) */
    RT_EV_SET_GAIN,       /* v3: gain of projs[target] = value (contexts' `scale
                             SRC -> DST weight by F`: the product of the factors) */
    RT_EV_SET_POP_RATE,   /* v5: rate (Hz, >= 0) of pops[target], an RT_POP_POISSON
                             population, = value: its draws of step s compare the
                             same uniforms with rate*dt from the event's step on */
} RtEventKind;

typedef struct RtEventDesc {
    double time_s;            /* applied before the update of step round(time_s/dt) */
    RtEventKind kind;
    int target, index;
    double value;
    /* v5, RT_EV_SILENCE / RT_EV_LESION: choose among neurons [begin, end) of
     * pops[target] only (round(value*(end - begin)) of them, see "ABI v3");
     * end == 0: the whole population, as before v5. */
    int64_t begin, end;
} RtEventDesc;

/* ---- ABI v3: E/I mechanisms ----------------------------------------------
 * SPEC text: /work/notes/spec-ei-rt.md. Implementation: runtime/rt_ei.c.
 *
 * GLOBALS. RtModelDesc.globals lists network-wide scalars: modulator states
 * (`modulator DA { state level ... }`) and context levels. Every kernel reads
 * them through RtPopArgs.globals / RtSynArgs.globals (one array, index g as
 * declared). During step s they hold their values at t = s*dt. In the serial
 * phase after step s they advance to s+1, in this order:
 *   1. globals_update(a) (if not NULL) with a->step = s: reads the values of
 *      step s, writes the RT_GLOBAL_KERNEL globals' values of step s+1 (and
 *      nothing else);
 *   2. every RT_GLOBAL_DECAY global: x = baseline + (x - baseline)*f with
 *      f = exp(-dt/tau) computed once, so after a release of A at step n the
 *      level at step n+k is baseline + A*f^k = baseline + A*exp(-k*dt/tau);
 *   3. projection gains linked to globals (gain_global) take their values;
 *   4. the protocol events due at step s+1 (SET_GLOBAL, ADD_GLOBAL, ...).
 * So a release at time T acts on the updates of step round(T/dt) onwards. A
 * global derived by globals_update from one that an event changes follows
 * it one step later. With any DECAY or KERNEL global the serial phase runs
 * before every next step (as with plastic projections).
 *
 * GAINS. Each projection has a gain, 1 at the start, set by RT_EV_SET_GAIN
 * or, with gain_global = g+1, equal to globals[g]. The efficacy delivered in
 * step s (a spike arriving in step s) is multiplied by the gain of step s:
 * static projections add gain*w[q] per synapse (heterogeneous delays: gain
 * times the sum arriving in the step); plastic ones gain*w[q] or, with an
 * on_pre kernel, the kernel adds RtSynArgs.gain*efficacy. With gain == 1 the
 * runtime adds w unscaled, so a gain of 1 is bit-identical to none.
 *
 * SILENCE AND LESION. RT_EV_SILENCE / RT_EV_LESION (target: a neuron or
 * Poisson population, index: key >= 0, value: fraction in [0, 1]) choose
 * k = round(value*size) neurons: each neuron i gets the priority u_i, the
 * first uniform of Philox(seed, stream (RT_STREAM_SILENCE, pop), element
 * key << 32 | i), and the k smallest (u_i, i) are chosen. So the choice
 * depends only on (seed, population, key, fraction), not on threads or JIT
 * versus AOT, and for one key a smaller fraction picks a subset of a larger.
 * v5: with RtEventDesc.end > 0 only neurons [begin, end) compete: the
 * k = round(value*(end - begin)) smallest (u_i, i) of the range (the same
 * u_i, so the whole population's ranking restricted to the range).
 * From the update of the event's step on, a chosen neuron emits no spikes:
 * its spike flag is cleared right after its update kernel, so its spikes
 * are not delivered, recorded, counted, nor seen by on_post/post traces.
 * Its state evolves as its kernel computes it (a threshold crossing still
 * resets it): silencing blocks the neuron's output; it does not clamp the
 * membrane. RT_EV_UNSILENCE (target, key) ends the latest active silence of
 * that key (no effect if none); a neuron stays silent while any silence
 * that chose it is active, and a lesioned neuron for the rest of the run.
 *
 * BALANCE MONITOR (RT_REC_BALANCE: pop, var = index of I_E, var2 = index
 * of I_I, neurons [begin, end), every = window W in steps, v5: hop = H).
 * The samples of step s: when the population has probes (v5), probes var
 * and var2 evaluated by its probe kernel before the update of step s (only
 * over [begin, end)); otherwise (v3/v4) states var and var2, into which the
 * update kernel writes the currents (e.g. "balance.I_E"), after the update
 * of step s. Both give the same values: the neuron's excitatory and
 * inhibitory input currents once the step's arrivals are applied. Windows
 * of W steps start every H steps (H divides W; H = 0 or W: consecutive
 * windows): row r covers steps [r*H, r*H + W) and is appended after step
 * r*H + W - 1, so the first row comes once the first full window is
 * complete and then one every H steps. Row: dtype
 * [('I_E','<f8'),('I_I','<f8'),('ratio','<f8'),('corr','<f8')], shape
 * [windows, neurons]: the window means of I_E and I_I, ratio =
 * -mean(I_I)/mean(I_E) and corr = the Pearson correlation of I_E and -I_I
 * over the W samples (NaN when either is constant over the window, e.g.
 * W = 1; ratio follows IEEE division when mean(I_E) = 0). A partial last
 * window is not written. Computed online by each thread for its own neurons:
 * per neuron a ring of W/H blocks of H samples, each block's mean, sum of
 * squared deviations and co-moment accumulated by Welford's updates (5
 * doubles), a window combining its blocks oldest first by Chan's pairwise
 * formulas (with H = W: the block itself, as before v5). Raw traces are
 * never stored. Alongside, NAME_pop.npy (float64 [windows, 4], the same
 * columns) holds the population level: the same statistics of the currents
 * averaged over the sampled neurons each step, summed in a fixed order in
 * the serial phase, so the bits do not depend on the thread count.
 *
 * ABI v5: probes. A neuron population may list probes (RtPopDesc.nprobes,
 * probes, probe): values its update kernel computes without storing them.
 * RT_REC_PROBE (pop, var = probe index, neurons [begin, end), every): row k
 * of NAME.npy (float64 [samples, neurons]) holds probe var of step
 * k*every, evaluated before that step's update (after its arrivals), so row
 * 0 is step 0 and a run of N steps has ceil(N/every) rows. The serial
 * phase appends it after that step.
 *
 * WEIGHT RECORDING (RT_REC_WEIGHTS: proj, every). NAME.npy, float64
 * [samples, synapses], weights (SI) in CSR order (rows by pre, post
 * ascending; a plastic projection with per-synapse delays: by delay, then
 * post, see "ABI v2"): with every >= 1 row k holds the weights at t = k*every*dt
 * (row 0: initial weights); with every = 0 one row, at the end of the run
 * (rt_sim_finish). NAME_syn.npy (NAME.npy with "_syn" before ".npy"),
 * written once: [('pre','<u4'),('post','<u4')] [synapses], the same order.
 */

typedef enum RtGlobalKind {
    RT_GLOBAL_LEVEL,  /* changes only by events (context levels, schedules) */
    RT_GLOBAL_DECAY,  /* decays exactly toward `baseline` with `tau` */
    RT_GLOBAL_KERNEL, /* advanced by RtModelDesc.globals_update */
} RtGlobalKind;

typedef struct RtGlobalDesc {
    const char *name;         /* "DA.level", "Arousal.NE", for messages/manifest */
    const char *unit;         /* SI unit text */
    RtGlobalKind kind;
    double init;              /* value at t = 0 */
    double tau;               /* RT_GLOBAL_DECAY: seconds, > 0 */
    double baseline;          /* RT_GLOBAL_DECAY: resting value */
} RtGlobalDesc;

/* What globals_update sees (serial phase, one call per step). Offsets in
 * brackets are part of the ABI. */
typedef struct RtGlobalsArgs {
    double *globals;          /* [0]  values of step s; write KERNEL ones for s+1 */
    RtStep step;              /* [8]  s, the step just completed */
    double t;                 /* [16] s*dt, seconds */
    double dt;                /* [24] seconds */
    uint64_t seed;            /* [32] run seed */
    int64_t nglobals;         /* [40] */
} RtGlobalsArgs;

typedef void (*RtGlobalsFn)(const RtGlobalsArgs *a);

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
    /* v3: network-wide scalars kernels read through RtPopArgs/RtSynArgs.globals */
    int nglobals; const RtGlobalDesc *globals;
    RtGlobalsFn globals_update;   /* NULL, or run once per step, see "ABI v3"; eic
                                     generates it (eic_globals_step, compiler/cg_globals.c)
                                     for modulator states whose ODE is not a plain decay */
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
    int threads;              /* 0: automatic (one per 2000 neurons, at most the idle cores) */
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
/* RtPopDesc.precision of `pop`; for RT_PREC_F32 the arrays rt_sim_state and
 * rt_sim_param return hold floats. rt_sim_state_f32: the state array as
 * float *, or NULL when the population is RT_PREC_F64. */
int rt_sim_precision(const RtSim *s, int pop);
float *rt_sim_state_f32(RtSim *s, int pop, int var);
int64_t rt_sim_spike_count(const RtSim *s, int pop);        /* since step 0 */
/* Spikes of the last completed step, in neuron order; *n receives the count. */
const RtNeuron *rt_sim_last_spikes(const RtSim *s, int pop, int64_t *n);
int64_t rt_sim_synapse_count(const RtSim *s, int proj);
/* v2, synapses of projection `proj` in CSR order (rows by pre neuron, post
 * ascending within a row; a plastic projection with per-synapse delays sorts
 * each row by delay, then post): row offsets (npre + 1), post indices, weights
 * (plastic projections change them in place). */
const int64_t *rt_sim_rows(const RtSim *s, int proj);
const uint32_t *rt_sim_posts(const RtSim *s, int proj);
double *rt_sim_weights(RtSim *s, int proj);
/* v2, plastic projections (NULL otherwise or when out of range): per-synapse
 * variable `var` (per pre neuron when per_pre), and trace k of the pre
 * (post == 0) or post (post != 0) neurons. */
double *rt_sim_synvar(RtSim *s, int proj, int var);
/* Trace values at t = now*dt, i.e. what the next step's handlers read (pre
 * traces already include the jumps of the spikes arriving in step now).
 * With per-synapse delays a pre trace holds one block of npre per distinct
 * delay, ascending (index g*npre + i, see "ABI v2"). */
double *rt_sim_trace(RtSim *s, int proj, int post, int k);
/* Bytes of synapse storage of a projection: CSR (row offsets, posts,
 * weights, delays) plus, when plastic, CSC index, synapse state, traces and
 * per-neuron bookkeeping. Divide by rt_sim_synapse_count for bytes/synapse. */
int64_t rt_sim_synapse_bytes(const RtSim *s, int proj);
/* Writes the synapses of `proj` as they are now to `path` (.npy, structured
 * [('pre','<u4'),('post','<u4'),('w','<f8')], CSR order, SI weights); for a
 * weights dump at the end of a run (e.g. OUT/NAME_weights.npy). */
RtErrorCode rt_sim_write_synapses(RtSim *s, int proj, const char *path, RtError *err);
/* v3: the globals array (RtModelDesc.globals order; values of step now,
 * i.e. what the next step's kernels read), the current gain of a
 * projection, and the currently silenced (or lesioned) neurons of a
 * population: returns their count, *list (if not NULL) the ascending array,
 * owned by the runtime, valid until the next step. */
double *rt_sim_globals(RtSim *s);
double rt_sim_gain(const RtSim *s, int proj);
int64_t rt_sim_silenced(const RtSim *s, int pop, const RtNeuron **list);

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
