/* test_rt_ei.c - the E/I mechanisms of ABI v3 driven through rt_abi.h with
 * hand-written kernels: silencing and lesions (count round(f*N), the
 * documented Philox choice, nested fractions, no spikes emitted or
 * delivered, identical for 1/2/3 threads), projection gains (x2 doubles the
 * delivered conductance exactly on the static, constant-weight, delay-ring
 * and plastic paths; gain 1 bit-identical to none; gains linked to globals),
 * modulators (exact A*exp(-t/tau) after a release, baselines, a globals
 * kernel), the balance monitor against a two-pass reference computed from
 * the same current traces, weight recordings (rows, index file, numpy),
 * descriptor checks and allocation failures. */
#include <check.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt_abi.h"
#include "rt_npy.h"
#include "rt_rng.h"
#include "rt_tiny_model.h"
#include "rt_util.h"

#define DT 1e-4

/* The documented x86-64 offsets of the v3 fields (generated code uses them). */
_Static_assert(offsetof(RtPopArgs, globals) == 96, "RtPopArgs.globals");
_Static_assert(offsetof(RtSynArgs, globals) == 136 && offsetof(RtSynArgs, gain) == 144, "RtSynArgs");
_Static_assert(offsetof(RtGlobalsArgs, step) == 8 && offsetof(RtGlobalsArgs, nglobals) == 40,
               "RtGlobalsArgs");

#define RT_TEST_DIR_PREFIX "/tmp/rt_ei_"
#include "rt_test_files.h"
#include "rt_test_run.h"

/* run_options_out with the seed these tests' expected values assume. */
static RtRunOptions options(int threads, const char *out) {
    RtRunOptions o = run_options_out(threads, out);
    o.seed = 11;
    return o;
}

/* ---- kernels ---- */

/* state 0 counts steps (its dynamics go on while silenced); fires every step. */
static void always(const RtPopArgs *a, int64_t begin, int64_t end) {
    double *x = a->state[0], *in = a->input[0];
    for (int64_t i = begin; i < end; i++) {
        x[i] += 1;
        in[i] = 0;
        a->spiked[i] = 1;
    }
}

/* state 0 sums the input, state 1 holds this step's input; never fires. */
static void recorder(const RtPopArgs *a, int64_t begin, int64_t end) {
    double *sum = a->state[0], *last = a->state[1], *in = a->input[0];
    for (int64_t i = begin; i < end; i++) {
        sum[i] += in[i];
        last[i] = in[i];
        in[i] = 0;
        a->spiked[i] = 0;
    }
}

static const RtVarDesc rec_vars[] = {{"sum", "S", {RT_DIST_CONST, 0, 0}},
                                     {"last", "S", {RT_DIST_CONST, 0, 0}},
                                     {"third", "1", {RT_DIST_CONST, 0, 0}}};

/* ---- silence and lesion ---- */

#define SIL_N 101

/* A (always) -> C (counter) one to one, delay one step; silence of A by key
 * 3 (fraction `f`) in steps [10, 30), lesion key 7 (0.1) from step 40, and
 * an unsilence of key 7 at 45 that must not revive the lesioned neurons. */
static RtModelDesc silence_model(RtPopDesc pops[2], RtProjDesc *proj, RtEventDesc ev[4], double f) {
    pops[0] = tiny_pop("A", SIL_N, always);
    pops[1] = tiny_pop("C", SIL_N, tiny_counter);
    *proj = (RtProjDesc){.name = "A->C", .pre = 0, .post = 1, .rule = RT_CONN_ONE_TO_ONE,
                         .weight = {RT_DIST_CONST, 1, 0}, .delay = {RT_DIST_CONST, DT, 0}};
    ev[0] = (RtEventDesc){10 * DT, RT_EV_SILENCE, 0, 3, f};
    ev[1] = (RtEventDesc){30 * DT, RT_EV_UNSILENCE, 0, 3, 0};
    ev[2] = (RtEventDesc){40 * DT, RT_EV_LESION, 0, 7, 0.1};
    ev[3] = (RtEventDesc){45 * DT, RT_EV_UNSILENCE, 0, 7, 0};
    RtModelDesc m = tiny_model(pops, 2, proj, 1);
    m.nevents = 4;
    m.events = ev;
    m.duration_s = 60 * DT;
    return m;
}

/* The documented choice: the k smallest (u_i, i), u_i the first uniform of
 * Philox(seed, (RT_STREAM_SILENCE, pop), key << 32 | i). */
static int64_t reference_choice(uint64_t seed, int pop, int key, int64_t n, double f, uint8_t *in) {
    int64_t k = (int64_t)round(f * (double)n);
    double u[SIL_N];
    for (int64_t i = 0; i < n; i++) {
        RtRng r;
        rt_rng_init(&r, seed, rt_stream(RT_STREAM_SILENCE, (uint32_t)pop, 0), (uint64_t)key << 32 | (uint64_t)i);
        u[i] = rt_rng_uniform(&r);
    }
    memset(in, 0, (size_t)n);
    for (int64_t c = 0; c < k; c++) {   /* k times: the smallest not yet taken */
        int64_t best = -1;
        for (int64_t i = 0; i < n; i++)
            if (!in[i] && (best < 0 || u[i] < u[best]))
                best = i;
        in[best] = 1;
    }
    return k;
}

/* Runs the silence model on `threads` threads; fills the silenced lists at
 * steps 20 (key 3) and 50 (lesion) and the counter states at the end. */
