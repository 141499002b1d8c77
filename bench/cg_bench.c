/* cg_bench.c - code generation benchmarks (not a test; run bench/cg_bench.sh).
 *
 *   1. JIT latency of examples/coba.ei from parsed AST to callable kernels
 *      (sema, lower, ODE plan, codegen, JIT), per phase: cold (optimise +
 *      codegen + cache write) against an object cache hit, in one run.
 *   2. JIT latency for the hand-built COBA kernel, MIR to callable function.
 *   3. ns per neuron update of the JIT'd COBA kernel against the same update
 *      in C compiled with gcc -O3 -march=native -ffast-math
 *      (bench/coba_c_ref.c), measured in the same run, as a ratio.
 *   4. The same kernel with `precision float` against double.
 *
 * Options (to compare settings; see cg_set_tuning):
 *   --pipeline STR   LLVM pass pipeline instead of CG_PIPELINE
 *   --level N        back-end level 0..3 instead of CG_CODEGEN_LEVEL
 *   --model FILE     model for part 1 (default examples/coba.ei)
 *   --quick          skip the 10^6-neuron throughput run
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "cg_llvm.h"
#include "frontend.h"
#include "jit.h"
#include "lower.h"
#include "mir.h"
#include "rt_abi.h"
#include "sema.h"

void coba_c_update(const RtPopArgs *a, int64_t b, int64_t e);

static Arena A;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static MirExpr *K(double v) { return mir_const(&A, v); }
static MirExpr *L(MirOp op, int s) { return mir_leaf(&A, op, s); }
static MirExpr *B(MirOp op, MirExpr *x, MirExpr *y) { return mir_binary(&A, op, x, y); }
static MirExpr *EXP(MirExpr *x) { return mir_call(&A, MF_EXP, 1, &x); }

/* The COBA neuron of tests/unit/test_cg.c (Brian2 benchmark constants). */
static MirPop coba(int64_t n)
{
    static int clamped[1] = {0};
    MirPop p = {.name = "E", .size = n, .nstates = 3, .nparams = 1, .ninputs = 2, .ntemps = 2,
                .refractory_s = 5e-3, .clamped = clamped, .nclamped = 1};
    mir_push(&A, &p.on_input, mir_set(&A, 1, B(MX_ADD, L(MX_STATE, 1), L(MX_INPUT, 0))));
    mir_push(&A, &p.on_input, mir_set(&A, 2, B(MX_ADD, L(MX_STATE, 2), L(MX_INPUT, 1))));
    mir_push(&A, &p.on_input, mir_input_clear(&A, 0));
    mir_push(&A, &p.on_input, mir_input_clear(&A, 1));
    mir_push(&A, &p.step, mir_let(&A, 0, B(MX_ADD, B(MX_ADD, K(10e-9), L(MX_STATE, 1)), L(MX_STATE, 2))));
    MirExpr *num = B(MX_ADD, B(MX_ADD, B(MX_ADD, B(MX_MUL, K(10e-9), K(-60e-3)),
                                         B(MX_MUL, L(MX_STATE, 1), K(0.0))),
                                   B(MX_MUL, L(MX_STATE, 2), K(-80e-3))), L(MX_PARAM, 0));
    mir_push(&A, &p.step, mir_let(&A, 1, B(MX_DIV, num, L(MX_TEMP, 0))));
    MirExpr *decay = EXP(B(MX_DIV, mir_unary(&A, MX_NEG, B(MX_MUL, L(MX_TEMP, 0), L(MX_DT, 0))), K(200e-12)));
    mir_push(&A, &p.step, mir_set(&A, 0, B(MX_ADD, L(MX_TEMP, 1),
                                            B(MX_MUL, B(MX_SUB, L(MX_STATE, 0), L(MX_TEMP, 1)), decay))));
    MirExpr *mdt = mir_unary(&A, MX_NEG, L(MX_DT, 0));
    mir_push(&A, &p.step, mir_set(&A, 1, B(MX_MUL, L(MX_STATE, 1), EXP(B(MX_DIV, mdt, K(5e-3))))));
    mir_push(&A, &p.step, mir_set(&A, 2, B(MX_MUL, L(MX_STATE, 2), EXP(B(MX_DIV, mdt, K(10e-3))))));
    p.threshold = B(MX_GT, L(MX_STATE, 0), K(-50e-3));
    mir_push(&A, &p.reset, mir_set(&A, 0, K(-60e-3)));
    return p;
}

