/* sema_net.c - networks, motifs, contexts, protocol events and simulate.
 *
 * A network's names (populations, inputs, motif instances) are declared
 * before any item is checked, so items may refer to each other in any order.
 * A motif body is checked where it is used, with its parameters bound to the
 * arguments of that `use`; populations a motif declares are named
 * `alias.name` when the use has an alias. */
#include <math.h>
#include <string.h>

#include "sema_int.h"

typedef struct NetCtx {
    Ctx c;                  /* scope: the network's (or motif instance's) scope */
    AstNode *net;
    const char *prefix;     /* alias of the motif instance being checked, or NULL */
    int depth;              /* motif nesting, to stop runaway recursion */
    CheckedNet *out;        /* the flattened network being built */
} NetCtx;

static const int MAX_MOTIF_DEPTH = 16;

static double dt_for(Program *p, AstNode *net) {
    if (p->simulate && p->simulate->name && net && net->name && !strcmp(p->simulate->name, net->name) && p->sim_dt > 0)
        return p->sim_dt;
    return 1e-4; /* the default step, SPEC.md "simulate" */
}

/* ---- clauses ---- */

/* Returns the clause of kind `k`, reporting a duplicate once. */
static AstNode *clause(Program *p, AstNode *n, int k) {
    AstNode *found = NULL;
    for (int i = 0; i < n->items.n; i++) {
        AstNode *cl = n->items.v[i];
        if (cl->kind != AST_CLAUSE || cl->op != k) continue;
        if (found && k != CL_OF) {
            Diagnostic *g = diag_report(p->d, cl->span, DIAG_BAD_OPTION, "'%s' is given twice", ast_clause_word(k));
            diag_note(p->d, g, found->span, "first given here");
            continue;
        }
        if (!found) found = cl;
    }
    return found;
}

static void allow_clauses(Program *p, AstNode *n, const int *allowed, int nallowed, const char *where) {
    for (int i = 0; i < n->items.n; i++) {
        AstNode *cl = n->items.v[i];
        bool ok = false;
        for (int j = 0; j < nallowed; j++) ok |= cl->op == allowed[j];
        if (!ok)
            diag_report(p->d, cl->span, DIAG_BAD_OPTION, "'%s' is not allowed in %s", ast_clause_word(cl->op), where);
    }
}

/* Checks a constant count (a size, a degree): a positive integer. */
static bool check_count(Ctx *c, AstNode *e, const char *what, long long *out) {
    double v;
    if (!sema_const_value(c, e, DIM_NONE, what, &v)) return false;
    if (!(v >= 1) || v != floor(v) || v > 4e18) {
        diag_report(c->p->d, e->span, DIAG_BAD_SIZE, "%s must be a positive integer, not %g", what, v);
        return false;
    }
    *out = (long long)v;
    return true;
}

static bool check_probability(Ctx *c, AstNode *e, const char *what) {
    double v;
    if (!sema_const_value(c, e, DIM_NONE, what, &v)) return false;
    if (v < 0 || v > 1 || isnan(v)) {
        diag_report(c->p->d, e->span, DIAG_PROBABILITY_RANGE, "%s must lie in [0, 1], not %g", what, v);
        return false;
    }
    return true;
}

/* ---- selectors: E, E[0..9], E[3], alias.E ---- */

static Population *find_population(NetCtx *nc, AstNode *sel) {
    const char *name = sel->name;
    SrcSpan at = sel->kind == AST_RANGE ? sel->name_span : sel->span;
    if (sel->kind == AST_MEMBER) {
        if (!sel->a || sel->a->kind != AST_NAME) {
            diag_report(nc->c.p->d, sel->span, DIAG_WRONG_KIND, "expected a population");
            return NULL;
        }
        name = arena_printf(nc->c.p->a, "%s.%s", sel->a->name, sel->name);
    } else if ((sel->kind != AST_NAME && sel->kind != AST_RANGE) || !name) {   /* `0P[0..9]`: no name */
        diag_report(nc->c.p->d, sel->span, DIAG_WRONG_KIND, "expected a population");
        return NULL;
    }
    Sym *s = sema_lookup(nc->c.scope, name);
    if (!s) {
        sema_undefined(nc->c.p, nc->c.scope, name, at, "population");
        return NULL;
    }
    s->used++;
    if (s->kind == SYM_PARAM && s->resolving == 2 && s->ty.kind == TY_ERROR)
        return NULL; /* a motif argument whose error is already reported */
    if (s->kind != SYM_POPULATION || !s->data) {
        diag_report(nc->c.p->d, at, DIAG_WRONG_KIND, "'%s' is not a population", name);
        return NULL;
    }
    return s->data;
}

/* A selector's neurons: their count (0 when unknown) and a label for
 * messages ("E", or "E[0..9]" for a range). */
typedef struct Selected {
    long long n;
    const char *label;
} Selected;

/* Checks selector `sel` (a population or a neuron range of one, in bounds);
 * returns the population or NULL; fills *out (may be NULL). */
static Population *check_selector_n(NetCtx *nc, AstNode *sel, Selected *out) {
    Population *pop = find_population(nc, sel);
    Selected dummy;
    if (!out) out = &dummy;
    *out = (Selected){pop ? pop->size : 0, pop ? pop->name : "?"};
    if (!pop || sel->kind != AST_RANGE) return pop;
    out->n = 0;   /* until the range is known to be valid */
    Ctx k = nc->c;
    double lo, hi;
    if (!sema_const_value(&k, sel->a, DIM_NONE, "a neuron index", &lo)) return pop;
    hi = lo;
    if (sel->b && !sema_const_value(&k, sel->b, DIM_NONE, "a neuron index", &hi)) return pop;
    Diags *d = nc->c.p->d;
    if (lo != floor(lo) || hi != floor(hi))
        diag_report(d, sel->span, DIAG_RANGE_BOUNDS, "neuron indices are whole numbers, not %g", lo != floor(lo) ? lo : hi);
    else if (hi < lo)
        diag_report(d, sel->span, DIAG_RANGE_BOUNDS, "neuron range [%g..%g] has its ends reversed; write [%g..%g]", lo,
                    hi, hi, lo);
    else if (lo < 0 || (pop->size > 0 && hi >= (double)pop->size)) {
        if (sel->b)
            diag_report(d, sel->span, DIAG_RANGE_BOUNDS,
                        "neuron range [%g..%g] is outside population '%s' of %lld neurons (valid: 0..%lld)", lo, hi,
                        pop->name, pop->size, pop->size - 1);
        else
            diag_report(d, sel->span, DIAG_RANGE_BOUNDS,
                        "neuron index %g is outside population '%s' of %lld neurons (valid: 0..%lld)", lo, pop->name,
                        pop->size, pop->size - 1);
    } else {
        out->n = (long long)(hi - lo) + 1;
        out->label = arena_printf(nc->c.p->a, "%s[%lld..%lld]", pop->name, (long long)lo, (long long)hi);
    }
    return pop;
}

static Population *check_selector(NetCtx *nc, AstNode *sel) { return check_selector_n(nc, sel, NULL); }

/* A Poisson population only sends spikes: reports a connection or input
 * (`what`) that targets one. Returns false then. */
static bool check_receiver(NetCtx *nc, Population *pop, AstNode *sel, const char *what) {
    if (!pop || !pop->poisson) return true;
    diag_report(nc->c.p->d, sel->span, DIAG_WRONG_KIND,
                "population '%s' is a Poisson source: it sends spikes but cannot receive %s", pop->name, what);
    return false;
}

