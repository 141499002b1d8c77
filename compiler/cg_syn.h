/* cg_syn.h - LLVM code generation of the synapse kernels of plastic
 * projections (synapse models, plasticity rules).
 *
 * Pipeline position: lower.c built a MirSyn per plastic projection and
 * ode_plan_elapsed() its `decay` block; this module adds the kernels, of
 * type RtSynFn (runtime/rt_abi.h, ABI v2), to the model's module next to the
 * population update kernels, so that the JIT (run.c) and `eic build`
 * (aot.c) compile and link them the same way:
 *   eic_syn_pre_<k>    RtPlasticDesc.on_pre     (always)
 *   eic_syn_post_<k>   RtPlasticDesc.on_post    (MirSyn.has_on_post)
 *   eic_syn_every_<k>  RtPlasticDesc.every      (MirSyn.has_every)
 *   eic_syn_row_<k>    RtPlasticDesc.on_pre_row (MirSyn.per_pre: the decay and
 *                      `on pre` of the presynaptic neuron's shared state, once
 *                      per arrival; on_pre then only reads that state)
 * Each kernel loops over the synapses of the event, gathers the variable
 * table of one synapse into SSA values, runs the blocks with the same MIR
 * emitter as the neuron kernels (cg_int.h) and stores back w, the synapse
 * states and, on pre, input[post] += the delivered efficacy.
 */
#ifndef EIC_CG_SYN_H
#define EIC_CG_SYN_H

#include <stddef.h>

#include <llvm-c/Core.h>

#include "cg_llvm.h"
#include "mir_syn.h"

typedef enum CgSynKernel { CG_SYN_PRE, CG_SYN_POST, CG_SYN_EVERY, CG_SYN_PRE_ROW } CgSynKernel;

/* "eic_syn_pre_<index>" etc. into buf. */
void cg_syn_kernel_name(char *buf, size_t len, CgSynKernel kind, int index);

/* True if projection `s` has a kernel of `kind`. */
bool cg_syn_has_kernel(const MirSyn *s, CgSynKernel kind);

/* Adds the kernels of syns[0..n) to `m`. Returns 0, or -1 with a message in
 * err[0..errlen). */
int cg_syn_emit_all(LLVMModuleRef m, const CgTarget *t, const MirSyn *syns, int n, char *err, size_t errlen);

/* Fills on_pre / on_post / every / on_pre_row of plastic[k] (for syns[k]) with the
 * addresses `lookup(ctx, name)` returns. Returns 0, or -1 with err when a
 * kernel is missing. */
int cg_syn_bind(const MirSyn *syns, int n, RtPlasticDesc *plastic, void *(*lookup)(void *ctx, const char *name),
                void *ctx, char *err, size_t errlen);

#endif