static void run_silence(int threads, double f, uint8_t sil3[SIL_N], uint8_t les[SIL_N],
                        double counts[SIL_N], int64_t *spikes) {
    RtPopDesc pops[2];
    RtProjDesc proj;
    RtEventDesc ev[4];
    RtModelDesc m = silence_model(pops, &proj, ev, f);
    RtRunOptions o = options(threads, NULL);
    RtError err;
    RtSim *s = rt_sim_create(&m, &o, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    ck_assert_int_eq(rt_sim_silenced(s, 0, NULL), 0);
    ck_assert_int_eq(rt_sim_run(s, 20, &err), RT_OK);
    const RtNeuron *list;
    int64_t n = rt_sim_silenced(s, 0, &list);
    memset(sil3, 0, SIL_N);
    for (int64_t k = 0; k < n; k++) {
        ck_assert(k == 0 || list[k] > list[k - 1]);   /* ascending */
        sil3[list[k]] = 1;
    }
    int64_t nspk;
    const RtNeuron *spk = rt_sim_last_spikes(s, 0, &nspk);   /* step 19: silenced ones quiet */
    ck_assert_int_eq(nspk, SIL_N - n);
    for (int64_t k = 0; k < nspk; k++)
        ck_assert(!sil3[spk[k]]);
    ck_assert_int_eq(rt_sim_run(s, 15, &err), RT_OK);   /* step 35: all free again */
    ck_assert_int_eq(rt_sim_silenced(s, 0, NULL), 0);
    ck_assert_int_eq(rt_sim_run(s, 15, &err), RT_OK);   /* step 50: the lesion holds */
    n = rt_sim_silenced(s, 0, &list);
    memset(les, 0, SIL_N);
    for (int64_t k = 0; k < n; k++)
        les[list[k]] = 1;
    ck_assert_int_eq(rt_sim_run(s, -1, &err), RT_OK);
    memcpy(counts, rt_sim_state(s, 1, 0), SIL_N * sizeof(double));
    const double *x = rt_sim_state(s, 0, 0);
    for (int i = 0; i < SIL_N; i++)   /* the membrane (here a step counter) went on */
        ck_assert_double_eq(x[i], 60);
    *spikes = rt_sim_spike_count(s, 0);
    rt_sim_free(s);
}

START_TEST(test_silence_fraction) {
    uint8_t sil[3][SIL_N], les[3][SIL_N], ref3[SIL_N], ref7[SIL_N];
    double counts[3][SIL_N];
    int64_t spikes[3];
    for (int t = 0; t < 3; t++)
        run_silence(t + 1, 0.5, sil[t], les[t], counts[t], &spikes[t]);
    int64_t k3 = reference_choice(11, 0, 3, SIL_N, 0.5, ref3);
    int64_t k7 = reference_choice(11, 0, 7, SIL_N, 0.1, ref7);
    ck_assert_int_eq(k3, 51);   /* round(50.5) */
    ck_assert_int_eq(k7, 10);   /* round(10.1) */
    int64_t n3 = 0, n7 = 0, expect_spikes = 0;
    for (int i = 0; i < SIL_N; i++) {
        n3 += sil[0][i];
        n7 += les[0][i];
        ck_assert_int_eq(sil[0][i], ref3[i]);
        ck_assert_int_eq(les[0][i], ref7[i]);
        /* steps 0..59: 20 silent steps for key 3, 20 for the lesion */
        int emitted = 60 - (ref3[i] ? 20 : 0) - (ref7[i] ? 20 : 0);
        expect_spikes += emitted;
        /* delivered by step 59: the spikes of steps 0..58 */
        ck_assert_double_eq(counts[0][i], emitted - (ref7[i] ? 0 : 1));
    }
    ck_assert_int_eq(n3, 51);
    ck_assert_int_eq(n7, 10);
    ck_assert_int_eq(spikes[0], expect_spikes);
    for (int t = 1; t < 3; t++) {   /* 2 and 3 threads: the same neurons and sums */
        ck_assert_mem_eq(sil[t], sil[0], SIL_N);
        ck_assert_mem_eq(les[t], les[0], SIL_N);
        ck_assert_mem_eq(counts[t], counts[0], sizeof counts[0]);
        ck_assert_int_eq(spikes[t], spikes[0]);
    }
}
END_TEST

/* For one key a smaller fraction chooses a subset; fractions 0 and 1. */
START_TEST(test_silence_nested) {
    uint8_t big[SIL_N], small[SIL_N], les[SIL_N];
    double counts[SIL_N];
    int64_t spikes;
    run_silence(1, 0.5, big, les, counts, &spikes);
    run_silence(2, 0.2, small, les, counts, &spikes);
    int nb = 0, ns = 0;
    for (int i = 0; i < SIL_N; i++) {
        nb += big[i];
        ns += small[i];
        ck_assert(!small[i] || big[i]);
    }
    ck_assert_int_eq(nb, 51);
    ck_assert_int_eq(ns, 20);   /* round(20.2) */
    run_silence(1, 0.0, small, les, counts, &spikes);
    for (int i = 0; i < SIL_N; i++)
        ck_assert_int_eq(small[i], 0);
    run_silence(3, 1.0, small, les, counts, &spikes);
    for (int i = 0; i < SIL_N; i++)
        ck_assert_int_eq(small[i], 1);
}
END_TEST

/* ---- gains ---- */

#define GP 13   /* pre neurons */
#define GQ 9    /* post neurons */

enum { PATH_STATIC, PATH_CONST, PATH_RING, PATH_PLASTIC, PATH_ON_PRE };

static int saw_globals;   /* on_pre saw a non-NULL globals array */

/* on_pre adding gain * w, as generated code must. */
static void gain_on_pre(const RtSynArgs *a, const RtSynEvent *e) {
    saw_globals |= a->globals != NULL;
    for (int64_t q = e->first; q < e->last; q++)
        a->input[a->post[q]] += a->gain * a->w[q];
}

static const RtPlasticDesc plain_plastic = {0};
static const RtPlasticDesc on_pre_plastic = {.on_pre = gain_on_pre};
static const RtGlobalDesc level_global[] = {{"ctx.level", "1", RT_GLOBAL_LEVEL, 1.0, 0, 0}};

/* P (always) -> R (recorder) all to all through one delivery path; the gain
 * becomes g at step 5 (event, or via a linked global when `linked`). Returns
 * R's `last` input of steps 0..9 in last[step][post]. */
static void run_gain(int path, double g, int with_event, int linked, int threads,
                     double last[10][GQ], double *gain_after) {
    RtPopDesc pops[2] = {tiny_pop("P", GP, always), tiny_pop("R", GQ, recorder)};
    pops[1].nstates = 2;
    pops[1].states = rec_vars;
    RtProjDesc proj = {.name = "P->R", .pre = 0, .post = 1, .rule = RT_CONN_ALL_TO_ALL,
                       .weight = {RT_DIST_UNIFORM, 1e-9, 2e-9}, .delay = {RT_DIST_CONST, DT, 0}};
    if (path == PATH_CONST)
        proj.weight = (RtDist){RT_DIST_CONST, 1.3e-9, 0};
    if (path == PATH_RING)
        proj.delay = (RtDist){RT_DIST_UNIFORM, 0.6 * DT, 3.4 * DT};   /* 1..3 steps */
    if (path == PATH_PLASTIC)
        proj.plastic = &plain_plastic;
    if (path == PATH_ON_PRE)
        proj.plastic = &on_pre_plastic;
    RtEventDesc ev = {5 * DT, linked ? RT_EV_SET_GLOBAL : RT_EV_SET_GAIN, 0, 0, g};
    RtModelDesc m = tiny_model(pops, 2, &proj, 1);
    m.nevents = with_event;
    m.events = &ev;
    if (linked) {
        proj.gain_global = 1;
        m.nglobals = 1;
        m.globals = level_global;
    }
    RtRunOptions o = options(threads, NULL);
    RtError err;
    RtSim *s = rt_sim_create(&m, &o, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    for (int step = 0; step < 10; step++) {
        ck_assert_int_eq(rt_sim_step(s, &err), RT_OK);
        memcpy(last[step], rt_sim_state(s, 1, 1), sizeof last[step]);
    }
    *gain_after = rt_sim_gain(s, 0);
    rt_sim_free(s);
}

/* A gain of 2 doubles every delivered conductance exactly, from the event's
 * step on, on each delivery path; for 1 and 3 threads. */
START_TEST(test_gain_doubles) {
    for (int path = PATH_STATIC; path <= PATH_ON_PRE; path++)
        for (int threads = 1; threads <= 3; threads += 2) {
            double last[10][GQ], gain;
            run_gain(path, 2.0, 1, 0, threads, last, &gain);
            ck_assert_double_eq(gain, 2.0);
            int first = path == PATH_RING ? 3 : 1;   /* all delays arriving */
            for (int j = 0; j < GQ; j++) {
                ck_assert(last[4][j] > 0);
                for (int step = first; step < 5; step++)
                    ck_assert_double_eq(last[step][j], last[4][j]);
                for (int step = 5; step < 10; step++)
                    ck_assert_msg(last[step][j] == 2.0 * last[4][j], "path %d post %d step %d: "
                                  "%.17g vs 2 * %.17g", path, j, step, last[step][j], last[4][j]);
            }
        }
    ck_assert(saw_globals);
}
END_TEST

/* Gain 1 (by event) is bit-identical to no gain; gain 1.5 equals the sum of
 * 1.5*w over the spikes in delivery order; a gain linked to a global
 * follows the global's event. */
START_TEST(test_gain_exact) {
    for (int path = PATH_STATIC; path <= PATH_ON_PRE; path++) {
        double none[10][GQ], one[10][GQ], linked[10][GQ], two[10][GQ], gain;
        run_gain(path, 1.0, 0, 0, 1, none, &gain);
        ck_assert_double_eq(gain, 1.0);
        run_gain(path, 1.0, 1, 0, 2, one, &gain);
        ck_assert_mem_eq(one, none, sizeof none);
        run_gain(path, 2.0, 1, 1, 1, linked, &gain);
        run_gain(path, 2.0, 1, 0, 1, two, &gain);
        ck_assert_mem_eq(linked, two, sizeof two);
        ck_assert_double_eq(gain, 2.0);
    }
    /* 1.5 on the static path against a sum formed in the runtime's order */
    double last[10][GQ], gain;
    run_gain(PATH_STATIC, 1.5, 1, 0, 1, last, &gain);
    RtPopDesc pops[2] = {tiny_pop("P", GP, always), tiny_pop("R", GQ, recorder)};
    RtProjDesc proj = {.name = "P->R", .pre = 0, .post = 1, .rule = RT_CONN_ALL_TO_ALL,
                       .weight = {RT_DIST_UNIFORM, 1e-9, 2e-9}, .delay = {RT_DIST_CONST, DT, 0}};
    RtModelDesc m = tiny_model(pops, 2, &proj, 1);
    RtRunOptions o = options(1, NULL);
    RtError err;
    RtSim *s = rt_sim_create(&m, &o, &err);
    ck_assert_ptr_nonnull(s);
    const int64_t *row = rt_sim_rows(s, 0);
    const uint32_t *post = rt_sim_posts(s, 0);
    const double *w = rt_sim_weights(s, 0);
    double ref[GQ] = {0};
    for (int i = 0; i < GP; i++)
        for (int64_t q = row[i]; q < row[i + 1]; q++)
            ref[post[q]] += 1.5 * w[q];
    for (int j = 0; j < GQ; j++)
        ck_assert_double_eq(last[7][j], ref[j]);
    rt_sim_free(s);
}
END_TEST

/* ---- modulators ---- */

/* state v = globals[v]: what kernels see in the step. */
static void read_globals(const RtPopArgs *a, int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
        for (int v = 0; v < 3; v++)
            a->state[v][i] = a->globals[v];
        a->input[0][i] = 0;
        a->spiked[i] = 0;
    }
}

/* globals_update: the ramp global 2 grows by 3*dt per step. */
static void ramp(const RtGlobalsArgs *a) {
    a->globals[2] += 3 * a->dt;
}

/* A release of 0.7 at 5 ms then 0.3 at 8 ms into a modulator with tau = 20
 * ms: the level read in step s is 0.7 e^{-(s-50)dt/tau} + 0.3 e^{-(s-80)dt/tau}
 * (1e-12 relative); a second one with baseline 0.2, tau 5 ms; a kernel ramp. */
START_TEST(test_modulator_decay) {
    static const RtGlobalDesc globals[] = {
        {"DA.level", "1", RT_GLOBAL_DECAY, 0.0, 20e-3, 0.0},
        {"NE.level", "1", RT_GLOBAL_DECAY, 0.2, 5e-3, 0.2},
        {"ramp", "1", RT_GLOBAL_KERNEL, 0.0, 0, 0},
    };
    static const RtEventDesc ev[] = {
        {50 * DT, RT_EV_ADD_GLOBAL, 0, 0, 0.7},
        {50 * DT, RT_EV_ADD_GLOBAL, 1, 0, 1.0},
        {80 * DT, RT_EV_ADD_GLOBAL, 0, 0, 0.3},
    };
    RtPopDesc pop = tiny_pop("M", 3, read_globals);
    pop.nstates = 3;
    pop.states = rec_vars;
    for (int threads = 1; threads <= 2; threads++) {
        RtModelDesc m = tiny_model(&pop, 1, NULL, 0);
        m.nglobals = 3;
        m.globals = globals;
        m.globals_update = ramp;
        m.nevents = 3;
        m.events = ev;
        RtRunOptions o = options(threads, NULL);
        RtError err;
        RtSim *s = rt_sim_create(&m, &o, &err);
        ck_assert_msg(s != NULL, "%s", err.msg);
        double r = 0;
        for (int step = 0; step < 400; step++) {
            ck_assert_int_eq(rt_sim_step(s, &err), RT_OK);
            double da = step < 50 ? 0 : 0.7 * exp(-(step - 50) * DT / 20e-3);
            if (step >= 80)
                da += 0.3 * exp(-(step - 80) * DT / 20e-3);
            double ne = step < 50 ? 0.2 : 0.2 + exp(-(step - 50) * DT / 5e-3);
            double x0 = rt_sim_state(s, 0, 0)[threads], x1 = rt_sim_state(s, 0, 1)[0];
            if (step < 50)
                ck_assert_double_eq(x0, 0);
            else
                ck_assert_msg(fabs(x0 - da) <= 1e-12 * da, "step %d: %.17g vs %.17g", step, x0, da);
            ck_assert_msg(fabs(x1 - ne) <= 1e-12 * ne, "step %d: %.17g vs %.17g", step, x1, ne);
            ck_assert_double_eq(rt_sim_state(s, 0, 2)[2], r);   /* value of step s */
            r += 3 * DT;
            ck_assert_double_eq(rt_sim_globals(s)[2], r);       /* ready for step s+1 */
        }
        rt_sim_free(s);
    }
}
END_TEST

/* ---- balance monitor ---- */

/* Currents as functions of (neuron, step), shared by the kernel and the
 * reference; neuron 5's inhibition is constant (no correlation defined). */
static double cur_e(int64_t i, RtStep s) { return 1e-9 * (1 + 0.5 * sin(0.37 * (double)s + (double)i)); }
static double cur_i(int64_t i, RtStep s) {
    if (i == 5)
        return -1e-9;
    return -1e-9 * (0.8 + 0.3 * sin(0.37 * (double)s + (double)i) + 0.2 * cos(1.3 * (double)s * (double)(i + 1)));
}

static void currents(const RtPopArgs *a, int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
        a->state[0][i] = cur_e(i, a->step);
        a->state[1][i] = cur_i(i, a->step);
        a->input[0][i] = 0;
        a->spiked[i] = 0;
    }
}

