/* lower_int.h - data shared by the lowering files (lower*.c); see lower.h.
 *
 * lower.c          entry points, populations (neuron type + receptor
 *                  instances -> MirPop, state layout, RtPopDesc)
 * lower_expr.c     expressions and statements of neuron and receptor bodies
 *                  (names -> MIR leaves, parameters folded), network constants
 * lower_syn.c      plastic projections (synapse models, plasticity rules ->
 *                  MirSyn, RtPlasticDesc)
 * lower_net.c      projections, inputs and recordings of the descriptor
 * lower_protocol.c modulators (globals), contexts and the timed protocol
 *                  events
 * lower_globals.c  modulator states integrated by the kernel eic_globals_step
 */
#ifndef EIC_LOWER_INT_H
#define EIC_LOWER_INT_H

#include "lower.h"
#include "sema_int.h"

/* A receptor on a port of a population's neurons, or (receptor NULL) a
 * current injection into a port. Each owns one input buffer. */
typedef struct RecInst {
    AstNode *receptor;
    Scope *scope;
    const char *port;       /* port name */
    const char *label;      /* buffer name: receptor name or "current:input" */
    int state0;             /* first state slot of the receptor's states */
} RecInst;

typedef struct ParamVal {
    Sym *sym;
    RecInst *rec;
    MirExpr *value;
} ParamVal;

/* A neuron parameter that protocol events or contexts change during the run
 * ([S-net-9]): it lives in slot `slot` of the population's constant block
 * (MX_PCONST, RtPopArgs.consts) with the value `base` at the start. */
typedef struct DynParam {
    Sym *sym;
    int slot;               /* -1 until a kernel reads it */
    double base;
} DynParam;

typedef struct PopLow {
    Population *pop;
    int index;              /* in desc.pops */
    Scope *nscope;          /* the neuron's body scope */
    AstNode *call;          /* the `of Type(overrides)` call */
    RecInst *recs;  int nrecs, cap_recs;
    ParamVal *params; int nparams, cap_params;
    RtVarDesc *pvars; int npvars, cap_pvars;   /* heterogeneous parameters */
    RtVarDesc *svars; int nsvars;              /* states */
    MirExpr **init_x;                          /* [state slot]: initial value computed per neuron
                                                  by the init kernel, or NULL (lower.c) */
    MirPop *mp;
    int depth;
    DynParam *dyn;  int ndyn, cap_dyn;         /* parameters changed during the run */
    int nconsts;                               /* constant block slots */
    bool balance;                              /* recorded by a balance monitor */
    int bal_ie;                                /* then: probe index of balance.I_E (I_I follows) */
    RtVarDesc *probes; MirExpr **probe_x; int nprobes, cap_probes;  /* RtPopDesc.probes, MirPop.probes */
} PopLow;

/* A network-wide value: one state of a modulator (RtGlobalDesc). */
typedef struct GlobalLow {
    AstNode *mod;           /* the modulator declaration (NULL for a rule parameter) */
    Sym *state;             /* the modulator state, or the rule parameter */
    AstNode *rule;          /* a synapse model or plasticity rule whose parameter `state`
                               a context scales ([S-ctx-3]): one RT_GLOBAL_LEVEL per
                               projection `proj` using it; NULL for modulator states */
    int proj;
    AstNode *ode;           /* the modulator state's ODE, or NULL (lower_protocol.c) */
    RtGlobalDesc desc;
} GlobalLow;

typedef struct Lower {
    Program *p;
    Arena *a;
    Diags *d;
    CheckedNet *net;
    PopLow *pl;  int npl;
    MirSyn *syns; int nsyns, cap_syns;   /* plastic projections */
    GlobalLow *globals; int nglobals, cap_globals;  /* modulator states */
    bool failed;
} Lower;

/* A name bound to a constant while lowering: a context level, a release
 * amount. */
typedef struct Binding {
    const char *name;
    double value;
} Binding;

typedef struct SynLow SynLow;

/* What lowering an expression happens inside. */
typedef struct LCtx {
    Lower *L;
    PopLow *pl;
    Scope *scope;
    RecInst *rec;           /* the receptor instance whose body this is, or NULL */
    SynLow *syn;            /* a synapse model's or plasticity rule's body, or NULL */
    bool initial;           /* initial values: changeable parameters give their start value */
    AstNode *global;        /* a modulator or context body (network-wide), or NULL */
    const Binding *binds;  int nbinds;
} LCtx;


/* The descriptor arrays being built (projections, inputs, recordings,
 * events), grown in the session arena. */
typedef struct DescBuild {
    RtProjDesc *projs;  int nprojs, cap_projs;
    RtInputDesc *inputs; int ninputs, cap_inputs;
    RtRecDesc *recs;    int nrecs, cap_recs;
    RtEventDesc *events; int nevents, cap_events;
} DescBuild;

