/* cg_llvm.h - LLVM code generation of population update kernels.
 *
 * Pipeline position: ode.c has filled MirPop.step; this module turns each
 * MirPop into one kernel `eic_update_<index>` of type RtUpdateFn
 * (runtime/rt_abi.h) inside one LLVM module per model, optimises it for the
 * host CPU (vectorized SoA loop over [begin, end)) and emits objects.
 * jit.c loads the objects (with a cache); `eic build` links them (AOT).
 *
 * Reproducibility: the kernels use IEEE arithmetic without reassociation or
 * contraction of model expressions, so every neuron's result is independent
 * of which loop copy (vector body or scalar remainder) computes it, hence of
 * the thread partition, and JIT and AOT share one object emitter. See
 * /work/notes/spec-cg.md for the guarantees.
 */
#ifndef EIC_CG_LLVM_H
#define EIC_CG_LLVM_H

#include <stdbool.h>

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

#include "mir.h"

/* The machine code is generated for. */
typedef struct CgTarget {
    char triple[128];
    char cpu[64];
    char features[2048];  /* LLVM feature string, e.g. "+avx2,+fma,..." */
    bool fma;             /* features contain +fma: exp polynomial uses llvm.fma */
    LLVMTargetRef target;
    char datalayout[256]; /* "" until known; then modules take it without creating
                             a target machine (jit_target fills it from the JIT) */
} CgTarget;

/* Fills `t` for the host (CPU name and features from LLVM's host detection)
 * and initialises LLVM's native target once per process. Returns 0, or -1
 * with a message in err[0..errlen). */
int cg_target_host(CgTarget *t, char *err, size_t errlen);

/* A new target machine for `t` (O3, PIC, small code model). The caller owns
 * it (LLVMDisposeTargetMachine, or hand it to ORC, which takes ownership). */
LLVMTargetMachineRef cg_target_machine(const CgTarget *t);

/* Name of the update kernel of population `index`: "eic_update_<index>". */
void cg_kernel_name(char *buf, size_t len, int index);

/* Name of the probe kernel (RtProbeFn, ABI v5) of population `index`, which
 * exists when its MirPop has probes: "eic_probe_<index>". */
void cg_probe_name(char *buf, size_t len, int index);

/* Name of the init kernel (RtInitFn) of population `index`, which exists
 * when cg_has_init: "eic_init_<index>". */
void cg_init_name(char *buf, size_t len, int index);

/* Whether population `p` has an init kernel: initial values computed per
 * neuron (MirPop.init) or a per-neuron refractory period whose steps it
 * stores (MirPop.refractory_param). */
bool cg_has_init(const MirPop *p);

/* Creates an empty module for `t` (triple and data layout set) in `cx`.
 * The data layout is t->datalayout when set, else the target machine's. */
LLVMModuleRef cg_module_create(LLVMContextRef cx, const CgTarget *t, const char *name);

/* Adds the update kernel of `p` as `eic_update_<index>` to `m` (and, when
 * p->nprobes > 0, its probe kernel `eic_probe_<index>`, see cg_llvm.c). The kernel
 * follows RtUpdateFn: per neuron, on_input, step, refractory clamp, threshold
 * and reset, then zeroes every input buffer and writes spiked[i]. Returns 0,
 * or -1 with a message (unsupported construct) in err.
 *
 * Precision: when p->use_float, the state, parameter and input arrays that
 * RtPopArgs points to are float arrays (declared double * in rt_abi.h: the
 * RT_PREC_F32 layout, which lower.c asks for), MIR constants are rounded to float,
 * t and dt are converted to float once, and all model arithmetic, exp
 * included (cg_expf_ref), is float: twice the neurons per vector. The
 * refractory period in steps is still round(t_ref / dt) in double. */
int cg_emit_pop(LLVMModuleRef m, const CgTarget *t, const MirPop *p, int index,
                char *err, size_t errlen);

/* Module with the update kernels of every population of `model`.
 * Populations whose MIR is the same (names, sizes and initial values aside)
 * share one kernel: the later ones' `eic_update_<k>` are aliases of the
 * first's, so COBA's E and I cost one compilation (probes aside: a
 * population with probes shares the update kernel of its twin without and
 * gets its own `eic_probe_<k>`, shared with twins of the same probes). `precision float`
 * populations get float kernels (cg_emit_pop), the runtime float arrays
 * (RT_PREC_F32). Returns NULL with a message in err on failure. */
LLVMModuleRef cg_emit_model(LLVMContextRef cx, const CgTarget *t, const MirModel *model,
                            char *err, size_t errlen);

/* The optimisation pipeline (LLVM new-PM syntax) and back-end level.
 *
 * JIT latency is what the pipeline is chosen for (issue 3: the COBA model
 * from parsed AST to callable kernels in under 30 ms). default<O3> runs
 * ~90 passes for one loop; the kernels need few: inline the body into the
 * RtUpdateFn wrapper (always-inline; globaldce drops the body so it is not
 * compiled twice), clean up (sroa, early-cse, instcombine, simplifycfg),
 * hoist loop invariants such as exp(-dt/tau) (licm), vectorize the neuron
 * loop, and clean up the vector code. No SLP vectorizer: with tail folding
 * there is no scalar loop left for it to work on. Measured in-process on
 * examples/coba.ei (bench/cg_bench.sh; CPU ms): optimisation 7.0 -> 2.8.
 * The back-end level made no difference to compile time or kernel speed;
 * Aggressive it stays. */
#define CG_PIPELINE "always-inline,globaldce," \
    "function(sroa,early-cse,instcombine,simplifycfg,loop-mssa(licm),loop-vectorize,instcombine,simplifycfg)"
#define CG_CODEGEN_LEVEL LLVMCodeGenLevelAggressive
/* Run after CG_PIPELINE when the module calls the exponential Euler helper
 * (cg_math_finish): inlines its vector variants, which must not be inlined
 * before the loop vectorizer has widened the calls. Their code needs no
 * cleanup but merging blocks: instcombine and early-cse here cost 1.2 ms
 * of JIT time on a COBA kernel and only reordered an fma's factors and
 * spelled the any-lane test differently (same kernel speed). */
#define CG_PIPELINE_LATE "always-inline,globaldce,function(simplifycfg)"

/* Benchmarks only: replaces the pipeline (NULL: CG_PIPELINE) and back-end
 * level (an LLVMCodeGenOptLevel, -1: CG_CODEGEN_LEVEL) for the rest of the
 * process. A structurally invalid pipeline aborts the process inside LLVM
 * (TOOLCHAIN.md §7.5), so never pass user input. */
void cg_set_tuning(const char *pipeline, int level);

/* The pipeline, level and LLVM options in effect, as text (for cache keys:
 * an object compiled under other settings must not be reused). Static
 * storage. */
const char *cg_tuning_desc(void);

/* Verifies and optimises `m` in place with CG_PIPELINE, loop and SLP
 * vectorization, for the host target machine. Returns 0 or -1 with err. */
int cg_optimize(LLVMModuleRef m, const CgTarget *t, char *err, size_t errlen);

/* Emits `m` (already optimised) as a relocatable object into memory.
 * Returns the buffer (caller disposes) or NULL with err. */
LLVMMemoryBufferRef cg_emit_object_buffer(LLVMModuleRef m, const CgTarget *t,
                                          char *err, size_t errlen);

/* Emits `m` (already optimised) as an object file at `path` (AOT). */
int cg_emit_object_file(LLVMModuleRef m, const CgTarget *t, const char *path,
                        char *err, size_t errlen);

#endif
