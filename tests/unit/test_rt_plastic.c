/* test_rt_plastic.c - plastic and short-term-plasticity projections (ABI v2)
 * driven through rt_abi.h alone, with hand-written kernels in the shape the
 * compiler generates: Tsodyks-Markram synapses against the paper's
 * closed-form recursion, per-pre depression, pair STDP (add and nearest-spike
 * traces), exact trace decay and rate estimates, the every-T kernel period,
 * protocol changes of a rule constant, bit-identity for 1/2/3 threads,
 * memory per synapse, descriptor checks and allocation failures. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt_abi.h"
#include "rt_npy.h"
#include "rt_tiny_model.h"
#include "rt_util.h"
#include "rt_test_run.h"

#define DT 1e-4

/* ---- hand-written kernels ---- */

/* Post neurons that record what arrives: state 0 sums the input, state 1
 * holds this step's input; never spike. */
static void recorder(const RtPopArgs *a, int64_t begin, int64_t end) {
    double *sum = a->state[0], *last = a->state[1], *in = a->input[0];
    for (int64_t i = begin; i < end; i++) {
        sum[i] += in[i];
        last[i] = in[i];
        in[i] = 0;
        a->spiked[i] = 0;
    }
}

/* Neuron i spikes in the steps consts[2i] and consts[2i+1] (< 0: never);
 * state 0 sums the input. */
static void scheduled(const RtPopArgs *a, int64_t begin, int64_t end) {
    double *sum = a->state[0], *in = a->input[0];
    for (int64_t i = begin; i < end; i++) {
        sum[i] += in[i];
        in[i] = 0;
        double st = (double)a->step;
        a->spiked[i] = a->consts[2 * i] == st || a->consts[2 * i + 1] == st;
    }
}

/* Tsodyks-Markram (Markram, Wang & Tsodyks 1998; Tsodyks, Pawelzik &
 * Markram 1998): syn 0 = u (relaxes to 0 with tau_fac), syn 1 = x (to 1 with
 * tau_rec); at a spike u += U(1-u), deliver w*u*x, x -= u*x.
 * consts: U, tau_rec, tau_fac. */
static void tm_on_pre(const RtSynArgs *a, const RtSynEvent *e) {
    double U = a->consts[0];
    double fr = exp(-e->elapsed / a->consts[1]), ff = exp(-e->elapsed / a->consts[2]);
    double *u = a->syn[0], *x = a->syn[1];
    for (int64_t q = e->first; q < e->last; q++) {
        double uq = u[q] * ff, xq = 1 + (x[q] - 1) * fr;
        uq += U * (1 - uq);
        a->input[a->post[q]] += a->w[q] * uq * xq;
        x[q] = xq - uq * xq;
        u[q] = uq;
    }
}

/* Depression per presynaptic neuron: syn 0 = x[i]; consts: U, tau_rec.
 * on_pre delivers w*U*x with x relaxed; on_pre_row makes the jump, once. */
static void pp_on_pre(const RtSynArgs *a, const RtSynEvent *e) {
    double xr = 1 + (a->syn[0][e->neuron] - 1) * exp(-e->elapsed / a->consts[1]);
    for (int64_t q = e->first; q < e->last; q++)
        a->input[a->post[q]] += a->w[q] * a->consts[0] * xr;
}

static void pp_on_pre_row(const RtSynArgs *a, const RtSynEvent *e) {
    double xr = 1 + (a->syn[0][e->neuron] - 1) * exp(-e->elapsed / a->consts[1]);
    a->syn[0][e->neuron] = xr - a->consts[0] * xr;
}

/* Pair STDP: pre trace 0, post trace 0; consts: A_plus, A_minus. */
static void stdp_on_pre(const RtSynArgs *a, const RtSynEvent *e) {
    const double *xpost = a->post_trace[0];
    for (int64_t q = e->first; q < e->last; q++) {
        a->w[q] -= a->consts[1] * xpost[a->post[q]];
        a->input[a->post[q]] += a->w[q];
    }
}

static void stdp_on_post(const RtSynArgs *a, const RtSynEvent *e) {
    const double *xpre = a->pre_trace[0];
    for (int64_t k = e->first; k < e->last; k++)
        a->w[e->syn[k]] += a->consts[0] * xpre[e->pre[k]];
}

/* every: w *= consts[0]; syn 0 counts calls, syn 1 keeps the last step,
 * syn 2 the elapsed time seen. */
static void scale_every(const RtSynArgs *a, const RtSynEvent *e) {
    for (int64_t k = e->first; k < e->last; k++) {
        uint32_t q = e->syn[k];
        a->w[q] *= a->consts[0];
        a->syn[0][q] += 1;
        a->syn[1][q] = (double)a->step;
        a->syn[2][q] = e->elapsed;
    }
}

/* ---- helpers ---- */

static RtPopDesc source(const char *name, int64_t n, int64_t nspikes, const double *t,
                        const int32_t *i) {
    return (RtPopDesc){.name = name, .size = n, .kind = RT_POP_SPIKE_TIMES, .nspikes = nspikes,
                       .spike_times = t, .spike_neurons = i};
}

static const RtVarDesc two_states[] = {{"sum", "1", {RT_DIST_CONST, 0, 0}},
                                       {"last", "1", {RT_DIST_CONST, 0, 0}}};

