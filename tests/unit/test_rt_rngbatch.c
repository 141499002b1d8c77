/* test_rt_rngbatch.c - rt_rng_uniform_elements and rt_rng_poisson_elements
 * (many elements side by side, for Poisson inputs and populations) give the
 * same bits as rt_rng_init + rt_rng_uniform / rt_rng_poisson one element at
 * a time: for seeds with both key words set, element ranges that cross a
 * 2^32 boundary, lengths that are not multiples of the 16 lanes, and lambda
 * on both sides of the inversion / PTRS switch; with the portable code and
 * with the CPU's vector code (AVX-512). Issue 5 performance work. */
#include <check.h>
#include <stdint.h>

#include "rt_rng.h"

static const uint64_t seeds[] = {0, 1, 42, 0x123456789abcdefull, UINT64_MAX};

START_TEST(test_uniform_elements_bits) {
    double u[100];
    rt_rng_set_simd(_i);   /* loop 0: the portable code, loop 1: the CPU's best */
    for (int s = 0; s < 5; s++)
        for (int64_t n = 1; n <= 100; n += 33) {
            uint64_t e0[] = {0, (uint64_t)7 << 32 | 9, ((uint64_t)3 << 32) - 20};   /* the last crosses 2^32 */
            for (int a = 0; a < 3; a++) {
                uint32_t stream = rt_stream(RT_STREAM_INPUT, (uint32_t)a, 0);
                rt_rng_uniform_elements(seeds[s], stream, e0[a], n, u);
                for (int64_t k = 0; k < n; k++) {
                    RtRng r;
                    rt_rng_init(&r, seeds[s], stream, e0[a] + (uint64_t)k);
                    double want = rt_rng_uniform(&r);
                    ck_assert_msg(u[k] == want, "seed %d element %d+%lld: %.17g != %.17g", s, a,
                                  (long long)k, u[k], want);
                }
            }
        }
}
END_TEST

START_TEST(test_poisson_elements_bits) {
    const double lambdas[] = {0, 0.0015, 0.3, 2.5, 11.9, 12, 40};
    int64_t c[300];
    int64_t total = 0;
    rt_rng_set_simd(_i);
    for (int s = 0; s < 5; s++)
        for (int l = 0; l < 7; l++) {
            uint64_t e0 = (uint64_t)(1000 + l) << 32 | 5;
            uint32_t stream = rt_stream(RT_STREAM_POISSON_POP, 3, 0);
            rt_rng_poisson_elements(seeds[s], stream, e0, 300, lambdas[l], c);
            for (int64_t k = 0; k < 300; k++) {
                RtRng r;
                rt_rng_init(&r, seeds[s], stream, e0 + (uint64_t)k);
                ck_assert_int_eq(c[k], rt_rng_poisson(&r, lambdas[l]));
                total += c[k];
            }
        }
    /* the counts are not all zero: the comparison above saw real draws */
    ck_assert_int_gt(total, 5 * 300 * 60);
}
END_TEST

Suite *rt_rngbatch_suite(void) {
    Suite *s = suite_create("rt_rngbatch");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_uniform_elements_bits, 0, 2);
    tcase_add_loop_test(tc, test_poisson_elements_bits, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}
