/* test_rt_syn.c - connectivity builders: degree statistics of the
 * probability rule, exact degrees of the fixed rules, autapses, CSR order,
 * weight and delay draws, tables from CSV and .npy, errors, determinism;
 * projections between neuron ranges (ABI v4). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt_npy.h"
#include "rt_syn.h"
#include "rt_util.h"

static RtProjDesc proj(RtConnRule rule, int same) {
    return (RtProjDesc){.name = "P", .pre = 0, .post = same ? 0 : 1, .rule = rule,
                        .weight = {RT_DIST_CONST, 1e-9, 0}, .delay = {RT_DIST_CONST, 1e-3, 0}};
}

/* Checks CSR invariants: offsets monotone, posts ascending and distinct
 * within rows (all rules but files build simple graphs), in range. Counts
 * violations and asserts once (a Check assertion per synapse is slow). */
static void check_csr(const RtCsr *c, int distinct) {
    int64_t bad = 0;
    ck_assert_int_eq(c->row[0], 0);
    ck_assert_int_eq(c->row[c->npre], c->nsyn);
    for (int64_t i = 0; i < c->npre; i++) {
        bad += c->row[i] > c->row[i + 1];
        for (int64_t q = c->row[i]; q < c->row[i + 1]; q++) {
            bad += c->post[q] >= c->npost;
            if (q > c->row[i])
                bad += distinct ? c->post[q] <= c->post[q - 1] : c->post[q] < c->post[q - 1];
        }
    }
    ck_assert_int_eq(bad, 0);
}

static int64_t *in_degrees(const RtCsr *c) {
    int64_t *d = calloc((size_t)c->npost, sizeof *d);
    for (int64_t q = 0; q < c->nsyn; q++)
        d[c->post[q]]++;
    return d;
}

static int has_autapse(const RtCsr *c) {
    for (int64_t i = 0; i < c->npre; i++)
        for (int64_t q = c->row[i]; q < c->row[i + 1]; q++)
            if (c->post[q] == i)
                return 1;
    return 0;
}

/* In-degree of the probability rule ~ Binomial(npre, p). */
START_TEST(test_probability_degrees) {
    RtProjDesc pd = proj(RT_CONN_PROBABILITY, 0);
    pd.p = 0.1;
    RtCsr c;
    RtError err;
    int64_t npre = 2000, npost = 3000;
    ck_assert_int_eq(rt_syn_build(&c, &pd, 0, npre, npost, 7, 1e-4, 1, &err), RT_OK);
    check_csr(&c, 1);
    int64_t *d = in_degrees(&c);
    double s = 0, s2 = 0;
    for (int64_t j = 0; j < npost; j++) {
        s += (double)d[j];
        s2 += (double)d[j] * (double)d[j];
    }
    double mean = s / npost, var = s2 / npost - mean * mean;
    double mu = npre * 0.1, sigma2 = npre * 0.1 * 0.9;
    ck_assert_msg(fabs(mean - mu) < 5 * sqrt(sigma2 / npost), "in-degree mean %g", mean);
    ck_assert_msg(fabs(var / sigma2 - 1) < 5 * sqrt(2.0 / npost), "in-degree var %g vs %g", var, sigma2);
    free(d);
    /* same seed: same network; other seed: another one */
    RtCsr c2, c3;
    ck_assert_int_eq(rt_syn_build(&c2, &pd, 0, npre, npost, 7, 1e-4, 1, &err), RT_OK);
    ck_assert_int_eq(c2.nsyn, c.nsyn);
    ck_assert(memcmp(c2.post, c.post, (size_t)c.nsyn * 4) == 0);
    ck_assert_int_eq(rt_syn_build(&c3, &pd, 0, npre, npost, 8, 1e-4, 1, &err), RT_OK);
    ck_assert(c3.nsyn != c.nsyn || memcmp(c3.post, c.post, (size_t)c.nsyn * 4) != 0);
    rt_syn_free(&c);
    rt_syn_free(&c2);
    rt_syn_free(&c3);
}
END_TEST

