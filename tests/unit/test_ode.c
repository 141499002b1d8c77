/* test_ode.c - integration schemes (compiler/ode.c) on real numbers: the
 * matrix exponential, exact propagators against closed forms, the scheme
 * chosen per ODE, convergence orders, and the diagnostics for a method that
 * cannot integrate a model. MirPops are built by hand and their `step` run
 * with the reference interpreter (mir_eval.c). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "mir.h"
#include "mir_eval.h"
#include "ode.h"

Suite *ode_suite(void);

static Arena A;
static SourceSet S;
static Diags D;

static void setup(void) {
    arena_init(&A);
    src_init(&S, &A);
    diag_init(&D, &S, NULL);
}
static void teardown(void) { arena_free(&A); }

/* ---- building MIR by hand --------------------------------------------------- */

static MirExpr *num(double v) { return mir_const(&A, v); }
static MirExpr *st(int s) { return mir_leaf(&A, MX_STATE, s); }
static MirExpr *par(int s) { return mir_leaf(&A, MX_PARAM, s); }
static MirExpr *tmp(int s) { return mir_leaf(&A, MX_TEMP, s); }
static MirExpr *add(MirExpr *x, MirExpr *y) { return mir_binary(&A, MX_ADD, x, y); }
static MirExpr *sub(MirExpr *x, MirExpr *y) { return mir_binary(&A, MX_SUB, x, y); }
static MirExpr *mul(MirExpr *x, MirExpr *y) { return mir_binary(&A, MX_MUL, x, y); }
static MirExpr *dvd(MirExpr *x, MirExpr *y) { return mir_binary(&A, MX_DIV, x, y); }
static MirExpr *neg(MirExpr *x) { return mir_unary(&A, MX_NEG, x); }

/* A population with the named states (all without an ODE so far). */
static MirPop *make_pop(int nstates, const char *const *names, int nparams) {
    MirPop *p = ARENA_NEW(&A, MirPop);
    p->name = "P";
    p->size = 1;
    p->states = ARENA_ARRAY(&A, MirVar, nstates);
    for (int i = 0; i < nstates; i++) p->states[i].name = names[i];
    p->nstates = nstates;
    p->params = ARENA_ARRAY(&A, MirVar, nparams + 1);
    for (int i = 0; i < nparams; i++) p->params[i].name = arena_printf(&A, "p%d", i);
    p->nparams = nparams;
    p->odes = ARENA_ARRAY(&A, MirOde, 8);
    return p;
}

/* Adds d state/dt = rhs; its span is (file 1, offset = 100 + index). */
static void ode(MirPop *p, int state, MirExpr *rhs) {
    MirOde *o = &p->odes[p->nodes];
    o->state = state;
    o->rhs = rhs;
    o->span = (SrcSpan){1, (uint32_t)(100 + p->nodes), 5};
    p->nodes++;
}

/* Adds the definition %slot = value. */
static void def(MirPop *p, int slot, MirExpr *value) {
    mir_push(&A, &p->defs, mir_let(&A, slot, value));
    if (slot >= p->ntemps) p->ntemps = slot + 1;
}

static MirPop *plan(MirPop *p, MirMethod hint, double dt) {
    p->method_hint = hint;
    ck_assert_msg(ode_plan(&A, p, dt, &D), "ode_plan failed");
    ck_assert_int_eq(D.nerrors, 0);
    return p;
}

/* Runs `n` steps of the planned update on one neuron; x[] are the states. */
static void run(const MirPop *p, double *x, const double *prm, double dt, int n) {
    double *t = calloc((size_t)p->ntemps + 1, sizeof *t);
    MirEnv env = {x, prm, NULL, t, 0, dt};
    for (int k = 0; k < n; k++) {
        mir_exec(&p->step, &env);
        env.t += dt;
    }
    free(t);
}

