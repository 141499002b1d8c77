/* cg_math.c - inline exp and math calls for generated kernels (see cg_math.h).
 *
 * exp(x), both precisions, same algorithm:
 *   x  = clamp(x, LO, HI)          LO/HI just beyond underflow to 0 / overflow
 *   kd = x*log2(e) + SHIFT         SHIFT = 1.5*2^p rounds to an integer n in
 *   n  = kd - SHIFT                the low mantissa bits (no fptosi: NaN-safe)
 *   r  = (x - n*LN2_HI) - n*LN2_LO Cody-Waite: n*LN2_HI is exact
 *   y  = 1 + r + r^2*P(r)          minimax P on |r| <= ln2/2
 *   exp(x) = y * 2^(n>>1) * 2^(n - (n>>1))
 * Two exponent factors keep both in the normal range for n in [-1076, 1024],
 * so overflow, subnormal results and 0 come out of the multiplications
 * themselves and no special-case selects are needed.
 * Double coefficients are SLEEF's (degree 11, about 1 ulp); float ones are
 * Cephes expf's. The IR uses separate fmul/fadd without fast-math flags
 * (or llvm.fma where CgMath.fma), exactly matching the C reference below.
 *
 * The exponential Euler step exp(z) x + phi1(z) w (ode.c, MF_EXPEULER,
 * SPEC [S-ode-3a]): for |z| <= 0.35 phi1 = 1 + z Q(z) and exp = 1 + z phi1,
 * no exp and no division; beyond, the closed forms from the reduction above.
 * It is emitted as a call of a helper whose vector variants skip the closed
 * forms unless a lane needs them; see "phi1 for exponential Euler: IR".
 * The C references below are what the IR computes, bit for bit.
 */
#include "cg_math.h"

#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const double EXP_D_POLY[] = {
    2.08860621107283687536341e-09, 2.51112930892876518610661e-08,
    2.75573911234900471893338e-07, 2.75572362911928827629423e-06,
    2.4801587159235472998791e-05,  0.000198412698960509205564975,
    0.00138888888889774492207962,  0.00833333333331652721664984,
    0.0416666666666665047591422,   0.166666666666666851703837,
    0.5,
};
static const float EXP_F_POLY[] = {
    1.9875691500E-4f, 1.3981999507E-3f, 8.3334519073E-3f,
    4.1665795894E-2f, 1.6666665459E-1f, 5.0000001201E-1f,
};
#define NPOLY_D ((int)(sizeof EXP_D_POLY / sizeof EXP_D_POLY[0]))
#define NPOLY_F ((int)(sizeof EXP_F_POLY / sizeof EXP_F_POLY[0]))

/* Per-precision constants, shared by the C reference and the emitter. */
typedef struct ExpConsts {
    double lo, hi, log2e, shift, ln2_hi, ln2_lo;
    int64_t shift_bits;  /* bit pattern of `shift` as an integer of the width */
    int mant_bits, bias;
    const double *poly_d; const float *poly_f; int npoly;
} ExpConsts;

static const ExpConsts EXP_D = {
    -746.0, 710.0, 1.4426950408889634, 0x1.8p52,
    6.93147180369123816490e-01, 1.90821492927058770002e-10,
    0x4338000000000000LL, 52, 1023, EXP_D_POLY, NULL, NPOLY_D,
};
static const ExpConsts EXP_F = {
    -104.0, 89.0, 1.44269504088896341, 0x1.8p23,
    0.693359375, -2.12194440e-4,
    0x4B400000LL, 23, 127, NULL, EXP_F_POLY, NPOLY_F,
};

/* ---- C reference --------------------------------------------------------- */

static double mla_d(double a, double b, double c, bool f)
{
    if (f)
        return fma(a, b, c);
    double t = a * b;   /* separate statements: never contracted */
    return t + c;
}

static float mla_f(float a, float b, float c, bool f)
{
    if (f)
        return fmaf(a, b, c);
    float t = a * b;
    return t + c;
}

/* c[0] x^(n-1) + ... + c[n-1] by Horner, as emit_horner. */
static double horner_d(const double *c, int n, double x, bool f)
{
    double u = c[0];
    for (int i = 1; i < n; i++)
        u = mla_d(u, x, c[i], f);
    return u;
}

static float horner_f(const float *c, int n, float x, bool f)
{
    float u = c[0];
    for (int i = 1; i < n; i++)
        u = mla_f(u, x, c[i], f);
    return u;
}