START_TEST(test_probability_autapses) {
    RtProjDesc pd = proj(RT_CONN_PROBABILITY, 1);
    pd.p = 0.5;
    RtCsr c;
    RtError err;
    ck_assert_int_eq(rt_syn_build(&c, &pd, 0, 400, 400, 3, 1e-4, 1, &err), RT_OK);
    ck_assert(!has_autapse(&c));
    double expect = 400.0 * 399 * 0.5;
    ck_assert_msg(fabs((double)c.nsyn - expect) < 5 * sqrt(expect * 0.5), "%lld", (long long)c.nsyn);
    rt_syn_free(&c);
    pd.autapses = true;
    pd.p = 1;
    ck_assert_int_eq(rt_syn_build(&c, &pd, 0, 50, 50, 3, 1e-4, 1, &err), RT_OK);
    ck_assert_int_eq(c.nsyn, 2500);
    ck_assert(has_autapse(&c));
    rt_syn_free(&c);
    pd.p = 0;
    ck_assert_int_eq(rt_syn_build(&c, &pd, 0, 50, 50, 3, 1e-4, 1, &err), RT_OK);
    ck_assert_int_eq(c.nsyn, 0);
    rt_syn_free(&c);
}
END_TEST

START_TEST(test_fixed_degrees) {
    RtCsr c;
    RtError err;
    for (int sparse = 0; sparse < 2; sparse++) {
        int64_t k = sparse ? 20 : 700;     /* both sampling methods */
        RtProjDesc pd = proj(RT_CONN_FIXED_INDEGREE, 1);
        pd.degree = k;
        ck_assert_int_eq(rt_syn_build(&c, &pd, 1, 1000, 1000, 5, 1e-4, 1, &err), RT_OK);
        check_csr(&c, 1);
        ck_assert(!has_autapse(&c));
        int64_t *d = in_degrees(&c), wrong = 0;
        for (int j = 0; j < 1000; j++)
            wrong += d[j] != k;
        ck_assert_int_eq(wrong, 0);
        free(d);
        rt_syn_free(&c);
        pd.rule = RT_CONN_FIXED_OUTDEGREE;
        ck_assert_int_eq(rt_syn_build(&c, &pd, 1, 1000, 1000, 5, 1e-4, 1, &err), RT_OK);
        check_csr(&c, 1);
        ck_assert(!has_autapse(&c));
        wrong = 0;
        for (int i = 0; i < 1000; i++)
            wrong += c.row[i + 1] - c.row[i] != k;
        ck_assert_int_eq(wrong, 0);
        rt_syn_free(&c);
    }
    RtProjDesc pd = proj(RT_CONN_FIXED_INDEGREE, 1);
    pd.degree = 1000;   /* 999 candidates without autapses */
    ck_assert_int_eq(rt_syn_build(&c, &pd, 0, 1000, 1000, 5, 1e-4, 1, &err), RT_E_INVALID);
    ck_assert(strstr(err.msg, "degree 1000") != NULL);
}
END_TEST

START_TEST(test_simple_rules) {
    RtCsr c;
    RtError err;
    RtProjDesc pd = proj(RT_CONN_ALL_TO_ALL, 1);
    ck_assert_int_eq(rt_syn_build(&c, &pd, 0, 30, 30, 1, 1e-4, 1, &err), RT_OK);
    ck_assert_int_eq(c.nsyn, 30 * 29);
    check_csr(&c, 1);
    rt_syn_free(&c);
    pd = proj(RT_CONN_ONE_TO_ONE, 0);
    ck_assert_int_eq(rt_syn_build(&c, &pd, 0, 30, 30, 1, 1e-4, 1, &err), RT_OK);
    ck_assert_int_eq(c.nsyn, 30);
    for (int i = 0; i < 30; i++)
        ck_assert_int_eq(c.post[c.row[i]], i);
    ck_assert_int_eq(c.delay0, 10);       /* 1 ms at 0.1 ms */
    ck_assert_ptr_null(c.delay);
    rt_syn_free(&c);
    ck_assert_int_eq(rt_syn_build(&c, &pd, 0, 30, 31, 1, 1e-4, 1, &err), RT_E_INVALID);
}
END_TEST