static const RtVarDesc bal_vars[] = {{"balance.I_E", "A", {RT_DIST_CONST, 0, 0}},
                                     {"balance.I_I", "A", {RT_DIST_CONST, 0, 0}}};

/* Two-pass statistics of window w, neuron i: mean e, mean i, ratio, corr. */
static void reference_window(int64_t i, int w, int W, double out[4]) {
    double se = 0, si = 0;
    for (int k = 0; k < W; k++) {
        se += cur_e(i, (RtStep)(w * W + k));
        si += cur_i(i, (RtStep)(w * W + k));
    }
    double me = se / W, mi = si / W, vee = 0, vii = 0, cei = 0;
    for (int k = 0; k < W; k++) {
        double de = cur_e(i, (RtStep)(w * W + k)) - me, di = cur_i(i, (RtStep)(w * W + k)) - mi;
        vee += de * de;
        vii += di * di;
        cei += de * di;
    }
    out[0] = me;
    out[1] = mi;
    out[2] = -mi / me;
    out[3] = vii > 0 ? -cei / sqrt(vee * vii) : NAN;
}

/* Runs 110 steps with a balance monitor of neurons [2, 7), window W; returns
 * the file's data (4 doubles per neuron and window). */
static double *run_balance(int threads, int W, int64_t *rows, int64_t *cols) {
    RtPopDesc pop = tiny_pop("E", 8, currents);
    pop.nstates = 2;
    pop.states = bal_vars;
    RtRecDesc rec = {.kind = RT_REC_BALANCE, .pop = 0, .var = 0, .var2 = 1, .begin = 2, .end = 7,
                     .every = W, .file = "E_balance.npy"};
    RtModelDesc m = tiny_model(&pop, 1, NULL, 0);
    m.nrecs = 1;
    m.recs = &rec;
    m.duration_s = 110 * DT;
    RtRunOptions o = options(threads, dir);
    run_to_files(&m, &o);
    char descr[64];
    double *d = read_npy("E_balance.npy", descr, rows, cols, 5 * 32);
    ck_assert_str_eq(descr, "[('I_E','<f8'),('I_I','<f8'),('ratio','<f8'),('corr','<f8')]");
    return d;
}

