/* test_mir.c - the MIR constructors, printer (mir.c) and the reference
 * interpreter and constant folder (mir_eval.c). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mir.h"
#include "mir_eval.h"

Suite *mir_suite(void);

static Arena A;

static void setup(void) { arena_init(&A); }
static void teardown(void) { arena_free(&A); }

static MirExpr *num(double v) { return mir_const(&A, v); }
static MirExpr *st(int s) { return mir_leaf(&A, MX_STATE, s); }
static MirExpr *bin(MirOp op, MirExpr *x, MirExpr *y) { return mir_binary(&A, op, x, y); }
static MirExpr *call1(MirFn f, MirExpr *x) { return mir_call(&A, f, 1, &x); }

/* Prints with mir_dump_expr into a string (arena-owned). */
static char *show(const MirPop *p, const MirExpr *e) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    mir_dump_expr(f, p, e);
    fclose(f);
    char *s = arena_strdup(&A, buf);
    free(buf);
    return s;
}

START_TEST(constructors_shape) {
    MirExpr *x = bin(MX_SUB, st(2), num(1.5));
    ck_assert_int_eq(x->op, MX_SUB);
    ck_assert_int_eq(x->nargs, 2);
    ck_assert_int_eq(x->args[0]->op, MX_STATE);
    ck_assert_int_eq(x->args[0]->slot, 2);
    ck_assert_double_eq(x->args[1]->value, 1.5);
    MirExpr *args[3] = {st(0), num(0), num(1)};
    MirExpr *c = mir_call(&A, MF_CLIP, 3, args);
    ck_assert_int_eq(c->op, MX_CALL);
    ck_assert_int_eq(c->fn, MF_CLIP);
    ck_assert_int_eq(c->nargs, 3);
    MirExpr *sel = mir_select(&A, bin(MX_GT, st(0), num(0)), num(1), num(2));
    ck_assert_int_eq(sel->op, MX_SELECT);
    ck_assert_int_eq(sel->nargs, 3);
    MirBlock b = {0};
    for (int i = 0; i < 20; i++) mir_push(&A, &b, mir_let(&A, i, num(i)));
    ck_assert_int_eq(b.n, 20);
    ck_assert_int_eq(b.v[19]->slot, 19);
    ck_assert_int_eq(b.v[19]->kind, MIR_LET);
    ck_assert_double_eq(b.v[7]->value->value, 7);
}
END_TEST

START_TEST(span_is_inherited) {
    MirExpr *x = st(0), *y = num(2);
    x->span = (SrcSpan){1, 10, 1};
    y->span = (SrcSpan){1, 14, 3};
    MirExpr *s = bin(MX_ADD, x, y);
    ck_assert_uint_eq(s->span.file, 1);
    ck_assert_uint_eq(s->span.offset, 10);
    ck_assert_uint_eq(s->span.len, 7);
}
END_TEST