/* ---- populations ---- */

static AstNode *find_decl(NetCtx *nc, AstNode *ref, AstKind kind) {
    Sym *s = sema_lookup(&nc->c.p->global, ref->name);
    SrcSpan at = ref->name_span.file ? ref->name_span : ref->span;
    if (!s || s->kind != SYM_DECL) {
        sema_undefined_decl(nc->c.p, ref->name, at, kind);
        return NULL;
    }
    s->used++;
    if (s->decl->kind != kind) {
        Diagnostic *g = diag_report(nc->c.p->d, at, DIAG_WRONG_KIND, "'%s' is a %s, but a %s is expected here",
                                    ref->name, sema_decl_word(s->decl->kind), sema_decl_word(kind));
        diag_note(nc->c.p->d, g, s->decl->name_span, "'%s' declared here", ref->name);
        return NULL;
    }
    return s->decl;
}

/* Checks the value of an override against the symbol it overrides. */
static void check_override_value(NetCtx *nc, AstNode *arg, Scope *body, Sym *s, BodyKind kind) {
    s->used++;
    Ctx home = {.p = nc->c.p, .scope = body, .body = kind};
    Ty want = sema_sym_type(&home, s, arg->name_span);
    Ctx k = nc->c;
    k.constant = true;
    k.allow_dist = true;
    Ty got = sema_expr(&k, arg->a);
    if (ty_bad(got) || ty_bad(want)) return;
    sema_expect_dim(&k, got, want, arg->a->span, DIAG_UNIT_MISMATCH,
                    arena_printf(nc->c.p->a, "the override of '%s'", arg->name));
}

/* `Receptor.name = value` in a population: a parameter or the initial value
 * of a state of the receptor instance that the population's neurons hold. */
static void check_receptor_override(NetCtx *nc, AstNode *arg, const char *dot) {
    Program *p = nc->c.p;
    const char *rname = arena_strndup(p->a, arg->name, (size_t)(dot - arg->name));
    Sym *r = sema_lookup(&p->global, rname);
    if (!r || r->kind != SYM_DECL || r->decl->kind != AST_RECEPTOR) {
        sema_undefined_decl(p, rname, arg->name_span, AST_RECEPTOR);
        return;
    }
    Scope *body = sema_body_scope(p, r->decl);
    Sym *s = sema_lookup_local(body, dot + 1);
    if (!s || (s->kind != SYM_PARAM && s->kind != SYM_STATE) || !s->decl) {
        sema_no_member(p, body, dot + 1, arg->name_span, "parameter or state", arena_printf(p->a, "receptor '%s'", rname));
        return;
    }
    check_override_value(nc, arg, body, s, BODY_RECEPTOR);
}

/* Checks `name = value` overrides of the parameters and states of `decl`. */
static void check_overrides(NetCtx *nc, AstNode *call, AstNode *decl) {
    Scope *body = sema_body_scope(nc->c.p, decl);
    for (int i = 0; i < call->items.n; i++) {
        AstNode *arg = call->items.v[i];
        if (arg->kind != AST_ARG) {
            diag_report(nc->c.p->d, arg->span, DIAG_ARG_COUNT,
                        "overrides of '%s' must be named: write 'name = value'", decl->name);
            continue;
        }
        const char *dot = strchr(arg->name, '.');
        if (dot && decl->kind == AST_NEURON) {
            check_receptor_override(nc, arg, dot);
            continue;
        }
        Sym *s = sema_lookup_local(body, arg->name);
        if (!s || (s->kind != SYM_PARAM && s->kind != SYM_STATE)) {
            sema_no_member(nc->c.p, body, arg->name, arg->name_span, "parameter or state", arena_printf(nc->c.p->a, "%s '%s'", sema_decl_word(decl->kind),
                                        decl->name));
            continue;
        }
        check_override_value(nc, arg, body, s, decl->kind == AST_NEURON ? BODY_NEURON : BODY_SYNAPSE);
    }
}

/* `of poisson(rate = R)`: R a constant rate >= 0, the only argument (the
 * last `rate` wins, so that a -D define appended to it overrides it). The
 * call is named "poisson" only when written with the keyword. */
static void check_poisson_population(NetCtx *nc, AstNode *call, Population *pop) {
    Program *p = nc->c.p;
    pop->poisson = true;
    AstNode *rate = NULL;
    for (int i = 0; i < call->items.n; i++) {
        AstNode *arg = call->items.v[i];
        if (arg->kind == AST_ARG && !strcmp(arg->name, "rate")) rate = arg;
        else diag_report(p->d, arg->span, DIAG_ARG_COUNT, "a Poisson population takes only its rate: poisson(rate = R)");
    }
    if (!rate) {
        if (!call->items.n)
            diag_report(p->d, call->span, DIAG_ARG_COUNT, "a Poisson population needs its rate: poisson(rate = R)");
        return;
    }
    if (sema_const_value(&nc->c, rate->a, DIM_RATE, "a rate", &pop->rate_hz) && !(pop->rate_hz >= 0))
        diag_report(p->d, rate->a->span, DIAG_INVALID_VALUE, "a rate cannot be negative");
}

static void check_population(NetCtx *nc, AstNode *it, Population *pop) {
    check_count(&nc->c, it->a, "the size of a population", &pop->size);
    AstNode *call = it->b;
    if (!call) return;
    if (!strcmp(call->name, "poisson")) {
        check_poisson_population(nc, call, pop);
        return;
    }
    pop->type = find_decl(nc, call, AST_NEURON);
    if (!pop->type) return;
    pop->type_scope = sema_body_scope(nc->c.p, pop->type);
    check_overrides(nc, call, pop->type);
}

/* ---- connections ---- */

static const int connect_clauses[] = {CL_VIA, CL_ONTO, CL_SYNAPSE, CL_WITH, CL_ALL_TO_ALL, CL_ONE_TO_ONE,
                                      CL_PROBABILITY, CL_INDEGREE, CL_OUTDEGREE, CL_FILE, CL_WEIGHT,
                                      CL_DELAY, CL_AUTAPSES};

/* The weight type every part of a connection must agree on. */
static Ty receptor_weight(Program *p, AstNode *receptor) {
    Sym *w = sema_lookup_local(sema_body_scope(p, receptor), "w");
    return w ? w->ty : ty_error();
}

static Ty receptor_current(AstNode *receptor) {
    for (int i = 0; i < receptor->items.n; i++)
        if (receptor->items.v[i]->kind == AST_CURRENT && receptor->items.v[i]->sema)
            return *(Ty *)receptor->items.v[i]->sema;
    return ty_error();
}

/* The summed-current symbol of a port of `pop`'s neuron type. */
static Sym *port_current(NetCtx *nc, Population *pop, AstNode *onto, AstNode *receptor) {
    const char *port = onto ? onto->name : NULL;
    if (!port && receptor && receptor->c) port = receptor->c->name;
    Scope *s = pop->type_scope;
    if (!port) {
        for (int i = 0; i < s->n; i++)
            if (s->v[i]->kind == SYM_PORT_CURRENT && (!s->v[i]->data || !strcmp(((AstNode *)s->v[i]->data)->name, "soma")))
                return s->v[i];
        for (int i = 0; i < s->n; i++)
            if (s->v[i]->kind == SYM_PORT_CURRENT) return s->v[i];
        return NULL;
    }
    for (int i = 0; i < s->n; i++)
        if (s->v[i]->kind == SYM_PORT_CURRENT && s->v[i]->data && !strcmp(((AstNode *)s->v[i]->data)->name, port))
            return s->v[i];
    AstNode *at = onto ? onto : receptor->c;
    diag_report(nc->c.p->d, at->span, DIAG_UNDEFINED, "neuron '%s' has no port '%s'", pop->type->name, port);
    return NULL;
}

