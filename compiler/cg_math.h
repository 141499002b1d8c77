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

/* What an emitter needs: the module (for intrinsic declarations), a builder
 * positioned where the code goes, and whether the target has FMA. */
typedef struct CgMath {
    LLVMModuleRef mod;
    LLVMBuilderRef b;
    bool fma;          /* emit llvm.fma in polynomials (host feature +fma) */
} CgMath;

/* Emits exp(x) for a scalar double or float x; returns the result value. */
LLVMValueRef cg_math_exp(const CgMath *m, LLVMValueRef x);

/* Emits a call of the LLVM intrinsic `name` (e.g. "llvm.floor") overloaded
 * on the type of args[0]. */
LLVMValueRef cg_math_intrinsic(const CgMath *m, const char *name, LLVMValueRef *args, unsigned n);

/* Emits a call of the libm function `name` for double (or `name`f for
 * float), declared without side effects so that it can be hoisted. Used only
 * for the functions a model names that have no inline form (log, sin, cos,
 * tanh, pow); jit.c binds these names to libm. */
LLVMValueRef cg_math_libm(const CgMath *m, const char *name, LLVMValueRef *args, unsigned n);

#endif
