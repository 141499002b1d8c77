/* lower.c - the checked program to MIR and an RtModelDesc; see lower.h.
 *
 * This file holds the entry points (lower_program, lower_plan_odes,
 * lower_check_types) and the populations: each population's neuron type
 * together with the receptor instances its incoming connections and inputs
 * use becomes one MirPop and one RtPopDesc (state layout, initial values,
 * heterogeneous parameters, input buffers). The other parts are in
 * lower_expr.c, lower_syn.c, lower_net.c, lower_protocol.c and
 * lower_globals.c (lower_int.h lists them). */
#include "lower_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ode.h"

void lower_unsupported(Lower *L, SrcSpan at, const char *what) {
    diag_report(L->d, at, DIAG_UNSUPPORTED, "%s is not supported by the simulator yet", what);
    L->failed = true;
}

/* ---- populations ---- */

/* The port a connection or input onto `pl` targets. */
const char *lower_target_port(PopLow *pl, AstNode *onto, AstNode *receptor) {
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
int lower_rec_instance(Lower *L, PopLow *pl, AstNode *receptor, const char *port, const char *label) {
    for (int i = 0; i < pl->nrecs; i++)
        if (pl->recs[i].receptor == receptor && !strcmp(pl->recs[i].port, port) &&
            (receptor || !strcmp(pl->recs[i].label, label)))
            return i;
    GROW(L, pl->recs, pl->nrecs, pl->cap_recs);
    RecInst *r = &pl->recs[pl->nrecs];
    r->receptor = receptor;
    r->scope = receptor ? sema_body_scope(L->p, receptor) : NULL;
    r->port = port;
    r->label = receptor ? (strcmp(port, lower_target_port(pl, NULL, receptor)) ? arena_printf(L->a, "%s@%s", receptor->name, port)
                                                                         : receptor->name)
                        : label;
    return pl->nrecs++;
}

PopLow *lower_pop_low(Lower *L, Population *pop) {
    for (int i = 0; i < L->npl; i++)
        if (L->pl[i].pop == pop) return &L->pl[i];
    return NULL;
}

Population *lower_selector_pop(Scope *scope, AstNode *sel, Lower *L) {
    const char *name = sel->kind == AST_MEMBER ? arena_printf(L->a, "%s.%s", sel->a->name, sel->name) : sel->name;
    Sym *s = sema_lookup(scope, name);
    return s ? s->data : NULL;
}

AstNode *lower_clause(AstNode *n, int k) {
    for (int i = 0; i < n->items.n; i++)
        if (n->items.v[i]->kind == AST_CLAUSE && n->items.v[i]->op == k) return n->items.v[i];
    return NULL;
}

AstNode *lower_decl_named(Lower *L, AstNode *ref) {
    Sym *s = sema_lookup(&L->p->global, ref->name);
    return s && s->kind == SYM_DECL ? s->decl : NULL;
}

/* First pass: the receptor instances every population needs. */
static void collect_receptors(Lower *L) {
    for (int i = 0; i < L->net->nitems; i++) {
        NetItem *ni = &L->net->items[i];
        AstNode *it = ni->node;
        if (it->kind != AST_CONNECT && it->kind != AST_INPUT) continue;
        Population *dst = lower_selector_pop(ni->scope, it->kind == AST_CONNECT ? it->b : it->b, L);
        PopLow *pl = dst ? lower_pop_low(L, dst) : NULL;
        if (!pl) continue;
        AstNode *via = lower_clause(it, CL_VIA), *onto = lower_clause(it, CL_ONTO);
        if (it->kind == AST_INPUT && it->op == INPUT_CURRENT) {
            lower_rec_instance(L, pl, NULL, lower_target_port(pl, onto, NULL), arena_printf(L->a, "current:%s", it->name));
            continue;
        }
        AstNode *receptor = via ? lower_decl_named(L, via->a) : NULL;
        if (receptor) lower_rec_instance(L, pl, receptor, lower_target_port(pl, onto, receptor), NULL);
    }
}

/* `state r = uniform(a, b)` (or normal(mean, sd)) in a neuron or receptor
 * body: one draw per neuron by the runtime (RtDist, keyed by population,
 * variable and neuron, so independent of the thread count). The
 * distribution's parameters are folded in the body (they may use its
 * parameters and the population's overrides). When both are constants the
 * runtime draws the value itself. When one differs per neuron (a drawn
 * parameter, another state), the runtime draws the standard distribution,
 * u ~ uniform(0, 1) or z ~ normal(0, 1), into the state (0 + 1*u is u
 * exactly) and *x is set to the init kernel's expression a + (b - a)*u or
 * a + b*z, the runtime's own formula, reading the state (slot `slot`). */
static RtDist body_dist(LCtx *c, AstNode *call, int slot, MirExpr **x) {
    Arena *a = c->L->a;
    bool uniform = !strcmp(call->name, "uniform");
    RtDist d = {uniform ? RT_DIST_UNIFORM : RT_DIST_NORMAL, 0, 0};
    MirExpr *p[2] = {mir_const(a, 0), mir_const(a, 0)};
    for (int k = 0; k < 2 && k < call->items.n; k++) p[k] = lower_fold(c, lower_expr(c, call->items.v[k]));
    if (p[0]->op == MX_CONST && p[1]->op == MX_CONST) {
        d.a = p[0]->value;
        d.b = p[1]->value;
        return d;
    }
    d.b = 1;
    MirExpr *std = mir_leaf(a, MX_STATE, slot), *scale = uniform ? mir_binary(a, MX_SUB, p[1], p[0]) : p[1];
    *x = mir_binary(a, MX_ADD, p[0], mir_binary(a, MX_MUL, scale, std));
    return d;
}

/* The RtVarDesc of every state of `scope` (appended at out[*n]) and, for a
 * state whose initial value differs per neuron, its expression in
 * c->pl->init_x[slot] (RT_DIST_KERNEL, or a standard draw that the init
 * kernel scales: body_dist). */
static void state_vars(LCtx *c0, Scope *scope, RtVarDesc *out, int *n) {
    LCtx ic = *c0, *c = &ic;
    ic.initial = true;   /* a parameter changed during the run starts at its base value */
    for (int i = 0; i < scope->n; i++) {
        Sym *s = scope->v[i];
        if (s->kind != SYM_STATE) continue;
        int slot = lower_state_slot(c, s);
        RtVarDesc *v = &out[(*n)++];
        v->name = lower_qualified(c, s->name);
        v->unit = lower_sym_unit(c->L, s);
        AstNode *ov = lower_find_override(c->pl, c->rec, s->name);
        if (ov) {
            v->init = lower_net_dist(c->L, c->L->net->scope, ov->a);
            continue;
        }
        MirExpr *x = NULL;
        if (lower_is_dist_call(s->decl->a)) {
            v->init = body_dist(c, s->decl->a, slot, &x);
        } else {
            MirExpr *init = lower_fold(c, lower_expr(c, s->decl->a));
            if (init->op == MX_CONST) v->init = (RtDist){RT_DIST_CONST, init->value, 0};
            else v->init = (RtDist){RT_DIST_KERNEL, 0, 0}, x = init;
        }
        if (x && c->pl->init_x) c->pl->init_x[slot] = x;
    }
}

/* Whether `x` reads state `slot`. */
static bool reads_state(const MirExpr *x, int slot) {
    if (x->op == MX_STATE && x->slot == slot) return true;
    for (int k = 0; k < x->nargs; k++)
        if (reads_state(x->args[k], slot)) return true;
    return false;
}

/* The init kernel's statements (MirPop.init): every state with an
 * expression in init_x, in dependency order: a state comes after every
 * other computed state its expression reads (its own standard draw, for a
 * distribution, is read before it is replaced), ties in declaration order.
 * So each initial value sees the final initial values of the states it
 * reads, whatever the order they are written in ([S-neuron-1a]). sema
 * reports a cycle ([definition-cycle]); one here would be a bug, reported as
 * [unsupported] rather than emitting a wrong order. */
static void order_init(Lower *L, PopLow *pl, SrcSpan at) {
    int n = pl->mp->nstates, left = 0;
    bool *done = ARENA_ARRAY(L->a, bool, n + 1);
    for (int j = 0; j < n; j++) left += pl->init_x[j] != NULL;
    while (left > 0) {
        int pick = -1;
        for (int j = 0; j < n && pick < 0; j++) {
            if (!pl->init_x[j] || done[j]) continue;
            bool ready = true;
            for (int d = 0; d < n && ready; d++)
                if (d != j && pl->init_x[d] && !done[d] && reads_state(pl->init_x[j], d)) ready = false;
            if (ready) pick = j;
        }
        if (pick < 0) {
            lower_unsupported(L, at, "initial values that depend on each other in a cycle");
            return;
        }
        done[pick] = true;
        left--;
        mir_push(L->a, &pl->mp->init, mir_set(L->a, pick, pl->init_x[pick]));
    }
}

/* Whether `x` can change during the run (a parameter in the constant block,
 * a global, a state) or per step (time). */
static bool changes_in_run(const MirExpr *x) {
    if (x->op == MX_PCONST || x->op == MX_GLOBAL || x->op == MX_TIME || x->op == MX_STATE) return true;
    for (int k = 0; k < x->nargs; k++)
        if (changes_in_run(x->args[k])) return true;
    return false;
}

/* A refractory period `d` that differs per neuron ([S-neuron-4]). When it
 * is fixed for the run, its step count round(d/dt) is computed once per
 * neuron by the init kernel into a hidden parameter (RT_DIST_KERNEL, named
 * "refractory.steps", unit 1), which the update kernel only loads: a
 * division per neuron and step cost 1.4x the simulation time of a plain LIF
 * population. Otherwise the update kernel computes it every step. */
static void refractory_per_neuron(Lower *L, PopLow *pl, MirExpr *d) {
    pl->mp->refractory = d;
    pl->mp->refractory_param = -1;
    if (changes_in_run(d)) return;
    GROW(L, pl->pvars, pl->npvars, pl->cap_pvars);
    pl->pvars[pl->npvars] = (RtVarDesc){"refractory.steps", "1", {RT_DIST_KERNEL, 0, 0}};
    pl->mp->refractory_param = pl->npvars++;
}

static int clamp_slots(LCtx *c, AstNode *refr, int **out) {
    *out = ARENA_ARRAY(c->L->a, int, refr->items2.n + 1);
    int n = 0;
    for (int i = 0; i < refr->items2.n; i++) {
        Sym *s = sema_lookup_local(c->scope, refr->items2.v[i]->name);
        if (s) (*out)[n++] = lower_state_slot(c, s);
    }
    return n;
}

MirMethod lower_method_of(const char *name) {
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
            mp->odes[*node] = (MirOde){.state = lower_state_slot(c, s), .rhs = lower_expr(c, it->a), .span = it->span};
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
            mp->method_hint = lower_method_of(it->name);
        }
    }
}