START_TEST(test_weights_delays) {
    RtProjDesc pd = proj(RT_CONN_ALL_TO_ALL, 0);
    pd.weight = (RtDist){RT_DIST_NORMAL, 2e-9, 0.5e-9};
    pd.delay = (RtDist){RT_DIST_UNIFORM, 1e-3, 3e-3};
    RtCsr c;
    RtError err;
    ck_assert_int_eq(rt_syn_build(&c, &pd, 2, 300, 300, 11, 1e-4, 1, &err), RT_OK);
    double s = 0, s2 = 0;
    int64_t lo = 1 << 30, hi = 0;
    for (int64_t q = 0; q < c.nsyn; q++) {
        s += c.weight[q];
        s2 += c.weight[q] * c.weight[q];
        lo = c.delay[q] < lo ? c.delay[q] : lo;
        hi = c.delay[q] > hi ? c.delay[q] : hi;
    }
    double n = (double)c.nsyn, mean = s / n, sd = sqrt(s2 / n - mean * mean);
    ck_assert_double_eq_tol(mean, 2e-9, 5 * 0.5e-9 / sqrt(n));
    ck_assert_double_eq_tol(sd, 0.5e-9, 0.01e-9);
    ck_assert_int_eq(lo, 10);
    ck_assert_int_eq(hi, 30);
    ck_assert_int_eq(c.max_delay, 30);
    rt_syn_free(&c);
}
END_TEST

/* CSV with a header and a comment; rows unsorted; weight and delay columns. */
START_TEST(test_from_csv_and_npy) {
    char dir[] = "/tmp/rt_syn_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char csv[64], npy[64];
    snprintf(csv, sizeof csv, "%s/c.csv", dir);
    snprintf(npy, sizeof npy, "%s/c.npy", dir);
    FILE *f = fopen(csv, "w");
    fprintf(f, "pre,post,weight,delay\n# comment\n2,1,3e-9,0.002\n0,4,1e-9,0.001\n2,0,2e-9,0.003\n\n");
    fclose(f);
    RtProjDesc pd = proj(RT_CONN_FILE, 0);
    pd.file = csv;
    RtCsr c;
    RtError err;
    ck_assert_msg(rt_syn_build(&c, &pd, 0, 3, 5, 1, 1e-4, 1, &err) == RT_OK, "%s", err.msg);
    ck_assert_int_eq(c.nsyn, 3);
    ck_assert_int_eq(c.row[1], 1);
    ck_assert_int_eq(c.row[2], 1);
    ck_assert_int_eq(c.post[0], 4);
    ck_assert_int_eq(c.post[1], 0);      /* row 2 sorted by post */
    ck_assert(c.weight[1] == 2e-9 && c.weight[2] == 3e-9);
    ck_assert_int_eq(c.delay[0], 10);
    ck_assert_int_eq(c.delay[1], 30);
    ck_assert_int_eq(c.max_delay, 30);
    rt_syn_free(&c);
    /* the same table as .npy (float64 [3, 2]): weight and delay from pd */
    RtNpy w;
    ck_assert_int_eq(rt_npy_open(&w, npy, "'<f8'", 2, 16, &err), RT_OK);
    double rows[6] = {2, 1, 0, 4, 2, 0};
    ck_assert_int_eq(rt_npy_append(&w, rows, 3, &err), RT_OK);
    ck_assert_int_eq(rt_npy_close(&w, &err), RT_OK);
    pd.file = npy;
    ck_assert_msg(rt_syn_build(&c, &pd, 0, 3, 5, 1, 1e-4, 1, &err) == RT_OK, "%s", err.msg);
    ck_assert_int_eq(c.nsyn, 3);
    ck_assert_int_eq(c.post[2], 1);
    ck_assert(c.weight[0] == 1e-9);
    ck_assert_ptr_null(c.delay);
    rt_syn_free(&c);
    /* an index outside the populations is an error naming the row */
    ck_assert_int_eq(rt_syn_build(&c, &pd, 0, 2, 5, 1, 1e-4, 1, &err), RT_E_INVALID);
    ck_assert_msg(strstr(err.msg, "row 1") != NULL, "%s", err.msg);
    unlink(csv);
    unlink(npy);
    rmdir(dir);
}
END_TEST

/* Every allocation of a build may fail: each failure is RT_E_NOMEM. */
START_TEST(test_alloc_failure) {
    RtProjDesc pd = proj(RT_CONN_FIXED_INDEGREE, 0);
    pd.degree = 10;
    pd.delay = (RtDist){RT_DIST_UNIFORM, 1e-3, 2e-3};
    RtCsr c;
    RtError err;
    int failures = 0;
    for (long k = 0; k < 20; k++) {
        rt_alloc_fail_after(k);
        RtErrorCode rc = rt_syn_build(&c, &pd, 0, 2000, 2000, 1, 1e-4, 2, &err);
        rt_alloc_fail_after(-1);
        if (rc == RT_OK) {
            rt_syn_free(&c);
            break;
        }
        ck_assert_int_eq(rc, RT_E_NOMEM);
        ck_assert(strstr(err.msg, "out of memory") != NULL);
        failures++;
    }
    ck_assert_int_ge(failures, 3);
    ck_assert_int_lt(failures, 20);
}
END_TEST

