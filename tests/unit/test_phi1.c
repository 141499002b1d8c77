/* test_phi1.c - Check suite `phi1`: phi1(z) = (exp(z) - 1)/z and exp(z) of
 * exponential Euler (cg_math.c: cg_phi1_ref, cg_phi1_exp_ref, and the step
 * exp(z) x + phi1(z) w of MF_EXPEULER, cg_expeuler_ref, and its IR).
 *
 *   - accuracy of the C reference against long double expm1l(z)/z and expl(z)
 *     over a dense sweep of [-50, 50], around the switch |z| = CG_PHI1_R,
 *     for tiny z and at the special values, double and float;
 *   - the JIT'd kernels compute the same bits as the reference, through the
 *     vectorized loop, whatever the neighbours of a lane and the range
 *     boundaries (slow-path lanes next to fast ones), double and float;
 *   - the optimized IR: no call left, vectorized, and no division in the
 *     loop's main block (the closed form sits behind a branch).
 *
 * MIR is built by hand, as in test_cg.c, so the suite does not depend on
 * ode.c; the exponential Euler formulas themselves are tested in test_ode.c
 * and end to end. SPEC: [S-ode-3a].
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "cg_llvm.h"
#include "cg_math.h"
#include "jit.h"
#include "mir.h"
#include "rt_abi.h"
#include "ulp_test.h"

/* ck_assert in hot loops writes a message per call; this only on failure. */
#define CHECK(cond, ...) do { if (!(cond)) ck_abort_msg(__VA_ARGS__); } while (0)

/* Error bounds, in units in the last place of the correctly rounded value.
 * Measured on the sweeps below (EIC_PHI1_REPORT=1 prints them; 2026-11-28,
 * x86-64): phi1 double 1.46 ulp (no FMA) / 1.45 (FMA), the polynomial part
 * (|z| <= R) 1.00 / 0.89; exp 1.07 / 1.06; float phi1 1.46, exp 0.99. The
 * closed form's numerator rounds about once and the division once more. */
#define PHI1_MAX_ULP 1.5     /* double, polynomial and closed form */
#define PHI1_FAST_MAX_ULP 1.05
#define EXP_MAX_ULP 1.1      /* double exp(z) = 1 + z phi1(z), and the inline exp beyond R */
#define PHI1F_MAX_ULP 1.5    /* float */
#define EXPF_MAX_ULP 1.1

static CgTarget tgt;

static void target(void)
{
    char err[256];
    ck_assert_msg(cg_target_host(&tgt, err, sizeof err) == 0, "%s", err);
}

/* ---- references ---------------------------------------------------------- */

static long double phi1_l(double z)
{
    return z == 0 ? 1.0L : expm1l((long double)z) / (long double)z;
}

/* Worst errors over a set of z, both precisions of the reference. */
typedef struct Worst { double phi, exp, fast; double z_phi, z_exp; } Worst;

static void measure(Worst *w, double z, bool fma)
{
    double p = cg_phi1_ref(z, fma), e = cg_phi1_exp_ref(z, fma);
    double ep = ulp_err(p, phi1_l(z)), ee = ulp_err(e, expl((long double)z));
    if (ep > w->phi) w->phi = ep, w->z_phi = z;
    if (ee > w->exp) w->exp = ee, w->z_exp = z;
    if (fabs(z) <= CG_PHI1_R && ep > w->fast) w->fast = ep;
}

static void measuref(Worst *w, float z, bool fma)
{
    float p = cg_phi1f_ref(z, fma), e = cg_phi1_expf_ref(z, fma);
    long double ref = z == 0 ? 1.0L : expm1l((long double)z) / (long double)z;
    double ep = ulp_errf(p, ref), ee = ulp_errf(e, expl((long double)z));
    if (ep > w->phi) w->phi = ep, w->z_phi = z;
    if (ee > w->exp) w->exp = ee, w->z_exp = z;
}

/* ---- accuracy of the reference --------------------------------------------- */

/* 2*10^6 points over [-50, 50] (offset so that they miss round numbers),
 * 2*10^5 ulp-spaced and 10^-7-spaced points on each side of +-R, and tiny z
 * down to the smallest subnormal; with and without FMA. */