START_TEST(eval_arithmetic_and_logic) {
    double states[2] = {3, -2}, params[1] = {10}, inputs[1] = {0.5}, temps[1] = {7};
    MirEnv env = {states, params, inputs, temps, 0.25, 0.001};
    MirExpr *e = bin(MX_ADD, bin(MX_MUL, st(0), mir_leaf(&A, MX_PARAM, 0)),
                     bin(MX_DIV, mir_leaf(&A, MX_INPUT, 0), mir_leaf(&A, MX_TEMP, 0)));
    ck_assert_double_eq_tol(mir_eval(e, &env), 30 + 0.5 / 7, 1e-15);
    ck_assert_double_eq(mir_eval(bin(MX_POW, st(0), num(2)), &env), 9);
    ck_assert_double_eq(mir_eval(mir_unary(&A, MX_NEG, st(1)), &env), 2);
    ck_assert_double_eq(mir_eval(mir_leaf(&A, MX_TIME, 0), &env), 0.25);
    ck_assert_double_eq(mir_eval(mir_leaf(&A, MX_DT, 0), &env), 0.001);
    ck_assert_double_eq(mir_eval(bin(MX_LT, st(1), st(0)), &env), 1);
    ck_assert_double_eq(mir_eval(bin(MX_GE, st(1), st(0)), &env), 0);
    ck_assert_double_eq(mir_eval(bin(MX_AND, num(2), num(0)), &env), 0);
    ck_assert_double_eq(mir_eval(bin(MX_OR, num(0), num(-1)), &env), 1);
    ck_assert_double_eq(mir_eval(mir_unary(&A, MX_NOT, num(0)), &env), 1);
    ck_assert_double_eq(mir_eval(bin(MX_NE, num(1), num(1)), &env), 0);
    /* the branch not taken is not evaluated: log(-1) would be NaN */
    MirExpr *sel = mir_select(&A, bin(MX_GT, st(0), num(0)), num(4), call1(MF_LOG, num(-1)));
    ck_assert_double_eq(mir_eval(sel, &env), 4);
}
END_TEST

START_TEST(eval_functions) {
    MirEnv env = {0};
    ck_assert_double_eq(mir_eval(call1(MF_EXP, num(1)), &env), exp(1.0));
    ck_assert_double_eq(mir_eval(call1(MF_TANH, num(0.3)), &env), tanh(0.3));
    ck_assert_double_eq(mir_eval(call1(MF_ABS, num(-3)), &env), 3);
    ck_assert_double_eq(mir_eval(call1(MF_FLOOR, num(-1.5)), &env), -2);
    ck_assert_double_eq(mir_eval(call1(MF_SQRT, num(16)), &env), 4);
    MirExpr *a3[3] = {num(5), num(0), num(2)};
    ck_assert_double_eq(mir_eval(mir_call(&A, MF_CLIP, 3, a3), &env), 2);
    a3[0] = num(-1);
    ck_assert_double_eq(mir_eval(mir_call(&A, MF_CLIP, 3, a3), &env), 0);
    MirExpr *a2[2] = {num(5), num(-3)};
    ck_assert_double_eq(mir_eval(mir_call(&A, MF_MIN, 2, a2), &env), -3);
    ck_assert_double_eq(mir_eval(mir_call(&A, MF_MAX, 2, a2), &env), 5);
}
END_TEST

START_TEST(exec_order_if_and_clear) {
    /* x = x + 1; %0 = 2*x (sees the new x); if x > 3 { y = %0 } else { y = -1 }; clear input 0 */
    MirBlock b = {0};
    mir_push(&A, &b, mir_set(&A, 0, bin(MX_ADD, st(0), num(1))));
    mir_push(&A, &b, mir_let(&A, 0, bin(MX_MUL, num(2), st(0))));
    MirStmt *s = mir_if(&A, bin(MX_GT, st(0), num(3)));
    mir_push(&A, &s->then, mir_set(&A, 1, mir_leaf(&A, MX_TEMP, 0)));
    mir_push(&A, &s->else_, mir_set(&A, 1, num(-1)));
    mir_push(&A, &b, s);
    mir_push(&A, &b, mir_input_clear(&A, 0));
    double states[2] = {3, 0}, inputs[1] = {9}, temps[1] = {0};
    MirEnv env = {states, NULL, inputs, temps, 0, 0.1};
    mir_exec(&b, &env);
    ck_assert_double_eq(states[0], 4);
    ck_assert_double_eq(temps[0], 8);
    ck_assert_double_eq(states[1], 8);
    ck_assert_double_eq(inputs[0], 0);
    states[0] = 0;
    mir_exec(&b, &env);
    ck_assert_double_eq(states[1], -1);
}
END_TEST

