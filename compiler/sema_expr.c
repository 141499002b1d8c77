/* sema_expr.c - expressions: name lookup, types, physical dimensions and
 * constant folding (every constant in SI units).
 *
 * A bare identifier is looked up in the enclosing scopes first; only when no
 * declaration has that name is it read as a unit (`1/s`, `x*mV`). A number
 * written with a unit (`200 pF`) always names a unit. */
#include <math.h>
#include <string.h>

#include "sema_int.h"

Ty ty_num(Dim d, const char *unit) {
    Ty t = {0};
    t.kind = TY_NUM;
    t.dim = d;
    t.unit = unit;
    return t;
}

Ty ty_error(void) { return (Ty){.kind = TY_ERROR}; }
Ty ty_bool(void) { return (Ty){.kind = TY_BOOL}; }
bool ty_bad(Ty t) { return t.kind == TY_ERROR || t.kind == TY_ANY; }

static Ty ty_const(Dim d, double v, const char *unit) {
    Ty t = ty_num(d, unit);
    t.is_const = true;
    t.value = v;
    return t;
}

int sema_new_unknown(Program *p, const char *what) {
    if (p->nunknowns + 1 >= p->cap_unknowns) {
        int cap = p->cap_unknowns ? p->cap_unknowns * 2 : 16;
        p->unknowns = arena_grow(p->a, p->unknowns, (size_t)p->cap_unknowns, (size_t)cap, sizeof(Unknown));
        p->cap_unknowns = cap;
    }
    p->nunknowns++; /* index 0 means "no unknown" */
    p->unknowns[p->nunknowns].what = what;
    return p->nunknowns;
}

Ty sema_resolve_ty(Program *p, Ty t) {
    if (t.unk > 0 && p->unknowns[t.unk].bound) {
        if (t.upow == 1 && unit_dim_is_dimensionless(t.dim)) t.unit = p->unknowns[t.unk].unit;
        t.dim = unit_dim_mul(t.dim, unit_dim_pow(p->unknowns[t.unk].dim, t.upow, 1));
        t.unk = 0;
        t.upow = 0;
    }
    return t;
}

/* Binds the unknown of `u` so that `u` gets the dimension of `known`. */
static void bind_unknown(Program *p, Ty u, Ty known) {
    Dim rest = unit_dim_div(known.dim, u.dim);
    p->unknowns[u.unk].dim = unit_dim_pow(rest, 1, u.upow);
    p->unknowns[u.unk].bound = true;
    /* Keep the unit's spelling ("nS" rather than "S") when u is exactly the unknown. */
    p->unknowns[u.unk].unit = u.upow == 1 && unit_dim_is_dimensionless(u.dim) ? known.unit : NULL;
}

bool sema_unify(Program *p, Ty *a, Ty *b) {
    *a = sema_resolve_ty(p, *a);
    *b = sema_resolve_ty(p, *b);
    if (ty_bad(*a) || ty_bad(*b) || a->wild || b->wild) return true;
    if (a->kind != TY_NUM && a->kind != TY_DIST) return true;
    if (b->kind != TY_NUM && b->kind != TY_DIST) return true;
    if (a->unk && !b->unk) {
        bind_unknown(p, *a, *b);
        *a = sema_resolve_ty(p, *a);
        return true;
    }
    if (b->unk && !a->unk) {
        bind_unknown(p, *b, *a);
        *b = sema_resolve_ty(p, *b);
        return true;
    }
    if (a->unk || b->unk) return a->unk != b->unk || a->upow != b->upow || unit_dim_equal(a->dim, b->dim);
    return unit_dim_equal(a->dim, b->dim);
}

const char *sema_ty_text(Program *p, Ty t) {
    t = sema_resolve_ty(p, t);
    if (t.kind == TY_BOOL) return "boolean";
    if (t.kind == TY_STRING) return "string";
    if (t.unk) return arena_printf(p->a, "unit of %s", p->unknowns[t.unk].what);
    if (t.unit) {
        double scale;
        Dim d;
        if (unit_lookup(t.unit, &scale, &d) && unit_dim_equal(d, t.dim)) return t.unit;
    }
    return unit_format_dim(p->a, t.dim);
}

