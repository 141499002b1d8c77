/* ulp_test.h - error in units in the last place, shared by the suites that
 * measure the accuracy of the emitted exp and phi1 (test_cg.c, test_phi1.c).
 * Header-only, every function static. */
#ifndef EIC_ULP_TEST_H
#define EIC_ULP_TEST_H

#include <math.h>

/* |y - ref| in units of the last place of r, which is ref rounded to the
 * precision of y: `bits` significand bits, normal from `min_normal` down,
 * below it the spacing of the subnormals. An infinite y equal to r (an
 * overflow that ref also rounds to) is no error. */
static double ulps(long double y, long double ref, double r, int bits, double min_normal)
{
    if (y == ref || (isinf(y) && y == r))
        return 0;
    int e;
    frexp(r, &e);
    double ulp = fabs(r) < min_normal ? ldexp(min_normal, 1 - bits) : ldexp(1.0, e - bits);
    return (double)fabsl(y - ref) / ulp;
}

/* Error of a double result against ref (double or long double). */
static double ulp_err(double y, long double ref)
{
    return ulps(y, ref, (double)ref, 53, 0x1p-1022);
}

/* Error of a float result, in float ulps of ref rounded to float. */
static double ulp_errf(float y, long double ref)
{
    return ulps(y, ref, (float)ref, 24, 0x1p-126);
}

#endif
