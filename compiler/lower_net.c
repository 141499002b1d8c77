/* lower_net.c - projections, inputs and recordings of the runtime's model
 * descriptor (lower_int.h): every connect, input and record item of the
 * flattened network becomes RtProjDesc / RtInputDesc / RtRecDesc entries;
 * lower_build_desc() then replays the protocol (lower_protocol.c) and
 * attaches the plastic projections (lower_syn.c). */
#include "lower_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The neuron range a selector gives a projection end: [begin, end), or
 * 0, 0 for a whole population (RtProjDesc, ABI v4). */
static void proj_range(Lower *L, Scope *scope, AstNode *sel, int64_t *begin, int64_t *end) {
    lower_range_of(L, scope, sel, begin, end);
    if (*end < 0) *begin = *end = 0;
}

/* `connect SRC -> DST ...` ([S-net-2]); SRC and DST may be neuron ranges,
 * which the runtime connects within (indices stay population indices). */
static void lower_connect(Lower *L, NetItem *ni, RtProjDesc *pd, int proj) {
    AstNode *it = ni->node;
    proj_range(L, ni->scope, it->a, &pd->pre_begin, &pd->pre_end);
    proj_range(L, ni->scope, it->b, &pd->post_begin, &pd->post_end);
    Population *src = lower_selector_pop(ni->scope, it->a, L), *dst = lower_selector_pop(ni->scope, it->b, L);
    PopLow *pl = lower_pop_low(L, dst);
    AstNode *via = lower_clause(it, CL_VIA), *onto = lower_clause(it, CL_ONTO), *c;
    AstNode *receptor = lower_decl_named(L, via->a);
    pd->name = arena_printf(L->a, "%s->%s", src->name, dst->name);
    pd->pre = lower_pop_index(L, src);
    pd->post = pl->index;
    pd->receptor = lower_rec_instance(L, pl, receptor, lower_target_port(pl, onto, receptor), NULL);
    pd->autapses = !(lower_clause(it, CL_AUTAPSES) && (lower_clause(it, CL_AUTAPSES)->flags & AST_F_NO));
    if ((c = lower_clause(it, CL_ALL_TO_ALL))) pd->rule = RT_CONN_ALL_TO_ALL;
    else if ((c = lower_clause(it, CL_ONE_TO_ONE))) pd->rule = RT_CONN_ONE_TO_ONE;
    else if ((c = lower_clause(it, CL_PROBABILITY))) pd->rule = RT_CONN_PROBABILITY, pd->p = lower_net_value(L, ni->scope, c->a);
    else if ((c = lower_clause(it, CL_INDEGREE)))
        pd->rule = RT_CONN_FIXED_INDEGREE, pd->degree = (int64_t)lower_net_value(L, ni->scope, c->a);
    else if ((c = lower_clause(it, CL_OUTDEGREE)))
        pd->rule = RT_CONN_FIXED_OUTDEGREE, pd->degree = (int64_t)lower_net_value(L, ni->scope, c->a);
    else if ((c = lower_clause(it, CL_FILE))) pd->rule = RT_CONN_FILE, pd->file = c->a->name;
    AstNode *w = lower_clause(it, CL_WEIGHT), *d = lower_clause(it, CL_DELAY);
    pd->weight = w ? lower_net_dist(L, ni->scope, w->a) : (RtDist){RT_DIST_CONST, 0, 0};
    pd->delay = d ? lower_net_dist(L, ni->scope, d->a) : (RtDist){RT_DIST_CONST, 0, 0};
    /* [S-plastic-1] per-synapse delays: the runtime groups synapses by
     * delay; per-pre state would need one arrival time per pre neuron */
    MirSyn *ms = lower_syn(L, ni, proj, src, dst);
    if (ms && ms->per_pre && pd->delay.kind != RT_DIST_CONST)
        lower_unsupported(L, d->span, "a delay drawn per synapse with per-presynaptic-neuron synapse state");
}

/* The steps of a constant input delay: round(D/dt) in [0, 1e15], the bounds
 * the runtime puts on a drawn one (rt_sim.c), so equal drawn and constant
 * delays agree; a delay beyond the int64 range made llround give
 * LONG_MIN, so the trains started at once instead of never. */
int64_t lower_input_shift(Lower *L, Scope *scope, AstNode *input) {
    AstNode *d = input->op == INPUT_POISSON ? lower_clause(input, CL_DELAY) : NULL;
    if (!d || lower_is_dist_call(d->a)) return 0;
    double steps = round(lower_net_value(L, scope, d->a) / L->p->sim_dt);
    return steps > 0 ? (steps < 1e15 ? (int64_t)steps : (int64_t)1e15) : 0;
}