/* MIR -> callable kernel; returns seconds taken and the JIT in *out. */
static double jit_once(const CgTarget *t, const MirPop *p, const char *dir, Jit **out, RtUpdateFn *f)
{
    char err[512];
    double t0 = now();
    JitOptions o = {.cache_dir = dir};
    Jit *j = jit_create(t, &o, err, sizeof err);
    LLVMModuleRef m = j ? cg_module_create(jit_context(j), jit_target(j), "bench") : NULL;
    if (!j || cg_emit_pop(m, t, p, 0, err, sizeof err) || jit_add_module(j, m, err, sizeof err)) {
        fprintf(stderr, "cg_bench: %s\n", err);
        exit(1);
    }
    void *addr = jit_lookup(j, "eic_update_0");
    double dt = now() - t0;
    memcpy(f, &addr, sizeof *f);
    *out = j;
    return dt;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return v[n / 2];
}

static void latency(const CgTarget *t)
{
    enum { R = 7 };
    double cold[R], hit[R];
    MirPop p = coba(4000);
    for (int r = 0; r < R; r++) {
        char dir[] = "/tmp/eic_cg_benchXXXXXX", cmd[128];
        if (!mkdtemp(dir)) exit(1);
        Jit *j;
        RtUpdateFn f;
        cold[r] = jit_once(t, &p, dir, &j, &f);
        jit_free(j);
        hit[r] = jit_once(t, &p, dir, &j, &f);
        if (jit_stats(j)->cache_hits != 1) { fprintf(stderr, "cg_bench: no cache hit\n"); exit(1); }
        jit_free(j);
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0) exit(1);
    }
    printf("JIT latency, COBA kernel, MIR -> callable (median of %d):\n", R);
    printf("  cold (optimise + codegen + cache write): %8.2f ms\n", 1e3 * median(cold, R));
    printf("  object cache hit:                        %8.2f ms\n", 1e3 * median(hit, R));
}

typedef struct Pop {
    double *st[3], *par[1], *in[2];
    int64_t *ref;
    uint8_t *spk;
    RtPopArgs a;
} Pop;

static double *dalloc(int64_t n)
{
    double *p = aligned_alloc(64, (size_t)((n * 8 + 63) / 64 * 64));
    memset(p, 0, (size_t)n * 8);
    return p;
}

static void pop_init(Pop *p, int64_t n)
{
    for (int k = 0; k < 3; k++) p->st[k] = dalloc(n);
    p->par[0] = dalloc(n);
    p->in[0] = dalloc(n);
    p->in[1] = dalloc(n);
    p->ref = calloc((size_t)n, sizeof *p->ref);
    p->spk = calloc((size_t)n, 1);
    for (int64_t i = 0; i < n; i++) {
        p->st[0][i] = -65e-3 + (double)(i % 13) * 1e-3;
        p->par[0][i] = 0.08e-9 + 0.02e-9 * (double)(i % 10);
    }
    p->a = (RtPopArgs){.state = p->st, .param = p->par, .input = p->in, .ref_until = p->ref,
                       .spiked = p->spk, .dt = 1e-4, .size = n};
}

/* Runs `steps` steps from step s0; returns kernel seconds and adds spikes. */
static double run(RtUpdateFn f, Pop *p, int s0, int steps, long *spikes)
{
    double t = 0;
    int64_t n = p->a.size;
    for (int s = s0; s < s0 + steps; s++) {
        for (int64_t i = 0; i < n; i++) {
            p->in[0][i] += ((i * 31 + s * 17) % 7 == 0) ? 3e-9 : 0.0;
            p->in[1][i] += ((i * 13 + s * 5) % 11 == 0) ? 2e-9 : 0.0;
        }
        p->a.step = s;
        p->a.t = s * p->a.dt;
        double t0 = now();
        f(&p->a, 0, n);
        t += now() - t0;
        for (int64_t i = 0; i < n; i++) *spikes += p->spk[i];
    }
    return t;
}