bool sema_expect_dim(Ctx *c, Ty t, Ty want, SrcSpan at, DiagId id, const char *what) {
    if (t.kind == TY_BOOL && want.kind == TY_NUM) {
        Ty w = sema_resolve_ty(c->p, want);
        if (!w.unk && unit_dim_is_dimensionless(w.dim))
            diag_report(c->p->d, at, DIAG_BOOL_ARITH, "%s is a boolean, but a number is expected", what);
        else
            diag_report(c->p->d, at, DIAG_BOOL_ARITH, "%s is a boolean, but a number in '%s' is expected", what,
                        sema_ty_text(c->p, want));
        return false;
    }
    if (sema_unify(c->p, &t, &want)) return true;
    diag_report(c->p->d, at, id, "%s has unit '%s', but '%s' is expected", what,
                sema_ty_text(c->p, t), sema_ty_text(c->p, want));
    return false;
}

/* ---- names ---- */

static void note_declared(Program *p, Diagnostic *g, Sym *s) {
    if (s && s->decl) diag_note(p->d, g, s->decl->name_span.file ? s->decl->name_span : s->decl->span,
                                "'%s' declared here", s->name);
}

static Ty check_name(Ctx *c, AstNode *e) {
    Sym *s = sema_lookup(c->scope, e->name);
    if (s) {
        s->used++;
        return sema_sym_type(c, s, e->span);
    }
    double scale;
    Dim d;
    if (unit_lookup(e->name, &scale, &d)) return ty_const(d, scale, e->name);
    sema_undefined(c->p, c->scope, e->name, e->span, "name");
    return ty_error();
}

/* `Mod.x` (a modulator's state or parameter, a context's level) and, inside
 * synapses and plasticity rules, `pre.x` / `post.x` (the neurons' variables;
 * their units are checked where the rule is used in a connection). */
static Ty check_member(Ctx *c, AstNode *e) {
    AstNode *obj = e->a;
    if (obj->kind == AST_NAME && (!strcmp(obj->name, "pre") || !strcmp(obj->name, "post")) &&
        (c->body == BODY_SYNAPSE || c->body == BODY_PLASTICITY))
        return (Ty){.kind = TY_ANY};
    if (obj->kind != AST_NAME) {
        diag_report(c->p->d, e->span, DIAG_WRONG_KIND, "'%s' cannot be read here", e->name);
        return ty_error();
    }
    Sym *s = sema_lookup(c->scope, obj->name);
    if (!s) {
        sema_undefined(c->p, c->scope, obj->name, obj->span, "name");
        return ty_error();
    }
    if (s->kind != SYM_DECL || (s->decl->kind != AST_MODULATOR && s->decl->kind != AST_CONTEXT)) {
        Diagnostic *g = diag_report(c->p->d, obj->span, DIAG_WRONG_KIND,
                                    "'%s' has no members that can be read here", obj->name);
        note_declared(c->p, g, s);
        return ty_error();
    }
    s->used++;
    Scope *body = sema_body_scope(c->p, s->decl);
    Sym *m = body ? sema_lookup_local(body, e->name) : NULL;
    if (!m) {
        sema_no_member(c->p, body, e->name, e->name_span, "member", arena_printf(c->p->a, "'%s'", obj->name));
        return ty_error();
    }
    m->used++;
    Ctx inner = *c;
    inner.scope = body;
    return sema_sym_type(&inner, m, e->span);
}

/* ---- numbers and operators ---- */

