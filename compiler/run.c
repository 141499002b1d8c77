/* run.c - `eic run`: compile a model with the JIT, build the network, simulate,
 * record (the run itself is runtime/rt_cli.c, shared with AOT executables).
 * The passes run in the order listed in driver_run():
 *   load + parse -> sema -> lower -> ODE plan -> codegen + JIT -> runtime. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg_globals.h"
#include "cg_syn.h"
#include "driver.h"
#include "frontend.h"
#include "jit.h"
#include "lower.h"
#include "ode.h"
#include "sema.h"

/* Wall time of the compile phases of `eic run`, in ms, printed to stderr
 * when EIC_TIMING is set (bench/latency_bench.sh reads it). */
typedef struct PhaseMs {
    double parse, sema, lower, ode, setup, emit;
} PhaseMs;

static void print_timing(const PhaseMs *ph, const Jit *j) {
    if (!getenv("EIC_TIMING") || !j) return;
    const JitStats *st = jit_stats(j);
    double jit = st->key_ms + st->cache_ms + st->optimize_ms + st->codegen_ms + st->link_ms;
    double ast_to_kernels = ph->sema + ph->lower + ph->ode + ph->setup + ph->emit + jit;
    fprintf(stderr,
            "eic: timing ms: parse %.2f sema %.2f lower %.2f ode %.2f jit-setup %.2f cg-emit %.2f "
            "cache-key %.2f cache-io %.2f optimize %.2f codegen %.2f jit-link %.2f | "
            "ast-to-kernels %.2f (cache %s)\n",
            ph->parse, ph->sema, ph->lower, ph->ode, ph->setup, ph->emit, st->key_ms, st->cache_ms,
            st->optimize_ms, st->codegen_ms, st->link_ms, ast_to_kernels, st->cache_hits ? "hit" : "miss");
}

static void *lookup_kernel(void *jit, const char *name) { return jit_lookup(jit, name); }

/* Compiles every population's update kernel and every plastic projection's
 * synapse kernels (cg_syn.c) and stores them in the descriptor. */
static int compile_kernels(Lowered *l, Jit **out, PhaseMs *ph, char *err, size_t errlen) {
    double t0 = rt_cli_now();
    CgTarget t;
    if (cg_target_host(&t, err, errlen)) return -1;
    JitOptions jo = {.cache_dir = getenv("EIC_NO_CACHE") ? "" : NULL, .symbols = rt_abi_symbols};
    Jit *j = jit_create(&t, &jo, err, errlen);
    if (!j) return -1;
    *out = j;
    double t1 = rt_cli_now();
    ph->setup = 1e3 * (t1 - t0);
    LLVMModuleRef m = cg_emit_model(jit_context(j), jit_target(j), &l->mir, err, errlen);
    ph->emit = 1e3 * (rt_cli_now() - t1);
    if (!m || cg_syn_emit_all(m, jit_target(j), l->syns, l->nsyns, err, errlen) ||
        (l->globals_mir && cg_globals_emit(m, jit_target(j), l->globals_mir, l->global_of, err, errlen)) ||
        jit_add_module(j, m, err, errlen))
        return -1;
    if (l->globals_mir) {   /* modulators with their own dynamics ([S-net-10]) */
        l->desc.globals_update = (RtGlobalsFn)(uintptr_t)jit_lookup(j, CG_GLOBALS_NAME);
        if (!l->desc.globals_update) {
            snprintf(err, errlen, "kernel %s not found after compilation", CG_GLOBALS_NAME);
            return -1;
        }
    }
    for (int k = 0; k < l->mir.npops; k++) {
        char name[64];
        cg_kernel_name(name, sizeof name, k);
        l->pops[l->mir_pop[k]].update = (RtUpdateFn)(uintptr_t)jit_lookup(j, name);
        if (!l->pops[l->mir_pop[k]].update) {
            snprintf(err, errlen, "kernel %s not found after compilation", name);
            return -1;
        }
        if (cg_has_init(&l->mir.pops[k])) {   /* initial values, refractory steps per neuron */
            cg_init_name(name, sizeof name, k);
            l->pops[l->mir_pop[k]].init = (RtInitFn)(uintptr_t)jit_lookup(j, name);
            if (!l->pops[l->mir_pop[k]].init) {
                snprintf(err, errlen, "kernel %s not found after compilation", name);
                return -1;
            }
        }
        if (!l->mir.pops[k].nprobes) continue;
        cg_probe_name(name, sizeof name, k);   /* ABI v5 */
        l->pops[l->mir_pop[k]].probe = (RtProbeFn)(uintptr_t)jit_lookup(j, name);
        if (!l->pops[l->mir_pop[k]].probe) {
            snprintf(err, errlen, "kernel %s not found after compilation", name);
            return -1;
        }
    }
    return cg_syn_bind(l->syns, l->nsyns, l->plastic, lookup_kernel, j, err, errlen);
}

