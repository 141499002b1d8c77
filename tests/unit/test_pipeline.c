/* test_pipeline.c - Check suite `pipeline`: model text through the whole
 * compiler (front_load_text -> sema_check -> lower_program ->
 * lower_plan_odes -> cg_emit_model -> cg_optimize / JIT), checked at the IR
 * level and against the MIR interpreter.
 *
 * test_cg.c checks code generation on hand-built MIR; this suite makes sure
 * the properties hold for what the front end really produces from
 * examples/coba.ei and examples/cuba.ei: the neuron loop is vectorized and
 * has no calls (issue 3), populations with the same equations share one
 * kernel, and the JIT'd kernel computes what mir_exec says the MIR means.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg_llvm.h"
#include "frontend.h"
#include "jit.h"
#include "lower.h"
#include "mir_eval.h"
#include "rt_abi.h"
#include "sema.h"

#define CHECK(cond, ...) do { if (!(cond)) ck_abort_msg(__VA_ARGS__); } while (0)

static CgTarget tgt;

static void target(void)
{
    char err[256];
    ck_assert_msg(cg_target_host(&tgt, err, sizeof err) == 0, "%s", err);
}

/* A compile session over one example file, read into memory. */
typedef struct Compiled {
    Session s;
    char *text;
    Program *prog;
    Lowered *low;
} Compiled;

static void compile_example(Compiled *c, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/examples/%s", EIC_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    c->text = malloc((size_t)n + 1);
    ck_assert_int_eq(fread(c->text, 1, (size_t)n, f), (size_t)n);
    c->text[n] = 0;
    fclose(f);
    front_init(&c->s, NULL);
    ck_assert_msg(front_load_text(&c->s, name, c->text, (size_t)n), "%s: parse errors", name);
    c->prog = sema_check(&c->s);
    ck_assert_msg(c->prog != NULL, "%s: sema errors", name);
    c->low = lower_program(c->prog);
    ck_assert_msg(c->low != NULL, "%s: lowering failed", name);
    ck_assert_msg(lower_plan_odes(c->prog, c->low), "%s: ODE planning failed", name);
    ck_assert_int_eq(c->s.diags.nerrors, 0);
}

static void compiled_free(Compiled *c)
{
    front_free(&c->s);
    free(c->text);
}

/* ---- IR shape --------------------------------------------------------------- */

/* Every kernel function of the optimized module: <8|4 x double> vectors and
 * no call except LLVM intrinsics. Returns the number of kernel functions
 * (aliases of shared kernels are not functions). */
static int check_kernels_ir(LLVMModuleRef m)
{
    int nkernels = 0;
    for (LLVMValueRef fn = LLVMGetFirstFunction(m); fn; fn = LLVMGetNextFunction(fn)) {
        size_t len;
        const char *name = LLVMGetValueName2(fn, &len);
        if (LLVMIsDeclaration(fn) || strncmp(name, "eic_update_", 11) != 0)
            continue;
        nkernels++;
        char *ir = LLVMPrintValueToString(fn);
        if (getenv("EIC_CG_DUMP"))
            fputs(ir, stderr);
        ck_assert_msg(strstr(ir, "<8 x double>") || strstr(ir, "<4 x double>"),
                      "%s not vectorized:\n%s", name, ir);
        for (char *c = strstr(ir, " call "); c; c = strstr(c + 1, " call "))
            ck_assert_msg(strstr(c, "@llvm.") && strstr(c, "@llvm.") < strchr(c, '\n'),
                          "call in %s: %.120s", name, c);
        LLVMDisposeMessage(ir);
    }
    return nkernels;
}

/* Compiles `example`, optimizes it, checks every kernel; returns the number
 * of kernel functions and the number of populations in *npops. */
