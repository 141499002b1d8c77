/* test_rt_balance.c - ABI v5 probes and sliding balance windows, driven
 * through rt_abi.h with hand-written kernels (rt_balance.c, rt_rec.c):
 *   - sliding windows (W = 25 steps every H = 5) against a two-pass
 *     reference computed from the same current traces, rows from the first
 *     complete window on, the manifest's window, every and row count, and
 *     the same bytes for 1 and 3 threads;
 *   - the population file NAME_pop.npy (float64 [windows, 4]): the same
 *     statistics of the currents averaged over the recorded neurons each
 *     step, against the two-pass reference of the averaged traces, 1 == 3
 *     threads; probed == states for H = W; no rows without neurons;
 *   - a probed monitor with H = W (and H = 0) writes the same bytes as the
 *     state-reading monitor of ABI v3/v4 on the same currents, also when I_E and
 *     I_I name one variable;
 *   - probe kernels run only over the recorded neurons;
 *   - RT_REC_PROBE: row k is the probe of step k*every, before that step's
 *     update, ceil(N/every) rows, 1 == 2 threads;
 *   - descriptor checks: a hop that does not divide the window, more
 *     blocks per neuron (W/H) than memory can address, probe
 *     recordings below v5, a probe index out of range, probes without a
 *     probe kernel, without names, on a Poisson population, nprobes < 0;
 *   - every allocation of a sliding, probed monitor and a probe recording
 *     may fail: RT_E_NOMEM, no crash, no leak (ASan). */
#include <check.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt_abi.h"
#include "rt_tiny_model.h"
#include "rt_util.h"

#define DT 1e-4
#define RT_TEST_DIR_PREFIX "/tmp/rt_balance_"
#include "rt_test_files.h"
#include "rt_test_run.h"

/* ---- kernels: currents as functions of (neuron, step) ---- */

static double cur_e(int64_t i, RtStep s) { return 1e-9 * (1 + 0.5 * sin(0.37 * (double)s + (double)i)); }
static double cur_i(int64_t i, RtStep s) {
    if (i == 5)   /* constant: no correlation defined */
        return -1e-9;
    return -1e-9 * (0.8 + 0.3 * sin(0.37 * (double)s + (double)i) + 0.2 * cos(1.3 * (double)s * (double)(i + 1)));
}

/* states: 0, 1 = the currents of the step (the v3 way), 2 = x, which counts
 * the updates (x = s before the update of step s). */
static void update(const RtPopArgs *a, int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
        a->state[0][i] = cur_e(i, a->step);
        a->state[1][i] = cur_i(i, a->step);
        a->state[2][i] += 1;
        a->input[0][i] = 0;
        a->spiked[i] = 0;
    }
}

static atomic_int outside;   /* probe calls that reached neurons not recorded */
static int64_t rec_lo, rec_hi;

/* probes: 0, 1 = the currents; 2 = x + i/2 (x as the step starts). */
static void probe(const RtPopArgs *a, int64_t begin, int64_t end, double *const *out) {
    if (begin < rec_lo || end > rec_hi)
        atomic_fetch_add(&outside, 1);
    for (int64_t i = begin; i < end; i++) {
        if (out[0]) out[0][i - begin] = cur_e(i, a->step);
        if (out[1]) out[1][i - begin] = cur_i(i, a->step);
        if (out[2]) out[2][i - begin] = a->state[2][i] + 0.5 * (double)i;
    }
}

static const RtVarDesc states[] = {{"balance.I_E", "A", {RT_DIST_CONST, 0, 0}},
                                   {"balance.I_I", "A", {RT_DIST_CONST, 0, 0}},
                                   {"x", "1", {RT_DIST_CONST, 0, 0}}};
static const RtVarDesc probes[] = {{"balance.I_E", "A", {RT_DIST_CONST, 0, 0}},
                                   {"balance.I_I", "A", {RT_DIST_CONST, 0, 0}},
                                   {"y", "1", {RT_DIST_CONST, 0, 0}}};