/* 2^e for an integer e that keeps the result normal (e + bias in 1..2046). */
static double pow2_d(int64_t e)
{
    uint64_t b = ((uint64_t)e + (uint64_t)EXP_D.bias) << EXP_D.mant_bits;
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

static float pow2_f(int32_t e)
{
    uint32_t b = ((uint32_t)e + (uint32_t)EXP_F.bias) << EXP_F.mant_bits;
    float d;
    memcpy(&d, &b, sizeof d);
    return d;
}

double cg_exp_ref(double x, bool f)
{
    const ExpConsts *k = &EXP_D;
    if (x < k->lo) x = k->lo;
    if (x > k->hi) x = k->hi;
    double kd = x * k->log2e;
    kd = kd + k->shift;
    int64_t ki;
    memcpy(&ki, &kd, sizeof ki);
    double n = kd - k->shift;
    double t = n * k->ln2_hi;
    double r = x - t;
    t = n * k->ln2_lo;
    r = r - t;
    double u = horner_d(k->poly_d, k->npoly, r, f);
    double z = r * r;
    u = mla_d(z, u, r, f);
    u = u + 1.0;
    int64_t ni = ki - k->shift_bits, n1 = ni >> 1, n2 = ni - n1;
    u = u * pow2_d(n1);
    return u * pow2_d(n2);
}

float cg_expf_ref(float x, bool f)
{
    const ExpConsts *k = &EXP_F;
    if (x < (float)k->lo) x = (float)k->lo;
    if (x > (float)k->hi) x = (float)k->hi;
    float kd = x * (float)k->log2e;
    kd = kd + (float)k->shift;
    int32_t ki;
    memcpy(&ki, &kd, sizeof ki);
    float n = kd - (float)k->shift;
    float t = n * (float)k->ln2_hi;
    float r = x - t;
    t = n * (float)k->ln2_lo;
    r = r - t;
    float u = horner_f(k->poly_f, k->npoly, r, f);
    float z = r * r;
    u = mla_f(z, u, r, f);
    u = u + 1.0f;
    int32_t ni = ki - (int32_t)k->shift_bits, n1 = ni >> 1, n2 = ni - n1;
    u = u * pow2_f(n1);
    return u * pow2_f(n2);
}

/* ---- phi1 for exponential Euler: C reference ------------------------------ */

/* Q with phi1(z) = 1 + z Q(z) on |z| <= 0.35, highest degree first: the
 * Chebyshev interpolant of degree 10 (float: 6) of phi1 on [-0.35, 0.35]
 * without its constant term, which is 1 exactly so that phi1(0) = 1 and
 * exp(0) = 1. Interpolation error (mpmath, 60 digits, after rounding the
 * coefficients): 0.32 * 2^-53 (float: 0.043 * 2^-24). 0.35 > ln(2)/2, so the
 * same Q serves the reduced argument of the slow path. */
static const double PHI1_D_POLY[] = {
    2.5106262550879078e-08, 2.762773069846965e-07,  2.755725286336732e-06,
    2.4801501014878055e-05, 0.00019841269876840357, 0.001388888893514123,
    0.008333333333325551,   0.04166666666656548,    0.1666666666666667,
    0.5000000000000007,
};
static const float PHI1_F_POLY[] = {
    1.990042801e-04f, 1.394214807e-03f, 8.333297446e-03f,
    4.166634008e-02f, 1.666666716e-01f, 5.000000000e-01f,
};
#define NPHI1_D ((int)(sizeof PHI1_D_POLY / sizeof PHI1_D_POLY[0]))
#define NPHI1_F ((int)(sizeof PHI1_F_POLY / sizeof PHI1_F_POLY[0]))
/* phi1 = 1 + z Q(z): one degree more than Q, i.e. Q's number of coefficients */
_Static_assert(NPHI1_D == CG_PHI1_DEGREE_D, "PHI1_D_POLY and CG_PHI1_DEGREE_D disagree");
_Static_assert(NPHI1_F == CG_PHI1_DEGREE_F, "PHI1_F_POLY and CG_PHI1_DEGREE_F disagree");
/* z beyond +-PHI1_HI gives expm1(z) = -1 or an overflow; the clamp keeps
 * 2^n1, 2^n2 and 2^-n1 normal numbers. */
#define PHI1_D_HI 800.0
#define PHI1_F_HI 150.0f

static double phi1_q_d(double z, bool f)
{
    return horner_d(PHI1_D_POLY, NPHI1_D, z, f);
}

static float phi1_q_f(float z, bool f)
{
    return horner_f(PHI1_F_POLY, NPHI1_F, z, f);
}

/* |z| > R: z = n ln2 + r as in exp, with r = rh - rl kept in two parts
 * (rh = z - n LN2_HI is exact), expm1(r) = u = r + r (r Q(r)), n = n1 + n2
 * (n1 = n >> 1), s = 2^n2 rh (exact) and a + da = 2^n2 - 2^-n1 (a rounded,
 * da = 0 for n <= 53):
 *   phi1(z) = (s + a + 2^n2 r (r Q(r)) + da - 2^n2 rl) / z * 2^n1
 *   exp(z)  = (1 + u) 2^n1 2^n2  (*E; the two factors as in exp)
 * s + a can cancel (n = 1, r near -ln2/2: 2r + 1 = 0.3), which would
 * magnify the rounding of r and of expm1(r) to 2 ulp; so s + a is added
 * exactly (TwoSum) and the small terms with its error: the numerator rounds
 * about once, then the division. The divisor is z itself below -HI
 * (phi1 = -1/z there) and HI above (phi1 has overflowed by then). NaN
 * propagates through r. One reduction and one Q serve both results. */
static double phi1_slow_d(double z, bool f, double *E)
{
    const ExpConsts *k = &EXP_D;
    double zh = z > PHI1_D_HI ? PHI1_D_HI : z;
    double zc = zh < -PHI1_D_HI ? -PHI1_D_HI : zh;
    double kd = zc * k->log2e;
    kd = kd + k->shift;
    int64_t ki;
    memcpy(&ki, &kd, sizeof ki);
    double n = kd - k->shift;
    double t = n * k->ln2_hi;
    double rh = zc - t;                 /* exact: r = rh - rl */
    double rl = n * k->ln2_lo;
    double r = rh - rl;
    double rq = r * phi1_q_d(r, f);
    int64_t ni = ki - k->shift_bits, n1 = ni >> 1, n2 = ni - n1;
    double s1 = pow2_d(n1), s2 = pow2_d(n2);
    double y = mla_d(r, rq, r, f);
    y = y + 1.0;
    y = y * s1;
    *E = y * s2;
    double is1 = pow2_d(-n1);
    double a = s2 - is1;
    double da = (s2 - a) - is1;         /* what a lost to rounding (n > 53), exactly */
    double sr = s2 * rh;
    double s = sr + a;                  /* TwoSum: s + e = sr + a exactly */
    double bb = s - sr;
    double e = (sr - (s - bb)) + (a - bb);
    double c = mla_d(s2 * r, rq, (e + da) - s2 * rl, f);
    double num = s + c;
    double q = num / zh;
    return q * s1;
}

static float phi1_slow_f(float z, bool f, float *E)
{
    const ExpConsts *k = &EXP_F;
    float zh = z > PHI1_F_HI ? PHI1_F_HI : z;
    float zc = zh < -PHI1_F_HI ? -PHI1_F_HI : zh;
    float kd = zc * (float)k->log2e;
    kd = kd + (float)k->shift;
    int32_t ki;
    memcpy(&ki, &kd, sizeof ki);
    float n = kd - (float)k->shift;
    float t = n * (float)k->ln2_hi;
    float rh = zc - t;
    float rl = n * (float)k->ln2_lo;
    float r = rh - rl;
    float rq = r * phi1_q_f(r, f);
    int32_t ni = ki - (int32_t)k->shift_bits, n1 = ni >> 1, n2 = ni - n1;
    float s1 = pow2_f(n1), s2 = pow2_f(n2);
    float y = mla_f(r, rq, r, f);
    y = y + 1.0f;
    y = y * s1;
    *E = y * s2;
    float is1 = pow2_f(-n1);
    float a = s2 - is1;
    float da = (s2 - a) - is1;
    float sr = s2 * rh;
    float s = sr + a;
    float bb = s - sr;
    float e = (sr - (s - bb)) + (a - bb);
    float c = mla_f(s2 * r, rq, (e + da) - s2 * rl, f);
    float num = s + c;
    float q = num / zh;
    return q * s1;
}

/* phi1(z), and exp(z) into *E: the polynomial (exp = 1 + z phi1, one fused
 * multiply-add) for |z| <= R, else the closed form. */
static double phi1_pair_d(double z, bool f, double *E)
{
    if (fabs(z) > CG_PHI1_R)
        return phi1_slow_d(z, f, E);
    double p = mla_d(z, phi1_q_d(z, f), 1.0, f);
    *E = mla_d(z, p, 1.0, f);
    return p;
}

static float phi1_pair_f(float z, bool f, float *E)
{
    if (fabsf(z) > (float)CG_PHI1_R)
        return phi1_slow_f(z, f, E);
    float p = mla_f(z, phi1_q_f(z, f), 1.0f, f);
    *E = mla_f(z, p, 1.0f, f);
    return p;
}

double cg_phi1_ref(double z, bool f)
{
    double E;
    return phi1_pair_d(z, f, &E);
}

float cg_phi1f_ref(float z, bool f)
{
    float E;
    return phi1_pair_f(z, f, &E);
}

double cg_phi1_exp_ref(double z, bool f)
{
    double E;
    phi1_pair_d(z, f, &E);
    return E;
}

float cg_phi1_expf_ref(float z, bool f)
{
    float E;
    phi1_pair_f(z, f, &E);
    return E;
}

double cg_expeuler_ref(double z, double x, double w, bool f)
{
    double E, p = phi1_pair_d(z, f, &E);
    double ex = E * x;
    return mla_d(p, w, ex, f);
}

float cg_expeulerf_ref(float z, float x, float w, bool f)
{
    float E, p = phi1_pair_f(z, f, &E);
    float ex = E * x;
    return mla_f(p, w, ex, f);
}

/* ---- IR emitter ------------------------------------------------------------ */

/* The emitters below work on scalars and on vectors alike (the vector
 * variants of phi1 reuse them): constants are splats of the operand type. */

/* The element type of `ty` (ty itself for a scalar). */
static LLVMTypeRef elem_type(LLVMTypeRef ty)
{
    return LLVMGetTypeKind(ty) == LLVMVectorTypeKind ? LLVMGetElementType(ty) : ty;
}

/* `c`, a constant of element type, splat to the shape of `ty`. */
static LLVMValueRef splat(LLVMTypeRef ty, LLVMValueRef c)
{
    if (LLVMGetTypeKind(ty) != LLVMVectorTypeKind)
        return c;
    unsigned n = LLVMGetVectorSize(ty);
    LLVMValueRef v[64];
    for (unsigned i = 0; i < n && i < 64; i++)
        v[i] = c;
    return LLVMConstVector(v, n);
}

/* A floating constant of type `ty` (float or double, scalar or vector). */
static LLVMValueRef fconst(LLVMTypeRef ty, double v)
{
    return splat(ty, LLVMConstReal(elem_type(ty), v));
}

/* An integer constant of type `ty` (scalar or vector). */
static LLVMValueRef iconst(LLVMTypeRef ty, unsigned long long v)
{
    return splat(ty, LLVMConstInt(elem_type(ty), v, 0));
}

/* The integer type as wide as the floating type `fty`, of the same shape. */
static LLVMTypeRef int_type_for(LLVMTypeRef fty)
{
    LLVMContextRef cx = LLVMGetTypeContext(fty);
    bool dbl = LLVMGetTypeKind(elem_type(fty)) == LLVMDoubleTypeKind;
    LLVMTypeRef it = dbl ? LLVMInt64TypeInContext(cx) : LLVMInt32TypeInContext(cx);
    return LLVMGetTypeKind(fty) == LLVMVectorTypeKind ? LLVMVectorType(it, LLVMGetVectorSize(fty)) : it;
}

static bool is_double(LLVMTypeRef ty)
{
    return LLVMGetTypeKind(elem_type(ty)) == LLVMDoubleTypeKind;
}

LLVMValueRef cg_math_intrinsic(const CgMath *m, const char *name, LLVMValueRef *args, unsigned n)
{
    LLVMTypeRef ty = LLVMTypeOf(args[0]);
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    LLVMValueRef fn = LLVMGetIntrinsicDeclaration(m->mod, id, &ty, 1);
    LLVMTypeRef fty = LLVMIntrinsicGetType(LLVMGetModuleContext(m->mod), id, &ty, 1);
    return LLVMBuildCall2(m->b, fty, fn, args, n, "");
}

/* a*b + c, fused only when the target has FMA (then the reference fuses too). */
static LLVMValueRef emit_mla(const CgMath *m, LLVMValueRef a, LLVMValueRef b, LLVMValueRef c)
{
    if (m->fma) {
        LLVMValueRef v[3] = {a, b, c};
        return cg_math_intrinsic(m, "llvm.fma", v, 3);
    }
    return LLVMBuildFAdd(m->b, LLVMBuildFMul(m->b, a, b, ""), c, "");
}

/* x < lo ? lo : x, then x > hi ? hi : x; NaN passes through both. */
static LLVMValueRef emit_clamp(const CgMath *m, LLVMValueRef x, LLVMValueRef lo, LLVMValueRef hi)
{
    LLVMValueRef c = LLVMBuildFCmp(m->b, LLVMRealOLT, x, lo, "");
    x = LLVMBuildSelect(m->b, c, lo, x, "");
    c = LLVMBuildFCmp(m->b, LLVMRealOGT, x, hi, "");
    return LLVMBuildSelect(m->b, c, hi, x, "");
}

/* 2^e as a float of type `fty` from integer exponent e (type `ity`). */
static LLVMValueRef emit_pow2(const CgMath *m, const ExpConsts *k, LLVMTypeRef fty,
                              LLVMTypeRef ity, LLVMValueRef e)
{
    LLVMValueRef bits = LLVMBuildAdd(m->b, e, iconst(ity, (unsigned long long)k->bias), "");
    bits = LLVMBuildShl(m->b, bits, iconst(ity, (unsigned long long)k->mant_bits), "");
    return LLVMBuildBitCast(m->b, bits, fty, "");
}

/* c[0] x^(n-1) + ... + c[n-1] by Horner with the coefficients of x's
 * precision (cd for double, cf for float). */
static LLVMValueRef emit_horner(const CgMath *m, const double *cd, const float *cf, int n, LLVMValueRef x)
{
    LLVMTypeRef ty = LLVMTypeOf(x);
    bool dbl = is_double(ty);
    LLVMValueRef u = fconst(ty, dbl ? cd[0] : (double)cf[0]);
    for (int i = 1; i < n; i++)
        u = emit_mla(m, u, x, fconst(ty, dbl ? cd[i] : (double)cf[i]));
    return u;
}

/* The polynomial part: 1 + r + r^2*P(r). */
static LLVMValueRef emit_exp_poly(const CgMath *m, const ExpConsts *k, LLVMTypeRef fty, LLVMValueRef r)
{
    LLVMValueRef u = emit_horner(m, k->poly_d, k->poly_f, k->npoly, r);
    LLVMValueRef z = LLVMBuildFMul(m->b, r, r, "");
    u = emit_mla(m, z, u, r);
    return LLVMBuildFAdd(m->b, u, fconst(fty, 1.0), "");
}

LLVMValueRef cg_math_exp(const CgMath *m, LLVMValueRef x)
{
    LLVMBuilderRef b = m->b;
    LLVMTypeRef fty = LLVMTypeOf(x);
    bool dbl = is_double(fty);
    const ExpConsts *k = dbl ? &EXP_D : &EXP_F;
    LLVMTypeRef ity = int_type_for(fty);
#define C(v) fconst(fty, dbl ? (v) : (double)(float)(v))
    x = emit_clamp(m, x, C(k->lo), C(k->hi));
    LLVMValueRef kd = LLVMBuildFAdd(b, LLVMBuildFMul(b, x, C(k->log2e), ""), C(k->shift), "");
    LLVMValueRef n = LLVMBuildFSub(b, kd, C(k->shift), "");
    LLVMValueRef r = LLVMBuildFSub(b, x, LLVMBuildFMul(b, n, C(k->ln2_hi), ""), "");
    r = LLVMBuildFSub(b, r, LLVMBuildFMul(b, n, C(k->ln2_lo), ""), "");
#undef C
    LLVMValueRef y = emit_exp_poly(m, k, fty, r);
    LLVMValueRef ni = LLVMBuildSub(b, LLVMBuildBitCast(b, kd, ity, ""),
                                   iconst(ity, (unsigned long long)k->shift_bits), "");
    LLVMValueRef n1 = LLVMBuildAShr(b, ni, iconst(ity, 1), "");
    LLVMValueRef n2 = LLVMBuildSub(b, ni, n1, "");
    y = LLVMBuildFMul(b, y, emit_pow2(m, k, fty, ity, n1), "");
    return LLVMBuildFMul(b, y, emit_pow2(m, k, fty, ity, n2), "exp");
}

static void add_fn_attr(LLVMValueRef fn, const char *name, uint64_t val)
{
    LLVMContextRef cx = LLVMGetTypeContext(LLVMTypeOf(fn));
    unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(cx, kind, val));
}

