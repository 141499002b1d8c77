/* mir_eval.c - reference interpreter and constant folder for the MIR; see
 * mir_eval.h. The arithmetic here is plain IEEE double with libm, the meaning
 * that generated code approximates (it may use a polynomial exp). */
#include "mir_eval.h"

#include <assert.h>
#include <math.h>

double mir_apply_fn(MirFn fn, int nargs, const double *x) {
    switch (fn) {
    case MF_EXP: return exp(x[0]);
    case MF_LOG: return log(x[0]);
    case MF_SQRT: return sqrt(x[0]);
    case MF_SIN: return sin(x[0]);
    case MF_COS: return cos(x[0]);
    case MF_TANH: return tanh(x[0]);
    case MF_ABS: return fabs(x[0]);
    case MF_FLOOR: return floor(x[0]);
    case MF_EXPEULER: /* exp(z) x + phi1(z) w */
        return exp(x[0]) * x[1] + (x[0] == 0 ? 1.0 : expm1(x[0]) / x[0]) * x[2];
    case MF_MIN: case MF_MAX: {
        double r = x[0];
        for (int i = 1; i < nargs; i++)
            r = (fn == MF_MIN) ? fmin(r, x[i]) : fmax(r, x[i]);
        return r;
    }
    case MF_CLIP: /* clip(x, lo, hi) */
        return fmin(fmax(x[0], x[1]), x[2]);
    case MF__COUNT: break;
    }
    assert(0 && "unknown MirFn");
    return NAN;
}

/* Evaluates the arguments of a call (at most 8) and applies the function. */
static double eval_call(const MirExpr *e, const MirEnv *env) {
    double x[8];
    assert(e->nargs <= 8);
    for (int i = 0; i < e->nargs; i++) x[i] = mir_eval(e->args[i], env);
    return mir_apply_fn((MirFn)e->fn, e->nargs, x);
}

static double eval_leaf(const MirExpr *e, const MirEnv *env) {
    switch (e->op) {
    case MX_CONST: return e->value;
    case MX_STATE: return env->states[e->slot];
    case MX_PARAM: return env->params[e->slot];
    case MX_INPUT: return env->inputs[e->slot];
    case MX_TEMP: return env->temps[e->slot];
    case MX_TIME: return env->t;
    case MX_DT: return env->dt;
    case MX_PCONST: return env->consts[e->slot];
    case MX_GLOBAL: return env->globals[e->slot];
    default: assert(0 && "not a leaf"); return NAN;
    }
}

double mir_eval(const MirExpr *e, const MirEnv *env) {
    if (e->nargs == 0 && e->op != MX_CALL) return eval_leaf(e, env);
    switch (e->op) {
    case MX_NEG: return -mir_eval(e->args[0], env);
    case MX_NOT: return mir_eval(e->args[0], env) == 0.0 ? 1.0 : 0.0;
    case MX_CALL: return eval_call(e, env);
    case MX_SELECT:
        return mir_eval(e->args[0], env) != 0.0 ? mir_eval(e->args[1], env) : mir_eval(e->args[2], env);
    case MX_AND: /* short-circuit, like the C the model author expects */
        return (mir_eval(e->args[0], env) != 0.0 && mir_eval(e->args[1], env) != 0.0) ? 1.0 : 0.0;
    case MX_OR:
        return (mir_eval(e->args[0], env) != 0.0 || mir_eval(e->args[1], env) != 0.0) ? 1.0 : 0.0;
    default: break;
    }
    double x = mir_eval(e->args[0], env), y = mir_eval(e->args[1], env);
    switch (e->op) {
    case MX_ADD: return x + y;
    case MX_SUB: return x - y;
    case MX_MUL: return x * y;
    case MX_DIV: return x / y;
    case MX_POW: return pow(x, y);
    case MX_LT: return x < y;
    case MX_LE: return x <= y;
    case MX_GT: return x > y;
    case MX_GE: return x >= y;
    case MX_EQ: return x == y;
    case MX_NE: return x != y;
    default: assert(0 && "unknown MirOp"); return NAN;
    }
}

void mir_exec(const MirBlock *b, MirEnv *env) {
    for (int i = 0; i < b->n; i++) {
        const MirStmt *s = b->v[i];
        switch (s->kind) {
        case MIR_SET: env->states[s->slot] = mir_eval(s->value, env); break;
        case MIR_LET: env->temps[s->slot] = mir_eval(s->value, env); break;
        case MIR_INPUT_CLEAR: env->inputs[s->slot] = 0.0; break;
        case MIR_IF:
            if (mir_eval(s->value, env) != 0.0) mir_exec(&s->then, env);
            else mir_exec(&s->else_, env);
            break;
        }
    }
}

bool mir_is_constant(const MirExpr *e, bool dt_known) {
    switch (e->op) {
    case MX_CONST: return true;
    case MX_DT: return dt_known;
    case MX_STATE: case MX_PARAM: case MX_INPUT: case MX_TEMP: case MX_TIME: case MX_PCONST: case MX_GLOBAL:
        return false;
    default: break;
    }
    for (int i = 0; i < e->nargs; i++)
        if (!mir_is_constant(e->args[i], dt_known)) return false;
    return true;
}

/* Folds bottom-up: a node whose operands all fold to constants becomes one
 * constant; otherwise it is copied only if an operand changed. */
MirExpr *mir_fold(Arena *a, MirExpr *e, double dt) {
    if (e->op == MX_CONST) return e;
    if (e->op == MX_DT && dt > 0) {
        MirExpr *c = mir_const(a, dt);
        c->span = e->span;
        return c;
    }
    if (e->nargs == 0) return e;
    MirExpr **args = ARENA_ARRAY(a, MirExpr *, e->nargs);
    bool changed = false, all_const = true;
    for (int i = 0; i < e->nargs; i++) {
        args[i] = mir_fold(a, e->args[i], dt);
        changed |= args[i] != e->args[i];
        all_const &= args[i]->op == MX_CONST;
    }
    if (!changed && !all_const) return e;
    MirExpr *n = ARENA_NEW(a, MirExpr);
    *n = *e;
    n->args = args;
    if (all_const) {
        MirEnv env = {0};
        env.dt = dt;
        n->value = mir_eval(n, &env);
        n->op = MX_CONST;
        n->nargs = 0;
        n->args = NULL;
    }
    return n;
}
