/* test_rt_input_draw.c - Poisson inputs with a weight or a delay drawn per
 * target neuron (RtInputDesc.weight_dist / delay_dist, SPEC [S-net-3],
 * [S-net-3b]), driven through rt_abi.h: the runtime's draws are those of
 * the documented key (seed, RT_STREAM_INPUT input/1 resp. /2, neuron),
 * their moments match the distribution, each neuron's input is its count
 * times its own weight, its first arrival is in step round(d_i/dt), a rate
 * event reaches it d_i steps late, equal drawn delays reproduce the constant
 * delay bit for bit, and nothing depends on the thread count. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rt_abi.h"
#include "rt_rng.h"
#include "rt_test_run.h"
#include "rt_tiny_model.h"

#define N 4000
#define SEED 77   /* RtRunOptions.seed of every run here */

/* The documented draw of neuron i: uniform or normal of (seed, input k, sub). */
static double want_draw(const RtDist *d, uint64_t seed, int k, int sub, int64_t i) {
    RtRng r;
    rt_rng_init(&r, seed, rt_stream(RT_STREAM_INPUT, (uint32_t)k, (uint32_t)sub), (uint64_t)i);
    if (d->kind == RT_DIST_UNIFORM)
        return d->a + (d->b - d->a) * rt_rng_uniform(&r);
    return d->a + d->b * rt_rng_normal(&r);
}

/* Runs `m` for `steps` steps with `threads` threads; copies state 0 of
 * population 0 (n neurons) into out. */
static void run_counts(const RtModelDesc *m, int threads, RtStep steps, double *out, int64_t n) {
    RtRunOptions o = run_options(threads);
    o.seed = SEED;
    RtError err;
    RtSim *s = rt_sim_create(m, &o, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    ck_assert_int_eq(rt_sim_run(s, steps, &err), RT_OK);
    memcpy(out, rt_sim_state(s, 0, 0), (size_t)n * sizeof *out);
    rt_sim_free(s);
}

/* Mean and standard deviation of x[0..n). */
static void moments(const double *x, int64_t n, double *mean, double *sd) {
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < n; i++)
        s += x[i];
    *mean = s / (double)n;
    for (int64_t i = 0; i < n; i++)
        s2 += (x[i] - *mean) * (x[i] - *mean);
    *sd = sqrt(s2 / (double)(n - 1));
}

/* Weights drawn per neuron: after one step each counter holds k_i * w_i,
 * where k_i is the count of the same input with weight 1 (the counts are
 * keyed as before) and w_i the documented draw; uniform(0.1, 0.3) and
 * normal(1, 0.25) moments within 5 standard errors (sd of the uniform
 * 0.2/sqrt(12)); identical for 1, 2 and 3 threads over 50 steps. */
START_TEST(test_input_weight_per_neuron) {
    static double k1[N], x[N], w[N], y[N];
    RtPopDesc pops[1] = {tiny_pop("N", N, tiny_counter)};
    RtInputDesc in = {.name = "drive", .kind = RT_INPUT_POISSON, .post = 0, .receptor = 0,
                      .begin = 0, .end = -1, .n_sources = 10, .rate_hz = 3000, .weight = 1,
                      .start_s = 0, .stop_s = -1};
    RtModelDesc m = tiny_model(pops, 1, NULL, 0);
    m.ninputs = 1;
    m.inputs = &in;
    run_counts(&m, 1, 1, k1, N);
    const RtDist dists[2] = {{RT_DIST_UNIFORM, 0.1, 0.3}, {RT_DIST_NORMAL, 1.0, 0.25}};
    const double want_mean[2] = {0.2, 1.0}, want_sd[2] = {0.2 / sqrt(12.0), 0.25};
    for (int c = 0; c < 2; c++) {
        in.weight = 7;   /* ignored once a distribution is given */
        in.weight_dist = dists[c];
        run_counts(&m, 1, 1, x, N);
        int64_t hits = 0;
        for (int64_t i = 0; i < N; i++) {
            w[i] = want_draw(&dists[c], SEED, 0, 1, i);
            ck_assert_msg(x[i] == k1[i] * w[i], "neuron %lld: %a != %g * %a", (long long)i, x[i], k1[i], w[i]);
            hits += k1[i] > 0;
        }
        ck_assert_int_gt(hits, N * 9 / 10);   /* most neurons got input: the check saw their weights */
        double mean, sd;
        moments(w, N, &mean, &sd);
        ck_assert_msg(fabs(mean - want_mean[c]) < 5 * want_sd[c] / sqrt(N), "mean %g", mean);
        ck_assert_msg(fabs(sd / want_sd[c] - 1) < 5 / sqrt(2.0 * N), "sd %g", sd);
        if (c == 0)
            for (int64_t i = 0; i < N; i++)
                ck_assert(w[i] >= 0.1 && w[i] < 0.3);
        run_counts(&m, 1, 50, x, N);
        for (int threads = 2; threads <= 3; threads++) {
            run_counts(&m, threads, 50, y, N);
            ck_assert(memcmp(x, y, sizeof x) == 0);
        }
    }
}
END_TEST

