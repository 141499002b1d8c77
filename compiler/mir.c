/* mir.c - constructors and the pretty printer of the mid-level IR (mir.h).
 *
 * sema.c builds MIR with these constructors, ode.c adds the discretized
 * update, and `eic --dump=ir` / tests print it with mir_dump(). Nothing here
 * simplifies: constant folding lives in mir_eval.c (mir_fold). */
#include "mir.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

MirExpr *mir_const(Arena *a, double v) {
    MirExpr *e = ARENA_NEW(a, MirExpr);
    e->op = MX_CONST;
    e->value = v;
    return e;
}

/* A leaf that names a slot (MX_STATE, MX_PARAM, MX_INPUT, MX_TEMP) or has
 * no operand at all (MX_TIME, MX_DT). */
MirExpr *mir_leaf(Arena *a, MirOp op, int slot) {
    assert(op == MX_STATE || op == MX_PARAM || op == MX_INPUT || op == MX_TEMP ||
           op == MX_TIME || op == MX_DT || op == MX_PCONST || op == MX_GLOBAL);
    MirExpr *e = ARENA_NEW(a, MirExpr);
    e->op = op;
    e->slot = slot;
    return e;
}

/* Builds a node with `n` operands; the operand array is arena-owned. */
static MirExpr *mir_node(Arena *a, MirOp op, int n, MirExpr **args) {
    MirExpr *e = ARENA_NEW(a, MirExpr);
    e->op = op;
    e->nargs = n;
    e->args = ARENA_ARRAY(a, MirExpr *, n);
    for (int i = 0; i < n; i++) {
        assert(args[i]);
        e->args[i] = args[i];
    }
    /* A derived node inherits the span of its operands (STYLE.md §4). */
    if (n > 0) {
        e->span = args[0]->span;
        for (int i = 1; i < n; i++)
            if (args[i]->span.file == e->span.file && e->span.file != 0)
                e->span = src_span_join(e->span, args[i]->span);
    }
    return e;
}

MirExpr *mir_unary(Arena *a, MirOp op, MirExpr *x) {
    assert(op == MX_NEG || op == MX_NOT);
    return mir_node(a, op, 1, &x);
}

MirExpr *mir_binary(Arena *a, MirOp op, MirExpr *x, MirExpr *y) {
    assert(op >= MX_ADD && op <= MX_OR && op != MX_CALL);
    MirExpr *v[2] = {x, y};
    return mir_node(a, op, 2, v);
}

MirExpr *mir_call(Arena *a, MirFn fn, int nargs, MirExpr **args) {
    assert(fn >= 0 && fn < MF__COUNT);
    MirExpr *e = mir_node(a, MX_CALL, nargs, args);
    e->fn = fn;
    return e;
}

MirExpr *mir_select(Arena *a, MirExpr *c, MirExpr *x, MirExpr *y) {
    MirExpr *v[3] = {c, x, y};
    return mir_node(a, MX_SELECT, 3, v);
}

MirStmt *mir_set(Arena *a, int slot, MirExpr *value) {
    MirStmt *s = ARENA_NEW(a, MirStmt);
    s->kind = MIR_SET;
    s->slot = slot;
    s->value = value;
    return s;
}

MirStmt *mir_let(Arena *a, int slot, MirExpr *value) {
    MirStmt *s = ARENA_NEW(a, MirStmt);
    s->kind = MIR_LET;
    s->slot = slot;
    s->value = value;
    return s;
}

MirStmt *mir_input_clear(Arena *a, int slot) {
    MirStmt *s = ARENA_NEW(a, MirStmt);
    s->kind = MIR_INPUT_CLEAR;
    s->slot = slot;
    return s;
}

MirStmt *mir_if(Arena *a, MirExpr *cond) {
    MirStmt *s = ARENA_NEW(a, MirStmt);
    s->kind = MIR_IF;
    s->value = cond;
    return s;
}

void mir_push(Arena *a, MirBlock *b, MirStmt *s) {
    if (b->n == b->cap) {
        int cap = b->cap ? 2 * b->cap : 8;
        b->v = arena_grow(a, b->v, (size_t)b->n, (size_t)cap, sizeof *b->v);
        b->cap = cap;
    }
    b->v[b->n++] = s;
}

