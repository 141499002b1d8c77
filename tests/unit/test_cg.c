/* test_cg.c - Check suite `cg`: polynomial exp accuracy, JIT'd update kernels
 * against C evaluations of the same formulas (double and `precision float`),
 * IR shape (vectorized, no calls; float at twice the width), kernel sharing
 * between identical populations, the object cache, and AOT objects linked
 * with a C main.
 *
 * MIR is built by hand with the static helpers below (explicit `step`
 * blocks: an exact-decay LIF and a COBA neuron with exponential Euler), so the
 * suite does not depend on sema or ode.c.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "cg_llvm.h"
#include "cg_math.h"
#include "jit.h"
#include "mir.h"
#include "rt_abi.h"
#include "ulp_test.h"

/* A check for hot loops: ck_assert writes a message per call (20 million
 * writes made this suite take 20 s), this only on failure. */
#define CHECK(cond, ...) do { if (!(cond)) ck_abort_msg(__VA_ARGS__); } while (0)

/* ---- MIR helpers (local: the suite must not depend on mir.c) ------------- */

static Arena ta;

static MirExpr *node(MirOp op, int n, MirExpr *a, MirExpr *b)
{
    MirExpr *e = ARENA_NEW(&ta, MirExpr);
    e->op = op;
    e->nargs = n;
    e->args = ARENA_ARRAY(&ta, MirExpr *, 2);
    e->args[0] = a;
    e->args[1] = b;
    return e;
}
static MirExpr *K(double v) { MirExpr *e = node(MX_CONST, 0, NULL, NULL); e->value = v; return e; }
static MirExpr *leaf(MirOp op, int slot) { MirExpr *e = node(op, 0, NULL, NULL); e->slot = slot; return e; }
static MirExpr *S(int s) { return leaf(MX_STATE, s); }
static MirExpr *IN(int s) { return leaf(MX_INPUT, s); }
static MirExpr *TMP(int s) { return leaf(MX_TEMP, s); }
static MirExpr *PAR(int s) { return leaf(MX_PARAM, s); }
static MirExpr *ADD(MirExpr *a, MirExpr *b) { return node(MX_ADD, 2, a, b); }
static MirExpr *SUB(MirExpr *a, MirExpr *b) { return node(MX_SUB, 2, a, b); }
static MirExpr *MUL(MirExpr *a, MirExpr *b) { return node(MX_MUL, 2, a, b); }
static MirExpr *DIV(MirExpr *a, MirExpr *b) { return node(MX_DIV, 2, a, b); }
static MirExpr *NEG(MirExpr *a) { return node(MX_NEG, 1, a, NULL); }
static MirExpr *EXP(MirExpr *a) { MirExpr *e = node(MX_CALL, 1, a, NULL); e->fn = MF_EXP; return e; }

static MirStmt *stmt(MirStmtKind k, int slot, MirExpr *v)
{
    MirStmt *s = ARENA_NEW(&ta, MirStmt);
    s->kind = k;
    s->slot = slot;
    s->value = v;
    return s;
}
static void push(MirBlock *b, MirStmt *s)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 8;
        b->v = arena_grow(&ta, b->v, (size_t)b->n, (size_t)b->cap, sizeof *b->v);
    }
    b->v[b->n++] = s;
}

static void setup(void) { arena_init(&ta); }
static void teardown(void) { arena_free(&ta); }

/* ---- models -------------------------------------------------------------- */

#define DT 1e-4
/* LIF, exact decay */
#define L_EL (-65e-3)
#define L_VTH (-50e-3)
#define L_VRESET (-70e-3)
#define L_TAU 20e-3
#define L_TREF 2e-3
/* COBA (Brian2's benchmark constants), exponential Euler */
#define C_CM 200e-12
#define C_GL 10e-9
#define C_EL (-60e-3)
#define C_EE 0.0
#define C_EI (-80e-3)
#define C_TAUE 5e-3
#define C_TAUI 10e-3
#define C_VTH (-50e-3)
#define C_VR (-60e-3)
#define C_TREF 5e-3

static int clamp_v[1] = {0};

/* V: on_input V += in0; step V = EL + (V - EL)*P; threshold V > Vth. */
static MirPop lif_pop(void)
{
    MirPop p = {.name = "E", .nstates = 1, .ninputs = 1, .refractory_s = L_TREF,
                .clamped = clamp_v, .nclamped = 1};
    push(&p.on_input, stmt(MIR_SET, 0, ADD(S(0), IN(0))));
    push(&p.on_input, stmt(MIR_INPUT_CLEAR, 0, NULL));
    push(&p.step, stmt(MIR_SET, 0, ADD(K(L_EL), MUL(SUB(S(0), K(L_EL)), K(exp(-DT / L_TAU))))));
    p.threshold = node(MX_GT, 2, S(0), K(L_VTH));
    push(&p.reset, stmt(MIR_SET, 0, K(L_VRESET)));
    return p;
}

