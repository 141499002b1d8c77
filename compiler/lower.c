/* lower.c - the checked program to MIR and an RtModelDesc; see lower.h.
 *
 * Names inside neuron and receptor bodies become MIR leaves: states are
 * slots (the neuron's own, then each receptor instance's, named
 * "Receptor.state"), parameters fold to constants (or per-neuron MX_PARAM
 * arrays when a population draws them from a distribution), definitions are
 * inlined, a port's summed current is the sum of the currents of the
 * receptor instances on that port plus injected currents, and a receptor's
 * `V` is its port's voltage. A receptor's `on spike(w)` handler runs once per
 * step with w = the summed weight of the spikes that arrived (exact for
 * handlers that add w linearly, which sema's receptor rules guarantee).
 *
 * A connection with a synapse model and/or a plasticity rule becomes a
 * MirSyn (mir_syn.h, section "plastic projections" below) and an
 * RtPlasticDesc: the two bodies share one variable table (w, their states,
 * traces, pre/post neuron states), their handlers become the on_pre /
 * on_post / every blocks with bounds or Dale's law appended
 * (/work/notes/spec-plastic-cc.md). */
#include "lower.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mir_eval.h"
#include "mir_syn.h"
#include "ode.h"
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
    MirPop *mp;
    int depth;
    DynParam *dyn;  int ndyn, cap_dyn;         /* parameters changed during the run */
    int nconsts;                               /* constant block slots */
    bool balance;                              /* recorded by a balance monitor */
    int bal_ie;                                /* then: state slot of balance.I_E (I_I follows) */
} PopLow;