/* The network does not depend on the number of build threads. */
START_TEST(test_threads_identical) {
    static const RtConnRule rules[] = {RT_CONN_PROBABILITY, RT_CONN_FIXED_INDEGREE,
                                       RT_CONN_FIXED_OUTDEGREE, RT_CONN_ALL_TO_ALL};
    for (int k = 0; k < 4; k++) {
        RtProjDesc pd = proj(rules[k], 1);
        pd.p = 0.05;
        pd.degree = 40;
        pd.weight = (RtDist){RT_DIST_NORMAL, 1e-9, 0.2e-9};
        pd.delay = (RtDist){RT_DIST_UNIFORM, 0.1e-3, 2e-3};
        RtCsr a, b;
        RtError err;
        ck_assert_int_eq(rt_syn_build(&a, &pd, 3, 3000, 3000, 9, 1e-4, 1, &err), RT_OK);
        ck_assert_int_eq(rt_syn_build(&b, &pd, 3, 3000, 3000, 9, 1e-4, 3, &err), RT_OK);
        ck_assert_int_eq(a.nsyn, b.nsyn);
        ck_assert(memcmp(a.row, b.row, 3001 * sizeof(int64_t)) == 0);
        ck_assert(memcmp(a.post, b.post, (size_t)a.nsyn * 4) == 0);
        ck_assert(memcmp(a.weight, b.weight, (size_t)a.nsyn * 8) == 0);
        ck_assert(memcmp(a.delay, b.delay, (size_t)a.nsyn * 2) == 0);
        ck_assert_int_eq(a.max_delay, b.max_delay);
        check_csr(&b, 1);
        rt_syn_free(&a);
        rt_syn_free(&b);
    }
}
END_TEST

/* ---- neuron ranges (ABI v4) ---- */

/* Counts synapses whose pre or post lies outside [p0, p1) x [q0, q1), and
 * autapses. */
static int64_t outside_ranges(const RtCsr *c, int64_t p0, int64_t p1, int64_t q0, int64_t q1) {
    int64_t bad = 0;
    for (int64_t i = 0; i < c->npre; i++)
        for (int64_t q = c->row[i]; q < c->row[i + 1]; q++)
            bad += i < p0 || i >= p1 || c->post[q] < q0 || c->post[q] >= q1 || c->post[q] == i;
    return bad;
}

/* E[100..599] -> E[400..899] of 1000 neurons without autapses: every rule
 * connects only inside the ranges (population indices), never i -> i, with
 * the rule's degrees counted in range terms. */