START_TEST(phi1_double_accuracy)
{
    for (int f = 0; f < 2; f++) {
        Worst w = {0};
        const int n = 2000000;
        for (int i = 0; i < n; i++)
            measure(&w, -50.0 + 100.0 * ((double)i + 0.318) / n, f);
        for (int s = -1; s <= 1; s += 2) {
            double r = s * CG_PHI1_R, up = r, dn = r;
            for (int k = 0; k < 100000; k++) {
                measure(&w, up, f);
                measure(&w, dn, f);
                up = nextafter(up, INFINITY);
                dn = nextafter(dn, -INFINITY);
                measure(&w, r + 1e-7 * k, f);
                measure(&w, r - 1e-7 * k, f);
            }
        }
        for (double t = 1.0; t > 0; t /= 2) {
            measure(&w, t, f);
            measure(&w, -t, f);
            measure(&w, t * 1.37, f);
            measure(&w, -t * 1.37, f);
        }
        if (getenv("EIC_PHI1_REPORT"))
            fprintf(stderr, "phi1 double fma %d: phi1 %.3f ulp (z %.17g; |z| <= R: %.3f), exp %.3f ulp (z %.17g)\n",
                    f, w.phi, w.z_phi, w.fast, w.exp, w.z_exp);
        ck_assert_msg(w.phi <= PHI1_MAX_ULP, "fma %d: phi1 error %.3f ulp at z = %a", f, w.phi, w.z_phi);
        ck_assert_msg(w.fast <= PHI1_FAST_MAX_ULP, "fma %d: polynomial phi1 error %.3f ulp", f, w.fast);
        ck_assert_msg(w.exp <= EXP_MAX_ULP, "fma %d: exp error %.3f ulp at z = %a", f, w.exp, w.z_exp);
    }
}
END_TEST

/* The same for float: every float in [-50, 50] with a stride of 7 ulp-ish
 * steps (10^7 points), around +-R, tiny z. */
START_TEST(phi1_float_accuracy)
{
    for (int f = 0; f < 2; f++) {
        Worst w = {0};
        const int n = 4000000;
        for (int i = 0; i < n; i++)
            measuref(&w, (float)(-50.0 + 100.0 * ((double)i + 0.318) / n), f);
        for (int s = -1; s <= 1; s += 2) {
            float r = (float)(s * CG_PHI1_R), up = r, dn = r;
            for (int k = 0; k < 100000; k++) {
                measuref(&w, up, f);
                measuref(&w, dn, f);
                up = nextafterf(up, INFINITY);
                dn = nextafterf(dn, -INFINITY);
            }
        }
        for (float t = 1.0f; t > 0; t /= 2) {
            measuref(&w, t, f);
            measuref(&w, -t, f);
        }
        if (getenv("EIC_PHI1_REPORT"))
            fprintf(stderr, "phi1 float fma %d: phi1 %.3f ulp (z %.9g), exp %.3f ulp (z %.9g)\n",
                    f, w.phi, w.z_phi, w.exp, w.z_exp);
        ck_assert_msg(w.phi <= PHI1F_MAX_ULP, "fma %d: float phi1 error %.3f ulp at z = %a", f, w.phi, w.z_phi);
        ck_assert_msg(w.exp <= EXPF_MAX_ULP, "fma %d: float exp error %.3f ulp at z = %a", f, w.exp, w.z_exp);
    }
}
END_TEST

/* Special values: phi1(0) = exp(0) = 1 exactly (a zero coefficient gives
 * the Euler step), NaN stays NaN, phi1(-inf) = 0 with exp(-inf) = 0,
 * phi1(z) = -1/z far below, overflow to +inf above, and phi1 still finite
 * where exp(z) itself has overflowed but exp(z)/z has not. */