static RtPopDesc recorder_pop(int64_t n) {
    return (RtPopDesc){.name = "R", .size = n, .kind = RT_POP_NEURON, .nstates = 2,
                       .states = two_states, .ninputs = 1, .input_names = tiny_in,
                       .update = recorder};
}

static RtSim *create(const RtModelDesc *m, int threads) {
    RtRunOptions o;
    rt_run_options_init(&o);
    o.threads = threads;
    o.seed = 11;
    RtError err;
    RtSim *s = rt_sim_create(m, &o, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    return s;
}

static void run(RtSim *s, RtStep n) {
    RtError err;
    ck_assert_msg(rt_sim_run(s, n, &err) == RT_OK, "%s", err.msg);
}

static void assert_rel(double got, double want, double tol, const char *what, int k) {
    ck_assert_msg(fabs(got - want) <= tol * fabs(want), "%s %d: got %.17g, want %.17g", what, k,
                  got, want);
}

/* ---- Tsodyks-Markram ---- */

/* A regular train (period P) from one source through a TM synapse onto three
 * recorders with different weights: each arriving EPSC equals
 * w u_n R_n with u_1 = U, R_1 = 1, u_{n+1} = U + u_n (1-U) e^{-P/tau_fac},
 * R_{n+1} = 1 + (R_n - u_n R_n - 1) e^{-P/tau_rec}, to 1e-12. */
static void check_tm(double U, double tau_rec, double tau_fac, int threads) {
    enum { N = 20 };
    const double P = 0.05, t0 = 0.01;
    double times[N];
    int32_t who[N] = {0};
    for (int n = 0; n < N; n++)
        times[n] = t0 + n * P;
    RtPopDesc pops[2] = {source("S", 1, N, times, who), recorder_pop(3)};
    static const RtVarDesc uv[] = {{"u", "1", {RT_DIST_CONST, 0, 0}},
                                   {"x", "1", {RT_DIST_CONST, 1, 0}}};
    double consts[3] = {U, tau_rec, tau_fac};
    RtPlasticDesc pl = {.nsynvars = 2, .synvars = uv, .nconsts = 3, .consts = consts,
                        .on_pre = tm_on_pre};
    RtProjDesc pr = {.name = "S->R", .pre = 0, .post = 1, .rule = RT_CONN_ALL_TO_ALL,
                     .weight = {RT_DIST_UNIFORM, 1e-9, 3e-9}, .delay = {RT_DIST_CONST, 2e-3, 0},
                     .plastic = &pl};
    RtModelDesc m = tiny_model(pops, 2, &pr, 1);
    m.dt = DT;
    RtSim *s = create(&m, threads);
    const double *w = rt_sim_weights(s, 0), *last = rt_sim_state(s, 1, 1);
    double u = U, R = 1;
    int seen = 0;
    for (RtStep k = 0; k < (RtStep)((t0 + N * P) / DT) + 30; k++) {
        run(s, 1);
        RtStep arrival = (RtStep)nearbyint(t0 / DT) + (RtStep)seen * 500 + 20;
        if (seen == N || k != arrival) {
            for (int j = 0; j < 3; j++)
                ck_assert_double_eq(last[j], 0);
            continue;
        }
        for (int j = 0; j < 3; j++)
            assert_rel(last[j], w[j] * u * R, 1e-12, "EPSC", seen);
        double nu = U + u * (1 - U) * exp(-P / tau_fac);
        R = 1 + (R - u * R - 1) * exp(-P / tau_rec);
        u = nu;
        seen++;
    }
    ck_assert_int_eq(seen, N);
    rt_sim_free(s);
}

START_TEST(test_tm_depressing) {
    check_tm(0.5, 0.8, 1e-3, 1);   /* Tsodyks & Markram 1997: depressing */
    check_tm(0.5, 0.8, 1e-3, 2);
}
END_TEST

START_TEST(test_tm_facilitating) {
    check_tm(0.03, 0.1, 1.0, 1);   /* Markram et al. 1998: facilitating */
    check_tm(0.03, 0.1, 1.0, 3);
}
END_TEST

/* Depression per presynaptic neuron with irregular intervals: all synapses
 * of a row share x_n; EPSC_j = w_j U x_n, x_{n+1} = 1 + (x_n - U x_n - 1)
 * e^{-D_n/tau_rec}; the jump happens once per spike, for any thread count. */
START_TEST(test_per_pre_depression) {
    static const double times[] = {0.005, 0.012, 0.013, 0.030, 0.031, 0.032, 0.1, 0.25};
    enum { N = sizeof times / sizeof times[0] };
    int32_t who[N] = {0};
    static const RtVarDesc xv[] = {{"x", "1", {RT_DIST_CONST, 1, 0}}};
    double consts[2] = {0.4, 0.2};
    RtPlasticDesc pl = {.nsynvars = 1, .synvars = xv, .per_pre = true, .nconsts = 2,
                        .consts = consts, .on_pre = pp_on_pre, .on_pre_row = pp_on_pre_row};
    for (int threads = 1; threads <= 3; threads++) {
        RtPopDesc pops[2] = {source("S", 2, N, times, who), recorder_pop(5)};
        RtProjDesc pr = {.name = "S->R", .pre = 0, .post = 1, .rule = RT_CONN_ALL_TO_ALL,
                         .weight = {RT_DIST_UNIFORM, 1, 2}, .delay = {RT_DIST_CONST, 1e-3, 0},
                         .plastic = &pl};
        RtModelDesc m = tiny_model(pops, 2, &pr, 1);
        m.duration_s = 0.3;
        RtSim *s = create(&m, threads);
        const double *w = rt_sim_weights(s, 0), *last = rt_sim_state(s, 1, 1);
        const int64_t *row = rt_sim_rows(s, 0);
        double x = 1;
        for (int n = 0; n < N; n++) {
            RtStep arrival = (RtStep)nearbyint(times[n] / DT) + 10;
            run(s, arrival + 1 - rt_sim_now(s));
            for (int j = 0; j < 5; j++)
                assert_rel(last[j], w[row[0] + j] * 0.4 * x, 1e-12, "EPSC", n);
            double D = n + 1 < N ? times[n + 1] - times[n] : 0;
            x = 1 + (x - 0.4 * x - 1) * exp(-D / 0.2);
        }
        /* neuron 1 never spiked: its x is untouched */
        ck_assert_double_eq(rt_sim_synvar(s, 0, 0)[1], 1);
        rt_sim_free(s);
    }
}
END_TEST

/* ---- STDP and traces ---- */

/* Reads back a file of rt_sim_write_synapses: n rows of (pre, post, w). */
static int64_t read_synapses(const char *path, uint32_t *pre, uint32_t *post, double *w, int max) {
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    char descr[128];
    int64_t rows, cols;
    long hl;
    RtError err;
    ck_assert_msg(rt_npy_parse_header(f, descr, sizeof descr, &rows, &cols, &hl, &err) == RT_OK,
                  "%s", err.msg);
    ck_assert_str_eq(descr, "[('pre', '<u4'), ('post', '<u4'), ('w', '<f8')]");
    ck_assert_int_le(rows, max);
    fseek(f, hl, SEEK_SET);
    for (int64_t k = 0; k < rows; k++) {
        unsigned char b[16];
        ck_assert_int_eq(fread(b, 1, 16, f), 16);
        memcpy(&pre[k], b, 4);
        memcpy(&post[k], b + 4, 4);
        memcpy(&w[k], b + 8, 8);
    }
    fclose(f);
    return rows;
}

/* Two pre -> two post, one to one, delay 1 ms, STDP with traces of 20 ms.
 * Pair 0: arrival at step 200, post spike at 300 (+10 ms): dw = A+ e^{-1/2}.
 * Pair 1: post spike at 200, arrival at 300 (-10 ms): dw = -A- e^{-1/2}.
 * Returns the final weights through w_out. */
static void run_stdp_pairs(RtTraceMode mode, const double *pre_t, const int32_t *who,
                           int npre_t, const double *post_steps, double w_out[2]) {
    RtPopDesc pops[2] = {source("S", 2, npre_t, pre_t, who), tiny_pop("P", 2, scheduled)};
    pops[1].nconsts = 4;
    pops[1].consts = post_steps;
    RtTraceDesc tr = {"x", 0.02, 1, mode};
    double consts[2] = {0.01, 0.012};
    RtPlasticDesc pl = {.ntraces_pre = 1, .traces_pre = &tr, .ntraces_post = 1,
                        .traces_post = &tr, .nconsts = 2, .consts = consts,
                        .on_pre = stdp_on_pre, .on_post = stdp_on_post};
    RtProjDesc pr = {.name = "S->P", .pre = 0, .post = 1, .rule = RT_CONN_ONE_TO_ONE,
                     .weight = {RT_DIST_CONST, 0.5, 0}, .delay = {RT_DIST_CONST, 1e-3, 0},
                     .plastic = &pl};
    RtModelDesc m = tiny_model(pops, 2, &pr, 1);
    m.duration_s = 0.06;
    RtSim *s = create(&m, 2);
    run(s, -1);
    memcpy(w_out, rt_sim_weights(s, 0), 2 * sizeof(double));
    /* the weights dump holds the same synapses and values */
    char path[64];
    snprintf(path, sizeof path, "/tmp/rt_plastic_w_%ld.npy", (long)getpid());
    RtError err;
    ck_assert_msg(rt_sim_write_synapses(s, 0, path, &err) == RT_OK, "%s", err.msg);
    uint32_t pre[4], post[4];
    double w[4];
    ck_assert_int_eq(read_synapses(path, pre, post, w, 4), 2);
    for (uint32_t k = 0; k < 2; k++) {
        ck_assert_uint_eq(pre[k], k);
        ck_assert_uint_eq(post[k], k);
        ck_assert_double_eq(w[k], w_out[k]);
    }
    unlink(path);
    rt_sim_free(s);
}

START_TEST(test_stdp_pairs) {
    const double e = exp(-0.5);
    /* arrivals at steps 200 (neuron 0) and 300 (neuron 1): emitted 10 earlier */
    static const double pre_t[] = {0.019, 0.029};
    static const double post_steps[] = {300, -1, 200, -1};
    static const int32_t who[] = {0, 1};
    double w[2];
    run_stdp_pairs(RT_TRACE_ADD, pre_t, who, 2, post_steps, w);
    assert_rel(w[0] - 0.5, 0.01 * e, 1e-12, "pre-post", 0);
    assert_rel(w[1] - 0.5, -0.012 * e, 1e-12, "post-pre", 1);
    /* same step: the arriving spike counts as pre-before-post, dt = 0 */
    static const double same[] = {200, -1, 250, -1};
    static const double pre_same[] = {0.019, 0.024};
    run_stdp_pairs(RT_TRACE_ADD, pre_same, who, 2, same, w);
    assert_rel(w[0] - 0.5, 0.01, 1e-12, "same step", 0);
    assert_rel(w[1] - 0.5, 0.01, 1e-12, "same step", 1);
}
END_TEST

/* Two pre arrivals (steps 100 and 200) before one post spike (300), and two
 * post spikes (100, 200) before one arrival (300): all-to-all (ADD) sums both
 * pairs, nearest-spike (SET) only the nearest. */
START_TEST(test_stdp_add_vs_nearest) {
    static const double pre_t[] = {0.009, 0.019, 0.029};
    static const double post_steps[] = {300, -1, 100, 200};
    static const int32_t who[] = {0, 0, 1};
    double w[2];
    run_stdp_pairs(RT_TRACE_ADD, pre_t, who, 3, post_steps, w);
    assert_rel(w[0] - 0.5, 0.01 * (exp(-0.5) + exp(-1.0)), 1e-12, "add pre-pre-post", 0);
    assert_rel(w[1] - 0.5, -0.012 * (exp(-0.5) + exp(-1.0)), 1e-12, "add post-post-pre", 1);
    run_stdp_pairs(RT_TRACE_SET, pre_t, who, 3, post_steps, w);
    assert_rel(w[0] - 0.5, 0.01 * exp(-0.5), 1e-12, "nearest pre-pre-post", 0);
    assert_rel(w[1] - 0.5, -0.012 * exp(-0.5), 1e-12, "nearest post-post-pre", 1);
}
END_TEST

/* A pre trace (tau 7 ms, +0.3) decays exactly: k steps after its arrival
 * it reads 0.3 e^{-k dt/tau} (relative 1e-12 over 2000 steps). */
START_TEST(test_trace_decay) {
    static const double pre_t[] = {0.0049};   /* arrives in step 50 */
    int32_t who[1] = {0};
    double post_steps[2] = {-1, -1};
    RtPopDesc pops[2] = {source("S", 1, 1, pre_t, who), tiny_pop("P", 1, scheduled)};
    pops[1].nconsts = 2;
    pops[1].consts = post_steps;
    RtTraceDesc tpre = {"x", 0.007, 0.3, RT_TRACE_ADD};
    RtTraceDesc tpost = {"r", 0.05, 1 / 0.05, RT_TRACE_ADD};
    RtPlasticDesc pl = {.ntraces_pre = 1, .traces_pre = &tpre, .ntraces_post = 1,
                        .traces_post = &tpost};
    RtProjDesc pr = {.name = "S->P", .pre = 0, .post = 1, .rule = RT_CONN_ALL_TO_ALL,
                     .weight = {RT_DIST_CONST, 0, 0}, .delay = {RT_DIST_CONST, 1e-4, 0},
                     .plastic = &pl};
    RtModelDesc m = tiny_model(pops, 2, &pr, 1);
    RtSim *s = create(&m, 1);
    const double *x = rt_sim_trace(s, 0, 0, 0);
    run(s, 49);                    /* the trace holds the value of step now */
    ck_assert_double_eq(x[0], 0);
    run(s, 1);                     /* step 50, arrival included */
    ck_assert_double_eq(x[0], 0.3);
    for (int k = 1; k <= 2000; k++) {
        run(s, 1);
        assert_rel(x[0], 0.3 * exp(-k * DT / 0.007), 1e-12, "pre trace", k);
    }
    rt_sim_free(s);
}
END_TEST

/* Records what handlers see: syn 0/1 = pre/post trace and syn 2 = elapsed
 * in on_pre; syn 3/4 = pre/post trace and syn 5 = elapsed in on_post. */
static void view_on_pre(const RtSynArgs *a, const RtSynEvent *e) {
    for (int64_t q = e->first; q < e->last; q++) {
        a->syn[0][q] = a->pre_trace[0][e->neuron];
        a->syn[1][q] = a->post_trace[0][a->post[q]];
        a->syn[2][q] = e->elapsed;
    }
}

static void view_on_post(const RtSynArgs *a, const RtSynEvent *e) {
    for (int64_t k = e->first; k < e->last; k++) {
        uint32_t q = e->syn[k];
        a->syn[3][q] = a->pre_trace[0][e->pre[k]];
        a->syn[4][q] = a->post_trace[0][e->neuron];
        a->syn[5][q] = e->elapsed;
    }
}

/* Arrivals in steps 50 and 80, post spikes in steps 80 and 110, one synapse:
 * each handler sees the traces just before its own event's jump (on_pre at
 * 80 reads 0.3 e^{-30 dt/tau}, not + 0.3), on_post at 80 sees the arrival of
 * the same step, and the elapsed times since the previous event (from t = 0
 * for the first). */
START_TEST(test_handler_views) {
    static const double pre_t[] = {0.0049, 0.0079};
    static const int32_t who[] = {0, 0};
    static const double post_steps[] = {80, 110};
    static const RtVarDesc v6[] = {{"a", "1", {RT_DIST_CONST, -1, 0}}, {"b", "1", {RT_DIST_CONST, -1, 0}},
                                   {"c", "1", {RT_DIST_CONST, -1, 0}}, {"d", "1", {RT_DIST_CONST, -1, 0}},
                                   {"e", "1", {RT_DIST_CONST, -1, 0}}, {"f", "1", {RT_DIST_CONST, -1, 0}}};
    RtPopDesc pops[2] = {source("S", 1, 2, pre_t, who), tiny_pop("P", 1, scheduled)};
    pops[1].nconsts = 2;
    pops[1].consts = post_steps;
    RtTraceDesc tpre = {"x", 0.007, 0.3, RT_TRACE_ADD}, tpost = {"y", 0.004, 2, RT_TRACE_ADD};
    RtPlasticDesc pl = {.nsynvars = 6, .synvars = v6, .ntraces_pre = 1, .traces_pre = &tpre,
                        .ntraces_post = 1, .traces_post = &tpost, .on_pre = view_on_pre,
                        .on_post = view_on_post};
    RtProjDesc pr = {.name = "S->P", .pre = 0, .post = 1, .rule = RT_CONN_ALL_TO_ALL,
                     .weight = {RT_DIST_CONST, 0, 0}, .delay = {RT_DIST_CONST, 1e-4, 0},
                     .plastic = &pl};
    RtModelDesc m = tiny_model(pops, 2, &pr, 1);
    RtSim *s = create(&m, 1);
    double *v[6];
    for (int k = 0; k < 6; k++)
        v[k] = rt_sim_synvar(s, 0, k);
    run(s, 51);                          /* first arrival (step 50) */
    ck_assert_double_eq(v[0][0], 0);
    ck_assert_double_eq(v[1][0], 0);
    assert_rel(v[2][0], 50 * DT, 1e-12, "elapsed", 50);
    run(s, 30);                          /* step 80: arrival and post spike */
    assert_rel(v[0][0], 0.3 * exp(-30 * DT / 0.007), 1e-12, "on_pre pre trace", 80);
    ck_assert_double_eq(v[1][0], 0);
    assert_rel(v[2][0], 30 * DT, 1e-12, "elapsed", 80);
    assert_rel(v[3][0], 0.3 + 0.3 * exp(-30 * DT / 0.007), 1e-12, "on_post pre trace", 80);
    ck_assert_double_eq(v[4][0], 0);
    assert_rel(v[5][0], 80 * DT, 1e-12, "elapsed", 80);
    run(s, 30);                          /* step 110: second post spike */
    assert_rel(v[4][0], 2 * exp(-30 * DT / 0.004), 1e-12, "on_post post trace", 110);
    assert_rel(v[5][0], 30 * DT, 1e-12, "elapsed", 110);
    assert_rel(rt_sim_trace(s, 0, 1, 0)[0], 2 * exp(-DT / 0.004) * (1 + exp(-30 * DT / 0.004)),
               1e-12, "post trace", 111);
    rt_sim_free(s);
}
END_TEST

/* Post neuron that fires every consts[0] steps (from step 0). */
static void periodic(const RtPopArgs *a, int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
        a->input[0][i] = 0;
        a->spiked[i] = a->step % (RtStep)a->consts[0] == 0;
    }
}