/* Population E of 8 neurons; with probes (v5) or without (v3 states). */
static RtPopDesc pop_e(int with_probes) {
    RtPopDesc p = tiny_pop("E", 8, update);
    p.nstates = 3;
    p.states = states;
    if (with_probes) {
        p.nprobes = 3;
        p.probes = probes;
        p.probe = probe;
    }
    return p;
}

/* Runs `steps` steps of E with recording `rec` into dir. */
static void run(RtPopDesc *pop, RtRecDesc *rec, int threads, int steps) {
    RtModelDesc m = tiny_model(pop, 1, NULL, 0);
    m.nrecs = 1;
    m.recs = rec;
    m.duration_s = steps * DT;
    rec_lo = rec->begin;
    rec_hi = rec->end;
    RtRunOptions o = run_options_out(threads, dir);
    run_to_files(&m, &o);
}

/* ---- sliding windows ---- */

/* The currents of step s averaged over neurons [2, 7) (i = -1 in the
 * reference below). */
static double avg_e(RtStep s) {
    double t = 0;
    for (int64_t i = 2; i < 7; i++)
        t += cur_e(i, s);
    return t / 5;
}

static double avg_i(RtStep s) {
    double t = 0;
    for (int64_t i = 2; i < 7; i++)
        t += cur_i(i, s);
    return t / 5;
}

static double ref_e(int64_t i, RtStep s) { return i < 0 ? avg_e(s) : cur_e(i, s); }
static double ref_i(int64_t i, RtStep s) { return i < 0 ? avg_i(s) : cur_i(i, s); }

/* Two-pass statistics of steps [first, first + W) of neuron i (i = -1: of
 * the population averages). */
static void reference(int64_t i, int64_t first, int W, double out[4]) {
    double se = 0, si = 0;
    for (int k = 0; k < W; k++) {
        se += ref_e(i, first + k);
        si += ref_i(i, first + k);
    }
    double me = se / W, mi = si / W, vee = 0, vii = 0, cei = 0;
    for (int k = 0; k < W; k++) {
        double de = ref_e(i, first + k) - me, di = ref_i(i, first + k) - mi;
        vee += de * de;
        vii += di * di;
        cei += de * di;
    }
    out[0] = me;
    out[1] = mi;
    out[2] = -mi / me;
    out[3] = vii > 0 ? -cei / sqrt(vee * vii) : NAN;
}

/* The rows of E_balance_pop.npy (float64 [rows, 4]) after a run. */
static double *read_pop(int64_t rows) {
    char descr[64];
    int64_t r, cols;
    double *d = read_npy("E_balance_pop.npy", descr, &r, &cols, 4 * 8);
    ck_assert_str_eq(descr, "'<f8'");
    ck_assert_int_eq(r, rows);
    ck_assert_int_eq(cols, 4);
    return d;
}

/* Balance of neurons [2, 7) (sets *rows); *pop, if not NULL, receives the
 * rows of the population file. */
static double *run_balance_pop(int with_probes, int threads, int W, int H, int64_t *rows,
                               double **pop_rows) {
    RtPopDesc pop = pop_e(with_probes);
    RtRecDesc rec = {.kind = RT_REC_BALANCE, .pop = 0, .var = 0, .var2 = 1, .begin = 2, .end = 7,
                     .every = W, .file = "E_balance.npy", .hop = H};
    run(&pop, &rec, threads, 110);
    char descr[64];
    int64_t cols;
    double *d = read_npy("E_balance.npy", descr, rows, &cols, 5 * 32);
    ck_assert_int_eq(cols, 5);
    ck_assert_str_eq(descr, "[('I_E','<f8'),('I_I','<f8'),('ratio','<f8'),('corr','<f8')]");
    if (pop_rows)
        *pop_rows = read_pop(*rows);
    return d;
}

static double *run_balance(int with_probes, int threads, int W, int H, int64_t *rows) {
    return run_balance_pop(with_probes, threads, W, H, rows, NULL);
}