/* Checks that `receptor` can feed a port of `pop`: the receptor's current has
 * the unit of the port's summed current. */
static void check_receptor_fits(NetCtx *nc, Population *pop, AstNode *via, AstNode *onto, AstNode *receptor) {
    if (!pop || !pop->type_scope || !receptor) return;
    Sym *cur = port_current(nc, pop, onto, receptor);
    if (!cur) return;
    Ty rc = receptor_current(receptor), pc = cur->ty;
    if (ty_bad(rc) || sema_unify(nc->c.p, &rc, &pc)) return;
    Diagnostic *g = diag_report(nc->c.p->d, via->span, DIAG_UNIT_MISMATCH,
                                "receptor '%s' produces a current in '%s', but '%s' of neuron '%s' is in '%s'",
                                receptor->name, sema_ty_text(nc->c.p, rc), cur->name, pop->type->name,
                                sema_ty_text(nc->c.p, pc));
    diag_note(nc->c.p->d, g, receptor->name_span, "receptor '%s' declared here", receptor->name);
}

static void check_weight(NetCtx *nc, AstNode *e, Ty want, const char *what) {
    Ctx k = nc->c;
    k.constant = true;
    k.allow_dist = true;
    Ty t = sema_expr(&k, e);
    if (ty_bad(t) || ty_bad(want)) return;
    sema_expect_dim(&k, t, want, e->span, DIAG_UNIT_MISMATCH, what);
}

static void check_delay(NetCtx *nc, AstNode *e) {
    Ctx k = nc->c;
    k.constant = true;
    k.allow_dist = true;
    Ty t = sema_expr(&k, e);
    if (ty_bad(t)) return;
    if (!sema_expect_dim(&k, t, ty_num(DIM_TIME, "ms"), e->span, DIAG_EXPECTED_DIM, "a delay")) return;
    if (!t.is_const) return;
    if (t.value < 0) {
        diag_report(nc->c.p->d, e->span, DIAG_NEGATIVE_DELAY, "a delay cannot be negative (%s)",
                    unit_format_value(nc->c.p->a, t.value, DIM_TIME, t.unit));
        return;
    }
    double dt = dt_for(nc->c.p, nc->net), steps = t.value / dt;
    if (nearbyint(steps) < 1) /* the runtime delivers after max(1, round(delay/dt)) steps (rt_abi.h) */
        diag_report(nc->c.p->d, e->span, DIAG_DELAY_NOT_MULTIPLE,
                    "delay %s is shorter than one time step; spikes arrive after one step (%s)",
                    unit_format_value(nc->c.p->a, t.value, DIM_TIME, t.unit),
                    unit_format_value(nc->c.p->a, dt, DIM_TIME, "ms"));
    else if (fabs(steps - nearbyint(steps)) > 1e-6 * (steps > 1 ? steps : 1))
        diag_report(nc->c.p->d, e->span, DIAG_DELAY_NOT_MULTIPLE,
                    "delay %s is not a multiple of the time step %s; it is rounded to %s",
                    unit_format_value(nc->c.p->a, t.value, DIM_TIME, t.unit),
                    unit_format_value(nc->c.p->a, dt, DIM_TIME, "ms"),
                    unit_format_value(nc->c.p->a, nearbyint(steps) * dt, DIM_TIME, "ms"));
}

static AstNode *check_rule_call(NetCtx *nc, AstNode *cl, AstKind kind) {
    AstNode *call = cl->a;
    if (!call || (call->kind != AST_CALL && call->kind != AST_NAME)) {
        diag_report(nc->c.p->d, cl->span, DIAG_SYNTAX, "expected the name of a %s", sema_decl_word(kind));
        return NULL;
    }
    AstNode *decl = find_decl(nc, call, kind);
    if (decl && call->kind == AST_CALL) check_overrides(nc, call, decl);
    return decl;
}

/* Checks the rule of a connection between the neurons `src` and `dst`
 * select (n 0: unknown, not checked). */
static void check_connectivity_rule(NetCtx *nc, AstNode *it, Selected src, Selected dst) {
    static const int rules[] = {CL_ALL_TO_ALL, CL_ONE_TO_ONE, CL_PROBABILITY, CL_INDEGREE, CL_OUTDEGREE, CL_FILE};
    AstNode *rule = NULL;
    for (int i = 0; i < it->items.n; i++) {
        AstNode *cl = it->items.v[i];
        bool is_rule = false;
        for (size_t j = 0; j < sizeof rules / sizeof rules[0]; j++) is_rule |= cl->op == rules[j];
        if (!is_rule) continue;
        if (rule) {
            Diagnostic *g = diag_report(nc->c.p->d, cl->span, DIAG_BAD_OPTION,
                                        "a connection has one connectivity rule; '%s' conflicts with '%s'",
                                        ast_clause_word(cl->op), ast_clause_word(rule->op));
            diag_note(nc->c.p->d, g, rule->span, "first rule given here");
            continue;
        }
        rule = cl;
    }
    if (!rule) {
        diag_report(nc->c.p->d, it->span, DIAG_BAD_OPTION,
                    "a connection needs a rule: all_to_all, one_to_one, probability P, indegree K, outdegree K "
                    "or from \"file\"");
        return;
    }
    long long k;
    switch (rule->op) {
    case CL_PROBABILITY: check_probability(&nc->c, rule->a, "a connection probability"); break;
    case CL_INDEGREE:
        if (check_count(&nc->c, rule->a, "an in-degree", &k) && src.n && k > src.n &&
            !clause(nc->c.p, it, CL_AUTAPSES))
            diag_report(nc->c.p->d, rule->a->span, DIAG_BAD_SIZE,
                        "in-degree %lld exceeds the %lld neurons of '%s'", k, src.n, src.label);
        break;
    case CL_OUTDEGREE:
        if (check_count(&nc->c, rule->a, "an out-degree", &k) && dst.n && k > dst.n)
            diag_report(nc->c.p->d, rule->a->span, DIAG_BAD_SIZE,
                        "out-degree %lld exceeds the %lld neurons of '%s'", k, dst.n, dst.label);
        break;
    case CL_ONE_TO_ONE:
        if (src.n && dst.n && src.n != dst.n)
            diag_report(nc->c.p->d, rule->span, DIAG_BAD_SIZE,
                        "one_to_one needs populations of equal size, but '%s' has %lld and '%s' %lld", src.label,
                        src.n, dst.label, dst.n);
        break;
    case CL_FILE:
        if (!rule->a || rule->a->kind != AST_STRING)
            diag_report(nc->c.p->d, rule->span, DIAG_SYNTAX, "expected a file name in quotes after 'from'");
        break;
    default: break;
    }
}

/* `with R(...) accelerated by F` ([S-net-2b]): F is a constant number > 0,
 * and R must have something slow to accelerate (an `every` block or a rate
 * estimate), so a factor that would change nothing is an error, not a no-op. */
