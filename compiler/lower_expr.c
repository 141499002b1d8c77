/* lower_expr.c - expressions and statements of neuron and receptor bodies
 * to MIR (lower_int.h).
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
 * Synapse and rule bodies share this code; their names resolve through
 * lower_syn.c (LCtx.syn). Network-level constants (sizes, weights, times)
 * are folded here too (lower_net_value). */
#include "lower_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- constants of the network level ---- */

double lower_net_value(Lower *L, Scope *scope, AstNode *e) {
    Ctx c = {.p = L->p, .scope = scope, .body = BODY_NETWORK, .constant = true, .allow_dist = true};
    Ty t = sema_expr(&c, e);
    return t.value;
}

bool lower_is_dist_call(AstNode *e) {
    return e && e->kind == AST_CALL && (!strcmp(e->name, "uniform") || !strcmp(e->name, "normal"));
}

RtDist lower_net_dist(Lower *L, Scope *scope, AstNode *e) {
    if (lower_is_dist_call(e)) {
        RtDist d = {!strcmp(e->name, "uniform") ? RT_DIST_UNIFORM : RT_DIST_NORMAL, 0, 0};
        d.a = lower_net_value(L, scope, e->items.v[0]);
        d.b = lower_net_value(L, scope, e->items.v[1]);
        return d;
    }
    return (RtDist){RT_DIST_CONST, lower_net_value(L, scope, e), 0};
}

/* ---- expressions ---- */


MirExpr *lower_fold(LCtx *c, MirExpr *x) { return mir_fold(c->L->a, x, 0); }

/* The override `name = value` (or `Receptor.name = value`) of a population;
 * the last one wins, so that -D defines (appended) beat the model text. */
