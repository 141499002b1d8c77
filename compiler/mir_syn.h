/* mir_syn.h - the mid-level IR of a plastic projection's synapse kernels.
 *
 * Pipeline position: lower.c builds one MirSyn for every connection with a
 * `synapse` model and/or a `with` plasticity rule; ode_plan_elapsed() (ode.c)
 * writes the exact relaxation of the per-synapse ODE states over a run-time
 * elapsed time; cg_syn.c emits the kernels the runtime calls (rt_abi.h,
 * ABI v2); mir_syn_exec() (mir_syn.c) is the reference interpreter the tests
 * compare against.
 *
 * The kernels use the ordinary MIR expressions and statements (mir.h) over a
 * per-kernel variable table: MX_STATE slot k reads and MIR_SET slot k writes
 * MirSyn.vars[k], wherever that variable lives (the synapse's weight, its own
 * state, a trace of its pre or post neuron, a state of the post neuron, the
 * elapsed time, the efficacy being delivered). A kernel gathers the table for
 * one synapse, runs a block and scatters back the writable entries; that is
 * exactly what mir_syn_exec() does with mir_exec(), and what cg_syn.c does in
 * SSA form. MX_TIME and MX_DT keep their meaning (time at the start of the
 * step, step length).
 *
 * With syn_clock, MSV_ELAPSED is the time since the synapse's own last
 * event, and `decay` runs first in the on_post and every kernels too.
 *
 * Event order for one synapse (SPEC: /work/notes/spec-plastic-cc.md):
 *   on a presynaptic spike arriving (after the delay):
 *     1. `decay`: ODE states relax exactly over the elapsed time since the
 *        row's previous presynaptic event (MSV_ELAPSED);
 *     2. MSV_DELIVER = 0; without a synapse model MSV_DELIVER = w;
 *     3. `on_pre`: the synapse model's `on pre`, then the plasticity rule's;
 *        `deliver e` adds e to MSV_DELIVER; bounds / Dale's law on w;
 *     4. the kernel adds MSV_DELIVER to the post neuron's receptor buffer;
 *   on a postsynaptic spike: `on_post` (rule's, then bounds / Dale's law);
 *   every `every_s` seconds: `every`, then bounds / Dale's law.
 * Traces read by a handler have their value just before the event's own
 * jump; the runtime applies the jumps after the handlers.
 */
#ifndef EIC_MIR_SYN_H
#define EIC_MIR_SYN_H

#include <stdbool.h>

#include "mir.h"
#include "rt_abi.h"

/* Where a variable of a synapse kernel lives. */
typedef enum MirSynVarKind {
    MSV_WEIGHT,      /* w, per synapse (read, write) */
    MSV_SYN,         /* per-synapse state of the synapse model or rule (read, write) */
    MSV_TRACE_PRE,   /* trace or rate estimate of the presynaptic neuron (read) */
    MSV_TRACE_POST,  /* trace or rate estimate of the postsynaptic neuron (read) */
    MSV_POST_STATE,  /* a state of the postsynaptic neuron, `post.V` (read) */
    MSV_PRE_STATE,   /* a state of the presynaptic neuron, `pre.V` (read) */
    MSV_ELAPSED,     /* seconds since the row's previous presynaptic event (read) */
    MSV_DELIVER,     /* efficacy delivered by this presynaptic event (write) */
} MirSynVarKind;

typedef struct MirSynVar {
    const char *name;     /* "w", "u", "x_pre", "post.V", "elapsed", "deliver" */
    const char *unit;     /* SI unit text, "1" when dimensionless */
    MirSynVarKind kind;
    int index;            /* MSV_SYN: per-synapse variable; MSV_TRACE_*: trace index;
                             MSV_*_STATE: the neuron population's state slot */
    RtDist init;          /* MSV_SYN: initial value */
} MirSynVar;