static Ty check_number(Ctx *c, AstNode *e) {
    if (!e->unit) {
        Ty t = ty_const(DIM_NONE, e->num, NULL);
        t.wild = e->num == 0;
        return t;
    }
    double scale;
    Dim d;
    if (!unit_lookup(e->unit, &scale, &d)) {
        const char *hint = unit_suggest(e->unit);
        Diagnostic *g = diag_report(c->p->d, e->unit_span, DIAG_UNKNOWN_UNIT, "unknown unit '%s'", e->unit);
        if (hint) diag_note(c->p->d, g, e->unit_span, "did you mean '%s'?", hint);
        return ty_error();
    }
    return ty_const(d, e->num * scale, e->unit);
}

static bool want_number(Ctx *c, Ty t, AstNode *at, const char *op) {
    if (t.kind == TY_BOOL) {
        diag_report(c->p->d, at->span, DIAG_BOOL_ARITH, "a boolean cannot be an operand of '%s'", op);
        return false;
    }
    if (t.kind == TY_STRING || t.kind == TY_DIST) {
        diag_report(c->p->d, at->span, t.kind == TY_DIST ? DIAG_MISPLACED_DIST : DIAG_WRONG_KIND,
                    "a %s cannot be an operand of '%s'", t.kind == TY_DIST ? "distribution" : "string", op);
        return false;
    }
    return true;
}

static bool want_bool(Ctx *c, Ty t, AstNode *at, const char *op) {
    if (t.kind == TY_BOOL || ty_bad(t)) return true;
    diag_report(c->p->d, at->span, DIAG_NOT_BOOL,
                "operand of '%s' has unit '%s', but a boolean (a comparison) is expected", op,
                sema_ty_text(c->p, t));
    return false;
}

/* Turns an exponent into a small rational num/den; false if it is not one. */
static bool as_rational(double x, int64_t *num, int64_t *den) {
    for (int64_t q = 1; q <= 12; q++) {
        double n = x * (double)q;
        if (fabs(n) < 1e9 && fabs(n - nearbyint(n)) < 1e-9) {
            *num = (int64_t)nearbyint(n);
            *den = q;
            return true;
        }
    }
    return false;
}

static Ty check_power(Ctx *c, AstNode *e, Ty a, Ty b) {
    if (!ty_bad(b) && !unit_dim_is_dimensionless(sema_resolve_ty(c->p, b).dim) && !b.wild) {
        diag_report(c->p->d, e->b->span, DIAG_BAD_POWER, "an exponent must be dimensionless, not '%s'",
                    sema_ty_text(c->p, b));
        return ty_error();
    }
    if (ty_bad(a) || ty_bad(b)) return ty_bad(a) ? a : b;
    a = sema_resolve_ty(c->p, a);
    Ty r = ty_num(a.dim, NULL);
    if (a.is_const && b.is_const) {
        r.is_const = true;
        r.value = pow(a.value, b.value);
    }
    if (unit_dim_is_dimensionless(a.dim) && !a.unk) return r;
    int64_t num, den;
    if (!b.is_const || !as_rational(b.value, &num, &den)) {
        diag_report(c->p->d, e->b->span, DIAG_BAD_POWER,
                    "a quantity with unit '%s' can only be raised to a constant rational power",
                    sema_ty_text(c->p, a));
        return ty_error();
    }
    if (a.unk) return (Ty){.kind = TY_ANY};
    r.dim = unit_dim_pow(a.dim, num, den);
    return r;
}

static const char *op_word(int op) {
    switch (op) {
    case OP_ADD: return "add";
    case OP_SUB: return "subtract";
    default: return "compare";
    }
}