START_TEST(test_balance_monitor) {
    make_dir();
    int64_t rows, cols;
    double *d1 = run_balance(1, 25, &rows, &cols);
    ck_assert_int_eq(rows, 4);   /* 110 steps: 4 whole windows of 25 */
    ck_assert_int_eq(cols, 5);
    for (int w = 0; w < 4; w++)
        for (int64_t i = 2; i < 7; i++) {
            double ref[4], *got = d1 + (w * 5 + (i - 2)) * 4;
            reference_window(i, w, 25, ref);
            for (int f = 0; f < 3; f++)
                ck_assert_msg(fabs(got[f] - ref[f]) <= 1e-12 * fabs(ref[f]), "window %d neuron "
                              "%lld field %d: %.17g vs %.17g", w, (long long)i, f, got[f], ref[f]);
            if (i == 5)
                ck_assert(isnan(got[3]));
            else
                ck_assert_msg(fabs(got[3] - ref[3]) <= 1e-10, "corr %.17g vs %.17g", got[3], ref[3]);
        }
    const char *man = read_text("manifest.json");
    ck_assert(strstr(man, "\"kind\": \"balance\"") != NULL);
    ck_assert(strstr(man, "\"windows\": 4") != NULL);
    int py = python("a = np.load(d + '/E_balance.npy'); "
                    "assert a.shape == (4, 5) and a.dtype.names == ('I_E', 'I_I', 'ratio', 'corr'); "
                    "assert np.isnan(a['corr'][:, 3]).all() and not np.isnan(a['corr'][:, 0]).any(); "
                    "assert abs(a['ratio'] + a['I_I'] / a['I_E']).max() == 0; "
                    "m = json.load(open(d + '/manifest.json')); "
                    "r = [x for x in m['recordings'] if x['kind'] == 'balance'][0]; "
                    "assert r['variables'] == ['I_E', 'I_I', 'ratio', 'corr'] and r['neurons'] == [2, 7]");
    ck_assert_int_ne(py, 1);
    double *d3 = run_balance(3, 25, &rows, &cols);   /* any thread count: same bits */
    ck_assert_mem_eq(d3, d1, 4 * 5 * 32);
    free(d1);
    free(d3);
    double *d = run_balance(2, 1, &rows, &cols);   /* W = 1: one sample, no correlation */
    ck_assert_int_eq(rows, 110);
    ck_assert_double_eq(d[0], cur_e(2, 0));
    ck_assert(isnan(d[3]));
    free(d);
    remove_dir();
}
END_TEST