/* States V, ge, gi; parameter Ib (per neuron); inputs e, i. */
static MirPop coba_pop(void)
{
    MirPop p = {.name = "E", .nstates = 3, .nparams = 1, .ninputs = 2, .ntemps = 2,
                .refractory_s = C_TREF, .clamped = clamp_v, .nclamped = 1};
    push(&p.on_input, stmt(MIR_SET, 1, ADD(S(1), IN(0))));
    push(&p.on_input, stmt(MIR_SET, 2, ADD(S(2), IN(1))));
    push(&p.on_input, stmt(MIR_INPUT_CLEAR, 0, NULL));
    push(&p.on_input, stmt(MIR_INPUT_CLEAR, 1, NULL));
    push(&p.step, stmt(MIR_LET, 0, ADD(ADD(K(C_GL), S(1)), S(2))));
    MirExpr *num = ADD(ADD(ADD(MUL(K(C_GL), K(C_EL)), MUL(S(1), K(C_EE))), MUL(S(2), K(C_EI))), PAR(0));
    push(&p.step, stmt(MIR_LET, 1, DIV(num, TMP(0))));
    MirExpr *decay = EXP(DIV(NEG(MUL(TMP(0), leaf(MX_DT, 0))), K(C_CM)));
    push(&p.step, stmt(MIR_SET, 0, ADD(TMP(1), MUL(SUB(S(0), TMP(1)), decay))));
    push(&p.step, stmt(MIR_SET, 1, MUL(S(1), EXP(DIV(NEG(leaf(MX_DT, 0)), K(C_TAUE))))));
    push(&p.step, stmt(MIR_SET, 2, MUL(S(2), EXP(DIV(NEG(leaf(MX_DT, 0)), K(C_TAUI))))));
    p.threshold = node(MX_GT, 2, S(0), K(C_VTH));
    push(&p.reset, stmt(MIR_SET, 0, K(C_VR)));
    return p;
}

/* The C evaluation of the same formulas, in the same order (compiled
 * without contraction, as C11 requires by default in gcc's ISO mode). */
static bool g_fma;
static void lif_ref(const RtPopArgs *a, int64_t b, int64_t e)
{
    double *v = a->state[0], *in = a->input[0];
    int64_t nref = (int64_t)round(L_TREF / a->dt);
    for (int64_t i = b; i < e; i++) {
        double pre = v[i], V = v[i] + in[i];   /* the clamp restores the start of the step */
        in[i] = 0;
        V = L_EL + (V - L_EL) * exp(-DT / L_TAU);
        bool isref = a->step < a->ref_until[i];
        if (isref) V = pre;
        bool spk = !isref && V > L_VTH;
        if (spk) { V = L_VRESET; a->ref_until[i] = a->step + nref; }
        v[i] = V;
        a->spiked[i] = spk;
    }
}

static void coba_ref(const RtPopArgs *a, int64_t b, int64_t e)
{
    double *v = a->state[0], *ge = a->state[1], *gi = a->state[2], *ib = a->param[0];
    int64_t nref = (int64_t)round(C_TREF / a->dt);
    for (int64_t i = b; i < e; i++) {
        double V = v[i], Ge = ge[i] + a->input[0][i], Gi = gi[i] + a->input[1][i];
        a->input[0][i] = a->input[1][i] = 0;
        double pre = V;
        double gt = (C_GL + Ge) + Gi;
        double vinf = ((((C_GL * C_EL) + Ge * C_EE) + Gi * C_EI) + ib[i]) / gt;
        V = vinf + (V - vinf) * cg_exp_ref(-(gt * a->dt) / C_CM, g_fma);
        Ge = Ge * cg_exp_ref(-a->dt / C_TAUE, g_fma);
        Gi = Gi * cg_exp_ref(-a->dt / C_TAUI, g_fma);
        bool isref = a->step < a->ref_until[i];
        if (isref) V = pre;
        bool spk = !isref && V > C_VTH;
        if (spk) { V = C_VR; a->ref_until[i] = a->step + nref; }
        v[i] = V; ge[i] = Ge; gi[i] = Gi;
        a->spiked[i] = spk;
    }
}

/* The driver, shared verbatim (as a macro) with the AOT main below so that
 * both runs see the same inputs. */
#define DRIVER_CODE(...) __VA_ARGS__
#define STRV(...) #__VA_ARGS__
#define XSTRV(...) STRV(__VA_ARGS__)
#define DRIVER \
static void drv_init(double *const *st, int ns, double *const *par, int np, int64_t n) { \
    for (int64_t i = 0; i < n; i++) { \
        st[0][i] = -65e-3 + (double)(i % 13) * 1e-3; \
        for (int k = 1; k < ns; k++) st[k][i] = 0.0; \
        for (int k = 0; k < np; k++) par[k][i] = 0.08e-9 + 0.02e-9 * (double)(i % 10); \
    } \
} \
static long drv_run(void (*f)(const RtPopArgs *, int64_t, int64_t), RtPopArgs *a, int ni, \
                    int steps, double w0, double w1, const int64_t *cuts, int ncuts) { \
    long spikes = 0; \
    for (int s = 0; s < steps; s++) { \
        a->step = s; a->t = s * a->dt; \
        for (int64_t i = 0; i < a->size; i++) { \
            a->input[0][i] += ((i * 31 + s * 17) % 7 == 0) ? w0 : 0.0; \
            if (ni > 1) a->input[1][i] += ((i * 13 + s * 5) % 11 == 0) ? w1 : 0.0; \
        } \
        for (int c = 0; c + 1 < ncuts; c++) f(a, cuts[c], cuts[c + 1]); \
        for (int64_t i = 0; i < a->size; i++) spikes += a->spiked[i]; \
    } \
    return spikes; \
}
DRIVER_CODE(DRIVER)

/* Arrays of one population, 64-byte aligned like the runtime's. */
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

static void pop_init(Pop *p, const MirPop *m, int64_t n)
{
    memset(p, 0, sizeof *p);
    for (int k = 0; k < 3; k++) p->st[k] = dalloc(n);
    p->par[0] = dalloc(n);
    for (int k = 0; k < 2; k++) p->in[k] = dalloc(n);
    p->ref = calloc((size_t)n, sizeof *p->ref);
    p->spk = calloc((size_t)n, 1);
    p->a = (RtPopArgs){.state = p->st, .param = p->par, .input = p->in, .ref_until = p->ref,
                       .spiked = p->spk, .dt = DT, .size = n};
    drv_init(p->st, m->nstates, p->par, m->nparams, n);
}