static Ty check_binary(Ctx *c, AstNode *e) {
    Ty a = sema_expr(c, e->a), b = sema_expr(c, e->b);
    const char *sym = ast_op_text(e->op);
    if (e->op == OP_AND || e->op == OP_OR) {
        bool ok = want_bool(c, a, e->a, sym) & want_bool(c, b, e->b, sym);
        return ok ? ty_bool() : ty_error();
    }
    if (!want_number(c, a, e->a, sym) || !want_number(c, b, e->b, sym)) return ty_error();
    if (e->op == OP_POW) return check_power(c, e, a, b);
    if (ty_bad(a) || ty_bad(b)) return a.kind == TY_ERROR || b.kind == TY_ERROR ? ty_error() : (Ty){.kind = TY_ANY};
    bool additive = e->op == OP_ADD || e->op == OP_SUB;
    bool compare = e->op >= OP_LT && e->op <= OP_NE;
    if (additive || compare) {
        Ty ua = a, ub = b;
        if (!sema_unify(c->p, &ua, &ub)) {
            Diagnostic *g = diag_report(c->p->d, e->b->span, DIAG_UNIT_MISMATCH, "cannot %s '%s' and '%s'",
                                        op_word(e->op), sema_ty_text(c->p, a), sema_ty_text(c->p, b));
            if (e->a->kind == AST_NAME) note_declared(c->p, g, sema_lookup(c->scope, e->a->name));
            if (e->b->kind == AST_NAME) note_declared(c->p, g, sema_lookup(c->scope, e->b->name));
            return ty_error();
        }
        if (compare) return ty_bool();
        Ty r = ua.wild ? ub : ua;
        r.wild = ua.wild && ub.wild;
        r.is_const = a.is_const && b.is_const;
        r.value = e->op == OP_ADD ? a.value + b.value : a.value - b.value;
        return r;
    }
    /* multiplication, division */
    a = sema_resolve_ty(c->p, a);
    b = sema_resolve_ty(c->p, b);
    Ty r = ty_num(e->op == OP_MUL ? unit_dim_mul(a.dim, b.dim) : unit_dim_div(a.dim, b.dim), NULL);
    if (a.unk && b.unk && a.unk != b.unk) return (Ty){.kind = TY_ANY};
    r.unk = a.unk ? a.unk : b.unk;
    r.upow = a.upow + (e->op == OP_MUL ? b.upow : -b.upow);
    if (r.upow == 0) r.unk = 0;
    r.wild = e->op == OP_MUL ? (a.wild || b.wild) : a.wild;
    r.is_const = a.is_const && b.is_const;
    r.value = e->op == OP_MUL ? a.value * b.value : a.value / b.value;
    return r;
}

static Ty check_unary(Ctx *c, AstNode *e) {
    Ty a = sema_expr(c, e->a);
    if (e->op == OP_NOT) return want_bool(c, a, e->a, "not") ? ty_bool() : ty_error();
    if (!want_number(c, a, e->a, e->op == OP_NEG ? "-" : "+")) return ty_error();
    if (e->op == OP_NEG) a.value = -a.value;
    return a;
}

static Ty check_cond(Ctx *c, AstNode *e) {
    Ty cond = sema_expr(c, e->a);
    Ty a = sema_expr(c, e->b), b = sema_expr(c, e->c);
    if (cond.kind != TY_BOOL && !ty_bad(cond))
        diag_report(c->p->d, e->a->span, DIAG_NOT_BOOL,
                    "the condition of 'if' has unit '%s', but a boolean (a comparison) is expected",
                    sema_ty_text(c->p, cond));
    if (ty_bad(a) || ty_bad(b)) return ty_bad(a) ? a : b;
    if (a.kind == TY_BOOL && b.kind == TY_BOOL) return ty_bool();
    if (!want_number(c, a, e->b, "if") || !want_number(c, b, e->c, "if")) return ty_error();
    Ty ua = a, ub = b;
    if (!sema_unify(c->p, &ua, &ub)) {
        diag_report(c->p->d, e->c->span, DIAG_UNIT_MISMATCH,
                    "the branches of 'if' have different units: '%s' and '%s'", sema_ty_text(c->p, a),
                    sema_ty_text(c->p, b));
        return ty_error();
    }
    Ty r = ua.wild ? ub : ua;
    r.is_const = cond.is_const && a.is_const && b.is_const;
    r.value = cond.value != 0 ? a.value : b.value;
    return r;
}

/* ---- calls of built-in functions ---- */

typedef enum FnShape {
    FN_DIMLESS,  /* f(dimensionless) -> dimensionless */
    FN_SAME,     /* f(x, y...) -> unit of x; all arguments agree */
    FN_SQRT,
    FN_DIST,     /* uniform(a, b), normal(m, s) */
} FnShape;