static void check_acceleration(NetCtx *nc, AstNode *with, AstNode *rule) {
    Program *p = nc->c.p;
    double f;
    if (sema_const_value(&nc->c, with->b, DIM_NONE, "an acceleration factor", &f) && !(f > 0 && isfinite(f)))
        diag_report(p->d, with->b->span, DIAG_INVALID_VALUE, "an acceleration factor must be a finite number > 0");
    bool slow = false;
    for (int i = 0; rule && i < rule->items.n; i++)
        slow |= rule->items.v[i]->kind == AST_EVERY || rule->items.v[i]->kind == AST_RATE;
    if (rule && !slow) {
        Diagnostic *g = diag_report(p->d, with->b->span, DIAG_BAD_OPTION,
                                    "plasticity rule '%s' has no 'every' block and no rate estimate to accelerate",
                                    rule->name);
        diag_note(p->d, g, rule->name_span,
                  "'accelerated by' divides the periods of 'every' and the time constants of 'rate'");
    }
}

static void check_connect(NetCtx *nc, AstNode *it) {
    Program *p = nc->c.p;
    allow_clauses(p, it, connect_clauses, sizeof connect_clauses / sizeof connect_clauses[0], "a connection");
    Selected srcn, dstn;
    check_selector_n(nc, it->a, &srcn);
    Population *dst = check_selector_n(nc, it->b, &dstn);
    if (!check_receiver(nc, dst, it->b, "connections")) dst = NULL, dstn.n = 0;
    check_connectivity_rule(nc, it, srcn, dstn);
    AstNode *via = clause(p, it, CL_VIA), *onto = clause(p, it, CL_ONTO);
    AstNode *receptor = NULL;
    if (!via) diag_report(p->d, it->span, DIAG_BAD_OPTION, "a connection needs 'via RECEPTOR'");
    else if (via->a) receptor = find_decl(nc, via->a, AST_RECEPTOR);
    if (receptor && dst) check_receptor_fits(nc, dst, via, onto ? onto->a : NULL, receptor);
    Ty w = receptor ? receptor_weight(p, receptor) : ty_error();
    AstNode *syn = clause(p, it, CL_SYNAPSE), *with = clause(p, it, CL_WITH);
    if (syn) {
        AstNode *d = check_rule_call(nc, syn, AST_SYNAPSE);
        if (d && !ty_bad(w)) {
            Ty sw = receptor_weight(p, d);
            sema_unify(p, &w, &sw);
        }
    }
    if (with) {
        AstNode *d = check_rule_call(nc, with, AST_PLASTICITY);
        if (with->b) check_acceleration(nc, with, d);
        if (d && !ty_bad(w)) {
            Ty pw = receptor_weight(p, d);
            if (!sema_unify(p, &w, &pw))
                diag_report(p->d, with->a->name_span, DIAG_UNIT_MISMATCH,
                            "plasticity rule '%s' changes weights in '%s', but receptor '%s' takes '%s'", d->name,
                            sema_ty_text(p, pw), receptor ? receptor->name : "?", sema_ty_text(p, w));
        }
    }
    AstNode *weight = clause(p, it, CL_WEIGHT), *delay = clause(p, it, CL_DELAY);
    AstNode *file = clause(p, it, CL_FILE);
    if (weight) check_weight(nc, weight->a, w, "the weight");
    else if (!file) diag_report(p->d, it->span, DIAG_BAD_OPTION, "a connection needs a 'weight'");
    if (delay) check_delay(nc, delay->a);
}

/* ---- inputs ---- */

static void check_input(NetCtx *nc, AstNode *it) {
    Program *p = nc->c.p;
    static const int poisson[] = {CL_RATE, CL_VIA, CL_ONTO, CL_WEIGHT, CL_DELAY};
    static const int current[] = {CL_ONTO};
    if (it->op == INPUT_CURRENT) allow_clauses(p, it, current, 1, "a current input");
    else if (it->op == INPUT_SPIKES) allow_clauses(p, it, poisson + 1, 4, "a spike-time input");
    else allow_clauses(p, it, poisson, 5, "a Poisson input");
    Population *dst = check_selector(nc, it->b);
    if (!check_receiver(nc, dst, it->b, "inputs")) dst = NULL;
    long long count;
    if (it->op == INPUT_POISSON) {
        if (it->a) check_count(&nc->c, it->a, "the number of Poisson sources", &count);
        AstNode *rate = clause(p, it, CL_RATE);
        double r;
        if (!rate) diag_report(p->d, it->span, DIAG_BAD_OPTION, "a Poisson input needs a 'rate'");
        else if (sema_const_value(&nc->c, rate->a, DIM_RATE, "a rate", &r) && r < 0)
            diag_report(p->d, rate->a->span, DIAG_INVALID_VALUE, "a rate cannot be negative");
    }
    if (it->op == INPUT_CURRENT) {
        Ctx k = nc->c;
        k.constant = true;
        Ty amp = sema_expr(&k, it->a);
        AstNode *onto = clause(p, it, CL_ONTO);
        Sym *cur = dst && dst->type_scope ? port_current(nc, dst, onto ? onto->a : NULL, NULL) : NULL;
        if (cur && !ty_bad(amp))
            sema_expect_dim(&k, amp, cur->ty, it->a->span, DIAG_UNIT_MISMATCH,
                            arena_printf(p->a, "the injected current (added to '%s')", cur->name));
        return;
    }
    AstNode *via = clause(p, it, CL_VIA), *onto = clause(p, it, CL_ONTO);
    AstNode *receptor = NULL;
    if (!via) diag_report(p->d, it->span, DIAG_BAD_OPTION, "an input needs 'via RECEPTOR'");
    else if (via->a) receptor = find_decl(nc, via->a, AST_RECEPTOR);
    if (receptor && dst) check_receptor_fits(nc, dst, via, onto ? onto->a : NULL, receptor);
    AstNode *weight = clause(p, it, CL_WEIGHT), *delay = clause(p, it, CL_DELAY);
    if (!weight) diag_report(p->d, it->span, DIAG_BAD_OPTION, "an input needs a 'weight'");
    else if (receptor) check_weight(nc, weight->a, receptor_weight(p, receptor), "the weight");
    if (delay) check_delay(nc, delay->a);
}

/* ---- recordings ---- */

static bool is_weights(AstNode *what) { return !strcmp(what->name, "weights") || !strcmp(what->name, "weight"); }

/* `record weights of SRC -> DST`: only weights are recorded of a
 * projection; that a connection SRC -> DST exists is checked once the whole
 * network is flattened (check_recorded_projections). */
static void check_record_projection(NetCtx *nc, AstNode *it, AstNode *proj) {
    check_selector(nc, proj->a);
    check_selector(nc, proj->b);
    for (int j = 0; j < it->items2.n; j++)
        if (!is_weights(it->items2.v[j]))
            diag_report(nc->c.p->d, it->items2.v[j]->span, DIAG_BAD_OPTION,
                        "only 'weights' can be recorded of a projection, not '%s'", it->items2.v[j]->name);
}

/* `record AMPA.g of E` ([S-net-4]): `what` names a state of a receptor
 * declaration. That the receptor acts on the population (a connection or
 * input via it) is checked once the network is flattened
 * (check_recorded_receptors). */