START_TEST(phi1_special_values)
{
    for (int f = 0; f < 2; f++) {
        static const double zeros[] = {0.0, -0.0};
        for (int i = 0; i < 2; i++) {
            ck_assert(cg_phi1_ref(zeros[i], f) == 1.0);
            ck_assert(cg_phi1_exp_ref(zeros[i], f) == 1.0);
            ck_assert(cg_phi1f_ref((float)zeros[i], f) == 1.0f);
            ck_assert(cg_phi1_expf_ref((float)zeros[i], f) == 1.0f);
            /* the step with a zero coefficient is the Euler step x + w */
            ck_assert(cg_expeuler_ref(zeros[i], -0.065, 1e-4, f) == -0.065 + 1e-4);
        }
        ck_assert(isnan(cg_phi1_ref(NAN, f)) && isnan(cg_phi1_exp_ref(NAN, f)));
        ck_assert(isnan(cg_phi1f_ref(NAN, f)) && isnan(cg_phi1_expf_ref(NAN, f)));
        ck_assert(isnan(cg_expeuler_ref(NAN, 1.0, 1.0, f)));
        ck_assert(cg_phi1_ref(-INFINITY, f) == 0.0 && cg_phi1_exp_ref(-INFINITY, f) == 0.0);
        ck_assert(cg_expeuler_ref(-INFINITY, 3.0, 2.0, f) == 0.0);
        ck_assert(cg_phi1f_ref(-INFINITY, f) == 0.0f);
        ck_assert(isinf(cg_phi1_ref(INFINITY, f)) && cg_phi1_ref(INFINITY, f) > 0);
        ck_assert(isinf(cg_phi1f_ref(INFINITY, f)) && cg_phi1f_ref(INFINITY, f) > 0);
        static const double far[] = {-40.0, -100.0, -745.5, -1000.0, -1e6, -1e300};
        for (int i = 0; i < 6; i++)
            ck_assert_msg(ulp_err(cg_phi1_ref(far[i], f), -1.0L / far[i]) <= 1.0, "phi1(%g) = %.17g",
                          far[i], cg_phi1_ref(far[i], f));
        ck_assert_msg(ulp_errf(cg_phi1f_ref(-1000.0f, f), 1e-3L) <= 1.0, "float phi1(-1000)");
        double big = cg_phi1_ref(710.0, f);   /* exp(710) overflows, exp(710)/710 = 3.15e305 */
        ck_assert_msg(isfinite(big) && ulp_err(big, expl(710.0L) / 710.0L) <= PHI1_MAX_ULP,
                      "phi1(710) = %g", big);
        ck_assert(isinf(cg_phi1_ref(720.0, f)) && isinf(cg_phi1_ref(1e10, f)));
        ck_assert(isinf(cg_phi1_exp_ref(720.0, f)) && isinf(cg_phi1_exp_ref(INFINITY, f)));
        ck_assert(isinf(cg_phi1f_ref(100.0f, f)) && isinf(cg_phi1_expf_ref(100.0f, f)));
        ck_assert(cg_phi1_exp_ref(-800.0, f) == 0.0 && cg_phi1_expf_ref(-200.0f, f) == 0.0f);
        /* subnormal exp(z): rounded once (the two exponent factors) */
        ck_assert_msg(ulp_err(cg_phi1_exp_ref(-740.0, f), expl(-740.0L)) <= 1.0, "exp(-740)");
    }
}
END_TEST

/* phi1 is increasing. The computed one, within 1.5 ulp, may step back by
 * one ulp between neighbouring doubles (the closed form does, near -R), but
 * not by more, in particular not where polynomial and closed form meet. */
START_TEST(phi1_monotone_at_switch)
{
    for (int f = 0; f < 2; f++)
        for (int s = -1; s <= 1; s += 2) {
            double z = s * CG_PHI1_R;
            for (int k = 0; k < 3000; k++)
                z = nextafter(z, -INFINITY);
            double prev = cg_phi1_ref(z, f);
            for (int k = 0; k < 6000; k++) {
                z = nextafter(z, INFINITY);
                double y = cg_phi1_ref(z, f);
                CHECK(y >= nextafter(prev, -INFINITY), "phi1 decreases at z = %a (fma %d): %a after %a",
                      z, f, y, prev);
                prev = y;
            }
        }
}
END_TEST

/* ---- the JIT'd kernels -------------------------------------------------------- */

static Arena ta;
static void setup(void) { arena_init(&ta); }
static void teardown(void) { arena_free(&ta); }

