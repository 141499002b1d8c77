/* test_plastic.c - Check suite `plastic`: synapse models and plasticity rules
 * from model text through lower.c (MirSyn), ode_plan_elapsed (exact decay
 * over a run-time elapsed time), the reference interpreter (mir_syn.c) and
 * the JIT'd kernels of cg_syn.c called with hand-made RtSynArgs.
 *
 * Real numbers: Tsodyks-Markram amplitudes against the closed-form
 * recursion; hard bounds, soft bounds and Dale's law against their formulas
 * (/work/notes/spec-plastic-cc.md); every kernel against the interpreter.
 * tests/run_plastic.sh checks the same through the runtime, end to end.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg_llvm.h"
#include "cg_syn.h"
#include "frontend.h"
#include "jit.h"
#include "lower.h"
#include "mir_syn.h"
#include "rt_abi.h"
#include "sema.h"

typedef struct Compiled {
    Session s;
    Program *prog;
    Lowered *low;
} Compiled;

/* Compiles `text` through lowering and planning; returns false (diagnostics
 * kept in c->s.diags) when any step reports errors. */
static bool compile_text(Compiled *c, const char *text) {
    front_init(&c->s, NULL);
    if (!front_load_text(&c->s, "test.ei", text, strlen(text))) return false;
    c->prog = sema_check(&c->s);
    if (!c->prog) return false;
    c->low = lower_program(c->prog);
    return c->low && lower_plan_odes(c->prog, c->low) && c->s.diags.nerrors == 0;
}

/* True if some diagnostic's text contains `needle` (and is [unsupported]). */
static bool has_unsupported(Compiled *c, const char *needle) {
    for (const Diagnostic *g = c->s.diags.first; g; g = g->next)
        if (g->id == DIAG_UNSUPPORTED && strstr(g->message, needle)) return true;
    return false;
}

static const MirSyn *syn_named(const Lowered *l, const char *rule_or_synapse) {
    for (int k = 0; k < l->nsyns; k++) {
        const MirSyn *s = &l->syns[k];
        if ((s->rule && !strcmp(s->rule, rule_or_synapse)) || (s->synapse && !strcmp(s->synapse, rule_or_synapse)))
            return s;
    }
    ck_abort_msg("no projection with %s", rule_or_synapse);
    return NULL;
}

static int slot_named(const MirSyn *s, const char *name) {
    for (int i = 0; i < s->nvars; i++)
        if (!strcmp(s->vars[i].name, name)) return i;
    ck_abort_msg("no variable %s", name);
    return -1;
}

/* ---- the models ------------------------------------------------------------------ */