START_TEST(fold_constants) {
    /* (2*3 + x) * exp(0) + dt  ->  (6 + x) * 1 + 0.5 with dt known */
    MirExpr *x = st(0);
    MirExpr *e = bin(MX_ADD, bin(MX_MUL, bin(MX_ADD, bin(MX_MUL, num(2), num(3)), x), call1(MF_EXP, num(0))),
                     mir_leaf(&A, MX_DT, 0));
    ck_assert(!mir_is_constant(e, true));
    MirExpr *f = mir_fold(&A, e, 0.5);
    ck_assert_int_eq(f->op, MX_ADD);
    ck_assert_int_eq(f->args[1]->op, MX_CONST);
    ck_assert_double_eq(f->args[1]->value, 0.5);
    ck_assert_int_eq(f->args[0]->args[1]->op, MX_CONST);
    ck_assert_double_eq(f->args[0]->args[1]->value, 1);
    ck_assert_double_eq(f->args[0]->args[0]->args[0]->value, 6);
    ck_assert_ptr_eq(f->args[0]->args[0]->args[1], x); /* unchanged leaves are shared */
    /* without a known dt, dt stays symbolic and the expression is not constant */
    ck_assert(!mir_is_constant(mir_leaf(&A, MX_DT, 0), false));
    ck_assert(mir_is_constant(mir_leaf(&A, MX_DT, 0), true));
    MirExpr *g = mir_fold(&A, bin(MX_MUL, mir_leaf(&A, MX_DT, 0), num(2)), 0);
    ck_assert_int_eq(g->op, MX_MUL);
    /* a fully constant tree becomes one node with the same value as evaluating it */
    MirExpr *c = bin(MX_DIV, call1(MF_LOG, num(10)), bin(MX_SUB, num(1), num(0.25)));
    MirExpr *cf = mir_fold(&A, c, 0);
    ck_assert_int_eq(cf->op, MX_CONST);
    ck_assert_double_eq(cf->value, log(10) / 0.75);
    /* an expression without constants is returned as is */
    MirExpr *y = bin(MX_ADD, st(0), st(1));
    ck_assert_ptr_eq(mir_fold(&A, y, 0.1), y);
}
END_TEST

static MirPop named_pop(void) {
    static MirVar states[2] = {{"V", "V", -0.07}, {"g_e", "S", 0}};
    static MirVar params[1] = {{"tau", "s", 0}};
    static const char *inputs[1] = {"AMPA"};
    MirPop p = {0};
    p.name = "E";
    p.size = 10;
    p.states = states, p.nstates = 2;
    p.params = params, p.nparams = 1;
    p.ninputs = 1, p.input_names = inputs;
    return p;
}

START_TEST(dump_expressions) {
    MirPop p = named_pop();
    MirExpr *tau = mir_leaf(&A, MX_PARAM, 0);
    /* (E_L - V)/tau with E_L = -0.07 */
    ck_assert_str_eq(show(&p, bin(MX_DIV, bin(MX_SUB, num(-0.07), st(0)), tau)), "(-0.070000000000000007 - V)/tau");
    /* a - (b - c) keeps its parentheses, (a - b) - c needs none */
    ck_assert_str_eq(show(&p, bin(MX_SUB, st(0), bin(MX_SUB, st(1), num(1)))), "V - (g_e - 1)");
    ck_assert_str_eq(show(&p, bin(MX_SUB, bin(MX_SUB, st(0), st(1)), num(1))), "V - g_e - 1");
    ck_assert_str_eq(show(&p, bin(MX_MUL, bin(MX_ADD, st(0), st(1)), mir_leaf(&A, MX_INPUT, 0))),
                     "(V + g_e)*input.AMPA");
    ck_assert_str_eq(show(&p, mir_unary(&A, MX_NEG, bin(MX_POW, st(0), num(2)))), "-V^2");
    ck_assert_str_eq(show(&p, call1(MF_EXP, bin(MX_MUL, mir_leaf(&A, MX_TEMP, 3), mir_leaf(&A, MX_DT, 0)))),
                     "exp(%3*dt)");
    ck_assert_str_eq(show(NULL, st(1)), "state[1]");
}
END_TEST