/* Pure: no memory, no unwinding, always returns (so calls can be hoisted
 * and widened). memory(none) is the enum attribute "memory" with value 0. */
static void set_pure(LLVMValueRef fn)
{
    static const char *const attrs[] = {"memory", "nounwind", "willreturn", "nosync"};
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
        add_fn_attr(fn, attrs[i], 0);
}

/* Declares `name` (double) or `name`f (float) as a pure libm function. */
static LLVMValueRef declare_libm(const CgMath *m, const char *name, LLVMTypeRef fty, unsigned n)
{
    char buf[32];
    bool dbl = LLVMGetTypeKind(fty) == LLVMDoubleTypeKind;
    snprintf(buf, sizeof buf, "%s%s", name, dbl ? "" : "f");
    LLVMValueRef fn = LLVMGetNamedFunction(m->mod, buf);
    if (fn)
        return fn;
    LLVMTypeRef ps[2] = {fty, fty};
    fn = LLVMAddFunction(m->mod, buf, LLVMFunctionType(fty, ps, n, 0));
    /* pure: these never write memory except errno, which we ignore, so the
     * optimiser may hoist calls with loop-invariant arguments */
    set_pure(fn);
    return fn;
}

LLVMValueRef cg_math_libm(const CgMath *m, const char *name, LLVMValueRef *args, unsigned n)
{
    LLVMTypeRef fty = LLVMTypeOf(args[0]);
    LLVMValueRef fn = declare_libm(m, name, fty, n);
    return LLVMBuildCall2(m->b, LLVMGlobalGetValueType(fn), fn, args, n, "");
}

