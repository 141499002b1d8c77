/* cg_globals.h - LLVM code generation of the modulators' kernel.
 *
 * Pipeline position: lower_globals.c has gathered the modulator states with
 * their own dynamics into one MirPop (Lowered.globals_mir) and ode.c has
 * written its step. cg_globals_emit adds `eic_globals_step`, an RtGlobalsFn
 * (runtime/rt_abi.h, "ABI v3"), to the model's module; run.c (JIT) and
 * aot.c (`eic build`) store it in RtModelDesc.globals_update.
 */
#ifndef EIC_CG_GLOBALS_H
#define EIC_CG_GLOBALS_H

#include <stddef.h>

#include <llvm-c/Core.h>

#include "cg_llvm.h"
#include "mir.h"

#define CG_GLOBALS_NAME "eic_globals_step"

/* Adds eic_globals_step(const RtGlobalsArgs *a) to `m`: loads every global
 * of step s (a->globals[0 .. p->nglobals)), takes state k of `p` from
 * globals[global_of[k]], runs p->step with t = a->t and dt = a->dt (scalar
 * double code, the same IR for expressions as the neuron kernels) and stores
 * the new states back into their globals: the values of step s+1. Returns 0,
 * or -1 with a message in err. */
int cg_globals_emit(LLVMModuleRef m, const CgTarget *t, const MirPop *p, const int *global_of, char *err,
                    size_t errlen);

#endif
