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

/* phi1(z) = (exp(z) - 1)/z, phi1(0) = 1, for exponential Euler (ode.c):
 * for |z| <= CG_PHI1_R a polynomial (degree 10 in double, 6 in float), and
 * exp(z) = 1 + z phi1(z) from it (one fused multiply-add): no exp and no
 * division; beyond, the closed form from exp's range reduction
 * (z = n ln2 + r, expm1 from the same polynomial at r, one division) and
 * exp(z) from cg_exp_ref. cg_exp_phi1_ref(z, p) is exp(z) given
 * p = cg_phi1_ref(z). Accuracy (tests/unit/test_phi1.c): see there.
 * phi1 of NaN is NaN; phi1(-inf) = 0; overflow gives +inf. The emitted IR
 * computes the same bits. */
#define CG_PHI1_R 0.35
double cg_phi1_ref(double z, bool fma);
float cg_phi1f_ref(float z, bool fma);
double cg_exp_phi1_ref(double z, double p, bool fma);
float cg_exp_phi1f_ref(float z, float p, bool fma);

/* What an emitter needs: the module (for intrinsic declarations), a builder
 * positioned where the code goes, and whether the target has FMA. */
typedef struct CgMath {
    LLVMModuleRef mod;
    LLVMBuilderRef b;
    bool fma;          /* emit llvm.fma in polynomials (host feature +fma) */
} CgMath;

/* Emits exp(x) for a scalar double or float x; returns the result value. */
LLVMValueRef cg_math_exp(const CgMath *m, LLVMValueRef x);

/* Emit phi1(z) and exp(z) given phi1 = phi1(z), for a scalar double or
 * float z, as calls of internal helpers that the loop vectorizer widens into
 * vector variants which skip the slow path (|z| > CG_PHI1_R) unless a lane
 * needs it (see cg_math.c). The module then needs cg_math_finish after its
 * vectorizing pipeline. */
LLVMValueRef cg_math_phi1(const CgMath *m, LLVMValueRef z);
LLVMValueRef cg_math_exp_phi1(const CgMath *m, LLVMValueRef z, LLVMValueRef phi1);

/* After the vectorizing pipeline: defines the vector variants of the phi1
 * helpers that were used (deletes the others) and marks every helper
 * always-inline. Returns true if `m` has helpers, i.e. if a pipeline with
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