/* ---- pretty printer ------------------------------------------------------ */

static const char *const fn_names[MF__COUNT] = {
    [MF_EXP] = "exp", [MF_LOG] = "log", [MF_SQRT] = "sqrt", [MF_SIN] = "sin",
    [MF_COS] = "cos", [MF_TANH] = "tanh", [MF_ABS] = "abs", [MF_MIN] = "min",
    [MF_MAX] = "max", [MF_CLIP] = "clip", [MF_FLOOR] = "floor",
    [MF_EXPEULER] = "expeuler",
};

const char *mir_fn_name(MirFn fn) {
    return (fn >= 0 && fn < MF__COUNT) ? fn_names[fn] : "?";
}

/* Binding strength of an operator for printing with minimal parentheses. */
static int prec(MirOp op) {
    switch (op) {
    case MX_OR: return 1;
    case MX_AND: return 2;
    case MX_LT: case MX_LE: case MX_GT: case MX_GE: case MX_EQ: case MX_NE: return 3;
    case MX_ADD: case MX_SUB: return 4;
    case MX_MUL: case MX_DIV: return 5;
    case MX_NEG: case MX_NOT: return 6;
    case MX_POW: return 7;
    default: return 8; /* leaves, calls, select print self-delimited */
    }
}

static const char *binop_text(MirOp op) {
    switch (op) {
    case MX_ADD: return " + ";  case MX_SUB: return " - ";
    case MX_MUL: return "*";    case MX_DIV: return "/";
    case MX_POW: return "^";    case MX_LT: return " < ";
    case MX_LE: return " <= ";  case MX_GT: return " > ";
    case MX_GE: return " >= ";  case MX_EQ: return " == ";
    case MX_NE: return " != ";  case MX_AND: return " and ";
    case MX_OR: return " or ";  default: return " ? ";
    }
}

static void dump_leaf(FILE *f, const MirPop *p, const MirExpr *e) {
    switch (e->op) {
    case MX_CONST: fprintf(f, "%.17g", e->value); break;
    case MX_STATE:
        if (p && e->slot >= 0 && e->slot < p->nstates) fprintf(f, "%s", p->states[e->slot].name);
        else fprintf(f, "state[%d]", e->slot);
        break;
    case MX_PARAM:
        if (p && e->slot >= 0 && e->slot < p->nparams) fprintf(f, "%s", p->params[e->slot].name);
        else fprintf(f, "param[%d]", e->slot);
        break;
    case MX_INPUT:
        if (p && p->input_names && e->slot >= 0 && e->slot < p->ninputs)
            fprintf(f, "input.%s", p->input_names[e->slot]);
        else fprintf(f, "input[%d]", e->slot);
        break;
    case MX_TEMP: fprintf(f, "%%%d", e->slot); break;
    case MX_TIME: fputs("t", f); break;
    case MX_DT: fputs("dt", f); break;
    case MX_PCONST: fprintf(f, "const[%d]", e->slot); break;
    case MX_GLOBAL: fprintf(f, "global[%d]", e->slot); break;
    default: assert(0 && "not a leaf");
    }
}

/* Prints `e` in infix; `outer` is the precedence of the context, so that a
 * sub-expression is parenthesised only when needed. */
static void dump_expr(FILE *f, const MirPop *p, const MirExpr *e, int outer) {
    int pr = prec(e->op);
    bool paren = pr < outer;
    if (e->op == MX_CONST && e->value < 0 && outer > 4) paren = true;
    if (paren) fputc('(', f);
    switch (e->op) {
    case MX_NEG: case MX_NOT:
        fputs(e->op == MX_NEG ? "-" : "not ", f);
        dump_expr(f, p, e->args[0], pr + 1);
        break;
    case MX_CALL:
        fprintf(f, "%s(", mir_fn_name((MirFn)e->fn));
        for (int i = 0; i < e->nargs; i++) {
            if (i) fputs(", ", f);
            dump_expr(f, p, e->args[i], 0);
        }
        fputc(')', f);
        break;
    case MX_SELECT:
        fputs("select(", f);
        for (int i = 0; i < 3; i++) {
            if (i) fputs(", ", f);
            dump_expr(f, p, e->args[i], 0);
        }
        fputc(')', f);
        break;
    default:
        if (e->nargs == 2) {
            /* left-associative: the right operand needs parentheses at equal precedence */
            dump_expr(f, p, e->args[0], e->op == MX_POW ? pr + 1 : pr);
            fputs(binop_text(e->op), f);
            dump_expr(f, p, e->args[1], e->op == MX_POW ? pr : pr + 1);
        } else {
            dump_leaf(f, p, e);
        }
    }
    if (paren) fputc(')', f);
}