/* ---- phi1 for exponential Euler: IR ------------------------------------------ *
 *
 * Where the cost goes: a vectorized loop executes both sides of every
 * select, so a select between the polynomial and the closed form would make
 * every neuron pay for the slow path. Instead the kernel calls an internal
 * helper, eic_expeuler_<ty>(z, x, w) = exp(z) x + phi1(z) w, whose call
 * sites carry the attribute "vector-function-abi-variant" naming masked (M)
 * and unmasked (N) vector variants. The loop vectorizer widens the calls
 * into calls of those variants, which are only declared (kept alive through
 * @llvm.compiler.used). After the pipeline, cg_math_finish gives the
 * variants that were used their bodies:
 *   fast = the polynomial step for every lane
 *   if (any active lane has |z| > R)          a branch, not a select
 *       result = select(|z| > R, slow, fast)  per lane
 * and marks the helpers always-inline for a short late pipeline. A lane's
 * result depends on its own operands only (the branch changes which code
 * runs, never a value), and the scalar helper computes the same operations,
 * so results do not depend on which lanes share a vector, i.e. on the
 * thread partition. The scalar helper is defined when declared, so that the
 * module (hence the object cache key) contains the algorithm and its
 * constants. exp and phi1 are one function because the slow path shares
 * its range reduction and polynomial between them. */