static int count_calls_e(const MirExpr *e) {
    int c = e->op == MX_CALL;
    for (int i = 0; i < e->nargs; i++) c += count_calls_e(e->args[i]);
    return c;
}

/* Number of function calls (exp, ...) in a block: a propagator needs none. */
static int count_calls(const MirBlock *b) {
    int c = 0;
    for (int i = 0; i < b->n; i++) {
        const MirStmt *s = b->v[i];
        if (s->value) c += count_calls_e(s->value);
        c += count_calls(&s->then) + count_calls(&s->else_);
    }
    return c;
}

static const char *const N1[] = {"x"};
static const char *const N_LIF[] = {"V", "I"};
static const char *const N_COBA[] = {"V", "g_e", "g_i"};
static const char *const N_IZH[] = {"v", "u"};

/* ---- matrix exponential ----------------------------------------------------- */

START_TEST(expm_diagonal) {
    double Am[9] = {-1, 0, 0, 0, 2, 0, 0, 0, 0.5}, E[9];
    ck_assert(ode_expm(3, Am, E));
    ck_assert_double_eq_tol(E[0], exp(-1.0), 1e-16);
    ck_assert_double_eq_tol(E[4], exp(2.0), 2e-15 * exp(2.0));
    ck_assert_double_eq_tol(E[8], exp(0.5), 2e-16 * exp(0.5));
    for (int i = 0; i < 9; i++)
        if (i % 4) ck_assert_double_eq(E[i], 0);
}
END_TEST

START_TEST(expm_nilpotent) {
    /* N^3 = 0: exp(N) = I + N + N^2/2, exactly */
    double N[9] = {0, 1, 0, 0, 0, 1, 0, 0, 0}, E[9];
    double want[9] = {1, 1, 0.5, 0, 1, 1, 0, 0, 1};
    ck_assert(ode_expm(3, N, E));
    for (int i = 0; i < 9; i++) ck_assert_double_eq_tol(E[i], want[i], 1e-16);
    /* scaled: 40 N needs squaring; exp = I + 40N + 800 N^2 */
    for (int i = 0; i < 9; i++) N[i] *= 40;
    ck_assert(ode_expm(3, N, E));
    ck_assert_double_eq_tol(E[1], 40, 1e-13);
    ck_assert_double_eq_tol(E[2], 800, 1e-12);
    ck_assert_double_eq_tol(E[0], 1, 1e-14);
}
END_TEST

START_TEST(expm_rotation) {
    static const double thetas[] = {0.3, 1.0, 10.0, 100.0};
    for (int k = 0; k < 4; k++) {
        double th = thetas[k], R[4] = {0, -th, th, 0}, E[4];
        ck_assert(ode_expm(2, R, E));
        ck_assert_double_eq_tol(E[0], cos(th), 1e-14 * th);
        ck_assert_double_eq_tol(E[1], -sin(th), 1e-14 * th);
        ck_assert_double_eq_tol(E[2], sin(th), 1e-14 * th);
        ck_assert_double_eq_tol(E[3], cos(th), 1e-14 * th);
    }
    double bad[1] = {NAN}, e1[1];
    ck_assert(!ode_expm(1, bad, e1));
}
END_TEST

START_TEST(propagator_scalar) {
    double tau = 0.01, dt = 1e-4, a = -1 / tau, P, Phi;
    ck_assert(ode_propagator(1, &a, dt, &P, &Phi));
    ck_assert_double_eq_tol(P, exp(-dt / tau), 1.2e-16);
    ck_assert_double_eq_tol(Phi, -tau * expm1(-dt / tau), 1e-16 * dt);
    double zero = 0;
    ck_assert(ode_propagator(1, &zero, dt, &P, &Phi));
    ck_assert_double_eq(P, 1);
    ck_assert_double_eq_tol(Phi, dt, 1e-20);
}
END_TEST

/* ---- exact propagators vs closed forms -------------------------------------- */