static int count_odes(AstNode *body) {
    int n = 0;
    for (int i = 0; i < body->items.n; i++) n += body->items.v[i]->kind == AST_ODE;
    return n;
}

/* ---- probes and the balance monitor's inputs ([S-net-4], [S-net-4a]) ---- */

int lower_add_probe(Lower *L, PopLow *pl, const char *name, const char *unit, MirExpr *x) {
    for (int k = 0; k < pl->nprobes; k++)
        if (!strcmp(pl->probes[k].name, name)) return k;
    if (pl->nprobes == pl->cap_probes) {
        int c = pl->cap_probes ? 2 * pl->cap_probes : 4;
        pl->probes = arena_grow(L->a, pl->probes, (size_t)pl->nprobes, (size_t)c, sizeof *pl->probes);
        pl->probe_x = arena_grow(L->a, pl->probe_x, (size_t)pl->nprobes, (size_t)c, sizeof *pl->probe_x);
        pl->cap_probes = c;
    }
    pl->probes[pl->nprobes] = (RtVarDesc){name, unit, {RT_DIST_CONST, 0, 0}};
    pl->probe_x[pl->nprobes] = x;
    return pl->nprobes++;
}

/* A population recorded by `record balance` gets two probes, balance.I_E
 * and balance.I_I: with the values the step's integration starts from
 * (after on_input, i.e. after the step's arrivals), I_E = the sum of the
 * receptor currents that are positive (depolarizing) this step and I_I =
 * the sum of the negative ones, over every receptor instance on every port;
 * injected currents count in neither. The probe kernel computes them over
 * the recorded neurons only; the update kernel does not. */