static void check_record_receptor(NetCtx *nc, AstNode *what) {
    Program *p = nc->c.p;
    const char *dot = strchr(what->name, '.');
    AstNode ref = {.kind = AST_NAME, .span = what->span};
    ref.name = arena_strndup(p->a, what->name, (size_t)(dot - what->name));
    AstNode *receptor = find_decl(nc, &ref, AST_RECEPTOR);
    if (!receptor) return;
    Scope *body = sema_body_scope(p, receptor);
    Sym *s = body ? sema_lookup_local(body, dot + 1) : NULL;
    if (!s)
        sema_no_member(p, body, dot + 1, what->span, "state", arena_printf(p->a, "receptor '%s'", receptor->name));
    else if (s->kind != SYM_STATE)
        diag_report(p->d, what->span, DIAG_WRONG_KIND, "'%s' is %s of receptor '%s'; only its states can be recorded",
                    dot + 1, s->kind == SYM_PARAM ? "a parameter" : "no state", receptor->name);
    else s->used++;
}

static bool records_balance(AstNode *it) {
    for (int j = 0; j < it->items2.n; j++)
        if (it->items2.v[j]->name && !strcmp(it->items2.v[j]->name, "balance")) return true;
    return false;
}

/* `record balance ... window W every H` ([S-net-4a]): windows of W start
 * every H, so H (in steps) must divide W (in steps). */
static void check_balance_hop(NetCtx *nc, AstNode *every, double w, double h) {
    double dt = dt_for(nc->c.p, nc->net);
    long long W = llround(w / dt), H = llround(h / dt);
    if (W < 1) W = 1;
    if (H < 1) H = 1;
    if (W % H)
        diag_report(nc->c.p->d, every->a->span, DIAG_INVALID_VALUE,
                    "a balance monitor's 'every' (%g ms, %lld steps) must divide its window (%g ms, %lld steps)",
                    h * 1e3, H, w * 1e3, W);
}

static void check_record(NetCtx *nc, AstNode *it) {
    Program *p = nc->c.p;
    static const int allowed[] = {CL_OF, CL_EVERY, CL_WINDOW};
    allow_clauses(p, it, allowed, 3, "a recording");
    bool any_target = false;
    for (int i = 0; i < it->items.n; i++) {
        AstNode *cl = it->items.v[i];
        if (cl->op != CL_OF) continue;
        any_target = true;
        if (cl->a->kind == AST_PROJECTION) {
            check_record_projection(nc, it, cl->a);
            continue;
        }
        Population *pop = check_selector(nc, cl->a);
        if (!pop) continue;
        for (int j = 0; j < it->items2.n; j++) {
            AstNode *what = it->items2.v[j];
            if (is_weights(what)) {
                diag_report(p->d, what->span, DIAG_BAD_OPTION,
                            "weights are recorded of a projection: write 'record weights of %s -> TARGET'", pop->name);
                continue;
            }
            if (!strcmp(what->name, "spikes") || !strcmp(what->name, "rate")) continue;
            if (pop->poisson) {
                diag_report(p->d, what->span, DIAG_WRONG_KIND,
                            "population '%s' is a Poisson source: only its spikes and rate can be recorded", pop->name);
                continue;
            }
            if (!strcmp(what->name, "balance") || !pop->type_scope) continue;
            if (strchr(what->name, '.')) {
                check_record_receptor(nc, what);
                continue;
            }
            Sym *s = sema_lookup_local(pop->type_scope, what->name);
            if (!s || (s->kind != SYM_STATE && s->kind != SYM_DEF && s->kind != SYM_PORT_CURRENT))
                sema_no_member(p, pop->type_scope, what->name, what->span, "variable", arena_printf(p->a, "neuron '%s'", pop->type->name));
            else s->used++;
        }
    }
    if (!any_target) diag_report(p->d, it->span, DIAG_BAD_OPTION, "a recording needs 'of POPULATION'");
    double h = 0, w = 50e-3;   /* the default window, [S-net-4a] */
    AstNode *every = clause(p, it, CL_EVERY), *window = clause(p, it, CL_WINDOW);
    bool h_ok = every && sema_const_value(&nc->c, every->a, DIM_TIME, "a sampling period", &h);
    bool w_ok = !window || sema_const_value(&nc->c, window->a, DIM_TIME, "a window", &w);
    if (h_ok && h <= 0)
        diag_report(p->d, every->a->span, DIAG_INVALID_VALUE, "a sampling period must be positive");
    if (window && w_ok && w <= 0)
        diag_report(p->d, window->a->span, DIAG_INVALID_VALUE, "a window must be positive");
    if (h_ok && w_ok && h > 0 && w > 0 && records_balance(it))
        check_balance_hop(nc, every, w, h);
}

/* ---- contexts ---- */

static Scope *context_scope(Program *p, AstNode *ctx) { return sema_body_scope(p, ctx); }

static void check_scale_factor(Program *p, AstNode *ctx, AstNode *sc) {
    Ctx k = {.p = p, .scope = context_scope(p, ctx), .body = BODY_CONTEXT};
    Ty f = sema_expr(&k, sc->b);
    if (!ty_bad(f))
        sema_expect_dim(&k, f, ty_num(DIM_NONE, NULL), sc->b->span, DIAG_EXPECTED_DIM, "a scaling factor");
}

void sema_check_context_decl(Program *p, AstNode *ctx) {
    for (int i = 0; i < ctx->items.n; i++)
        if (ctx->items.v[i]->kind == AST_SCALE) check_scale_factor(p, ctx, ctx->items.v[i]);
}

/* Checks the targets of a context's scalings against the network that
 * enters it: `POP.param`, `Type.param` or `SRC -> DST weight`. */
static void check_context_targets(NetCtx *nc, AstNode *ctx) {
    Program *p = nc->c.p;
    for (int i = 0; i < ctx->items.n; i++) {
        AstNode *sc = ctx->items.v[i];
        if (sc->kind != AST_SCALE || !sc->a) continue;
        AstNode *t = sc->a;
        if (t->kind == AST_PROJECTION) {
            check_selector(nc, t->a);
            check_selector(nc, t->b);
            if (t->name && strcmp(t->name, "weight"))
                diag_report(p->d, t->name_span, DIAG_BAD_OPTION, "a projection can scale its 'weight', not '%s'",
                            t->name);
            continue;
        }
        if (t->kind != AST_MEMBER || !t->a || t->a->kind != AST_NAME) {
            diag_report(p->d, t->span, DIAG_WRONG_KIND, "expected POPULATION.parameter or SRC -> DST weight");
            continue;
        }
        Sym *owner = sema_lookup(nc->c.scope, t->a->name);
        Scope *body = NULL;
        if (owner && owner->kind == SYM_POPULATION && owner->data) body = ((Population *)owner->data)->type_scope;
        else if (owner && owner->kind == SYM_DECL) body = sema_body_scope(p, owner->decl);
        if (!owner) {
            sema_undefined(p, nc->c.scope, t->a->name, t->a->span, "population");
            continue;
        }
        Sym *param = body ? sema_lookup_local(body, t->name) : NULL;
        if (!param || param->kind != SYM_PARAM)
            sema_no_member(p, body, t->name, t->name_span, "parameter", arena_printf(p->a, "'%s'", t->a->name));
    }
}

/* ---- protocol events ---- */

