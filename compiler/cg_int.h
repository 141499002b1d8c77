/* cg_int.h - internals of cg_llvm.c shared with the other emitters.
 *
 * cg_llvm.c emits population update kernels; cg_syn.c emits the kernels of
 * plastic projections (synapse models, plasticity rules) and reuses the MIR
 * expression and statement emitter of cg_llvm.c through this header, so that
 * a synapse kernel computes a MIR expression with exactly the same IR (the
 * same inline exp, the same if-conversion) as a neuron kernel. Not a public
 * interface: only compiler/cg_*.c include it.
 */
#ifndef EIC_CG_INT_H
#define EIC_CG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <llvm-c/Core.h>

#include "cg_llvm.h"
#include "cg_math.h"
#include "mir.h"

/* The state of emitting one kernel. `p` gives the slot counts (nstates,
 * nparams, ninputs, ntemps) that MIR leaves are checked against; the arrays
 * hold the current SSA value of every slot. */
typedef struct Emit {
    LLVMContextRef cx;
    LLVMModuleRef m;
    LLVMBuilderRef b;
    CgMath math;
    const MirPop *p;
    LLVMTypeRef f64, i64, i8, i1, ptr;
    LLVMTypeRef real;              /* type of model values: f32 in a `precision float`
                                      kernel; NULL means f64 */
    LLVMValueRef *state, *state0;  /* current values; values loaded at loop entry */
    LLVMValueRef *input, *input0;
    LLVMValueRef *param, *temp;
    LLVMValueRef t, dt;            /* of type `real` */
    LLVMValueRef dt64;             /* dt as a double (refractory steps); NULL: dt */
    LLVMValueRef mask;             /* predicate of the statement being emitted; NULL: true */
    LLVMValueRef *consts;          /* [p->nconsts] MX_PCONST values, loaded before the loop */
    LLVMValueRef *globals;         /* [p->nglobals] MX_GLOBAL values, loaded before the loop */
    char *err;
    size_t errlen;
    bool failed;
} Emit;

/* Starts emitting into `m` for target `t`: context, a new builder (the
 * caller disposes of it), math, types, model values in double or, with
 * use_float, float, and the error buffer. The slot arrays are the
 * caller's to set. */
void cg_int_init(Emit *e, LLVMModuleRef m, const CgTarget *t, const MirPop *p, bool use_float, char *err,
                 size_t errlen);

/* The value of MIR expression `x` (a double) at the builder's position. */
LLVMValueRef cg_int_expr(Emit *e, const MirExpr *x);
/* `x` as an i1 condition (nonzero is true). */
LLVMValueRef cg_int_cond(Emit *e, const MirExpr *x);
/* Emits the statements of `b` (if-converted: writes under e->mask become
 * selects); MIR_SET/MIR_LET update e->state / e->temp. */
void cg_int_block(Emit *e, const MirBlock *b);

/* The counted loop of every kernel, for (i = begin; i < end; i++): an
 * entry block (loads before the loop), the loop body, and done (return). */
typedef struct CgLoop {
    LLVMBasicBlockRef entry, loop, done;
    LLVMValueRef begin, end, i;
} CgLoop;

/* Appends entry, loop and done to `fn` and leaves the builder in entry. */
CgLoop cg_int_loop_open(Emit *e, LLVMValueRef fn);
/* Ends the entry block: into the loop when begin < end. Leaves the
 * builder at the top of the body, l->i the phi named `name`. */
void cg_int_loop_enter(Emit *e, CgLoop *l, LLVMValueRef begin, LLVMValueRef end, const char *name);
/* i + 1 and back while < end, from the block the body ended in; then
 * returns void from done. Gives the back edge (for loop metadata). */
LLVMValueRef cg_int_loop_close(Emit *e, CgLoop *l);

#endif
