/* cg_math.h - transcendental functions for generated kernels.
 *
 * Part of code generation (cg_llvm.c). A call to libm's exp() in a neuron
 * loop blocks vectorization (errno) and costs 5-13x (../shared/TOOLCHAIN.md),
 * so exp is emitted inline as straight-line IR: a Cody-Waite range reduction,
 * a polynomial and an exponent built from integer bits. The same algorithm is
 * written in C below (cg_exp_ref, cg_expf_ref); the emitted IR computes
 * bit-identical results, which the tests and the C benchmarks rely on.
 *
 * Accuracy (tests/unit/test_cg.c): within 1 ulp of glibc over [-700, 700]
 * (double) and [-87, 88] (float); exp(0) == 1 exactly; overflow gives +inf,
 * underflow gives subnormals then 0, NaN stays NaN.
 */
#ifndef EIC_CG_MATH_H
#define EIC_CG_MATH_H

#include <stdbool.h>

#include <llvm-c/Core.h>

/* C versions of the emitted exp. `fma` selects fused multiply-adds in the
 * polynomial, as the IR does when the target has FMA (see CgMath.fma). */
double cg_exp_ref(double x, bool fma);
float cg_expf_ref(float x, bool fma);

/* One step of exponential Euler (ode.c), exp(z) x + phi1(z) w with
 * phi1(z) = (exp(z) - 1)/z, phi1(0) = 1: for |z| <= CG_PHI1_R phi1 is a
 * polynomial (degree 10 in double, 6 in float) and exp(z) = 1 + z phi1(z)
 * one fused multiply-add: no exp and no division; beyond, the closed forms
 * from exp's range reduction (z = n ln2 + r, the same polynomial at r, one
 * division). The step is mla(phi1, w, exp x) (fused where CgMath.fma).
 * Accuracy against long double (tests/unit/test_phi1.c): phi1 within 1.5
 * ulp (polynomial part 1.0), exp within 1.1 ulp. phi1 of NaN is NaN,
 * phi1(-inf) = 0, and overflow gives +inf. The emitted IR computes the same
 * bits as these references. */
#define CG_PHI1_R 0.35          /* ode.c's --explain text prints these three */
#define CG_PHI1_DEGREE_D 10     /* degree of the polynomial phi1, double */
#define CG_PHI1_DEGREE_F 6      /* and float */
double cg_phi1_ref(double z, bool fma);
float cg_phi1f_ref(float z, bool fma);
double cg_phi1_exp_ref(double z, bool fma);      /* the exp(z) that goes with it */
float cg_phi1_expf_ref(float z, bool fma);
double cg_expeuler_ref(double z, double x, double w, bool fma);
float cg_expeulerf_ref(float z, float x, float w, bool fma);

/* What an emitter needs: the module (for intrinsic declarations), a builder
 * positioned where the code goes, and whether the target has FMA. */
typedef struct CgMath {
    LLVMModuleRef mod;
    LLVMBuilderRef b;
    bool fma;          /* emit llvm.fma in polynomials (host feature +fma) */
} CgMath;

/* Emits exp(x) for a scalar double or float x; returns the result value. */
LLVMValueRef cg_math_exp(const CgMath *m, LLVMValueRef x);

/* Emits exp(z) x + phi1(z) w (cg_expeuler_ref) for scalar double or float
 * operands, as a call of an internal helper that the loop vectorizer widens
 * into vector variants which skip the closed form unless a lane needs it
 * (|z| > CG_PHI1_R; see cg_math.c). The module then needs cg_math_finish
 * after its vectorizing pipeline. */
LLVMValueRef cg_math_expeuler(const CgMath *m, LLVMValueRef z, LLVMValueRef x, LLVMValueRef w);

/* After the vectorizing pipeline: defines the vector variants of the
 * exponential Euler helper that were used (deletes the others) and marks
 * them always-inline. Returns true if `m` has helpers, i.e. if a pipeline with
 * always-inline must run again (CG_PIPELINE_LATE). `fma` as in CgMath. */
bool cg_math_finish(LLVMModuleRef m, bool fma);

/* Emits a call of the LLVM intrinsic `name` (e.g. "llvm.floor") overloaded
 * on the type of args[0]. */
LLVMValueRef cg_math_intrinsic(const CgMath *m, const char *name, LLVMValueRef *args, unsigned n);

/* Emits a call of the libm function `name` for double (or `name`f for
 * float), declared without side effects so that it can be hoisted. Used only
 * for the functions a model names that have no inline form (log, sin, cos,
 * tanh, pow); jit.c binds these names to libm. */
LLVMValueRef cg_math_libm(const CgMath *m, const char *name, LLVMValueRef *args, unsigned n);

#endif