static const char *rules_model =
    "import std.receptors\n"
    "import std.synapses\n"
    "neuron N {\n"
    "    parameter tau = 10 ms\n"
    "    state V = -70 mV\n"
    "    dV/dt = -V/tau + I_syn/(1 nF)\n"
    "}\n"
    "plasticity Hard {\n"
    "    parameter A = 1 nS, tau = 20 ms\n"
    "    trace x_pre tau on pre += 1\n"
    "    trace x_post tau on post += 0.5\n"
    "    on pre { w -= A*x_post }\n"
    "    on post { w += A*x_pre }\n"
    "    bounds 0 nS .. 2 nS\n"
    "}\n"
    "plasticity Soft {\n"
    "    parameter A = 1 nS, tau = 20 ms\n"
    "    trace x_pre tau on pre += 1\n"
    "    trace x_post tau on post = 1\n"
    "    on pre { w -= A*x_post }\n"
    "    on post { w += A*x_pre }\n"
    "    bounds 0 nS .. 2 nS soft\n"
    "}\n"
    "plasticity Dale {\n"
    "    parameter A = 1 nS, tau = 20 ms\n"
    "    trace x_pre tau on pre += 1\n"
    "    trace x_post tau on post += 1\n"
    "    on pre { w -= A*x_post }\n"
    "    on post { w += A*x_pre }\n"
    "}\n"
    "plasticity Voltage {\n"
    "    parameter A = 1 nS, tau = 20 ms\n"
    "    trace x_pre tau on pre += 1\n"
    "    on post { if post.V > -60 mV { w += A*x_pre*(post.V + 70 mV)/(10 mV) } else { w -= A } }\n"
    "}\n"
    "plasticity Scaling {\n"
    "    parameter target = 5 Hz\n"
    "    rate r of post tau 1 s\n"
    "    every 10 ms { w *= 1 + 0.1*(target - r)/target }\n"
    "}\n"
    "plasticity Elig {\n"
    "    parameter tau = 20 ms, tau_e = 200 ms, A = 0.01\n"
    "    trace x_pre tau on pre += 1\n"
    "    trace x_post tau on post += 1\n"
    "    state e = 0\n"
    "    de/dt = -e/tau_e\n"
    "    on pre { e -= A*x_post }\n"
    "    on post { e += A*x_pre }\n"
    "    every 1 ms { w = clip(w + 1 nS*e, 0 nS, 2 nS) }\n"
    "}\n"
    "network Net {\n"
    "    population P = 3 of N\n"
    "    population Q = 2 of N\n"
    "    connect P -> Q via AMPA all_to_all weight 1 nS delay 1 ms with Hard\n"
    "    connect P -> Q via AMPA all_to_all weight 1 nS delay 1 ms with Soft\n"
    "    connect P -> Q via AMPA all_to_all weight 1 nS delay 1 ms with Dale\n"
    "    connect P -> Q via AMPA all_to_all weight 1 nS delay 1 ms with Voltage\n"
    "    connect P -> Q via AMPA all_to_all weight 1 nS delay 1 ms with Scaling\n"
    "    connect P -> Q via AMPA all_to_all weight 1 nS delay 1 ms synapse TsodyksMarkram(U = 0.2)\n"
    "    connect P -> Q via AMPA all_to_all weight 1 nS delay 1 ms with Elig\n"
    "}\n"
    "simulate Net for 10 ms dt 0.1 ms\n";

/* ---- Tsodyks-Markram: interpreter against the closed form ------------------------ */

START_TEST(tm_lowered_matches_recursion) {
    Compiled c;
    ck_assert_msg(compile_text(&c, rules_model), "compile failed");
    const MirSyn *s = syn_named(c.low, "TsodyksMarkram");
    ck_assert_int_eq(s->nsynvars, 2);
    ck_assert_int_eq(s->nodes, 2);
    ck_assert(s->has_deliver && !s->has_on_post && !s->has_every);
    int x = slot_named(s, "x"), u = slot_named(s, "u");
    ck_assert_int_eq(s->vars[x].kind, MSV_SYN);
    ck_assert(s->vars[u].init.kind == RT_DIST_CONST && s->vars[u].init.a == 0.2);  /* u = U, U overridden */
    const RtPlasticDesc *pd = c.low->desc.projs[s->proj].plastic;
    ck_assert_ptr_eq(pd, &c.low->plastic[s - c.low->syns]);
    ck_assert_int_eq(pd->nsynvars, 2);
    double vars[16] = {0}, temps[64] = {0};
    vars[s->w_slot] = 2e-9, vars[x] = 1, vars[u] = 0.2;
    MirSynEnv env = {vars, temps, 0, 1e-4};
    const double U = 0.2, tau_rec = 0.8, tau_fac = 0.02, w = 2e-9;
    double ur = U, xr = 1;
    for (int n = 0; n < 30; n++) {
        double D = 0.005 + 0.001 * (n % 7);          /* irregular intervals */
        double got = mir_syn_pre_event(s, &env, D);
        ur = U + (ur - U) * exp(-D / tau_fac);      /* std.synapses: deliver, deplete, facilitate */
        xr = 1 - (1 - xr) * exp(-D / tau_rec);
        double want = w * ur * xr;
        xr -= ur * xr;
        ur += U * (1 - ur);
        ck_assert_msg(fabs(got / want - 1) < 1e-13, "spike %d: %.17g vs %.17g", n, got, want);
        ck_assert_msg(fabs(vars[x] / xr - 1) < 1e-13 && fabs(vars[u] / ur - 1) < 1e-13, "state %d", n);
    }
    ck_assert(vars[s->w_slot] == w);                  /* a synapse model without a rule keeps w */
    front_free(&c.s);
}
END_TEST