static void throughput(const CgTarget *t, int64_t n, int steps)
{
    MirPop mp = coba(n);
    Jit *j;
    RtUpdateFn f;
    jit_once(t, &mp, "", &j, &f);
    Pop pj, pc;
    pop_init(&pj, n);
    pop_init(&pc, n);
    enum { TRIALS = 5 };
    double bj = 1e30, bc = 1e30;
    long sj = 0, sc = 0;
    for (int r = 0; r < TRIALS; r++) {   /* alternate so both see the same machine load */
        double tj = run(f, &pj, r * steps, steps, &sj);
        double tc = run(coba_c_update, &pc, r * steps, steps, &sc);
        bj = tj < bj ? tj : bj;
        bc = tc < bc ? tc : bc;
    }
    double nsj = 1e9 * bj / ((double)n * steps), nsc = 1e9 * bc / ((double)n * steps);
    printf("COBA update, %ld neurons x %d steps (best of %d):\n", (long)n, steps, TRIALS);
    printf("  JIT kernel:                     %6.3f ns/neuron  (%ld spikes)\n", nsj, sj);
    printf("  C, gcc -O3 -march=native -ffast-math: %6.3f ns/neuron  (%ld spikes)\n", nsc, sc);
    printf("  ratio JIT / C:                  %6.3f\n", nsj / nsc);
    jit_free(j);
}

/* `precision float` against double: the same COBA kernel JIT'd both ways,
 * ns per neuron update (part 4). */
static double run_float(RtUpdateFn f, float **st, float **in, RtPopArgs *a, int steps)
{
    double t = 0;
    for (int s = 0; s < steps; s++) {
        for (int64_t i = 0; i < a->size; i++) {
            in[0][i] += ((i * 31 + s * 17) % 7 == 0) ? 3e-9f : 0.0f;
            in[1][i] += ((i * 13 + s * 5) % 11 == 0) ? 2e-9f : 0.0f;
        }
        a->step = s;
        a->t = s * a->dt;
        double t0 = now();
        f(a, 0, a->size);
        t += now() - t0;
    }
    (void)st;
    return t;
}

static void throughput_float(const CgTarget *t, int64_t n, int steps)
{
    MirPop mp = coba(n);
    mp.use_float = true;
    Jit *j;
    RtUpdateFn ff, fd;
    jit_once(t, &mp, "", &j, &ff);
    Jit *jd;
    MirPop md = coba(n);
    jit_once(t, &md, "", &jd, &fd);
    float *st[3], *par[1], *in[2];
    for (int k = 0; k < 3; k++) st[k] = aligned_alloc(64, (size_t)((n * 4 + 63) / 64 * 64));
    par[0] = aligned_alloc(64, (size_t)((n * 4 + 63) / 64 * 64));
    for (int k = 0; k < 2; k++) in[k] = calloc((size_t)n, 4);
    for (int64_t i = 0; i < n; i++) {
        st[0][i] = (float)(-65e-3 + (double)(i % 13) * 1e-3);
        st[1][i] = st[2][i] = 0;
        par[0][i] = (float)(0.08e-9 + 0.02e-9 * (double)(i % 10));
    }
    int64_t *ref = calloc((size_t)n, 8);
    uint8_t *spk = calloc((size_t)n, 1);
    RtPopArgs a = {.state = (double *const *)st, .param = (double *const *)par,
                   .input = (double *const *)in, .ref_until = ref, .spiked = spk, .dt = 1e-4, .size = n};
    Pop pd;
    pop_init(&pd, n);
    double bf = 1e30, bd = 1e30;
    long sd = 0;
    for (int r = 0; r < 5; r++) {
        double tf = run_float(ff, st, in, &a, steps);
        double td = run(fd, &pd, r * steps, steps, &sd);
        bf = tf < bf ? tf : bf;
        bd = td < bd ? td : bd;
    }
    double nsf = 1e9 * bf / ((double)n * steps), nsd = 1e9 * bd / ((double)n * steps);
    printf("COBA update, precision float vs double, %ld neurons x %d steps (best of 5):\n", (long)n, steps);
    printf("  JIT float kernel:               %6.3f ns/neuron\n", nsf);
    printf("  JIT double kernel:              %6.3f ns/neuron\n", nsd);
    printf("  ratio float / double:           %6.3f\n", nsf / nsd);
    jit_free(j);
    jit_free(jd);
}

/* ---- part 1: the whole front end, per phase ---------------------------------- */

enum { PH_SEMA, PH_LOWER, PH_ODE, PH_SETUP, PH_EMIT, PH_KEY, PH_CACHE, PH_OPT, PH_CODEGEN,
       PH_LINK, PH_TOTAL, PH__N };
static const char *const ph_names[PH__N] = {
    "sema", "lower", "ode plan", "target + jit create", "cg emit", "cache key", "cache io",
    "optimize", "codegen (object)", "jit link", "AST -> kernels"};

/* Loads `file`, then times AST -> callable kernels into ms[PH__N]; the
 * cache directory `dir` decides cold or hit. Returns the number of kernels. */