/* ---- weight recordings ---- */

/* every kernel: w[q] += 1e-9 * (1 + pre) for every synapse of the post neuron. */
static void grow(const RtSynArgs *a, const RtSynEvent *e) {
    for (int64_t k = e->first; k < e->last; k++)
        a->w[e->syn[k]] += 1e-9 * (1 + e->pre[k]);
}

static const RtPlasticDesc growing = {.every = grow, .every_s = DT};

START_TEST(test_weight_recording) {
    make_dir();
    RtPopDesc pops[2] = {tiny_pop("P", 6, always), tiny_pop("Q", 4, tiny_counter)};
    RtProjDesc proj = {.name = "P->Q", .pre = 0, .post = 1, .rule = RT_CONN_PROBABILITY, .p = 0.6,
                       .weight = {RT_DIST_UNIFORM, 1e-9, 2e-9}, .delay = {RT_DIST_CONST, DT, 0},
                       .plastic = &growing};
    RtRecDesc recs[2] = {{.kind = RT_REC_WEIGHTS, .proj = 0, .every = 10, .file = "W.npy"},
                         {.kind = RT_REC_WEIGHTS, .proj = 0, .every = 0, .file = "W_end.npy"}};
    RtModelDesc m = tiny_model(pops, 2, &proj, 1);
    m.nrecs = 2;
    m.recs = recs;
    m.duration_s = 35 * DT;
    RtRunOptions o = options(2, dir);
    RtError err;
    RtSim *s = rt_sim_create(&m, &o, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    int64_t nsyn = rt_sim_synapse_count(s, 0);
    ck_assert_int_gt(nsyn, 5);
    const int64_t *row = rt_sim_rows(s, 0);
    const uint32_t *post = rt_sim_posts(s, 0);
    double *ref = malloc((size_t)nsyn * 4 * sizeof(double)), *wref = malloc((size_t)nsyn * sizeof(double));
    memcpy(wref, rt_sim_weights(s, 0), (size_t)nsyn * sizeof(double));
    for (int step = 0; step <= 30; step++) {   /* rows at t = 0, 10, 20, 30 steps */
        if (step % 10 == 0)
            memcpy(ref + (step / 10) * nsyn, wref, (size_t)nsyn * sizeof(double));
        for (int i = 0; i < 6; i++)
            for (int64_t q = row[i]; q < row[i + 1]; q++)
                wref[q] += 1e-9 * (1 + i);
    }
    ck_assert_int_eq(rt_sim_run(s, -1, &err), RT_OK);
    double *final = malloc((size_t)nsyn * sizeof(double));
    memcpy(final, rt_sim_weights(s, 0), (size_t)nsyn * sizeof(double));
    ck_assert_int_eq(rt_sim_finish(s, NULL, &err), RT_OK);
    char descr[64];
    int64_t rows, cols;
    double *w = read_npy("W.npy", descr, &rows, &cols, (size_t)nsyn * 8);
    ck_assert_str_eq(descr, "'<f8'");
    ck_assert_int_eq(rows, 4);
    ck_assert_int_eq(cols, nsyn);
    ck_assert_mem_eq(w, ref, (size_t)(4 * nsyn) * sizeof(double));
    double *we = read_npy("W_end.npy", descr, &rows, &cols, (size_t)nsyn * 8);
    ck_assert_int_eq(rows, 1);
    ck_assert_mem_eq(we, final, (size_t)nsyn * sizeof(double));
    uint32_t *pairs = read_npy("W_syn.npy", descr, &rows, &cols, 8);
    ck_assert_str_eq(descr, "[('pre','<u4'),('post','<u4')]");
    ck_assert_int_eq(rows, nsyn);
    for (int i = 0; i < 6; i++)
        for (int64_t q = row[i]; q < row[i + 1]; q++) {
            ck_assert_int_eq(pairs[2 * q], i);
            ck_assert_int_eq(pairs[2 * q + 1], post[q]);
        }
    char want[64];
    snprintf(want, sizeof want, "\"synapses\": %lld", (long long)nsyn);
    ck_assert(strstr(read_text("manifest.json"), want) != NULL);
    int py = python("w = np.load(d + '/W.npy'); p = np.load(d + '/W_syn.npy'); e = np.load(d + '/W_end.npy'); "
                    "assert w.shape == (4, len(p)) and e.shape == (1, len(p)); "
                    "assert (np.diff(w, axis=0) > 0).all() and (p['pre'][1:] >= p['pre'][:-1]).all(); "
                    "m = json.load(open(d + '/manifest.json')); "
                    "r = [x for x in m['recordings'] if x['kind'] == 'weights']; "
                    "assert r[0]['index_file'] == 'W_syn.npy' and r[1]['every_s'] == 0 and r[0]['synapses'] == len(p)");
    ck_assert_int_ne(py, 1);
    rt_sim_free(s);
    free(ref); free(wref); free(final); free(w); free(we); free(pairs);
    remove_dir();
}
END_TEST

/* ---- everything together, any thread count ---- */

/* x += input * (1 + globals[0]); fires at x >= 1 (reset 0); writes the
 * step's input as I_E and -0.3*x as I_I. */
static void mod_integrator(const RtPopArgs *a, int64_t begin, int64_t end) {
    double *x = a->state[0], *ie = a->state[1], *ii = a->state[2], *in = a->input[0];
    double gain = 1 + a->globals[0];
    for (int64_t i = begin; i < end; i++) {
        x[i] += in[i] * gain;
        ie[i] = in[i];
        ii[i] = -0.3 * x[i];
        in[i] = 0;
        int f = x[i] >= 1;
        if (f)
            x[i] = 0;
        a->spiked[i] = (uint8_t)f;
    }
}

static const RtVarDesc mod_vars[] = {{"x", "1", {RT_DIST_UNIFORM, 0, 0.9}},
                                     {"balance.I_E", "1", {RT_DIST_CONST, 0, 0}},
                                     {"balance.I_I", "1", {RT_DIST_CONST, 0, 0}}};

/* A Poisson-driven recurrent network with a modulator on the gain, a ring
 * projection, silencing, a lesion of the drive, a gain event and a balance
 * monitor: states, spike counts and the balance file are bit-identical for
 * 1, 2 and 3 threads. */
START_TEST(test_threads_bit_identical) {
    make_dir();
    double x[3][40];
    int64_t spikes[3];
    unsigned char *bal[3];
    for (int t = 0; t < 3; t++) {
        RtPopDesc pops[2] = {{.name = "D", .size = 50, .kind = RT_POP_POISSON, .rate_hz = 300},
                             tiny_pop("E", 40, mod_integrator)};
        pops[1].nstates = 3;
        pops[1].states = mod_vars;
        RtProjDesc projs[2] = {
            {.name = "D->E", .pre = 0, .post = 1, .rule = RT_CONN_PROBABILITY, .p = 0.2,
             .weight = {RT_DIST_UNIFORM, 0.05, 0.2}, .delay = {RT_DIST_CONST, DT, 0}},
            {.name = "E->E", .pre = 1, .post = 1, .rule = RT_CONN_PROBABILITY, .p = 0.1,
             .weight = {RT_DIST_CONST, 0.1, 0}, .delay = {RT_DIST_UNIFORM, DT, 4 * DT}}};
        RtGlobalDesc g = {"DA", "1", RT_GLOBAL_DECAY, 0, 10e-3, 0};
        RtEventDesc ev[] = {{30 * DT, RT_EV_SILENCE, 1, 1, 0.3}, {50 * DT, RT_EV_ADD_GLOBAL, 0, 0, 1.0},
                            {60 * DT, RT_EV_SET_GAIN, 0, 0, 1.7}, {80 * DT, RT_EV_UNSILENCE, 1, 1, 0},
                            {90 * DT, RT_EV_LESION, 0, 2, 0.25}};
        RtRecDesc rec = {.kind = RT_REC_BALANCE, .pop = 1, .var = 1, .var2 = 2, .end = -1,
                         .every = 20, .file = "bal.npy"};
        RtModelDesc m = tiny_model(pops, 2, projs, 2);
        m.nglobals = 1;
        m.globals = &g;
        m.nevents = 5;
        m.events = ev;
        m.nrecs = 1;
        m.recs = &rec;
        m.duration_s = 150 * DT;
        RtRunOptions o = options(t + 1, dir);
        RtError err;
        RtSim *s = rt_sim_create(&m, &o, &err);
        ck_assert_msg(s != NULL, "%s", err.msg);
        ck_assert_int_eq(rt_sim_threads(s), t + 1);
        ck_assert_int_eq(rt_sim_run(s, -1, &err), RT_OK);
        ck_assert_int_eq(rt_sim_finish(s, NULL, &err), RT_OK);
        memcpy(x[t], rt_sim_state(s, 1, 0), sizeof x[t]);
        spikes[t] = rt_sim_spike_count(s, 1);
        rt_sim_free(s);
        char descr[64];
        int64_t rows, cols;
        bal[t] = read_npy("bal.npy", descr, &rows, &cols, 40 * 32);
        ck_assert_int_eq(rows, 7);
    }
    ck_assert_int_gt(spikes[0], 100);
    for (int t = 1; t < 3; t++) {
        ck_assert_mem_eq(x[t], x[0], sizeof x[0]);
        ck_assert_int_eq(spikes[t], spikes[0]);
        ck_assert_mem_eq(bal[t], bal[0], 7 * 40 * 32);
    }
    for (int t = 0; t < 3; t++)
        free(bal[t]);
    remove_dir();
}
END_TEST

/* ---- descriptors ---- */

static RtErrorCode create_code(RtModelDesc *m) {
    RtRunOptions o = options(1, NULL);
    RtError err;
    RtSim *s = rt_sim_create(m, &o, &err);
    rt_sim_free(s);
    return s ? RT_OK : err.code;
}

START_TEST(test_invalid_v3) {
    RtPopDesc pops[2] = {tiny_pop("A", 4, always), tiny_pop("C", 4, tiny_counter)};
    RtProjDesc proj = {.name = "A->C", .pre = 0, .post = 1, .rule = RT_CONN_ONE_TO_ONE,
                       .weight = {RT_DIST_CONST, 1, 0}, .delay = {RT_DIST_CONST, DT, 0}};
    RtEventDesc ev = {0, RT_EV_SET_GAIN, 0, 0, 2.0};
    RtModelDesc m = tiny_model(pops, 2, &proj, 1);
    ck_assert_int_eq(create_code(&m), RT_OK);
    m.abi_version = 2;                                  /* a v2 descriptor still runs */
    ck_assert_int_eq(create_code(&m), RT_OK);
    m.nevents = 1;
    m.events = &ev;
    ck_assert_int_eq(create_code(&m), RT_E_INVALID);    /* v3 event in v2 */
    m.abi_version = RT_ABI_VERSION;
    ck_assert_int_eq(create_code(&m), RT_OK);
    ev.target = 1;                                      /* no projection 1 */
    ck_assert_int_eq(create_code(&m), RT_E_INVALID);
    ev = (RtEventDesc){0, RT_EV_SILENCE, 0, 0, 1.5};    /* fraction > 1 */
    ck_assert_int_eq(create_code(&m), RT_E_INVALID);
    ev = (RtEventDesc){0, RT_EV_SILENCE, 0, -1, 0.5};   /* negative key */
    ck_assert_int_eq(create_code(&m), RT_E_INVALID);
    ev = (RtEventDesc){0, RT_EV_ADD_GLOBAL, 0, 0, 1};   /* no globals */
    ck_assert_int_eq(create_code(&m), RT_E_INVALID);
    RtGlobalDesc g = {"DA", "1", RT_GLOBAL_DECAY, 0, 0, 0};   /* tau 0 */
    m.nglobals = 1;
    m.globals = &g;
    ck_assert_int_eq(create_code(&m), RT_E_INVALID);
    g.tau = 1e-2;
    ck_assert_int_eq(create_code(&m), RT_OK);
    g.kind = RT_GLOBAL_KERNEL;                          /* without globals_update */
    ck_assert_int_eq(create_code(&m), RT_E_INVALID);
    g.kind = RT_GLOBAL_LEVEL;
    proj.gain_global = 1;
    ev = (RtEventDesc){0, RT_EV_SET_GAIN, 0, 0, 2.0};   /* gain follows a global */
    ck_assert_int_eq(create_code(&m), RT_E_INVALID);
    proj.gain_global = 2;
    m.nevents = 0;
    ck_assert_int_eq(create_code(&m), RT_E_INVALID);
    proj.gain_global = 0;
    RtRecDesc rec = {.kind = RT_REC_BALANCE, .pop = 0, .var = 0, .var2 = 1, .every = 10, .file = "b.npy"};
    m.nrecs = 1;
    m.recs = &rec;
    ck_assert_int_eq(create_code(&m), RT_E_INVALID);    /* tiny pops have one state */
    rec = (RtRecDesc){.kind = RT_REC_WEIGHTS, .proj = 3, .file = "w.npy"};
    ck_assert_int_eq(create_code(&m), RT_E_INVALID);
    rec.proj = 0;
    ck_assert_int_eq(create_code(&m), RT_OK);
    static const double t[] = {0};
    static const int32_t n[] = {0};
    pops[0] = (RtPopDesc){.name = "S", .size = 1, .kind = RT_POP_SPIKE_TIMES, .nspikes = 1,
                          .spike_times = t, .spike_neurons = n};
    ev = (RtEventDesc){0, RT_EV_LESION, 0, 0, 0.5};
    m.nevents = 1;
    ck_assert_int_eq(create_code(&m), RT_E_UNSUPPORTED);
}
END_TEST

/* Issue 5, 2026-11-28: a silence of a neuron range (ABI v5, RtEventDesc
 * begin/end) chooses round(f*(end - begin)) neurons of [begin, end) by the
 * documented priorities, none outside, the same for 1, 2 and 3 threads; a
 * range outside the population is RT_E_INVALID. */
START_TEST(test_silence_range) {
    enum { B = 20, E = 70 };
    double u[SIL_N];
    for (int i = 0; i < SIL_N; i++) {
        RtRng r;
        rt_rng_init(&r, 11, rt_stream(RT_STREAM_SILENCE, 0, 0), (uint64_t)3 << 32 | (uint64_t)i);
        u[i] = rt_rng_uniform(&r);
    }
    uint8_t ref[SIL_N] = {0};
    for (int c = 0; c < 20; c++) {   /* round(0.4*50) times: the smallest in range not taken */
        int best = -1;
        for (int i = B; i < E; i++)
            if (!ref[i] && (best < 0 || u[i] < u[best]))
                best = i;
        ref[best] = 1;
    }
    for (int threads = 1; threads <= 3; threads++) {
        RtPopDesc pops[2];
        RtProjDesc proj;
        RtEventDesc ev[4];
        RtModelDesc m = silence_model(pops, &proj, ev, 0.4);
        ev[0].begin = B;
        ev[0].end = E;
        RtRunOptions o = options(threads, NULL);
        RtError err;
        RtSim *s = rt_sim_create(&m, &o, &err);
        ck_assert_msg(s != NULL, "%s", err.msg);
        ck_assert_int_eq(rt_sim_run(s, 20, &err), RT_OK);
        const RtNeuron *list;
        int64_t n = rt_sim_silenced(s, 0, &list);
        ck_assert_int_eq(n, 20);
        uint8_t got[SIL_N] = {0};
        for (int64_t k = 0; k < n; k++)
            got[list[k]] = 1;
        ck_assert_mem_eq(got, ref, SIL_N);
        rt_sim_free(s);
    }
    RtPopDesc pops[2];
    RtProjDesc proj;
    RtEventDesc ev[4];
    RtModelDesc m = silence_model(pops, &proj, ev, 0.4);
    ev[0].begin = 90;
    ev[0].end = SIL_N + 1;                              /* past the end */
    ck_assert_int_eq(create_code(&m), RT_E_INVALID);
    ev[0].begin = ev[0].end = 50;                       /* empty */
    ck_assert_int_eq(create_code(&m), RT_E_INVALID);
    ev[0].begin = -1;
    ev[0].end = 10;
    ck_assert_int_eq(create_code(&m), RT_E_INVALID);
    ev[0].begin = 0;
    ev[0].end = SIL_N;                                  /* the whole population */
    ck_assert_int_eq(create_code(&m), RT_OK);
}
END_TEST

/* Every allocation of a model using all v3 features may fail: RT_E_NOMEM,
 * never a crash or leak of a half-built simulation. */
START_TEST(test_alloc_failure) {
    make_dir();
    RtPopDesc pops[2] = {tiny_pop("A", 30, always), tiny_pop("E", 8, currents)};
    pops[1].nstates = 2;
    pops[1].states = bal_vars;
    RtProjDesc proj = {.name = "A->E", .pre = 0, .post = 1, .rule = RT_CONN_ALL_TO_ALL,
                       .weight = {RT_DIST_CONST, 1, 0}, .delay = {RT_DIST_CONST, DT, 0},
                       .plastic = &on_pre_plastic};
    RtGlobalDesc g = {"DA", "1", RT_GLOBAL_DECAY, 0, 1e-2, 0};
    RtEventDesc ev[] = {{0, RT_EV_SILENCE, 0, 1, 0.5}, {2 * DT, RT_EV_ADD_GLOBAL, 0, 0, 1},
                        {3 * DT, RT_EV_SET_GAIN, 0, 0, 0.5}};
    RtRecDesc recs[] = {{.kind = RT_REC_BALANCE, .pop = 1, .var = 0, .var2 = 1, .end = -1,
                         .every = 5, .file = "b.npy"},
                        {.kind = RT_REC_WEIGHTS, .proj = 0, .every = 5, .file = "w.npy"}};
    RtModelDesc m = tiny_model(pops, 2, &proj, 1);
    m.nglobals = 1;
    m.globals = &g;
    m.nevents = 3;
    m.events = ev;
    m.nrecs = 2;
    m.recs = recs;
    RtRunOptions o = options(2, dir);
    int failures = create_failures(&m, &o, 20, true, 2000);
    ck_assert_int_ge(failures, 30);
    ck_assert_int_lt(failures, 2000);
    remove_dir();
}
END_TEST

Suite *rt_ei_suite(void) {
    Suite *s = suite_create("rt_ei");
    TCase *tc = tcase_create("ei");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_silence_fraction);
    tcase_add_test(tc, test_silence_nested);
    tcase_add_test(tc, test_silence_range);
    tcase_add_test(tc, test_gain_doubles);
    tcase_add_test(tc, test_gain_exact);
    tcase_add_test(tc, test_modulator_decay);
    tcase_add_test(tc, test_balance_monitor);
    tcase_add_test(tc, test_weight_recording);
    tcase_add_test(tc, test_threads_bit_identical);
    tcase_add_test(tc, test_invalid_v3);
    tcase_add_test(tc, test_alloc_failure);
    suite_add_tcase(s, tc);
    return s;
}
