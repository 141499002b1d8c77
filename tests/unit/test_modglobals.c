/* test_modglobals.c - Check suite `modglobals`: modulators with their own
 * dynamics ([S-net-10]; compiler/lower_globals.c, compiler/cg_globals.c).
 *
 * From model text through lower_program: which modulator states stay the
 * runtime's exact decay or a level and which the generated kernel
 * integrates (the closure over coupled states and over modulators a kernel
 * ODE reads), and eic_globals_step, JIT-compiled, against the MIR
 * interpreter running the same planned step, bit for bit over 2000 steps.
 * tests/run_moddyn.sh checks the values end to end on closed forms.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg_globals.h"
#include "cg_llvm.h"
#include "frontend.h"
#include "jit.h"
#include "lower.h"
#include "mir_eval.h"
#include "rt_abi.h"
#include "sema.h"

#define CHECK(cond, ...) do { if (!(cond)) ck_abort_msg(__VA_ARGS__); } while (0)

static const char model[] =
    "modulator Plain {\n"
    "    parameter tau = 100 ms\n"
    "    state X = 1\n"
    "    dX/dt = (0.5 - X)/tau\n"
    "}\n"
    "modulator Lev {\n"
    "    state L = 2\n"
    "    on release(a) { L = a }\n"
    "}\n"
    "modulator Pool {\n"
    "    parameter tau_r = 50 ms, tau_d = 200 ms\n"
    "    state R = 3\n"
    "    state D = 0\n"
    "    dR/dt = -R/tau_r\n"
    "    dD/dt = R/tau_r - D/tau_d\n"
    "}\n"
    "modulator MM {\n"
    "    parameter Vmax = 5 Hz, Km = 0.5\n"
    "    state DA = 2\n"
    "    dDA/dt = -Vmax*DA/(Km + DA) + Lev.L*(0.1 Hz)\n"
    "}\n"
    "modulator Driver {\n"
    "    parameter tau = 20 ms\n"
    "    state X = 1\n"
    "    dX/dt = -X/tau\n"
    "}\n"
    "modulator Follower {\n"
    "    parameter tau = 100 ms\n"
    "    state Y = 0\n"
    "    dY/dt = (Driver.X - Y)/tau + sin(t*(10 Hz))*(1 Hz)\n"
    "}\n"
    "neuron Reader {\n"
    "    state V = 0 mV\n"
    "    dV/dt = (Plain.X + Lev.L + Pool.D + MM.DA + Follower.Y)*(1 V/s)\n"
    "}\n"
    "network N {\n"
    "    population P = 1 of Reader\n"
    "    at 1 ms release Lev 4\n"
    "}\n"
    "simulate N for 1 ms dt 0.1 ms\n";

typedef struct Compiled {
    Session s;
    Program *prog;
    Lowered *low;
} Compiled;

static void compile_model(Compiled *c) {
    front_init(&c->s, NULL);
    ck_assert_msg(front_load_text(&c->s, "mod.ei", model, sizeof model - 1), "parse errors");
    c->prog = sema_check(&c->s);
    ck_assert_msg(c->prog != NULL, "sema errors");
    c->low = lower_program(c->prog);
    ck_assert_msg(c->low != NULL, "lowering failed");
    ck_assert_msg(lower_plan_odes(c->prog, c->low), "ODE planning failed");
    ck_assert_int_eq(c->s.diags.nerrors, 0);
}

/* Index of global `name` in the descriptor, or -1. */
static int global_named(const RtModelDesc *m, const char *name) {
    for (int g = 0; g < m->nglobals; g++)
        if (!strcmp(m->globals[g].name, name)) return g;
    return -1;
}

/* Plain stays an exact decay (same tau and baseline as before), Lev a level;
 * Pool (coupled), MM (nonlinear), Follower (reads t and Driver) and Driver
 * (a decay, but read by a kernel ODE) go to the kernel. */