START_TEST(exact_decay) {
    const double tau = 0.01, dt = 1e-4;
    MirPop *p = make_pop(1, N1, 0);
    ode(p, 0, dvd(neg(st(0)), num(tau)));
    plan(p, MM_AUTO, dt);
    ck_assert_int_eq(p->odes[0].method, MM_EXACT);
    ck_assert_int_eq(count_calls(&p->step), 0); /* no exp per step */
    double x = 1.0;
    run(p, &x, NULL, dt, 1000);
    double want = exp(-1000 * dt / tau), rel = fabs(x - want) / want;
    /* P is exp(-dt/tau) rounded once; 1000 roundings of P^n bound the error by ~1000 ulp */
    ck_assert_msg(rel < 1e-13, "relative error %g", rel);
    x = 1.0;
    run(p, &x, NULL, dt, 100);
    rel = fabs(x - exp(-100 * dt / tau)) / exp(-100 * dt / tau);
    ck_assert_msg(rel < 1.5e-14, "relative error after 100 steps %g", rel);
}
END_TEST

/* LIF driven by a constant current I (a per-neuron parameter):
 * dV/dt = (-(V - E_L) + R I)/tau, threshold V_th, reset V_reset. */
START_TEST(exact_lif_period) {
    const double E_L = -0.065, V_th = -0.050, V_reset = -0.070, tau = 0.02, R = 1e8, I = 2e-10, dt = 1e-4;
    MirPop *p = make_pop(1, N_LIF, 1);
    ode(p, 0, dvd(add(neg(sub(st(0), num(E_L))), mul(num(R), par(0))), num(tau)));
    plan(p, MM_AUTO, dt);
    ck_assert_int_eq(p->odes[0].method, MM_EXACT);
    ck_assert_int_eq(count_calls(&p->step), 0);
    double T = tau * log((R * I - (V_reset - E_L)) / (R * I - (V_th - E_L)));
    double V_inf = E_L + R * I, x = V_reset, prm[1] = {I}, maxerr = 0;
    int last = 0, nspikes = 0;
    for (int k = 1; k <= 2000; k++) {
        run(p, &x, prm, dt, 1);
        double want = V_inf + (V_reset - V_inf) * exp(-(k - last) * dt / tau);
        if (fabs(x - want) > maxerr) maxerr = fabs(x - want);
        if (x > V_th) { /* threshold after the update, then reset (mir.h evaluation model) */
            int period = k - last;
            ck_assert_msg(fabs(period * dt - T) <= dt, "period %d steps, closed form %g s", period, T);
            ck_assert_int_eq(period, (int)floor(T / dt) + 1);
            nspikes++;
            last = k;
            x = V_reset;
        }
    }
    ck_assert_int_eq(nspikes, 2000 / ((int)floor(T / dt) + 1));
    ck_assert_msg(maxerr < 1e-15, "membrane error %g V", maxerr); /* |V| ~ 0.06: a few ulp */
}
END_TEST

/* Current-based LIF with an exponential synaptic current, a coupled 2x2
 * system: dV/dt = (-(V - E_L) + R I)/tau_m, dI/dt = -I/tau_s. */