/* A rate estimate (`rate r of post tau T`: tau T, inc 1/T) of a regular
 * 100 Hz train settles to the periodic solution: k steps after a spike
 * r = (1/T) e^{-k dt/T} / (1 - e^{-P/T}), whose mean is 100 Hz. */
START_TEST(test_rate_estimate) {
    const double T = 0.05, P = 100 * DT;   /* 100 Hz */
    static const double period[] = {100};
    RtPopDesc pops[2] = {tiny_pop("A", 1, tiny_counter), tiny_pop("P", 3, periodic)};
    pops[1].nconsts = 1;
    pops[1].consts = period;
    RtTraceDesc tr = {"r", T, 1 / T, RT_TRACE_ADD};
    RtPlasticDesc pl = {.ntraces_post = 1, .traces_post = &tr};
    RtProjDesc pr = {.name = "A->P", .pre = 0, .post = 1, .rule = RT_CONN_ALL_TO_ALL,
                     .weight = {RT_DIST_CONST, 0, 0}, .delay = {RT_DIST_CONST, 1e-4, 0},
                     .plastic = &pl};
    RtModelDesc m = tiny_model(pops, 2, &pr, 1);
    RtSim *s = create(&m, 2);
    const double *r = rt_sim_trace(s, 0, 1, 0);
    run(s, 20000);                         /* 2 s = 40 tau: periodic regime */
    for (int k = 1; k <= 100; k++) {       /* steps 20000 (a spike) .. 20099 */
        run(s, 1);
        double want = (1 / T) * exp(-k * DT / T) / (1 - exp(-P / T));
        for (int j = 0; j < 3; j++)
            assert_rel(r[j], want, 1e-12, "rate", k);
    }
    printf("rate estimate of a 100 Hz train: %.4f .. %.4f Hz\n",
           (1 / T) * exp(-P / T) / (1 - exp(-P / T)), (1 / T) / (1 - exp(-P / T)));
    rt_sim_free(s);
}
END_TEST