#define HELPER_BASE "eic_expeuler_"

/* Lanes of the vector variants: up to a 512-bit register of the type (the
 * vectorizer may choose any; a width without a variant gets scalar calls). */
static const unsigned WIDTHS_D[] = {2, 4, 8}, WIDTHS_F[] = {4, 8, 16};
#define NWIDTHS 3

/* True for the helper and its variants (by name). */
static bool is_helper(LLVMValueRef fn)
{
    size_t len;
    const char *name = LLVMGetValueName2(fn, &len);
    return len > strlen(HELPER_BASE) && strncmp(name, HELPER_BASE, strlen(HELPER_BASE)) == 0;
}

/* "eic_expeuler_f64" or, for a variant, "eic_expeuler_f64_M8". */
static void helper_name(char *buf, size_t len, bool dbl, char mask, unsigned width)
{
    int n = snprintf(buf, len, HELPER_BASE "%s", dbl ? "f64" : "f32");
    if (mask)
        snprintf(buf + n, len - (size_t)n, "_%c%u", mask, width);
}

/* |z| > R as an i1 (vector of i1); NaN compares false and takes the fast
 * path, where it propagates. */
static LLVMValueRef emit_is_big(const CgMath *m, LLVMValueRef z)
{
    LLVMTypeRef ty = LLVMTypeOf(z);
    double r = is_double(ty) ? CG_PHI1_R : (double)(float)CG_PHI1_R;
    LLVMValueRef a = cg_math_intrinsic(m, "llvm.fabs", &z, 1);
    return LLVMBuildFCmp(m->b, LLVMRealOGT, a, fconst(ty, r), "big");
}

