/* run.c - `eic run`: compile a model with the JIT, build the network, simulate,
 * record. The passes run in the order listed in driver_run():
 *   load + parse -> sema -> lower -> ODE plan -> codegen + JIT -> runtime. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "driver.h"
#include "frontend.h"
#include "jit.h"
#include "lower.h"
#include "ode.h"
#include "sema.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static volatile int interrupted;
static void on_signal(int sig) {
    (void)sig;
    interrupted = 1;
}

typedef struct Progress {
    double start;
    double dt;
    bool show;
    bool shown;
} Progress;

/* Prints simulated time, real-time factor and ETA on one terminal line; only
 * for runs that have taken more than a second. */
static void report_progress(void *ctx, RtStep done, RtStep total) {
    Progress *p = ctx;
    double el = now_s() - p->start;
    if (!p->show || el < 1.0 || done <= 0) return;
    double sim = (double)done * p->dt, rtf = el / sim, eta = el * (double)(total - done) / (double)done;
    fprintf(stderr, "\r[eic] %.3f / %.3f s simulated (%3.0f%%), %.2fx real time, ETA %.1f s   ", sim,
            (double)total * p->dt, 100.0 * (double)done / (double)total, rtf, eta);
    p->shown = true;
}

static int runtime_failure(const RtError *e) {
    fprintf(stderr, "eic: runtime error: %s\n", e->msg);
    return EXIT_RUNTIME;
}

/* Compiles every population's update kernel and stores it in the descriptor. */
static int compile_kernels(Lowered *l, Jit **out, char *err, size_t errlen) {
    CgTarget t;
    if (cg_target_host(&t, err, errlen)) return -1;
    JitOptions jo = {.cache_dir = getenv("EIC_NO_CACHE") ? "" : NULL, .symbols = rt_abi_symbols};
    Jit *j = jit_create(&t, &jo, err, errlen);
    if (!j) return -1;
    *out = j;
    LLVMModuleRef m = cg_emit_model(jit_context(j), &t, &l->mir, err, errlen);
    if (!m || jit_add_module(j, m, err, errlen)) return -1;
    for (int k = 0; k < l->mir.npops; k++) {
        char name[64];
        cg_kernel_name(name, sizeof name, k);
        l->pops[l->mir_pop[k]].update = (RtUpdateFn)(uintptr_t)jit_lookup(j, name);
        if (!l->pops[l->mir_pop[k]].update) {
            snprintf(err, errlen, "kernel %s not found after compilation", name);
            return -1;
        }
    }
    return 0;
}

static void print_summary(RtSim *sim, const Lowered *l, const RtTimings *tm, const char *out_dir) {
    double dur = (double)rt_sim_now(sim) * l->desc.dt;
    printf("%-12s %10s %10s %10s\n", "population", "size", "spikes", "rate (Hz)");
    for (int i = 0; i < l->desc.npops; i++) {
        const RtPopDesc *p = &l->desc.pops[i];
        int64_t n = rt_sim_spike_count(sim, i);
        printf("%-12s %10lld %10lld %10.2f\n", p->name, (long long)p->size, (long long)n,
               dur > 0 ? (double)n / ((double)p->size * dur) : 0.0);
    }
    printf("time: parse %.3f s, compile %.3f s, build %.3f s, simulate %.3f s, total %.3f s (%d thread%s)\n",
           tm->parse_s, tm->compile_s, tm->build_s, tm->simulate_s, tm->total_s, rt_sim_threads(sim),
           rt_sim_threads(sim) == 1 ? "" : "s");
    if (out_dir) printf("results: %s/manifest.json\n", out_dir);
}

static const char *default_out_dir(Arena *a, const char *file) {
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    size_t n = strlen(base);
    if (n > 3 && !strcmp(base + n - 3, ".ei")) n -= 3;
    return arena_printf(a, "out/%.*s", (int)n, base);
}

/* Runs the simulation of `l`; returns the exit code. */
static int simulate(const DriverOptions *o, Lowered *l, RtTimings *tm, double t0, const char *out_dir) {
    RtRunOptions ro;
    rt_run_options_init(&ro);
    ro.seed = o->has_seed ? (uint64_t)o->seed : l->desc.seed;
    ro.threads = o->threads;
    ro.duration_s = o->duration_s;
    ro.out_dir = out_dir;
    ro.model_file = o->file;
    ro.eic_version = EIC_VERSION;
    ro.interrupt = &interrupted;
    ro.check_every = 100; /* NaN/inf found within 100 steps; checking every step costs ~2x */
    Progress pr = {.dt = l->desc.dt, .show = !o->quiet && (o->progress || isatty(2))};
    ro.progress = report_progress;
    ro.progress_ctx = &pr;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    RtError err = {0};
    double t1 = now_s();
    RtSim *sim = rt_sim_create(&l->desc, &ro, &err);
    if (!sim) return runtime_failure(&err);
    double t2 = now_s();
    tm->build_s = t2 - t1;
    pr.start = t2;
    RtErrorCode rc = rt_sim_run(sim, -1, &err);
    if (pr.shown) fputc('\n', stderr);
    tm->simulate_s = now_s() - t2;
    tm->total_s = now_s() - t0;
    RtError ferr = {0};
    RtErrorCode frc = rt_sim_finish(sim, tm, &ferr);
    if (!o->quiet) print_summary(sim, l, tm, out_dir);
    rt_sim_free(sim);
    if (rc != RT_OK) return runtime_failure(&err);
    if (frc != RT_OK) return runtime_failure(&ferr);
    return 0;
}

int driver_run(const DriverOptions *o) {
    double t0 = now_s();
    Session s;
    driver_open_session(&s, o);
    RtTimings tm = {0};
    if (!front_load(&s, o->file)) return driver_finish(&s, EXIT_MODEL_ERROR);
    Program *p = sema_check(&s);
    tm.parse_s = now_s() - t0;
    if (!p) return driver_finish(&s, EXIT_MODEL_ERROR);
    double t1 = now_s();
    Lowered *l = lower_program(p);
    if (!l || !lower_plan_odes(p, l)) return driver_finish(&s, EXIT_MODEL_ERROR);
    Jit *jit = NULL;
    char err[1024] = "";
    if (compile_kernels(l, &jit, err, sizeof err)) {
        fprintf(stderr, "eic: error: code generation failed: %s\n", err);
        if (jit) jit_free(jit);
        return driver_finish(&s, EXIT_RUNTIME);
    }
    tm.compile_s = now_s() - t1;
    const char *out_dir = o->output ? o->output : default_out_dir(&s.arena, o->file);
    int code = simulate(o, l, &tm, t0, out_dir);
    jit_free(jit);
    return driver_finish(&s, code);
}

/* Lowers and plans `o->file` for emit-llvm and check --explain. Returns NULL
 * (after diagnostics) on errors; the session must be finished by the caller. */
static Lowered *lower_for_inspection(Session *s, const DriverOptions *o, Program **prog) {
    if (!front_load(s, o->file)) return NULL;
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
    return driver_finish(&s, 0);
}