static void lower_input(Lower *L, NetItem *ni, RtInputDesc *in) {
    AstNode *it = ni->node;
    Population *dst = lower_selector_pop(ni->scope, it->b, L);
    PopLow *pl = lower_pop_low(L, dst);
    AstNode *via = lower_clause(it, CL_VIA), *onto = lower_clause(it, CL_ONTO);
    in->name = it->name;
    in->post = pl->index;
    lower_range_of(L, ni->scope, it->b, &in->begin, &in->end);
    in->start_s = 0;
    in->stop_s = -1;
    if (it->op == INPUT_CURRENT) {
        in->kind = RT_INPUT_CURRENT;
        in->receptor = lower_rec_instance(L, pl, NULL, lower_target_port(pl, onto, NULL), arena_printf(L->a, "current:%s", it->name));
        in->weight = lower_net_value(L, ni->scope, it->a);
        return;
    }
    AstNode *receptor = lower_decl_named(L, via->a), *w = lower_clause(it, CL_WEIGHT);
    in->kind = RT_INPUT_POISSON;
    in->receptor = lower_rec_instance(L, pl, receptor, lower_target_port(pl, onto, receptor), NULL);
    in->n_sources = it->a ? (int64_t)lower_net_value(L, ni->scope, it->a) : 1;
    in->rate_hz = lower_net_value(L, ni->scope, lower_clause(it, CL_RATE)->a);
    /* [S-net-3] a drawn weight: one value per target neuron, shared by its
     * N trains (the runtime draws it, RtInputDesc.weight_dist) */
    if (lower_is_dist_call(w->a)) in->weight_dist = lower_net_dist(L, ni->scope, w->a);
    else in->weight = lower_net_value(L, ni->scope, w->a);
    AstNode *d = lower_clause(it, CL_DELAY);
    /* [S-net-3b] a delay of d steps: the trains start d steps later; a
     * drawn delay shifts each target neuron's trains by its own d_i */
    if (d && lower_is_dist_call(d->a)) in->delay_dist = lower_net_dist(L, ni->scope, d->a);
    in->start_s = (double)lower_input_shift(L, ni->scope, it) * L->p->sim_dt;
}

/* A period in steps: round(T/dt), at least 1 (also for a default that
 * rounds to 0 at a coarse dt) and at most 2^53, longer than any run, so that
 * a huge T does not overflow llround into a period of one step. */
static int64_t steps_of(Lower *L, Scope *scope, AstNode *cl, double dt, int64_t dflt) {
    double x = cl ? lower_net_value(L, scope, cl->a) / dt : (double)dflt;
    if (!(x >= 1)) return 1;
    if (x >= 0x1p53) return (int64_t)1 << 53;
    return (int64_t)llround(x);
}

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

/* `record weights of SRC -> DST [every T]`: one RT_REC_WEIGHTS per
 * connection from SRC to DST (sema made sure there is one), sampled every T
 * or, without `every`, once at the end of the run; files SRC_DST_weights.npy
 * (+ _2, _3 for further connections) with their _syn.npy index. */
static void lower_record_weights(Lower *L, NetItem *ni, DescBuild *b, AstNode *proj, double dt) {
    AstNode *every = lower_clause(ni->node, CL_EVERY);
    Population *src = lower_selector_pop(ni->scope, proj->a, L), *dst = lower_selector_pop(ni->scope, proj->b, L);
    int pre = lower_pop_index(L, src), post = lower_pop_index(L, dst);
    for (int q = 0; q < b->nprojs; q++) {
        if (b->projs[q].pre != pre || b->projs[q].post != post) continue;
        RtRecDesc r = {.kind = RT_REC_WEIGHTS, .pop = post, .var = -1, .end = -1, .proj = q};
        r.every = every ? steps_of(L, ni->scope, every, dt, 1) : 0;
        r.file = rec_file(L, b, arena_printf(L->a, "%s_%s", src->name, dst->name), "weights");
        GROW(L, b->recs, b->nrecs, b->cap_recs);
        b->recs[b->nrecs++] = r;
    }
}

/* `record NAME of POP` where NAME is a definition (`let`) or a port current
 * (I_syn) of POP's neuron type: a probe of the population (its value after
 * on_input, as the update kernel computes it at the start of the step) and
 * an RT_REC_PROBE (ABI v5). Returns false when NAME is neither. */
static bool record_probe(Lower *L, PopLow *pl, AstNode *name, RtRecDesc *r) {
    Sym *s = sema_lookup_local(pl->nscope, name->name);
    if (!s || (s->kind != SYM_DEF && s->kind != SYM_PORT_CURRENT)) return false;
    LCtx nc = {.L = L, .pl = pl, .scope = pl->nscope};
    MirExpr *x = lower_fold(&nc, lower_expr(&nc, name));
    r->kind = RT_REC_PROBE;
    r->var = lower_add_probe(L, pl, name->name, lower_sym_unit(L, s), x);
    return true;
}