START_TEST(test_sliding_windows) {
    make_dir();
    atomic_store(&outside, 0);
    int64_t rows;
    double *d1 = run_balance(1, 1, 25, 5, &rows);
    ck_assert_int_eq(rows, 18);   /* windows [5r, 5r + 25) within 110 steps: r = 0 .. 17 */
    for (int r = 0; r < 18; r++)
        for (int64_t i = 2; i < 7; i++) {
            double ref[4], *got = d1 + (r * 5 + (i - 2)) * 4;
            reference(i, 5 * r, 25, ref);
            for (int f = 0; f < 3; f++)
                ck_assert_msg(fabs(got[f] - ref[f]) <= 1e-12 * fabs(ref[f]), "row %d neuron %lld field %d: "
                              "%.17g vs %.17g", r, (long long)i, f, got[f], ref[f]);
            if (i == 5)
                ck_assert(isnan(got[3]));
            else
                ck_assert_msg(fabs(got[3] - ref[3]) <= 1e-12, "corr %.17g vs %.17g", got[3], ref[3]);
        }
    const char *man = read_text("manifest.json");
    ck_assert(strstr(man, "\"window_s\": 0.0025") != NULL);
    ck_assert(strstr(man, "\"every_s\": 0.00050000000000000001") != NULL);
    ck_assert(strstr(man, "\"windows\": 18") != NULL);
    ck_assert(strstr(man, "\"population_file\": \"E_balance_pop.npy\"") != NULL);
    double *d3 = run_balance(1, 3, 25, 5, &rows);   /* any thread count: same bits */
    ck_assert_mem_eq(d3, d1, 18 * 5 * 32);
    ck_assert_int_eq(atomic_load(&outside), 0);     /* only neurons [2, 7) were probed */
    free(d1);
    free(d3);
    remove_dir();
}
END_TEST

/* The population file: statistics of the averaged currents (neuron 5's
 * constant I_I is averaged with the others, so corr is defined). */
START_TEST(test_population) {
    make_dir();
    int64_t rows;
    double *p[2];
    for (int k = 0; k < 2; k++)
        free(run_balance_pop(1, k ? 3 : 1, 25, 5, &rows, &p[k]));
    ck_assert_int_eq(rows, 18);
    for (int r = 0; r < 18; r++) {
        double ref[4], *got = p[0] + r * 4;
        reference(-1, 5 * r, 25, ref);
        for (int f = 0; f < 3; f++)
            ck_assert_msg(fabs(got[f] - ref[f]) <= 1e-12 * fabs(ref[f]), "row %d field %d: %.17g vs "
                          "%.17g", r, f, got[f], ref[f]);
        ck_assert_msg(fabs(got[3] - ref[3]) <= 1e-12, "corr %.17g vs %.17g", got[3], ref[3]);
        ck_assert(fabs(got[3]) > 0.01);
    }
    ck_assert_mem_eq(p[1], p[0], 18 * 4 * 8);          /* 1 == 3 threads */
    free(p[0]);
    free(p[1]);
    double *q[2];                                      /* H = W: probed == states */
    for (int k = 0; k < 2; k++)
        free(run_balance_pop(k, 2, 25, 25, &rows, &q[k]));
    ck_assert_int_eq(rows, 4);
    ck_assert_mem_eq(q[0], q[1], 4 * 4 * 8);
    free(q[0]);
    free(q[1]);
    RtPopDesc pop = pop_e(1);                          /* no neurons: no rows */
    RtRecDesc rec = {.kind = RT_REC_BALANCE, .pop = 0, .var = 0, .var2 = 1, .begin = 3, .end = 3,
                     .every = 5, .file = "E_balance", .hop = 5};
    run(&pop, &rec, 2, 20);
    free(read_pop(0));
    remove_dir();
}
END_TEST

/* H = W (or 0): the probed monitor writes exactly the bytes of the monitor
 * that reads the states the update kernel wrote (v3/v4). */