/* ---- bounds and Dale's law --------------------------------------------------------- */

/* Runs `b` of rule `name` on one synapse with weight w and traces
 * x_pre/x_post (where the rule has them); returns the new weight. */
static double run_rule(const MirSyn *s, const MirBlock *b, double w, double x_pre, double x_post) {
    double vars[32] = {0}, temps[64] = {0};
    vars[s->w_slot] = w;
    for (int i = 0; i < s->nvars; i++) {
        if (!strcmp(s->vars[i].name, "x_pre")) vars[i] = x_pre;
        if (!strcmp(s->vars[i].name, "x_post")) vars[i] = x_post;
    }
    MirSynEnv env = {vars, temps, 0, 1e-4};
    mir_syn_exec(s, b, &env);
    return vars[s->w_slot];
}

START_TEST(hard_soft_and_dale) {
    Compiled c;
    ck_assert_msg(compile_text(&c, rules_model), "compile failed");
    const MirSyn *hard = syn_named(c.low, "Hard"), *soft = syn_named(c.low, "Soft"), *dale = syn_named(c.low, "Dale");
    const double nS = 1e-9;
    /* hard: clip to [0, 2 nS] */
    ck_assert_double_eq_tol(run_rule(hard, &hard->on_post, 1.5 * nS, 0.3, 0), 1.8 * nS, 1e-24);
    ck_assert(run_rule(hard, &hard->on_post, 1.5 * nS, 0.9, 0) == 2 * nS);
    ck_assert(run_rule(hard, &hard->on_pre, 0.5 * nS, 0, 0.9) == 0);
    /* soft: dw scaled by (hi - w0)/(hi - lo) up, (w0 - lo)/(hi - lo) down */
    double w0 = 1.5 * nS, dw = 0.9 * nS;
    ck_assert_double_eq_tol(run_rule(soft, &soft->on_post, w0, 0.9, 0), w0 + dw * (2 * nS - w0) / (2 * nS), 1e-24);
    ck_assert_double_eq_tol(run_rule(soft, &soft->on_pre, w0, 0, 0.9), w0 - dw * (w0 - 0) / (2 * nS), 1e-24);
    ck_assert(run_rule(soft, &soft->on_post, w0, 100, 0) == 2 * nS);   /* still clipped */
    /* Dale: no bounds, the sign of w never changes */
    ck_assert(run_rule(dale, &dale->on_pre, 0.5 * nS, 0, 3) == 0);
    ck_assert_double_eq_tol(run_rule(dale, &dale->on_pre, 2.5 * nS, 0, 1), 1.5 * nS, 1e-24);
    ck_assert(run_rule(dale, &dale->on_post, -0.5 * nS, 3, 0) == 0);            /* negative stays <= 0 */
    ck_assert_double_eq_tol(run_rule(dale, &dale->on_post, -2.5 * nS, 1, 0), -1.5 * nS, 1e-24);
    /* traces: tau, increment, add or set, side */
    ck_assert_int_eq(hard->ntraces, 2);
    ck_assert(!hard->traces[0].post && hard->traces[1].post && hard->traces[1].inc == 0.5);
    ck_assert(soft->traces[1].set && !soft->traces[0].set && soft->traces[0].tau == 0.02);
    const RtPlasticDesc *pd = c.low->desc.projs[soft->proj].plastic;
    ck_assert_int_eq(pd->ntraces_pre, 1);
    ck_assert_int_eq(pd->ntraces_post, 1);
    ck_assert(pd->traces_post[0].mode == RT_TRACE_SET && pd->traces_pre[0].mode == RT_TRACE_ADD);
    front_free(&c.s);
}
END_TEST