/* mir_dump's text of `p` (malloc'd). */
static char *dump_of(const MirPop *p) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    mir_dump(f, p);
    fclose(f);
    return buf;
}

START_TEST(dump_population) {
    MirPop p = named_pop();
    MirOde ode = {1, bin(MX_DIV, mir_unary(&A, MX_NEG, st(1)), num(0.005)), MM_EXACT, NULL, {0}};
    p.odes = &ode, p.nodes = 1;
    mir_push(&A, &p.on_input, mir_set(&A, 1, bin(MX_ADD, st(1), mir_leaf(&A, MX_INPUT, 0))));
    mir_push(&A, &p.on_input, mir_input_clear(&A, 0));
    p.threshold = bin(MX_GT, st(0), num(-0.05));
    mir_push(&A, &p.reset, mir_set(&A, 0, num(-0.06)));
    char *buf = dump_of(&p);
    ck_assert_ptr_nonnull(strstr(buf, "population E size 10\n"));
    ck_assert_ptr_nonnull(strstr(buf, "  dg_e/dt = -g_e/0.0050000000000000001    [exact]\n"));
    ck_assert_ptr_nonnull(strstr(buf, "    g_e = g_e + input.AMPA\n    clear input.AMPA\n"));
    ck_assert_ptr_nonnull(strstr(buf, "  threshold: V > -0.050000000000000003\n"));
    ck_assert_ptr_nonnull(strstr(buf, "  reset:\n    V = -0.059999999999999998\n"));
    free(buf);
}
END_TEST

/* The per-neuron parts of a population: the init block (before defs, as
 * it runs first), a refractory period per neuron with where its steps come
 * from, and the probes. */
START_TEST(dump_per_neuron) {
    MirPop p = named_pop();
    mir_push(&A, &p.init, mir_set(&A, 1, bin(MX_MUL, num(2), st(0))));
    p.refractory = mir_leaf(&A, MX_PARAM, 0);
    p.refractory_param = 0;
    static int clamped[1] = {0};
    p.clamped = clamped, p.nclamped = 1;
    MirExpr *probes[2] = {bin(MX_MUL, st(1), mir_leaf(&A, MX_INPUT, 0)), st(0)};
    p.probes = probes, p.nprobes = 2;
    char *buf = dump_of(&p);
    ck_assert_ptr_nonnull(strstr(buf, "  input AMPA\n  init:\n    g_e = 2*V\n"));
    ck_assert_ptr_nonnull(strstr(buf, "  refractory tau s per neuron, steps in tau (init) clamp V\n"));
    ck_assert_ptr_nonnull(strstr(buf, "  probes (after on_input):\n    probe 0 = g_e*input.AMPA\n    probe 1 = V\n"));
    free(buf);
    p.refractory_param = -1;   /* a period that changes during the run */
    buf = dump_of(&p);
    ck_assert_ptr_nonnull(strstr(buf, "  refractory tau s per neuron, steps every step clamp V\n"));
    free(buf);
    p.refractory = NULL, p.refractory_s = 0.002;
    buf = dump_of(&p);
    ck_assert_ptr_nonnull(strstr(buf, "  refractory 0.002 s clamp V\n"));
    free(buf);
}
END_TEST

Suite *mir_suite(void) {
    Suite *s = suite_create("mir");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, constructors_shape);
    tcase_add_test(tc, span_is_inherited);
    tcase_add_test(tc, eval_arithmetic_and_logic);
    tcase_add_test(tc, eval_functions);
    tcase_add_test(tc, exec_order_if_and_clear);
    tcase_add_test(tc, fold_constants);
    tcase_add_test(tc, dump_expressions);
    tcase_add_test(tc, dump_population);
    tcase_add_test(tc, dump_per_neuron);
    suite_add_tcase(s, tc);
    return s;
}