static int optimized_kernels(const char *example, int *npops)
{
    Compiled c;
    compile_example(&c, example);
    char err[512];
    LLVMContextRef cx = LLVMContextCreate();
    LLVMModuleRef m = cg_emit_model(cx, &tgt, &c.low->mir, err, sizeof err);
    ck_assert_msg(m != NULL, "%s", err);
    ck_assert_msg(cg_optimize(m, &tgt, err, sizeof err) == 0, "%s", err);
    int n = check_kernels_ir(m);
    for (int k = 0; k < c.low->mir.npops; k++) {   /* every population has its symbol */
        char name[64];
        cg_kernel_name(name, sizeof name, k);
        ck_assert_msg(LLVMGetNamedFunction(m, name) || LLVMGetNamedGlobalAlias(m, name, strlen(name)),
                      "no %s", name);
    }
    *npops = c.low->mir.npops;
    LLVMDisposeModule(m);
    LLVMContextDispose(cx);
    compiled_free(&c);
    return n;
}

/* COBA: conductance-based LIF (exponential Euler with an inline exp);
 * E and I have the same equations, hence one kernel. */
START_TEST(coba_from_text_vectorized_no_calls)
{
    int npops = 0;
    ck_assert_int_eq(optimized_kernels("coba.ei", &npops), 1);
    ck_assert_int_eq(npops, 2);
}
END_TEST

/* CUBA: current-based LIF with exponential currents (exact propagators). */
START_TEST(cuba_from_text_vectorized_no_calls)
{
    int npops = 0;
    ck_assert_int_eq(optimized_kernels("cuba.ei", &npops), 1);
    ck_assert_int_eq(npops, 2);
}
END_TEST

/* ---- the JIT'd kernel against the MIR interpreter ------------------------------ */

enum { NMAX_STATES = 8, NMAX_INPUTS = 8, NMAX_TEMPS = 64 };

/* One neuron through the kernel order of mir.h with mir_exec: on_input,
 * step, refractory clamp, threshold and reset. Returns whether it spiked. */
static bool ref_neuron(const MirPop *p, double *st, double *in, int64_t *ref_until,
                       int64_t step, double dt)
{
    double pre[NMAX_STATES], temps[NMAX_TEMPS] = {0};
    MirEnv env = {.states = st, .inputs = in, .temps = temps, .t = (double)step * dt, .dt = dt};
    memcpy(pre, st, sizeof(double) * (size_t)p->nstates);   /* clamp: start of the step */
    mir_exec(&p->on_input, &env);
    mir_exec(&p->step, &env);
    bool isref = p->refractory_s > 0 && step < *ref_until;
    if (isref)
        for (int c = 0; c < p->nclamped; c++)
            st[p->clamped[c]] = pre[p->clamped[c]];
    bool spk = !isref && p->threshold && mir_eval(p->threshold, &env) != 0.0;
    if (spk) {
        mir_exec(&p->reset, &env);
        if (p->refractory_s > 0)
            *ref_until = step + (int64_t)round(p->refractory_s / dt);
    }
    for (int k = 0; k < p->ninputs; k++)
        in[k] = 0;
    return spk;
}

/* COBA's population E from text, JIT'd, 300 steps on 1003 neurons with
 * random-looking input: each step, every neuron's states agree with the
 * interpreter (libm exp) to 1e-12 relative, and spikes and refractory
 * counters agree exactly. The reference restarts from the kernel's states
 * every step, so differences in the last bit cannot grow. */