START_TEST(test_ranges_rules) {
    RtCsr c;
    RtError err;
    RtProjDesc pd = proj(RT_CONN_PROBABILITY, 1);
    pd.pre_begin = 100, pd.pre_end = 600, pd.post_begin = 400, pd.post_end = 900;
    pd.p = 0.1;
    ck_assert_msg(rt_syn_build(&c, &pd, 2, 1000, 1000, 11, 1e-4, 2, &err) == RT_OK, "%s", err.msg);
    ck_assert_int_eq(c.npre, 1000);
    ck_assert_int_eq(c.npost, 1000);
    check_csr(&c, 1);
    ck_assert_int_eq(outside_ranges(&c, 100, 600, 400, 900), 0);
    int64_t *d = in_degrees(&c);
    double s = 0, s2 = 0;   /* posts 600..899 have all 500 pre candidates */
    for (int64_t j = 600; j < 900; j++) {
        s += (double)d[j];
        s2 += (double)d[j] * (double)d[j];
    }
    double mean = s / 300, var = s2 / 300 - mean * mean, mu = 50, sigma2 = 45;
    ck_assert_msg(fabs(mean - mu) < 5 * sqrt(sigma2 / 300), "in-degree mean %g", mean);
    ck_assert_msg(fabs(var / sigma2 - 1) < 5 * sqrt(2.0 / 300), "in-degree var %g", var);
    free(d);
    rt_syn_free(&c);

    pd.rule = RT_CONN_FIXED_INDEGREE;
    pd.degree = 499;   /* posts 400..599 have 499 candidates (not themselves) */
    ck_assert_msg(rt_syn_build(&c, &pd, 2, 1000, 1000, 11, 1e-4, 2, &err) == RT_OK, "%s", err.msg);
    check_csr(&c, 1);
    ck_assert_int_eq(outside_ranges(&c, 100, 600, 400, 900), 0);
    d = in_degrees(&c);
    int64_t wrong = 0;
    for (int64_t j = 0; j < 1000; j++)
        wrong += d[j] != (j >= 400 && j < 900 ? 499 : 0);
    ck_assert_int_eq(wrong, 0);
    free(d);
    rt_syn_free(&c);
    pd.degree = 500;
    ck_assert_int_eq(rt_syn_build(&c, &pd, 2, 1000, 1000, 11, 1e-4, 2, &err), RT_E_INVALID);

    pd.rule = RT_CONN_FIXED_OUTDEGREE;
    pd.degree = 30;
    ck_assert_msg(rt_syn_build(&c, &pd, 2, 1000, 1000, 11, 1e-4, 2, &err) == RT_OK, "%s", err.msg);
    check_csr(&c, 1);
    ck_assert_int_eq(outside_ranges(&c, 100, 600, 400, 900), 0);
    wrong = 0;
    for (int64_t i = 0; i < 1000; i++)
        wrong += c.row[i + 1] - c.row[i] != (i >= 100 && i < 600 ? 30 : 0);
    ck_assert_int_eq(wrong, 0);
    rt_syn_free(&c);

    pd.rule = RT_CONN_ALL_TO_ALL;
    ck_assert_int_eq(rt_syn_build(&c, &pd, 2, 1000, 1000, 11, 1e-4, 2, &err), RT_OK);
    ck_assert_int_eq(c.nsyn, 500 * 500 - 200);   /* the 200 shared neurons lose i -> i */
    ck_assert_int_eq(outside_ranges(&c, 100, 600, 400, 900), 0);
    rt_syn_free(&c);
}
END_TEST

/* One-to-one between ranges pairs the k-th neurons of the ranges; sizes
 * must agree; a range of the same neurons without autapses is empty. */
START_TEST(test_ranges_one_to_one) {
    RtCsr c;
    RtError err;
    RtProjDesc pd = proj(RT_CONN_ONE_TO_ONE, 1);
    pd.pre_begin = 0, pd.pre_end = 10, pd.post_begin = 20, pd.post_end = 30;
    ck_assert_int_eq(rt_syn_build(&c, &pd, 0, 40, 40, 1, 1e-4, 1, &err), RT_OK);
    ck_assert_int_eq(c.nsyn, 10);
    for (int i = 0; i < 40; i++)
        ck_assert_int_eq(c.row[i + 1] - c.row[i], i < 10);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(c.post[c.row[i]], i + 20);
    rt_syn_free(&c);
    pd.post_begin = 5, pd.post_end = 15;   /* overlap: 5 -> 10 ... 9 -> 14, none i -> i */
    ck_assert_int_eq(rt_syn_build(&c, &pd, 0, 40, 40, 1, 1e-4, 1, &err), RT_OK);
    ck_assert_int_eq(c.nsyn, 10);
    ck_assert_int_eq(c.post[c.row[9]], 14);
    rt_syn_free(&c);
    pd.post_begin = 0, pd.post_end = 10;   /* the same neurons: only autapses */
    ck_assert_int_eq(rt_syn_build(&c, &pd, 0, 40, 40, 1, 1e-4, 1, &err), RT_OK);
    ck_assert_int_eq(c.nsyn, 0);
    rt_syn_free(&c);
    pd.autapses = true;
    ck_assert_int_eq(rt_syn_build(&c, &pd, 0, 40, 40, 1, 1e-4, 1, &err), RT_OK);
    ck_assert_int_eq(c.nsyn, 10);
    rt_syn_free(&c);
    pd.post_end = 11;
    ck_assert_int_eq(rt_syn_build(&c, &pd, 0, 40, 40, 1, 1e-4, 1, &err), RT_E_INVALID);
    ck_assert_msg(strstr(err.msg, "got 10 and 11") != NULL, "%s", err.msg);
}
END_TEST

/* Bad ranges are RT_E_INVALID; ranges are identical for any thread count;
 * a file's pairs (population indices) must lie inside the ranges. */