START_TEST(rate_every_and_post_state) {
    Compiled c;
    ck_assert_msg(compile_text(&c, rules_model), "compile failed");
    const MirSyn *sc = syn_named(c.low, "Scaling"), *vo = syn_named(c.low, "Voltage");
    ck_assert(sc->has_every && sc->every_s == 0.01 && !sc->has_on_post);
    ck_assert_int_eq(sc->ntraces, 1);
    ck_assert(sc->traces[0].rate && sc->traces[0].post && sc->traces[0].tau == 1.0 && sc->traces[0].inc == 1.0);
    const RtPlasticDesc *pd = c.low->desc.projs[sc->proj].plastic;
    ck_assert(pd->every_s == 0.01 && pd->ntraces_post == 1 && pd->ntraces_pre == 0);
    double vars[16] = {0}, temps[16] = {0};
    vars[sc->w_slot] = 1e-9;
    vars[slot_named(sc, "r")] = 4;                              /* 4 Hz against 5 Hz */
    MirSynEnv env = {vars, temps, 0, 1e-4};
    mir_syn_exec(sc, &sc->every, &env);
    ck_assert_double_eq_tol(vars[sc->w_slot], 1e-9 * (1 + 0.1 * 0.2), 1e-24);
    int v = slot_named(vo, "post.V");
    ck_assert_int_eq(vo->vars[v].kind, MSV_POST_STATE);
    ck_assert_int_eq(vo->vars[v].index, 0);                     /* V is state 0 of N */
    front_free(&c.s);
}
END_TEST

/* ---- JIT kernels against the interpreter ---------------------------------------- */

enum { NPRE = 3, NPOST = 2, NSYN = NPRE * NPOST, NSTATE = 2 };

/* The runtime's arrays for one projection P -> Q (all_to_all, CSR order). */
typedef struct Arrays {
    double w[NSYN], syn[4][NSYN], pre_tr[4][NPRE], post_tr[4][NPOST], post_st[NSTATE][NPOST], input[NPOST];
    uint32_t post[NSYN];
    int64_t last[NSYN];         /* syn_clock */
    int64_t row[NPRE + 1];
} Arrays;

static void fill(Arrays *a, unsigned seed) {
    srand(seed);
    for (int q = 0; q < NSYN; q++) {
        a->post[q] = (uint32_t)(q % NPOST);
        a->w[q] = (0.2 + 1.6 * rand() / (double)RAND_MAX) * 1e-9;
        for (int v = 0; v < 4; v++) a->syn[v][q] = 0.1 + 0.8 * rand() / (double)RAND_MAX;
        a->last[q] = rand() % 100;
    }
    for (int i = 0; i <= NPRE; i++) a->row[i] = i * NPOST;
    for (int k = 0; k < 4; k++) {
        for (int i = 0; i < NPRE; i++) a->pre_tr[k][i] = 2.0 * rand() / RAND_MAX;
        for (int j = 0; j < NPOST; j++) a->post_tr[k][j] = 2.0 * rand() / RAND_MAX;
    }
    for (int j = 0; j < NPOST; j++) {
        a->post_st[0][j] = -0.075 + 0.03 * rand() / RAND_MAX;
        a->post_st[1][j] = 1e-9;
        a->input[j] = 0.5e-9 * j;
    }
}

/* The interpreter's view of synapse q (pre i, post j) of `s` in `a`. */
static void gather(const MirSyn *s, const Arrays *a, int q, int i, int j, double elapsed, double *vars) {
    int side[2] = {0, 0};
    for (int v = 0; v < s->nvars; v++) {
        const MirSynVar *var = &s->vars[v];
        switch (var->kind) {
        case MSV_WEIGHT: vars[v] = a->w[q]; break;
        case MSV_SYN: vars[v] = a->syn[var->index][q]; break;
        case MSV_TRACE_PRE: vars[v] = a->pre_tr[side[0]++][i]; break;
        case MSV_TRACE_POST: vars[v] = a->post_tr[side[1]++][j]; break;
        case MSV_POST_STATE: vars[v] = a->post_st[var->index][j]; break;
        case MSV_ELAPSED: vars[v] = elapsed; break;
        default: vars[v] = 0; break;
        }
    }
}