START_TEST(coba_from_text_matches_interpreter)
{
    Compiled c;
    compile_example(&c, "coba.ei");
    const MirPop *p = &c.low->mir.pops[0];
    double dt = c.low->mir.dt;
    ck_assert(p->nstates <= NMAX_STATES && p->ninputs <= NMAX_INPUTS && p->ntemps <= NMAX_TEMPS);
    ck_assert_int_eq(p->nparams, 0);
    char err[512];
    JitOptions o = {.cache_dir = ""};
    Jit *j = jit_create(&tgt, &o, err, sizeof err);
    LLVMModuleRef m = cg_emit_model(jit_context(j), jit_target(j), &c.low->mir, err, sizeof err);
    ck_assert_msg(m && jit_add_module(j, m, err, sizeof err) == 0, "%s", err);
    void *addr = jit_lookup(j, "eic_update_0");
    ck_assert_ptr_nonnull(addr);
    RtUpdateFn f;
    memcpy(&f, &addr, sizeof f);

    const int64_t n = 1003;
    double *st[NMAX_STATES], *in[NMAX_INPUTS];
    for (int k = 0; k < p->nstates; k++) st[k] = calloc((size_t)n, sizeof(double));
    for (int k = 0; k < p->ninputs; k++) in[k] = calloc((size_t)n, sizeof(double));
    int64_t *ref = calloc((size_t)n, sizeof *ref);
    uint8_t *spk = calloc((size_t)n, 1);
    for (int64_t i = 0; i < n; i++)   /* V from -60 mV (below threshold) to -48 mV (above) */
        for (int k = 0; k < p->nstates; k++)
            st[k][i] = !strcmp(p->states[k].name, "V") ? -60e-3 + 1e-3 * (double)(i % 13)
                                                        : p->states[k].init_const * 0.1 * (double)(i % 3);
    RtPopArgs a = {.state = st, .input = in, .ref_until = ref, .spiked = spk, .dt = dt, .size = n};
    long spikes = 0;
    for (int s = 0; s < 300; s++) {
        for (int64_t i = 0; i < n; i++) {   /* E and I spikes arriving: 6 nS and 67 nS */
            if ((i * 31 + s * 17) % 3 == 0) in[0][i] += 6e-9;
            if (p->ninputs > 1 && (i * 13 + s * 5) % 23 == 0) in[1][i] += 67e-9;
        }
        double rst[NMAX_STATES * 1003], rin[NMAX_INPUTS * 1003];
        int64_t rref[1003];
        for (int64_t i = 0; i < n; i++) {
            for (int k = 0; k < p->nstates; k++) rst[i * NMAX_STATES + k] = st[k][i];
            for (int k = 0; k < p->ninputs; k++) rin[i * NMAX_INPUTS + k] = in[k][i];
            rref[i] = ref[i];
        }
        a.step = s;
        a.t = s * dt;
        f(&a, 0, n);
        for (int64_t i = 0; i < n; i++) {
            bool rs = ref_neuron(p, &rst[i * NMAX_STATES], &rin[i * NMAX_INPUTS], &rref[i], s, dt);
            CHECK(rs == (spk[i] != 0), "step %d neuron %ld: spike jit %d ref %d", s, (long)i, spk[i], rs);
            CHECK(rref[i] == ref[i], "step %d neuron %ld: ref_until", s, (long)i);
            for (int k = 0; k < p->nstates; k++) {
                double x = st[k][i], y = rst[i * NMAX_STATES + k];
                CHECK(fabs(x - y) <= 1e-12 * fabs(y) + 1e-300, "step %d neuron %ld %s: jit %.17g ref %.17g",
                      s, (long)i, p->states[k].name, x, y);
            }
            for (int k = 0; k < p->ninputs; k++)
                CHECK(in[k][i] == 0.0, "input not consumed");
            spikes += spk[i];
        }
    }
    ck_assert_msg(spikes > 200, "only %ld spikes: reset and refractoriness not exercised", spikes);
    for (int k = 0; k < p->nstates; k++) free(st[k]);
    for (int k = 0; k < p->ninputs; k++) free(in[k]);
    free(ref); free(spk);
    jit_free(j);
    compiled_free(&c);
}
END_TEST

Suite *pipeline_suite(void);
Suite *pipeline_suite(void)
{
    Suite *s = suite_create("pipeline");
    TCase *t = tcase_create("coba");
    tcase_add_unchecked_fixture(t, target, NULL);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, coba_from_text_vectorized_no_calls);
    tcase_add_test(t, cuba_from_text_vectorized_no_calls);
    tcase_add_test(t, coba_from_text_matches_interpreter);
    suite_add_tcase(s, t);
    return s;
}