/* `set INPUT.rate = R` (Poisson input) or `set INPUT.amplitude = I` (current
 * input, I of the current's dimension); `v` is the new value's type. */
static void check_set_input(Ctx *k, AstNode *act, AstNode *in, Ty v) {
    AstNode *t = act->a;
    bool current = in->op == INPUT_CURRENT;
    if (strcmp(t->name, current ? "amplitude" : "rate")) {
        diag_report(k->p->d, t->name_span, DIAG_UNDEFINED, "input '%s' has no '%s'; it has '%s'", in->name, t->name,
                    current ? "amplitude" : "rate");
        return;
    }
    Ty want = current ? sema_expr(k, in->a) : ty_num(DIM_RATE, "Hz");
    if (!ty_bad(want) && !ty_bad(v)
        && sema_expect_dim(k, v, want, act->b->span, DIAG_UNIT_MISMATCH, current ? "the new amplitude" : "the new rate")
        && !current && v.is_const && v.value < 0)
        diag_report(k->p->d, act->b->span, DIAG_INVALID_VALUE, "a rate cannot be negative");
}

/* `set POP.param = v` (a parameter of the neuron type) or `set P.rate = R`
 * of a Poisson population ([S-net-1a], R >= 0). */
static void check_set_population(Ctx *k, AstNode *act, Population *pop, Ty v) {
    Program *p = k->p;
    AstNode *t = act->a;
    if (pop->poisson) {
        if (strcmp(t->name, "rate"))
            diag_report(p->d, t->name_span, DIAG_UNDEFINED, "Poisson population '%s' has no '%s'; it has 'rate'",
                        pop->name, t->name);
        else if (!ty_bad(v) && sema_expect_dim(k, v, ty_num(DIM_RATE, "Hz"), act->b->span, DIAG_UNIT_MISMATCH, "the new rate")
                 && v.is_const && v.value < 0)
            diag_report(p->d, act->b->span, DIAG_INVALID_VALUE, "a rate cannot be negative");
        return;
    }
    if (!pop->type_scope) return;
    Sym *param = sema_lookup_local(pop->type_scope, t->name);
    if (!param || param->kind != SYM_PARAM) {
        sema_no_member(p, pop->type_scope, t->name, t->name_span, "parameter",
                       arena_printf(p->a, "neuron '%s'", pop->type->name));
        return;
    }
    Ctx home = {.p = p, .scope = pop->type_scope, .body = BODY_NEURON};
    Ty want = sema_sym_type(&home, param, t->name_span);
    if (!ty_bad(want) && !ty_bad(v))
        sema_expect_dim(k, v, want, act->b->span, DIAG_UNIT_MISMATCH, arena_printf(p->a, "the new value of '%s'", t->name));
}

static void check_set(NetCtx *nc, AstNode *act) {
    Program *p = nc->c.p;
    AstNode *t = act->a;
    if (!t || t->kind != AST_MEMBER || !t->a || t->a->kind != AST_NAME) {
        diag_report(p->d, t ? t->span : act->span, DIAG_WRONG_KIND, "'set' needs POPULATION.parameter or INPUT.rate");
        return;
    }
    Sym *owner = sema_lookup(nc->c.scope, t->a->name);
    if (!owner) {
        sema_undefined(p, nc->c.scope, t->a->name, t->a->span, "population or input");
        return;
    }
    owner->used++;
    Ctx k = nc->c;
    k.constant = true;
    Ty v = sema_expr(&k, act->b);
    if (owner->kind == SYM_INPUT) check_set_input(&k, act, owner->decl, v);
    else if (owner->kind == SYM_POPULATION && owner->data) check_set_population(&k, act, owner->data, v);
    else diag_report(p->d, t->a->span, DIAG_WRONG_KIND, "'%s' is not a population or an input", t->a->name);
}

static void check_action(NetCtx *nc, AstNode *act) {
    Program *p = nc->c.p;
    AstNode *decl;
    switch (act->op) {
    case ACT_ENTER:
    case ACT_EXIT:
        decl = act->a ? find_decl(nc, act->a, AST_CONTEXT) : NULL;
        if (!decl) break;
        if (act->op == ACT_ENTER) check_context_targets(nc, decl);
        for (int i = 0; i < act->items.n; i++) {
            AstNode *arg = act->items.v[i];
            Sym *lvl = arg->kind == AST_ARG ? sema_lookup_local(context_scope(p, decl), arg->name) : NULL;
            if (!lvl || lvl->kind != SYM_LEVEL) {
                sema_undefined(p, context_scope(p, decl), arg->kind == AST_ARG ? arg->name : "?",
                               arg->kind == AST_ARG ? arg->name_span : arg->span,
                               arena_printf(p->a, "level of context '%s'", decl->name));
                continue;
            }
            Ctx home = {.p = p, .scope = context_scope(p, decl), .body = BODY_CONTEXT};
            Ty want = sema_sym_type(&home, lvl, arg->name_span);
            Ctx k = nc->c;
            k.constant = true;
            Ty v = sema_expr(&k, arg->a);
            if (!ty_bad(v) && !ty_bad(want)) sema_expect_dim(&k, v, want, arg->a->span, DIAG_UNIT_MISMATCH, "the level");
        }
        break;
    case ACT_SET: check_set(nc, act); break;
    case ACT_SILENCE:
    case ACT_LESION:
        check_selector(nc, act->a);
        if (act->b) check_probability(&nc->c, act->b, "the fraction of neurons");
        break;
    case ACT_RELEASE:
        decl = act->a ? find_decl(nc, act->a, AST_MODULATOR) : NULL;
        if (act->b) {
            Ctx k = nc->c;
            k.constant = true;
            sema_expr(&k, act->b);
        }
        break;
    }
}

static void check_at(NetCtx *nc, AstNode *it) {
    double v;
    if (sema_const_value(&nc->c, it->a, DIM_TIME, "the time of an event", &v) && v < 0)
        diag_report(nc->c.p->d, it->a->span, DIAG_INVALID_VALUE, "an event cannot happen before the run starts");
    if (it->b && sema_const_value(&nc->c, it->b, DIM_TIME, "the duration of an event", &v) && v <= 0)
        diag_report(nc->c.p->d, it->b->span, DIAG_INVALID_VALUE, "the duration of an event must be positive");
    if (it->c) check_action(nc, it->c);
}

/* ---- motifs ---- */

static void declare_items(NetCtx *nc, AstList *items);
static void check_items(NetCtx *nc, AstList *items);

static const char *prefixed(NetCtx *nc, const char *name) {
    return nc->prefix ? arena_printf(nc->c.p->a, "%s.%s", nc->prefix, name) : name;
}