START_TEST(test_hop_equals_window) {
    make_dir();
    int64_t r1, r2, r3;
    double *states_path = run_balance(0, 2, 25, 0, &r1);
    double *probed = run_balance(1, 2, 25, 25, &r2);
    double *probed0 = run_balance(1, 1, 25, 0, &r3);
    ck_assert_int_eq(r1, 4);
    ck_assert_int_eq(r2, 4);
    ck_assert_int_eq(r3, 4);
    ck_assert_mem_eq(probed, states_path, 4 * 5 * 32);
    ck_assert_mem_eq(probed0, states_path, 4 * 5 * 32);
    free(states_path);
    free(probed);
    free(probed0);
    remove_dir();
}
END_TEST

/* A monitor whose I_E and I_I are one variable (var == var2 == 1): the
 * probed monitor writes the same bytes as the state-reading one (the probe
 * kernel's out[] has one slot for both, which must fill both samples). */
static double *run_same_var(int with_probes, int64_t *rows) {
    RtPopDesc pop = pop_e(with_probes);
    RtRecDesc rec = {.kind = RT_REC_BALANCE, .pop = 0, .var = 1, .var2 = 1, .begin = 2, .end = 7,
                     .every = 25, .file = "E_balance.npy"};
    run(&pop, &rec, 2, 110);
    char descr[64];
    int64_t cols;
    return read_npy("E_balance.npy", descr, rows, &cols, 5 * 32);
}

START_TEST(test_same_var) {
    make_dir();
    int64_t r1, r2;
    double *states_path = run_same_var(0, &r1);
    double *probed = run_same_var(1, &r2);
    ck_assert_int_eq(r1, 4);
    ck_assert_int_eq(r2, 4);
    ck_assert_double_eq(states_path[0], states_path[1]);   /* mean I_E == mean I_I */
    ck_assert_mem_eq(probed, states_path, 4 * 5 * 32);
    free(states_path);
    free(probed);
    remove_dir();
}
END_TEST

/* ---- probe recordings ---- */

START_TEST(test_probe_recording) {
    make_dir();
    atomic_store(&outside, 0);
    double *d[2];
    for (int t = 0; t < 2; t++) {
        RtPopDesc pop = pop_e(1);
        RtRecDesc rec = {.kind = RT_REC_PROBE, .pop = 0, .var = 2, .begin = 1, .end = 6, .every = 3,
                         .file = "E_y.npy"};
        run(&pop, &rec, t + 1, 20);
        char descr[64];
        int64_t rows, cols;
        d[t] = read_npy("E_y.npy", descr, &rows, &cols, 5 * 8);
        ck_assert_str_eq(descr, "'<f8'");
        ck_assert_int_eq(rows, 7);   /* steps 0, 3, ..., 18 of 20 */
        ck_assert_int_eq(cols, 5);
        for (int k = 0; k < 7; k++)   /* before the update of step 3k: x = 3k */
            for (int64_t i = 1; i < 6; i++)
                ck_assert_double_eq(d[t][k * 5 + (i - 1)], 3.0 * k + 0.5 * (double)i);
    }
    ck_assert_mem_eq(d[0], d[1], 7 * 5 * 8);
    ck_assert_int_eq(atomic_load(&outside), 0);
    const char *man = read_text("manifest.json");
    ck_assert(strstr(man, "\"kind\": \"probe\"") != NULL);
    ck_assert(strstr(man, "\"variables\": [\"y\"]") != NULL);
    free(d[0]);
    free(d[1]);
    remove_dir();
}
END_TEST

/* ---- descriptor checks ---- */

static RtErrorCode create_code(RtPopDesc *pop, RtRecDesc *rec, uint32_t abi) {
    RtModelDesc m = tiny_model(pop, 1, NULL, 0);
    m.abi_version = abi;
    m.nrecs = 1;
    m.recs = rec;
    RtRunOptions o = run_options_out(1, NULL);
    RtError err;
    RtSim *s = rt_sim_create(&m, &o, &err);
    rt_sim_free(s);
    return s ? RT_OK : err.code;
}

