/* mir.h - the mid-level model IR between semantic analysis and code generation.
 *
 * sema.c turns a checked AST into a MirModel: every quantity in SI units,
 * parameters folded to constants where uniform, names replaced by slots.
 * ode.c chooses an integration scheme per population and writes the
 * discretized update as MIR statements (MirPop.step); cg_llvm.c turns those
 * statements into LLVM IR kernels that conform to runtime/rt_abi.h.
 * Everything is allocated in the session arena.
 *
 * Evaluation model of one population update kernel, per neuron i:
 *   1. statements in `on_input` consume the receptor accumulation buffers
 *      (MX_INPUT, the summed weights that arrived this step) and zero them;
 *   2. `step` advances all states by dt (written by ode.c from `odes`);
 *   3. refractoriness: while refractory, `clamped` states keep their value
 *      from the start of the step, before step 1 (so a delta synapse's jump
 *      `V += w` arriving during refractoriness is dropped);
 *   4. if not refractory and `threshold` is true: the neuron spikes, `reset`
 *      runs and the refractory period starts.
 * Exact order and the reasons are documented in SPEC.md ("Update order").
 */
#ifndef EIC_MIR_H
#define EIC_MIR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "arena.h"
#include "source.h"

typedef enum MirOp {
    MX_CONST,   /* value */
    MX_STATE,   /* state variable `slot` of this neuron (its value at the start of the step,
                   or the value written earlier in the same statement list) */
    MX_PARAM,   /* heterogeneous parameter `slot` of this neuron (per-neuron array) */
    MX_INPUT,   /* receptor accumulation buffer `slot` of this neuron */
    MX_TEMP,    /* temporary `slot` (MIR_LET result), local to one kernel invocation per neuron */
    MX_TIME,    /* simulation time t in seconds at the start of the step */
    MX_DT,      /* time step in seconds */
    MX_NEG, MX_ADD, MX_SUB, MX_MUL, MX_DIV,
    MX_POW,     /* a[0] ^ a[1] */
    MX_CALL,    /* fn(a[0..nargs)) */
    MX_LT, MX_LE, MX_GT, MX_GE, MX_EQ, MX_NE, /* comparisons: 1.0 / 0.0 */
    MX_AND, MX_OR, MX_NOT,
    MX_SELECT,  /* a[0] ? a[1] : a[2] */
    MX_PCONST,  /* slot `slot` of the population's constant block (RtPopArgs.consts): a
                   parameter that protocol events or contexts change during the run */
    MX_GLOBAL,  /* network-wide value `slot` (RtPopArgs/RtSynArgs.globals): a modulator
                   state, at t = step*dt */
} MirOp;

typedef enum MirFn {
    MF_EXP, MF_LOG, MF_SQRT, MF_SIN, MF_COS, MF_TANH, MF_ABS, MF_MIN, MF_MAX, MF_CLIP, MF_FLOOR,
    MF_EXPEULER, /* exp(z) x + phi1(z) w for (z, x, w), phi1(z) = (exp(z) - 1)/z, phi1(0) = 1:
                    one exponential Euler step (ode.c only) */
    MF__COUNT
} MirFn;

typedef struct MirExpr MirExpr;
struct MirExpr {
    MirOp op;
    int fn;            /* MirFn for MX_CALL */
    int slot;          /* for MX_STATE, MX_PARAM, MX_INPUT, MX_TEMP */
    double value;      /* MX_CONST */
    int nargs;
    MirExpr **args;
    SrcSpan span;      /* source of the expression, for diagnostics */
};

typedef enum MirStmtKind {
    MIR_SET,    /* state[slot] = value */
    MIR_LET,    /* temp[slot] = value */
    MIR_INPUT_CLEAR, /* input[slot] = 0 */
    MIR_IF,     /* if (cond) then[] else else_[] */
} MirStmtKind;

typedef struct MirStmt MirStmt;
typedef struct MirBlock {
    MirStmt **v;
    int n, cap;
} MirBlock;

struct MirStmt {
    MirStmtKind kind;
    int slot;
    MirExpr *value;    /* MIR_SET, MIR_LET; condition for MIR_IF */
    MirBlock then, else_;
};

typedef enum MirMethod {
    MM_AUTO, MM_EXACT, MM_EXPONENTIAL_EULER, MM_EULER, MM_RK2, MM_RK4
} MirMethod;

