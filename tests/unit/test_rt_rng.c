/* test_rt_rng.c - Philox4x32-10 against Random123's known-answer vectors,
 * keying (same key => same numbers, different stream/element => different),
 * and the moments of the uniform, normal, Poisson and binomial draws. */
#include <check.h>
#include <math.h>

#include "rt_abi.h"
#include "rt_rng.h"

/* Random123 kat_vectors, "philox4x32 10": counter, key, expected output. */
START_TEST(test_philox_kat) {
    static const uint32_t v[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
         0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0,
         0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
    };
    for (int k = 0; k < 3; k++) {
        uint32_t out[4];
        rt_rng_philox(v[k], v[k] + 4, out);
        for (int j = 0; j < 4; j++)
            ck_assert_msg(out[j] == v[k][6 + j], "vector %d word %d: %08x", k, j, out[j]);
    }
}
END_TEST

START_TEST(test_keying) {
    RtRng a, b, c, d;
    rt_rng_init(&a, 42, rt_stream(RT_STREAM_TEST, 1, 2), 7);
    rt_rng_init(&b, 42, rt_stream(RT_STREAM_TEST, 1, 2), 7);
    rt_rng_init(&c, 42, rt_stream(RT_STREAM_TEST, 1, 3), 7);
    rt_rng_init(&d, 43, rt_stream(RT_STREAM_TEST, 1, 2), 7);
    int same_c = 0, same_d = 0;
    for (int k = 0; k < 100; k++) {
        uint32_t x = rt_rng_u32(&a);
        ck_assert_uint_eq(x, rt_rng_u32(&b));
        same_c += x == rt_rng_u32(&c);
        same_d += x == rt_rng_u32(&d);
    }
    ck_assert_int_le(same_c, 1);
    ck_assert_int_le(same_d, 1);
    /* the callbacks are pure functions of their arguments */
    ck_assert(rt_abi_uniform(1, 2, 3, 4, 0) == rt_abi_uniform(1, 2, 3, 4, 0));
    ck_assert(rt_abi_uniform(1, 2, 3, 4, 0) != rt_abi_uniform(1, 2, 3, 5, 0));
    ck_assert(rt_abi_normal(1, 2, 3, 4, 1) != rt_abi_normal(1, 2, 3, 4, 2));
    int named = 0;
    for (const RtAbiSymbol *s = rt_abi_symbols; s->name; s++)
        named += s->addr != NULL;
    ck_assert_int_eq(named, 2);
}
END_TEST

/* Mean and variance of n draws of f. */
typedef double (*Draw)(RtRng *r, double arg);
static void moments(Draw f, double arg, int n, double *mean, double *var) {
    RtRng r;
    rt_rng_init(&r, 1234, rt_stream(RT_STREAM_TEST, 0, 0), 0);
    double s = 0, s2 = 0;
    for (int k = 0; k < n; k++) {
        double x = f(&r, arg);
        s += x;
        s2 += x * x;
    }
    *mean = s / n;
    *var = s2 / n - *mean * *mean;
}

static double d_uniform(RtRng *r, double a) { (void)a; return rt_rng_uniform(r); }
static double d_normal(RtRng *r, double a) { (void)a; return rt_rng_normal(r); }
static double d_poisson(RtRng *r, double a) { return (double)rt_rng_poisson(r, a); }
static double d_binom03(RtRng *r, double a) { return (double)rt_rng_binomial(r, (int64_t)a, 0.3); }
static double d_binom002(RtRng *r, double a) { return (double)rt_rng_binomial(r, (int64_t)a, 0.02); }

START_TEST(test_uniform_normal) {
    double m, v;
    int n = 400000;
    moments(d_uniform, 0, n, &m, &v);
    ck_assert_double_eq_tol(m, 0.5, 5 * sqrt(1.0 / 12 / n));
    ck_assert_double_eq_tol(v, 1.0 / 12, 0.002);
    moments(d_normal, 0, n, &m, &v);
    ck_assert_double_eq_tol(m, 0, 5 / sqrt(n));
    ck_assert_double_eq_tol(v, 1, 5 * sqrt(2.0 / n));
}
END_TEST

/* Poisson: mean = variance = lambda, on both sides of the method switch. */
START_TEST(test_poisson) {
    static const double lams[] = {0.08, 3.5, 11.9, 12.0, 40.0, 1000.0};
    int n = 200000;
    for (int k = 0; k < 6; k++) {
        double lam = lams[k], m, v;
        moments(d_poisson, lam, n, &m, &v);
        ck_assert_msg(fabs(m - lam) < 5 * sqrt(lam / n), "lambda %g: mean %g", lam, m);
        ck_assert_msg(fabs(v / lam - 1) < 5 * sqrt(2.0 / n) + 0.01, "lambda %g: var %g", lam, v);
    }
    RtRng r;
    rt_rng_init(&r, 1, 1, 1);
    ck_assert_int_eq(rt_rng_poisson(&r, 0), 0);
}
END_TEST

START_TEST(test_binomial) {
    static const double ns[] = {10, 100, 5000};
    int n = 200000;
    for (int k = 0; k < 3; k++) {
        double m, v, mu = ns[k] * 0.3, var = ns[k] * 0.3 * 0.7;
        moments(d_binom03, ns[k], n, &m, &v);
        ck_assert_msg(fabs(m - mu) < 5 * sqrt(var / n), "n %g: mean %g", ns[k], m);
        ck_assert_msg(fabs(v / var - 1) < 0.02, "n %g: var %g", ns[k], v);
        mu = ns[k] * 0.02;
        var = mu * 0.98;
        moments(d_binom002, ns[k], n, &m, &v);
        ck_assert_msg(fabs(m - mu) < 5 * sqrt(var / n), "n %g p .02: mean %g", ns[k], m);
        ck_assert_msg(fabs(v / var - 1) < 0.03, "n %g p .02: var %g", ns[k], v);
    }
    RtRng r;
    rt_rng_init(&r, 1, 1, 1);
    ck_assert_int_eq(rt_rng_binomial(&r, 50, 1.0), 50);
    ck_assert_int_eq(rt_rng_binomial(&r, 50, 0.0), 0);
    ck_assert_int_le(rt_rng_binomial(&r, 50, 0.9), 50);
}
END_TEST

START_TEST(test_log_factorial) {
    for (int k = 0; k < 200; k++)
        ck_assert_double_eq_tol(rt_log_factorial(k), lgamma(k + 1.0), 1e-9 * (1 + k));
}
END_TEST

Suite *rt_rng_suite(void) {
    Suite *s = suite_create("rt_rng");
    TCase *tc = tcase_create("philox");
    tcase_add_test(tc, test_philox_kat);
    tcase_add_test(tc, test_keying);
    tcase_add_test(tc, test_uniform_normal);
    tcase_add_test(tc, test_poisson);
    tcase_add_test(tc, test_binomial);
    tcase_add_test(tc, test_log_factorial);
    suite_add_tcase(s, tc);
    return s;
}