static int frontend_once(const char *file, const char *dir, double *ms, int *hit)
{
    Session s;
    front_init(&s, stderr);
    if (!front_load(&s, file)) exit(1);
    double t[8];
    t[0] = now();
    Program *p = sema_check(&s);
    t[1] = now();
    Lowered *l = p ? lower_program(p) : NULL;
    t[2] = now();
    if (!l || !lower_plan_odes(p, l)) { fprintf(stderr, "cg_bench: %s does not compile\n", file); exit(1); }
    t[3] = now();
    char err[512];
    CgTarget tg;
    JitOptions o = {.cache_dir = dir, .symbols = rt_abi_symbols};
    Jit *j = cg_target_host(&tg, err, sizeof err) ? NULL : jit_create(&tg, &o, err, sizeof err);
    t[4] = now();
    LLVMModuleRef m = j ? cg_emit_model(jit_context(j), jit_target(j), &l->mir, err, sizeof err) : NULL;
    t[5] = now();
    if (!m || jit_add_module(j, m, err, sizeof err)) { fprintf(stderr, "cg_bench: %s\n", err); exit(1); }
    for (int k = 0; k < l->mir.npops; k++) {
        char name[64];
        cg_kernel_name(name, sizeof name, k);
        if (!jit_lookup(j, name)) { fprintf(stderr, "cg_bench: no %s\n", name); exit(1); }
    }
    t[6] = now();
    const JitStats *st = jit_stats(j);
    for (int k = 0; k < 5; k++) ms[k] = 1e3 * (t[k + 1] - t[k]);
    ms[PH_KEY] = st->key_ms;
    ms[PH_CACHE] = st->cache_ms;
    ms[PH_OPT] = st->optimize_ms;
    ms[PH_CODEGEN] = st->codegen_ms;
    ms[PH_LINK] = st->link_ms;
    ms[PH_TOTAL] = 1e3 * (t[6] - t[0]);
    *hit = st->cache_hits;
    int n = l->mir.npops;
    jit_free(j);
    front_free(&s);
    return n;
}

static void frontend_latency(const char *file)
{
    enum { R = 9 };
    double cold[PH__N][R], hot[PH__N][R], ms[PH__N];
    int npops = 0, hit;
    for (int r = 0; r < R; r++) {
        char dir[] = "/tmp/eic_cg_benchXXXXXX", cmd[128];
        if (!mkdtemp(dir)) exit(1);
        npops = frontend_once(file, dir, ms, &hit);
        for (int k = 0; k < PH__N; k++) cold[k][r] = ms[k];
        frontend_once(file, dir, ms, &hit);
        if (!hit) { fprintf(stderr, "cg_bench: no cache hit\n"); exit(1); }
        for (int k = 0; k < PH__N; k++) hot[k][r] = ms[k];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0) exit(1);
    }
    printf("JIT latency, %s (%d populations), parsed AST -> callable kernels, ms (median of %d):\n",
           file, npops, R);
    printf("  %-22s %9s %9s\n", "phase", "cold", "cache hit");
    for (int k = 0; k < PH__N; k++)
        printf("  %-22s %9.2f %9.2f\n", ph_names[k], median(cold[k], R), median(hot[k], R));
    printf("  ratio cold / cache hit: %.1f\n", median(cold[PH_TOTAL], R) / median(hot[PH_TOTAL], R));
}

int main(int argc, char **argv)
{
    char err[256];
    CgTarget t;
    const char *pipeline = NULL, *model = EIC_SOURCE_DIR "/examples/coba.ei";
    int level = -1, quick = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--pipeline") && i + 1 < argc) pipeline = argv[++i];
        else if (!strcmp(argv[i], "--level") && i + 1 < argc) level = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
        else if (!strcmp(argv[i], "--quick")) quick = 1;
        else { fprintf(stderr, "usage: cg_bench [--pipeline STR] [--level N] [--model FILE] [--quick]\n"); return 2; }
    }
    cg_set_tuning(pipeline, level);
    arena_init(&A);
    if (cg_target_host(&t, err, sizeof err)) {
        fprintf(stderr, "cg_bench: %s\n", err);
        return 1;
    }
    printf("host: %s, cpu %s, fma %s\n", t.triple, t.cpu, t.fma ? "yes" : "no");
    printf("tuning: %s\n", cg_tuning_desc());
    frontend_latency(model);
    latency(&t);
    throughput(&t, 4000, 2000);
    throughput_float(&t, 4000, 2000);
    if (!quick)
        throughput(&t, 1000000, 20);
    arena_free(&A);
    return 0;
}
