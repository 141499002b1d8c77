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
 */
#include "cg_math.h"

#include <math.h>
#include <stdio.h>
#include <stdint.h>
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
    double u = k->poly_d[0];
    for (int i = 1; i < k->npoly; i++)
        u = mla_d(u, r, k->poly_d[i], f);
    double z = r * r;
    u = mla_d(z, u, r, f);
    u = u + 1.0;
    int64_t ni = ki - k->shift_bits, n1 = ni >> 1, n2 = ni - n1;
    uint64_t b1 = (uint64_t)(n1 + k->bias) << k->mant_bits;
    uint64_t b2 = (uint64_t)(n2 + k->bias) << k->mant_bits;
    double s1, s2;
    memcpy(&s1, &b1, sizeof s1);
    memcpy(&s2, &b2, sizeof s2);
    u = u * s1;
    return u * s2;
}

static float mla_f(float a, float b, float c, bool f)
{
    if (f)
        return fmaf(a, b, c);
    float t = a * b;
    return t + c;
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
    float u = k->poly_f[0];
    for (int i = 1; i < k->npoly; i++)
        u = mla_f(u, r, k->poly_f[i], f);
    float z = r * r;
    u = mla_f(z, u, r, f);
    u = u + 1.0f;
    int32_t ni = ki - (int32_t)k->shift_bits, n1 = ni >> 1, n2 = ni - n1;
    uint32_t b1 = (uint32_t)(n1 + k->bias) << k->mant_bits;
    uint32_t b2 = (uint32_t)(n2 + k->bias) << k->mant_bits;
    float s1, s2;
    memcpy(&s1, &b1, sizeof s1);
    memcpy(&s2, &b2, sizeof s2);
    u = u * s1;
    return u * s2;
}

/* ---- IR emitter ------------------------------------------------------------ */

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
    LLVMValueRef bits = LLVMBuildAdd(m->b, e, LLVMConstInt(ity, (unsigned long long)k->bias, 0), "");
    bits = LLVMBuildShl(m->b, bits, LLVMConstInt(ity, (unsigned long long)k->mant_bits, 0), "");
    return LLVMBuildBitCast(m->b, bits, fty, "");
}

/* The polynomial part: 1 + r + r^2*P(r). */
static LLVMValueRef emit_exp_poly(const CgMath *m, const ExpConsts *k, LLVMTypeRef fty, LLVMValueRef r)
{
    bool dbl = k->poly_d != NULL;
    LLVMValueRef u = LLVMConstReal(fty, dbl ? k->poly_d[0] : (double)k->poly_f[0]);
    for (int i = 1; i < k->npoly; i++)
        u = emit_mla(m, u, r, LLVMConstReal(fty, dbl ? k->poly_d[i] : (double)k->poly_f[i]));
    LLVMValueRef z = LLVMBuildFMul(m->b, r, r, "");
    u = emit_mla(m, z, u, r);
    return LLVMBuildFAdd(m->b, u, LLVMConstReal(fty, 1.0), "");
}

LLVMValueRef cg_math_exp(const CgMath *m, LLVMValueRef x)
{
    LLVMBuilderRef b = m->b;
    LLVMTypeRef fty = LLVMTypeOf(x);
    LLVMContextRef cx = LLVMGetTypeContext(fty);
    bool dbl = LLVMGetTypeKind(fty) == LLVMDoubleTypeKind;
    const ExpConsts *k = dbl ? &EXP_D : &EXP_F;
    LLVMTypeRef ity = dbl ? LLVMInt64TypeInContext(cx) : LLVMInt32TypeInContext(cx);
#define C(v) LLVMConstReal(fty, dbl ? (v) : (double)(float)(v))
    x = emit_clamp(m, x, C(k->lo), C(k->hi));
    LLVMValueRef kd = LLVMBuildFAdd(b, LLVMBuildFMul(b, x, C(k->log2e), ""), C(k->shift), "");
    LLVMValueRef n = LLVMBuildFSub(b, kd, C(k->shift), "");
    LLVMValueRef r = LLVMBuildFSub(b, x, LLVMBuildFMul(b, n, C(k->ln2_hi), ""), "");
    r = LLVMBuildFSub(b, r, LLVMBuildFMul(b, n, C(k->ln2_lo), ""), "");
#undef C
    LLVMValueRef y = emit_exp_poly(m, k, fty, r);
    LLVMValueRef ni = LLVMBuildSub(b, LLVMBuildBitCast(b, kd, ity, ""),
                                   LLVMConstInt(ity, (unsigned long long)k->shift_bits, 0), "");
    LLVMValueRef n1 = LLVMBuildAShr(b, ni, LLVMConstInt(ity, 1, 0), "");
    LLVMValueRef n2 = LLVMBuildSub(b, ni, n1, "");
    y = LLVMBuildFMul(b, y, emit_pow2(m, k, fty, ity, n1), "");
    return LLVMBuildFMul(b, y, emit_pow2(m, k, fty, ity, n2), "exp");
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
    LLVMContextRef cx = LLVMGetTypeContext(fty);
    /* memory(none): these never write memory except errno, which we ignore,
     * so the optimiser may hoist calls with loop-invariant arguments. */
    static const char *const attrs[] = {"memory", "nounwind", "willreturn", "nosync"};
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
        unsigned kind = LLVMGetEnumAttributeKindForName(attrs[i], strlen(attrs[i]));
        LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(cx, kind, 0));
    }
    return fn;
}

LLVMValueRef cg_math_libm(const CgMath *m, const char *name, LLVMValueRef *args, unsigned n)
{
    LLVMTypeRef fty = LLVMTypeOf(args[0]);
    LLVMValueRef fn = declare_libm(m, name, fty, n);
    return LLVMBuildCall2(m->b, LLVMGlobalGetValueType(fn), fn, args, n, "");
}