/* ---- every ---- */

/* every 2.5 ms (25 steps) over 4 x 6 synapses: after 1000 steps, 40 calls at
 * steps 24, 49, ..., 999, each seeing elapsed = 2.5 ms; w scaled by 1.01^40.
 * A protocol event sets the factor to 1 at t = 50 ms (step 500): 20 calls. */
START_TEST(test_every_period) {
    static const RtVarDesc cv[] = {{"count", "1", {RT_DIST_CONST, 0, 0}},
                                   {"step", "1", {RT_DIST_CONST, -1, 0}},
                                   {"elapsed", "s", {RT_DIST_CONST, 0, 0}}};
    double consts[1] = {1.01};
    RtPlasticDesc pl = {.nsynvars = 3, .synvars = cv, .nconsts = 1, .consts = consts,
                        .every = scale_every, .every_s = 2.5e-3};
    for (int with_event = 0; with_event <= 1; with_event++) {
        RtPopDesc pops[2] = {tiny_pop("A", 4, tiny_counter), tiny_pop("B", 6, tiny_counter)};
        RtProjDesc pr = {.name = "A->B", .pre = 0, .post = 1, .rule = RT_CONN_ALL_TO_ALL,
                         .weight = {RT_DIST_CONST, 2, 0}, .delay = {RT_DIST_CONST, 1e-4, 0},
                         .plastic = &pl};
        RtEventDesc ev = {.time_s = 0.05, .kind = RT_EV_SET_PROJ_CONST, .target = 0, .index = 0,
                          .value = 1.0};
        RtModelDesc m = tiny_model(pops, 2, &pr, 1);
        m.nevents = with_event;
        m.events = &ev;
        RtSim *s = create(&m, 3);
        run(s, 1000);
        int calls = with_event ? 20 : 40;
        for (int q = 0; q < 24; q++) {
            ck_assert_double_eq(rt_sim_synvar(s, 0, 0)[q], 40);
            ck_assert_double_eq(rt_sim_synvar(s, 0, 1)[q], 999);
            assert_rel(rt_sim_synvar(s, 0, 2)[q], 2.5e-3, 1e-12, "elapsed", q);
            assert_rel(rt_sim_weights(s, 0)[q], 2 * pow(1.01, calls), 1e-13, "w", q);
        }
        rt_sim_free(s);
    }
}
END_TEST