void mir_dump_expr(FILE *f, const MirPop *p, const MirExpr *e) {
    if (!e) {
        fputs("(null)", f);
        return;
    }
    dump_expr(f, p, e, 0);
}

static void indent(FILE *f, int depth) {
    for (int i = 0; i < depth; i++) fputs("  ", f);
}

void mir_dump_block(FILE *f, const MirPop *p, const MirBlock *b, int depth) {
    for (int i = 0; i < b->n; i++) {
        const MirStmt *s = b->v[i];
        indent(f, depth);
        switch (s->kind) {
        case MIR_SET:
            if (p && s->slot >= 0 && s->slot < p->nstates) fprintf(f, "%s = ", p->states[s->slot].name);
            else fprintf(f, "state[%d] = ", s->slot);
            mir_dump_expr(f, p, s->value);
            break;
        case MIR_LET:
            fprintf(f, "%%%d = ", s->slot);
            mir_dump_expr(f, p, s->value);
            break;
        case MIR_INPUT_CLEAR:
            if (p && p->input_names && s->slot >= 0 && s->slot < p->ninputs)
                fprintf(f, "clear input.%s", p->input_names[s->slot]);
            else fprintf(f, "clear input[%d]", s->slot);
            break;
        case MIR_IF:
            fputs("if ", f);
            mir_dump_expr(f, p, s->value);
            fputs(" {\n", f);
            mir_dump_block(f, p, &s->then, depth + 1);
            indent(f, depth);
            if (s->else_.n) {
                fputs("} else {\n", f);
                mir_dump_block(f, p, &s->else_, depth + 1);
                indent(f, depth);
            }
            fputc('}', f);
            break;
        }
        fputc('\n', f);
    }
}

static const char *const method_names[] = {
    [MM_AUTO] = "auto", [MM_EXACT] = "exact", [MM_EXPONENTIAL_EULER] = "exponential_euler",
    [MM_EULER] = "euler", [MM_RK2] = "rk2", [MM_RK4] = "rk4",
};

const char *mir_method_name(MirMethod m) {
    return (m >= MM_AUTO && m <= MM_RK4) ? method_names[m] : "?";
}

static void dump_section(FILE *f, const MirPop *p, const char *title, const MirBlock *b) {
    if (!b->n) return;
    fprintf(f, "  %s:\n", title);
    mir_dump_block(f, p, b, 2);
}

/* The refractory period: a constant, or per neuron its expression and
 * where round(T/dt) comes from (the init kernel's hidden parameter, or the
 * update kernel every step); then the states clamped meanwhile. */
static void dump_refractory(FILE *f, const MirPop *p) {
    if (p->refractory) {
        fputs("  refractory ", f);
        mir_dump_expr(f, p, p->refractory);
        if (p->refractory_param >= 0 && p->refractory_param < p->nparams)
            fprintf(f, " s per neuron, steps in %s (init)", p->params[p->refractory_param].name);
        else
            fputs(" s per neuron, steps every step", f);
    } else if (p->refractory_s > 0) {
        fprintf(f, "  refractory %.17g s", p->refractory_s);
    } else {
        return;
    }
    fputs(" clamp", f);
    for (int i = 0; i < p->nclamped; i++)
        fprintf(f, " %s", (p->clamped[i] >= 0 && p->clamped[i] < p->nstates) ? p->states[p->clamped[i]].name : "?");
    fputc('\n', f);
}

/* Prints the whole population: declarations, definitions, ODEs with their
 * chosen methods, every kernel block (the init kernel's first, as it runs
 * first) and the probes. */