const char *driver_default_out_dir(Arena *a, const char *file) {
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    size_t n = strlen(base);
    if (n > 3 && !strcmp(base + n - 3, ".ei")) n -= 3;
    return arena_printf(a, "out/%.*s", (int)n, base);
}

int driver_run(const DriverOptions *o) {
    double t0 = rt_cli_now();
    Session s;
    driver_open_session(&s, o);
    RtTimings tm = {0};
    PhaseMs ph = {0};
    int rc = driver_load(&s, o);
    ph.parse = 1e3 * (rt_cli_now() - t0);
    if (rc) return driver_finish(&s, rc);
    double ts = rt_cli_now();
    Program *p = sema_check(&s);
    tm.parse_s = rt_cli_now() - t0;
    ph.sema = 1e3 * (rt_cli_now() - ts);
    if (!p) return driver_finish(&s, EXIT_MODEL_ERROR);
    double t1 = rt_cli_now();
    Lowered *l = lower_program(p);
    ph.lower = 1e3 * (rt_cli_now() - t1);
    double t2 = rt_cli_now();
    if (!l || !lower_plan_odes(p, l)) return driver_finish(&s, EXIT_MODEL_ERROR);
    ph.ode = 1e3 * (rt_cli_now() - t2);
    Jit *jit = NULL;
    char err[1024] = "";
    if (compile_kernels(l, &jit, &ph, err, sizeof err)) {
        fprintf(stderr, "eic: error: code generation failed: %s\n", err);
        if (jit) jit_free(jit);
        return driver_finish(&s, EXIT_RUNTIME);
    }
    tm.compile_s = rt_cli_now() - t1;
    print_timing(&ph, jit);
    int code = rt_cli_simulate(&l->desc, &o->run, o->file, driver_default_out_dir(&s.arena, o->file), &tm, t0);
    jit_free(jit);
    return driver_finish(&s, code);
}

/* Lowers and plans `o->file` for emit-llvm and check --explain. Returns NULL
 * (after diagnostics) on errors; the session must be finished by the caller. */
static Lowered *lower_for_inspection(Session *s, const DriverOptions *o, Program **prog) {
    if (driver_load(s, o)) return NULL;
    Program *p = sema_check(s);
    if (!p) return NULL;
    *prog = p;
    Lowered *l = lower_program(p);
    if (!l || !lower_plan_odes(p, l)) return NULL;
    return l;
}

int driver_emit_llvm(const DriverOptions *o) {
    Session s;
    driver_open_session(&s, o);
    Program *p = NULL;
    Lowered *l = lower_for_inspection(&s, o, &p);
    if (!l) return driver_finish(&s, EXIT_MODEL_ERROR);
    char err[1024] = "";
    CgTarget t;
    LLVMContextRef cx = LLVMContextCreate();
    LLVMModuleRef m = NULL;
    int code = 0;
    if (cg_target_host(&t, err, sizeof err) || !(m = cg_emit_model(cx, &t, &l->mir, err, sizeof err)) ||
        cg_syn_emit_all(m, &t, l->syns, l->nsyns, err, sizeof err) ||
        (l->globals_mir && cg_globals_emit(m, &t, l->globals_mir, l->global_of, err, sizeof err)) ||
        cg_optimize(m, &t, err, sizeof err)) {
        fprintf(stderr, "eic: error: code generation failed: %s\n", err);
        code = EXIT_RUNTIME;
    } else {
        char *ir = LLVMPrintModuleToString(m);
        fputs(ir, stdout);
        LLVMDisposeMessage(ir);
    }
    if (m) LLVMDisposeModule(m);
    LLVMContextDispose(cx);
    return driver_finish(&s, code);
}

int driver_explain(const DriverOptions *o) {
    Session s;
    driver_open_session(&s, o);
    Program *p = NULL;
    Lowered *l = lower_for_inspection(&s, o, &p);
    if (!l) return driver_finish(&s, p ? EXIT_MODEL_ERROR : EXIT_MODEL_ERROR);
    for (int k = 0; k < l->mir.npops; k++) {
        printf("population %s:\n", l->mir.pops[k].name);
        fputs(ode_explain(&s.arena, &l->mir.pops[k]), stdout);
        if (getenv("EIC_DUMP_MIR")) mir_dump(stdout, &l->mir.pops[k]);
    }
    if (l->globals_mir) {
        printf("modulators:\n");
        fputs(ode_explain(&s.arena, l->globals_mir), stdout);
        if (getenv("EIC_DUMP_MIR")) mir_dump(stdout, l->globals_mir);
    }
    for (int k = 0; k < l->nsyns; k++) {
        const MirSyn *ms = &l->syns[k];
        printf("projection %s:\n", ms->name);
        fputs(ode_explain(&s.arena, &ms->shape), stdout);
        if (getenv("EIC_DUMP_MIR")) mir_syn_dump(stdout, ms);
    }
    return driver_finish(&s, 0);
}
