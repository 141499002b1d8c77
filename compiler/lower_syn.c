/* lower_syn.c - plastic projections to MirSyn and RtPlasticDesc
 * (lower_int.h).
 *
 * A connection with a synapse model and/or a plasticity rule becomes a
 * MirSyn (mir_syn.h) and an RtPlasticDesc: the two bodies share one variable
 * table (w, their states, traces, pre/post neuron states), their handlers
 * become the on_pre / on_post / every blocks with bounds or Dale's law
 * appended (SPEC.md section 6.1). */
#include "lower_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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
 * declared value, folded to a constant; a parameter that an entered context
 * scales ([S-ctx-3]) is read from its global slot instead, so that the
 * protocol can change it without recompiling. */
MirExpr *lower_syn_param(LCtx *c, Sym *s, SrcSpan at) {
    AstNode *ov = call_override(syn_call_of(c->syn, s), s->name);
    if (ov && lower_is_dist_call(ov->a)) {
        lower_unsupported(c->L, ov->span, "a synapse parameter drawn per synapse");
        return mir_const(c->L->a, 0);
    }
    MirExpr *v;
    if (ov) {
        v = mir_const(c->L->a, lower_net_value(c->L, c->L->net->scope, ov->a));
    } else {
        if (++c->syn->depth > 64) {
            lower_unsupported(c->L, at, "a parameter chain this deep");
            return mir_const(c->L->a, 0);
        }
        LCtx home = *c;
        home.scope = s->home;
        v = lower_fold(c, lower_expr(&home, s->decl->a));
        c->syn->depth--;
    }
    AstNode *owner = s->home ? s->home->owner : NULL;
    if (!owner || v->op != MX_CONST) return v;
    MirSyn *ms = c->syn->ms;
    int g = lower_rule_param_global(c->L, owner, s, ms->proj, ms->name, v->value);
    return g < 0 ? v : mir_leaf(c->L->a, MX_GLOBAL, g);
}

static int syn_slot_of(SynLow *sl, Sym *s) {
    if (s->kind == SYM_WEIGHT) return sl->ms->w_slot;
    for (int i = 0; i < sl->ms->nvars; i++)
        if (sl->syms[i] == s) return i;
    return -1;
}

MirExpr *lower_syn_leaf(LCtx *c, Sym *s, SrcSpan at) {
    int slot = syn_slot_of(c->syn, s);
    if (slot < 0) {
        lower_unsupported(c->L, at, arena_printf(c->L->a, "'%s' in this place", s->name));
        return mir_const(c->L->a, 0);
    }
    return mir_leaf(c->L->a, MX_STATE, slot);
}

/* Slot written by `name = ...` in a synapse or rule body, or -1. */
int lower_syn_target_slot(LCtx *c, Sym *s) {
    if (s->kind != SYM_STATE && s->kind != SYM_WEIGHT) return -1;
    int slot = syn_slot_of(c->syn, s);
    if (slot == c->syn->ms->w_slot) c->syn->ms->plastic_w = true;
    return slot;
}

/* `pre.X` / `post.X`: a state of the presynaptic or postsynaptic neuron,
 * read only (sema forbids writes). */
MirExpr *lower_syn_member(LCtx *c, AstNode *e) {
    AstNode *obj = e->a;
    bool is_post = obj->kind == AST_NAME && !strcmp(obj->name, "post");
    if (obj->kind != AST_NAME || (!is_post && strcmp(obj->name, "pre"))) {
        lower_unsupported(c->L, e->span, "reading a modulator or context in a synapse or plasticity rule");
        return mir_const(c->L->a, 0);
    }
    PopLow *pl = is_post ? c->syn->post : c->syn->pre;
    Sym *s = pl ? sema_lookup_local(pl->nscope, e->name) : NULL;
    if (!s || s->kind != SYM_STATE) {
        lower_unsupported(c->L, e->span, arena_printf(c->L->a, "reading '%s.%s' (only states of the neuron can be read)",
                                                obj->name, e->name));
        return mir_const(c->L->a, 0);
    }
    LCtx nc = {.L = c->L, .pl = pl, .scope = pl->nscope, .rec = NULL, .syn = NULL};
    int index = lower_state_slot(&nc, s);
    MirSynVarKind kind = is_post ? MSV_POST_STATE : MSV_PRE_STATE;
    for (int i = 0; i < c->syn->ms->nvars; i++)
        if (c->syn->ms->vars[i].kind == kind && c->syn->ms->vars[i].index == index) return mir_leaf(c->L->a, MX_STATE, i);
    int slot = syn_add_var(c->L, c->syn, arena_printf(c->L->a, "%s.%s", obj->name, e->name), lower_sym_unit(c->L, s), kind,
                           index, NULL);
    return mir_leaf(c->L->a, MX_STATE, slot);
}