START_TEST(exact_cuba_2x2) {
    const double E_L = -0.07, R = 1e8, tau_m = 0.01, tau_s = 0.002, I0 = 5e-10, dt = 1e-4;
    MirPop *p = make_pop(2, N_LIF, 0);
    ode(p, 0, dvd(add(neg(sub(st(0), num(E_L))), mul(num(R), st(1))), num(tau_m)));
    ode(p, 1, dvd(neg(st(1)), num(tau_s)));
    plan(p, MM_AUTO, dt);
    ck_assert_int_eq(p->odes[0].method, MM_EXACT);
    ck_assert_int_eq(p->odes[1].method, MM_EXACT);
    ck_assert_ptr_nonnull(strstr(p->odes[0].reason, "2x2 propagator"));
    ck_assert_int_eq(count_calls(&p->step), 0);
    double x[2] = {E_L, I0}, maxv = 0, maxi = 0;
    for (int k = 1; k <= 1000; k++) {
        run(p, x, NULL, dt, 1);
        double t = k * dt;
        double V = E_L + R * I0 * tau_s / (tau_s - tau_m) * (exp(-t / tau_s) - exp(-t / tau_m));
        double Iw = I0 * exp(-t / tau_s);
        if (fabs(x[0] - V) > maxv) maxv = fabs(x[0] - V);
        if (fabs(x[1] - Iw) / I0 > maxi) maxi = fabs(x[1] - Iw) / I0;
    }
    ck_assert_msg(maxv < 1e-12 * fabs(E_L), "V error %g", maxv);
    ck_assert_msg(maxi < 1e-12, "I relative error %g", maxi);
}
END_TEST

/* An uncoupled decay with a per-neuron time constant is exact too, through
 * phi1(z) = (exp(z) - 1)/z; check both sides of the series cut-off. */
START_TEST(exact_per_neuron_tau) {
    const double dt = 1e-4;
    MirPop *p = make_pop(1, N1, 1);
    ode(p, 0, add(dvd(neg(st(0)), par(0)), num(3.0)));  /* dx/dt = -x/tau + 3 */
    plan(p, MM_AUTO, dt);
    ck_assert_int_eq(p->odes[0].method, MM_EXACT);
    ck_assert_ptr_nonnull(strstr(p->odes[0].reason, "per-neuron"));
    static const double taus[] = {0.01, dt / 0.0009, dt / 0.0011, 1e9};
    for (int k = 0; k < 4; k++) {
        double tau = taus[k], x = 0.5, prm[1] = {tau};
        run(p, &x, prm, dt, 300);
        double t = 300 * dt, want = 0.5 * exp(-t / tau) - 3 * tau * expm1(-t / tau);
        ck_assert_msg(fabs(x - want) <= 1e-12 * fabs(want), "tau %g: %.17g vs %.17g", tau, x, want);
    }
}
END_TEST

/* A state without an ODE (changed only by events) is constant over a step
 * and may drive an exact block. */
START_TEST(exact_with_event_state) {
    const double tau = 0.02, dt = 1e-4;
    MirPop *p = make_pop(2, N_LIF, 0);
    ode(p, 0, dvd(sub(st(1), st(0)), num(tau)));      /* dV/dt = (I - V)/tau, I has no ODE */
    plan(p, MM_AUTO, dt);
    ck_assert_int_eq(p->odes[0].method, MM_EXACT);
    double x[2] = {0, 2.0};
    run(p, x, NULL, dt, 200);
    ck_assert_double_eq_tol(x[0], 2.0 * (1 - exp(-200 * dt / tau)), 1e-14);
    ck_assert_double_eq(x[1], 2.0);
}
END_TEST

/* ---- scheme selection ------------------------------------------------------- */

/* COBA: g_e, g_i decay exactly; V is affine in V with coefficients that read
 * g_e, g_i (through a definition): exponential Euler. */
static MirPop *coba(double g_L_or_zero) {
    const double C = 200e-12, E_L = -0.06, E_e = 0, E_i = -0.08;
    MirPop *p = make_pop(3, N_COBA, 0);
    def(p, 0, add(mul(st(1), sub(num(E_e), st(0))), mul(st(2), sub(num(E_i), st(0)))));  /* I_syn */
    ode(p, 0, dvd(add(mul(num(g_L_or_zero), sub(num(E_L), st(0))), tmp(0)), num(C)));
    ode(p, 1, dvd(neg(st(1)), num(5e-3)));
    ode(p, 2, dvd(neg(st(2)), num(10e-3)));
    return p;
}