/* ---- a network: bit-identity and memory ---- */

/* TM + STDP + a homeostatic every on one projection: relax u, x; depress w
 * by the post trace; deliver w u x; also reads pre.x (snapshot) and post.x. */
static void net_on_pre(const RtSynArgs *a, const RtSynEvent *e) {
    double ff = exp(-e->elapsed / 0.05), fr = exp(-e->elapsed / 0.3);
    double *u = a->syn[0], *x = a->syn[1];
    double pre_x = a->pre_state[0][e->neuron];
    for (int64_t q = e->first; q < e->last; q++) {
        uint32_t j = a->post[q];
        double uq = u[q] * ff, xq = 1 + (x[q] - 1) * fr;
        uq += 0.2 * (1 - uq);
        double w = a->w[q] - 0.004 * a->post_trace[0][j] + 1e-4 * (pre_x - a->post_state[0][j]);
        a->w[q] = w < 0 ? 0 : w;
        a->input[j] += a->w[q] * uq * xq;
        x[q] = xq - uq * xq;
        u[q] = uq;
    }
}

static void net_on_post(const RtSynArgs *a, const RtSynEvent *e) {
    for (int64_t k = e->first; k < e->last; k++) {
        uint32_t q = e->syn[k];
        double w = a->w[q] + 0.003 * a->pre_trace[0][e->pre[k]] + 1e-3 * a->pre_trace[1][e->pre[k]];
        a->w[q] = w > 1 ? 1 : w;
    }
}

