/* lower_protocol.c - modulators, contexts and the timed protocol
 * (lower_int.h): modulator states become network-wide globals
 * (RtGlobalDesc): levels, exact decays or states of the modulators' kernel
 * (lower_globals.c); the `at T [for D] ACTION` items are
 * replayed at compile time into RtEventDesc entries (constant-block values,
 * projection gains, input rates, global changes, silence and lesions). */
#include "lower_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mir_eval.h"

/* ---- network-wide values: modulator states (RtModelDesc.globals) ---- */

static void global_dynamics(Lower *L, GlobalLow *g, Scope *scope);

/* The global index of state `state` of modulator `mod`, registering all the
 * modulator's states (in declaration order) on first use. */
int lower_global_index(Lower *L, AstNode *mod, Sym *state) {
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
        g->desc.unit = lower_sym_unit(L, sc->v[i]);
        if (sc->v[i] == state) found = L->nglobals;
        L->nglobals++;
    }
    for (int i = found < 0 ? L->nglobals : 0; i < L->nglobals; i++)
        if (L->globals[i].mod == mod) global_dynamics(L, &L->globals[i], sc);
    return found;
}

static AstNode *context_named(Lower *L, const char *name);

/* Is `sc` a scale item `Rule.param` (resolved in `scope`) naming parameter
 * `s` of declaration `rule`? */
static bool scales_rule_param(Lower *L, Scope *scope, AstNode *sc, AstNode *rule, Sym *s) {
    if (sc->kind != AST_SCALE || !sc->a || sc->a->kind != AST_MEMBER || !sc->a->a || sc->a->a->kind != AST_NAME)
        return false;
    Sym *owner = sema_lookup(scope, sc->a->a->name);
    return owner && owner->kind == SYM_DECL && owner->decl == rule && !strcmp(sc->a->name, s->name) && L;
}

/* Does some `enter CTX` of the network enter a context that scales `s`? */
static bool rule_param_scaled(Lower *L, AstNode *rule, Sym *s) {
    for (int i = 0; i < L->net->nitems; i++) {
        NetItem *ni = &L->net->items[i];
        AstNode *act = ni->node->kind == AST_AT ? ni->node->c : NULL;
        AstNode *ctx = act && act->op == ACT_ENTER && act->a ? context_named(L, act->a->name) : NULL;
        for (int k = 0; ctx && k < ctx->items.n; k++)
            if (scales_rule_param(L, ni->scope, ctx->items.v[k], rule, s)) return true;
    }
    return false;
}

int lower_rule_param_global(Lower *L, AstNode *rule, Sym *s, int proj, const char *proj_name, double value) {
    for (int i = 0; i < L->nglobals; i++)
        if (L->globals[i].rule == rule && L->globals[i].state == s && L->globals[i].proj == proj) return i;
    if (!rule_param_scaled(L, rule, s)) return -1;
    GROW(L, L->globals, L->nglobals, L->cap_globals);
    GlobalLow *g = &L->globals[L->nglobals];
    memset(g, 0, sizeof *g);
    g->state = s;
    g->rule = rule;
    g->proj = proj;
    g->desc = (RtGlobalDesc){arena_printf(L->a, "%s %s.%s", proj_name, rule->name, s->name), lower_sym_unit(L, s),
                             RT_GLOBAL_LEVEL, value, 0, 0};
    return L->nglobals++;
}

AstNode *lower_modulator_named(Lower *L, const char *name) {
    Sym *s = sema_lookup(&L->p->global, name);
    return s && s->kind == SYM_DECL && s->decl->kind == AST_MODULATOR ? s->decl : NULL;
}

/* `Mod.state` in any body: the modulator's state at the start of the step
 * (MX_GLOBAL); NULL when `e` is not such a read. */
MirExpr *lower_modulator_read(LCtx *c, AstNode *e) {
    if (!e->a || e->a->kind != AST_NAME || sema_lookup(c->scope, e->a->name) != sema_lookup(&c->L->p->global, e->a->name))
        return NULL;
    AstNode *mod = lower_modulator_named(c->L, e->a->name);
    Sym *st = mod ? sema_lookup_local(sema_body_scope(c->L->p, mod), e->name) : NULL;
    if (!st || st->kind != SYM_STATE) return NULL;
    return mir_leaf(c->L->a, MX_GLOBAL, lower_global_index(c->L, mod, st));
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
    lower_unsupported(L, e->span, what);
    return NAN;
}