START_TEST(coba_methods_and_order) {
    MirPop *p = plan(coba(10e-9), MM_AUTO, 1e-4);
    ck_assert_int_eq(p->odes[0].method, MM_EXPONENTIAL_EULER);
    ck_assert_int_eq(p->odes[1].method, MM_EXACT);
    ck_assert_int_eq(p->odes[2].method, MM_EXACT);
    char *ex = ode_explain(&A, p);
    ck_assert_ptr_nonnull(strstr(ex, "V: exponential_euler - conditionally linear: affine in 'V' given 'g_e', 'g_i' at their start-of-step values; "
                                     "phi1(a*dt) = (exp(a*dt) - 1)/(a*dt) by a degree-10 polynomial and exp(a*dt) = 1 + a*dt*phi1 "
                                     "where |a*dt| <= 0.35 (no exp, no division), closed forms beyond\n"));
    ck_assert_ptr_nonnull(strstr(ex, "g_e: exact - linear with constant coefficients"));
    ck_assert_ptr_nonnull(strstr(ex, "\ng_i: exact"));
    /* precision float: the float polynomial (cg_math.c PHI1_F_POLY) */
    MirPop *pf = coba(10e-9);
    pf->use_float = true;
    ck_assert_ptr_nonnull(strstr(ode_explain(&A, plan(pf, MM_AUTO, 1e-4)),
                                 "by a degree-6 polynomial and exp(a*dt) = 1 + a*dt*phi1 where |a*dt| <= 0.35 "));
    /* first order: halving dt halves the error (reference: rk4 at dt/64) */
    const double T = 0.02;
    double err[2];
    MirPop *ref = plan(coba(10e-9), MM_RK4, 1e-4 / 64);
    double xr[3] = {-0.06, 20e-9, 30e-9};
    run(ref, xr, NULL, 1e-4 / 64, (int)lround(T / (1e-4 / 64)));
    for (int k = 0; k < 2; k++) {
        double dt = 2e-4 / (1 << k), x[3] = {-0.06, 20e-9, 30e-9};
        MirPop *q = plan(coba(10e-9), MM_AUTO, dt);
        run(q, x, NULL, dt, (int)lround(T / dt));
        err[k] = fabs(x[0] - xr[0]);
        ck_assert_double_eq_tol(x[1], 20e-9 * exp(-T / 5e-3), 1e-13 * 20e-9);
    }
    double ratio = err[0] / err[1];
    ck_assert_msg(ratio > 1.8 && ratio < 2.2, "exponential Euler ratio %g (errors %g %g)", ratio, err[0], err[1]);
}
END_TEST

/* Without a leak and with g = 0 the V coefficient is 0 at run time: the
 * update must give V unchanged, not 0/0. */
START_TEST(expeuler_zero_coefficient) {
    MirPop *p = plan(coba(0), MM_AUTO, 1e-4);
    ck_assert_int_eq(p->odes[0].method, MM_EXPONENTIAL_EULER);
    double x[3] = {-0.06, 0, 0};
    run(p, x, NULL, 1e-4, 50);
    ck_assert_double_eq(x[0], -0.06);
}
END_TEST

/* Coupled linear equations with a per-neuron coefficient have no compile-time
 * propagator: I (uncoupled) stays exact, V gets exponential Euler. */
START_TEST(coupled_per_neuron) {
    MirPop *p = make_pop(2, N_LIF, 1);
    ode(p, 0, dvd(add(neg(st(0)), mul(num(1e8), st(1))), par(0)));
    ode(p, 1, dvd(neg(st(1)), num(2e-3)));
    plan(p, MM_AUTO, 1e-4);
    ck_assert_int_eq(p->odes[0].method, MM_EXPONENTIAL_EULER);
    ck_assert_int_eq(p->odes[1].method, MM_EXACT);
    ck_assert_ptr_nonnull(strstr(p->odes[0].reason, "coupled to 'I' with per-neuron coefficients"));
    double x[2] = {0, 1e-10}, prm[1] = {0.01};
    run(p, x, prm, 1e-4, 100);
    ck_assert_double_eq_tol(x[1], 1e-10 * exp(-100 * 1e-4 / 2e-3), 1e-24);
}
END_TEST