/* Delays drawn per neuron, uniform(1 ms, 3 ms) at dt = 0.1 ms: with 100
 * expected arrivals per step (P(none) = e^-100), neuron i's first arrival is
 * in step d_i = round(draw_i/dt) (10..30); a rate event to 0 Hz at 4 ms
 * stops it after step 40 + d_i - 1; each neuron's total equals the sum of
 * the documented draws (whether its chunk was drawn side by side or, when
 * its neurons straddle the rate change, one by one). Identical for 1, 2
 * and 3 threads. */
START_TEST(test_input_delay_per_neuron) {
    enum { M = 1000, STEPS = 80 };
    static double x[M], prev[M], last_x[3][M];
    RtPopDesc pops[1] = {tiny_pop("N", M, tiny_counter)};
    RtInputDesc in = {.name = "drive", .kind = RT_INPUT_POISSON, .post = 0, .receptor = 0,
                      .begin = 0, .end = -1, .n_sources = 1000, .rate_hz = 1000, .weight = 1,
                      .start_s = 0, .stop_s = -1, .delay_dist = {RT_DIST_UNIFORM, 1e-3, 3e-3}};
    RtEventDesc ev[1] = {{.time_s = 4e-3, .kind = RT_EV_SET_INPUT_RATE, .target = 0, .value = 0}};
    RtModelDesc m = tiny_model(pops, 1, NULL, 0);
    m.ninputs = 1;
    m.inputs = &in;
    m.nevents = 1;
    m.events = ev;
    int hist[31] = {0};
    for (int threads = 1; threads <= 3; threads++) {
        RtRunOptions o = run_options(threads);
        o.seed = SEED;
        RtError err;
        RtSim *s = rt_sim_create(&m, &o, &err);
        ck_assert_msg(s != NULL, "%s", err.msg);
        RtStep first[M], last[M];
        for (int i = 0; i < M; i++)
            first[i] = last[i] = -1, prev[i] = 0;
        for (RtStep k = 0; k < STEPS; k++) {
            ck_assert_int_eq(rt_sim_step(s, &err), RT_OK);
            memcpy(x, rt_sim_state(s, 0, 0), sizeof x);
            for (int i = 0; i < M; i++) {
                if (x[i] != prev[i] && first[i] < 0)
                    first[i] = k;
                if (x[i] != prev[i])
                    last[i] = k;
                prev[i] = x[i];
            }
        }
        for (int i = 0; i < M; i++) {
            RtStep d = (RtStep)round(want_draw(&in.delay_dist, SEED, 0, 2, i) / 1e-4);
            ck_assert_msg(first[i] == d, "neuron %d: first arrival %lld, d %lld", i, (long long)first[i],
                          (long long)d);
            ck_assert_msg(last[i] == 40 + d - 1, "neuron %d: last arrival %lld", i, (long long)last[i]);
            if (threads == 1)
                hist[d]++;
            double want = 0;   /* the documented counts: keyed by (step, i), rate of step - d */
            for (RtStep k = d; k < STEPS; k++) {
                RtRng r;
                rt_rng_init(&r, SEED, rt_stream(RT_STREAM_INPUT, 0, 0), (uint64_t)k << 32 | (uint64_t)i);
                want += (double)rt_rng_poisson(&r, 1000.0 * (k - d < 40 ? 1000.0 : 0.0) * 1e-4);
            }
            ck_assert_msg(x[i] == want, "neuron %d: %g arrivals, want %g", i, x[i], want);
        }
        memcpy(last_x[threads - 1], x, sizeof x);
        rt_sim_free(s);
    }
    ck_assert(memcmp(last_x[0], last_x[1], sizeof x) == 0 && memcmp(last_x[0], last_x[2], sizeof x) == 0);
    /* round(U(10, 30)): 10 and 30 get half a step's width (25 each), 11..29 a whole one (50) */
    for (int d = 10; d <= 30; d++) {
        double lam = M / 20.0 * (d == 10 || d == 30 ? 0.5 : 1);
        ck_assert_msg(fabs(hist[d] - lam) < 5 * sqrt(lam), "d = %d: %d neurons", d, hist[d]);
    }
}
END_TEST

