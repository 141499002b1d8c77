/* sema.c - semantic analysis of declarations and their bodies.
 *
 * Pass order (sema_check): declare every top-level name of every loaded file
 * in one global scope; build the scope of each body; check each body's items
 * (parameters are folded lazily, on first use, so declaration order never
 * matters and cycles are found); check networks, motifs and simulate. */
#include <stdlib.h>
#include <string.h>

#include "sema_int.h"

/* ---- scopes ---- */

Scope *sema_scope_new(Program *p, Scope *parent, AstNode *owner) {
    Scope *s = ARENA_NEW(p->a, Scope);
    s->parent = parent;
    s->owner = owner;
    return s;
}

Sym *sema_lookup_local(Scope *s, const char *name) {
    for (int i = 0; s && i < s->n; i++)
        if (!strcmp(s->v[i]->name, name)) return s->v[i];
    return NULL;
}

Sym *sema_lookup(Scope *s, const char *name) {
    for (; s; s = s->parent) {
        Sym *sym = sema_lookup_local(s, name);
        if (sym) return sym;
    }
    return NULL;
}

static SrcSpan decl_span(AstNode *n) { return n->name_span.file ? n->name_span : n->span; }

Sym *sema_declare(Program *p, Scope *s, const char *name, SymKind kind, AstNode *decl, SrcSpan at) {
    Sym *old = sema_lookup_local(s, name);
    if (old) {
        Diagnostic *g = diag_report(p->d, at, DIAG_DUPLICATE, "'%s' is already declared", name);
        if (old->decl) diag_note(p->d, g, decl_span(old->decl), "previous declaration of '%s' is here", name);
        return NULL;
    }
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 8;
        s->v = arena_grow(p->a, s->v, (size_t)s->n, (size_t)cap, sizeof(Sym *));
        s->cap = cap;
    }
    Sym *sym = ARENA_NEW(p->a, Sym);
    sym->name = name;
    sym->kind = kind;
    sym->decl = decl;
    sym->home = s;
    s->v[s->n++] = sym;
    return sym;
}