static void net_every(const RtSynArgs *a, const RtSynEvent *e) {
    double r = a->post_trace[1][e->neuron];
    for (int64_t k = e->first; k < e->last; k++)
        a->w[e->syn[k]] *= 1 + 0.01 * (20 - r) / 20;
}

static const RtTraceDesc net_pre_tr[] = {{"x_pre", 0.02, 1, RT_TRACE_ADD},
                                         {"x_nn", 0.01, 1, RT_TRACE_SET}};
static const RtTraceDesc net_post_tr[] = {{"x_post", 0.02, 1, RT_TRACE_ADD},
                                          {"rate", 0.2, 5, RT_TRACE_ADD}};
static const RtVarDesc net_uv[] = {{"u", "1", {RT_DIST_UNIFORM, 0, 0.2}},
                                   {"x", "1", {RT_DIST_CONST, 1, 0}}};
static const int net_pre_vars[] = {0};
static const RtVarDesc net_xv[] = {{"x", "1", {RT_DIST_NORMAL, 0.8, 0.05}}};
static const double net_pp_consts[] = {0.3, 0.5};

typedef struct NetResult {
    uint64_t hash;      /* over spikes, weights, synapse state, traces, neuron state */
    int64_t spikes;
} NetResult;

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t k = 0; k < n; k++)
        h = (h ^ b[k]) * 0x100000001b3ull;
    return h;
}

/* 300 integrators with Poisson drive, a recurrent plastic projection (p =
 * 0.1, delay 1.5 ms) and a per-pre depressing projection from a Poisson
 * source population. */