static MirExpr *leaf(MirOp op, int slot)
{
    MirExpr *e = ARENA_NEW(&ta, MirExpr);
    e->op = op;
    e->slot = slot;
    return e;
}

static MirExpr *call(MirFn fn, MirExpr *a, MirExpr *b, MirExpr *c)
{
    MirExpr *e = ARENA_NEW(&ta, MirExpr);
    e->op = MX_CALL;
    e->fn = fn;
    e->nargs = 3;
    e->args = ARENA_ARRAY(&ta, MirExpr *, 3);
    e->args[0] = a;
    e->args[1] = b;
    e->args[2] = c;
    return e;
}

static void push(MirBlock *b, MirStmtKind k, int slot, MirExpr *v)
{
    MirStmt *s = ARENA_NEW(&ta, MirStmt);
    s->kind = k;
    s->slot = slot;
    s->value = v;
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 8;
        b->v = arena_grow(&ta, b->v, (size_t)b->n, (size_t)b->cap, sizeof *b->v);
    }
    b->v[b->n++] = s;
}

/* States z, x, w, y: y = expeuler(z, x, w). */
static MirPop phi1_pop(bool use_float)
{
    MirPop p = {.name = "phi1", .nstates = 4, .use_float = use_float};
    push(&p.step, MIR_SET, 3, call(MF_EXPEULER, leaf(MX_STATE, 0), leaf(MX_STATE, 1), leaf(MX_STATE, 2)));
    return p;
}