static void add_balance_probes(Lower *L, PopLow *pl) {
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
    Sym *isyn = sema_lookup_local(pl->nscope, "I_syn");
    const char *unit = isyn ? lower_sym_unit(L, isyn) : "A";
    pl->bal_ie = lower_add_probe(L, pl, "balance.I_E", unit, lower_fold(&(LCtx){.L = L}, pos));
    lower_add_probe(L, pl, "balance.I_I", unit, lower_fold(&(LCtx){.L = L}, neg));
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
    mp->nstates = nstates;
    mp->states = ARENA_ARRAY(L->a, MirVar, nstates + 1);
    mp->odes = ARENA_ARRAY(L->a, MirOde, nodes + 1);
    pl->svars = ARENA_ARRAY(L->a, RtVarDesc, nstates + 1);
    pl->init_x = ARENA_ARRAY(L->a, MirExpr *, nstates + 1);
    state_vars(&nc, pl->nscope, pl->svars, &pl->nsvars);
    for (int i = 0; i < pl->nrecs; i++) {
        if (!pl->recs[i].receptor) continue;
        LCtx rc = {.L = L, .pl = pl, .scope = pl->recs[i].scope, .rec = &pl->recs[i], .syn = NULL};
        state_vars(&rc, rc.scope, pl->svars, &pl->nsvars);
    }
    order_init(L, pl, neuron->span);
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
            MirExpr *d = lower_fold(&nc, lower_expr(&nc, it->a));
            if (d->op == MX_CONST) mp->refractory_s = d->value;
            else refractory_per_neuron(L, pl, d);
            mp->nclamped = clamp_slots(&nc, it, &mp->clamped);
        } else if (it->kind == AST_EVERY) {
            lower_unsupported(L, it->span, "'every' in a neuron");
        }
    }
    if (pl->balance) add_balance_probes(L, pl);
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