START_TEST(nonlinear_gets_rk4) {
    /* select, a call of a state, a product of states, time dependence */
    MirPop *p = make_pop(3, N_COBA, 1);
    ode(p, 0, mir_select(&A, mir_binary(&A, MX_GT, st(0), num(0)), neg(st(0)), num(1)));
    MirExpr *arg = mul(par(0), num(2));
    ode(p, 1, mul(neg(st(1)), mir_call(&A, MF_EXP, 1, &arg))); /* exp(param): still linear */
    MirExpr *targ = mir_leaf(&A, MX_TIME, 0);
    ode(p, 2, add(neg(st(2)), mir_call(&A, MF_SIN, 1, &targ)));  /* forced by sin(t) */
    plan(p, MM_AUTO, 1e-3);
    ck_assert_int_eq(p->odes[0].method, MM_RK4);
    ck_assert_str_eq(p->odes[0].reason, "not linear in 'V'");
    ck_assert_int_eq(p->odes[1].method, MM_EXACT);
    ck_assert_int_eq(p->odes[2].method, MM_EXPONENTIAL_EULER);
    /* dx/dt = -x + sin t from x = 0 solves to (sin t - cos t + e^-t)/2; first order */
    double x[3] = {1, 1, 0}, prm[1] = {0};
    run(p, x, prm, 1e-3, 1000);
    ck_assert_double_eq_tol(x[1], exp(-1.0), 1e-13); /* exp(z) per step: 1000 roundings */
    ck_assert_double_eq_tol(x[2], (sin(1.0) - cos(1.0) + exp(-1.0)) / 2, 1e-3);
}
END_TEST

/* ---- convergence orders on nonlinear systems -------------------------------- */

/* QIF between spikes, dv/dt = v^2 + 1 from v(0) = 0: v(t) = tan t. */
static double qif_error(MirMethod m, int nsteps) {
    MirPop *p = make_pop(1, N1, 0);
    ode(p, 0, add(mul(st(0), st(0)), num(1)));
    plan(p, m, 1.0 / nsteps);
    double x = 0;
    run(p, &x, NULL, 1.0 / nsteps, nsteps);
    return fabs(x - tan(1.0));
}

START_TEST(order_qif) {
    static const struct { MirMethod m; int n; double lo, hi; } cases[] = {
        {MM_EULER, 4000, 1.8, 2.2}, {MM_RK2, 400, 3.5, 4.5}, {MM_RK4, 200, 14, 18},
    };
    for (int i = 0; i < 3; i++) {
        double e1 = qif_error(cases[i].m, cases[i].n), e2 = qif_error(cases[i].m, 2 * cases[i].n);
        ck_assert_msg(e1 / e2 > cases[i].lo && e1 / e2 < cases[i].hi, "%s: ratio %g (errors %g %g)",
                      mir_method_name(cases[i].m), e1 / e2, e1, e2);
    }
    /* automatic choice for a nonlinear equation is rk4 */
    MirPop *p = make_pop(1, N1, 0);
    ode(p, 0, add(mul(st(0), st(0)), num(1)));
    plan(p, MM_AUTO, 0.01);
    ck_assert_int_eq(p->odes[0].method, MM_RK4);
}
END_TEST

/* Izhikevich (v in mV, t in ms), with the quadratic part as a definition so
 * that each rk stage must re-evaluate it: v' = %0 + I, u' = a(b v - u). u is
 * linear but coupled to v, so both are integrated together. */
static MirPop *izh(MirMethod m, double dt) {
    MirPop *p = make_pop(2, N_IZH, 0);
    def(p, 0, sub(add(add(mul(num(0.04), mul(st(0), st(0))), mul(num(5), st(0))), num(140)), st(1)));
    ode(p, 0, add(tmp(0), num(2)));
    ode(p, 1, mul(num(0.02), sub(mul(num(0.2), st(0)), st(1))));
    return plan(p, m, dt);
}