void mir_dump(FILE *f, const MirPop *p) {
    fprintf(f, "population %s size %" PRId64 "%s\n", p->name ? p->name : "?", p->size,
            p->use_float ? " float" : "");
    for (int i = 0; i < p->nstates; i++)
        fprintf(f, "  state %s [%s] init %.17g\n", p->states[i].name, p->states[i].unit ? p->states[i].unit : "1",
                p->states[i].init_const);
    for (int i = 0; i < p->nparams; i++)
        fprintf(f, "  param %s [%s]\n", p->params[i].name, p->params[i].unit ? p->params[i].unit : "1");
    for (int i = 0; i < p->ninputs; i++)
        fprintf(f, "  input %s\n", p->input_names ? p->input_names[i] : "?");
    if (p->method_hint != MM_AUTO) fprintf(f, "  method %s\n", mir_method_name(p->method_hint));
    dump_section(f, p, "init", &p->init);
    dump_section(f, p, "defs", &p->defs);
    for (int i = 0; i < p->nodes; i++) {
        const MirOde *o = &p->odes[i];
        fprintf(f, "  d%s/dt = ", (o->state >= 0 && o->state < p->nstates) ? p->states[o->state].name : "?");
        mir_dump_expr(f, p, o->rhs);
        fprintf(f, "    [%s]\n", mir_method_name(o->method));
    }
    dump_section(f, p, "on_input", &p->on_input);
    dump_section(f, p, "step", &p->step);
    if (p->threshold) {
        fputs("  threshold: ", f);
        mir_dump_expr(f, p, p->threshold);
        fputc('\n', f);
    }
    dump_section(f, p, "reset", &p->reset);
    dump_refractory(f, p);
    if (p->nprobes) fputs("  probes (after on_input):\n", f);
    for (int k = 0; k < p->nprobes; k++) {
        fprintf(f, "    probe %d = ", k);
        mir_dump_expr(f, p, p->probes[k]);
        fputc('\n', f);
    }
}

/* ---- division by constants ---- */

/* Returns `e` with every division by a constant c rewritten as a
 * multiplication by 1/c (rounded once, at compile time). A vector division
 * costs about as much as the rest of a conductance-based update, and the
 * rewrite keeps reproducibility: it is the same operation in every loop copy,
 * thread partition and JIT or AOT build (SPEC [S-cg-2]). Divisions by powers
 * of two are unchanged in value. Shares unchanged sub-trees. */
static MirExpr *div_to_mul(Arena *a, MirExpr *e) {
    if (!e || e->nargs == 0) return e;
    MirExpr **args = ARENA_ARRAY(a, MirExpr *, e->nargs);
    bool changed = false;
    for (int i = 0; i < e->nargs; i++) {
        args[i] = div_to_mul(a, e->args[i]);
        changed |= args[i] != e->args[i];
    }
    bool constant_divisor = e->op == MX_DIV && args[1]->op == MX_CONST && args[1]->value != 0 &&
                            isfinite(1.0 / args[1]->value);
    if (!changed && !constant_divisor) return e;
    MirExpr *n = ARENA_NEW(a, MirExpr);
    *n = *e;
    n->args = args;
    if (constant_divisor) {
        n->op = MX_MUL;
        args[1] = mir_const(a, 1.0 / args[1]->value);
        args[1]->span = e->args[1]->span;
    }
    return n;
}

static void block_div_to_mul(Arena *a, MirBlock *b) {
    for (int i = 0; i < b->n; i++) {
        MirStmt *s = b->v[i];
        s->value = div_to_mul(a, s->value);
        block_div_to_mul(a, &s->then);
        block_div_to_mul(a, &s->else_);
    }
}

void mir_pop_div_to_mul(Arena *a, MirPop *p) {
    block_div_to_mul(a, &p->defs);
    block_div_to_mul(a, &p->on_input);
    block_div_to_mul(a, &p->step);
    block_div_to_mul(a, &p->reset);
    p->threshold = div_to_mul(a, p->threshold);
    for (int k = 0; k < p->nprobes; k++)
        p->probes[k] = div_to_mul(a, p->probes[k]);
}