/* A trace or a rate estimate of the pre or post neurons, kept by the runtime:
 * it decays as exp(-elapsed/tau) and on each spike of its neuron becomes
 * x + inc (add) or inc (set). A rate estimate `rate r of post tau T` is an
 * add trace with inc = 1/T, so it reads in Hz. */
typedef struct MirTrace {
    const char *name;
    bool post;            /* a trace of the post neurons (else pre) */
    bool set;             /* `= v` (nearest spike) instead of `+= v` */
    bool rate;            /* declared with `rate` */
    double tau;           /* seconds */
    double inc;           /* increment or value set, SI */
} MirTrace;

typedef struct MirSyn {
    const char *name;         /* projection name, "E->I" */
    int proj;                 /* index in RtModelDesc.projs */
    const char *synapse;      /* synapse model name or NULL */
    const char *rule;         /* plasticity rule name or NULL */
    MirSynVar *vars;  int nvars;   /* the kernel's variable table (MX_STATE slots) */
    int w_slot, elapsed_slot, deliver_slot;
    int nsynvars;             /* per-synapse states (MSV_SYN, excluding w) */
    MirTrace *traces; int ntraces;
    int ntemps;               /* MIR_LET slots used by all blocks */
    MirOde *odes;     int nodes;   /* ODEs of MSV_SYN variables (slots are var slots) */
    MirBlock decay;           /* filled by ode_plan_elapsed() */
    MirBlock on_pre, on_post, every;  /* bounds and Dale's law already appended */
    bool has_on_post, has_every;
    double every_s;           /* period of `every` (already divided by accel) */
    double accel;             /* `with R accelerated by F`: F, else 1 ([S-net-2b]) */
    bool has_deliver;         /* the synapse model delivers (else w is delivered) */
    bool syn_clock;           /* ODE states and 'on post' or 'every': each synapse keeps the
                                 step of its last event (RtSynArgs.syn_last), the elapsed
                                 time is per synapse and every kernel runs `decay` first */
    bool per_pre;             /* `synapse X per pre`: MSV_SYN variables are per presynaptic
                                 neuron; on_pre reads them, the row kernel writes them */
    bool plastic_w;           /* some handler writes w */
    bool has_bounds, soft;
    double lo, hi;            /* weight bounds, SI */
    bool post_f32;            /* the post population is RT_PREC_F32 (`precision float`):
                                 post.X states and the input buffer are floats, read
                                 exactly into double and added to as
                                 buf = (float)((double)buf + gain*efficacy); everything
                                 else of the kernel stays double ([S-cg-7]) */
    MirPop shape;             /* slot counts for ode.c and the emitter: states = vars */
} MirSyn;

/* The values one synapse's kernel sees: vars[k] is MirSyn.vars[k]. */
typedef struct MirSynEnv {
    double *vars;
    double *temps;            /* ntemps */
    double t, dt;
} MirSynEnv;

/* Runs `b` of `s` for one synapse (mir_exec over the variable table). */
void mir_syn_exec(const MirSyn *s, const MirBlock *b, MirSynEnv *env);

/* The on-pre sequence of one synapse: decay, deliver reset, on_pre. Sets
 * env->vars[elapsed_slot] = elapsed first. Returns the delivered efficacy. */
double mir_syn_pre_event(const MirSyn *s, MirSynEnv *env, double elapsed);

/* The index of trace `k` (MirSyn.traces) among the traces of its side, i.e.
 * in RtPlasticDesc.traces_pre / traces_post. */
int mir_syn_trace_side_index(const MirSyn *s, int k);

/* The index of variable `slot` (an MSV_PRE_STATE) in RtPlasticDesc.pre_vars,
 * i.e. among the MSV_PRE_STATE variables in table order. */
int mir_syn_pre_var_index(const MirSyn *s, int slot);

/* Prints the variable table and every block (EIC_DUMP_MIR, tests). */
void mir_syn_dump(FILE *f, const MirSyn *s);

#endif