static double izh_run(MirMethod m, double dt, double T) {
    MirPop *p = izh(m, dt);
    double x[2] = {-60, -14}; /* I = 2: subthreshold, v sags to about -66 mV */
    run(p, x, NULL, dt, (int)lround(T / dt));
    return x[0];
}

START_TEST(order_izhikevich) {
    MirPop *p = izh(MM_AUTO, 0.1);
    ck_assert_int_eq(p->odes[0].method, MM_RK4);
    ck_assert_int_eq(p->odes[1].method, MM_RK4);
    ck_assert_ptr_nonnull(strstr(p->odes[1].reason, "coupled to 'v'"));
    const double T = 20;
    double ref = izh_run(MM_RK4, 0.0025, T);
    ck_assert(ref < 30 && ref > -70); /* below the spike cut-off: smooth */
    static const struct { MirMethod m; double dt, lo, hi; } cases[] = {
        {MM_EULER, 0.01, 1.8, 2.2}, {MM_RK2, 0.1, 3.5, 4.5}, {MM_AUTO, 0.2, 14, 18},
    };
    for (int i = 0; i < 3; i++) {
        double e1 = fabs(izh_run(cases[i].m, cases[i].dt, T) - ref);
        double e2 = fabs(izh_run(cases[i].m, cases[i].dt / 2, T) - ref);
        ck_assert_msg(e1 / e2 > cases[i].lo && e1 / e2 < cases[i].hi, "%s: ratio %g (errors %g %g)",
                      mir_method_name(cases[i].m), e1 / e2, e1, e2);
    }
}
END_TEST

/* ---- methods named by the model -------------------------------------------- */

START_TEST(exact_on_nonlinear_is_an_error) {
    MirPop *p = make_pop(2, N_IZH, 0);
    ode(p, 0, add(mul(st(0), st(0)), neg(st(1))));
    ode(p, 1, mul(num(0.02), sub(mul(num(0.2), st(0)), st(1))));
    p->method_hint = MM_EXACT;
    ck_assert(!ode_plan(&A, p, 0.1, &D));
    ck_assert_int_eq(D.nerrors, 2);
    ck_assert_int_eq(D.first->id, DIAG_EXACT_NONLINEAR);
    ck_assert_str_eq(diag_id_name(D.first->id), "exact-nonlinear");
    ck_assert_uint_eq(D.first->span.offset, 100);
    ck_assert_str_eq(D.first->message,
                     "cannot integrate 'v' exactly: its right-hand side is not linear in the state variables");
    ck_assert_uint_eq(D.first->next->span.offset, 101);
    ck_assert_str_eq(D.first->next->message,
                     "cannot integrate 'u' exactly: it depends on 'v', whose equation is not linear");
    ck_assert_int_eq(p->step.n, 0);
}
END_TEST

START_TEST(exact_hint_on_linear_models) {
    MirPop *p = make_pop(2, N_LIF, 0);
    ode(p, 0, dvd(add(neg(st(0)), mul(num(1e8), st(1))), num(0.01)));
    ode(p, 1, dvd(neg(st(1)), num(2e-3)));
    plan(p, MM_EXACT, 1e-4);
    ck_assert_int_eq(p->odes[0].method, MM_EXACT);
    /* time dependence and per-neuron coupling are refused */
    MirPop *q = make_pop(2, N_LIF, 1);
    MirExpr *targ = mir_leaf(&A, MX_TIME, 0);
    ode(q, 0, add(dvd(neg(st(0)), par(0)), st(1)));
    ode(q, 1, add(neg(st(1)), mir_call(&A, MF_SIN, 1, &targ)));
    q->method_hint = MM_EXACT;
    ck_assert(!ode_plan(&A, q, 1e-4, &D));
    ck_assert_int_eq(D.nerrors, 2);
    ck_assert_str_eq(D.first->message, "cannot integrate 'V' exactly: it depends on 'I', whose equation is not linear");
    ck_assert_str_eq(D.first->next->message, "cannot integrate 'I' exactly: its right-hand side depends on time");
    MirPop *r = make_pop(2, N_LIF, 1);
    ode(r, 0, add(dvd(neg(st(0)), par(0)), st(1)));
    ode(r, 1, neg(st(1)));
    r->method_hint = MM_EXACT;
    ck_assert(!ode_plan(&A, r, 1e-4, &D));
    ck_assert_str_eq(D.last->message,
                     "cannot integrate 'V' exactly: it is coupled to 'I' with coefficients that differ per neuron");
}
END_TEST