int lower_pop_index(Lower *L, Population *pop) {
    PopLow *pl = pop ? lower_pop_low(L, pop) : NULL;
    return pl ? pl->index : -1;
}

void lower_range_of(Lower *L, Scope *scope, AstNode *sel, int64_t *begin, int64_t *end) {
    *begin = 0;
    *end = -1;
    if (sel->kind != AST_RANGE) return;
    *begin = (int64_t)lower_net_value(L, scope, sel->a);
    *end = (sel->b ? (int64_t)lower_net_value(L, scope, sel->b) : *begin) + 1;
}


static void fill_pop_desc(PopLow *pl, RtPopDesc *pd) {
    pd->name = pl->pop->name;
    pd->size = pl->pop->size;
    if (pl->pop->poisson) {   /* spike sources: no states, no kernel */
        pd->kind = RT_POP_POISSON;
        pd->rate_hz = pl->pop->rate_hz;
        return;
    }
    pd->kind = RT_POP_NEURON;
    pd->precision = RT_PREC_F64;
    pd->nstates = pl->nsvars;
    pd->states = pl->svars;
    pd->nparams = pl->npvars;
    pd->params = pl->pvars;
    pd->ninputs = pl->nrecs;
    pd->input_names = pl->mp->input_names;
}

/* The probes of every neuron population (balance currents from
 * lower_population, recorded definitions and port currents from
 * lower_net.c) into its MirPop and RtPopDesc (ABI v5). */
static void fill_probes(Lower *L, Lowered *out) {
    for (int i = 0; i < L->npl; i++) {
        PopLow *pl = &L->pl[i];
        if (!pl->mp) continue;
        pl->mp->nprobes = pl->nprobes;
        pl->mp->probes = pl->probe_x;
        out->pops[pl->index].nprobes = pl->nprobes;
        out->pops[pl->index].probes = pl->probes;
    }
}

/* The constant blocks of the populations (start values of the parameters
 * that change during the run) and the globals (modulator states), whose
 * counts every kernel's MIR carries. */