static void lower_record(Lower *L, NetItem *ni, DescBuild *b, double dt) {
    AstNode *it = ni->node;
    int64_t every = steps_of(L, ni->scope, lower_clause(it, CL_EVERY), dt, 1);
    for (int i = 0; i < it->items.n; i++) {
        AstNode *of = it->items.v[i];
        if (of->kind != AST_CLAUSE || of->op != CL_OF) continue;
        if (of->a->kind == AST_PROJECTION) {
            lower_record_weights(L, ni, b, of->a, dt);
            continue;
        }
        Population *pop = lower_selector_pop(ni->scope, of->a, L);
        PopLow *pl = lower_pop_low(L, pop);
        for (int j = 0; j < it->items2.n; j++) {
            const char *what = it->items2.v[j]->name;
            RtRecDesc r = {.pop = pl->index, .every = every};
            lower_range_of(L, ni->scope, of->a, &r.begin, &r.end);
            if (!strcmp(what, "spikes")) {
                r.kind = RT_REC_SPIKES;
            } else if (!strcmp(what, "rate")) {
                r.kind = RT_REC_RATE;
                r.every = steps_of(L, ni->scope, lower_clause(it, CL_EVERY), dt, (int64_t)llround(1e-3 / dt));
            } else if (!strcmp(what, "balance")) {
                AstNode *win = lower_clause(it, CL_WINDOW), *ev = lower_clause(it, CL_EVERY);
                r.kind = RT_REC_BALANCE;
                r.every = steps_of(L, ni->scope, win, dt, (int64_t)llround(50e-3 / dt));
                r.var = pl->bal_ie;
                r.var2 = pl->bal_ie + 1;
                r.hop = ev ? steps_of(L, ni->scope, ev, dt, 1) : r.every;   /* sema: H divides W */
            } else {
                r.kind = RT_REC_STATE;
                r.var = -1;
                for (int v = 0; v < pl->nsvars; v++)
                    if (!strcmp(pl->svars[v].name, what)) r.var = v;
                if (r.var < 0 && !record_probe(L, pl, it->items2.v[j], &r)) {
                    lower_unsupported(L, it->items2.v[j]->span, "recording this variable");
                    continue;
                }
            }
            r.file = rec_file(L, b, pop->name, what);
            GROW(L, b->recs, b->nrecs, b->cap_recs);
            b->recs[b->nrecs++] = r;
        }
    }
}


/* `input S = spikes from "FILE" -> POP via R weight W [delay D] [onto P]`
 * (POP may be a range POP[a..b]: then S has b - a + 1 neurons and S's
 * neuron k reaches POP's neuron a + k):
 * a spike-time source population named S (RT_POP_SPIKE_TIMES, appended
 * after the declared populations) of POP's size, whose neuron i replays the
 * FILE's spikes of neuron i (CSV `time_s,neuron` or .npy float64 [n,2]; a
 * spike at t is emitted in step round(t/dt)), and a one-to-one projection
 * S -> POP, so the spike reaches POP's neuron i after the delay, like any
 * connection's: in step round(t/dt) + max(1, round(D/dt)). */
static void lower_spike_input(Lower *L, NetItem *ni, DescBuild *b, Lowered *out) {
    AstNode *it = ni->node;
    PopLow *pl = lower_pop_low(L, lower_selector_pop(ni->scope, it->b, L));
    int64_t begin, end;   /* onto POP[a..b]: file neuron k reaches neuron a + k */
    proj_range(L, ni->scope, it->b, &begin, &end);
    int src = out->desc.npops++;
    out->pops[src] = (RtPopDesc){.name = it->name, .size = end ? end - begin : pl->pop->size, .kind = RT_POP_SPIKE_TIMES,
                                 .precision = RT_PREC_F64, .spike_file = it->a->name};
    AstNode *via = lower_clause(it, CL_VIA), *onto = lower_clause(it, CL_ONTO);
    AstNode *w = lower_clause(it, CL_WEIGHT), *d = lower_clause(it, CL_DELAY);
    AstNode *receptor = lower_decl_named(L, via->a);
    GROW(L, b->projs, b->nprojs, b->cap_projs);
    b->projs[b->nprojs++] = (RtProjDesc){
        .name = arena_printf(L->a, "%s->%s", it->name, pl->pop->name), .pre = src, .post = pl->index,
        .receptor = lower_rec_instance(L, pl, receptor, lower_target_port(pl, onto, receptor), NULL),
        .rule = RT_CONN_ONE_TO_ONE, .autapses = true, .weight = lower_net_dist(L, ni->scope, w->a),
        .delay = d ? lower_net_dist(L, ni->scope, d->a) : (RtDist){RT_DIST_CONST, 0, 0},
        .post_begin = begin, .post_end = end};
}

void lower_build_desc(Lower *L, Lowered *out, double dt) {
    DescBuild b = {0};
    for (int i = 0; i < L->net->nitems; i++) {
        NetItem *ni = &L->net->items[i];
        if (ni->node->kind == AST_INPUT && ni->node->op == INPUT_SPIKES) {
            lower_spike_input(L, ni, &b, out);
        } else if (ni->node->kind == AST_CONNECT) {
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
    lower_fill_plastic(L, out, b.projs);
}