START_TEST(expeuler_hint) {
    MirPop *p = plan(coba(10e-9), MM_EXPONENTIAL_EULER, 1e-4);
    for (int i = 0; i < 3; i++) ck_assert_int_eq(p->odes[i].method, MM_EXPONENTIAL_EULER);
    double x[3] = {-0.06, 20e-9, 0};
    run(p, x, NULL, 1e-4, 100);
    ck_assert_double_eq_tol(x[1], 20e-9 * exp(-100 * 1e-4 / 5e-3), 1e-12 * 20e-9); /* exact for a decay */
    MirPop *q = make_pop(1, N1, 0);
    ode(q, 0, add(mul(st(0), st(0)), num(1)));
    q->method_hint = MM_EXPONENTIAL_EULER;
    ck_assert(!ode_plan(&A, q, 0.01, &D));
    ck_assert_int_eq(D.first->id, DIAG_EXPEULER_NONLINEAR);
    ck_assert_str_eq(D.first->message,
                     "cannot integrate 'x' by exponential Euler: its right-hand side is not linear in 'x'");
}
END_TEST

START_TEST(explain_and_dump) {
    MirPop *p = make_pop(2, N_LIF, 0);
    ode(p, 0, dvd(add(neg(st(0)), mul(num(1e8), st(1))), num(0.01)));
    ode(p, 1, dvd(neg(st(1)), num(2e-3)));
    plan(p, MM_AUTO, 1e-4);
    ck_assert_str_eq(ode_explain(&A, p),
                     "V: exact - linear with constant coefficients: 2x2 propagator of {V, I} computed at compile time\n"
                     "I: exact - linear with constant coefficients: 2x2 propagator of {V, I} computed at compile time\n");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    mir_dump(f, p);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "[exact]"));
    ck_assert_ptr_nonnull(strstr(buf, "  step:\n"));
    free(buf);
}
END_TEST

Suite *ode_suite(void) {
    Suite *s = suite_create("ode");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, expm_diagonal);
    tcase_add_test(tc, expm_nilpotent);
    tcase_add_test(tc, expm_rotation);
    tcase_add_test(tc, propagator_scalar);
    tcase_add_test(tc, exact_decay);
    tcase_add_test(tc, exact_lif_period);
    tcase_add_test(tc, exact_cuba_2x2);
    tcase_add_test(tc, exact_per_neuron_tau);
    tcase_add_test(tc, exact_with_event_state);
    tcase_add_test(tc, coba_methods_and_order);
    tcase_add_test(tc, expeuler_zero_coefficient);
    tcase_add_test(tc, coupled_per_neuron);
    tcase_add_test(tc, nonlinear_gets_rk4);
    tcase_add_test(tc, order_qif);
    tcase_add_test(tc, order_izhikevich);
    tcase_add_test(tc, exact_on_nonlinear_is_an_error);
    tcase_add_test(tc, exact_hint_on_linear_models);
    tcase_add_test(tc, expeuler_hint);
    tcase_add_test(tc, explain_and_dump);
    suite_add_tcase(s, tc);
    return s;
}