/* Does `x` read anything but modulator-local state `k` and constants: time,
 * another state (slot != k), a global (another modulator's state)? */
static bool reads_beyond(const MirExpr *x, int k) {
    if (x->op == MX_TIME || x->op == MX_GLOBAL || (x->op == MX_STATE && x->slot != k)) return true;
    for (int i = 0; i < x->nargs; i++)
        if (reads_beyond(x->args[i], k)) return true;
    return false;
}

/* The degree of `x` in modulator-local state k when it is affine in it: 0
 * (does not read it), 1 (c X + r), or -1 (anything else: X under a call,
 * a condition, a power, a product of two X terms, a division by X). The
 * samples below cannot tell abs(X) or max(X, 0) from X, which differ only
 * at the X < 0 that releases and initial values can reach. */
static int affine_degree(const MirExpr *x, int k) {
    int a = x->nargs > 0 ? affine_degree(x->args[0], k) : 0, b = x->nargs > 1 ? affine_degree(x->args[1], k) : 0;
    switch (x->op) {
    case MX_STATE: return x->slot == k;
    case MX_NEG: return a;
    case MX_ADD:
    case MX_SUB: return a < 0 || b < 0 ? -1 : a > b ? a : b;
    case MX_MUL: return a < 0 || b < 0 || a + b > 1 ? -1 : a + b;
    case MX_DIV: return a < 0 || b != 0 ? -1 : a;
    default:
        for (int i = 0; i < x->nargs; i++)
            if (affine_degree(x->args[i], k) != 0) return -1;
        return 0;
    }
}

/* The dynamics of a modulator state: without an ODE a level that only
 * events change (RT_GLOBAL_LEVEL); `dX/dt = c X + r` with constant c < 0 and
 * r, reading nothing else (checked on the MIR: affine in X, then at X = 0,
 * 1, 2 and 0.37) decays exactly toward -r/c with tau = -1/c (RT_GLOBAL_DECAY); any other
 * ODE is integrated by the modulators' kernel (RT_GLOBAL_KERNEL, g->ode,
 * lower_globals.c, which may also move a decay there when a kernel state
 * reads it). */
static void global_dynamics(Lower *L, GlobalLow *g, Scope *scope) {
    AstNode *ode = NULL;
    for (int i = 0; i < g->mod->items.n; i++)
        if (g->mod->items.v[i]->kind == AST_ODE && !strcmp(g->mod->items.v[i]->name, g->state->name)) ode = g->mod->items.v[i];
    int k = 0;   /* the state's slot among the modulator's states */
    for (int n = 0; n < scope->n && scope->v[n] != g->state; n++) k += scope->v[n]->kind == SYM_STATE;
    g->desc.init = global_const(L, g->mod, g->state->decl->a, NULL, 0, NULL, "a modulator's initial value that is not constant");
    if (!ode) {
        g->desc.kind = RT_GLOBAL_LEVEL;
        return;
    }
    g->ode = ode;
    g->desc.kind = RT_GLOBAL_KERNEL;
    LCtx c = {.L = L, .scope = sema_body_scope(L->p, g->mod), .global = g->mod};
    MirExpr *rhs = mir_fold(L->a, lower_expr(&c, ode->a), L->p->sim_dt);
    if (reads_beyond(rhs, k) || affine_degree(rhs, k) != 1) return;
    double x[64] = {0}, f[4];
    static const double at[4] = {0, 1, 2, 0.37};
    MirEnv env = {.states = x, .dt = L->p->sim_dt};
    if (k >= 64) return;
    for (int v = 0; v < 4; v++) {
        x[k] = at[v];
        f[v] = mir_eval(rhs, &env);
    }
    double c1 = f[1] - f[0], tol = 1e-12 * (fabs(f[1]) + fabs(f[0]) + 1e-300);
    if (!(c1 < 0) || fabs(f[2] - 2 * f[1] + f[0]) > tol || fabs(f[3] - (f[0] + 0.37 * c1)) > tol) return;
    g->desc.kind = RT_GLOBAL_DECAY;
    g->desc.tau = -1.0 / c1;
    g->desc.baseline = -f[0] / c1;
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
    double *gval;            /* [global]: value of a scaled rule parameter in effect */
    double *rate;            /* [input]: rate (Poisson) or amplitude (current) in effect */
    double *pop_rate;        /* [pop]: rate of a Poisson population in effect */
    double *prev;            /* [action]: what a `set` replaced, for its undo */
    int key;                 /* silence keys */
    int ninputs;             /* inputs of the network (b->inputs beyond: current segments) */
    double *seg_t;           /* [input]: start of a current input's open segment */
    bool *changed;           /* [input]: a current input's amplitude was set */
} Protocol;