/* Q(z) by Horner (see PHI1_D_POLY). */
static LLVMValueRef emit_phi1_q(const CgMath *m, LLVMValueRef z)
{
    return emit_horner(m, PHI1_D_POLY, PHI1_F_POLY, is_double(LLVMTypeOf(z)) ? NPHI1_D : NPHI1_F, z);
}

/* phi1_slow_d / phi1_slow_f as IR, operation for operation; *E gets exp. */
static LLVMValueRef emit_phi1_slow(const CgMath *m, LLVMValueRef z, LLVMValueRef *E)
{
    LLVMBuilderRef b = m->b;
    LLVMTypeRef fty = LLVMTypeOf(z), ity = int_type_for(fty);
    bool dbl = is_double(fty);
    const ExpConsts *k = dbl ? &EXP_D : &EXP_F;
    double hi = dbl ? PHI1_D_HI : (double)PHI1_F_HI;
#define C(v) fconst(fty, dbl ? (v) : (double)(float)(v))
    LLVMValueRef c = LLVMBuildFCmp(b, LLVMRealOGT, z, C(hi), "");
    LLVMValueRef zh = LLVMBuildSelect(b, c, C(hi), z, "");
    c = LLVMBuildFCmp(b, LLVMRealOLT, zh, C(-hi), "");
    LLVMValueRef zc = LLVMBuildSelect(b, c, C(-hi), zh, "");
    LLVMValueRef kd = LLVMBuildFAdd(b, LLVMBuildFMul(b, zc, C(k->log2e), ""), C(k->shift), "");
    LLVMValueRef n = LLVMBuildFSub(b, kd, C(k->shift), "");
    LLVMValueRef rh = LLVMBuildFSub(b, zc, LLVMBuildFMul(b, n, C(k->ln2_hi), ""), "");
    LLVMValueRef rl = LLVMBuildFMul(b, n, C(k->ln2_lo), "");
    LLVMValueRef r = LLVMBuildFSub(b, rh, rl, "");
    LLVMValueRef one = C(1.0);
#undef C
    LLVMValueRef rq = LLVMBuildFMul(b, r, emit_phi1_q(m, r), "");
    LLVMValueRef ni = LLVMBuildSub(b, LLVMBuildBitCast(b, kd, ity, ""),
                                   iconst(ity, (unsigned long long)k->shift_bits), "");
    LLVMValueRef n1 = LLVMBuildAShr(b, ni, iconst(ity, 1), "");
    LLVMValueRef n2 = LLVMBuildSub(b, ni, n1, "");
    LLVMValueRef s1 = emit_pow2(m, k, fty, ity, n1), s2 = emit_pow2(m, k, fty, ity, n2);
    LLVMValueRef y = LLVMBuildFAdd(b, emit_mla(m, r, rq, r), one, "");
    *E = LLVMBuildFMul(b, LLVMBuildFMul(b, y, s1, ""), s2, "exp");
    LLVMValueRef is1 = emit_pow2(m, k, fty, ity, LLVMBuildNeg(b, n1, ""));
    LLVMValueRef a = LLVMBuildFSub(b, s2, is1, "");
    LLVMValueRef da = LLVMBuildFSub(b, LLVMBuildFSub(b, s2, a, ""), is1, "");
    LLVMValueRef sr = LLVMBuildFMul(b, s2, rh, "");
    LLVMValueRef s = LLVMBuildFAdd(b, sr, a, "");
    LLVMValueRef bb = LLVMBuildFSub(b, s, sr, "");
    LLVMValueRef e = LLVMBuildFAdd(b, LLVMBuildFSub(b, sr, LLVMBuildFSub(b, s, bb, ""), ""),
                                   LLVMBuildFSub(b, a, bb, ""), "");
    LLVMValueRef e2 = LLVMBuildFSub(b, LLVMBuildFAdd(b, e, da, ""), LLVMBuildFMul(b, s2, rl, ""), "");
    LLVMValueRef num = LLVMBuildFAdd(b, s, emit_mla(m, LLVMBuildFMul(b, s2, r, ""), rq, e2), "");
    LLVMValueRef q = LLVMBuildFDiv(b, num, zh, "");
    return LLVMBuildFMul(b, q, s1, "phi1");
}