/* A drawn delay whose draws all equal 2 ms (uniform(2 ms, 2 ms)) gives the
 * same bits as the constant delay (start_s = 2 ms, the rate event placed
 * 20 steps later, as the compiler emits it), with a rate step in between;
 * so does the drawn weight uniform(0.5, 0.5) against weight 0.5. */
START_TEST(test_input_drawn_equals_constant) {
    enum { M = 500 };
    static double a[M], b[M];
    RtPopDesc pops[1] = {tiny_pop("N", M, tiny_counter)};
    RtInputDesc in = {.name = "drive", .kind = RT_INPUT_POISSON, .post = 0, .receptor = 0,
                      .begin = 100, .end = 400, .n_sources = 7, .rate_hz = 300, .weight = 0.5,
                      .start_s = 2e-3, .stop_s = -1};
    RtEventDesc ev[2] = {{.time_s = 5e-3, .kind = RT_EV_SET_INPUT_RATE, .target = 0, .value = 900},
                         {.time_s = 8e-3, .kind = RT_EV_SET_INPUT_RATE, .target = 0, .value = 300}};
    RtModelDesc m = tiny_model(pops, 1, NULL, 0);
    m.ninputs = 1;
    m.inputs = &in;
    m.nevents = 2;
    m.events = ev;
    run_counts(&m, 1, 120, a, M);
    in.start_s = 0;
    in.weight = 9;
    in.weight_dist = (RtDist){RT_DIST_UNIFORM, 0.5, 0.5};
    in.delay_dist = (RtDist){RT_DIST_UNIFORM, 2e-3, 2e-3};
    ev[0].time_s = 3e-3;
    ev[1].time_s = 6e-3;
    for (int threads = 1; threads <= 2; threads++) {
        run_counts(&m, threads, 120, b, M);
        ck_assert(memcmp(a, b, sizeof a) == 0);
    }
    double total = 0;
    for (int i = 0; i < M; i++)
        total += a[i];
    ck_assert(total > 0);
}
END_TEST

/* Drawn values are for Poisson inputs, with finite parameters. */
START_TEST(test_input_draw_invalid) {
    RtPopDesc pops[1] = {tiny_pop("N", 4, tiny_counter)};
    RtInputDesc in = {.name = "I", .kind = RT_INPUT_CURRENT, .post = 0, .receptor = 0,
                      .begin = 0, .end = -1, .weight = 1, .stop_s = -1,
                      .weight_dist = {RT_DIST_UNIFORM, 0, 1}};
    RtModelDesc m = tiny_model(pops, 1, NULL, 0);
    m.ninputs = 1;
    m.inputs = &in;
    RtError err;
    ck_assert_ptr_null(rt_sim_create(&m, NULL, &err));
    ck_assert_int_eq(err.code, RT_E_INVALID);
    in.kind = RT_INPUT_POISSON;
    in.n_sources = 1;
    in.weight_dist = (RtDist){RT_DIST_CONST, 0, 0};
    in.delay_dist = (RtDist){RT_DIST_NORMAL, 1e-3, NAN};
    ck_assert_ptr_null(rt_sim_create(&m, NULL, &err));
    ck_assert_int_eq(err.code, RT_E_INVALID);
}
END_TEST

Suite *rt_input_draw_suite(void) {
    Suite *s = suite_create("rt_input_draw");
    TCase *tc = tcase_create("draws");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_input_weight_per_neuron);
    tcase_add_test(tc, test_input_delay_per_neuron);
    tcase_add_test(tc, test_input_drawn_equals_constant);
    tcase_add_test(tc, test_input_draw_invalid);
    suite_add_tcase(s, tc);
    return s;
}