/* The parameter `name` of `pl`'s neuron type, if it is one. */
static Sym *neuron_param(PopLow *pl, const char *name) {
    Sym *s = pl->nscope ? sema_lookup_local(pl->nscope, name) : NULL;   /* none: a Poisson population */
    return s && s->kind == SYM_PARAM ? s : NULL;
}

static void dyn_add(Lower *L, PopLow *pl, Sym *s) {
    if (!s || lower_dyn_find(pl, s)) return;
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
        bool pop = of->kind == AST_CLAUSE && of->op == CL_OF && of->a->kind != AST_PROJECTION;
        PopLow *pl = pop ? lower_pop_low(L, lower_selector_pop(ni->scope, of->a, L)) : NULL;
        if (pl) pl->balance = true;
    }
}

/* Before the populations are lowered: the parameters that `set` events and
 * entered contexts change become constant-block slots. */
void lower_collect_dynamic(Lower *L) {
    for (int i = 0; i < L->net->nitems; i++) {
        NetItem *ni = &L->net->items[i];
        if (ni->node->kind == AST_RECORD) mark_balance(L, ni);
        AstNode *act = ni->node->kind == AST_AT ? ni->node->c : NULL;
        if (!act) continue;
        if (act->op == ACT_SET && act->a && act->a->kind == AST_MEMBER && act->a->a->kind == AST_NAME) {
            Sym *owner = sema_lookup(ni->scope, act->a->a->name);
            PopLow *pl = owner && owner->kind == SYM_POPULATION ? lower_pop_low(L, owner->data) : NULL;
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
    b->events[b->nevents++] = (RtEventDesc){.time_s = t, .kind = kind, .target = target, .index = index, .value = value};
}

/* The factor of scale item `sc` of an entered context. */
static double scale_factor(Lower *L, Entered *en, AstNode *sc) {
    return global_const(L, en->ctx, sc->b, en->levels, en->nlevels, NULL,
                        "a context factor that is not constant (it may use levels and constants)");
}

/* Does `sel` (resolved in `scope`) name population index `pop`? */
static bool selects(Lower *L, Scope *scope, AstNode *sel, int pop) {
    Population *p = sel ? lower_selector_pop(scope, sel, L) : NULL;
    return p && lower_pop_index(L, p) == pop;
}

/* Rule parameters scaled by contexts ([S-ctx-3]): each projection's value
 * is its start value times the factors of the entered contexts scaling
 * `Rule.param`; a change becomes RT_EV_SET_GLOBAL on its slot. */
static void protocol_apply_rules(Protocol *pr, double t) {
    Lower *L = pr->L;
    for (int q = 0; q < L->nglobals; q++) {
        GlobalLow *g = &L->globals[q];
        if (!g->rule) continue;
        double v = g->desc.init;
        for (int e = 0; e < pr->nin; e++)
            for (int k = 0; k < pr->in[e].ctx->items.n; k++) {
                AstNode *sc = pr->in[e].ctx->items.v[k];
                if (scales_rule_param(L, pr->in[e].scope, sc, g->rule, g->state)) v *= scale_factor(L, &pr->in[e], sc);
            }
        if (v != pr->gval[q]) emit_event(pr, t, RT_EV_SET_GLOBAL, q, 0, v);
        pr->gval[q] = v;
    }
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
    protocol_apply_rules(pr, t);
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
        if (arg->kind == AST_ARG) en->levels[en->nlevels++] = (Binding){arg->name, lower_net_value(L, ni->scope, arg->a)};
    }
}

/* Appends a copy of current input `input` with amplitude `amp` active in
 * [start, stop) (stop < 0: to the end); nothing for an empty or zero one. */
static void current_segment(Protocol *pr, int input, double start, double stop, double amp) {
    if (amp == 0 || (stop >= 0 && !(stop > start))) return;
    DescBuild *b = pr->b;
    GROW(pr->L, b->inputs, b->ninputs, b->cap_inputs);
    b->inputs[b->ninputs] = b->inputs[input];
    b->inputs[b->ninputs].start_s = start;
    b->inputs[b->ninputs].stop_s = stop;
    b->inputs[b->ninputs++].weight = amp;
}

/* `set I.amplitude = v` at t ([S-net-3a]): the amplitude is piecewise
 * constant, so the input is split at every change into inputs with windows
 * [start, stop) (the runtime's RtInputDesc.start_s/stop_s, both rounded to
 * steps): the declared input keeps [0, first change), each later piece is a
 * copy. Exactly one piece is active in any step, so the injected current
 * is bit for bit the amplitude in effect. */
static void current_change(Protocol *pr, int input, double t, double v) {
    if (!pr->changed[input]) pr->b->inputs[input].stop_s = t;
    else current_segment(pr, input, pr->seg_t[input], t, pr->rate[input]);
    pr->changed[input] = true;
    pr->seg_t[input] = t;
}

/* `set P.rate = R` of a Poisson population ([S-net-1a]): RT_EV_SET_POP_RATE
 * from the update of step round(T/dt) on; the undo restores the rate it
 * replaced. Its draws stay those of the run without the event. */
static void protocol_pop_rate(Protocol *pr, PopLow *pl, bool undo, int ai, double t, double v) {
    double *cur = &pr->pop_rate[pl - pr->L->pl];
    if (!undo) pr->prev[ai] = *cur;
    if (v != *cur) emit_event(pr, t, RT_EV_SET_POP_RATE, pl->index, 0, v);
    *cur = v;
}

/* set INPUT.rate = R, set INPUT.amplitude = I or set POP.param = v (undo:
 * the value it replaced). */
static void protocol_set(Protocol *pr, NetItem *ni, AstNode *act, bool undo, int ai, double t) {
    Lower *L = pr->L;
    Sym *owner = sema_lookup(ni->scope, act->a->a->name);
    double v = undo ? pr->prev[ai] : lower_net_value(L, ni->scope, act->b);
    if (owner && owner->kind == SYM_INPUT) {
        int input = -1;
        for (int i = 0; i < pr->ninputs; i++)
            if (!strcmp(pr->b->inputs[i].name, owner->name)) input = i;
        if (input < 0) {
            lower_unsupported(L, act->span, "setting this input");
            return;
        }
        if (!undo) pr->prev[ai] = pr->rate[input];
        if (pr->b->inputs[input].kind == RT_INPUT_CURRENT) {
            current_change(pr, input, t, v);
        } else {   /* a delayed Poisson input's trains change d steps later too ([S-net-3b]) */
            int64_t d = lower_input_shift(L, owner->home, owner->decl);
            double dt = L->p->sim_dt;
            emit_event(pr, d ? (double)(llround(t / dt) + d) * dt : t, RT_EV_SET_INPUT_RATE, input, 0, v);
        }
        pr->rate[input] = v;
        return;
    }
    PopLow *pl = owner && owner->kind == SYM_POPULATION ? lower_pop_low(L, owner->data) : NULL;
    DynParam *dp = pl ? lower_dyn_find(pl, neuron_param(pl, act->a->name)) : NULL;
    if (pl && pl->pop->poisson) {
        protocol_pop_rate(pr, pl, undo, ai, t, v);
        return;
    }
    if (!dp) {
        lower_unsupported(L, act->span, "setting this during the run");
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
    AstNode *mod = lower_modulator_named(L, act->a->name), *on = NULL;
    for (int i = 0; mod && i < mod->items.n; i++)
        if (mod->items.v[i]->kind == AST_ON && mod->items.v[i]->op == EV_RELEASE) on = mod->items.v[i];
    if (!on) return;
    Binding amount = {on->items2.n ? on->items2.v[0]->name : "", act->b ? lower_net_value(L, ni->scope, act->b) : 1.0};
    Scope *sc = sema_body_scope(L->p, mod);
    for (int i = 0; i < on->items.n; i++) {
        AstNode *st = on->items.v[i];
        Sym *x = st->kind == AST_ASSIGN && st->a->kind == AST_NAME ? sema_lookup_local(sc, st->a->name) : NULL;
        if (!x || x->kind != SYM_STATE || (st->op != ASSIGN_SET && st->op != ASSIGN_ADD && st->op != ASSIGN_SUB)) {
            lower_unsupported(L, st->span, "this statement in 'on release' (only X = k, X += k, X -= k)");
            continue;
        }
        double k = global_const(L, mod, st->b, &amount, 1, NULL, "a released amount that is not constant");
        int g = lower_global_index(L, mod, x);
        emit_event(pr, t, st->op == ASSIGN_SET ? RT_EV_SET_GLOBAL : RT_EV_ADD_GLOBAL, g, 0, st->op == ASSIGN_SUB ? -k : k);
    }
}

/* silence / lesion POP [fraction F] (or POP[a..b]): the runtime chooses
 * round(F*size) neurons of the population (of the range: RtEventDesc
 * begin/end, ABI v5) by a key per `at` item; an undo ends that silence. */
static void protocol_silence(Protocol *pr, NetItem *ni, AstNode *act, bool undo, int key, double t) {
    Lower *L = pr->L;
    int pop = lower_pop_index(L, lower_selector_pop(ni->scope, act->a, L));
    if (pop < 0) return;
    if (undo) {
        if (act->op == ACT_LESION) lower_unsupported(L, act->span, "a lesion with a duration (lesions are permanent)");
        else emit_event(pr, t, RT_EV_UNSILENCE, pop, key, 0);
        return;
    }
    double f = act->b ? lower_net_value(L, ni->scope, act->b) : 1.0;
    emit_event(pr, t, act->op == ACT_LESION ? RT_EV_LESION : RT_EV_SILENCE, pop, key, f);
    int64_t begin, end;   /* end -1: the whole population, RtEventDesc end 0 */
    lower_range_of(L, ni->scope, act->a, &begin, &end);
    if (end > 0) {
        pr->b->events[pr->b->nevents - 1].begin = begin;
        pr->b->events[pr->b->nevents - 1].end = end;
    }
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
        if (ac->undo) lower_unsupported(pr->L, act->span, "'exit' with a duration");
        else protocol_context(pr, ac->ni, act, false);
        break;
    case ACT_SET:
        if (act->a && act->a->kind == AST_MEMBER && act->a->a->kind == AST_NAME) protocol_set(pr, ac->ni, act, ac->undo, ai, ac->t);
        else lower_unsupported(pr->L, act->span, "this protocol action");
        break;
    case ACT_RELEASE:
        if (ac->undo) lower_unsupported(pr->L, act->span, "'release' with a duration");
        else protocol_release(pr, ac->ni, act, ac->t);
        break;
    case ACT_SILENCE:
    case ACT_LESION: protocol_silence(pr, ac->ni, act, ac->undo, ac->order / 2, ac->t); break;
    }
    protocol_apply(pr, ac->t);
}

/* Builds the events of every `at` item of the network. */
void lower_protocol(Lower *L, DescBuild *b) {
    Action *acts = ARENA_ARRAY(L->a, Action, 2 * L->net->nitems + 1);
    int n = 0;
    for (int i = 0; i < L->net->nitems; i++) {
        NetItem *ni = &L->net->items[i];
        if (ni->node->kind != AST_AT || !ni->node->c) continue;
        double t = lower_net_value(L, ni->scope, ni->node->a);
        acts[n++] = (Action){t, 2 * i, ni, false};
        if (ni->node->b) acts[n++] = (Action){t + lower_net_value(L, ni->scope, ni->node->b), 2 * i + 1, ni, true};
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
    pr.gval = ARENA_ARRAY(L->a, double, L->nglobals + 1);
    for (int q = 0; q < L->nglobals; q++) pr.gval[q] = L->globals[q].desc.init;
    pr.ninputs = b->ninputs;
    pr.rate = ARENA_ARRAY(L->a, double, b->ninputs + 1);
    pr.seg_t = ARENA_ARRAY(L->a, double, b->ninputs + 1);
    pr.changed = ARENA_ARRAY(L->a, bool, b->ninputs + 1);
    for (int k = 0; k < b->ninputs; k++)
        pr.rate[k] = b->inputs[k].kind == RT_INPUT_CURRENT ? b->inputs[k].weight : b->inputs[k].rate_hz;
    pr.prev = ARENA_ARRAY(L->a, double, 2 * L->net->nitems + 1);
    pr.pop_rate = ARENA_ARRAY(L->a, double, L->npl + 1);
    for (int i = 0; i < L->npl; i++) pr.pop_rate[i] = L->pl[i].pop->rate_hz;
    for (int k = 0; k < n; k++) protocol_run_action(&pr, &acts[k], acts[k].order / 2);
    for (int k = 0; k < pr.ninputs; k++)   /* the last piece of each changed current input */
        if (pr.changed[k]) current_segment(&pr, k, pr.seg_t[k], -1, pr.rate[k]);
}

/* The runtime's description of plastic projection `ms` (kernels still NULL). */