/* Binds the motif's parameters to the arguments of `use` in a new scope. */
static Scope *bind_motif(NetCtx *nc, AstNode *use, AstNode *motif) {
    Program *p = nc->c.p;
    AstNode *call = use->a;
    Scope *s = sema_scope_new(p, nc->c.scope, motif);
    AstList *params = &motif->items2;
    AstNode **bound = ARENA_ARRAY(p->a, AstNode *, params->n + 1);
    int positional = 0;
    for (int i = 0; i < call->items.n; i++) {
        AstNode *arg = call->items.v[i];
        int slot = -1;
        if (arg->kind == AST_ARG) {
            for (int j = 0; j < params->n; j++)
                if (!strcmp(params->v[j]->name, arg->name)) slot = j;
            if (slot < 0) {
                sema_no_member(p, NULL, arg->name, arg->name_span, "parameter", arena_printf(p->a, "motif '%s'", motif->name));
                continue;
            }
        } else {
            slot = positional++;
            if (slot >= params->n) {
                diag_report(p->d, arg->span, DIAG_ARG_COUNT, "motif '%s' takes %d argument%s", motif->name, params->n,
                            params->n == 1 ? "" : "s");
                continue;
            }
        }
        if (bound[slot]) diag_report(p->d, arg->span, DIAG_ARG_COUNT, "'%s' is given twice", params->v[slot]->name);
        bound[slot] = arg->kind == AST_ARG ? arg->a : arg;
    }
    for (int j = 0; j < params->n; j++) {
        AstNode *param = params->v[j];
        AstNode *value = bound[j] ? bound[j] : param->a;
        if (!value) {
            diag_report(p->d, call->span, DIAG_ARG_COUNT, "motif '%s' needs a value for '%s'", motif->name, param->name);
            /* Declared with the error type, so that its uses in the motif
             * body are not reported again as undefined names. */
            Sym *missing = sema_declare(p, s, param->name, SYM_PARAM, param, param->name_span);
            if (missing) {
                missing->ty = ty_error();
                missing->resolving = 2;
                missing->used = 1;
            }
            continue;
        }
        /* A parameter bound to a population name is that population. */
        Sym *pop = value->kind == AST_NAME || value->kind == AST_MEMBER
                       ? sema_lookup(nc->c.scope, value->kind == AST_NAME ? value->name
                                                   : arena_printf(p->a, "%s.%s", value->a->name, value->name))
                       : NULL;
        Sym *sym = sema_declare(p, s, param->name, pop && pop->kind == SYM_POPULATION ? SYM_POPULATION : SYM_PARAM,
                                param, param->name_span);
        if (!sym) continue;
        sym->used = 1;
        if (sym->kind == SYM_POPULATION) {
            sym->data = pop->data;
            sym->resolving = 2;
        } else {
            Ctx k = nc->c;
            k.constant = true;
            sym->ty = sema_expr(&k, value);
            sym->resolving = 2;
        }
    }
    return s;
}

static void check_use(NetCtx *nc, AstNode *use) {
    AstNode *call = use->a;
    if (!call) return;
    AstNode *motif = find_decl(nc, call, AST_MOTIF);
    if (!motif) return;
    if (nc->depth >= MAX_MOTIF_DEPTH) {
        diag_report(nc->c.p->d, use->span, DIAG_TOO_DEEP, "motifs nested deeper than %d (a motif that uses itself?)",
                    MAX_MOTIF_DEPTH);
        return;
    }
    NetCtx inner = *nc;
    inner.c.scope = bind_motif(nc, use, motif);
    inner.depth++;
    inner.prefix = use->name ? prefixed(nc, use->name) : nc->prefix;
    /* Populations a motif declares belong to the network scope. */
    Scope *motif_scope = inner.c.scope;
    inner.c.scope = nc->c.scope;
    /* Errors inside the motif's body name this use, where they can be fixed. */
    DiagContext frame;
    diag_push_context(nc->c.p->d, &frame, call->name_span,
                      arena_printf(nc->c.p->a, "in motif '%s', used here", motif->name));
    declare_items(&inner, &motif->items);
    inner.c.scope = motif_scope;
    check_items(&inner, &motif->items);
    diag_pop_context(nc->c.p->d, &frame);
}

void sema_check_motif_decl(Program *p, AstNode *motif) {
    for (int i = 0; i < motif->items2.n; i++)
        for (int j = 0; j < i; j++)
            if (!strcmp(motif->items2.v[i]->name, motif->items2.v[j]->name))
                diag_report(p->d, motif->items2.v[i]->name_span, DIAG_DUPLICATE, "motif parameter '%s' is declared twice",
                            motif->items2.v[i]->name);
}

/* ---- networks ---- */

static void declare_items(NetCtx *nc, AstList *items) {
    Program *p = nc->c.p;
    for (int i = 0; i < items->n; i++) {
        AstNode *it = items->v[i];
        if (it->kind == AST_POPULATION) {
            Sym *s = sema_declare(p, nc->c.scope, prefixed(nc, it->name), SYM_POPULATION, it, it->name_span);
            if (!s) continue;
            Population *pop = ARENA_NEW(p->a, Population);
            pop->name = s->name;
            pop->decl = it;
            s->data = pop;
            s->resolving = 2;
            CheckedNet *o = nc->out;
            if (o->npops == o->cap_pops) {
                o->cap_pops = o->cap_pops ? o->cap_pops * 2 : 8;
                o->pops = arena_grow(p->a, o->pops, (size_t)o->npops, (size_t)o->cap_pops, sizeof *o->pops);
            }
            o->pops[o->npops++] = pop;
        } else if (it->kind == AST_INPUT) {
            Sym *s = sema_declare(p, nc->c.scope, prefixed(nc, it->name), SYM_INPUT, it, it->name_span);
            if (s) s->resolving = 2;
        } else if (it->kind == AST_USE && it->name) {
            Sym *s = sema_declare(p, nc->c.scope, prefixed(nc, it->name), SYM_ALIAS, it, it->name_span);
            if (s) s->resolving = 2;
        }
    }
}

static void add_net_item(NetCtx *nc, AstNode *it) {
    CheckedNet *o = nc->out;
    if (o->nitems == o->cap_items) {
        o->cap_items = o->cap_items ? o->cap_items * 2 : 16;
        o->items = arena_grow(nc->c.p->a, o->items, (size_t)o->nitems, (size_t)o->cap_items, sizeof *o->items);
    }
    o->items[o->nitems++] = (NetItem){it, nc->c.scope};
}

static void check_items(NetCtx *nc, AstList *items) {
    Program *p = nc->c.p;
    for (int i = 0; i < items->n; i++) {
        AstNode *it = items->v[i];
        if (it->kind != AST_POPULATION) continue;
        Sym *s = sema_lookup(nc->c.scope, prefixed(nc, it->name));
        if (s && s->decl == it && s->data) check_population(nc, it, s->data);
    }
    for (int i = 0; i < items->n; i++) {
        AstNode *it = items->v[i];
        if (it->kind != AST_POPULATION && it->kind != AST_USE) add_net_item(nc, it);
        switch (it->kind) {
        case AST_POPULATION: break;
        case AST_CONNECT: check_connect(nc, it); break;
        case AST_INPUT: check_input(nc, it); break;
        case AST_RECORD: check_record(nc, it); break;
        case AST_USE: check_use(nc, it); break;
        case AST_AT: check_at(nc, it); break;
        default:
            diag_report(p->d, it->span, DIAG_BAD_OPTION, "this is not allowed in a %s",
                        nc->depth ? "motif" : "network");
        }
    }
}

/* The population a checked selector names, without reporting (NULL when
 * it names none; check_selector has reported that). */
static Population *selected_pop(Program *p, Scope *scope, AstNode *sel) {
    if (sel->kind != AST_NAME && sel->kind != AST_RANGE && !(sel->kind == AST_MEMBER && sel->a && sel->a->kind == AST_NAME))
        return NULL;
    const char *name = sel->kind == AST_MEMBER ? arena_printf(p->a, "%s.%s", sel->a->name, sel->name) : sel->name;
    Sym *s = name ? sema_lookup(scope, name) : NULL;
    return s && s->kind == SYM_POPULATION ? s->data : NULL;
}