START_TEST(test_ranges_invalid_threads_file) {
    RtCsr a, b;
    RtError err;
    RtProjDesc pd = proj(RT_CONN_FIXED_INDEGREE, 0);
    pd.degree = 5;
    pd.pre_begin = 10, pd.pre_end = 101;   /* beyond 100 neurons */
    ck_assert_int_eq(rt_syn_build(&a, &pd, 0, 100, 50, 1, 1e-4, 1, &err), RT_E_INVALID);
    ck_assert_msg(strstr(err.msg, "neuron range") != NULL, "%s", err.msg);
    pd.pre_end = 10;                        /* empty */
    ck_assert_int_eq(rt_syn_build(&a, &pd, 0, 100, 50, 1, 1e-4, 1, &err), RT_E_INVALID);
    pd.pre_end = 0;                         /* begin without end */
    ck_assert_int_eq(rt_syn_build(&a, &pd, 0, 100, 50, 1, 1e-4, 1, &err), RT_E_INVALID);
    pd.pre_begin = 3000, pd.pre_end = 6000, pd.post_begin = 100, pd.post_end = 2100;
    pd.weight = (RtDist){RT_DIST_NORMAL, 1e-9, 0.2e-9};
    pd.delay = (RtDist){RT_DIST_UNIFORM, 0.1e-3, 2e-3};
    for (int k = 0; k < 2; k++) {
        pd.rule = k ? RT_CONN_FIXED_INDEGREE : RT_CONN_PROBABILITY;
        pd.p = 0.02;
        ck_assert_int_eq(rt_syn_build(&a, &pd, 3, 8000, 3000, 9, 1e-4, 1, &err), RT_OK);
        ck_assert_int_eq(rt_syn_build(&b, &pd, 3, 8000, 3000, 9, 1e-4, 3, &err), RT_OK);
        ck_assert_int_eq(a.nsyn, b.nsyn);
        ck_assert(memcmp(a.row, b.row, 8001 * sizeof(int64_t)) == 0);
        ck_assert(memcmp(a.post, b.post, (size_t)a.nsyn * 4) == 0);
        ck_assert(memcmp(a.weight, b.weight, (size_t)a.nsyn * 8) == 0);
        ck_assert(memcmp(a.delay, b.delay, (size_t)a.nsyn * 2) == 0);
        ck_assert_int_eq(outside_ranges(&a, 3000, 6000, 100, 2100), 0);
        rt_syn_free(&a);
        rt_syn_free(&b);
    }
    char path[] = "/tmp/rt_syn_range_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "pre,post\n12,4\n10,3\n");
    fclose(f);
    pd = proj(RT_CONN_FILE, 0);
    pd.file = path;
    pd.pre_begin = 10, pd.pre_end = 13, pd.post_begin = 3, pd.post_end = 5;
    ck_assert_msg(rt_syn_build(&a, &pd, 0, 20, 20, 1, 1e-4, 1, &err) == RT_OK, "%s", err.msg);
    ck_assert_int_eq(a.nsyn, 2);
    ck_assert_int_eq(a.row[10], 0);
    ck_assert_int_eq(a.post[a.row[10]], 3);
    ck_assert_int_eq(a.post[a.row[12]], 4);
    rt_syn_free(&a);
    pd.post_end = 4;   /* (12, 4) falls outside */
    ck_assert_int_eq(rt_syn_build(&a, &pd, 0, 20, 20, 1, 1e-4, 1, &err), RT_E_INVALID);
    ck_assert_msg(strstr(err.msg, "outside the ranges") != NULL, "%s", err.msg);
    unlink(path);
}
END_TEST

Suite *rt_syn_suite(void) {
    Suite *s = suite_create("rt_syn");
    TCase *tc = tcase_create("build");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_probability_degrees);
    tcase_add_test(tc, test_probability_autapses);
    tcase_add_test(tc, test_fixed_degrees);
    tcase_add_test(tc, test_simple_rules);
    tcase_add_test(tc, test_weights_delays);
    tcase_add_test(tc, test_from_csv_and_npy);
    tcase_add_test(tc, test_alloc_failure);
    tcase_add_test(tc, test_threads_identical);
    tcase_add_test(tc, test_ranges_rules);
    tcase_add_test(tc, test_ranges_one_to_one);
    tcase_add_test(tc, test_ranges_invalid_threads_file);
    suite_add_tcase(s, tc);
    return s;
}