/* The kernel for the target `t` (the host's, or a smaller one). */
static RtUpdateFn jit_pop_for(Jit **out, const MirPop *p, const CgTarget *t)
{
    char err[512];
    JitOptions o = {.cache_dir = ""};
    Jit *j = jit_create(t, &o, err, sizeof err);
    ck_assert_msg(j != NULL, "%s", err);
    LLVMModuleRef m = cg_module_create(jit_context(j), jit_target(j), "phi1");
    ck_assert_msg(cg_emit_pop(m, jit_target(j), p, 0, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(jit_add_module(j, m, err, sizeof err) == 0, "%s", err);
    void *addr = jit_lookup(j, "eic_update_0");
    ck_assert_ptr_nonnull(addr);
    RtUpdateFn f;
    memcpy(&f, &addr, sizeof f);
    *out = j;
    return f;
}

static RtUpdateFn jit_pop(Jit **out, const MirPop *p)
{
    return jit_pop_for(out, p, &tgt);
}

/* z for neuron i: mostly |z| < R (as in a network), a slow-path value every
 * 37th neuron and in one whole block, special values at the start. */
static double z_of(int64_t i)
{
    static const double special[] = {0.0, -0.0, NAN, INFINITY, -INFINITY, 1e-300, -1e-300, 0x1p-1074,
                                     CG_PHI1_R, -CG_PHI1_R, 0.35000000000000003, -0.35000000000000003,
                                     710.0, -1000.0, 5.0, -5.0};
    if (i < 16)
        return special[i];
    if (i % 37 == 0 || (i >= 600 && i < 640))
        return -50.0 + 100.0 * (double)((i * 7919) % 1000) / 1000.0;
    return -0.3 + 0.6 * (double)((i * 104729) % 1000) / 1000.0 * (i % 3 ? 0.05 : 1.0);
}

/* x and w for neuron i: (1, 0) gives exp(z), (0, 1) phi1(z), and a
 * membrane potential with a drive, a whole step. */
static void xw_of(int64_t i, double *x, double *w)
{
    static const double xs[3] = {1.0, 0.0, -0.065}, ws[3] = {0.0, 1.0, 2.5e-4};
    *x = xs[i % 3];
    *w = ws[i % 3];
}

/* Runs the kernel over `cuts` and compares every neuron with the reference
 * (fused multiply-adds as `fma`). */
static void check_double(RtUpdateFn f, int64_t n, const int64_t *cuts, int ncuts, bool fma)
{
    double *s[4];
    for (int k = 0; k < 4; k++) s[k] = calloc((size_t)n, sizeof(double));
    for (int64_t i = 0; i < n; i++) {
        s[0][i] = z_of(i);
        xw_of(i, &s[1][i], &s[2][i]);
    }
    uint8_t *spk = calloc((size_t)n, 1);
    RtPopArgs a = {.state = s, .spiked = spk, .dt = 1e-4, .size = n};
    for (int c = 0; c + 1 < ncuts; c++) f(&a, cuts[c], cuts[c + 1]);
    for (int64_t i = 0; i < n; i++) {
        double z = z_of(i), x, w;
        xw_of(i, &x, &w);
        double y = cg_expeuler_ref(z, x, w, fma);
        CHECK(memcmp(&y, &s[3][i], 8) == 0, "expeuler(%a, %g, %g) neuron %ld: jit %a ref %a", z, x, w,
              (long)i, s[3][i], y);
    }
    for (int k = 0; k < 4; k++) free(s[k]);
    free(spk);
}

START_TEST(ir_matches_reference_double)
{
    MirPop p = phi1_pop(false);
    Jit *j;
    RtUpdateFn f = jit_pop(&j, &p);
    const int64_t n = 1003, whole[2] = {0, 1003}, parts[7] = {0, 1, 7, 8, 37, 601, 1003};
    check_double(f, n, whole, 2, tgt.fma);
    check_double(f, n, parts, 7, tgt.fma);   /* other lanes share each vector */
    jit_free(j);
}
END_TEST

static void check_ir_for(const CgTarget *t, bool use_float);

/* Smaller x86-64 targets than the host: SSE4.2 without FMA, where the
 * cost model keeps the loop scalar (the scalar helper, inlined, branches per
 * neuron), and AVX2 with FMA (4 doubles a register, the vectorizer's 8-lane
 * masked variant in two registers). Every neuron gets the reference's bits,
 * and the AVX2 kernel has the shape of check_ir_for. */
START_TEST(ir_matches_reference_smaller_targets)
{
    static const struct { const char *cpu; bool fma; } ts[] = {{"x86-64-v2", false}, {"x86-64-v3", true}};
    for (int k = 0; k < 2; k++) {
        CgTarget small = tgt;
        snprintf(small.cpu, sizeof small.cpu, "%s", ts[k].cpu);
        small.features[0] = 0;   /* the CPU's own */
        small.fma = ts[k].fma;
        small.datalayout[0] = 0;
        MirPop p = phi1_pop(false);
        Jit *j;
        RtUpdateFn f = jit_pop_for(&j, &p, &small);
        const int64_t n = 1003, whole[2] = {0, 1003}, parts[7] = {0, 1, 7, 8, 37, 601, 1003};
        check_double(f, n, whole, 2, ts[k].fma);
        check_double(f, n, parts, 7, ts[k].fma);
        jit_free(j);
        if (ts[k].fma)
            check_ir_for(&small, false);
    }
}
END_TEST

START_TEST(ir_matches_reference_float)
{
    MirPop p = phi1_pop(true);
    Jit *j;
    RtUpdateFn f = jit_pop(&j, &p);
    const int64_t n = 1003;
    static const int64_t cuts[2][7] = {{0, 1003}, {0, 1, 7, 8, 37, 601, 1003}};
    for (int c = 0; c < 2; c++) {
        float *s[4];
        for (int k = 0; k < 4; k++) s[k] = calloc((size_t)n, sizeof(float));
        for (int64_t i = 0; i < n; i++) {
            double x, w;
            xw_of(i, &x, &w);
            s[0][i] = (float)z_of(i), s[1][i] = (float)x, s[2][i] = (float)w;
        }
        uint8_t *spk = calloc((size_t)n, 1);
        RtPopArgs a = {.state = (double *const *)s, .spiked = spk, .dt = 1e-4, .size = n};
        int ncuts = c ? 7 : 2;
        for (int k = 0; k + 1 < ncuts; k++) f(&a, cuts[c][k], cuts[c][k + 1]);
        for (int64_t i = 0; i < n; i++) {
            float y = cg_expeulerf_ref(s[0][i], s[1][i], s[2][i], tgt.fma);
            CHECK(memcmp(&y, &s[3][i], 4) == 0, "float expeuler(%a, %g, %g) neuron %ld: jit %a ref %a",
                  (double)s[0][i], (double)s[1][i], (double)s[2][i], (long)i, (double)s[3][i], (double)y);
        }
        for (int k = 0; k < 4; k++) free(s[k]);
        free(spk);
    }
    jit_free(j);
}
END_TEST

/* The text of basic block `label` ("vector.body:") in `ir`, or NULL. */
static char *block_text(const char *ir, const char *label)
{
    const char *b = strstr(ir, label);
    if (!b)
        return NULL;
    const char *e = strstr(b, "\n\n");
    size_t n = e ? (size_t)(e - b) : strlen(b);
    char *t = malloc(n + 1);
    memcpy(t, b, n);
    t[n] = 0;
    return t;
}

/* After optimisation: no call but intrinsics (the helpers were inlined),
 * vector code, and the loop's main block has neither a division nor exp's
 * exponent arithmetic (shl), but a branch to the slow path, which has the
 * division. */
static void check_ir_for(const CgTarget *t, bool use_float)
{
    MirPop p = phi1_pop(use_float);
    char err[512];
    LLVMContextRef cx = LLVMContextCreate();
    LLVMModuleRef m = cg_module_create(cx, t, "ir");
    ck_assert_msg(cg_emit_pop(m, t, &p, 0, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(cg_optimize(m, t, err, sizeof err) == 0, "%s", err);
    char *ir = LLVMPrintValueToString(LLVMGetNamedFunction(m, "eic_update_0"));
    if (getenv("EIC_CG_DUMP"))
        fputs(ir, stderr);
    for (char *c = strstr(ir, " call "); c; c = strstr(c + 1, " call "))
        CHECK(strstr(c, "@llvm.") && strstr(c, "@llvm.") < strchr(c, '\n'), "call in kernel: %.120s", c);
    const char *vt = use_float ? " x float>" : " x double>";
    ck_assert_msg(strstr(ir, vt), "not vectorized: %.300s", ir);
    char *body = block_text(ir, "\nvector.body:");
    ck_assert_msg(body != NULL, "no vector.body: %.300s", ir);
    ck_assert_msg(!strstr(body, "fdiv"), "division in the vector body: %.300s", strstr(body, "fdiv"));
    ck_assert_msg(!strstr(body, " shl "), "exp exponent arithmetic in the vector body: %.300s", strstr(body, " shl "));
    ck_assert_msg(strstr(body, "llvm.vector.reduce.or") || strstr(body, "bitcast <"),
                  "no any-lane test in the vector body: %.300s", body);
    ck_assert_msg(strstr(ir, "fdiv"), "no slow path");
    for (LLVMValueRef fn = LLVMGetFirstFunction(m); fn; fn = LLVMGetNextFunction(fn)) {
        size_t len;
        const char *name = LLVMGetValueName2(fn, &len);
        ck_assert_msg(strncmp(name, "eic_expeuler", 12) != 0, "helper %s left in the module", name);
    }
    free(body);
    LLVMDisposeMessage(ir);
    LLVMDisposeModule(m);
    LLVMContextDispose(cx);
}

START_TEST(ir_shape_double)
{
    check_ir_for(&tgt, false);
}
END_TEST

START_TEST(ir_shape_float)
{
    check_ir_for(&tgt, true);
}
END_TEST

Suite *phi1_suite(void);
Suite *phi1_suite(void)
{
    Suite *s = suite_create("phi1");
    TCase *a = tcase_create("accuracy");
    tcase_set_timeout(a, 120);
    tcase_add_test(a, phi1_double_accuracy);
    tcase_add_test(a, phi1_float_accuracy);
    tcase_add_test(a, phi1_special_values);
    tcase_add_test(a, phi1_monotone_at_switch);
    suite_add_tcase(s, a);
    TCase *k = tcase_create("kernels");
    tcase_add_unchecked_fixture(k, target, NULL);
    tcase_add_checked_fixture(k, setup, teardown);
    tcase_set_timeout(k, 60);
    tcase_add_test(k, ir_matches_reference_double);
    tcase_add_test(k, ir_matches_reference_float);
    tcase_add_test(k, ir_matches_reference_smaller_targets);
    tcase_add_test(k, ir_shape_double);
    tcase_add_test(k, ir_shape_float);
    suite_add_tcase(s, k);
    return s;
}