AstNode *lower_find_override(PopLow *pl, RecInst *rec, const char *name) {
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

const char *lower_sym_unit(Lower *L, Sym *s) {
    Ty t = sema_resolve_ty(L->p, s->ty);
    if (t.kind != TY_NUM || t.unk) return "1";
    return unit_dim_is_dimensionless(t.dim) ? "1" : unit_format_dim(L->a, t.dim);
}

const char *lower_qualified(LCtx *c, const char *name) {
    return c->rec && c->rec->receptor ? arena_printf(c->L->a, "%s.%s", c->rec->receptor->name, name) : name;
}

DynParam *lower_dyn_find(PopLow *pl, Sym *s) {
    for (int i = 0; i < pl->ndyn; i++)
        if (pl->dyn[i].sym == s) return &pl->dyn[i];
    return NULL;
}

/* A parameter of a modulator or context: its declared value (no overrides). */
static MirExpr *global_param(LCtx *c, Sym *s) {
    LCtx home = *c;
    home.scope = s->home;
    return lower_fold(c, lower_expr(&home, s->decl->a));
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
    AstNode *ov = lower_find_override(pl, c->rec, s->name);
    if (ov && lower_is_dist_call(ov->a)) {
        /* one array per drawn parameter: an initial value (not cached) and
         * the dynamics must read the same draws */
        const char *qn = lower_qualified(c, s->name);
        int k = 0;
        while (k < pl->npvars && strcmp(pl->pvars[k].name, qn)) k++;
        if (k == pl->npvars) {
            GROW(c->L, pl->pvars, pl->npvars, pl->cap_pvars);
            pl->pvars[pl->npvars++] = (RtVarDesc){qn, lower_sym_unit(c->L, s),
                                                  lower_net_dist(c->L, c->L->net->scope, ov->a)};
        }
        v = mir_leaf(c->L->a, MX_PARAM, k);
    } else if (ov) {
        v = mir_const(c->L->a, lower_net_value(c->L, c->L->net->scope, ov->a));
    } else {
        if (++pl->depth > 64) {
            lower_unsupported(c->L, at, "a parameter chain this deep");
            return mir_const(c->L->a, 0);
        }
        LCtx home = *c;
        home.scope = s->home;
        v = lower_fold(c, lower_expr(&home, s->decl->a));
        pl->depth--;
    }
    DynParam *dp = c->rec ? NULL : lower_dyn_find(pl, s);
    if (dp && !c->initial) {
        if (v->op != MX_CONST) {
            lower_unsupported(c->L, at, "changing a parameter that differs per neuron during the run");
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
int lower_state_slot(LCtx *c, Sym *s) {
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

static MirExpr *lower_name(LCtx *c, AstNode *e) {
    for (int i = 0; i < c->nbinds; i++)
        if (!strcmp(c->binds[i].name, e->name)) return mir_const(c->L->a, c->binds[i].value);
    Sym *s = sema_lookup(c->scope, e->name);
    if (!s) {
        double scale;
        Dim d;
        if (unit_lookup(e->name, &scale, &d)) return mir_const(c->L->a, scale);
        lower_unsupported(c->L, e->span, "this name");
        return mir_const(c->L->a, 0);
    }
    switch (s->kind) {
    case SYM_PARAM: return c->syn ? lower_syn_param(c, s, e->span) : param_value(c, s, e->span);
    case SYM_STATE: return c->syn ? lower_syn_leaf(c, s, e->span) : mir_leaf(c->L->a, MX_STATE, lower_state_slot(c, s));
    case SYM_TRACE:
    case SYM_RATE:
        if (c->syn) return lower_syn_leaf(c, s, e->span);
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
        if (c->syn) return lower_syn_leaf(c, s, e->span);
        if (c->rec) return mir_leaf(c->L->a, MX_INPUT, (int)(c->rec - c->pl->recs));
        break;
    case SYM_BUILTIN:
        if (!strcmp(s->name, "t")) return mir_leaf(c->L->a, MX_TIME, 0);
        if (!strcmp(s->name, "dt")) return mir_leaf(c->L->a, MX_DT, 0);
        return mir_const(c->L->a, s->ty.value);
    default: break;
    }
    lower_unsupported(c->L, e->span, arena_printf(c->L->a, "'%s' in this place", e->name));
    return mir_const(c->L->a, 0);
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
    lower_unsupported(c->L, e->span, arena_printf(a, "'%s' in an equation", e->name));
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

MirExpr *lower_expr(LCtx *c, AstNode *e) {
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
        if ((r = lower_modulator_read(c, e))) break;
        if (c->syn) {
            r = lower_syn_member(c, e);
            break;
        }
        /* fall through */
    default:
        lower_unsupported(c->L, e->span, "this expression");
        r = mir_const(a, 0);
    }
    r->span = e->span;
    return r;
}

/* ---- statements ---- */



/* The state slot of the voltage of the port receptor instance c->rec is on. */
static int port_voltage_slot(LCtx *c) {
    LCtx n = {.L = c->L, .pl = c->pl, .scope = c->pl->nscope, .rec = NULL, .syn = NULL};
    Sym *v = sema_lookup_local(c->pl->nscope, port_voltage(c->pl, c->rec->port));
    return v ? lower_state_slot(&n, v) : -1;
}

/* Slot written by an assignment in a neuron or receptor body: a state, or
 * for a delta synapse (`V += w` in a receptor, sema allows only += / -= of a
 * multiple of w) the port's voltage. */
static int target_slot(LCtx *c, Sym *s) {
    if (s->kind == SYM_STATE) return lower_state_slot(c, s);
    if (s->kind == SYM_VOLTAGE && c->rec) return port_voltage_slot(c);
    return -1;
}

static void lower_assign(LCtx *c, AstNode *st, MirBlock *out) {
    Sym *s = st->a->kind == AST_NAME ? sema_lookup(c->scope, st->a->name) : NULL;
    int slot = !s ? -1 : c->syn ? lower_syn_target_slot(c, s) : target_slot(c, s);
    if (slot < 0) {
        lower_unsupported(c->L, st->a->span, "assigning this");
        return;
    }
    MirExpr *v = lower_expr(c, st->b), *cur = mir_leaf(c->L->a, MX_STATE, slot);
    static const MirOp ops[] = {[ASSIGN_ADD] = MX_ADD, [ASSIGN_SUB] = MX_SUB, [ASSIGN_MUL] = MX_MUL,
                                [ASSIGN_DIV] = MX_DIV};
    if (st->op != ASSIGN_SET) v = mir_binary(c->L->a, ops[st->op], cur, v);
    mir_push(c->L->a, out, mir_set(c->L->a, slot, v));
}


void lower_block(LCtx *c, AstList *stmts, MirBlock *out) {
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
            lower_syn_deliver(c, st, out);
        } else {
            lower_unsupported(c->L, st->span, "this statement");
        }
    }
}