static void close_to(double got, double want, const char *what, int q) {
    ck_assert_msg(got == want || fabs(got - want) <= 1e-14 * fabs(want),
                  "%s of synapse %d: kernel %.17g, interpreter %.17g", what, q, got, want);
}

/* Runs kernel `kind` of `s` through the JIT on arrays `a` for an event of
 * pre neuron 1 (on pre) or post neuron 1 (on post, every) and checks every
 * synapse against the interpreter. */
static void check_kernel(Jit *j, const MirSyn *s, int index, CgSynKernel kind) {
    char name[64];
    cg_syn_kernel_name(name, sizeof name, kind, index);
    RtSynFn fn = (RtSynFn)(uintptr_t)jit_lookup(j, name);
    ck_assert_msg(fn != NULL, "no %s", name);
    Arrays a, ref;
    fill(&a, 11u + (unsigned)index);
    ref = a;
    double *syn[4] = {a.syn[0], a.syn[1], a.syn[2], a.syn[3]};
    const double *pre_tr[4] = {a.pre_tr[0], a.pre_tr[1], a.pre_tr[2], a.pre_tr[3]};
    double *post_tr[4] = {a.post_tr[0], a.post_tr[1], a.post_tr[2], a.post_tr[3]};
    const double *post_st[NSTATE] = {a.post_st[0], a.post_st[1]};
    RtSynArgs args = {.w = a.w, .syn = syn, .post = a.post, .row = a.row, .pre_trace = pre_tr, .post_trace = post_tr,
                      .post_state = post_st, .input = a.input, .syn_last = s->syn_clock ? a.last : NULL,
                      .step = 100, .t = 0.01, .dt = 1e-4, .nsyn = NSYN, .gain = 1 /* v3: on_pre adds gain*efficacy */};
    uint32_t list[NPRE], pres[NPRE];
    for (int i = 0; i < NPRE; i++) list[i] = (uint32_t)(i * NPOST + 1), pres[i] = (uint32_t)i;
    RtSynEvent ev = {.neuron = 1, .elapsed = 0.0123};
    if (kind == CG_SYN_PRE) ev.first = 2, ev.last = 4;
    else ev.syn = list, ev.pre = pres, ev.first = 0, ev.last = NPRE;
    fn(&args, &ev);
    for (int k = (int)ev.first; k < (int)ev.last; k++) {
        int q = kind == CG_SYN_PRE ? k : (int)list[k], i = kind == CG_SYN_PRE ? 1 : (int)pres[k];
        int jj = kind == CG_SYN_PRE ? (int)ref.post[q] : 1;
        double vars[32], temps[64] = {0};
        double elapsed = s->syn_clock ? (double)(100 - ref.last[q]) * 1e-4 : ev.elapsed;
        gather(s, &ref, q, i, jj, elapsed, vars);
        MirSynEnv env = {vars, temps, 0.01, 1e-4};
        if (kind == CG_SYN_PRE) {
            mir_syn_pre_event(s, &env, elapsed);
            ref.input[jj] += vars[s->deliver_slot];
        } else {
            if (s->syn_clock) mir_syn_exec(s, &s->decay, &env);
            mir_syn_exec(s, kind == CG_SYN_POST ? &s->on_post : &s->every, &env);
        }
        if (s->syn_clock) ck_assert_int_eq(a.last[q], 100);
        close_to(a.w[q], vars[s->w_slot], "w", q);
        for (int v = 0; v < s->nvars; v++)
            if (s->vars[v].kind == MSV_SYN) close_to(a.syn[s->vars[v].index][q], vars[v], s->vars[v].name, q);
    }
    for (int jj = 0; jj < NPOST; jj++) close_to(a.input[jj], ref.input[jj], "input", jj);
}