typedef struct Builtin {
    const char *name;
    int nargs;
    FnShape shape;
    double (*fold1)(double);
} Builtin;

static double clip_unused(double x) { return x; }

static const Builtin builtins[] = {
    {"exp", 1, FN_DIMLESS, exp},     {"log", 1, FN_DIMLESS, log},   {"log10", 1, FN_DIMLESS, log10},
    {"sin", 1, FN_DIMLESS, sin},     {"cos", 1, FN_DIMLESS, cos},   {"tan", 1, FN_DIMLESS, tan},
    {"tanh", 1, FN_DIMLESS, tanh},   {"sinh", 1, FN_DIMLESS, sinh}, {"cosh", 1, FN_DIMLESS, cosh},
    {"floor", 1, FN_DIMLESS, floor}, {"ceil", 1, FN_DIMLESS, ceil}, {"sqrt", 1, FN_SQRT, sqrt},
    {"abs", 1, FN_SAME, fabs},       {"min", 2, FN_SAME, NULL},     {"max", 2, FN_SAME, NULL},
    {"clip", 3, FN_SAME, clip_unused}, {"uniform", 2, FN_DIST, NULL}, {"normal", 2, FN_DIST, NULL},
};

static const Builtin *find_builtin(const char *name) {
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
        if (!strcmp(builtins[i].name, name)) return &builtins[i];
    return NULL;
}

static void unknown_function(Ctx *c, AstNode *e) {
    const char *best = NULL;
    size_t n = strlen(e->name);
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        const char *b = builtins[i].name;
        size_t m = strlen(b), same = 0;
        for (size_t k = 0; k < n && k < m; k++) same += e->name[k] == b[k];
        if (same + 1 >= (n > m ? n : m) && n > 1) best = b;
    }
    Diagnostic *g = diag_report(c->p->d, e->name_span, DIAG_UNKNOWN_FUNCTION, "unknown function '%s'", e->name);
    if (best) diag_note(c->p->d, g, e->name_span, "did you mean '%s'?", best);
}

static Ty fold_call(const Builtin *b, Ty *args, Ty r) {
    for (int i = 0; i < b->nargs; i++)
        if (!args[i].is_const) return r;
    r.is_const = true;
    if (!strcmp(b->name, "min")) r.value = fmin(args[0].value, args[1].value);
    else if (!strcmp(b->name, "max")) r.value = fmax(args[0].value, args[1].value);
    else if (!strcmp(b->name, "clip")) r.value = fmin(fmax(args[0].value, args[1].value), args[2].value);
    else r.value = b->fold1(args[0].value);
    return r;
}

/* Checks the arguments of a call that is already reported as wrong, so
 * that errors inside them are found and their names count as used. */
static void check_args_only(Ctx *c, AstNode *e) {
    for (int i = 0; i < e->items.n; i++) {
        AstNode *arg = e->items.v[i];
        sema_expr(c, arg->kind == AST_ARG ? arg->a : arg);
    }
}