/* Every `record weights of SRC -> DST` needs a connection from SRC to DST
 * somewhere in the flattened network (motif instances included). */
static void check_recorded_projections(Program *p, CheckedNet *net) {
    for (int i = 0; i < net->nitems; i++) {
        AstNode *it = net->items[i].node;
        for (int k = 0; it->kind == AST_RECORD && k < it->items.n; k++) {
            AstNode *proj = it->items.v[k]->op == CL_OF ? it->items.v[k]->a : NULL;
            if (!proj || proj->kind != AST_PROJECTION) continue;
            Population *src = selected_pop(p, net->items[i].scope, proj->a);
            Population *dst = selected_pop(p, net->items[i].scope, proj->b);
            if (!src || !dst) continue;
            bool found = false;
            for (int j = 0; j < net->nitems && !found; j++) {
                AstNode *c = net->items[j].node;
                found = c->kind == AST_CONNECT && selected_pop(p, net->items[j].scope, c->a) == src &&
                        selected_pop(p, net->items[j].scope, c->b) == dst;
            }
            if (!found)
                diag_report(p->d, proj->span, DIAG_UNDEFINED,
                            "network '%s' has no connection %s -> %s whose weights could be recorded", net->decl->name,
                            src->name, dst->name);
        }
    }
}

/* The receptor a connection or input item acts through, or NULL. */
static AstNode *item_receptor(Program *p, AstNode *it) {
    if (it->kind != AST_CONNECT && it->kind != AST_INPUT) return NULL;
    for (int i = 0; i < it->items.n; i++) {
        AstNode *cl = it->items.v[i];
        if (cl->kind != AST_CLAUSE || cl->op != CL_VIA || !cl->a) continue;
        Sym *s = sema_lookup(&p->global, cl->a->name);
        return s && s->kind == SYM_DECL && s->decl->kind == AST_RECEPTOR ? s->decl : NULL;
    }
    return NULL;
}

/* Whether some connection or input of `net` acts on `pop` via `receptor`. */
static bool receptor_acts_on(Program *p, CheckedNet *net, AstNode *receptor, Population *pop) {
    for (int j = 0; j < net->nitems; j++) {
        AstNode *c = net->items[j].node;
        if (item_receptor(p, c) == receptor && selected_pop(p, net->items[j].scope, c->b) == pop) return true;
    }
    return false;
}

/* Every `record AMPA.g of POP` needs a connection or input via AMPA into
 * POP: the receptor's states exist per population it acts on
 * ([S-receptor-1]). */
static void check_recorded_receptors(Program *p, CheckedNet *net) {
    for (int i = 0; i < net->nitems; i++) {
        AstNode *it = net->items[i].node;
        for (int j = 0; it->kind == AST_RECORD && j < it->items2.n; j++) {
            AstNode *what = it->items2.v[j];
            const char *dot = strchr(what->name, '.');
            if (!dot) continue;
            Sym *rs = sema_lookup(&p->global, arena_strndup(p->a, what->name, (size_t)(dot - what->name)));
            if (!rs || rs->kind != SYM_DECL || rs->decl->kind != AST_RECEPTOR) continue;   /* reported */
            for (int k = 0; k < it->items.n; k++) {
                AstNode *of = it->items.v[k]->op == CL_OF ? it->items.v[k]->a : NULL;
                Population *pop = of ? selected_pop(p, net->items[i].scope, of) : NULL;
                if (!pop || pop->poisson || receptor_acts_on(p, net, rs->decl, pop)) continue;
                diag_report(p->d, what->span, DIAG_UNDEFINED,
                            "receptor '%s' does not act on population '%s' (no connection or input via '%s' into "
                            "it), so '%s' has no state '%s'",
                            rs->decl->name, pop->name, rs->decl->name, pop->name, what->name);
            }
        }
    }
}

void sema_check_network(Program *p, AstNode *net) {
    CheckedNet *out = ARENA_NEW(p->a, CheckedNet);
    NetCtx nc = {.c = {.p = p, .scope = sema_scope_new(p, &p->global, net), .body = BODY_NETWORK}, .net = net,
                 .out = out};
    out->decl = net;
    out->scope = nc.c.scope;
    declare_items(&nc, &net->items);
    check_items(&nc, &net->items);
    check_recorded_projections(p, out);
    check_recorded_receptors(p, out);
    net->sema = out;
}

/* ---- simulate ---- */

void sema_check_simulate(Program *p, AstNode *sim) {
    static const int allowed[] = {CL_FOR, CL_DT, CL_SEED, CL_METHOD, CL_PRECISION};
    allow_clauses(p, sim, allowed, 5, "'simulate'");
    Sym *s = sema_lookup(&p->global, sim->name);
    if (!s || s->kind != SYM_DECL) sema_undefined_decl(p, sim->name, sim->name_span, AST_NETWORK);
    else if (s->decl->kind != AST_NETWORK)
        diag_report(p->d, sim->name_span, DIAG_WRONG_KIND, "'%s' is a %s, but 'simulate' needs a network", sim->name,
                    sema_decl_word(s->decl->kind));
    else s->used++;
    if (p->simulate) {
        Diagnostic *g = diag_report(p->d, sim->span, DIAG_DUPLICATE, "a model has one 'simulate'");
        diag_note(p->d, g, p->simulate->span, "first 'simulate' is here");
        return;
    }
    p->simulate = sim;
    Ctx c = {.p = p, .scope = &p->global, .body = BODY_NETWORK, .constant = true};
    AstNode *dur = clause(p, sim, CL_FOR), *dt = clause(p, sim, CL_DT), *seed = clause(p, sim, CL_SEED);
    AstNode *method = clause(p, sim, CL_METHOD), *prec = clause(p, sim, CL_PRECISION);
    double v;
    if (!dur) diag_report(p->d, sim->span, DIAG_BAD_OPTION, "'simulate' needs a duration: simulate %s for 1 s", sim->name);
    else if (sema_const_value(&c, dur->a, DIM_TIME, "the duration", &v) && v <= 0)
        diag_report(p->d, dur->a->span, DIAG_INVALID_VALUE, "the duration must be positive");
    p->sim_dt = 1e-4;
    if (dt && sema_const_value(&c, dt->a, DIM_TIME, "the time step", &v)) {
        if (v <= 0) diag_report(p->d, dt->a->span, DIAG_INVALID_VALUE, "the time step must be positive");
        else p->sim_dt = v;
    }
    if (seed && sema_const_value(&c, seed->a, DIM_NONE, "the seed", &v) && (v < 0 || v != floor(v) || v > 1.8e19))
        diag_report(p->d, seed->a->span, DIAG_INVALID_VALUE, "the seed must be a non-negative integer");
    if (method && (!method->a || method->a->kind != AST_NAME || !sema_method_known(method->a->name)))
        diag_report(p->d, method->span, DIAG_BAD_OPTION,
                    "unknown method; expected euler, rk2, rk4, exponential_euler or exact");
    if (prec && (!prec->a || prec->a->kind != AST_NAME ||
                 (strcmp(prec->a->name, "float") && strcmp(prec->a->name, "double"))))
        diag_report(p->d, prec->span, DIAG_BAD_OPTION, "precision is 'float' or 'double'");
}