/* exp(z) x + phi1(z) w from phi1 and E, as cg_expeuler_ref. */
static LLVMValueRef emit_step(const CgMath *m, LLVMValueRef p, LLVMValueRef E, LLVMValueRef x, LLVMValueRef w)
{
    return emit_mla(m, p, w, LLVMBuildFMul(m->b, E, x, ""));
}

/* Marks a branch as rarely taken (the slow path). */
static void set_unlikely(LLVMContextRef cx, LLVMValueRef br)
{
    LLVMTypeRef i32 = LLVMInt32TypeInContext(cx);
    LLVMMetadataRef ops[3] = {LLVMMDStringInContext2(cx, "branch_weights", 14),
                              LLVMValueAsMetadata(LLVMConstInt(i32, 1, 0)),
                              LLVMValueAsMetadata(LLVMConstInt(i32, 1000, 0))};
    LLVMSetMetadata(br, LLVMGetMDKindIDInContext(cx, "prof", 4),
                    LLVMMetadataAsValue(cx, LLVMMDNodeInContext2(cx, ops, 3)));
}

/* The body of the helper `fn` (scalar, or a vector variant with a mask as
 * its last parameter when masked): the polynomial step, then a branch to
 * the closed form when any active lane needs it. Parameters: z, x, w[, mask]. */
static void build_helper(LLVMModuleRef mod, bool fma, LLVMValueRef fn)
{
    LLVMContextRef cx = LLVMGetModuleContext(mod);
    LLVMBuilderRef b = LLVMCreateBuilderInContext(cx);
    CgMath m = {mod, b, fma};
    LLVMValueRef z = LLVMGetParam(fn, 0), x = LLVMGetParam(fn, 1), w = LLVMGetParam(fn, 2);
    LLVMTypeRef ty = LLVMTypeOf(z);
    bool vec = LLVMGetTypeKind(ty) == LLVMVectorTypeKind;
    LLVMValueRef mask = LLVMCountParams(fn) > 3 ? LLVMGetParam(fn, 3) : NULL;
    LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(cx, fn, "entry");
    LLVMBasicBlockRef slow = LLVMAppendBasicBlockInContext(cx, fn, "slow");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(cx, fn, "done");
    LLVMPositionBuilderAtEnd(b, entry);
    LLVMValueRef p = emit_mla(&m, z, emit_phi1_q(&m, z), fconst(ty, 1.0));
    LLVMValueRef fast = emit_step(&m, p, emit_mla(&m, z, p, fconst(ty, 1.0)), x, w);
    LLVMValueRef big = emit_is_big(&m, z), any = big;
    if (vec) {
        if (mask)   /* select, not and: inactive lanes may hold poison */
            any = LLVMBuildSelect(b, mask, big, LLVMConstNull(LLVMTypeOf(big)), "");
        any = cg_math_intrinsic(&m, "llvm.vector.reduce.or", &any, 1);
    }
    set_unlikely(cx, LLVMBuildCondBr(b, any, slow, done));
    LLVMPositionBuilderAtEnd(b, slow);
    LLVMValueRef E, ps = emit_phi1_slow(&m, z, &E);
    LLVMValueRef s = emit_step(&m, ps, E, x, w);
    if (vec)
        s = LLVMBuildSelect(b, big, s, fast, "");
    LLVMBuildBr(b, done);
    LLVMPositionBuilderAtEnd(b, done);
    LLVMValueRef phi = LLVMBuildPhi(b, ty, "");
    LLVMValueRef in_v[2] = {fast, s};
    LLVMBasicBlockRef in_b[2] = {entry, slow};
    LLVMAddIncoming(phi, in_v, in_b, 2);
    LLVMBuildRet(b, phi);
    LLVMDisposeBuilder(b);
}

/* Rewrites @llvm.compiler.used as its old elements (without the helpers
 * when drop_helpers) followed by add[0..nadd). */
static void update_used(LLVMModuleRef mod, LLVMValueRef *add, unsigned nadd, bool drop_helpers)
{
    LLVMValueRef old = LLVMGetNamedGlobal(mod, "llvm.compiler.used");
    unsigned nold = old ? (unsigned)LLVMGetNumOperands(LLVMGetInitializer(old)) : 0, n = 0;
    LLVMValueRef *el = malloc((nold + nadd + 1) * sizeof *el);
    for (unsigned i = 0; i < nold; i++) {
        LLVMValueRef v = LLVMGetOperand(LLVMGetInitializer(old), i);
        if (!(drop_helpers && is_helper(v)))
            el[n++] = v;
    }
    for (unsigned i = 0; i < nadd; i++)
        el[n++] = add[i];
    if (old)
        LLVMDeleteGlobal(old);
    if (n) {
        LLVMTypeRef ptr = LLVMPointerTypeInContext(LLVMGetModuleContext(mod), 0);
        LLVMValueRef g = LLVMAddGlobal(mod, LLVMArrayType2(ptr, n), "llvm.compiler.used");
        LLVMSetInitializer(g, LLVMConstArray2(ptr, el, n));
        LLVMSetLinkage(g, LLVMAppendingLinkage);
        LLVMSetSection(g, "llvm.metadata");
    }
    free(el);
}