START_TEST(jit_kernels_match_interpreter) {
    Compiled c;
    ck_assert_msg(compile_text(&c, rules_model), "compile failed");
    CgTarget tgt;
    char err[512];
    ck_assert_msg(cg_target_host(&tgt, err, sizeof err) == 0, "%s", err);
    JitOptions o = {.cache_dir = ""};
    Jit *j = jit_create(&tgt, &o, err, sizeof err);
    ck_assert_msg(j != NULL, "%s", err);
    LLVMModuleRef m = cg_emit_model(jit_context(j), jit_target(j), &c.low->mir, err, sizeof err);
    ck_assert_msg(m && cg_syn_emit_all(m, jit_target(j), c.low->syns, c.low->nsyns, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(jit_add_module(j, m, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(c.low->nsyns, 7);
    const MirSyn *el = syn_named(c.low, "Elig");
    ck_assert(el->syn_clock && el->has_on_post && el->has_every && c.low->plastic[el - c.low->syns].syn_clock);
    for (int k = 0; k < c.low->nsyns; k++)
        for (int kind = CG_SYN_PRE; kind <= CG_SYN_EVERY; kind++)
            if (cg_syn_has_kernel(&c.low->syns[k], (CgSynKernel)kind))
                check_kernel(j, &c.low->syns[k], k, (CgSynKernel)kind);
    ck_assert_msg(cg_syn_bind(c.low->syns, c.low->nsyns, c.low->plastic, (void *(*)(void *, const char *))jit_lookup,
                              j, err, sizeof err) == 0, "%s", err);
    const MirSyn *sc = syn_named(c.low, "Scaling");
    const RtPlasticDesc *pd = &c.low->plastic[sc - c.low->syns];
    ck_assert(pd->on_pre && pd->every && !pd->on_post);
    jit_free(j);
    front_free(&c.s);
}
END_TEST

/* ---- what is not compiled yet is [unsupported] --------------------------------- */

static void expect_unsupported(const char *decls, const char *clause, const char *needle) {
    char text[4096];
    snprintf(text, sizeof text,
             "import std.receptors\n%s\n"
             "neuron N { parameter tau = 10 ms  state V = 0 mV  dV/dt = -V/tau + I_syn/(1 nF) }\n"
             "network Net { population P = 2 of N\n"
             "  connect P -> P via AMPA all_to_all weight 1 nS delay 1 ms %s }\n"
             "simulate Net for 10 ms dt 0.1 ms\n",
             decls, clause);
    Compiled c;
    ck_assert_msg(!compile_text(&c, text), "compiled: %s", clause);
    ck_assert_msg(has_unsupported(&c, needle), "no [unsupported] '%s' for %s", needle, clause);
    front_free(&c.s);
}

START_TEST(unsupported_constructs) {
    expect_unsupported("synapse S per pre { state x = 1\n on pre { deliver w*x\n x -= x*w/(10 nS) } }",
                       "synapse S", "updated from 'w'");
    expect_unsupported("plasticity R { on post { w += 1 nS } }\n"
                       "synapse S per pre { state x = 1\n on pre { deliver w*x\n x -= 0.5*x } }",
                       "synapse S with R", "a plasticity rule on a synapse model with state per presynaptic");
    expect_unsupported("synapse S { parameter tau = 10 ms\n state x = 1\n dx/dt = -x*x/tau\n on pre { deliver w*x } }",
                       "synapse S", "relax exactly");
    expect_unsupported("synapse S per pre { parameter tau = 10 ms\n state x = 1\n dx/dt = (1 - x)/tau\n"
                       " on pre { deliver w*x\n x -= 0.5*x }\n on post { x = 1 } }",
                       "synapse S", "'on post' in a synapse model with state per presynaptic");
}
END_TEST

Suite *plastic_suite(void);
Suite *plastic_suite(void) {
    Suite *s = suite_create("plastic");
    TCase *t = tcase_create("core");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, tm_lowered_matches_recursion);
    tcase_add_test(t, hard_soft_and_dale);
    tcase_add_test(t, rate_every_and_post_state);
    tcase_add_test(t, jit_kernels_match_interpreter);
    tcase_add_test(t, unsupported_constructs);
    suite_add_tcase(s, t);
    return s;
}