/* Levenshtein distance, capped: small names only. */
static int edit_distance(const char *a, const char *b) {
    size_t n = strlen(a), m = strlen(b);
    if (n > 40 || m > 40) return 99;
    int row[41];
    for (size_t j = 0; j <= m; j++) row[j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= m; j++) {
            int up = row[j];
            int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            int best = diag + cost;
            if (row[j] + 1 < best) best = row[j] + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[m];
}

/* The closest name to `name` among the symbols of `s` and its parents that
 * `accept` admits (NULL: all), or NULL when none is close: a suggestion is
 * made only within about a third of the name's length in edits. */
static const char *closest_name(Scope *s, const char *name, bool (*accept)(const Sym *, int), int want) {
    int len = (int)strlen(name);
    int best_d = len < 2 ? 0 : (len + 1) / 3 < 1 ? 1 : (len + 1) / 3;
    const char *best = NULL;
    for (Scope *sc = s; sc; sc = sc->parent)
        for (int i = 0; i < sc->n; i++) {
            if (accept && !accept(sc->v[i], want)) continue;
            int d = edit_distance(name, sc->v[i]->name);
            if (d <= best_d && (!best || d < best_d)) {
                best_d = d;
                best = sc->v[i]->name;
            }
        }
    return best;
}

static bool is_named_decl(const Sym *s, int kind) {
    (void)kind;
    return s->kind != SYM_BUILTIN && s->decl;
}

static bool is_decl_of_kind(const Sym *s, int kind) { return s->kind == SYM_DECL && (int)s->decl->kind == kind; }

static void suggest(Program *p, Diagnostic *g, SrcSpan at, const char *best) {
    if (best) diag_note(p->d, g, at, "did you mean '%s'?", best);
}

void sema_undefined(Program *p, Scope *s, const char *name, SrcSpan at, const char *what) {
    const char *best = closest_name(s, name, is_named_decl, 0);
    /* The suggested name was most likely meant: count it as used, so a typo
     * does not also report the intended name as an unused declaration. */
    Sym *meant = best ? sema_lookup(s, best) : NULL;
    if (meant) meant->used++;
    if (!best && !strcmp(what, "name")) best = unit_suggest(name);
    suggest(p, diag_report(p->d, at, DIAG_UNDEFINED, "undefined %s '%s'", what, name), at, best);
}

void sema_no_member(Program *p, Scope *s, const char *name, SrcSpan at, const char *what, const char *owner) {
    const char *best = NULL;
    if (s) {
        Scope own = *s; /* only the owner's own names, not the global ones */
        own.parent = NULL;
        best = closest_name(&own, name, NULL, 0);
    }
    suggest(p, diag_report(p->d, at, DIAG_UNDEFINED, "%s has no %s '%s'", owner, what, name), at, best);
}

void sema_undefined_decl(Program *p, const char *name, SrcSpan at, AstKind kind) {
    const char *best = closest_name(&p->global, name, is_decl_of_kind, (int)kind);
    suggest(p, diag_report(p->d, at, DIAG_UNDEFINED, "undefined %s '%s'", sema_decl_word(kind), name), at, best);
}

const char *sema_decl_word(AstKind k) {
    switch (k) {
    case AST_NEURON: return "neuron";
    case AST_RECEPTOR: return "receptor";
    case AST_SYNAPSE: return "synapse";
    case AST_PLASTICITY: return "plasticity rule";
    case AST_MODULATOR: return "modulator";
    case AST_CONTEXT: return "context";
    case AST_MOTIF: return "motif";
    case AST_NETWORK: return "network";
    default: return "declaration";
    }
}

Scope *sema_body_scope(Program *p, AstNode *decl) {
    for (int i = 0; i < p->nbodies; i++)
        if (p->body_decls[i] == decl) return p->bodies[i];
    return NULL;
}

static void add_body(Program *p, AstNode *decl, Scope *s) {
    if (p->nbodies == p->cap_bodies) {
        int cap = p->cap_bodies ? p->cap_bodies * 2 : 16;
        p->bodies = arena_grow(p->a, p->bodies, (size_t)p->nbodies, (size_t)cap, sizeof(Scope *));
        p->body_decls = arena_grow(p->a, p->body_decls, (size_t)p->nbodies, (size_t)cap, sizeof(AstNode *));
        p->cap_bodies = cap;
    }
    p->bodies[p->nbodies] = s;
    p->body_decls[p->nbodies++] = decl;
}

/* ---- symbol types (lazy, with cycle detection) ---- */

static Ty resolve_value(Ctx *c, Sym *sym, AstNode *value, bool constant, bool allow_dist) {
    if (sym->resolving == 2) return sym->ty;
    if (sym->resolving == 1) {
        diag_report(c->p->d, decl_span(sym->decl), DIAG_DEF_CYCLE, "the value of '%s' depends on itself",
                    sym->name);
        sym->ty = ty_error();
        sym->resolving = 2;
        return sym->ty;
    }
    sym->resolving = 1;
    Ctx k = {.p = c->p, .scope = sym->home, .body = c->body, .constant = constant, .allow_dist = allow_dist};
    k.state_init = sym->kind == SYM_STATE && sym->home && sym->home->owner &&
                   (sym->home->owner->kind == AST_NEURON || sym->home->owner->kind == AST_RECEPTOR);
    Ty t = sema_expr(&k, value);
    if (sym->resolving == 1) sym->ty = t;
    sym->resolving = 2;
    return sym->ty;
}

Ty sema_sym_type(Ctx *c, Sym *sym, SrcSpan use) {
    Ty t;
    switch (sym->kind) {
    case SYM_PARAM:
        t = resolve_value(c, sym, sym->decl->a, true, false);
        if (!ty_bad(t) && !t.is_const && sym->resolving == 2) {
            diag_report(c->p->d, sym->decl->a->span, DIAG_NOT_CONSTANT,
                        "the value of parameter '%s' must be a constant", sym->name);
            sym->ty = ty_error();
        }
        return sym->ty;
    case SYM_STATE:
        t = resolve_value(c, sym, sym->decl->a, true, true);
        t.kind = t.kind == TY_DIST ? TY_NUM : t.kind;
        t.is_const = false;
        t.wild = false;
        if (c->constant && !c->state_init && !ty_bad(t)) {
            diag_report(c->p->d, use, DIAG_NOT_CONSTANT, "'%s' is a state variable, but a constant is required here",
                        sym->name);
            return ty_error();
        }
        return t;
    case SYM_DEF:
        t = resolve_value(c, sym, sym->decl->a, false, false);
        if (c->constant && !ty_bad(t) && !t.is_const) {
            diag_report(c->p->d, use, DIAG_NOT_CONSTANT, "'%s' depends on state, but a constant is required here",
                        sym->name);
            return ty_error();
        }
        return t;
    case SYM_TRACE:
        t = resolve_value(c, sym, sym->decl->b, true, false);
        t.is_const = false;
        t.wild = false;
        return t;
    case SYM_LEVEL:
        t = resolve_value(c, sym, sym->decl->a, true, false);
        t.is_const = false;
        return t;
    case SYM_DECL:
        diag_report(c->p->d, use, DIAG_WRONG_KIND, "%s '%s' is not a value", sema_decl_word(sym->decl->kind),
                    sym->name);
        return ty_error();
    case SYM_POPULATION:
    case SYM_INPUT:
    case SYM_ALIAS:
        diag_report(c->p->d, use, DIAG_WRONG_KIND, "'%s' is a %s, not a value", sym->name,
                    sym->kind == SYM_POPULATION ? "population" : sym->kind == SYM_INPUT ? "input" : "motif instance");
        return ty_error();
    default:
        if (c->constant && !sym->ty.is_const && !ty_bad(sym->ty)) {
            diag_report(c->p->d, use, DIAG_NOT_CONSTANT, "'%s' changes during the run, but a constant is required here",
                        sym->name);
            return ty_error();
        }
        return sym->ty;
    }
}

/* ---- statements ---- */

static void check_block(Ctx *c, AstList *stmts);

static bool is_pre_post(AstNode *target) {
    AstNode *o = target->a;
    return o && o->kind == AST_NAME && (!strcmp(o->name, "pre") || !strcmp(o->name, "post"));
}

/* Returns the type of an assignment target, or TY_ERROR after a diagnostic. */
static Ty check_target(Ctx *c, AstNode *t, int op) {
    if (t->kind == AST_MEMBER) {
        if (is_pre_post(t) && (c->body == BODY_PLASTICITY || c->body == BODY_SYNAPSE)) {
            diag_report(c->p->d, t->span, DIAG_PLASTICITY_WRITES_POST,
                        "a %s cannot write '%s': the %ssynaptic neuron owns its state; a rule may write only "
                        "'w' and its own per-synapse states",
                        c->body == BODY_PLASTICITY ? "plasticity rule" : "synapse", t->a->name,
                        !strcmp(t->a->name, "pre") ? "pre" : "post");
            return ty_error();
        }
        if (t->a && t->a->kind == AST_NAME)
            diag_report(c->p->d, t->span, DIAG_ASSIGN_READONLY,
                        "'%s.%s' cannot be assigned here: only '%s' itself changes its variables", t->a->name, t->name,
                        t->a->name);
        else
            diag_report(c->p->d, t->span, DIAG_ASSIGN_READONLY, "'%s' cannot be assigned here", t->name);
        return ty_error();
    }
    if (t->kind != AST_NAME) {
        diag_report(c->p->d, t->span, DIAG_ASSIGN_READONLY, "this cannot be assigned");
        return ty_error();
    }
    Sym *s = sema_lookup(c->scope, t->name);
    if (!s) {
        sema_undefined(c->p, c->scope, t->name, t->span, "name");
        return ty_error();
    }
    s->used++;
    if (s->kind == SYM_PARAM) {
        Diagnostic *g = diag_report(c->p->d, t->span, DIAG_ASSIGN_PARAMETER,
                                    "'%s' is a parameter and cannot be assigned; declare it as a state", t->name);
        diag_note(c->p->d, g, decl_span(s->decl), "'%s' declared here", t->name);
        return ty_error();
    }
    bool writable = s->kind == SYM_STATE || (s->kind == SYM_WEIGHT && c->body != BODY_RECEPTOR);
    /* A delta synapse ([S-receptor-2]): a receptor's `on spike(w)` may jump
     * its port's voltage by a multiple of w (`V += w`); any other write of V
     * would fight the neuron's own dynamics. check_receptor_linear checks
     * that the added value is proportional to w. */
    bool delta = s->kind == SYM_VOLTAGE && c->body == BODY_RECEPTOR && c->in_handler;
    if (delta && (op == ASSIGN_ADD || op == ASSIGN_SUB)) writable = true;
    else if (delta) {
        diag_report(c->p->d, t->span, DIAG_ASSIGN_READONLY,
                    "'%s' cannot be assigned here: a receptor may only add to the membrane potential of its port "
                    "('%s += w', a delta synapse)", t->name, t->name);
        return ty_error();
    }
    if (!writable) {
        static const char *what[] = {
            [SYM_DEF] = "a definition", [SYM_TRACE] = "a trace (it is updated by its declaration)",
            [SYM_RATE] = "a rate estimate", [SYM_LEVEL] = "a context level", [SYM_WEIGHT] = "the event's weight",
            [SYM_EVENT_ARG] = "an event argument", [SYM_PORT_CURRENT] = "the summed receptor current",
            [SYM_VOLTAGE] = "the membrane potential seen by a receptor", [SYM_BUILTIN] = "built in",
        };
        const char *w = s->kind < sizeof what / sizeof what[0] && what[s->kind] ? what[s->kind] : "not a variable";
        diag_report(c->p->d, t->span, DIAG_ASSIGN_READONLY, "'%s' cannot be assigned: it is %s", t->name, w);
        return ty_error();
    }
    Ctx k = *c;
    k.constant = false;
    return sema_sym_type(&k, s, t->span);
}

static void check_assign(Ctx *c, AstNode *st) {
    Ty target = check_target(c, st->a, st->op);
    Ty value = sema_expr(c, st->b);
    if (ty_bad(target) || ty_bad(value)) return;
    const char *what = arena_printf(c->p->a, "the value assigned to '%s'",
                                    st->a->kind == AST_NAME ? st->a->name : "target");
    if (st->op == ASSIGN_MUL || st->op == ASSIGN_DIV)
        sema_expect_dim(c, value, ty_num(DIM_NONE, NULL), st->b->span, DIAG_UNIT_MISMATCH,
                        arena_printf(c->p->a, "the factor in '%s'", st->op == ASSIGN_MUL ? "*=" : "/="));
    else
        sema_expect_dim(c, value, target, st->b->span, DIAG_UNIT_MISMATCH, what);
}

static void check_stmt(Ctx *c, AstNode *st) {
    switch (st->kind) {
    case AST_ASSIGN: check_assign(c, st); break;
    case AST_DELIVER: {
        if (c->body != BODY_SYNAPSE) {
            diag_report(c->p->d, st->span, DIAG_BAD_OPTION, "'deliver' is allowed only in a synapse's 'on pre'");
            break;
        }
        Ty t = sema_expr(c, st->a);
        Sym *w = sema_lookup_local(c->scope->parent ? c->scope->parent : c->scope, "w");
        if (w && !ty_bad(t)) sema_expect_dim(c, t, w->ty, st->a->span, DIAG_UNIT_MISMATCH, "the delivered efficacy");
        break;
    }
    case AST_IF: {
        Ty cond = sema_expr(c, st->a);
        if (!ty_bad(cond) && cond.kind != TY_BOOL)
            diag_report(c->p->d, st->a->span, DIAG_NOT_BOOL, "the condition of 'if' has unit '%s', but a boolean is expected",
                        sema_ty_text(c->p, cond));
        check_block(c, &st->items);
        check_block(c, &st->items2);
        break;
    }
    default:
        diag_report(c->p->d, st->span, DIAG_BAD_OPTION, "a %s is not a statement", ast_kind_name(st->kind));
    }
}

static void check_block(Ctx *c, AstList *stmts) {
    for (int i = 0; i < stmts->n; i++) check_stmt(c, stmts->v[i]);
}

/* ---- bodies ---- */

static BodyKind body_kind(AstKind k) {
    switch (k) {
    case AST_NEURON: return BODY_NEURON;
    case AST_RECEPTOR: return BODY_RECEPTOR;
    case AST_SYNAPSE: return BODY_SYNAPSE;
    case AST_PLASTICITY: return BODY_PLASTICITY;
    case AST_MODULATOR: return BODY_MODULATOR;
    case AST_CONTEXT: return BODY_CONTEXT;
    case AST_MOTIF: return BODY_MOTIF;
    default: return BODY_NETWORK;
    }
}

static Sym *declare_implicit(Program *p, Scope *s, const char *name, SymKind kind, Ty ty) {
    if (sema_lookup_local(s, name)) return NULL;
    Sym *sym = sema_declare(p, s, name, kind, NULL, (SrcSpan){0});
    sym->ty = ty;
    sym->resolving = 2;
    sym->used = 1;
    return sym;
}

static Ty unknown_ty(Program *p, const char *what) {
    Ty t = ty_num(DIM_NONE, NULL);
    t.unk = sema_new_unknown(p, what);
    t.upow = 1;
    return t;
}

/* Declares the names a body introduces, before any item is checked. */
static Scope *collect_body(Program *p, AstNode *decl) {
    Scope *s = sema_scope_new(p, &p->global, decl);
    bool has_port = false;
    for (int i = 0; i < decl->items.n; i++) {
        AstNode *it = decl->items.v[i];
        Sym *sym = NULL;
        switch (it->kind) {
        case AST_PARAM: sema_declare(p, s, it->name, SYM_PARAM, it, it->name_span); break;
        case AST_STATE: sema_declare(p, s, it->name, SYM_STATE, it, it->name_span); break;
        case AST_DEF: sema_declare(p, s, it->name, SYM_DEF, it, it->name_span); break;
        case AST_TRACE: sema_declare(p, s, it->name, SYM_TRACE, it, it->name_span); break;
        case AST_LEVEL: sema_declare(p, s, it->name, SYM_LEVEL, it, it->name_span); break;
        case AST_RATE:
            sym = sema_declare(p, s, it->name, SYM_RATE, it, it->name_span);
            if (sym) {
                sym->ty = ty_num(DIM_RATE, "Hz");
                sym->resolving = 2;
            }
            break;
        case AST_PORT:
            has_port = true;
            if (it->items2.n >= 1) {
                AstNode *cur = it->items2.v[0];
                sym = sema_declare(p, s, cur->name, SYM_PORT_CURRENT, cur, cur->span);
                if (sym) {
                    sym->ty = unknown_ty(p, arena_printf(p->a, "the current of port '%s'", it->name));
                    sym->resolving = 2;
                    sym->data = it;
                }
            }
            break;
        default: break;
        }
    }
    if (decl->kind == AST_NEURON && !has_port) {
        Sym *sym = declare_implicit(p, s, "I_syn", SYM_PORT_CURRENT,
                                    unknown_ty(p, arena_printf(p->a, "'I_syn' of neuron '%s'", decl->name)));
        if (sym) sym->decl = decl;
    }
    if (decl->kind == AST_RECEPTOR) declare_implicit(p, s, "V", SYM_VOLTAGE, ty_num(DIM_VOLT, "mV"));
    if (decl->kind == AST_SYNAPSE || decl->kind == AST_PLASTICITY || decl->kind == AST_RECEPTOR)
        declare_implicit(p, s, "w", SYM_WEIGHT,
                         unknown_ty(p, arena_printf(p->a, "the weight of %s '%s'", sema_decl_word(decl->kind),
                                                    decl->name)));
    return s;
}

static const char *method_names[] = {"euler", "rk2", "rk4", "exponential_euler", "exact"};

bool sema_method_known(const char *name) {
    for (size_t i = 0; i < sizeof method_names / sizeof method_names[0]; i++)
        if (!strcmp(name, method_names[i])) return true;
    return false;
}

static void check_ode(Ctx *c, AstNode *it, AstNode **seen_ode, int nitems, int index) {
    Sym *s = sema_lookup_local(c->scope, it->name);
    if (!s || s->kind != SYM_STATE) {
        Diagnostic *g = diag_report(c->p->d, it->name_span, DIAG_ODE_NOT_STATE,
                                    "'d%s/dt' needs a state variable '%s'%s", it->name, it->name,
                                    s ? ", but it is not a state" : ", but none is declared");
        if (s && s->decl) diag_note(c->p->d, g, decl_span(s->decl), "'%s' declared here", it->name);
        if (!s) {
            /* A stand-in of the error type, so uses of the missing state
             * are not reported again as undefined names. */
            Sym *stand_in = sema_declare(c->p, c->scope, it->name, SYM_STATE, it, it->name_span);
            if (stand_in) {
                stand_in->ty = ty_error();
                stand_in->resolving = 2;
            }
        }
        sema_expr(c, it->a);
        return;
    }
    s->used++;
    for (int j = 0; j < index && j < nitems; j++)
        if (seen_ode[j] && !strcmp(seen_ode[j]->name, it->name)) {
            Diagnostic *g = diag_report(c->p->d, it->name_span, DIAG_DUPLICATE_ODE,
                                        "'%s' already has an ODE", it->name);
            diag_note(c->p->d, g, seen_ode[j]->name_span, "first ODE for '%s' is here", it->name);
            sema_expr(c, it->a); /* its errors and uses still count */
            return;
        }
    seen_ode[index] = it;
    Ty state = sema_sym_type(c, s, it->name_span);
    Ty rhs = sema_expr(c, it->a);
    if (ty_bad(state) || ty_bad(rhs)) return;
    state = sema_resolve_ty(c->p, state);
    Ty want = ty_num(unit_dim_div(state.dim, DIM_TIME), NULL);
    want.unk = state.unk;
    want.upow = state.upow;
    sema_expect_dim(c, rhs, want, it->a->span, DIAG_ODE_UNIT,
                    arena_printf(c->p->a, "the right-hand side of 'd%s/dt'", it->name));
}

static void check_time_const(Ctx *c, AstNode *e, const char *what, bool positive) {
    double v;
    if (!sema_const_value(c, e, DIM_TIME, what, &v)) return;
    if (v < 0 || (positive && v == 0))
        diag_report(c->p->d, e->span, DIAG_INVALID_VALUE, "%s must be %s", what, positive ? "positive" : "zero or positive");
}

static bool event_allowed(BodyKind b, int ev) {
    switch (b) {
    case BODY_RECEPTOR: return ev == EV_SPIKE;
    case BODY_SYNAPSE: return ev == EV_PRE || ev == EV_POST;
    case BODY_PLASTICITY: return ev == EV_PRE || ev == EV_POST;
    case BODY_MODULATOR: return ev == EV_RELEASE;
    default: return false;
    }
}

static const char *event_name(int ev) {
    switch (ev) {
    case EV_PRE: return "on pre";
    case EV_POST: return "on post";
    case EV_SPIKE: return "on spike";
    case EV_RELEASE: return "on release";
    default: return "on";
    }
}

static bool mentions(AstNode *e, const char *name) {
    if (!e) return false;
    if (e->kind == AST_NAME && !strcmp(e->name, name)) return true;
    if (mentions(e->a, name) || mentions(e->b, name) || mentions(e->c, name)) return true;
    for (int i = 0; i < e->items.n; i++)
        if (mentions(e->items.v[i], name)) return true;
    return false;
}

/* True if `e` is the weight `w` times a factor free of `w`: `w`, `-e`,
 * `e*k`, `k*e`, `e/k`. */
static bool proportional_to(AstNode *e, const char *w) {
    switch (e->kind) {
    case AST_NAME: return !strcmp(e->name, w);
    case AST_UNARY: return e->op != OP_NOT && proportional_to(e->a, w);
    case AST_BINARY:
        if (e->op == OP_MUL)
            return (proportional_to(e->a, w) && !mentions(e->b, w)) || (proportional_to(e->b, w) && !mentions(e->a, w));
        if (e->op == OP_DIV) return proportional_to(e->a, w) && !mentions(e->b, w);
        return false;
    default: return false;
    }
}

/* A receptor's `on spike(w)` runs once per step with the SUM of the weights
 * that arrived ([S-receptor-1]), which is exact only when the handler adds a
 * multiple of w to its states: `g += w`, `x -= 0.5*w`. */
static void check_receptor_linear(Ctx *c, AstNode *on, const char *w) {
    for (int i = 0; i < on->items.n; i++) {
        AstNode *st = on->items.v[i];
        if (st->kind == AST_ASSIGN && st->a->kind == AST_NAME) {
            Sym *t = sema_lookup(c->scope, st->a->name);
            bool jump = t && t->kind == SYM_VOLTAGE && (st->op == ASSIGN_ADD || st->op == ASSIGN_SUB);
            if (!t || (t->kind != SYM_STATE && !jump)) continue; /* reported by check_target */
        }
        bool ok = st->kind == AST_ASSIGN && (st->op == ASSIGN_ADD || st->op == ASSIGN_SUB) &&
                  proportional_to(st->b, w);
        if (!ok)
            diag_report(c->p->d, st->span, DIAG_RECEPTOR_NOT_LINEAR,
                        "a receptor's 'on spike(%s)' may only add multiples of '%s' to its states (such as "
                        "'g += %s'): it runs once per step with the summed weight of all arriving spikes", w, w, w);
    }
}

static void check_on(Ctx *c, AstNode *it) {
    if (!event_allowed(c->body, it->op)) {
        diag_report(c->p->d, it->span, DIAG_BAD_OPTION, "'%s' is not allowed in a %s", event_name(it->op),
                    sema_decl_word(c->scope->owner->kind));
        return;
    }
    Ctx k = *c;
    k.scope = sema_scope_new(c->p, c->scope, c->scope->owner);
    k.in_handler = true;
    for (int i = 0; i < it->items2.n; i++) {
        AstNode *arg = it->items2.v[i];
        if (it->op == EV_SPIKE && i == 0) {
            /* `on spike(w)`: the summed weight of the spikes arriving this step */
            Sym *w = sema_lookup_local(c->scope, "w");
            Sym *a = sema_declare(c->p, k.scope, arg->name, SYM_WEIGHT, arg, arg->span);
            if (a && w) {
                a->ty = w->ty;
                a->resolving = 2;
                a->used = 1;
            }
        } else {
            Sym *a = sema_declare(c->p, k.scope, arg->name, SYM_EVENT_ARG, arg, arg->span);
            if (a) {
                a->ty = unknown_ty(c->p, arena_printf(c->p->a, "argument '%s'", arg->name));
                a->resolving = 2;
                a->used = 1;
            }
        }
    }
    if (it->op == EV_SPIKE && it->items2.n != 1)
        diag_report(c->p->d, it->span, DIAG_ARG_COUNT, "'on spike' takes exactly one argument, the weight");
    check_block(&k, &it->items);
    if (it->op == EV_SPIKE && it->items2.n == 1) check_receptor_linear(c, it, it->items2.v[0]->name);
}

static void check_refractory(Ctx *c, AstNode *it) {
    check_time_const(c, it->a, "the refractory period", false);
    for (int i = 0; i < it->items2.n; i++) {
        AstNode *n = it->items2.v[i];
        Sym *s = sema_lookup_local(c->scope, n->name);
        if (!s) sema_undefined(c->p, c->scope, n->name, n->span, "state");
        else if (s->kind != SYM_STATE)
            diag_report(c->p->d, n->span, DIAG_WRONG_KIND, "only state variables can be clamped; '%s' is not one",
                        n->name);
        else s->used++;
    }
}

static void check_port(Ctx *c, AstNode *it) {
    if (c->body != BODY_NEURON) {
        diag_report(c->p->d, it->span, DIAG_BAD_OPTION, "ports are declared in neurons");
        return;
    }
    if (it->items2.n != 2) {
        diag_report(c->p->d, it->span, DIAG_ARG_COUNT, "a port names its current and its voltage: port %s(I, V)",
                    it->name);
        return;
    }
    AstNode *v = it->items2.v[1];
    Sym *s = sema_lookup_local(c->scope, v->name);
    if (!s) {
        sema_undefined(c->p, c->scope, v->name, v->span, "state");
        return;
    }
    Ty t = sema_sym_type(c, s, v->span);
    if (s->kind != SYM_STATE) {
        diag_report(c->p->d, v->span, DIAG_WRONG_KIND, "the voltage of a port must be a state; '%s' is not one",
                    v->name);
        return;
    }
    sema_expect_dim(c, t, ty_num(DIM_VOLT, "mV"), v->span, DIAG_EXPECTED_DIM,
                    arena_printf(c->p->a, "the voltage '%s' of port '%s'", v->name, it->name));
}

static void check_bounds(Ctx *c, AstNode *it) {
    Sym *w = sema_lookup_local(c->scope, "w");
    Ctx k = *c;
    k.constant = true;
    for (int i = 0; i < 2; i++) {
        AstNode *e = i ? it->b : it->a;
        Ty t = sema_expr(&k, e);
        if (ty_bad(t)) continue;
        if (!t.is_const) diag_report(c->p->d, e->span, DIAG_NOT_CONSTANT, "a weight bound must be a constant");
        else if (w) sema_expect_dim(c, t, w->ty, e->span, DIAG_UNIT_MISMATCH, "the weight bound");
    }
}

/* Items allowed in each kind of body: everything else is [invalid-option]. */
static bool item_allowed(BodyKind b, AstKind k) {
    switch (k) {
    case AST_PARAM: return b != BODY_CONTEXT;
    case AST_STATE: case AST_DEF: case AST_ODE:
        return b == BODY_NEURON || b == BODY_RECEPTOR || b == BODY_SYNAPSE || b == BODY_PLASTICITY || b == BODY_MODULATOR;
    case AST_SPIKE: case AST_REFRACTORY: case AST_PORT: return b == BODY_NEURON;
    case AST_METHOD: return b == BODY_NEURON || b == BODY_RECEPTOR || b == BODY_MODULATOR;
    case AST_CURRENT: return b == BODY_RECEPTOR;
    case AST_ON: return b == BODY_RECEPTOR || b == BODY_SYNAPSE || b == BODY_PLASTICITY || b == BODY_MODULATOR;
    case AST_TRACE: case AST_RATE: case AST_BOUNDS: return b == BODY_PLASTICITY;
    case AST_EVERY: return b == BODY_PLASTICITY || b == BODY_NEURON;
    case AST_LEVEL: case AST_SCALE: return b == BODY_CONTEXT;
    default: return false;
    }
}

static const char *item_word(AstKind k) {
    switch (k) {
    case AST_PARAM: return "a parameter";
    case AST_STATE: return "a state";
    case AST_DEF: return "a definition";
    case AST_ODE: return "an ODE";
    case AST_SPIKE: return "a spike condition";
    case AST_REFRACTORY: return "a refractory period";
    case AST_PORT: return "a port";
    case AST_METHOD: return "a method";
    case AST_CURRENT: return "a current";
    case AST_ON: return "an event handler";
    case AST_TRACE: return "a trace";
    case AST_RATE: return "a rate estimate";
    case AST_BOUNDS: return "a weight bound";
    case AST_EVERY: return "an 'every' block";
    case AST_LEVEL: return "a level";
    case AST_SCALE: return "a scaling";
    default: return "this item";
    }
}

static void check_item(Ctx *c, AstNode *it, AstNode **seen_ode, int n, int i) {
    Sym *s;
    switch (it->kind) {
    case AST_PARAM:
    case AST_STATE:
    case AST_DEF:
    case AST_TRACE:
    case AST_LEVEL:
        s = sema_lookup_local(c->scope, it->name);
        if (s && s->decl == it) {
            Ctx k = *c;
            k.constant = false;
            sema_sym_type(&k, s, it->name_span);
        }
        if (it->kind == AST_TRACE) check_time_const(c, it->a, "the time constant of a trace", true);
        break;
    case AST_RATE: check_time_const(c, it->a, "the time constant of a rate estimate", true); break;
    case AST_ODE: check_ode(c, it, seen_ode, n, i); break;
    case AST_SPIKE: {
        Ty cond = sema_expr(c, it->a);
        if (!ty_bad(cond) && cond.kind != TY_BOOL)
            diag_report(c->p->d, it->a->span, DIAG_NOT_BOOL,
                        "the spike condition has unit '%s', but a boolean (a comparison such as V > V_th) is expected",
                        sema_ty_text(c->p, cond));
        Ctx k = *c;
        k.in_handler = true;
        check_block(&k, &it->items);
        break;
    }
    case AST_REFRACTORY: check_refractory(c, it); break;
    case AST_PORT: check_port(c, it); break;
    case AST_CURRENT: {
        Ty t = sema_expr(c, it->a);
        if (!ty_bad(t) && t.kind != TY_NUM)
            diag_report(c->p->d, it->a->span, DIAG_BOOL_ARITH, "a receptor current must be a number");
        it->sema = ARENA_NEW(c->p->a, Ty);
        *(Ty *)it->sema = t;
        break;
    }
    case AST_ON: check_on(c, it); break;
    case AST_EVERY: {
        check_time_const(c, it->a, "the period of 'every'", true);
        Ctx k = *c;
        k.in_handler = true;
        check_block(&k, &it->items);
        break;
    }
    case AST_BOUNDS: check_bounds(c, it); break;
    case AST_METHOD:
        if (!sema_method_known(it->name))
            diag_report(c->p->d, it->name_span, DIAG_BAD_OPTION,
                        "unknown method '%s'; expected euler, rk2, rk4, exponential_euler or exact", it->name);
        break;
    case AST_SCALE: break; /* checked where the context is entered (sema_net.c) */
    default: break;
    }
}

static void warn_unused(Program *p, Scope *s) {
    for (int i = 0; i < s->n; i++) {
        Sym *sym = s->v[i];
        if (sym->used || !sym->decl || (sym->kind != SYM_PARAM && sym->kind != SYM_DEF)) continue;
        diag_report(p->d, decl_span(sym->decl), DIAG_UNUSED, "%s '%s' is never used",
                    sym->kind == SYM_PARAM ? "parameter" : "definition", sym->name);
    }
}

static void check_body(Program *p, AstNode *decl) {
    Scope *s = sema_body_scope(p, decl);
    Ctx c = {.p = p, .scope = s, .body = body_kind(decl->kind)};
    int n = decl->items.n;
    AstNode **seen_ode = ARENA_ARRAY(p->a, AstNode *, n + 1);
    for (int i = 0; i < n; i++) {
        AstNode *it = decl->items.v[i];
        if (!item_allowed(c.body, it->kind)) {
            diag_report(p->d, it->span, DIAG_BAD_OPTION, "%s is not allowed in a %s", item_word(it->kind),
                        sema_decl_word(decl->kind));
            continue;
        }
        check_item(&c, it, seen_ode, n, i);
    }
    if (decl->kind == AST_RECEPTOR) {
        int currents = 0;
        for (int i = 0; i < n; i++) currents += decl->items.v[i]->kind == AST_CURRENT;
        if (currents != 1)
            diag_report(p->d, decl->name_span, DIAG_BAD_OPTION, "receptor '%s' must declare exactly one 'current' (found %d)",
                        decl->name, currents);
    }
}

/* ---- the pass ---- */

static void declare_globals(Program *p, Session *s) {
    Sym *t = sema_declare(p, &p->global, "t", SYM_BUILTIN, NULL, (SrcSpan){0});
    t->ty = ty_num(DIM_TIME, "ms");
    Sym *dt = sema_declare(p, &p->global, "dt", SYM_BUILTIN, NULL, (SrcSpan){0});
    dt->ty = ty_num(DIM_TIME, "ms");
    Sym *pi = sema_declare(p, &p->global, "pi", SYM_BUILTIN, NULL, (SrcSpan){0});
    pi->ty = ty_num(DIM_NONE, NULL);
    pi->ty.is_const = true;
    pi->ty.value = 3.14159265358979323846;
    /* Imported files first (files[0] is the root file, imports follow it),
     * so a clash with an imported name is reported in the importing file,
     * where it can be fixed, with a note at the imported declaration. */
    for (int f = s->nfiles - 1; f >= 0; f--) {
        AstList *decls = &s->files[f]->items;
        for (int i = 0; i < decls->n; i++) {
            AstNode *d = decls->v[i];
            if (d->kind == AST_IMPORT || d->kind == AST_SIMULATE || !d->name) continue;
            Sym *sym = sema_declare(p, &p->global, d->name, SYM_DECL, d, d->name_span);
            if (sym) sym->resolving = 2;
        }
    }
}

Program *sema_check(Session *s) {
    Program *p = ARENA_NEW(&s->arena, Program);
    p->s = s;
    p->a = &s->arena;
    p->d = &s->diags;
    int errors_before = s->diags.nerrors;
    declare_globals(p, s);
    for (int f = 0; f < s->nfiles; f++) {
        AstList *decls = &s->files[f]->items;
        for (int i = 0; i < decls->n; i++) {
            AstNode *d = decls->v[i];
            if (d->kind >= AST_NEURON && d->kind <= AST_CONTEXT) add_body(p, d, collect_body(p, d));
        }
    }
    for (int i = 0; i < p->nbodies; i++) check_body(p, p->body_decls[i]);
    for (int f = 0; f < s->nfiles; f++) {
        AstList *decls = &s->files[f]->items;
        for (int i = 0; i < decls->n; i++) {
            AstNode *d = decls->v[i];
            if (d->kind == AST_SIMULATE) sema_check_simulate(p, d);
        }
        for (int i = 0; i < decls->n; i++) {
            AstNode *d = decls->v[i];
            if (d->kind == AST_CONTEXT) sema_check_context_decl(p, d);
            else if (d->kind == AST_MOTIF) sema_check_motif_decl(p, d);
            else if (d->kind == AST_NETWORK) sema_check_network(p, d);
        }
    }
    /* Last, so that uses in networks (overrides, recordings) count too. */
    for (int i = 0; i < p->nbodies; i++)
        if (p->body_decls[i]->kind != AST_CONTEXT) warn_unused(p, p->bodies[i]);
    diag_flush(p->d);
    return s->diags.nerrors > errors_before ? NULL : p;
}
