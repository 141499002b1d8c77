/* jit.h - in-process compilation of generated kernels (ORC LLJIT) with an
 * object cache.
 *
 * Pipeline position: after cg_llvm.c has emitted a model module. jit.c
 * optimises it, emits a relocatable object with the same emitter as AOT
 * (cg_emit_object_buffer), stores the object in the cache and adds it to an
 * LLJIT. Re-running an unchanged model on the same machine finds the object
 * in the cache and skips optimisation and code generation entirely.
 *
 * Cache: $XDG_CACHE_HOME/eic, else $HOME/.cache/eic (JitOptions.cache_dir
 * overrides). One file per key; the key hashes (BLAKE3) the unoptimised IR (bitcode),
 * the target triple, CPU and features, the optimisation settings
 * (cg_tuning_desc) and the eic and LLVM versions. Files
 * are written to a temporary name and renamed, so concurrent runs never see a
 * partial file; a file whose header, size or content hash does not check out
 * is ignored and replaced.
 */
#ifndef EIC_JIT_H
#define EIC_JIT_H

#include <stdbool.h>
#include <stddef.h>

#include <llvm-c/Core.h>

#include "cg_llvm.h"
#include "rt_abi.h"

typedef struct JitOptions {
    const char *cache_dir;        /* NULL: default location; "": no cache */
    const RtAbiSymbol *symbols;   /* runtime callbacks, {NULL, NULL}-terminated
                                     (normally rt_abi_symbols); may be NULL */
} JitOptions;

typedef struct JitStats {
    int cache_hits;       /* objects loaded from the cache */
    int cache_misses;     /* modules compiled (no valid cache file) */
    int cache_rejects;    /* cache files found but invalid (ignored) */
    int cache_writes;     /* cache files written */
    double last_add_ms;   /* wall time of the last jit_add_module */
    /* Phases of the last jit_add_module / jit_lookup calls, wall ms (EIC_TIMING):
     * key = cache key (IR printed and hashed), cache = cache file read/write,
     * optimize = cg_optimize, codegen = object emission, link = the object
     * added and linked (jit_add_module's add plus all jit_lookup calls since). */
    double key_ms, cache_ms, optimize_ms, codegen_ms, link_ms;
    char last_key[65];    /* hex cache key of the last module */
} JitStats;

typedef struct Jit Jit;

/* Creates a JIT for target `t` (copied). Registers `o->symbols` and the libm
 * functions generated code may call as absolute symbols. Returns NULL with a
 * message in err on failure. */
Jit *jit_create(const CgTarget *t, const JitOptions *o, char *err, size_t errlen);
void jit_free(Jit *j);

/* The context in which to build modules for jit_add_module. Lives until
 * jit_free. */
LLVMContextRef jit_context(Jit *j);

/* The JIT's target: the one given to jit_create with `datalayout` filled in
 * from the JIT, so that cg_module_create needs no target machine (0.35 ms
 * of a cache hit). Use it to build modules for this JIT. */
const CgTarget *jit_target(const Jit *j);

/* Compiles (or loads from the cache) module `m`, which the JIT takes over
 * and disposes, and makes its functions callable. Returns 0 or -1 with err. */
int jit_add_module(Jit *j, LLVMModuleRef m, char *err, size_t errlen);

/* Address of the generated function `name`, or NULL. */
void *jit_lookup(Jit *j, const char *name);

const JitStats *jit_stats(const Jit *j);

/* The default cache directory into buf ("" if neither XDG_CACHE_HOME nor
 * HOME is set). */
void jit_default_cache_dir(char *buf, size_t len);

/* Cache key of a module for target `t` as 64 hex digits (+ NUL) into key. */
void jit_cache_key(LLVMModuleRef m, const CgTarget *t, char key[65]);

#endif