START_TEST(test_invalid) {
    RtPopDesc pop = pop_e(1);
    RtRecDesc bal = {.kind = RT_REC_BALANCE, .pop = 0, .var = 0, .var2 = 1, .end = -1, .every = 25,
                     .file = "b.npy", .hop = 5};
    ck_assert_int_eq(create_code(&pop, &bal, RT_ABI_VERSION), RT_OK);
    bal.hop = 10;                                        /* does not divide 25 */
    ck_assert_int_eq(create_code(&pop, &bal, RT_ABI_VERSION), RT_E_INVALID);
    bal.hop = 50;
    ck_assert_int_eq(create_code(&pop, &bal, RT_ABI_VERSION), RT_E_INVALID);
    bal.every = (int64_t)1 << 61;                        /* 9 * 2^61 doubles: the byte count wraps */
    bal.hop = 1;
    ck_assert_int_eq(create_code(&pop, &bal, RT_ABI_VERSION), RT_E_INVALID);
    bal.every = 25;
    bal.hop = 5;
    bal.var2 = 3;                                        /* 3 probes */
    ck_assert_int_eq(create_code(&pop, &bal, RT_ABI_VERSION), RT_E_INVALID);
    bal.var2 = 1;
    pop.probe = NULL;                                    /* probes without a kernel */
    ck_assert_int_eq(create_code(&pop, &bal, RT_ABI_VERSION), RT_E_INVALID);
    pop = pop_e(1);
    ck_assert_int_eq(create_code(&pop, &bal, 4), RT_OK); /* v4: states, no hop: still runs */
    RtRecDesc pr = {.kind = RT_REC_PROBE, .pop = 0, .var = 2, .end = -1, .every = 1, .file = "p.npy"};
    ck_assert_int_eq(create_code(&pop, &pr, RT_ABI_VERSION), RT_OK);
    ck_assert_int_eq(create_code(&pop, &pr, 4), RT_E_INVALID);
    pr.var = 3;
    ck_assert_int_eq(create_code(&pop, &pr, RT_ABI_VERSION), RT_E_INVALID);
    pr.var = 2;
    pop.probes = NULL;                                   /* no names: the manifest reads them */
    ck_assert_int_eq(create_code(&pop, &pr, RT_ABI_VERSION), RT_E_INVALID);
    pop = pop_e(1);
    pop.kind = RT_POP_POISSON;                           /* never updated: rows never computed */
    pop.rate_hz = 10;
    ck_assert_int_eq(create_code(&pop, &pr, RT_ABI_VERSION), RT_E_INVALID);
    pop = pop_e(1);
    pop.nprobes = -1;
    ck_assert_int_eq(create_code(&pop, &pr, RT_ABI_VERSION), RT_E_INVALID);
}
END_TEST

START_TEST(test_alloc_failure) {
    make_dir();
    RtPopDesc pop = pop_e(1);
    RtRecDesc recs[2] = {{.kind = RT_REC_BALANCE, .pop = 0, .var = 0, .var2 = 1, .begin = 2, .end = 7,
                          .every = 25, .file = "E_balance.npy", .hop = 5},
                         {.kind = RT_REC_PROBE, .pop = 0, .var = 2, .begin = 1, .end = 6, .every = 3,
                          .file = "E_y.npy"}};
    RtModelDesc m = tiny_model(&pop, 1, NULL, 0);
    m.nrecs = 2;
    m.recs = recs;
    rec_lo = 1;
    rec_hi = 7;
    RtRunOptions o = run_options_out(2, dir);
    int failures = create_failures(&m, &o, 30, true, 2000);
    ck_assert_int_ge(failures, 10);
    ck_assert_int_lt(failures, 2000);
    remove_dir();
}
END_TEST

Suite *rt_balance_suite(void) {
    Suite *s = suite_create("rt_balance");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_sliding_windows);
    tcase_add_test(tc, test_hop_equals_window);
    tcase_add_test(tc, test_same_var);
    tcase_add_test(tc, test_population);
    tcase_add_test(tc, test_probe_recording);
    tcase_add_test(tc, test_invalid);
    tcase_add_test(tc, test_alloc_failure);
    suite_add_tcase(s, tc);
    return s;
}