START_TEST(kinds_and_closure)
{
    Compiled c;
    compile_model(&c);
    const RtModelDesc *m = &c.low->desc;
    struct { const char *name; RtGlobalKind kind; } want[] = {
        {"Plain.X", RT_GLOBAL_DECAY}, {"Lev.L", RT_GLOBAL_LEVEL}, {"Pool.R", RT_GLOBAL_KERNEL},
        {"Pool.D", RT_GLOBAL_KERNEL}, {"MM.DA", RT_GLOBAL_KERNEL}, {"Driver.X", RT_GLOBAL_KERNEL},
        {"Follower.Y", RT_GLOBAL_KERNEL}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int g = global_named(m, want[i].name);
        CHECK(g >= 0, "global %s missing", want[i].name);
        CHECK(m->globals[g].kind == want[i].kind, "%s: kind %d, want %d", want[i].name, (int)m->globals[g].kind,
              (int)want[i].kind);
    }
    const RtGlobalDesc *plain = &m->globals[global_named(m, "Plain.X")];
    ck_assert_double_eq_tol(plain->tau, 0.1, 1e-15);
    ck_assert_double_eq_tol(plain->baseline, 0.5, 1e-15);
    ck_assert_double_eq(plain->init, 1.0);
    const MirPop *k = c.low->globals_mir;
    ck_assert_ptr_nonnull(k);
    ck_assert_int_eq(k->nstates, 5);
    for (int s = 0; s < k->nstates; s++) {
        int g = c.low->global_of[s];
        CHECK(m->globals[g].kind == RT_GLOBAL_KERNEL && !strcmp(k->states[s].name, m->globals[g].name),
              "kernel state %d is %s, global %d", s, k->states[s].name, g);
    }
    for (int s = 0; s < k->nodes; s++) {   /* the schemes of [S-net-10]: ode.c's automatic choice */
        const char *n = k->states[k->odes[s].state].name;
        MirMethod want_m = !strcmp(n, "MM.DA") ? MM_RK4 : !strcmp(n, "Follower.Y") ? MM_EXPONENTIAL_EULER : MM_EXACT;
        CHECK(k->odes[s].method == want_m, "%s: method %s", n, mir_method_name(k->odes[s].method));
    }
    front_free(&c.s);
}
END_TEST

/* A model whose modulators are all decays and levels has no kernel. */
START_TEST(decays_only_no_kernel)
{
    static const char text[] =
        "modulator DA { parameter tau = 200 ms\n state DA = 0\n dDA/dt = -DA/tau\n on release(a) { DA += a } }\n"
        "neuron Reader { state V = 0 mV\n dV/dt = DA.DA*(1 V/s) }\n"
        "network N { population P = 1 of Reader\n at 1 ms release DA 2 }\n"
        "simulate N for 1 ms dt 0.1 ms\n";
    Compiled c;
    front_init(&c.s, NULL);
    ck_assert(front_load_text(&c.s, "decay.ei", text, sizeof text - 1));
    c.prog = sema_check(&c.s);
    ck_assert_ptr_nonnull(c.prog);
    c.low = lower_program(c.prog);
    ck_assert_ptr_nonnull(c.low);
    ck_assert_ptr_null(c.low->globals_mir);
    ck_assert_int_eq(c.low->desc.nglobals, 1);
    ck_assert_int_eq(c.low->desc.globals[0].kind, RT_GLOBAL_DECAY);
    ck_assert_double_eq_tol(c.low->desc.globals[0].tau, 0.2, 1e-15);
    front_free(&c.s);
}
END_TEST

/* Right-hand sides that equal an affine c X + r at the sampled points X >= 0
 * but not elsewhere (abs, max, a condition on X) or are not affine at all
 * are integrated by the kernel, not decayed: with X = -1, dX/dt =
 * -abs(X)/tau grows as -exp(t/tau), which the runtime's decay toward 0
 * would get wrong. A constant call of no state (exp(-1)) stays a decay. */
START_TEST(piecewise_not_decay)
{
    static const char text[] =
        "modulator A { parameter tau = 10 ms\n state X = -1\n dX/dt = -abs(X)/tau }\n"
        "modulator B { parameter tau = 10 ms\n state X = -1\n dX/dt = -max(X, 0)/tau }\n"
        "modulator C { parameter tau = 10 ms\n state X = -1\n dX/dt = (if X > 0 then -X else X)/tau }\n"
        "modulator D { parameter tau = 10 ms\n state X = 1\n dX/dt = (exp(-1) - X)/tau }\n"
        "neuron Reader { state V = 0 mV\n dV/dt = (A.X + B.X + C.X + D.X)*(1 V/s) }\n"
        "network N { population P = 1 of Reader }\n"
        "simulate N for 1 ms dt 0.1 ms\n";
    Compiled c;
    front_init(&c.s, NULL);
    ck_assert(front_load_text(&c.s, "piecewise.ei", text, sizeof text - 1));
    c.prog = sema_check(&c.s);
    ck_assert_ptr_nonnull(c.prog);
    c.low = lower_program(c.prog);
    ck_assert_ptr_nonnull(c.low);
    const RtModelDesc *m = &c.low->desc;
    static const char *const kernel[] = {"A.X", "B.X", "C.X"};
    for (int i = 0; i < 3; i++) {
        int g = global_named(m, kernel[i]);
        CHECK(g >= 0 && m->globals[g].kind == RT_GLOBAL_KERNEL, "%s: kind %d, want the kernel", kernel[i],
              g >= 0 ? (int)m->globals[g].kind : -1);
    }
    int d = global_named(m, "D.X");
    CHECK(d >= 0 && m->globals[d].kind == RT_GLOBAL_DECAY, "D.X: kind %d, want a decay", d >= 0 ? (int)m->globals[d].kind : -1);
    ck_assert_double_eq_tol(m->globals[d].baseline, exp(-1), 1e-15);
    front_free(&c.s);
}
END_TEST