static void pop_free(Pop *p)
{
    for (int k = 0; k < 3; k++) free(p->st[k]);
    free(p->par[0]); free(p->in[0]); free(p->in[1]); free(p->ref); free(p->spk);
}

/* Bitwise equality of the states of two populations. */
static void assert_same_states(const Pop *x, const Pop *y, int ns, int64_t n)
{
    for (int k = 0; k < ns; k++)
        for (int64_t i = 0; i < n; i++)
            CHECK(memcmp(&x->st[k][i], &y->st[k][i], 8) == 0,
                          "state %d neuron %ld: %.17g vs %.17g", k, (long)i, x->st[k][i], y->st[k][i]);
}

/* ---- JIT helpers ------------------------------------------------------------ */

static CgTarget tgt;

static void target(void)
{
    char err[256];
    ck_assert_msg(cg_target_host(&tgt, err, sizeof err) == 0, "%s", err);
    g_fma = tgt.fma;
}

/* JIT (no cache unless dir) one population's module; returns its kernel. */
static RtUpdateFn jit_pop(Jit **out, const MirPop *p, const char *cache_dir)
{
    char err[512];
    JitOptions o = {.cache_dir = cache_dir ? cache_dir : ""};
    Jit *j = jit_create(&tgt, &o, err, sizeof err);
    ck_assert_msg(j != NULL, "%s", err);
    LLVMModuleRef m = cg_module_create(jit_context(j), &tgt, "test");
    ck_assert_msg(cg_emit_pop(m, &tgt, p, 0, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(jit_add_module(j, m, err, sizeof err) == 0, "%s", err);
    RtUpdateFn f;
    void *addr = jit_lookup(j, "eic_update_0");
    ck_assert_ptr_nonnull(addr);
    memcpy(&f, &addr, sizeof f);
    *out = j;
    return f;
}

/* ---- exp accuracy ------------------------------------------------------------ */

/* 10^7 points over [-700, 700] (the grid is offset so that points do not
 * fall on round numbers), both FMA variants; plus monotonicity on the grid. */
START_TEST(exp_double_accuracy)
{
    for (int f = 0; f < 2; f++) {
        double worst = 0, at = 0, prev = 0;
        const int n = 10000000;
        for (int i = 0; i <= n; i++) {
            double x = -700.0 + 1400.0 * ((double)i + 0.3183) / n;
            double y = cg_exp_ref(x, f);
            double u = ulp_err(y, exp(x));
            if (u > worst) { worst = u; at = x; }
            CHECK(y >= prev, "not monotone at %a", x);
            prev = y;
        }
        ck_assert_msg(worst <= 2.0, "fma=%d: %.3f ulp at %.17g", f, worst, at);
        ck_assert(cg_exp_ref(0.0, f) == 1.0);
        ck_assert(cg_exp_ref(-0.0, f) == 1.0);
        ck_assert(isinf(cg_exp_ref(710.0, f)) && cg_exp_ref(-800.0, f) == 0.0);
        ck_assert(isnan(cg_exp_ref(NAN, f)));
        ck_assert(ulp_err(cg_exp_ref(-740.0, f), exp(-740.0)) <= 2.0);   /* subnormal result */
    }
}
END_TEST

/* Monotone across consecutive doubles where the reduction switches n
 * (x = (k + 1/2) ln 2), and around 0. */
START_TEST(exp_double_monotone_at_boundaries)
{
    for (int k = -20; k <= 20; k++) {
        double x = (k + 0.5) * 0.69314718055994530942;
        for (int j = 0; j < 2000; j++) x = nextafter(x, -INFINITY);
        double prev = cg_exp_ref(x, tgt.fma);
        for (int j = 0; j < 4000; j++) {
            x = nextafter(x, INFINITY);
            double y = cg_exp_ref(x, tgt.fma);
            CHECK(y >= prev, "exp not monotone at %a", x);
            prev = y;
        }
    }
}
END_TEST

/* Floats in [-87, 88]: every 257th bit pattern (about 8.6 million). */
START_TEST(exp_float_accuracy)
{
    for (int f = 0; f < 2; f++) {
        double worst = 0;
        float at = 0;
        long count = 0;
        uint32_t lim[2] = {0xC2AE0000u /* -87 */, 0x42B00000u /* 88 */};
        for (int sgn = 0; sgn < 2; sgn++) {
            uint32_t top = sgn ? lim[1] : lim[0], base = sgn ? 0 : 0x80000000u;
            for (uint64_t b = base; b <= top; b += 257) {
                uint32_t bb = (uint32_t)b;
                float x;
                memcpy(&x, &bb, 4);
                double u = ulp_errf(cg_expf_ref(x, f), expf(x));
                if (u > worst) { worst = u; at = x; }
                count++;
            }
        }
        ck_assert(count > 8000000);
        ck_assert_msg(worst <= 2.0, "fma=%d: %.3f ulp at %.9g", f, worst, (double)at);
        ck_assert(cg_expf_ref(0.0f, f) == 1.0f);
        ck_assert(isinf(cg_expf_ref(89.0f, f)) && cg_expf_ref(-104.0f, f) == 0.0f);
        float prev = 0;
        for (float x = -87.0f; x < 88.0f; x += 0.001f) {
            float y = cg_expf_ref(x, f);
            CHECK(y >= prev, "expf not monotone at %a", (double)x);
            prev = y;
        }
    }
}
END_TEST

/* The JIT'd inline exp equals the C reference bit for bit, through the
 * vectorized loop: a population whose step is x = exp(x). */
START_TEST(exp_ir_matches_reference)
{
    MirPop p = {.name = "x", .nstates = 1};
    push(&p.step, stmt(MIR_SET, 0, EXP(S(0))));
    Jit *j;
    RtUpdateFn f = jit_pop(&j, &p, NULL);
    const int64_t n = 100003;
    double *x = dalloc(n), *x0 = dalloc(n);
    for (int64_t i = 0; i < n; i++)
        x[i] = x0[i] = -745.0 + 1455.0 * (double)i / (double)n;
    uint8_t *spk = calloc((size_t)n, 1);
    RtPopArgs a = {.state = &x, .spiked = spk, .dt = DT, .size = n};
    f(&a, 0, n);
    for (int64_t i = 0; i < n; i++) {
        double r = cg_exp_ref(x0[i], tgt.fma);
        CHECK(memcmp(&r, &x[i], 8) == 0, "exp(%.17g): jit %a ref %a", x0[i], x[i], r);
    }
    free(x); free(x0); free(spk);
    jit_free(j);
}
END_TEST

/* ---- kernels against C ------------------------------------------------------- */

/* Runs model `p` for `steps` steps with the JIT, once over [0, n) and once
 * over uneven ranges, and once with the C reference; all three must agree
 * bit for bit, and neurons must have spiked. */
static void check_kernel(const MirPop *p, void (*ref)(const RtPopArgs *, int64_t, int64_t),
                         double w0, double w1)
{
    const int64_t n = 1003;   /* not a multiple of any vector width */
    const int steps = 400;
    Jit *j;
    RtUpdateFn f = jit_pop(&j, p, NULL);
    Pop a, b, c;
    pop_init(&a, p, n); pop_init(&b, p, n); pop_init(&c, p, n);
    int64_t whole[2] = {0, n}, parts[5] = {0, 7, 8, 500, n};
    long sa = drv_run(f, &a.a, p->ninputs, steps, w0, w1, whole, 2);
    long sb = drv_run(f, &b.a, p->ninputs, steps, w0, w1, parts, 5);
    long sc = drv_run(ref, &c.a, p->ninputs, steps, w0, w1, whole, 2);
    ck_assert_msg(sa > n / 4, "only %ld spikes: the test would not exercise reset", sa);
    ck_assert_int_eq(sa, sb);
    ck_assert_int_eq(sa, sc);
    assert_same_states(&a, &b, p->nstates, n);
    assert_same_states(&a, &c, p->nstates, n);
    ck_assert(memcmp(a.ref, c.ref, (size_t)n * 8) == 0);
    for (int64_t i = 0; i < n; i++)
        CHECK(a.in[0][i] == 0.0, "input %ld not consumed", (long)i);
    pop_free(&a); pop_free(&b); pop_free(&c);
    jit_free(j);
}

START_TEST(lif_kernel_matches_c)
{
    MirPop p = lif_pop();
    check_kernel(&p, lif_ref, 1.5e-3, 0);
}
END_TEST

START_TEST(coba_kernel_matches_c)
{
    MirPop p = coba_pop();
    check_kernel(&p, coba_ref, 3e-9, 2e-9);
}
END_TEST

/* A MIR_IF in `step` (if-converted into selects) and a temp set in only one
 * branch: x = (x > 0.5) ? x - 1 : x + 0.25, via the statement form. */
START_TEST(if_statement_kernel)
{
    MirPop p = {.name = "x", .nstates = 1, .ntemps = 1};
    MirStmt *s = stmt(MIR_IF, 0, node(MX_GT, 2, S(0), K(0.5)));
    push(&s->then, stmt(MIR_SET, 0, SUB(S(0), K(1.0))));
    push(&s->else_, stmt(MIR_LET, 0, K(0.25)));
    push(&s->else_, stmt(MIR_SET, 0, ADD(S(0), TMP(0))));
    push(&p.step, s);
    Jit *j;
    RtUpdateFn f = jit_pop(&j, &p, NULL);
    const int64_t n = 37;
    double *x = dalloc(n);
    uint8_t spk[37];
    for (int64_t i = 0; i < n; i++) x[i] = (double)i / 10.0;
    RtPopArgs a = {.state = &x, .spiked = spk, .dt = DT, .size = n};
    f(&a, 0, n);
    for (int64_t i = 0; i < n; i++) {
        double x0 = (double)i / 10.0;
        ck_assert(x[i] == (x0 > 0.5 ? x0 - 1.0 : x0 + 0.25));
        ck_assert(spk[i] == 0);
    }
    free(x);
    jit_free(j);
}
END_TEST

/* ---- IR shape ------------------------------------------------------------------ */

/* The optimized IR of eic_update_0 for `p`: must contain <N x double>
 * vectors and no call except LLVM intrinsics. */
static void check_ir(const MirPop *p)
{
    char err[512];
    LLVMContextRef cx = LLVMContextCreate();
    LLVMModuleRef m = cg_module_create(cx, &tgt, "ir");
    ck_assert_msg(cg_emit_pop(m, &tgt, p, 0, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(cg_optimize(m, &tgt, err, sizeof err) == 0, "%s", err);
    char *ir = LLVMPrintValueToString(LLVMGetNamedFunction(m, "eic_update_0"));
    if (getenv("EIC_CG_DUMP"))   /* for looking at the generated loop */
        fputs(ir, stderr);
    ck_assert_msg(strstr(ir, "<8 x double>") || strstr(ir, "<4 x double>"), "not vectorized:\n%s", ir);
    for (char *c = strstr(ir, " call "); c; c = strstr(c + 1, " call "))
        ck_assert_msg(strstr(c, "@llvm.") && strstr(c, "@llvm.") < strchr(c, '\n'),
                      "call in kernel: %.120s", c);
    ck_assert(strstr(ir, "noalias") || strstr(ir, "!alias.scope"));
    LLVMDisposeMessage(ir);
    LLVMDisposeModule(m);
    LLVMContextDispose(cx);
}

START_TEST(ir_lif_vectorized_no_calls)
{
    MirPop p = lif_pop();
    check_ir(&p);
}
END_TEST

START_TEST(ir_coba_vectorized_no_calls)
{
    MirPop p = coba_pop();
    check_ir(&p);
}
END_TEST

/* ---- one kernel per distinct population ------------------------------------------ */

/* Populations with the same MIR (names and sizes aside) share one kernel:
 * eic_update_1 is an alias of eic_update_0; a population that differs in
 * one constant gets its own. All three are callable through the JIT, and
 * the shared kernel computes the second population's neurons correctly. */
START_TEST(identical_populations_share_a_kernel)
{
    MirPop pops[3] = {lif_pop(), lif_pop(), lif_pop()};
    pops[0].size = 100;
    pops[1].name = "I";        /* same model, other name and size */
    pops[1].size = 7;
    pops[2].name = "J";
    pops[2].reset.v[0]->value = K(L_VRESET - 1e-3);   /* one constant differs */
    MirModel model = {.pops = pops, .npops = 3, .dt = DT};
    char err[512];
    JitOptions o = {.cache_dir = ""};
    Jit *j = jit_create(&tgt, &o, err, sizeof err);
    ck_assert_msg(j != NULL, "%s", err);
    LLVMModuleRef m = cg_emit_model(jit_context(j), jit_target(j), &model, err, sizeof err);
    ck_assert_msg(m != NULL, "%s", err);
    ck_assert_ptr_nonnull(LLVMGetNamedGlobalAlias(m, "eic_update_1", strlen("eic_update_1")));
    ck_assert_ptr_null(LLVMGetNamedFunction(m, "eic_update_1"));
    ck_assert_ptr_nonnull(LLVMGetNamedFunction(m, "eic_update_0"));
    ck_assert_ptr_nonnull(LLVMGetNamedFunction(m, "eic_update_2"));
    ck_assert_ptr_null(LLVMGetNamedFunction(m, "eic_update_1.body"));
    ck_assert_msg(jit_add_module(j, m, err, sizeof err) == 0, "%s", err);
    void *k0 = jit_lookup(j, "eic_update_0"), *k1 = jit_lookup(j, "eic_update_1");
    void *k2 = jit_lookup(j, "eic_update_2");
    ck_assert(k0 && k1 && k2);
    ck_assert_ptr_eq(k0, k1);
    ck_assert_ptr_ne(k0, k2);
    /* the shared kernel against the C reference on population 1's data */
    RtUpdateFn f;
    memcpy(&f, &k1, sizeof f);
    Pop a, c;
    pop_init(&a, &pops[1], 203); pop_init(&c, &pops[1], 203);
    int64_t whole[2] = {0, 203};
    long sa = drv_run(f, &a.a, 1, 300, 1.5e-3, 0, whole, 2);
    long sc = drv_run(lif_ref, &c.a, 1, 300, 1.5e-3, 0, whole, 2);
    ck_assert(sa > 50);
    ck_assert_int_eq(sa, sc);
    assert_same_states(&a, &c, 1, 203);
    pop_free(&a); pop_free(&c);
    jit_free(j);
}
END_TEST

/* ---- precision float -------------------------------------------------------------- */

/* The COBA update of coba_ref in float, the way a float kernel computes it:
 * every constant rounded to float, t and dt converted once, float exp
 * (cg_expf_ref); the refractory step count from double dt. */
static void coba_ref_f(const RtPopArgs *a, int64_t b, int64_t e)
{
    float *v = (float *)a->state[0], *ge = (float *)a->state[1], *gi = (float *)a->state[2];
    float *ib = (float *)a->param[0], *in0 = (float *)a->input[0], *in1 = (float *)a->input[1];
    const float gl = (float)C_GL, el = (float)C_EL, ee = (float)C_EE, ei = (float)C_EI;
    const float cm = (float)C_CM, taue = (float)C_TAUE, taui = (float)C_TAUI, dt = (float)a->dt;
    int64_t nref = (int64_t)round(C_TREF / a->dt);
    for (int64_t i = b; i < e; i++) {
        float V = v[i], Ge = ge[i] + in0[i], Gi = gi[i] + in1[i];
        in0[i] = in1[i] = 0;
        float pre = V;
        float gt = (gl + Ge) + Gi;
        float vinf = ((((gl * el) + Ge * ee) + Gi * ei) + ib[i]) / gt;
        V = vinf + (V - vinf) * cg_expf_ref(-(gt * dt) / cm, g_fma);
        Ge = Ge * cg_expf_ref(-dt / taue, g_fma);
        Gi = Gi * cg_expf_ref(-dt / taui, g_fma);
        bool isref = a->step < a->ref_until[i];
        if (isref) V = pre;
        bool spk = !isref && V > (float)C_VTH;
        if (spk) { V = (float)C_VR; a->ref_until[i] = a->step + nref; }
        v[i] = V; ge[i] = Ge; gi[i] = Gi;
        a->spiked[i] = spk;
    }
}

/* Float arrays of one COBA population, passed through RtPopArgs' double
 * pointers as the runtime does for RT_PREC_F32. */
typedef struct FPop {
    float *st[3], *par[1], *in[2];
    int64_t *ref;
    uint8_t *spk;
    RtPopArgs a;
} FPop;

static void fpop_init(FPop *p, int64_t n)
{
    memset(p, 0, sizeof *p);
    for (int k = 0; k < 3; k++) p->st[k] = calloc((size_t)n, sizeof(float));
    p->par[0] = calloc((size_t)n, sizeof(float));
    for (int k = 0; k < 2; k++) p->in[k] = calloc((size_t)n, sizeof(float));
    p->ref = calloc((size_t)n, sizeof *p->ref);
    p->spk = calloc((size_t)n, 1);
    for (int64_t i = 0; i < n; i++) {   /* as drv_init, rounded to float */
        p->st[0][i] = (float)(-65e-3 + (double)(i % 13) * 1e-3);
        p->par[0][i] = (float)(0.08e-9 + 0.02e-9 * (double)(i % 10));
    }
    p->a = (RtPopArgs){.state = (double *const *)p->st, .param = (double *const *)p->par,
                       .input = (double *const *)p->in, .ref_until = p->ref, .spiked = p->spk,
                       .dt = DT, .size = n};
}

static void fpop_free(FPop *p)
{
    for (int k = 0; k < 3; k++) free(p->st[k]);
    free(p->par[0]); free(p->in[0]); free(p->in[1]); free(p->ref); free(p->spk);
}

/* drv_run for float arrays: the same input pattern, weights rounded. */
static long fdrv_run(void (*f)(const RtPopArgs *, int64_t, int64_t), FPop *p, int s0, int steps,
                     const int64_t *cuts, int ncuts)
{
    RtPopArgs *a = &p->a;
    long spikes = 0;
    for (int s = s0; s < s0 + steps; s++) {
        a->step = s; a->t = s * a->dt;
        for (int64_t i = 0; i < a->size; i++) {
            p->in[0][i] += ((i * 31 + s * 17) % 7 == 0) ? 3e-9f : 0.0f;
            p->in[1][i] += ((i * 13 + s * 5) % 11 == 0) ? 2e-9f : 0.0f;
        }
        for (int c = 0; c + 1 < ncuts; c++) f(a, cuts[c], cuts[c + 1]);
        for (int64_t i = 0; i < a->size; i++) spikes += a->spiked[i];
    }
    return spikes;
}

/* The float COBA kernel equals the float C evaluation bit for bit, for the
 * whole range and for uneven pieces (vector body and masked tail). */
START_TEST(float_kernel_matches_float_c)
{
    MirPop p = coba_pop();
    p.use_float = true;
    Jit *j;
    RtUpdateFn f = jit_pop(&j, &p, NULL);
    const int64_t n = 1003;
    FPop a, b, c;
    fpop_init(&a, n); fpop_init(&b, n); fpop_init(&c, n);
    int64_t whole[2] = {0, n}, parts[5] = {0, 7, 8, 500, n};
    long sa = fdrv_run(f, &a, 0, 400, whole, 2);
    long sb = fdrv_run(f, &b, 0, 400, parts, 5);
    long sc = fdrv_run(coba_ref_f, &c, 0, 400, whole, 2);
    ck_assert_msg(sa > n / 4, "only %ld spikes", sa);
    ck_assert_int_eq(sa, sb);
    ck_assert_int_eq(sa, sc);
    for (int k = 0; k < 3; k++)
        for (int64_t i = 0; i < n; i++) {
            CHECK(memcmp(&a.st[k][i], &c.st[k][i], 4) == 0, "state %d neuron %ld: jit %a ref %a",
                  k, (long)i, (double)a.st[k][i], (double)c.st[k][i]);
            CHECK(memcmp(&a.st[k][i], &b.st[k][i], 4) == 0, "state %d neuron %ld: partition", k, (long)i);
        }
    ck_assert(memcmp(a.ref, c.ref, (size_t)n * 8) == 0);
    fpop_free(&a); fpop_free(&b); fpop_free(&c);
    jit_free(j);
}
END_TEST

/* Float against double: the float kernel tracks the double reference
 * (coba_ref) within float accuracy. 60 steps (6 ms) with the same inputs:
 * membrane potentials agree to 2e-6 V (float's relative precision is 6e-8,
 * V is ~0.06 V, and 60 steps of rounding add up), conductances to 1e-5
 * relative, and spikes agree for at least 99% of the neurons (a neuron
 * within rounding of threshold may cross it in one precision only). */
START_TEST(float_kernel_close_to_double)
{
    MirPop pf = coba_pop();
    pf.use_float = true;
    Jit *j;
    RtUpdateFn f = jit_pop(&j, &pf, NULL);
    const int64_t n = 1003;
    FPop a;
    Pop d;
    MirPop pd = coba_pop();
    fpop_init(&a, n);
    pop_init(&d, &pd, n);
    for (int64_t i = 0; i < n; i++) {   /* the same initial values in both */
        d.st[0][i] = a.st[0][i];
        d.par[0][i] = a.par[0][i];
    }
    int64_t whole[2] = {0, n};
    long sf = fdrv_run(f, &a, 0, 60, whole, 2);
    long sd = drv_run(coba_ref, &d.a, 2, 60, (double)3e-9f, (double)2e-9f, whole, 2);
    ck_assert_msg(sd > n / 10, "only %ld spikes", sd);
    int64_t same = 0;
    double worst_v = 0, worst_g = 0;
    for (int64_t i = 0; i < n; i++) {
        if (a.ref[i] != d.ref[i])
            continue;   /* spiked at different steps */
        same++;
        worst_v = fmax(worst_v, fabs((double)a.st[0][i] - d.st[0][i]));
        for (int k = 1; k < 3; k++)
            worst_g = fmax(worst_g, fabs((double)a.st[k][i] - d.st[k][i]) / fmax(fabs(d.st[k][i]), 1e-12));
    }
    ck_assert_msg(same >= n * 99 / 100, "spike histories differ for %ld neurons", (long)(n - same));
    ck_assert_msg(worst_v <= 2e-6, "V differs by %g V", worst_v);
    ck_assert_msg(worst_g <= 1e-5, "g differs by %g (relative)", worst_g);
    ck_assert(labs(sf - sd) <= sd / 100 + 1);
    fpop_free(&a);
    pop_free(&d);
    jit_free(j);
}
END_TEST

/* The float kernel is vectorized at twice the width: <16 x float> where
 * double gets <8 x double> (AVX-512), else <8 x float> (AVX2); no calls. */
START_TEST(ir_float_twice_the_width)
{
    MirPop p = coba_pop();
    p.use_float = true;
    char err[512];
    LLVMContextRef cx = LLVMContextCreate();
    LLVMModuleRef m = cg_module_create(cx, &tgt, "irf");
    ck_assert_msg(cg_emit_pop(m, &tgt, &p, 0, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(cg_optimize(m, &tgt, err, sizeof err) == 0, "%s", err);
    char *ir = LLVMPrintValueToString(LLVMGetNamedFunction(m, "eic_update_0"));
    bool w16 = strstr(ir, "<16 x float>") != NULL, w8 = strstr(ir, "<8 x float>") != NULL;
    ck_assert_msg(w16 || w8, "not vectorized:\n%s", ir);
    if (strstr(tgt.features, "+avx512f"))
        ck_assert_msg(w16, "AVX-512 but no <16 x float>");
    ck_assert_msg(!strstr(ir, "x double>"), "double vectors in a float kernel");
    for (char *c = strstr(ir, " call "); c; c = strstr(c + 1, " call "))
        ck_assert_msg(strstr(c, "@llvm.") && strstr(c, "@llvm.") < strchr(c, '\n'),
                      "call in kernel: %.120s", c);
    LLVMDisposeMessage(ir);
    LLVMDisposeModule(m);
    LLVMContextDispose(cx);
}
END_TEST

/* cg_emit_model feeds the runtime, which allocates float arrays for a
 * `precision float` population (RT_PREC_F32): the model's kernel is the
 * float one, vectorized over floats, with no double vectors. */
START_TEST(model_float_population_gets_float_kernel)
{
    MirPop pops[1] = {coba_pop()};
    pops[0].use_float = true;
    MirModel model = {.pops = pops, .npops = 1, .dt = DT};
    char err[512];
    LLVMContextRef cx = LLVMContextCreate();
    LLVMModuleRef m = cg_emit_model(cx, &tgt, &model, err, sizeof err);
    ck_assert_msg(m != NULL, "%s", err);
    ck_assert_msg(cg_optimize(m, &tgt, err, sizeof err) == 0, "%s", err);
    char *ir = LLVMPrintModuleToString(m);
    ck_assert(strstr(ir, "<16 x float>") != NULL || strstr(ir, "<8 x float>") != NULL);
    ck_assert(strstr(ir, "x double>") == NULL);
    LLVMDisposeMessage(ir);
    LLVMDisposeModule(m);
    LLVMContextDispose(cx);
}
END_TEST

/* ---- object cache -------------------------------------------------------------- */

/* Runs the COBA kernel 100 steps on 101 neurons; returns V[] in out. */
static void run_coba(RtUpdateFn f, double *out)
{
    MirPop p = coba_pop();
    Pop a;
    pop_init(&a, &p, 101);
    int64_t whole[2] = {0, 101};
    drv_run(f, &a.a, 2, 100, 3e-9, 2e-9, whole, 2);
    memcpy(out, a.st[0], 101 * sizeof(double));
    pop_free(&a);
}

static char *cache_file(const char *dir, const Jit *j)
{
    static char path[1200];
    snprintf(path, sizeof path, "%s/%s.o", dir, jit_stats(j)->last_key);
    return path;
}

START_TEST(cache_hit_and_corruption)
{
    char dir[] = "/tmp/eic_cg_cacheXXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char sub[128];
    snprintf(sub, sizeof sub, "%s/a/b", dir);   /* created on demand */
    MirPop p = coba_pop();
    double v1[101], v2[101], v3[101], v4[101];
    Jit *j1, *j2, *j3, *j4;
    run_coba(jit_pop(&j1, &p, sub), v1);
    ck_assert_int_eq(jit_stats(j1)->cache_misses, 1);
    ck_assert_int_eq(jit_stats(j1)->cache_writes, 1);
    ck_assert_int_eq(jit_stats(j1)->cache_hits, 0);

    run_coba(jit_pop(&j2, &p, sub), v2);   /* same module: a hit */
    ck_assert_int_eq(jit_stats(j2)->cache_hits, 1);
    ck_assert_int_eq(jit_stats(j2)->cache_misses, 0);
    ck_assert_str_eq(jit_stats(j1)->last_key, jit_stats(j2)->last_key);
    ck_assert(memcmp(v1, v2, sizeof v1) == 0);

    /* flip one byte of the object: rejected, recompiled, rewritten */
    char *path = cache_file(sub, j2);
    FILE *fp = fopen(path, "r+b");
    ck_assert_ptr_nonnull(fp);
    fseek(fp, -100, SEEK_END);
    int ch = fgetc(fp);
    fseek(fp, -100, SEEK_END);
    fputc(ch ^ 0x5a, fp);
    fclose(fp);
    run_coba(jit_pop(&j3, &p, sub), v3);
    ck_assert_int_eq(jit_stats(j3)->cache_rejects, 1);
    ck_assert_int_eq(jit_stats(j3)->cache_hits, 0);
    ck_assert_int_eq(jit_stats(j3)->cache_writes, 1);
    ck_assert(memcmp(v1, v3, sizeof v1) == 0);

    /* truncated file: rejected too */
    ck_assert_int_eq(truncate(path, 200), 0);
    run_coba(jit_pop(&j4, &p, sub), v4);
    ck_assert_int_eq(jit_stats(j4)->cache_rejects, 1);
    ck_assert(memcmp(v1, v4, sizeof v1) == 0);

    /* a different model has a different key */
    MirPop q = lif_pop();
    Jit *j5;
    jit_pop(&j5, &q, sub);
    ck_assert_str_ne(jit_stats(j5)->last_key, jit_stats(j1)->last_key);
    jit_free(j1); jit_free(j2); jit_free(j3); jit_free(j4); jit_free(j5);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(cache_default_dir)
{
    char buf[512];
    setenv("XDG_CACHE_HOME", "/x/y", 1);
    jit_default_cache_dir(buf, sizeof buf);
    ck_assert_str_eq(buf, "/x/y/eic");
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", "/home/u", 1);
    jit_default_cache_dir(buf, sizeof buf);
    ck_assert_str_eq(buf, "/home/u/.cache/eic");
}
END_TEST

/* ---- AOT ----------------------------------------------------------------------- */

/* The C main linked with the AOT object: the same driver, prints V, ge, gi
 * as hex floats and the spike count. */
static const char AOT_MAIN[] =
    "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include \"rt_abi.h\"\n"
    XSTRV(DRIVER) "\n"
    "void eic_update_0(const RtPopArgs *a, int64_t b, int64_t e);\n"
    "int main(void) {\n"
    "  int64_t n = 211; double *st[3], *par[1], *in[2];\n"
    "  for (int k = 0; k < 3; k++) st[k] = aligned_alloc(64, 2048);\n"
    "  par[0] = aligned_alloc(64, 2048); in[0] = calloc(n, 8); in[1] = calloc(n, 8);\n"
    "  int64_t *ref = calloc(n, 8); uint8_t *spk = calloc(n, 1);\n"
    "  RtPopArgs a = {.state = st, .param = par, .input = in, .ref_until = ref,\n"
    "                 .spiked = spk, .dt = 1e-4, .size = n};\n"
    "  drv_init(st, 3, par, 1, n);\n"
    "  int64_t cuts[2] = {0, n};\n"
    "  long s = drv_run(eic_update_0, &a, 2, 300, 3e-9, 2e-9, cuts, 2);\n"
    "  printf(\"%ld\\n\", s);\n"
    "  for (int k = 0; k < 3; k++) for (int64_t i = 0; i < n; i++) printf(\"%a\\n\", st[k][i]);\n"
    "  return 0;\n}\n";

START_TEST(aot_object_matches_jit)
{
    char dir[] = "/tmp/eic_cg_aotXXXXXX", path[256], cmd[1024], err[512];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    MirPop p = coba_pop();
    LLVMContextRef cx = LLVMContextCreate();
    LLVMModuleRef m = cg_module_create(cx, &tgt, "aot");
    ck_assert(cg_emit_pop(m, &tgt, &p, 0, err, sizeof err) == 0);
    ck_assert_msg(cg_optimize(m, &tgt, err, sizeof err) == 0, "%s", err);
    snprintf(path, sizeof path, "%s/model.o", dir);
    ck_assert_msg(cg_emit_object_file(m, &tgt, path, err, sizeof err) == 0, "%s", err);
    LLVMDisposeModule(m);
    LLVMContextDispose(cx);
    snprintf(path, sizeof path, "%s/main.c", dir);
    FILE *f = fopen(path, "w");
    fputs(AOT_MAIN, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "cc -std=c11 -O1 -I%s/runtime -o %s/run %s/main.c %s/model.o -lm",
             EIC_SOURCE_DIR, dir, dir, dir);
    ck_assert_msg(system(cmd) == 0, "link failed: %s", cmd);
    snprintf(cmd, sizeof cmd, "%s/run", dir);
    FILE *out = popen(cmd, "r");
    ck_assert_ptr_nonnull(out);

    Jit *j;
    RtUpdateFn fn = jit_pop(&j, &p, NULL);
    Pop a;
    pop_init(&a, &p, 211);
    int64_t cuts[2] = {0, 211};
    long spikes = drv_run(fn, &a.a, 2, 300, 3e-9, 2e-9, cuts, 2);
    char line[128], want[128];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, out));
    ck_assert_int_eq(atol(line), spikes);
    ck_assert(spikes > 50);
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 211; i++) {
            ck_assert_ptr_nonnull(fgets(line, sizeof line, out));
            snprintf(want, sizeof want, "%a\n", a.st[k][i]);
            ck_assert_msg(strcmp(line, want) == 0, "state %d neuron %d: aot %s jit %s", k, i, line, want);
        }
    ck_assert_int_eq(pclose(out), 0);
    pop_free(&a);
    jit_free(j);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

Suite *cg_suite(void);
Suite *cg_suite(void)
{
    Suite *s = suite_create("cg");
    TCase *m = tcase_create("exp");
    tcase_add_unchecked_fixture(m, target, NULL);
    tcase_add_checked_fixture(m, setup, teardown);
    tcase_set_timeout(m, 60);
    tcase_add_test(m, exp_double_accuracy);
    tcase_add_test(m, exp_double_monotone_at_boundaries);
    tcase_add_test(m, exp_float_accuracy);
    tcase_add_test(m, exp_ir_matches_reference);
    suite_add_tcase(s, m);
    TCase *k = tcase_create("kernels");
    tcase_add_unchecked_fixture(k, target, NULL);
    tcase_add_checked_fixture(k, setup, teardown);
    tcase_set_timeout(k, 60);
    tcase_add_test(k, lif_kernel_matches_c);
    tcase_add_test(k, coba_kernel_matches_c);
    tcase_add_test(k, if_statement_kernel);
    tcase_add_test(k, ir_lif_vectorized_no_calls);
    tcase_add_test(k, ir_coba_vectorized_no_calls);
    tcase_add_test(k, identical_populations_share_a_kernel);
    tcase_add_test(k, float_kernel_matches_float_c);
    tcase_add_test(k, float_kernel_close_to_double);
    tcase_add_test(k, ir_float_twice_the_width);
    tcase_add_test(k, model_float_population_gets_float_kernel);
    tcase_add_test(k, cache_hit_and_corruption);
    tcase_add_test(k, cache_default_dir);
    tcase_add_test(k, aot_object_matches_jit);
    suite_add_tcase(s, k);
    return s;
}