#define GROW(L, arr, n, cap)                                                                      \
    do {                                                                                          \
        if ((n) == (cap)) {                                                                       \
            int c_ = (cap) ? (cap) * 2 : 8;                                                       \
            (arr) = arena_grow((L)->a, (arr), (size_t)(n), (size_t)c_, sizeof *(arr));           \
            (cap) = c_;                                                                           \
        }                                                                                         \
    } while (0)


/* ---- lower.c: populations and helpers ---- */
/* Reports [unsupported] "WHAT is not supported by the simulator yet". */
void lower_unsupported(Lower *L, SrcSpan at, const char *what);
/* The MirMethod a `method NAME` names (MM_AUTO for an unknown name). */
MirMethod lower_method_of(const char *name);
PopLow *lower_pop_low(Lower *L, Population *pop);
int lower_pop_index(Lower *L, Population *pop);
Population *lower_selector_pop(Scope *scope, AstNode *sel, Lower *L);
AstNode *lower_clause(AstNode *n, int k);
AstNode *lower_decl_named(Lower *L, AstNode *ref);
const char *lower_target_port(PopLow *pl, AstNode *onto, AstNode *receptor);
int lower_rec_instance(Lower *L, PopLow *pl, AstNode *receptor, const char *port, const char *label);
/* The probe named `name` of `pl` (ABI v5: a value the probe kernel computes
 * after on_input, [S-net-4]), added with `unit` and expression x on first
 * use. Returns its index. */
int lower_add_probe(Lower *L, PopLow *pl, const char *name, const char *unit, MirExpr *x);
void lower_range_of(Lower *L, Scope *scope, AstNode *sel, int64_t *begin, int64_t *end);

/* ---- lower_expr.c: expressions, statements, network constants ---- */
double lower_net_value(Lower *L, Scope *scope, AstNode *e);
bool lower_is_dist_call(AstNode *e);
RtDist lower_net_dist(Lower *L, Scope *scope, AstNode *e);
MirExpr *lower_fold(LCtx *c, MirExpr *x);
AstNode *lower_find_override(PopLow *pl, RecInst *rec, const char *name);
const char *lower_sym_unit(Lower *L, Sym *s);
const char *lower_qualified(LCtx *c, const char *name);
DynParam *lower_dyn_find(PopLow *pl, Sym *s);
int lower_state_slot(LCtx *c, Sym *s);
MirExpr *lower_expr(LCtx *c, AstNode *e);
void lower_block(LCtx *c, AstList *stmts, MirBlock *out);

/* ---- lower_syn.c: plastic projections ---- */
MirExpr *lower_syn_param(LCtx *c, Sym *s, SrcSpan at);
MirExpr *lower_syn_leaf(LCtx *c, Sym *s, SrcSpan at);
MirExpr *lower_syn_member(LCtx *c, AstNode *e);
int lower_syn_target_slot(LCtx *c, Sym *s);
void lower_syn_deliver(LCtx *c, AstNode *st, MirBlock *out);
MirSyn *lower_syn(Lower *L, NetItem *ni, int proj, Population *src, Population *dst);
void lower_fill_plastic(Lower *L, Lowered *out, RtProjDesc *projs);

/* ---- lower_net.c: projections, inputs, recordings ---- */
void lower_build_desc(Lower *L, Lowered *out, double dt);
/* The delay of Poisson input `input` (an AST_INPUT) in steps, round(D/dt);
 * 0 without a constant delay ([S-net-3b]). */
int64_t lower_input_shift(Lower *L, Scope *scope, AstNode *input);

/* ---- lower_protocol.c: modulators, contexts, protocol ---- */
AstNode *lower_modulator_named(Lower *L, const char *name);
int lower_global_index(Lower *L, AstNode *mod, Sym *state);
/* Rule parameter `s` of the synapse model or plasticity rule `rule` on
 * projection `proj`, whose value is `value`: when a context the network
 * enters scales `Rule.param`, the global slot that carries it (registered on
 * first use, initial value `value`); else -1 (the value stays a constant). */
int lower_rule_param_global(Lower *L, AstNode *rule, Sym *s, int proj, const char *proj_name, double value);
MirExpr *lower_modulator_read(LCtx *c, AstNode *e);
void lower_collect_dynamic(Lower *L);
void lower_protocol(Lower *L, DescBuild *b);

/* ---- lower_globals.c: the modulators' kernel ---- */
/* After the protocol: every modulator state whose ODE is not a plain
 * exponential decay (and every state of its modulator, and of the
 * modulators its ODEs read) becomes RT_GLOBAL_KERNEL, integrated by the
 * ODE planner in out->globals_mir (NULL when there is none). */
void lower_globals(Lower *L, Lowered *out);

#endif