/* The scalar helper for values of type `ty`, created with its body and its
 * variants' declarations on first use. */
static LLVMValueRef get_helper(const CgMath *m, LLVMTypeRef ty)
{
    char name[64];
    bool dbl = is_double(ty);
    helper_name(name, sizeof name, dbl, 0, 0);
    LLVMValueRef fn = LLVMGetNamedFunction(m->mod, name);
    if (fn)
        return fn;
    LLVMContextRef cx = LLVMGetModuleContext(m->mod);
    LLVMTypeRef ps[3] = {ty, ty, ty};
    fn = LLVMAddFunction(m->mod, name, LLVMFunctionType(ty, ps, 3, 0));
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    set_pure(fn);
    /* Not inlined before the vectorizer has seen the call, and not optimised
     * by CG_PIPELINE: after vectorization it is usually dead (JIT time:
     * optimising it cost 1.3 ms of 4.2 for a COBA kernel). */
    add_fn_attr(fn, "noinline", 0);
    add_fn_attr(fn, "optnone", 0);
    build_helper(m->mod, m->fma, fn);
    LLVMValueRef vars[2 * NWIDTHS];
    int nv = 0;
    for (int i = 0; i < NWIDTHS; i++)
        for (int masked = 0; masked < 2; masked++) {
            unsigned w = dbl ? WIDTHS_D[i] : WIDTHS_F[i];
            LLVMTypeRef vt = LLVMVectorType(ty, w);
            LLVMTypeRef vp[4] = {vt, vt, vt, LLVMVectorType(LLVMInt1TypeInContext(cx), w)};
            helper_name(name, sizeof name, dbl, masked ? 'M' : 'N', w);
            vars[nv] = LLVMAddFunction(m->mod, name, LLVMFunctionType(vt, vp, 3 + (unsigned)masked, 0));
            set_pure(vars[nv++]);
        }
    update_used(m->mod, vars, (unsigned)nv, false);
    return fn;
}

LLVMValueRef cg_math_expeuler(const CgMath *m, LLVMValueRef z, LLVMValueRef x, LLVMValueRef w)
{
    LLVMTypeRef ty = LLVMTypeOf(z);
    bool dbl = is_double(ty);
    LLVMValueRef fn = get_helper(m, ty), args[3] = {z, x, w};
    LLVMValueRef call = LLVMBuildCall2(m->b, LLVMGlobalGetValueType(fn), fn, args, 3, "");
    /* "_ZGV_LLVM_M8vvv_eic_expeuler_f64(eic_expeuler_f64_M8),...": LLVM's
     * vector function ABI, M/N masked or not, lanes, 'v' per parameter */
    char scalar[64], var[64], list[1024] = "";
    helper_name(scalar, sizeof scalar, dbl, 0, 0);
    size_t len = 0;
    for (int i = 0; i < NWIDTHS; i++)
        for (int masked = 0; masked < 2; masked++) {
            unsigned wd = dbl ? WIDTHS_D[i] : WIDTHS_F[i];
            helper_name(var, sizeof var, dbl, masked ? 'M' : 'N', wd);
            len += (size_t)snprintf(list + len, sizeof list - len, "%s_ZGV_LLVM_%c%uvvv_%s(%s)", len ? "," : "",
                                    masked ? 'M' : 'N', wd, scalar, var);
        }
    static const char key[] = "vector-function-abi-variant";
    LLVMAddCallSiteAttribute(call, LLVMAttributeFunctionIndex,
                             LLVMCreateStringAttribute(LLVMGetModuleContext(m->mod), key, sizeof key - 1,
                                                       list, (unsigned)len));
    return call;
}

bool cg_math_finish(LLVMModuleRef mod, bool fma)
{
    bool any = false;
    LLVMValueRef next;
    update_used(mod, NULL, 0, true);
    for (LLVMValueRef fn = LLVMGetFirstFunction(mod); fn; fn = next) {
        next = LLVMGetNextFunction(fn);
        if (!is_helper(fn))
            continue;
        if (LLVMIsDeclaration(fn) && !LLVMGetFirstUse(fn)) {   /* a width not chosen */
            LLVMDeleteFunction(fn);
            continue;
        }
        if (LLVMIsDeclaration(fn)) {
            LLVMSetLinkage(fn, LLVMInternalLinkage);
            build_helper(mod, fma, fn);
        }
        static const char *const off[] = {"optnone", "noinline"};
        for (int i = 0; i < 2; i++)
            LLVMRemoveEnumAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                                           LLVMGetEnumAttributeKindForName(off[i], strlen(off[i])));
        add_fn_attr(fn, "alwaysinline", 0);
        any = true;
    }
    return any;
}