static void fill_ei(Lower *L, Lowered *out) {
    for (int i = 0; i < L->npl; i++) {
        PopLow *pl = &L->pl[i];
        if (!pl->mp) continue;   /* a Poisson population */
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

/* One PopLow per population of the network; neuron populations get a
 * MirPop (mir.pops[k] for desc.pops[mir_pop[k]]), Poisson populations none.
 * desc.pops leaves room for one spike-time source per `input ... = spikes`
 * (lower_net.c appends them after the declared populations). */
static void init_pops(Lower *L, Lowered *out) {
    Arena *a = L->a;
    int nsources = 0;
    for (int i = 0; i < L->net->nitems; i++)
        nsources += L->net->items[i].node->kind == AST_INPUT && L->net->items[i].node->op == INPUT_SPIKES;
    L->npl = L->net->npops;
    L->pl = ARENA_ARRAY(a, PopLow, L->npl + 1);
    out->mir.pops = ARENA_ARRAY(a, MirPop, L->npl + 1);
    out->mir_pop = ARENA_ARRAY(a, int, L->npl + 1);
    out->pops = ARENA_ARRAY(a, RtPopDesc, L->npl + nsources + 1);
    for (int i = 0; i < L->npl; i++) {
        PopLow *pl = &L->pl[i];
        pl->pop = L->net->pops[i];
        pl->index = i;
        pl->nscope = pl->pop->type_scope;
        pl->call = pl->pop->decl->b;
        if (pl->pop->poisson) continue;
        pl->mp = &out->mir.pops[out->mir.npops];
        out->mir_pop[out->mir.npops++] = i;
    }
}

/* `simulate ... precision float`: neuron populations get float arrays
 * (RT_PREC_F32, see rt_abi.h) to match their float kernels. Synapse kernels
 * stay double; the ones whose post population is float read its states and
 * add to its input buffer as floats (MirSyn.post_f32, [S-cg-7]). */
static void set_precision(Lowered *out) {
    if (!out->use_float) return;
    for (int i = 0; i < out->desc.npops; i++)
        if (out->pops[i].kind == RT_POP_NEURON) out->pops[i].precision = RT_PREC_F32;
    for (int k = 0; k < out->nsyns; k++)
        out->syns[k].post_f32 = out->pops[out->desc.projs[out->syns[k].proj].post].precision == RT_PREC_F32;
}

static AstNode *simulate_clause(Program *p, int k) { return p->simulate ? lower_clause(p->simulate, k) : NULL; }

Lowered *lower_program(Program *p) {
    if (!p->simulate) {
        diag_report(p->d, (SrcSpan){0}, DIAG_UNSUPPORTED, "the model has no 'simulate' declaration: nothing to run");
        return NULL;
    }
    Sym *ns = sema_lookup(&p->global, p->simulate->name);
    Lower L = {.p = p, .a = p->a, .d = p->d, .net = ns->decl->sema};
    Lowered *out = ARENA_NEW(p->a, Lowered);
    out->network = ns->decl->name;
    init_pops(&L, out);
    collect_receptors(&L);
    lower_collect_dynamic(&L);
    for (int i = 0; i < L.npl; i++)
        if (L.pl[i].mp) lower_population(&L, &L.pl[i]);
    MirMethod hint = MM_AUTO;
    AstNode *mcl = simulate_clause(p, CL_METHOD), *pcl = simulate_clause(p, CL_PRECISION);
    if (mcl) hint = lower_method_of(mcl->a->name);
    out->use_float = pcl && !strcmp(pcl->a->name, "float");
    for (int i = 0; i < out->mir.npops; i++)
        if (out->mir.pops[i].method_hint == MM_AUTO) out->mir.pops[i].method_hint = hint;
    out->mir.dt = p->sim_dt;
    for (int i = 0; i < L.npl; i++) fill_pop_desc(&L.pl[i], &out->pops[i]);
    RtModelDesc *m = &out->desc;
    m->abi_version = RT_ABI_VERSION;
    m->name = out->network;
    m->dt = p->sim_dt;
    AstNode *dur = simulate_clause(p, CL_FOR), *seed = simulate_clause(p, CL_SEED);
    m->duration_s = dur ? lower_net_value(&L, &p->global, dur->a) : 1.0;
    m->seed = seed ? (uint64_t)lower_net_value(&L, &p->global, seed->a) : 1;
    m->npops = L.npl;   /* lower_build_desc appends the spike-time sources */
    m->pops = out->pops;
    lower_build_desc(&L, out, p->sim_dt);
    lower_globals(&L, out);
    fill_ei(&L, out);
    fill_probes(&L, out);
    set_precision(out);
    diag_flush(p->d);
    return L.failed ? NULL : out;
}

bool lower_plan_odes(Program *p, Lowered *l) {
    bool ok = true;
    for (int i = 0; i < l->mir.npops; i++) {
        l->mir.pops[i].use_float = l->use_float;
        ok &= ode_plan(p->a, &l->mir.pops[i], l->mir.dt, p->d);
        mir_pop_div_to_mul(p->a, &l->mir.pops[i]);
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
        AstNode *m = lower_clause(p->simulate, CL_METHOD);
        if (m) mp.method_hint = lower_method_of(m->a->name);
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