typedef struct MirOde {
    int state;         /* slot of the state variable */
    MirExpr *rhs;      /* d state / dt, SI units, may reference states, params, temps of `defs` */
    MirMethod method;  /* chosen by ode.c (MM_AUTO before) */
    const char *reason;/* set by ode.c: why `method` was chosen (for `eic check --explain`) */
    SrcSpan span;
} MirOde;

typedef struct MirVar {
    const char *name;  /* as in the model, e.g. "V", "g_e" (receptor states prefixed: "AMPA.g") */
    const char *unit;  /* SI unit text for outputs, e.g. "V", "S", "1" */
    double init_const; /* initial value when uniform and constant */
} MirVar;

/* One population's neuron model (a neuron type with its receptors attached). */
typedef struct MirPop {
    const char *name;        /* population name */
    int64_t size;
    MirVar *states;  int nstates;
    MirVar *params;  int nparams;   /* heterogeneous parameters (per-neuron arrays) only */
    int ninputs;                    /* receptor accumulation buffers */
    const char **input_names;       /* e.g. "AMPA", "GABA_A" (receptor name per buffer) */
    int ntemps;
    MirBlock defs;                  /* algebraic definitions, in dependency order (MIR_LET) */
    MirOde *odes;    int nodes;
    MirMethod method_hint;          /* from `method` in the neuron or simulate */
    MirBlock on_input;              /* applies buffers to states (e.g. g_e += input[0]) */
    MirBlock step;                  /* filled by ode.c: the discretized update (uses defs itself) */
    MirExpr *threshold;             /* NULL: never spikes */
    MirBlock reset;
    double refractory_s;            /* 0: none (or see refractory) */
    MirExpr *refractory;            /* a refractory period that differs per neuron (seconds,
                                       parameters only): n_ref = round(value/dt) in double;
                                       NULL: refractory_s */
    int refractory_param;           /* with `refractory`: the hidden parameter slot where the
                                       init kernel stores n_ref once, or -1: the update kernel
                                       computes it (a value that changes during the run) */
    MirBlock init;                  /* initial values computed per neuron (MIR_SET in dependency
                                       order), run once by the init kernel after the runtime's
                                       draws ([S-neuron-1a]); empty: no init kernel */
    int *clamped;    int nclamped;  /* state slots held during refractoriness */
    bool use_float;                 /* precision float */
    int nconsts;                    /* MX_PCONST slots (RtPopDesc.nconsts) */
    int nglobals;                   /* MX_GLOBAL slots (RtModelDesc.nglobals) */
    MirExpr **probes; int nprobes;  /* values computed after on_input but not stored (balance
                                       currents, recorded definitions): the probe kernel */
} MirPop;

typedef struct MirModel {
    MirPop *pops;    int npops;
    double dt;                      /* seconds */
} MirModel;

/* Constructors (mir.c). All allocate in `a`. */
MirExpr *mir_const(Arena *a, double v);
MirExpr *mir_leaf(Arena *a, MirOp op, int slot);
MirExpr *mir_unary(Arena *a, MirOp op, MirExpr *x);
MirExpr *mir_binary(Arena *a, MirOp op, MirExpr *x, MirExpr *y);
MirExpr *mir_call(Arena *a, MirFn fn, int nargs, MirExpr **args);
MirExpr *mir_select(Arena *a, MirExpr *c, MirExpr *x, MirExpr *y);
MirStmt *mir_set(Arena *a, int slot, MirExpr *value);
MirStmt *mir_let(Arena *a, int slot, MirExpr *value);
void mir_push(Arena *a, MirBlock *b, MirStmt *s);
MirStmt *mir_input_clear(Arena *a, int slot);
MirStmt *mir_if(Arena *a, MirExpr *cond);   /* push into ->then / ->else_ afterwards */

/* Rewrites every division by a constant in the population's code as a
 * multiplication by the reciprocal (run after ode_plan). */
void mir_pop_div_to_mul(Arena *a, MirPop *p);

/* Constant folding (defined in mir_eval.c, declared there too): returns `e`
 * with constant sub-trees replaced by MX_CONST; MX_DT too when dt > 0. */
MirExpr *mir_fold(Arena *a, MirExpr *e, double dt);

/* Printing (mir.c). Names come from `p` when it is non-NULL; temps print as %N. */
const char *mir_fn_name(MirFn fn);
const char *mir_method_name(MirMethod m);
void mir_dump_expr(FILE *f, const MirPop *p, const MirExpr *e);
void mir_dump_block(FILE *f, const MirPop *p, const MirBlock *b, int depth); /* 2 spaces per level */
void mir_dump(FILE *f, const MirPop *p);

#endif