static void net_model(RtModelDesc *m, RtPopDesc pops[2], RtProjDesc pr[2], RtPlasticDesc pl[2],
                      RtInputDesc *in) {
    pops[0] = tiny_pop("E", 300, tiny_integrator);
    pops[1] = (RtPopDesc){.name = "Src", .size = 100, .kind = RT_POP_POISSON, .rate_hz = 30};
    pl[0] = (RtPlasticDesc){.nsynvars = 2, .synvars = net_uv, .ntraces_pre = 2,
                            .traces_pre = net_pre_tr, .ntraces_post = 2,
                            .traces_post = net_post_tr, .npre_vars = 1, .pre_vars = net_pre_vars,
                            .on_pre = net_on_pre, .on_post = net_on_post, .every = net_every,
                            .every_s = 0.01};
    pl[1] = (RtPlasticDesc){.nsynvars = 1, .synvars = net_xv, .per_pre = true, .nconsts = 2,
                            .consts = net_pp_consts, .on_pre = pp_on_pre,
                            .on_pre_row = pp_on_pre_row};
    pr[0] = (RtProjDesc){.name = "E->E", .pre = 0, .post = 0, .rule = RT_CONN_PROBABILITY,
                         .p = 0.1, .weight = {RT_DIST_UNIFORM, 0.05, 0.3},
                         .delay = {RT_DIST_CONST, 1.5e-3, 0}, .plastic = &pl[0]};
    pr[1] = (RtProjDesc){.name = "Src->E", .pre = 1, .post = 0, .rule = RT_CONN_FIXED_INDEGREE,
                         .degree = 10, .weight = {RT_DIST_CONST, 0.05, 0},
                         .delay = {RT_DIST_CONST, 1e-4, 0}, .plastic = &pl[1]};
    *in = (RtInputDesc){.name = "drive", .kind = RT_INPUT_POISSON, .post = 0, .receptor = 0,
                        .begin = 0, .end = -1, .n_sources = 10, .rate_hz = 100, .weight = 0.08,
                        .start_s = 0, .stop_s = -1};
    *m = tiny_model(pops, 2, pr, 2);
    m->ninputs = 1;
    m->inputs = in;
    m->duration_s = 0.3;
}

static NetResult run_net(int threads) {
    RtModelDesc m;
    RtPopDesc pops[2];
    RtProjDesc pr[2];
    RtPlasticDesc pl[2];
    RtInputDesc in;
    net_model(&m, pops, pr, pl, &in);
    RtSim *s = create(&m, threads);
    NetResult r = {0xcbf29ce484222325ull, 0};
    for (RtStep k = 0; k < rt_sim_total_steps(s); k++) {
        run(s, 1);
        int64_t n;
        const RtNeuron *spk = rt_sim_last_spikes(s, 0, &n);
        r.hash = hash_bytes(r.hash, spk, (size_t)n * sizeof *spk);
        r.hash = hash_bytes(r.hash, &k, sizeof k);
    }
    r.spikes = rt_sim_spike_count(s, 0);
    int64_t nsyn = rt_sim_synapse_count(s, 0);
    r.hash = hash_bytes(r.hash, rt_sim_weights(s, 0), (size_t)nsyn * sizeof(double));
    for (int v = 0; v < 2; v++)
        r.hash = hash_bytes(r.hash, rt_sim_synvar(s, 0, v), (size_t)nsyn * sizeof(double));
    for (int k = 0; k < 2; k++) {
        r.hash = hash_bytes(r.hash, rt_sim_trace(s, 0, 0, k), 300 * sizeof(double));
        r.hash = hash_bytes(r.hash, rt_sim_trace(s, 0, 1, k), 300 * sizeof(double));
    }
    r.hash = hash_bytes(r.hash, rt_sim_synvar(s, 1, 0), 100 * sizeof(double));
    r.hash = hash_bytes(r.hash, rt_sim_state(s, 0, 0), 300 * sizeof(double));
    rt_sim_free(s);
    return r;
}

START_TEST(test_threads_bit_identical) {
    NetResult r1 = run_net(1);
    printf("plastic network: %lld spikes in 0.3 s (%.1f Hz)\n", (long long)r1.spikes,
           (double)r1.spikes / 300 / 0.3);
    ck_assert_int_gt(r1.spikes, 300);          /* it fires, plasticity acts */
    ck_assert_int_lt(r1.spikes, 300 * 0.3 * 500);
    for (int t = 2; t <= 3; t++) {
        NetResult rt = run_net(t);
        ck_assert_int_eq(rt.spikes, r1.spikes);
        ck_assert_msg(rt.hash == r1.hash, "threads %d: hash differs", t);
    }
}
END_TEST

/* Memory: 1000 x 1000 at p = 0.5 (about 500k synapses), STDP (2 traces)
 * costs at most 16 bytes per synapse plus per-neuron arrays; TM state adds
 * 16 more. */