static Ty check_call(Ctx *c, AstNode *e) {
    const Builtin *b = find_builtin(e->name);
    if (!b) {
        check_args_only(c, e);
        Sym *s = sema_lookup(c->scope, e->name);
        if (s && s->kind == SYM_DECL) {
            diag_report(c->p->d, e->name_span, DIAG_WRONG_KIND, "%s '%s' cannot be called in an expression",
                        sema_decl_word(s->decl->kind), e->name);
            return ty_error();
        }
        unknown_function(c, e);
        return ty_error();
    }
    if (e->items.n != b->nargs) {
        diag_report(c->p->d, e->span, DIAG_ARG_COUNT, "'%s' takes %d argument%s, but %d %s given", e->name,
                    b->nargs, b->nargs == 1 ? "" : "s", e->items.n, e->items.n == 1 ? "was" : "were");
        check_args_only(c, e);
        return ty_error();
    }
    for (int i = 0; i < b->nargs; i++)
        if (e->items.v[i]->kind == AST_ARG) {
            diag_report(c->p->d, e->items.v[i]->name_span, DIAG_ARG_COUNT, "'%s' takes no named arguments",
                        e->name);
            check_args_only(c, e);
            return ty_error();
        }
    Ty args[3];
    bool bad = false;
    for (int i = 0; i < b->nargs; i++) {
        AstNode *arg = e->items.v[i];
        args[i] = sema_expr(c, arg);
        bad |= ty_bad(args[i]) || !want_number(c, args[i], arg, e->name);
    }
    if (bad) return ty_error();
    switch (b->shape) {
    case FN_DIMLESS:
        if (!sema_expect_dim(c, args[0], ty_num(DIM_NONE, NULL), e->items.v[0]->span, DIAG_DIMENSIONLESS_ARG,
                             arena_printf(c->p->a, "the argument of '%s'", e->name)))
            return ty_error();
        return fold_call(b, args, ty_num(DIM_NONE, NULL));
    case FN_SQRT: {
        Ty a = sema_resolve_ty(c->p, args[0]);
        if (a.unk) return (Ty){.kind = TY_ANY};
        return fold_call(b, args, ty_num(unit_dim_pow(a.dim, 1, 2), NULL));
    }
    case FN_SAME:
    case FN_DIST:
        for (int i = 1; i < b->nargs; i++)
            if (!sema_unify(c->p, &args[0], &args[i])) {
                diag_report(c->p->d, e->items.v[i]->span, DIAG_UNIT_MISMATCH,
                            "the arguments of '%s' have different units: '%s' and '%s'", e->name,
                            sema_ty_text(c->p, args[0]), sema_ty_text(c->p, args[i]));
                return ty_error();
            }
        if (b->shape == FN_SAME) {
            Ty r = args[0].wild && b->nargs > 1 ? args[1] : args[0];
            r.is_const = false;
            return fold_call(b, args, r);
        }
        if (!c->allow_dist) {
            diag_report(c->p->d, e->span, DIAG_MISPLACED_DIST,
                        "'%s' draws random values; it is allowed only in initial values, overrides, "
                        "weights and delays", e->name);
            return ty_error();
        }
        Ty r = args[0].wild ? args[1] : args[0];
        r.kind = TY_DIST;
        r.is_const = false;
        return r;
    }
    return ty_error();
}

Ty sema_expr(Ctx *c, AstNode *e) {
    if (!e) return ty_error();
    switch (e->kind) {
    case AST_NUM: return check_number(c, e);
    case AST_BOOL: {
        Ty t = ty_bool();
        t.is_const = true;
        t.value = e->num;
        return t;
    }
    case AST_STRING: return (Ty){.kind = TY_STRING};
    case AST_NAME: return check_name(c, e);
    case AST_MEMBER: return check_member(c, e);
    case AST_UNARY: return check_unary(c, e);
    case AST_BINARY: return check_binary(c, e);
    case AST_COND: return check_cond(c, e);
    case AST_CALL: return check_call(c, e);
    case AST_RANGE:
        diag_report(c->p->d, e->span, DIAG_WRONG_KIND, "a neuron range such as '%s[...]' is not a value here",
                    e->name);
        return ty_error();
    default:
        diag_report(c->p->d, e->span, DIAG_WRONG_KIND, "this is not a value");
        return ty_error();
    }
}

bool sema_const_value(Ctx *c, AstNode *e, Dim want, const char *what, double *out) {
    Ctx k = *c;
    k.constant = true;
    Ty t = sema_expr(&k, e);
    if (ty_bad(t)) return false;
    if (!sema_expect_dim(&k, t, ty_num(want, NULL), e->span, DIAG_EXPECTED_DIM, what)) return false;
    if (!t.is_const) {
        diag_report(c->p->d, e->span, DIAG_NOT_CONSTANT, "%s must be a constant known before the run", what);
        return false;
    }
    *out = t.value;
    return true;
}