/* eic_globals_step writes exactly what mir_exec computes from the planned
 * step (propagator constants, rk4 stages, sin of t), reads the levels and
 * decays it does not own and writes nothing else. The reference restarts
 * from the kernel's values every step. */
START_TEST(kernel_matches_interpreter)
{
    Compiled c;
    compile_model(&c);
    CgTarget tgt;
    char err[512];
    ck_assert_msg(cg_target_host(&tgt, err, sizeof err) == 0, "%s", err);
    JitOptions o = {.cache_dir = ""};
    Jit *j = jit_create(&tgt, &o, err, sizeof err);
    ck_assert_msg(j != NULL, "%s", err);
    LLVMModuleRef m = cg_emit_model(jit_context(j), jit_target(j), &c.low->mir, err, sizeof err);
    ck_assert_msg(m && cg_globals_emit(m, jit_target(j), c.low->globals_mir, c.low->global_of, err, sizeof err) == 0 &&
                  jit_add_module(j, m, err, sizeof err) == 0, "%s", err);
    void *addr = jit_lookup(j, CG_GLOBALS_NAME);
    ck_assert_ptr_nonnull(addr);
    RtGlobalsFn f;
    memcpy(&f, &addr, sizeof f);
    const MirPop *k = c.low->globals_mir;
    const RtModelDesc *md = &c.low->desc;
    int n = md->nglobals;
    double *glob = calloc((size_t)n + 1, sizeof *glob), *before = calloc((size_t)n + 1, sizeof *before);
    double *xs = calloc((size_t)k->nstates + 1, sizeof *xs), *temps = calloc((size_t)k->ntemps + 1, sizeof *temps);
    for (int g = 0; g < n; g++) glob[g] = md->globals[g].init;
    double dt = md->dt;
    for (int s = 0; s < 2000; s++) {
        if (s == 700) glob[global_named(md, "Lev.L")] = 4;   /* a level the kernel reads changes */
        memcpy(before, glob, (size_t)n * sizeof *glob);
        for (int q = 0; q < k->nstates; q++) xs[q] = glob[c.low->global_of[q]];
        MirEnv env = {.states = xs, .temps = temps, .t = s * dt, .dt = dt, .globals = before};
        mir_exec(&k->step, &env);
        RtGlobalsArgs a = {glob, s, s * dt, dt, 1, n};
        f(&a);
        for (int g = 0; g < n; g++) {
            double want = before[g];
            for (int q = 0; q < k->nstates; q++)
                if (c.low->global_of[q] == g) want = xs[q];
            CHECK(memcmp(&glob[g], &want, sizeof want) == 0, "step %d %s: kernel %.17g interpreter %.17g", s,
                  md->globals[g].name, glob[g], want);
        }
    }
    CHECK(glob[global_named(md, "Pool.D")] > 0.1 && glob[global_named(md, "Follower.Y")] != 0,
          "the states did not move");
    free(glob), free(before), free(xs), free(temps);
    jit_free(j);
    front_free(&c.s);
}
END_TEST

Suite *modglobals_suite(void);
Suite *modglobals_suite(void) {
    Suite *s = suite_create("modglobals");
    TCase *t = tcase_create("modglobals");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, kinds_and_closure);
    tcase_add_test(t, decays_only_no_kernel);
    tcase_add_test(t, piecewise_not_decay);
    tcase_add_test(t, kernel_matches_interpreter);
    suite_add_tcase(s, t);
    return s;
}