START_TEST(test_bytes_per_synapse) {
    RtTraceDesc tr = {"x", 0.02, 1, RT_TRACE_ADD};
    static const RtVarDesc uv[] = {{"u", "1", {RT_DIST_CONST, 0, 0}},
                                   {"x", "1", {RT_DIST_CONST, 1, 0}}};
    RtPlasticDesc stdp = {.ntraces_pre = 1, .traces_pre = &tr, .ntraces_post = 1,
                          .traces_post = &tr, .on_pre = stdp_on_pre, .on_post = stdp_on_post};
    RtPlasticDesc tm = {.nsynvars = 2, .synvars = uv, .on_pre = tm_on_pre};
    RtPopDesc pops[2] = {tiny_pop("A", 1000, tiny_counter), tiny_pop("B", 1000, tiny_counter)};
    RtProjDesc pr[3] = {
        {.name = "static", .pre = 0, .post = 1, .rule = RT_CONN_PROBABILITY, .p = 0.5,
         .weight = {RT_DIST_CONST, 1, 0}, .delay = {RT_DIST_CONST, 1e-4, 0}},
        {.name = "stdp", .pre = 0, .post = 1, .rule = RT_CONN_PROBABILITY, .p = 0.5,
         .weight = {RT_DIST_CONST, 1, 0}, .delay = {RT_DIST_CONST, 1e-4, 0}, .plastic = &stdp},
        {.name = "tm", .pre = 0, .post = 1, .rule = RT_CONN_PROBABILITY, .p = 0.5,
         .weight = {RT_DIST_CONST, 1, 0}, .delay = {RT_DIST_CONST, 1e-4, 0}, .plastic = &tm},
    };
    RtModelDesc m = tiny_model(pops, 2, pr, 3);
    RtSim *s = create(&m, 2);
    double b[3];
    for (int k = 0; k < 3; k++) {
        b[k] = (double)rt_sim_synapse_bytes(s, k) / (double)rt_sim_synapse_count(s, k);
        printf("bytes per synapse, %s projection (%lld synapses): %.3f\n", pr[k].name,
               (long long)rt_sim_synapse_count(s, k), b[k]);
    }
    ck_assert(b[0] > 12 && b[0] < 12.05);
    ck_assert(b[1] > 16 && b[1] < 16.25);
    ck_assert(b[2] > 32 && b[2] < 32.25);
    rt_sim_free(s);
}
END_TEST

/* ---- descriptor checks, allocation failures ---- */

START_TEST(test_invalid_plastic) {
    RtModelDesc m;
    RtPopDesc pops[2];
    RtProjDesc pr[2];
    RtPlasticDesc pl[2];
    RtInputDesc in;
    net_model(&m, pops, pr, pl, &in);
    RtError err;
    m.abi_version = 1;                          /* v1 has no plasticity */
    ck_assert_ptr_null(rt_sim_create(&m, NULL, &err));
    ck_assert_int_eq(err.code, RT_E_INVALID);
    m.abi_version = RT_ABI_VERSION;
    pr[0].delay = (RtDist){RT_DIST_UNIFORM, 1e-3, 2e-3};   /* per-synapse delays: per-pre state */
    pl[0].per_pre = true;                                  /* needs one delay ([S-plastic-1]) */
    ck_assert_ptr_null(rt_sim_create(&m, NULL, &err));
    ck_assert_int_eq(err.code, RT_E_UNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "'E->E'") != NULL, "%s", err.msg);
    pl[0].per_pre = false;
    pr[0].delay = (RtDist){RT_DIST_CONST, 1e-3, 0};
    pr[1].pre = 0;
    pr[1].post = 1;                             /* onto a Poisson population */
    ck_assert_ptr_null(rt_sim_create(&m, NULL, &err));
    ck_assert_int_eq(err.code, RT_E_INVALID);
    pr[1].pre = 1;
    pr[1].post = 0;
    RtTraceDesc bad = {"x", 0, 1, RT_TRACE_ADD};
    pl[0].traces_pre = &bad;
    pl[0].ntraces_pre = 1;
    ck_assert_ptr_null(rt_sim_create(&m, NULL, &err));
    ck_assert(strstr(err.msg, "tau") != NULL);
    /* a v1 descriptor without plasticity still runs */
    RtPopDesc p1[1] = {tiny_pop("N", 3, tiny_counter)};
    RtModelDesc v1 = tiny_model(p1, 1, NULL, 0);
    v1.abi_version = 1;
    RtSim *s = rt_sim_create(&v1, NULL, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    rt_sim_free(s);
}
END_TEST

START_TEST(test_alloc_failure) {
    RtModelDesc m;
    RtPopDesc pops[2];
    RtProjDesc pr[2];
    RtPlasticDesc pl[2];
    RtInputDesc in;
    net_model(&m, pops, pr, pl, &in);
    RtRunOptions o = run_options(2);
    int failures = create_failures(&m, &o, 100, false, 1000);
    ck_assert_int_ge(failures, 40);
    ck_assert_int_lt(failures, 1000);
}
END_TEST

Suite *rt_plastic_suite(void) {
    Suite *s = suite_create("rt_plastic");
    TCase *tc = tcase_create("plastic");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_tm_depressing);
    tcase_add_test(tc, test_tm_facilitating);
    tcase_add_test(tc, test_per_pre_depression);
    tcase_add_test(tc, test_stdp_pairs);
    tcase_add_test(tc, test_stdp_add_vs_nearest);
    tcase_add_test(tc, test_trace_decay);
    tcase_add_test(tc, test_handler_views);
    tcase_add_test(tc, test_rate_estimate);
    tcase_add_test(tc, test_every_period);
    tcase_add_test(tc, test_threads_bit_identical);
    tcase_add_test(tc, test_bytes_per_synapse);
    tcase_add_test(tc, test_invalid_plastic);
    tcase_add_test(tc, test_alloc_failure);
    suite_add_tcase(s, tc);
    return s;
}