/* `deliver e`: adds e to the efficacy this presynaptic event delivers. */
void lower_syn_deliver(LCtx *c, AstNode *st, MirBlock *out) {
    MirSyn *ms = c->syn->ms;
    ms->has_deliver = true;
    MirExpr *sum = mir_binary(c->L->a, MX_ADD, mir_leaf(c->L->a, MX_STATE, ms->deliver_slot), lower_expr(c, st->a));
    mir_push(c->L->a, out, mir_set(c->L->a, ms->deliver_slot, sum));
}

static double syn_const(LCtx *c, AstNode *e, const char *what) {
    MirExpr *v = lower_fold(c, lower_expr(c, e));
    if (v->op == MX_GLOBAL)   /* [S-ctx-3]: only values read by handlers may change */
        what = "a rule parameter that a context scales, used as a time constant, bound or 'every' period";
    if (v->op != MX_CONST) lower_unsupported(c->L, e->span, what);
    return v->op == MX_CONST ? v->value : 0;
}

/* Declares the states (MSV_SYN), traces and rate estimates of a body. */
static void syn_collect(LCtx *c, AstNode *decl) {
    SynLow *sl = c->syn;
    AstNode *call = decl->kind == AST_SYNAPSE ? sl->calls[0] : sl->calls[1];
    for (int i = 0; i < c->scope->n; i++) {
        Sym *s = c->scope->v[i];
        if (s->kind != SYM_STATE) continue;
        int slot = syn_add_var(c->L, sl, s->name, lower_sym_unit(c->L, s), MSV_SYN, sl->ms->nsynvars++, s);
        AstNode *ov = call_override(call, s->name);
        RtDist init = {RT_DIST_CONST, 0, 0};
        if (ov) init = lower_net_dist(c->L, c->L->net->scope, ov->a);
        else init.a = syn_const(c, s->decl->a, "an initial value that differs per synapse");
        sl->ms->vars[slot].init = init;
    }
    for (int i = 0; i < decl->items.n; i++) {
        AstNode *it = decl->items.v[i];
        if (it->kind != AST_TRACE && it->kind != AST_RATE) continue;
        Sym *s = sema_lookup_local(c->scope, it->name);
        MirTrace tr = {it->name, it->op == EV_POST, (it->flags & AST_F_SET) != 0, it->kind == AST_RATE, 0, 0};
        tr.tau = syn_const(c, it->a, "a trace time constant that differs per synapse");
        if (it->kind == AST_RATE) tr.tau /= sl->ms->accel;   /* [S-net-2b]: rate estimates only */
        tr.inc = it->kind == AST_RATE ? 1.0 / tr.tau : syn_const(c, it->b, "a trace increment that differs per synapse");
        MirSyn *ms = sl->ms;
        ms->traces = arena_grow(c->L->a, ms->traces, (size_t)ms->ntraces, (size_t)ms->ntraces + 1, sizeof *ms->traces);
        ms->traces[ms->ntraces] = tr;
        syn_add_var(c->L, sl, it->name, s ? lower_sym_unit(c->L, s) : "1", tr.post ? MSV_TRACE_POST : MSV_TRACE_PRE,
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
            if (!(ms->lo < ms->hi)) lower_unsupported(c->L, it->span, "weight bounds with lower >= upper");
        } else if (it->kind == AST_EVERY) {
            if (every) lower_unsupported(c->L, it->span, "a second 'every' block in one rule");
            every = it;
            ms->every_s = syn_const(c, it->a, "an 'every' period that differs per synapse");
            if (decl->kind == AST_PLASTICITY) ms->every_s /= ms->accel;
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
    if (wc) lower_unsupported(L, wc->span, "a plasticity rule on a synapse model with state per presynaptic neuron");
    if (ms->has_on_post) lower_unsupported(L, sc->span, "'on post' in a synapse model with state per presynaptic neuron");
    if (!per_pre_block_ok(ms, &ms->on_pre))
        lower_unsupported(L, sc->span, "a per-presynaptic-neuron state updated from 'w' or from what is delivered");
}

/* The factor of `with R accelerated by F` (a network-level constant, > 0
 * after sema). The slow time constants of R are divided by it. */
static double syn_accel(Lower *L, AstNode *e) {
    RtDist d = lower_net_dist(L, L->net->scope, e);
    if (d.kind != RT_DIST_CONST || !(d.a > 0)) {
        lower_unsupported(L, e->span, "an acceleration factor that is not a constant > 0");
        return 1;
    }
    return d.a;
}

/* Lowers the synapse model and plasticity rule of connection `ni` (if any)
 * into a new MirSyn for projection `proj`. */
MirSyn *lower_syn(Lower *L, NetItem *ni, int proj, Population *src, Population *dst) {
    AstNode *it = ni->node, *sc = lower_clause(it, CL_SYNAPSE), *wc = lower_clause(it, CL_WITH);
    if (!sc && !wc) return NULL;
    GROW(L, L->syns, L->nsyns, L->cap_syns);
    MirSyn *ms = &L->syns[L->nsyns++];
    memset(ms, 0, sizeof *ms);
    SynLow sl = {.ms = ms, .pre = lower_pop_low(L, src), .post = lower_pop_low(L, dst)};
    AstNode *decls[2] = {sc ? lower_decl_named(L, sc->a) : NULL, wc ? lower_decl_named(L, wc->a) : NULL};
    sl.calls[0] = sc ? sc->a : NULL;
    sl.calls[1] = wc ? wc->a : NULL;
    ms->name = arena_printf(L->a, "%s->%s", src->name, dst->name);
    ms->proj = proj;
    ms->synapse = decls[0] ? decls[0]->name : NULL;
    ms->rule = decls[1] ? decls[1]->name : NULL;
    ms->accel = wc && wc->b ? syn_accel(L, wc->b) : 1;
    LCtx cx[2] = {{0}, {0}};
    const char *wunit = "1";
    for (int k = 0; k < 2; k++) {
        if (!decls[k]) continue;
        cx[k] = (LCtx){.L = L, .pl = sl.post, .scope = sema_body_scope(L->p, decls[k]), .rec = NULL, .syn = &sl};
        Sym *w = sema_lookup_local(cx[k].scope, "w");
        if (w) wunit = lower_sym_unit(L, w);
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
        lower_unsupported(L, it->span, "a per-presynaptic-neuron state with an ODE together with 'on post' or 'every'");
    if (ms->per_pre) syn_check_per_pre(L, ms, sc, wc);
    syn_shape(L, ms);
    return ms;
}


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
    pd->rule = ms->rule;
    pd->accel = ms->accel != 1 ? ms->accel : 0;
    pd->per_pre = ms->per_pre;
    pd->syn_clock = ms->syn_clock;
}

void lower_fill_plastic(Lower *L, Lowered *out, RtProjDesc *projs) {
    out->syns = L->syns;
    out->nsyns = L->nsyns;
    out->plastic = ARENA_ARRAY(L->a, RtPlasticDesc, L->nsyns + 1);
    for (int k = 0; k < L->nsyns; k++) {
        fill_plastic_desc(L, &L->syns[k], &out->plastic[k]);
        projs[L->syns[k].proj].plastic = &out->plastic[k];
    }
}
