/* cg_globals.c - MirPop of the modulators (lower_globals.c) -> the kernel
 * eic_globals_step (RtGlobalsFn, runtime/rt_abi.h "ABI v3").
 *
 * One call per step, in the runtime's serial phase after step s: every
 * global is loaded (values of step s), the states of the MirPop take the
 * values of their globals, the planned step (ode.c: propagators, rk stages,
 * exponential Euler) runs as straight-line scalar code through the
 * expression emitter of cg_llvm.c (cg_int.h), and the new values are stored:
 * those of step s+1. Only the kernel's own globals are written, as the ABI
 * asks; the runtime then decays the RT_GLOBAL_DECAY ones and applies the
 * events due at s+1. Serial and scalar, so the values are the same for any
 * thread count, and JIT and AOT compile the same IR. */
#include "cg_globals.h"

#include <stdio.h>
#include <stdlib.h>

#include "cg_int.h"

/* Field numbers of RtGlobalsArgs (rt_abi.h field order). */
enum { GA_GLOBALS, GA_STEP, GA_T, GA_DT, GA_SEED, GA_NGLOBALS, GA__COUNT };

static LLVMValueRef load_field(Emit *e, LLVMTypeRef st, LLVMValueRef a, int k, LLVMTypeRef ty) {
    return LLVMBuildLoad2(e->b, ty, LLVMBuildStructGEP2(e->b, st, a, (unsigned)k, ""), "");
}

static LLVMValueRef global_ptr(Emit *e, LLVMValueRef base, int g) {
    LLVMValueRef i = LLVMConstInt(e->i64, (unsigned long long)g, 0);
    return LLVMBuildInBoundsGEP2(e->b, e->f64, base, &i, 1, "");
}

static void emit_body(Emit *e, LLVMValueRef fn, const int *global_of) {
    const MirPop *p = e->p;
    LLVMTypeRef f[GA__COUNT] = {e->ptr, e->i64, e->f64, e->f64, e->i64, e->i64};
    LLVMTypeRef st = LLVMStructTypeInContext(e->cx, f, GA__COUNT, 0);
    LLVMPositionBuilderAtEnd(e->b, LLVMAppendBasicBlockInContext(e->cx, fn, "entry"));
    LLVMValueRef a = LLVMGetParam(fn, 0);
    LLVMValueRef base = load_field(e, st, a, GA_GLOBALS, e->ptr);
    e->t = load_field(e, st, a, GA_T, e->f64);
    e->dt = e->dt64 = load_field(e, st, a, GA_DT, e->f64);
    for (int g = 0; g < p->nglobals; g++)
        e->globals[g] = LLVMBuildLoad2(e->b, e->f64, global_ptr(e, base, g), "");
    for (int k = 0; k < p->nstates; k++)
        e->state[k] = e->state0[k] = e->globals[global_of[k]];
    for (int v = 0; v < p->ntemps; v++)
        e->temp[v] = LLVMConstReal(e->f64, 0.0);
    cg_int_block(e, &p->step);
    for (int k = 0; k < p->nstates; k++)
        LLVMBuildStore(e->b, e->state[k], global_ptr(e, base, global_of[k]));
    LLVMBuildRetVoid(e->b);
}

int cg_globals_emit(LLVMModuleRef m, const CgTarget *t, const MirPop *p, const int *global_of, char *err,
                    size_t errlen) {
    Emit e;
    cg_int_init(&e, m, t, p, false, err, errlen);   /* modulator states are double */
    LLVMValueRef *mem = calloc((size_t)(2 * p->nstates + p->ntemps + p->nglobals + 1), sizeof *mem);
    if (!mem) {
        snprintf(err, errlen, "out of memory emitting %s", CG_GLOBALS_NAME);
        LLVMDisposeBuilder(e.b);
        return -1;
    }
    e.state = mem, e.state0 = mem + p->nstates, e.temp = e.state0 + p->nstates, e.globals = e.temp + p->ntemps;
    LLVMTypeRef ps[1] = {e.ptr};
    LLVMValueRef fn = LLVMAddFunction(m, CG_GLOBALS_NAME, LLVMFunctionType(LLVMVoidTypeInContext(e.cx), ps, 1, 0));
    const char *nounwind = "nounwind";
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                            LLVMCreateEnumAttribute(e.cx, LLVMGetEnumAttributeKindForName(nounwind, 8), 0));
    emit_body(&e, fn, global_of);
    free(mem);
    LLVMDisposeBuilder(e.b);
    return e.failed ? -1 : 0;
}