/* A network-wide value: one state of a modulator (RtGlobalDesc). */
typedef struct GlobalLow {
    AstNode *mod;           /* the modulator declaration */
    Sym *state;
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

static void unsupported(Lower *L, SrcSpan at, const char *what) {
    diag_report(L->d, at, DIAG_UNSUPPORTED, "%s is not supported by the simulator yet", what);
    L->failed = true;
}

#define GROW(L, arr, n, cap)                                                                      \
    do {                                                                                          \
        if ((n) == (cap)) {                                                                       \
            int c_ = (cap) ? (cap) * 2 : 8;                                                       \
            (arr) = arena_grow((L)->a, (arr), (size_t)(n), (size_t)c_, sizeof *(arr));           \
            (cap) = c_;                                                                           \
        }                                                                                         \
    } while (0)

/* ---- constants of the network level ---- */

static double net_value(Lower *L, Scope *scope, AstNode *e) {
    Ctx c = {.p = L->p, .scope = scope, .body = BODY_NETWORK, .constant = true, .allow_dist = true};
    Ty t = sema_expr(&c, e);
    return t.value;
}

static bool is_dist_call(AstNode *e) {
    return e && e->kind == AST_CALL && (!strcmp(e->name, "uniform") || !strcmp(e->name, "normal"));
}

static RtDist net_dist(Lower *L, Scope *scope, AstNode *e) {
    if (is_dist_call(e)) {
        RtDist d = {!strcmp(e->name, "uniform") ? RT_DIST_UNIFORM : RT_DIST_NORMAL, 0, 0};
        d.a = net_value(L, scope, e->items.v[0]);
        d.b = net_value(L, scope, e->items.v[1]);
        return d;
    }
    return (RtDist){RT_DIST_CONST, net_value(L, scope, e), 0};
}

/* ---- expressions ---- */

static MirExpr *lower_expr(LCtx *c, AstNode *e);

static MirExpr *fold(LCtx *c, MirExpr *x) { return mir_fold(c->L->a, x, 0); }

/* The override `name = value` (or `Receptor.name = value`) of a population;
 * the last one wins, so that -D defines (appended) beat the model text. */
static AstNode *find_override(PopLow *pl, RecInst *rec, const char *name) {
    if (!pl->call) return NULL;
    for (int i = pl->call->items.n - 1; i >= 0; i--) {
        AstNode *arg = pl->call->items.v[i];
        if (arg->kind != AST_ARG) continue;
        const char *dot = strchr(arg->name, '.');
        if (!rec && !dot && !strcmp(arg->name, name)) return arg;
        if (rec && rec->receptor && dot && !strncmp(arg->name, rec->receptor->name, (size_t)(dot - arg->name)) &&
            strlen(rec->receptor->name) == (size_t)(dot - arg->name) && !strcmp(dot + 1, name))
            return arg;
    }
    return NULL;
}

static const char *sym_unit(Lower *L, Sym *s) {
    Ty t = sema_resolve_ty(L->p, s->ty);
    if (t.kind != TY_NUM || t.unk) return "1";
    return unit_dim_is_dimensionless(t.dim) ? "1" : unit_format_dim(L->a, t.dim);
}

static const char *qualified(LCtx *c, const char *name) {
    return c->rec && c->rec->receptor ? arena_printf(c->L->a, "%s.%s", c->rec->receptor->name, name) : name;
}

static DynParam *dyn_find(PopLow *pl, Sym *s) {
    for (int i = 0; i < pl->ndyn; i++)
        if (pl->dyn[i].sym == s) return &pl->dyn[i];
    return NULL;
}

/* A parameter of a modulator or context: its declared value (no overrides). */
static MirExpr *global_param(LCtx *c, Sym *s) {
    LCtx home = *c;
    home.scope = s->home;
    return fold(c, lower_expr(&home, s->decl->a));
}

/* The value of parameter `s` in the current body: an override or the
 * declared value folded to a constant, a per-neuron array (MX_PARAM), or for
 * a parameter that changes during the run a slot of the constant block
 * (MX_PCONST). Initial values (c->initial) see start values and are not
 * cached, so that a parameter derived from a changing one stays a kernel
 * expression. */
static MirExpr *param_value(LCtx *c, Sym *s, SrcSpan at) {
    if (c->global) return global_param(c, s);
    PopLow *pl = c->pl;
    for (int i = 0; !c->initial && i < pl->nparams; i++)
        if (pl->params[i].sym == s && pl->params[i].rec == c->rec) return pl->params[i].value;
    MirExpr *v;
    AstNode *ov = find_override(pl, c->rec, s->name);
    if (ov && is_dist_call(ov->a)) {
        GROW(c->L, pl->pvars, pl->npvars, pl->cap_pvars);
        pl->pvars[pl->npvars] = (RtVarDesc){qualified(c, s->name), sym_unit(c->L, s),
                                            net_dist(c->L, c->L->net->scope, ov->a)};
        v = mir_leaf(c->L->a, MX_PARAM, pl->npvars++);
    } else if (ov) {
        v = mir_const(c->L->a, net_value(c->L, c->L->net->scope, ov->a));
    } else {
        if (++pl->depth > 64) {
            unsupported(c->L, at, "a parameter chain this deep");
            return mir_const(c->L->a, 0);
        }
        LCtx home = *c;
        home.scope = s->home;
        v = fold(c, lower_expr(&home, s->decl->a));
        pl->depth--;
    }
    DynParam *dp = c->rec ? NULL : dyn_find(pl, s);
    if (dp && !c->initial) {
        if (v->op != MX_CONST) {
            unsupported(c->L, at, "changing a parameter that differs per neuron during the run");
        } else {
            dp->slot = pl->nconsts++;
            dp->base = v->value;
            v = mir_leaf(c->L->a, MX_PCONST, dp->slot);
        }
    }
    if (c->initial) return v;
    GROW(c->L, pl->params, pl->nparams, pl->cap_params);
    pl->params[pl->nparams++] = (ParamVal){s, c->rec, v};
    return v;
}

/* Slot of state `s` declared in the neuron (rec NULL) or in a receptor. */
static int state_slot(LCtx *c, Sym *s) {
    Scope *sc = s->home;
    int k = 0;
    for (int i = 0; i < sc->n; i++) {
        if (sc->v[i] == s) break;
        k += sc->v[i]->kind == SYM_STATE;
    }
    return c->rec ? c->rec->state0 + k : k;
}

static const char *port_voltage(PopLow *pl, const char *port) {
    AstNode *neuron = pl->pop->type;
    for (int i = 0; i < neuron->items.n; i++) {
        AstNode *it = neuron->items.v[i];
        if (it->kind == AST_PORT && !strcmp(it->name, port) && it->items2.n == 2) return it->items2.v[1]->name;
    }
    return "V";
}

static MirExpr *port_current_sum(LCtx *c, Sym *cur) {
    const char *port = cur->data ? ((AstNode *)cur->data)->name : "soma";
    MirExpr *sum = NULL;
    for (int i = 0; i < c->pl->nrecs; i++) {
        RecInst *r = &c->pl->recs[i];
        if (strcmp(r->port, port)) continue;
        MirExpr *term;
        if (!r->receptor) {
            term = mir_leaf(c->L->a, MX_INPUT, i);
        } else {
            AstNode *current = NULL;
            for (int j = 0; j < r->receptor->items.n; j++)
                if (r->receptor->items.v[j]->kind == AST_CURRENT) current = r->receptor->items.v[j];
            LCtx in = {.L = c->L, .pl = c->pl, .scope = r->scope, .rec = r, .syn = NULL};
            term = lower_expr(&in, current->a);
        }
        sum = sum ? mir_binary(c->L->a, MX_ADD, sum, term) : term;
    }
    return sum ? sum : mir_const(c->L->a, 0);
}

static int port_voltage_slot(LCtx *c);
static MirExpr *syn_param(LCtx *c, Sym *s, SrcSpan at);
static MirExpr *syn_leaf(LCtx *c, Sym *s, SrcSpan at);
static MirExpr *syn_member(LCtx *c, AstNode *e);

static MirExpr *lower_name(LCtx *c, AstNode *e) {
    for (int i = 0; i < c->nbinds; i++)
        if (!strcmp(c->binds[i].name, e->name)) return mir_const(c->L->a, c->binds[i].value);
    Sym *s = sema_lookup(c->scope, e->name);
    if (!s) {
        double scale;
        Dim d;
        if (unit_lookup(e->name, &scale, &d)) return mir_const(c->L->a, scale);
        unsupported(c->L, e->span, "this name");
        return mir_const(c->L->a, 0);
    }
    switch (s->kind) {
    case SYM_PARAM: return c->syn ? syn_param(c, s, e->span) : param_value(c, s, e->span);
    case SYM_STATE: return c->syn ? syn_leaf(c, s, e->span) : mir_leaf(c->L->a, MX_STATE, state_slot(c, s));
    case SYM_TRACE:
    case SYM_RATE:
        if (c->syn) return syn_leaf(c, s, e->span);
        break;
    case SYM_DEF: {
        LCtx home = *c;
        home.scope = s->home;
        return lower_expr(&home, s->decl->a);
    }
    case SYM_PORT_CURRENT: return port_current_sum(c, s);
    case SYM_LEVEL: {   /* a context level not given by `enter`: its default */
        LCtx home = *c;
        home.scope = s->home;
        return lower_expr(&home, s->decl->a);
    }
    case SYM_VOLTAGE: return mir_leaf(c->L->a, MX_STATE, port_voltage_slot(c));
    case SYM_WEIGHT:
        if (c->syn) return syn_leaf(c, s, e->span);
        if (c->rec) return mir_leaf(c->L->a, MX_INPUT, (int)(c->rec - c->pl->recs));
        break;
    case SYM_BUILTIN:
        if (!strcmp(s->name, "t")) return mir_leaf(c->L->a, MX_TIME, 0);
        if (!strcmp(s->name, "dt")) return mir_leaf(c->L->a, MX_DT, 0);
        return mir_const(c->L->a, s->ty.value);
    default: break;
    }
    unsupported(c->L, e->span, arena_printf(c->L->a, "'%s' in this place", e->name));
    return mir_const(c->L->a, 0);
}

/* ---- network-wide values: modulator states (RtModelDesc.globals) ---- */

static void global_dynamics(Lower *L, GlobalLow *g, Scope *scope);

/* The global index of state `state` of modulator `mod`, registering all the
 * modulator's states (in declaration order) on first use. */
static int global_index(Lower *L, AstNode *mod, Sym *state) {
    for (int i = 0; i < L->nglobals; i++)
        if (L->globals[i].mod == mod && L->globals[i].state == state) return i;
    Scope *sc = sema_body_scope(L->p, mod);
    int found = -1;
    for (int i = 0; i < sc->n; i++) {
        if (sc->v[i]->kind != SYM_STATE) continue;
        GROW(L, L->globals, L->nglobals, L->cap_globals);
        GlobalLow *g = &L->globals[L->nglobals];
        memset(g, 0, sizeof *g);
        g->mod = mod;
        g->state = sc->v[i];
        g->desc.name = arena_printf(L->a, "%s.%s", mod->name, sc->v[i]->name);
        g->desc.unit = sym_unit(L, sc->v[i]);
        if (sc->v[i] == state) found = L->nglobals;
        L->nglobals++;
    }
    for (int i = found < 0 ? L->nglobals : 0; i < L->nglobals; i++)
        if (L->globals[i].mod == mod) global_dynamics(L, &L->globals[i], sc);
    return found;
}

static AstNode *modulator_named(Lower *L, const char *name) {
    Sym *s = sema_lookup(&L->p->global, name);
    return s && s->kind == SYM_DECL && s->decl->kind == AST_MODULATOR ? s->decl : NULL;
}

/* `Mod.state` in any body: the modulator's state at the start of the step
 * (MX_GLOBAL); NULL when `e` is not such a read. */
static MirExpr *modulator_read(LCtx *c, AstNode *e) {
    if (!e->a || e->a->kind != AST_NAME || sema_lookup(c->scope, e->a->name) != sema_lookup(&c->L->p->global, e->a->name))
        return NULL;
    AstNode *mod = modulator_named(c->L, e->a->name);
    Sym *st = mod ? sema_lookup_local(sema_body_scope(c->L->p, mod), e->name) : NULL;
    if (!st || st->kind != SYM_STATE) return NULL;
    return mir_leaf(c->L->a, MX_GLOBAL, global_index(c->L, mod, st));
}

/* Evaluates `e` of a modulator or context body to a constant, with
 * `binds` (levels, the release amount); NAN and [unsupported] (`what`) if it
 * is not one. `states` non-NULL: the modulator's states read as those values. */
static double global_const(Lower *L, AstNode *body, AstNode *e, const Binding *binds, int nbinds, const double *states,
                           const char *what) {
    LCtx c = {.L = L, .scope = sema_body_scope(L->p, body), .global = body, .binds = binds, .nbinds = nbinds};
    MirExpr *x = mir_fold(L->a, lower_expr(&c, e), L->p->sim_dt);
    if (x->op == MX_CONST) return x->value;
    if (states) {
        MirEnv env = {.states = (double *)states, .dt = L->p->sim_dt};
        return mir_eval(x, &env);
    }
    unsupported(L, e->span, what);
    return NAN;
}

/* The dynamics of a modulator state: without an ODE a level that only
 * events change (RT_GLOBAL_LEVEL); `dX/dt = c X + r` with constant c < 0 and
 * r (checked at X = 0, 1, 2 with the other states at 0 and 1) decays exactly
 * toward -r/c with tau = -1/c (RT_GLOBAL_DECAY). */
static void global_dynamics(Lower *L, GlobalLow *g, Scope *scope) {
    AstNode *ode = NULL;
    for (int i = 0; i < g->mod->items.n; i++)
        if (g->mod->items.v[i]->kind == AST_ODE && !strcmp(g->mod->items.v[i]->name, g->state->name)) ode = g->mod->items.v[i];
    int k = 0;   /* the state's slot among the modulator's states */
    for (int n = 0; n < scope->n && scope->v[n] != g->state; n++) k += scope->v[n]->kind == SYM_STATE;
    double x[64] = {0}, f[3];
    g->desc.init = global_const(L, g->mod, g->state->decl->a, NULL, 0, NULL, "a modulator's initial value that is not constant");
    if (!ode) {
        g->desc.kind = RT_GLOBAL_LEVEL;
        return;
    }
    if (k >= 64) {
        unsupported(L, ode->span, "a modulator with this many states");
        return;
    }
    for (int other = 0; other < 2; other++)
        for (int v = 0; v < 3; v++) {
            for (int j = 0; j < 64; j++) x[j] = other;
            x[k] = v;
            double y = global_const(L, g->mod, ode->a, NULL, 0, x, "modulator dynamics");
            if (other && y != f[v]) {
                unsupported(L, ode->span, "modulator dynamics that read other states");
                return;
            }
            f[v] = y;
        }
    double c = f[1] - f[0];
    if (!(c < 0) || fabs(f[2] - 2 * f[1] + f[0]) > 1e-12 * (fabs(f[1]) + fabs(f[0]) + 1e-300)) {
        unsupported(L, ode->span, "modulator dynamics other than an exponential decay (dX/dt = (X_0 - X)/tau)");
        return;
    }
    g->desc.kind = RT_GLOBAL_DECAY;
    g->desc.tau = -1.0 / c;
    g->desc.baseline = -f[0] / c;
}

static MirExpr *call1(LCtx *c, MirFn fn, MirExpr *x) { return mir_call(c->L->a, fn, 1, (MirExpr *[]){x}); }

static MirExpr *lower_call(LCtx *c, AstNode *e) {
    Arena *a = c->L->a;
    MirExpr *x[3] = {0};
    for (int i = 0; i < e->items.n && i < 3; i++) x[i] = lower_expr(c, e->items.v[i]);
    static const struct { const char *name; MirFn fn; int n; } direct[] = {
        {"exp", MF_EXP, 1},   {"log", MF_LOG, 1}, {"sqrt", MF_SQRT, 1}, {"sin", MF_SIN, 1},
        {"cos", MF_COS, 1},   {"tanh", MF_TANH, 1}, {"abs", MF_ABS, 1}, {"floor", MF_FLOOR, 1},
        {"min", MF_MIN, 2},   {"max", MF_MAX, 2}, {"clip", MF_CLIP, 3},
    };
    for (size_t i = 0; i < sizeof direct / sizeof direct[0]; i++)
        if (!strcmp(e->name, direct[i].name)) {
            MirExpr **args = ARENA_ARRAY(a, MirExpr *, 3);
            memcpy(args, x, sizeof x);
            return mir_call(a, direct[i].fn, direct[i].n, args);
        }
    if (!strcmp(e->name, "log10")) return mir_binary(a, MX_DIV, call1(c, MF_LOG, x[0]), mir_const(a, log(10.0)));
    if (!strcmp(e->name, "ceil")) return mir_unary(a, MX_NEG, call1(c, MF_FLOOR, mir_unary(a, MX_NEG, x[0])));
    if (!strcmp(e->name, "tan")) return mir_binary(a, MX_DIV, call1(c, MF_SIN, x[0]), call1(c, MF_COS, x[0]));
    if (!strcmp(e->name, "sinh") || !strcmp(e->name, "cosh")) {
        MirExpr *ep = call1(c, MF_EXP, x[0]), *em = call1(c, MF_EXP, mir_unary(a, MX_NEG, x[0]));
        MirExpr *s = mir_binary(a, e->name[3] == 'h' && e->name[2] == 'n' ? MX_SUB : MX_ADD, ep, em);
        return mir_binary(a, MX_MUL, s, mir_const(a, 0.5));
    }
    unsupported(c->L, e->span, arena_printf(a, "'%s' in an equation", e->name));
    return mir_const(a, 0);
}

static MirOp binary_op(int op) {
    switch (op) {
    case OP_ADD: return MX_ADD;
    case OP_SUB: return MX_SUB;
    case OP_MUL: return MX_MUL;
    case OP_DIV: return MX_DIV;
    case OP_POW: return MX_POW;
    case OP_LT: return MX_LT;
    case OP_LE: return MX_LE;
    case OP_GT: return MX_GT;
    case OP_GE: return MX_GE;
    case OP_EQ: return MX_EQ;
    case OP_NE: return MX_NE;
    case OP_AND: return MX_AND;
    default: return MX_OR;
    }
}

static MirExpr *lower_expr(LCtx *c, AstNode *e) {
    Arena *a = c->L->a;
    MirExpr *r;
    switch (e->kind) {
    case AST_NUM: {
        double scale = 1;
        Dim d;
        if (e->unit) unit_lookup(e->unit, &scale, &d);
        r = mir_const(a, e->num * scale);
        break;
    }
    case AST_BOOL: r = mir_const(a, e->num); break;
    case AST_NAME: r = lower_name(c, e); break;
    case AST_UNARY:
        r = lower_expr(c, e->a);
        if (e->op == OP_NEG) r = mir_unary(a, MX_NEG, r);
        else if (e->op == OP_NOT) r = mir_unary(a, MX_NOT, r);
        break;
    case AST_BINARY: r = mir_binary(a, binary_op(e->op), lower_expr(c, e->a), lower_expr(c, e->b)); break;
    case AST_COND: r = mir_select(a, lower_expr(c, e->a), lower_expr(c, e->b), lower_expr(c, e->c)); break;
    case AST_CALL: r = lower_call(c, e); break;
    case AST_MEMBER:
        if ((r = modulator_read(c, e))) break;
        if (c->syn) {
            r = syn_member(c, e);
            break;
        }
        /* fall through */
    default:
        unsupported(c->L, e->span, "this expression");
        r = mir_const(a, 0);
    }
    r->span = e->span;
    return r;
}

/* ---- statements ---- */

static void lower_block(LCtx *c, AstList *stmts, MirBlock *out);

static int syn_target_slot(LCtx *c, Sym *s);

/* The state slot of the voltage of the port receptor instance c->rec is on. */
static int port_voltage_slot(LCtx *c) {
    LCtx n = {.L = c->L, .pl = c->pl, .scope = c->pl->nscope, .rec = NULL, .syn = NULL};
    Sym *v = sema_lookup_local(c->pl->nscope, port_voltage(c->pl, c->rec->port));
    return v ? state_slot(&n, v) : -1;
}

/* Slot written by an assignment in a neuron or receptor body: a state, or
 * for a delta synapse (`V += w` in a receptor, sema allows only += / -= of a
 * multiple of w) the port's voltage. */
static int target_slot(LCtx *c, Sym *s) {
    if (s->kind == SYM_STATE) return state_slot(c, s);
    if (s->kind == SYM_VOLTAGE && c->rec) return port_voltage_slot(c);
    return -1;
}

static void lower_assign(LCtx *c, AstNode *st, MirBlock *out) {
    Sym *s = st->a->kind == AST_NAME ? sema_lookup(c->scope, st->a->name) : NULL;
    int slot = !s ? -1 : c->syn ? syn_target_slot(c, s) : target_slot(c, s);
    if (slot < 0) {
        unsupported(c->L, st->a->span, "assigning this");
        return;
    }
    MirExpr *v = lower_expr(c, st->b), *cur = mir_leaf(c->L->a, MX_STATE, slot);
    static const MirOp ops[] = {[ASSIGN_ADD] = MX_ADD, [ASSIGN_SUB] = MX_SUB, [ASSIGN_MUL] = MX_MUL,
                                [ASSIGN_DIV] = MX_DIV};
    if (st->op != ASSIGN_SET) v = mir_binary(c->L->a, ops[st->op], cur, v);
    mir_push(c->L->a, out, mir_set(c->L->a, slot, v));
}

static void syn_deliver(LCtx *c, AstNode *st, MirBlock *out);

static void lower_block(LCtx *c, AstList *stmts, MirBlock *out) {
    for (int i = 0; i < stmts->n; i++) {
        AstNode *st = stmts->v[i];
        if (st->kind == AST_ASSIGN) {
            lower_assign(c, st, out);
        } else if (st->kind == AST_IF) {
            MirStmt *s = mir_if(c->L->a, lower_expr(c, st->a));
            lower_block(c, &st->items, &s->then);
            lower_block(c, &st->items2, &s->else_);
            mir_push(c->L->a, out, s);
        } else if (st->kind == AST_DELIVER && c->syn) {
            syn_deliver(c, st, out);
        } else {
            unsupported(c->L, st->span, "this statement");
        }
    }
}

/* ---- populations ---- */

/* The port a connection or input onto `pl` targets. */
static const char *target_port(PopLow *pl, AstNode *onto, AstNode *receptor) {
    if (onto && onto->a) return onto->a->name;
    if (receptor && receptor->c) return receptor->c->name;
    AstNode *neuron = pl->pop->type;
    const char *first = NULL;
    for (int i = 0; i < neuron->items.n; i++) {
        AstNode *it = neuron->items.v[i];
        if (it->kind != AST_PORT) continue;
        if (!strcmp(it->name, "soma")) return "soma";
        if (!first) first = it->name;
    }
    return first ? first : "soma";
}

static int count_states(Scope *s) {
    int n = 0;
    for (int i = 0; i < s->n; i++) n += s->v[i]->kind == SYM_STATE;
    return n;
}

/* The input buffer of (receptor, port) on `pl`, created on first use. */
static int rec_instance(Lower *L, PopLow *pl, AstNode *receptor, const char *port, const char *label) {
    for (int i = 0; i < pl->nrecs; i++)
        if (pl->recs[i].receptor == receptor && !strcmp(pl->recs[i].port, port) &&
            (receptor || !strcmp(pl->recs[i].label, label)))
            return i;
    GROW(L, pl->recs, pl->nrecs, pl->cap_recs);
    RecInst *r = &pl->recs[pl->nrecs];
    r->receptor = receptor;
    r->scope = receptor ? sema_body_scope(L->p, receptor) : NULL;
    r->port = port;
    r->label = receptor ? (strcmp(port, target_port(pl, NULL, receptor)) ? arena_printf(L->a, "%s@%s", receptor->name, port)
                                                                         : receptor->name)
                        : label;
    return pl->nrecs++;
}

static PopLow *pop_low(Lower *L, Population *pop) {
    for (int i = 0; i < L->npl; i++)
        if (L->pl[i].pop == pop) return &L->pl[i];
    return NULL;
}

static Population *selector_pop(Scope *scope, AstNode *sel, Lower *L) {
    const char *name = sel->kind == AST_MEMBER ? arena_printf(L->a, "%s.%s", sel->a->name, sel->name) : sel->name;
    Sym *s = sema_lookup(scope, name);
    return s ? s->data : NULL;
}

static AstNode *clause_of(AstNode *n, int k) {
    for (int i = 0; i < n->items.n; i++)
        if (n->items.v[i]->kind == AST_CLAUSE && n->items.v[i]->op == k) return n->items.v[i];
    return NULL;
}

static AstNode *decl_named(Lower *L, AstNode *ref) {
    Sym *s = sema_lookup(&L->p->global, ref->name);
    return s && s->kind == SYM_DECL ? s->decl : NULL;
}

/* First pass: the receptor instances every population needs. */
static void collect_receptors(Lower *L) {
    for (int i = 0; i < L->net->nitems; i++) {
        NetItem *ni = &L->net->items[i];
        AstNode *it = ni->node;
        if (it->kind != AST_CONNECT && it->kind != AST_INPUT) continue;
        Population *dst = selector_pop(ni->scope, it->kind == AST_CONNECT ? it->b : it->b, L);
        PopLow *pl = dst ? pop_low(L, dst) : NULL;
        if (!pl) continue;
        AstNode *via = clause_of(it, CL_VIA), *onto = clause_of(it, CL_ONTO);
        if (it->kind == AST_INPUT && it->op == INPUT_CURRENT) {
            rec_instance(L, pl, NULL, target_port(pl, onto, NULL), arena_printf(L->a, "current:%s", it->name));
            continue;
        }
        AstNode *receptor = via ? decl_named(L, via->a) : NULL;
        if (receptor) rec_instance(L, pl, receptor, target_port(pl, onto, receptor), NULL);
    }
}

static void state_vars(LCtx *c0, Scope *scope, RtVarDesc *out, int *n) {
    LCtx ic = *c0, *c = &ic;
    ic.initial = true;   /* a parameter changed during the run starts at its base value */
    for (int i = 0; i < scope->n; i++) {
        Sym *s = scope->v[i];
        if (s->kind != SYM_STATE) continue;
        RtVarDesc *v = &out[(*n)++];
        v->name = qualified(c, s->name);
        v->unit = sym_unit(c->L, s);
        AstNode *ov = find_override(c->pl, c->rec, s->name);
        if (ov) {
            v->init = net_dist(c->L, c->L->net->scope, ov->a);
            continue;
        }
        MirExpr *init = fold(c, lower_expr(c, s->decl->a));
        if (init->op != MX_CONST) unsupported(c->L, s->decl->a->span, "an initial value that differs per neuron");
        v->init = (RtDist){RT_DIST_CONST, init->value, 0};
    }
}

static int clamp_slots(LCtx *c, AstNode *refr, int **out) {
    *out = ARENA_ARRAY(c->L->a, int, refr->items2.n + 1);
    int n = 0;
    for (int i = 0; i < refr->items2.n; i++) {
        Sym *s = sema_lookup_local(c->scope, refr->items2.v[i]->name);
        if (s) (*out)[n++] = state_slot(c, s);
    }
    return n;
}

static MirMethod method_of(const char *name) {
    static const struct { const char *n; MirMethod m; } map[] = {
        {"euler", MM_EULER}, {"rk2", MM_RK2}, {"rk4", MM_RK4}, {"exponential_euler", MM_EXPONENTIAL_EULER},
        {"exact", MM_EXACT}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(map[i].n, name)) return map[i].m;
    return MM_AUTO;
}

/* Adds the ODEs and `on spike` handlers of a body to the MirPop. */
static void lower_body_dynamics(LCtx *c, AstNode *body, MirPop *mp, int *node) {
    for (int i = 0; i < body->items.n; i++) {
        AstNode *it = body->items.v[i];
        if (it->kind == AST_ODE) {
            Sym *s = sema_lookup_local(c->scope, it->name);
            mp->odes[*node] = (MirOde){.state = state_slot(c, s), .rhs = lower_expr(c, it->a), .span = it->span};
            (*node)++;
        } else if (it->kind == AST_ON && it->op == EV_SPIKE && c->rec) {
            Scope *h = sema_scope_new(c->L->p, c->scope, c->scope->owner);
            if (it->items2.n == 1) {
                Sym *w = sema_declare(c->L->p, h, it->items2.v[0]->name, SYM_WEIGHT, it->items2.v[0], it->span);
                if (w) w->resolving = 2;
            }
            LCtx hc = *c;
            hc.scope = h;
            lower_block(&hc, &it->items, &mp->on_input);
        } else if (it->kind == AST_METHOD) {
            mp->method_hint = method_of(it->name);
        }
    }
}

static int count_odes(AstNode *body) {
    int n = 0;
    for (int i = 0; i < body->items.n; i++) n += body->items.v[i]->kind == AST_ODE;
    return n;
}

/* ---- the balance monitor's inputs ([S-net-4]) ----
 * A population recorded by `record balance` gets two more states,
 * balance.I_E and balance.I_I (after the receptors' states). At the end of
 * on_input, i.e. with the values the step's integration starts from (after
 * the step's arrivals), I_E = the sum of the receptor currents that are
 * positive (depolarizing) this step and I_I = the sum of the negative ones,
 * over every receptor instance on every port; injected currents count in
 * neither. */

static void add_balance_states(Lower *L, PopLow *pl, int slot) {
    Sym *isyn = sema_lookup_local(pl->nscope, "I_syn");
    const char *unit = isyn ? sym_unit(L, isyn) : "A";
    pl->bal_ie = slot;
    pl->svars[slot] = (RtVarDesc){"balance.I_E", unit, {RT_DIST_CONST, 0, 0}};
    pl->svars[slot + 1] = (RtVarDesc){"balance.I_I", unit, {RT_DIST_CONST, 0, 0}};
    pl->nsvars = slot + 2;
}

static void add_balance_updates(Lower *L, PopLow *pl) {
    Arena *a = L->a;
    MirExpr *pos = mir_const(a, 0), *neg = mir_const(a, 0), *zero = mir_const(a, 0);
    for (int i = 0; i < pl->nrecs; i++) {
        RecInst *r = &pl->recs[i];
        AstNode *current = NULL;
        for (int j = 0; r->receptor && j < r->receptor->items.n; j++)
            if (r->receptor->items.v[j]->kind == AST_CURRENT) current = r->receptor->items.v[j];
        if (!current) continue;
        LCtx in = {.L = L, .pl = pl, .scope = r->scope, .rec = r};
        MirExpr *cur = lower_expr(&in, current->a);
        pos = mir_binary(a, MX_ADD, pos, mir_call(a, MF_MAX, 2, (MirExpr *[]){cur, zero}));
        neg = mir_binary(a, MX_ADD, neg, mir_call(a, MF_MIN, 2, (MirExpr *[]){cur, zero}));
    }
    mir_push(a, &pl->mp->on_input, mir_set(a, pl->bal_ie, fold(&(LCtx){.L = L}, pos)));
    mir_push(a, &pl->mp->on_input, mir_set(a, pl->bal_ie + 1, fold(&(LCtx){.L = L}, neg)));
}

static void lower_population(Lower *L, PopLow *pl) {
    AstNode *neuron = pl->pop->type;
    MirPop *mp = pl->mp;
    LCtx nc = {.L = L, .pl = pl, .scope = pl->nscope, .rec = NULL, .syn = NULL};
    int nstates = count_states(pl->nscope), nodes = count_odes(neuron);
    for (int i = 0; i < pl->nrecs; i++) {
        pl->recs[i].state0 = nstates;
        if (pl->recs[i].receptor) {
            nstates += count_states(pl->recs[i].scope);
            nodes += count_odes(pl->recs[i].receptor);
        }
    }
    mp->name = pl->pop->name;
    mp->size = pl->pop->size;
    int nbal = pl->balance ? 2 : 0;
    mp->nstates = nstates + nbal;
    mp->states = ARENA_ARRAY(L->a, MirVar, nstates + nbal + 1);
    mp->odes = ARENA_ARRAY(L->a, MirOde, nodes + 1);
    pl->svars = ARENA_ARRAY(L->a, RtVarDesc, nstates + nbal + 1);
    state_vars(&nc, pl->nscope, pl->svars, &pl->nsvars);
    for (int i = 0; i < pl->nrecs; i++) {
        if (!pl->recs[i].receptor) continue;
        LCtx rc = {.L = L, .pl = pl, .scope = pl->recs[i].scope, .rec = &pl->recs[i], .syn = NULL};
        state_vars(&rc, rc.scope, pl->svars, &pl->nsvars);
    }
    if (pl->balance) add_balance_states(L, pl, nstates);
    int k = 0;
    lower_body_dynamics(&nc, neuron, mp, &k);
    for (int i = 0; i < pl->nrecs; i++) {
        if (!pl->recs[i].receptor) continue;
        LCtx rc = {.L = L, .pl = pl, .scope = pl->recs[i].scope, .rec = &pl->recs[i], .syn = NULL};
        lower_body_dynamics(&rc, pl->recs[i].receptor, mp, &k);
    }
    mp->nodes = k;
    for (int i = 0; i < neuron->items.n; i++) {
        AstNode *it = neuron->items.v[i];
        if (it->kind == AST_SPIKE) {
            mp->threshold = lower_expr(&nc, it->a);
            lower_block(&nc, &it->items, &mp->reset);
        } else if (it->kind == AST_REFRACTORY) {
            MirExpr *d = fold(&nc, lower_expr(&nc, it->a));
            if (d->op != MX_CONST) unsupported(L, it->a->span, "a refractory period that differs per neuron");
            mp->refractory_s = d->value;
            mp->nclamped = clamp_slots(&nc, it, &mp->clamped);
        } else if (it->kind == AST_EVERY) {
            unsupported(L, it->span, "'every' in a neuron");
        }
    }
    if (pl->balance) add_balance_updates(L, pl);
    for (int i = 0; i < mp->nstates; i++) {
        mp->states[i].name = pl->svars[i].name;
        mp->states[i].unit = pl->svars[i].unit;
        mp->states[i].init_const = pl->svars[i].init.a;
    }
    mp->nparams = pl->npvars;
    mp->params = ARENA_ARRAY(L->a, MirVar, pl->npvars + 1);
    for (int i = 0; i < pl->npvars; i++) {
        mp->params[i].name = pl->pvars[i].name;
        mp->params[i].unit = pl->pvars[i].unit;
    }
    mp->ninputs = pl->nrecs;
    mp->input_names = ARENA_ARRAY(L->a, const char *, pl->nrecs + 1);
    for (int i = 0; i < pl->nrecs; i++) mp->input_names[i] = pl->recs[i].label;
}

/* ---- descriptor: populations, projections, inputs, recordings, events ---- */

static int pop_index(Lower *L, Population *pop) {
    PopLow *pl = pop ? pop_low(L, pop) : NULL;
    return pl ? pl->index : -1;
}

static void range_of(Lower *L, Scope *scope, AstNode *sel, int64_t *begin, int64_t *end) {
    *begin = 0;
    *end = -1;
    if (sel->kind != AST_RANGE) return;
    *begin = (int64_t)net_value(L, scope, sel->a);
    *end = (sel->b ? (int64_t)net_value(L, scope, sel->b) : *begin) + 1;
}

/* ---- plastic projections: synapse models and plasticity rules ----
 *
 * A connection with `synapse S(...)` and/or `with R(...)` becomes a MirSyn
 * (mir_syn.h): one variable table for both bodies (w, the elapsed time, the
 * delivered efficacy, then the states of S and of R, then the traces and
 * rate estimates of R, then `pre.X` / `post.X` neuron states as they are
 * read), the ODEs of the states, and the on_pre / on_post / every blocks:
 * S's handler before R's, with bounds or Dale's law appended. */

struct SynLow {
    MirSyn *ms;
    PopLow *pre, *post;
    AstNode *calls[2];      /* the `synapse` and `with` calls (overrides), or NULL */
    Sym **syms;             /* [vars] the symbol a variable stands for, or NULL */
    int cap_vars;
    int depth;              /* parameter chain depth */
};

/* Appends a variable to the table; returns its slot. */
static int syn_add_var(Lower *L, SynLow *sl, const char *name, const char *unit, MirSynVarKind kind, int index,
                       Sym *sym) {
    MirSyn *ms = sl->ms;
    if (ms->nvars == sl->cap_vars) {
        int cap = sl->cap_vars ? 2 * sl->cap_vars : 8;
        ms->vars = arena_grow(L->a, ms->vars, (size_t)ms->nvars, (size_t)cap, sizeof *ms->vars);
        sl->syms = arena_grow(L->a, sl->syms, (size_t)ms->nvars, (size_t)cap, sizeof *sl->syms);
        sl->cap_vars = cap;
    }
    ms->vars[ms->nvars] = (MirSynVar){name, unit, kind, index, {RT_DIST_CONST, 0, 0}};
    sl->syms[ms->nvars] = sym;
    return ms->nvars++;
}

/* The call (`synapse S(...)` or `with R(...)`) of the body that declares `s`. */
static AstNode *syn_call_of(SynLow *sl, Sym *s) {
    for (int i = 0; i < 2; i++)
        if (sl->calls[i] && s->home && s->home->owner && !strcmp(sl->calls[i]->name, s->home->owner->name))
            return sl->calls[i];
    return NULL;
}

static AstNode *call_override(AstNode *call, const char *name) {
    for (int i = call ? call->items.n - 1 : -1; i >= 0; i--)
        if (call->items.v[i]->kind == AST_ARG && !strcmp(call->items.v[i]->name, name)) return call->items.v[i];
    return NULL;
}

/* A parameter of a synapse model or rule: the connection's override or the
 * declared value, folded to a constant. */
static MirExpr *syn_param(LCtx *c, Sym *s, SrcSpan at) {
    AstNode *ov = call_override(syn_call_of(c->syn, s), s->name);
    if (ov && is_dist_call(ov->a)) {
        unsupported(c->L, ov->span, "a synapse parameter drawn per synapse");
        return mir_const(c->L->a, 0);
    }
    if (ov) return mir_const(c->L->a, net_value(c->L, c->L->net->scope, ov->a));
    if (++c->syn->depth > 64) {
        unsupported(c->L, at, "a parameter chain this deep");
        return mir_const(c->L->a, 0);
    }
    LCtx home = *c;
    home.scope = s->home;
    MirExpr *v = fold(c, lower_expr(&home, s->decl->a));
    c->syn->depth--;
    return v;
}

static int syn_slot_of(SynLow *sl, Sym *s) {
    if (s->kind == SYM_WEIGHT) return sl->ms->w_slot;
    for (int i = 0; i < sl->ms->nvars; i++)
        if (sl->syms[i] == s) return i;
    return -1;
}

static MirExpr *syn_leaf(LCtx *c, Sym *s, SrcSpan at) {
    int slot = syn_slot_of(c->syn, s);
    if (slot < 0) {
        unsupported(c->L, at, arena_printf(c->L->a, "'%s' in this place", s->name));
        return mir_const(c->L->a, 0);
    }
    return mir_leaf(c->L->a, MX_STATE, slot);
}

/* Slot written by `name = ...` in a synapse or rule body, or -1. */
static int syn_target_slot(LCtx *c, Sym *s) {
    if (s->kind != SYM_STATE && s->kind != SYM_WEIGHT) return -1;
    int slot = syn_slot_of(c->syn, s);
    if (slot == c->syn->ms->w_slot) c->syn->ms->plastic_w = true;
    return slot;
}

/* `pre.X` / `post.X`: a state of the presynaptic or postsynaptic neuron,
 * read only (sema forbids writes). */
static MirExpr *syn_member(LCtx *c, AstNode *e) {
    AstNode *obj = e->a;
    bool is_post = obj->kind == AST_NAME && !strcmp(obj->name, "post");
    if (obj->kind != AST_NAME || (!is_post && strcmp(obj->name, "pre"))) {
        unsupported(c->L, e->span, "reading a modulator or context in a synapse or plasticity rule");
        return mir_const(c->L->a, 0);
    }
    PopLow *pl = is_post ? c->syn->post : c->syn->pre;
    Sym *s = pl ? sema_lookup_local(pl->nscope, e->name) : NULL;
    if (!s || s->kind != SYM_STATE) {
        unsupported(c->L, e->span, arena_printf(c->L->a, "reading '%s.%s' (only states of the neuron can be read)",
                                                obj->name, e->name));
        return mir_const(c->L->a, 0);
    }
    LCtx nc = {.L = c->L, .pl = pl, .scope = pl->nscope, .rec = NULL, .syn = NULL};
    int index = state_slot(&nc, s);
    MirSynVarKind kind = is_post ? MSV_POST_STATE : MSV_PRE_STATE;
    for (int i = 0; i < c->syn->ms->nvars; i++)
        if (c->syn->ms->vars[i].kind == kind && c->syn->ms->vars[i].index == index) return mir_leaf(c->L->a, MX_STATE, i);
    int slot = syn_add_var(c->L, c->syn, arena_printf(c->L->a, "%s.%s", obj->name, e->name), sym_unit(c->L, s), kind,
                           index, NULL);
    return mir_leaf(c->L->a, MX_STATE, slot);
}

/* `deliver e`: adds e to the efficacy this presynaptic event delivers. */
static void syn_deliver(LCtx *c, AstNode *st, MirBlock *out) {
    MirSyn *ms = c->syn->ms;
    ms->has_deliver = true;
    MirExpr *sum = mir_binary(c->L->a, MX_ADD, mir_leaf(c->L->a, MX_STATE, ms->deliver_slot), lower_expr(c, st->a));
    mir_push(c->L->a, out, mir_set(c->L->a, ms->deliver_slot, sum));
}

static double syn_const(LCtx *c, AstNode *e, const char *what) {
    MirExpr *v = fold(c, lower_expr(c, e));
    if (v->op != MX_CONST) unsupported(c->L, e->span, what);
    return v->op == MX_CONST ? v->value : 0;
}

/* Declares the states (MSV_SYN), traces and rate estimates of a body. */
static void syn_collect(LCtx *c, AstNode *decl) {
    SynLow *sl = c->syn;
    AstNode *call = decl->kind == AST_SYNAPSE ? sl->calls[0] : sl->calls[1];
    for (int i = 0; i < c->scope->n; i++) {
        Sym *s = c->scope->v[i];
        if (s->kind != SYM_STATE) continue;
        int slot = syn_add_var(c->L, sl, s->name, sym_unit(c->L, s), MSV_SYN, sl->ms->nsynvars++, s);
        AstNode *ov = call_override(call, s->name);
        RtDist init = {RT_DIST_CONST, 0, 0};
        if (ov) init = net_dist(c->L, c->L->net->scope, ov->a);
        else init.a = syn_const(c, s->decl->a, "an initial value that differs per synapse");
        sl->ms->vars[slot].init = init;
    }
    for (int i = 0; i < decl->items.n; i++) {
        AstNode *it = decl->items.v[i];
        if (it->kind != AST_TRACE && it->kind != AST_RATE) continue;
        Sym *s = sema_lookup_local(c->scope, it->name);
        MirTrace tr = {it->name, it->op == EV_POST, (it->flags & AST_F_SET) != 0, it->kind == AST_RATE, 0, 0};
        tr.tau = syn_const(c, it->a, "a trace time constant that differs per synapse");
        tr.inc = it->kind == AST_RATE ? 1.0 / tr.tau : syn_const(c, it->b, "a trace increment that differs per synapse");
        MirSyn *ms = sl->ms;
        ms->traces = arena_grow(c->L->a, ms->traces, (size_t)ms->ntraces, (size_t)ms->ntraces + 1, sizeof *ms->traces);
        ms->traces[ms->ntraces] = tr;
        syn_add_var(c->L, sl, it->name, s ? sym_unit(c->L, s) : "1", tr.post ? MSV_TRACE_POST : MSV_TRACE_PRE,
                    ms->ntraces++, s);
    }
}

/* Appends the weight constraint after a handler that changed w (w0: temp
 * holding w before it). Hard bounds clip to [lo, hi]. Soft bounds scale the
 * change dw = w - w0 by (hi - w0)/(hi - lo) when it potentiates and by
 * (w0 - lo)/(hi - lo) when it depresses, then clip. Without bounds, Dale's
 * law: a weight never changes sign (w0 >= 0 gives max(w, 0), else min(w, 0)). */
static void syn_constrain(Lower *L, MirSyn *ms, MirBlock *blk, int w0_temp) {
    Arena *a = L->a;
    MirExpr *w = mir_leaf(a, MX_STATE, ms->w_slot), *w0 = mir_leaf(a, MX_TEMP, w0_temp), *zero = mir_const(a, 0);
    MirExpr *nw;
    if (ms->has_bounds) {
        MirExpr *lo = mir_const(a, ms->lo), *hi = mir_const(a, ms->hi);
        if (ms->soft) {
            MirExpr *dw = mir_binary(a, MX_SUB, w, w0), *range = mir_const(a, ms->hi - ms->lo);
            MirExpr *up = mir_binary(a, MX_DIV, mir_binary(a, MX_MUL, dw, mir_binary(a, MX_SUB, hi, w0)), range);
            MirExpr *down = mir_binary(a, MX_DIV, mir_binary(a, MX_MUL, dw, mir_binary(a, MX_SUB, w0, lo)), range);
            w = mir_binary(a, MX_ADD, w0, mir_select(a, mir_binary(a, MX_GT, dw, zero), up, down));
        }
        nw = mir_call(a, MF_CLIP, 3, (MirExpr *[]){w, lo, hi});
    } else {
        MirExpr *keep_pos = mir_call(a, MF_MAX, 2, (MirExpr *[]){w, zero});
        MirExpr *keep_neg = mir_call(a, MF_MIN, 2, (MirExpr *[]){w, zero});
        nw = mir_select(a, mir_binary(a, MX_GE, w0, zero), keep_pos, keep_neg);
    }
    mir_push(a, blk, mir_set(a, ms->w_slot, nw));
}

static AstNode *syn_handler(AstNode *decl, int ev) {
    for (int i = 0; decl && i < decl->items.n; i++)
        if (decl->items.v[i]->kind == AST_ON && decl->items.v[i]->op == ev) return decl->items.v[i];
    return NULL;
}

/* The block run for one synapse on event `ev` (EV_PRE, EV_POST) or, with
 * every != NULL, every period: w0 = w; on pre the efficacy starts at 0 (a
 * synapse model delivers) or w; the synapse model's handler, then the
 * rule's; the weight constraint if w was written. Returns false when
 * neither body handles the event. */
static bool syn_event(LCtx *cx, AstNode **decls, int ev, AstNode *every, MirBlock *out) {
    Lower *L = cx[0].L ? cx[0].L : cx[1].L;
    MirSyn *ms = (cx[0].syn ? cx[0].syn : cx[1].syn)->ms;
    MirBlock h = {0};
    bool before = ms->plastic_w, any = false;
    ms->plastic_w = false;
    for (int k = 0; k < 2; k++) {
        AstNode *on = every ? (k == 1 ? every : NULL) : syn_handler(decls[k], ev);
        if (!on) continue;
        any = true;
        lower_block(&cx[k], &on->items, &h);
    }
    bool wrote = ms->plastic_w;
    ms->plastic_w |= before;
    if (!any && ev != EV_PRE) return false;
    int w0 = ms->ntemps++;
    mir_push(L->a, out, mir_let(L->a, w0, mir_leaf(L->a, MX_STATE, ms->w_slot)));
    if (ev == EV_PRE && !every)
        mir_push(L->a, out, mir_set(L->a, ms->deliver_slot,
                                    ms->has_deliver ? mir_const(L->a, 0) : mir_leaf(L->a, MX_STATE, ms->w_slot)));
    for (int i = 0; i < h.n; i++) mir_push(L->a, out, h.v[i]);
    if (wrote) syn_constrain(L, ms, out, w0);
    return true;
}

/* ODEs, bounds and the `every` period of a body. Returns its `every` block. */
static AstNode *syn_body_items(LCtx *c, AstNode *decl) {
    MirSyn *ms = c->syn->ms;
    AstNode *every = NULL;
    for (int i = 0; i < decl->items.n; i++) {
        AstNode *it = decl->items.v[i];
        if (it->kind == AST_ODE) {
            Sym *s = sema_lookup_local(c->scope, it->name);
            ms->odes = arena_grow(c->L->a, ms->odes, (size_t)ms->nodes, (size_t)ms->nodes + 1, sizeof *ms->odes);
            ms->odes[ms->nodes++] = (MirOde){.state = syn_slot_of(c->syn, s), .rhs = lower_expr(c, it->a), .span = it->span};
        } else if (it->kind == AST_BOUNDS) {
            ms->has_bounds = true;
            ms->soft = (it->flags & AST_F_SOFT) != 0;
            ms->lo = syn_const(c, it->a, "a weight bound that differs per synapse");
            ms->hi = syn_const(c, it->b, "a weight bound that differs per synapse");
            if (!(ms->lo < ms->hi)) unsupported(c->L, it->span, "weight bounds with lower >= upper");
        } else if (it->kind == AST_EVERY) {
            if (every) unsupported(c->L, it->span, "a second 'every' block in one rule");
            every = it;
            ms->every_s = syn_const(c, it->a, "an 'every' period that differs per synapse");
        }
    }
    return every;
}

/* The table of the kernels' shape for ode.c and the emitter. */
static void syn_shape(Lower *L, MirSyn *ms) {
    MirPop *p = &ms->shape;
    p->name = ms->name;
    p->size = 1;
    p->nstates = ms->nvars;
    p->states = ARENA_ARRAY(L->a, MirVar, ms->nvars + 1);
    for (int i = 0; i < ms->nvars; i++)
        p->states[i] = (MirVar){ms->vars[i].name, ms->vars[i].unit, ms->vars[i].init.a};
    p->odes = ms->odes;
    p->nodes = ms->nodes;
    p->ntemps = ms->ntemps;
}

/* Does `e` read w, the efficacy or a temporary (values that may differ
 * between the synapses of one row)? */
static bool reads_synapse_value(const MirSyn *ms, const MirExpr *e) {
    if (e->op == MX_TEMP) return true;
    if (e->op == MX_STATE) return e->slot == ms->w_slot || e->slot == ms->deliver_slot;
    for (int i = 0; i < e->nargs; i++)
        if (reads_synapse_value(ms, e->args[i])) return true;
    return false;
}

/* Per-pre state is updated once per arrival for the whole row, so its
 * updates must be the same for every synapse of the row. */
static bool per_pre_block_ok(const MirSyn *ms, const MirBlock *b) {
    for (int i = 0; i < b->n; i++) {
        const MirStmt *st = b->v[i];
        if (st->kind == MIR_IF && (reads_synapse_value(ms, st->value) || !per_pre_block_ok(ms, &st->then) ||
                                   !per_pre_block_ok(ms, &st->else_)))
            return false;
        if (st->kind == MIR_SET && ms->vars[st->slot].kind == MSV_SYN && reads_synapse_value(ms, st->value))
            return false;
    }
    return true;
}

static void syn_check_per_pre(Lower *L, const MirSyn *ms, AstNode *sc, AstNode *wc) {
    if (wc) unsupported(L, wc->span, "a plasticity rule on a synapse model with state per presynaptic neuron");
    if (ms->has_on_post) unsupported(L, sc->span, "'on post' in a synapse model with state per presynaptic neuron");
    if (!per_pre_block_ok(ms, &ms->on_pre))
        unsupported(L, sc->span, "a per-presynaptic-neuron state updated from 'w' or from what is delivered");
}

/* Lowers the synapse model and plasticity rule of connection `ni` (if any)
 * into a new MirSyn for projection `proj`. */
static MirSyn *lower_syn(Lower *L, NetItem *ni, int proj, Population *src, Population *dst) {
    AstNode *it = ni->node, *sc = clause_of(it, CL_SYNAPSE), *wc = clause_of(it, CL_WITH);
    if (!sc && !wc) return NULL;
    GROW(L, L->syns, L->nsyns, L->cap_syns);
    MirSyn *ms = &L->syns[L->nsyns++];
    memset(ms, 0, sizeof *ms);
    SynLow sl = {.ms = ms, .pre = pop_low(L, src), .post = pop_low(L, dst)};
    AstNode *decls[2] = {sc ? decl_named(L, sc->a) : NULL, wc ? decl_named(L, wc->a) : NULL};
    sl.calls[0] = sc ? sc->a : NULL;
    sl.calls[1] = wc ? wc->a : NULL;
    ms->name = arena_printf(L->a, "%s->%s", src->name, dst->name);
    ms->proj = proj;
    ms->synapse = decls[0] ? decls[0]->name : NULL;
    ms->rule = decls[1] ? decls[1]->name : NULL;
    LCtx cx[2] = {{0}, {0}};
    const char *wunit = "1";
    for (int k = 0; k < 2; k++) {
        if (!decls[k]) continue;
        cx[k] = (LCtx){.L = L, .pl = sl.post, .scope = sema_body_scope(L->p, decls[k]), .rec = NULL, .syn = &sl};
        Sym *w = sema_lookup_local(cx[k].scope, "w");
        if (w) wunit = sym_unit(L, w);
        if (decls[k]->flags & AST_F_PER_PRE) ms->per_pre = true;
    }
    ms->w_slot = syn_add_var(L, &sl, "w", wunit, MSV_WEIGHT, 0, NULL);
    ms->elapsed_slot = syn_add_var(L, &sl, "elapsed", "s", MSV_ELAPSED, 0, NULL);
    ms->deliver_slot = syn_add_var(L, &sl, "deliver", wunit, MSV_DELIVER, 0, NULL);
    for (int k = 0; k < 2; k++)
        if (decls[k]) syn_collect(&cx[k], decls[k]);
    AstNode *every = NULL;
    for (int k = 0; k < 2; k++)
        if (decls[k]) {
            AstNode *e = syn_body_items(&cx[k], decls[k]);
            if (e) every = e;
        }
    syn_event(cx, decls, EV_PRE, NULL, &ms->on_pre);
    ms->has_on_post = syn_event(cx, decls, EV_POST, NULL, &ms->on_post);
    ms->has_every = every && syn_event(cx, decls, EV_NONE, every, &ms->every);
    ms->syn_clock = ms->nodes && (ms->has_on_post || ms->has_every);
    if (ms->syn_clock && ms->per_pre)
        unsupported(L, it->span, "a per-presynaptic-neuron state with an ODE together with 'on post' or 'every'");
    if (ms->per_pre) syn_check_per_pre(L, ms, sc, wc);
    syn_shape(L, ms);
    return ms;
}

static void lower_connect(Lower *L, NetItem *ni, RtProjDesc *pd, int proj) {
    AstNode *it = ni->node;
    if (it->a->kind == AST_RANGE || it->b->kind == AST_RANGE)
        unsupported(L, it->span, "a connection from or to a neuron range");
    Population *src = selector_pop(ni->scope, it->a, L), *dst = selector_pop(ni->scope, it->b, L);
    PopLow *pl = pop_low(L, dst);
    AstNode *via = clause_of(it, CL_VIA), *onto = clause_of(it, CL_ONTO), *c;
    AstNode *receptor = decl_named(L, via->a);
    pd->name = arena_printf(L->a, "%s->%s", src->name, dst->name);
    pd->pre = pop_index(L, src);
    pd->post = pl->index;
    pd->receptor = rec_instance(L, pl, receptor, target_port(pl, onto, receptor), NULL);
    pd->autapses = !(clause_of(it, CL_AUTAPSES) && (clause_of(it, CL_AUTAPSES)->flags & AST_F_NO));
    if ((c = clause_of(it, CL_ALL_TO_ALL))) pd->rule = RT_CONN_ALL_TO_ALL;
    else if ((c = clause_of(it, CL_ONE_TO_ONE))) pd->rule = RT_CONN_ONE_TO_ONE;
    else if ((c = clause_of(it, CL_PROBABILITY))) pd->rule = RT_CONN_PROBABILITY, pd->p = net_value(L, ni->scope, c->a);
    else if ((c = clause_of(it, CL_INDEGREE)))
        pd->rule = RT_CONN_FIXED_INDEGREE, pd->degree = (int64_t)net_value(L, ni->scope, c->a);
    else if ((c = clause_of(it, CL_OUTDEGREE)))
        pd->rule = RT_CONN_FIXED_OUTDEGREE, pd->degree = (int64_t)net_value(L, ni->scope, c->a);
    else if ((c = clause_of(it, CL_FILE))) pd->rule = RT_CONN_FILE, pd->file = c->a->name;
    AstNode *w = clause_of(it, CL_WEIGHT), *d = clause_of(it, CL_DELAY);
    pd->weight = w ? net_dist(L, ni->scope, w->a) : (RtDist){RT_DIST_CONST, 0, 0};
    pd->delay = d ? net_dist(L, ni->scope, d->a) : (RtDist){RT_DIST_CONST, 0, 0};
    if (lower_syn(L, ni, proj, src, dst) && pd->delay.kind != RT_DIST_CONST)
        unsupported(L, d->span, "a delay drawn per synapse in a plastic projection");
}

static void lower_input(Lower *L, NetItem *ni, RtInputDesc *in) {
    AstNode *it = ni->node;
    Population *dst = selector_pop(ni->scope, it->b, L);
    PopLow *pl = pop_low(L, dst);
    AstNode *via = clause_of(it, CL_VIA), *onto = clause_of(it, CL_ONTO);
    in->name = it->name;
    in->post = pl->index;
    range_of(L, ni->scope, it->b, &in->begin, &in->end);
    in->start_s = 0;
    in->stop_s = -1;
    if (it->op == INPUT_CURRENT) {
        in->kind = RT_INPUT_CURRENT;
        in->receptor = rec_instance(L, pl, NULL, target_port(pl, onto, NULL), arena_printf(L->a, "current:%s", it->name));
        in->weight = net_value(L, ni->scope, it->a);
        return;
    }
    if (it->op == INPUT_SPIKES) {
        unsupported(L, it->span, "an input of spike times from a file");
        return;
    }
    AstNode *receptor = decl_named(L, via->a), *w = clause_of(it, CL_WEIGHT);
    in->kind = RT_INPUT_POISSON;
    in->receptor = rec_instance(L, pl, receptor, target_port(pl, onto, receptor), NULL);
    in->n_sources = it->a ? (int64_t)net_value(L, ni->scope, it->a) : 1;
    in->rate_hz = net_value(L, ni->scope, clause_of(it, CL_RATE)->a);
    if (is_dist_call(w->a)) unsupported(L, w->span, "a random weight of an input");
    in->weight = net_value(L, ni->scope, w->a);
}

static int64_t steps_of(Lower *L, Scope *scope, AstNode *cl, double dt, int64_t dflt) {
    if (!cl) return dflt;
    int64_t n = (int64_t)llround(net_value(L, scope, cl->a) / dt);
    return n < 1 ? 1 : n;
}

typedef struct DescBuild {
    RtProjDesc *projs;  int nprojs, cap_projs;
    RtInputDesc *inputs; int ninputs, cap_inputs;
    RtRecDesc *recs;    int nrecs, cap_recs;
    RtEventDesc *events; int nevents, cap_events;
} DescBuild;

static const char *rec_file(Lower *L, DescBuild *b, const char *pop, const char *what) {
    const char *base = arena_printf(L->a, "%s_%s", pop, what);
    const char *name = arena_printf(L->a, "%s.npy", base);
    for (int k = 2;; k++) {
        bool taken = false;
        for (int i = 0; i < b->nrecs; i++) taken |= !strcmp(b->recs[i].file, name);
        if (!taken) return name;
        name = arena_printf(L->a, "%s_%d.npy", base, k);
    }
}

static void lower_record(Lower *L, NetItem *ni, DescBuild *b, double dt) {
    AstNode *it = ni->node;
    int64_t every = steps_of(L, ni->scope, clause_of(it, CL_EVERY), dt, 1);
    for (int i = 0; i < it->items.n; i++) {
        AstNode *of = it->items.v[i];
        if (of->kind != AST_CLAUSE || of->op != CL_OF) continue;
        Population *pop = selector_pop(ni->scope, of->a, L);
        PopLow *pl = pop_low(L, pop);
        for (int j = 0; j < it->items2.n; j++) {
            const char *what = it->items2.v[j]->name;
            RtRecDesc r = {.pop = pl->index, .every = every};
            range_of(L, ni->scope, of->a, &r.begin, &r.end);
            if (!strcmp(what, "spikes")) {
                r.kind = RT_REC_SPIKES;
            } else if (!strcmp(what, "rate")) {
                r.kind = RT_REC_RATE;
                r.every = steps_of(L, ni->scope, clause_of(it, CL_EVERY), dt, (int64_t)llround(1e-3 / dt));
            } else if (!strcmp(what, "balance")) {
                AstNode *win = clause_of(it, CL_WINDOW), *ev = clause_of(it, CL_EVERY);
                r.kind = RT_REC_BALANCE;
                r.every = steps_of(L, ni->scope, win, dt, (int64_t)llround(50e-3 / dt));
                r.var = pl->bal_ie;
                r.var2 = pl->bal_ie + 1;
                if (ev && steps_of(L, ni->scope, ev, dt, 1) != r.every)
                    unsupported(L, ev->span, "a balance monitor whose 'every' differs from its window (windows are consecutive)");
            } else {
                r.kind = RT_REC_STATE;
                r.var = -1;
                for (int v = 0; v < pl->nsvars; v++)
                    if (!strcmp(pl->svars[v].name, what)) r.var = v;
                if (r.var < 0) {
                    unsupported(L, it->items2.v[j]->span, "recording a definition or a port current");
                    continue;
                }
            }
            r.file = rec_file(L, b, pop->name, what);
            GROW(L, b->recs, b->nrecs, b->cap_recs);
            b->recs[b->nrecs++] = r;
        }
    }
}

/* ---- the protocol: timed events ([S-net-6], [S-net-9]) ----
 *
 * Every `at T [for D] ACTION` becomes an action at T and, with a duration,
 * its undoing at T + D. The actions are replayed in time order (ties in
 * source order, an undo right after its own item's slot) over a model of
 * what is in effect: the value set for each changeable parameter, the
 * contexts entered with their levels, the rate of each input. After each
 * action every changeable parameter's value (set value times the factors
 * of the entered contexts that scale it) and every projection's gain (the
 * product of the factors scaling it) is recomputed at compile time, and an
 * event is emitted for each that changed. */

typedef struct Action {
    double t;
    int order;
    NetItem *ni;
    bool undo;
} Action;

typedef struct Entered {
    AstNode *ctx;
    Scope *scope;            /* where the `enter` resolves population names */
    Binding *levels; int nlevels;
} Entered;

typedef struct Protocol {
    Lower *L;
    DescBuild *b;
    Entered *in; int nin, cap_in;
    double **setv;           /* [pop][dyn]: the value `set` last gave (base at start) */
    double **emitted;        /* [pop][dyn]: the value in the constant block */
    double *gain;            /* [proj] */
    double *rate;            /* [input] */
    double *prev;            /* [action]: what a `set` replaced, for its undo */
    int key;                 /* silence keys */
} Protocol;

/* The parameter `name` of `pl`'s neuron type, if it is one. */
static Sym *neuron_param(PopLow *pl, const char *name) {
    Sym *s = sema_lookup_local(pl->nscope, name);
    return s && s->kind == SYM_PARAM ? s : NULL;
}

static void dyn_add(Lower *L, PopLow *pl, Sym *s) {
    if (!s || dyn_find(pl, s)) return;
    GROW(L, pl->dyn, pl->ndyn, pl->cap_dyn);
    pl->dyn[pl->ndyn++] = (DynParam){s, -1, 0};
}

static AstNode *context_named(Lower *L, const char *name) {
    Sym *s = sema_lookup(&L->p->global, name);
    return s && s->kind == SYM_DECL && s->decl->kind == AST_CONTEXT ? s->decl : NULL;
}

/* Does the scale target `t` (POP.param or Type.param, resolved in `scope`)
 * name population `pl`? */
static bool scales_pop(Lower *L, Scope *scope, AstNode *t, PopLow *pl) {
    if (t->kind != AST_MEMBER || !t->a || t->a->kind != AST_NAME) return false;
    Sym *owner = sema_lookup(scope, t->a->name);
    if (owner && owner->kind == SYM_POPULATION) return owner->data == pl->pop;
    return owner && owner->kind == SYM_DECL && owner->decl == pl->pop->type && L;
}

/* The populations a `record balance of ...` names get the balance states. */
static void mark_balance(Lower *L, NetItem *ni) {
    bool any = false;
    for (int j = 0; j < ni->node->items2.n; j++) any |= !strcmp(ni->node->items2.v[j]->name, "balance");
    for (int i = 0; any && i < ni->node->items.n; i++) {
        AstNode *of = ni->node->items.v[i];
        PopLow *pl = of->kind == AST_CLAUSE && of->op == CL_OF ? pop_low(L, selector_pop(ni->scope, of->a, L)) : NULL;
        if (pl) pl->balance = true;
    }
}

/* Before the populations are lowered: the parameters that `set` events and
 * entered contexts change become constant-block slots. */
static void collect_dynamic(Lower *L) {
    for (int i = 0; i < L->net->nitems; i++) {
        NetItem *ni = &L->net->items[i];
        if (ni->node->kind == AST_RECORD) mark_balance(L, ni);
        AstNode *act = ni->node->kind == AST_AT ? ni->node->c : NULL;
        if (!act) continue;
        if (act->op == ACT_SET && act->a && act->a->kind == AST_MEMBER && act->a->a->kind == AST_NAME) {
            Sym *owner = sema_lookup(ni->scope, act->a->a->name);
            PopLow *pl = owner && owner->kind == SYM_POPULATION ? pop_low(L, owner->data) : NULL;
            if (pl) dyn_add(L, pl, neuron_param(pl, act->a->name));
        } else if (act->op == ACT_ENTER && act->a) {
            AstNode *ctx = context_named(L, act->a->name);
            for (int k = 0; ctx && k < ctx->items.n; k++) {
                AstNode *sc = ctx->items.v[k];
                if (sc->kind != AST_SCALE || !sc->a || sc->a->kind != AST_MEMBER) continue;
                for (int j = 0; j < L->npl; j++)
                    if (scales_pop(L, ni->scope, sc->a, &L->pl[j])) dyn_add(L, &L->pl[j], neuron_param(&L->pl[j], sc->a->name));
            }
        }
    }
}

static void emit_event(Protocol *pr, double t, RtEventKind kind, int target, int index, double value) {
    DescBuild *b = pr->b;
    GROW(pr->L, b->events, b->nevents, b->cap_events);
    b->events[b->nevents++] = (RtEventDesc){t, kind, target, index, value};
}

/* The factor of scale item `sc` of an entered context. */
static double scale_factor(Lower *L, Entered *en, AstNode *sc) {
    return global_const(L, en->ctx, sc->b, en->levels, en->nlevels, NULL,
                        "a context factor that is not constant (it may use levels and constants)");
}

/* Does `sel` (resolved in `scope`) name population index `pop`? */
static bool selects(Lower *L, Scope *scope, AstNode *sel, int pop) {
    Population *p = sel ? selector_pop(scope, sel, L) : NULL;
    return p && pop_index(L, p) == pop;
}

/* Recomputes every changeable parameter and gain; emits what changed. */
static void protocol_apply(Protocol *pr, double t) {
    Lower *L = pr->L;
    for (int i = 0; i < L->npl; i++)
        for (int d = 0; d < L->pl[i].ndyn; d++) {
            DynParam *dp = &L->pl[i].dyn[d];
            double v = pr->setv[i][d];
            for (int e = 0; e < pr->nin; e++)
                for (int k = 0; k < pr->in[e].ctx->items.n; k++) {
                    AstNode *sc = pr->in[e].ctx->items.v[k];
                    if (sc->kind == AST_SCALE && sc->a && sc->a->kind == AST_MEMBER && !strcmp(sc->a->name, dp->sym->name) &&
                        scales_pop(L, pr->in[e].scope, sc->a, &L->pl[i]))
                        v *= scale_factor(L, &pr->in[e], sc);
                }
            if (dp->slot >= 0 && v != pr->emitted[i][d]) emit_event(pr, t, RT_EV_SET_CONST, L->pl[i].index, dp->slot, v);
            pr->emitted[i][d] = v;
        }
    for (int q = 0; q < pr->b->nprojs; q++) {
        const RtProjDesc *pd = &pr->b->projs[q];
        double g = 1;
        for (int e = 0; e < pr->nin; e++)
            for (int k = 0; k < pr->in[e].ctx->items.n; k++) {
                AstNode *sc = pr->in[e].ctx->items.v[k];
                if (sc->kind == AST_SCALE && sc->a && sc->a->kind == AST_PROJECTION &&
                    selects(L, pr->in[e].scope, sc->a->a, pd->pre) && selects(L, pr->in[e].scope, sc->a->b, pd->post))
                    g *= scale_factor(L, &pr->in[e], sc);
            }
        if (g != pr->gain[q]) emit_event(pr, t, RT_EV_SET_GAIN, q, 0, g);
        pr->gain[q] = g;
    }
}

/* enter CTX(level = v, ...): the levels are the defaults overridden by the
 * arguments; entering an entered context replaces its levels. exit: leaves. */
static void protocol_context(Protocol *pr, NetItem *ni, AstNode *act, bool enter) {
    Lower *L = pr->L;
    AstNode *ctx = context_named(L, act->a->name);
    if (!ctx) return;
    int at = -1;
    for (int e = 0; e < pr->nin; e++)
        if (pr->in[e].ctx == ctx) at = e;
    if (!enter) {
        if (at >= 0) pr->in[at] = pr->in[--pr->nin];
        return;
    }
    if (at < 0) {
        GROW(L, pr->in, pr->nin, pr->cap_in);
        at = pr->nin++;
    }
    Entered *en = &pr->in[at];
    *en = (Entered){ctx, ni->scope, ARENA_ARRAY(L->a, Binding, act->items.n + 1), 0};
    for (int i = 0; i < act->items.n; i++) {
        AstNode *arg = act->items.v[i];
        if (arg->kind == AST_ARG) en->levels[en->nlevels++] = (Binding){arg->name, net_value(L, ni->scope, arg->a)};
    }
}

/* set INPUT.rate = R or set POP.param = v (undo: the value it replaced). */
static void protocol_set(Protocol *pr, NetItem *ni, AstNode *act, bool undo, int ai, double t) {
    Lower *L = pr->L;
    Sym *owner = sema_lookup(ni->scope, act->a->a->name);
    double v = undo ? pr->prev[ai] : net_value(L, ni->scope, act->b);
    if (owner && owner->kind == SYM_INPUT) {
        int input = -1;
        for (int i = 0; i < pr->b->ninputs; i++)
            if (!strcmp(pr->b->inputs[i].name, owner->name)) input = i;
        if (input < 0 || pr->b->inputs[input].kind != RT_INPUT_POISSON) {
            unsupported(L, act->span, "setting this input");
            return;
        }
        if (!undo) pr->prev[ai] = pr->rate[input];
        pr->rate[input] = v;
        emit_event(pr, t, RT_EV_SET_INPUT_RATE, input, 0, v);
        return;
    }
    PopLow *pl = owner && owner->kind == SYM_POPULATION ? pop_low(L, owner->data) : NULL;
    DynParam *dp = pl ? dyn_find(pl, neuron_param(pl, act->a->name)) : NULL;
    if (!dp) {
        unsupported(L, act->span, "setting this during the run");
        return;
    }
    double *cur = &pr->setv[pl - L->pl][dp - pl->dyn];
    if (!undo) pr->prev[ai] = *cur;
    *cur = v;
}

/* release MOD [AMOUNT]: the modulator's `on release(a)` handler with a =
 * AMOUNT (default 1); `X += k` / `X -= k` become RT_EV_ADD_GLOBAL, `X = k`
 * RT_EV_SET_GLOBAL (k constant, computed here). */
static void protocol_release(Protocol *pr, NetItem *ni, AstNode *act, double t) {
    Lower *L = pr->L;
    AstNode *mod = modulator_named(L, act->a->name), *on = NULL;
    for (int i = 0; mod && i < mod->items.n; i++)
        if (mod->items.v[i]->kind == AST_ON && mod->items.v[i]->op == EV_RELEASE) on = mod->items.v[i];
    if (!on) return;
    Binding amount = {on->items2.n ? on->items2.v[0]->name : "", act->b ? net_value(L, ni->scope, act->b) : 1.0};
    Scope *sc = sema_body_scope(L->p, mod);
    for (int i = 0; i < on->items.n; i++) {
        AstNode *st = on->items.v[i];
        Sym *x = st->kind == AST_ASSIGN && st->a->kind == AST_NAME ? sema_lookup_local(sc, st->a->name) : NULL;
        if (!x || x->kind != SYM_STATE || (st->op != ASSIGN_SET && st->op != ASSIGN_ADD && st->op != ASSIGN_SUB)) {
            unsupported(L, st->span, "this statement in 'on release' (only X = k, X += k, X -= k)");
            continue;
        }
        double k = global_const(L, mod, st->b, &amount, 1, NULL, "a released amount that is not constant");
        int g = global_index(L, mod, x);
        emit_event(pr, t, st->op == ASSIGN_SET ? RT_EV_SET_GLOBAL : RT_EV_ADD_GLOBAL, g, 0, st->op == ASSIGN_SUB ? -k : k);
    }
}

/* silence / lesion POP [fraction F]: the runtime chooses round(F*size)
 * neurons by a key per `at` item; an undo ends that silence. */
static void protocol_silence(Protocol *pr, NetItem *ni, AstNode *act, bool undo, int key, double t) {
    Lower *L = pr->L;
    if (act->a->kind == AST_RANGE) {
        unsupported(L, act->a->span, "silencing a neuron range");
        return;
    }
    int pop = pop_index(L, selector_pop(ni->scope, act->a, L));
    if (pop < 0) return;
    if (undo) {
        if (act->op == ACT_LESION) unsupported(L, act->span, "a lesion with a duration (lesions are permanent)");
        else emit_event(pr, t, RT_EV_UNSILENCE, pop, key, 0);
        return;
    }
    double f = act->b ? net_value(L, ni->scope, act->b) : 1.0;
    emit_event(pr, t, act->op == ACT_LESION ? RT_EV_LESION : RT_EV_SILENCE, pop, key, f);
}

static int action_cmp(const void *x, const void *y) {
    const Action *a = x, *b = y;
    if (a->t != b->t) return a->t < b->t ? -1 : 1;
    return a->order - b->order;
}

static void protocol_run_action(Protocol *pr, Action *ac, int ai) {
    AstNode *act = ac->ni->node->c;
    switch (act->op) {
    case ACT_ENTER: protocol_context(pr, ac->ni, act, !ac->undo); break;
    case ACT_EXIT:
        if (ac->undo) unsupported(pr->L, act->span, "'exit' with a duration");
        else protocol_context(pr, ac->ni, act, false);
        break;
    case ACT_SET:
        if (act->a && act->a->kind == AST_MEMBER && act->a->a->kind == AST_NAME) protocol_set(pr, ac->ni, act, ac->undo, ai, ac->t);
        else unsupported(pr->L, act->span, "this protocol action");
        break;
    case ACT_RELEASE:
        if (ac->undo) unsupported(pr->L, act->span, "'release' with a duration");
        else protocol_release(pr, ac->ni, act, ac->t);
        break;
    case ACT_SILENCE:
    case ACT_LESION: protocol_silence(pr, ac->ni, act, ac->undo, ac->order / 2, ac->t); break;
    }
    protocol_apply(pr, ac->t);
}

/* Builds the events of every `at` item of the network. */
static void lower_protocol(Lower *L, DescBuild *b) {
    Action *acts = ARENA_ARRAY(L->a, Action, 2 * L->net->nitems + 1);
    int n = 0;
    for (int i = 0; i < L->net->nitems; i++) {
        NetItem *ni = &L->net->items[i];
        if (ni->node->kind != AST_AT || !ni->node->c) continue;
        double t = net_value(L, ni->scope, ni->node->a);
        acts[n++] = (Action){t, 2 * i, ni, false};
        if (ni->node->b) acts[n++] = (Action){t + net_value(L, ni->scope, ni->node->b), 2 * i + 1, ni, true};
    }
    qsort(acts, (size_t)n, sizeof *acts, action_cmp);
    Protocol pr = {.L = L, .b = b};
    pr.setv = ARENA_ARRAY(L->a, double *, L->npl + 1);
    pr.emitted = ARENA_ARRAY(L->a, double *, L->npl + 1);
    for (int i = 0; i < L->npl; i++) {
        pr.setv[i] = ARENA_ARRAY(L->a, double, L->pl[i].ndyn + 1);
        pr.emitted[i] = ARENA_ARRAY(L->a, double, L->pl[i].ndyn + 1);
        for (int d = 0; d < L->pl[i].ndyn; d++) pr.setv[i][d] = pr.emitted[i][d] = L->pl[i].dyn[d].base;
    }
    pr.gain = ARENA_ARRAY(L->a, double, b->nprojs + 1);
    for (int q = 0; q < b->nprojs; q++) pr.gain[q] = 1;
    pr.rate = ARENA_ARRAY(L->a, double, b->ninputs + 1);
    for (int k = 0; k < b->ninputs; k++) pr.rate[k] = b->inputs[k].rate_hz;
    pr.prev = ARENA_ARRAY(L->a, double, 2 * L->net->nitems + 1);
    for (int k = 0; k < n; k++) protocol_run_action(&pr, &acts[k], acts[k].order / 2);
}

/* The runtime's description of plastic projection `ms` (kernels still NULL). */
static void fill_plastic_desc(Lower *L, const MirSyn *ms, RtPlasticDesc *pd) {
    RtVarDesc *vars = ARENA_ARRAY(L->a, RtVarDesc, ms->nsynvars + 1);
    int *pre_vars = ARENA_ARRAY(L->a, int, ms->nvars + 1);
    for (int v = 0; v < ms->nvars; v++) {
        const MirSynVar *var = &ms->vars[v];
        if (var->kind == MSV_SYN) vars[var->index] = (RtVarDesc){var->name, var->unit, var->init};
        if (var->kind == MSV_PRE_STATE) pre_vars[pd->npre_vars++] = var->index;
    }
    RtTraceDesc *tr[2] = {ARENA_ARRAY(L->a, RtTraceDesc, ms->ntraces + 1), ARENA_ARRAY(L->a, RtTraceDesc, ms->ntraces + 1)};
    int n[2] = {0, 0};
    for (int k = 0; k < ms->ntraces; k++) {
        const MirTrace *t = &ms->traces[k];
        tr[t->post][n[t->post]++] = (RtTraceDesc){t->name, t->tau, t->inc, t->set ? RT_TRACE_SET : RT_TRACE_ADD};
    }
    pd->nsynvars = ms->nsynvars;
    pd->synvars = vars;
    pd->pre_vars = pre_vars;
    pd->ntraces_pre = n[0], pd->traces_pre = tr[0];
    pd->ntraces_post = n[1], pd->traces_post = tr[1];
    pd->every_s = ms->has_every ? ms->every_s : 0;
    pd->per_pre = ms->per_pre;
    pd->syn_clock = ms->syn_clock;
}

static void fill_plastic(Lower *L, Lowered *out, RtProjDesc *projs) {
    out->syns = L->syns;
    out->nsyns = L->nsyns;
    out->plastic = ARENA_ARRAY(L->a, RtPlasticDesc, L->nsyns + 1);
    for (int k = 0; k < L->nsyns; k++) {
        fill_plastic_desc(L, &L->syns[k], &out->plastic[k]);
        projs[L->syns[k].proj].plastic = &out->plastic[k];
    }
}

static void build_desc(Lower *L, Lowered *out, double dt) {
    DescBuild b = {0};
    for (int i = 0; i < L->net->nitems; i++) {
        NetItem *ni = &L->net->items[i];
        if (ni->node->kind == AST_CONNECT) {
            GROW(L, b.projs, b.nprojs, b.cap_projs);
            memset(&b.projs[b.nprojs], 0, sizeof b.projs[0]);
            lower_connect(L, ni, &b.projs[b.nprojs], b.nprojs);
            b.nprojs++;
        } else if (ni->node->kind == AST_INPUT) {
            GROW(L, b.inputs, b.ninputs, b.cap_inputs);
            memset(&b.inputs[b.ninputs], 0, sizeof b.inputs[0]);
            lower_input(L, ni, &b.inputs[b.ninputs++]);
        }
    }
    for (int i = 0; i < L->net->nitems; i++) {
        NetItem *ni = &L->net->items[i];
        if (ni->node->kind == AST_RECORD) lower_record(L, ni, &b, dt);
    }
    lower_protocol(L, &b);
    RtModelDesc *m = &out->desc;
    m->nprojs = b.nprojs;
    m->projs = b.projs;
    m->ninputs = b.ninputs;
    m->inputs = b.inputs;
    m->nrecs = b.nrecs;
    m->recs = b.recs;
    m->nevents = b.nevents;
    m->events = b.events;
    fill_plastic(L, out, b.projs);
}

static void fill_pop_desc(PopLow *pl, RtPopDesc *pd) {
    pd->name = pl->pop->name;
    pd->size = pl->pop->size;
    pd->kind = RT_POP_NEURON;
    pd->precision = RT_PREC_F64;
    pd->nstates = pl->nsvars;
    pd->states = pl->svars;
    pd->nparams = pl->npvars;
    pd->params = pl->pvars;
    pd->ninputs = pl->nrecs;
    pd->input_names = pl->mp->input_names;
}

/* The constant blocks of the populations (start values of the parameters
 * that change during the run) and the globals (modulator states), whose
 * counts every kernel's MIR carries. */
static void fill_ei(Lower *L, Lowered *out) {
    for (int i = 0; i < L->npl; i++) {
        PopLow *pl = &L->pl[i];
        double *consts = ARENA_ARRAY(L->a, double, pl->nconsts + 1);
        for (int d = 0; d < pl->ndyn; d++)
            if (pl->dyn[d].slot >= 0) consts[pl->dyn[d].slot] = pl->dyn[d].base;
        out->pops[pl->index].nconsts = pl->nconsts;
        out->pops[pl->index].consts = consts;
        pl->mp->nconsts = pl->nconsts;
        pl->mp->nglobals = L->nglobals;
    }
    for (int k = 0; k < L->nsyns; k++) L->syns[k].shape.nglobals = L->nglobals;
    RtGlobalDesc *g = ARENA_ARRAY(L->a, RtGlobalDesc, L->nglobals + 1);
    for (int k = 0; k < L->nglobals; k++) g[k] = L->globals[k].desc;
    out->desc.nglobals = L->nglobals;
    out->desc.globals = g;
}

static AstNode *simulate_clause(Program *p, int k) { return p->simulate ? clause_of(p->simulate, k) : NULL; }

Lowered *lower_program(Program *p) {
    if (!p->simulate) {
        diag_report(p->d, (SrcSpan){0}, DIAG_UNSUPPORTED, "the model has no 'simulate' declaration: nothing to run");
        return NULL;
    }
    Sym *ns = sema_lookup(&p->global, p->simulate->name);
    Lower L = {.p = p, .a = p->a, .d = p->d, .net = ns->decl->sema};
    Lowered *out = ARENA_NEW(p->a, Lowered);
    out->network = ns->decl->name;
    L.npl = L.net->npops;
    L.pl = ARENA_ARRAY(p->a, PopLow, L.npl + 1);
    out->mir.pops = ARENA_ARRAY(p->a, MirPop, L.npl + 1);
    out->mir_pop = ARENA_ARRAY(p->a, int, L.npl + 1);
    for (int i = 0; i < L.npl; i++) {
        PopLow *pl = &L.pl[i];
        pl->pop = L.net->pops[i];
        pl->index = i;
        pl->nscope = pl->pop->type_scope;
        pl->call = pl->pop->decl->b;
        pl->mp = &out->mir.pops[i];
        out->mir_pop[i] = i;
    }
    out->mir.npops = L.npl;
    collect_receptors(&L);
    collect_dynamic(&L);
    for (int i = 0; i < L.npl; i++) lower_population(&L, &L.pl[i]);
    MirMethod hint = MM_AUTO;
    AstNode *mcl = simulate_clause(p, CL_METHOD), *pcl = simulate_clause(p, CL_PRECISION);
    if (mcl) hint = method_of(mcl->a->name);
    out->use_float = pcl && !strcmp(pcl->a->name, "float");
    for (int i = 0; i < L.npl; i++)
        if (out->mir.pops[i].method_hint == MM_AUTO) out->mir.pops[i].method_hint = hint;
    out->mir.dt = p->sim_dt;
    out->pops = ARENA_ARRAY(p->a, RtPopDesc, L.npl + 1);
    for (int i = 0; i < L.npl; i++) fill_pop_desc(&L.pl[i], &out->pops[i]);
    RtModelDesc *m = &out->desc;
    m->abi_version = RT_ABI_VERSION;
    m->name = out->network;
    m->dt = p->sim_dt;
    AstNode *dur = simulate_clause(p, CL_FOR), *seed = simulate_clause(p, CL_SEED);
    m->duration_s = dur ? net_value(&L, &p->global, dur->a) : 1.0;
    m->seed = seed ? (uint64_t)net_value(&L, &p->global, seed->a) : 1;
    m->npops = L.npl;
    m->pops = out->pops;
    build_desc(&L, out, p->sim_dt);
    fill_ei(&L, out);
    diag_flush(p->d);
    return L.failed ? NULL : out;
}

bool lower_plan_odes(Program *p, Lowered *l) {
    bool ok = true;
    for (int i = 0; i < l->mir.npops; i++) {
        l->mir.pops[i].use_float = l->use_float;
        ok &= ode_plan(p->a, &l->mir.pops[i], l->mir.dt, p->d);
    }
    for (int k = 0; k < l->nsyns; k++) {
        MirSyn *ms = &l->syns[k];
        ms->shape.ntemps = ms->ntemps;
        if (!ode_plan_elapsed(p->a, &ms->shape, ms->elapsed_slot, l->mir.dt, p->d)) {
            ok = false;
            continue;
        }
        ms->decay = ms->shape.step;
        ms->ntemps = ms->shape.ntemps;
    }
    diag_flush(p->d);
    return ok;
}

/* Lowers one neuron type on its own (no receptors: I_syn = 0) and runs the
 * ODE planner, so that `eic check` reports a `method` a type cannot use
 * whether or not a network simulates it. Constructs lowering cannot handle
 * yet are not reported here (that is `eic run`'s business). */
static bool check_type_odes(Program *p, AstNode *neuron) {
    Diags silent;
    diag_init(&silent, p->d->src, NULL);
    Population pop = {.name = neuron->name, .decl = NULL, .type = neuron, .size = 1};
    pop.type_scope = sema_body_scope(p, neuron);
    CheckedNet net = {0};
    net.scope = &p->global;
    Lower L = {.p = p, .a = p->a, .d = &silent, .net = &net};
    MirPop mp = {0};
    PopLow pl = {.pop = &pop, .nscope = pop.type_scope, .mp = &mp};
    lower_population(&L, &pl);
    if (L.failed || silent.nerrors) return true;
    if (mp.method_hint == MM_AUTO && p->simulate) {
        AstNode *m = clause_of(p->simulate, CL_METHOD);
        if (m) mp.method_hint = method_of(m->a->name);
    }
    return ode_plan(p->a, &mp, p->sim_dt > 0 ? p->sim_dt : 1e-4, p->d);
}

bool lower_check_types(Program *p) {
    bool ok = true;
    for (int i = 0; i < p->nbodies; i++)
        if (p->body_decls[i]->kind == AST_NEURON) ok &= check_type_odes(p, p->body_decls[i]);
    diag_flush(p->d);
    return ok;
}
