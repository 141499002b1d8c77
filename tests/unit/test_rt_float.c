/* test_rt_float.c - RT_PREC_F32 populations in the runtime (rt_abi.h,
 * "Precision"; SPEC [S-cg-7]), driven through rt_abi.h alone with float
 * kernels written in C the way the code generator emits them:
 *   - the COBA network in float: rates near the double run's, bit-identical
 *     rasters and states for 1, 2 and 3 threads;
 *   - initial values are the double draws rounded to float;
 *   - delivery, delay rings and inputs add each double weight to the float
 *     buffer with one rounding per add, in the global order;
 *   - state recordings are '<f4' with the stored values, manifest "float32";
 *   - the non-finite check reads floats; balance monitors read floats;
 *   - plastic projections may touch float populations (their synapse state
 *     stays double; tests/run_float.sh runs the plastic models). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt_abi.h"
#include "rt_coba_model.h"
#include "rt_npy.h"
#include "rt_test_run.h"

#define RT_TEST_DIR_PREFIX "/tmp/rt_float_"
#include "rt_test_files.h"

/* ---- the COBA kernel in float (as coba_loop, every constant rounded) ---- */

static void coba_loop_f(float *restrict v, float *restrict ge, float *restrict gi,
                        float *restrict in_e, float *restrict in_i, RtStep *restrict ref,
                        uint8_t *restrict spk, RtStep step, int64_t begin, int64_t end) {
    const float dt = (float)COBA_DT, gl = (float)COBA_G_L, el = (float)COBA_E_L;
    const float ee = (float)COBA_E_E, ei = (float)COBA_E_I, cm = (float)COBA_C_M;
    for (int64_t i = begin; i < end; i++) {
        float g_e = ge[i] + in_e[i], g_i = gi[i] + in_i[i];
        in_e[i] = 0;
        in_i[i] = 0;
        float V = v[i];
        float dv = (gl * (el - V) + g_e * (ee - V) + g_i * (ei - V)) / cm;
        float vn = V + dt * dv;
        ge[i] = g_e - dt * g_e / (float)COBA_TAU_E;
        gi[i] = g_i - dt * g_i / (float)COBA_TAU_I;
        int refractory = step < ref[i];
        if (refractory)
            vn = V;
        int s = !refractory && vn > (float)COBA_V_TH;
        if (s) {
            vn = (float)COBA_V_RESET;
            ref[i] = step + COBA_N_REF;
        }
        v[i] = vn;
        spk[i] = (uint8_t)s;
    }
}

#define F(p) ((float *)(void *)(p))   /* an RT_PREC_F32 array behind a double * */

static void coba_update_f(const RtPopArgs *a, int64_t begin, int64_t end) {
    coba_loop_f(F(a->state[0]), F(a->state[1]), F(a->state[2]), F(a->input[0]), F(a->input[1]),
                a->ref_until, a->spiked, a->step, begin, end);
}

static void coba_float_model(RtModelDesc *m, RtPopDesc pops[2], RtProjDesc projs[4]) {
    coba_model(m, pops, projs, 4000, 0.02);
    for (int k = 0; k < 2; k++) {
        pops[k].precision = RT_PREC_F32;
        pops[k].update = coba_update_f;
    }
}

typedef struct Result {
    uint64_t hash;
    int64_t spikes[2];
    float v[3200];      /* E's V at the end (float runs) */
    double vd[3200];    /* the same as doubles (any run) */
} Result;

/* Runs `m` for `steps` steps with `threads` threads; hashes the raster. */
static void run(const RtModelDesc *m, int threads, RtStep steps, Result *r) {
    RtRunOptions o = run_options(threads);
    o.seed = 42;
    RtError err;
    RtSim *s = rt_sim_create(m, &o, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    r->hash = RASTER_HASH_INIT;
    step_hashing(s, 2, steps, &r->hash);
    for (int p = 0; p < 2; p++)
        r->spikes[p] = rt_sim_spike_count(s, p);
    if (m->pops[0].precision == RT_PREC_F32) {
        ck_assert_ptr_nonnull(rt_sim_state_f32(s, 0, 0));
        memcpy(r->v, rt_sim_state_f32(s, 0, 0), sizeof r->v);
        for (int i = 0; i < 3200; i++)
            r->vd[i] = r->v[i];
    } else {
        ck_assert_ptr_null(rt_sim_state_f32(s, 0, 0));
        memcpy(r->vd, rt_sim_state(s, 0, 0), sizeof r->vd);
    }
    rt_sim_free(s);
}

/* COBA in float for 0.5 s: E and I rates within 15% of the double run's
 * (the seed-to-seed spread of COBA rates is ~6%; a float run may follow
 * another trajectory of the network, so only statistics must compare),
 * within 10-35 Hz; final V differs from the double run's (it did run in
 * float) by float rounding for most neurons; the raster, spike counts and
 * final V are bit-identical for 1, 2 and 3 threads. */
START_TEST(test_float_coba_threads) {
    RtModelDesc m, md;
    RtPopDesc pops[2], popsd[2];
    RtProjDesc projs[4], projsd[4];
    coba_float_model(&m, pops, projs);
    coba_model(&md, popsd, projsd, 4000, 0.02);
    static Result r1, rt, rd;
    run(&m, 1, 5000, &r1);
    run(&md, 1, 5000, &rd);
    for (int p = 0; p < 2; p++) {
        double n = p ? 800 : 3200, f = (double)r1.spikes[p] / n / 0.5, d = (double)rd.spikes[p] / n / 0.5;
        printf("COBA 0.5 s pop %d: float %.2f Hz, double %.2f Hz\n", p, f, d);
        ck_assert_msg(f > 10 && f < 35, "float rate %g Hz", f);
        ck_assert_msg(fabs(f - d) < 0.15 * d, "float %g Hz vs double %g Hz", f, d);
    }
    int differ = 0, close = 0;
    for (int i = 0; i < 3200; i++) {
        differ += r1.vd[i] != rd.vd[i];
        close += fabs(r1.vd[i] - rd.vd[i]) < 1e-6;
    }
    ck_assert_msg(differ > 100 && close > 3000, "%d differ, %d close", differ, close);
    for (int t = 2; t <= 3; t++) {
        run(&m, t, 5000, &rt);
        ck_assert_msg(rt.hash == r1.hash, "raster differs with %d threads", t);
        ck_assert_int_eq(rt.spikes[0], r1.spikes[0]);
        ck_assert_int_eq(rt.spikes[1], r1.spikes[1]);
        ck_assert(memcmp(rt.v, r1.v, sizeof r1.v) == 0);
    }
}
END_TEST

/* Initial values: each float state is the double run's draw rounded to
 * the nearest float (the same Philox draws, one rounding). */
START_TEST(test_float_initial_values) {
    RtModelDesc m, md;
    RtPopDesc pops[2], popsd[2];
    RtProjDesc projs[4], projsd[4];
    coba_float_model(&m, pops, projs);
    coba_model(&md, popsd, projsd, 4000, 0.02);
    RtError err;
    RtSim *s = rt_sim_create(&m, NULL, &err), *sd = rt_sim_create(&md, NULL, &err);
    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_nonnull(sd);
    ck_assert_int_eq(rt_sim_precision(s, 1), RT_PREC_F32);
    ck_assert_int_eq(rt_sim_precision(sd, 1), RT_PREC_F64);
    for (int p = 0; p < 2; p++)
        for (int v = 0; v < 3; v++) {
            const float *x = rt_sim_state_f32(s, p, v);
            const double *y = rt_sim_state(sd, p, v);
            ck_assert_ptr_eq(x, (const void *)rt_sim_state(s, p, v));
            for (int64_t i = 0; i < pops[p].size; i++)
                ck_assert_msg(x[i] == (float)y[i], "pop %d var %d neuron %lld: %a vs %a", p, v,
                              (long long)i, (double)x[i], y[i]);
        }
    rt_sim_free(s);
    rt_sim_free(sd);
}
END_TEST

/* ---- delivery: a probe population copies its buffers into its states ---- */

/* state[r][i] = input[r][i]; input zeroed (float arrays). */
static void probe_update_f(const RtPopArgs *a, int64_t begin, int64_t end) {
    for (int r = 0; r < 2; r++)
        for (int64_t i = begin; i < end; i++) {
            F(a->state[r])[i] = F(a->input[r])[i];
            F(a->input[r])[i] = 0;
        }
    memset(a->spiked + begin, 0, (size_t)(end - begin));
}

static const RtVarDesc probe_states[] = {{"in0", "S", {RT_DIST_CONST, 0, 0}},
                                         {"in1", "S", {RT_DIST_CONST, 0, 0}}};
static const char *const probe_inputs[] = {"A", "B"};
#define NSRC 64
static double src_times[NSRC];        /* all 0 */
static int32_t src_neurons[NSRC];     /* 0 .. NSRC-1 */

/* NSRC source neurons spike at step 0. Projection 0 (delay 1 step, uniform
 * weights in [0, 1)) and projection 1
 * (heterogeneous delays 1-2 steps: the double ring) reach 3 probe neurons,
 * and a current input adds 0.1 to buffer B of every step. The float buffers
 * must hold the sum formed in CSR order (rows by pre neuron) with one
 * rounding to float per add, for 1 and 3 threads. */
START_TEST(test_float_delivery_order) {
    for (int i = 0; i < NSRC; i++)
        src_neurons[i] = i;
    RtPopDesc pops[2] = {
        spike_source("S", NSRC, NSRC, src_times, src_neurons),
        {.name = "P", .size = 3, .kind = RT_POP_NEURON, .precision = RT_PREC_F32, .nstates = 2,
         .states = probe_states, .ninputs = 2, .input_names = probe_inputs, .update = probe_update_f},
    };
    RtProjDesc projs[2] = {
        {.name = "S->P", .pre = 0, .post = 1, .receptor = 0, .rule = RT_CONN_ALL_TO_ALL,
         .weight = {RT_DIST_UNIFORM, 0, 1}, .delay = {RT_DIST_CONST, 1e-4, 0}},
        {.name = "S->P ring", .pre = 0, .post = 1, .receptor = 1, .rule = RT_CONN_ALL_TO_ALL,
         .weight = {RT_DIST_UNIFORM, 1e-9, 3e-9}, .delay = {RT_DIST_UNIFORM, 0.5e-4, 2.4e-4}},
    };
    RtInputDesc in = {.name = "I", .kind = RT_INPUT_CURRENT, .post = 1, .receptor = 1, .end = -1,
                      .weight = 0.1, .stop_s = -1};
    RtModelDesc m = {.abi_version = RT_ABI_VERSION, .name = "D", .dt = 1e-4, .duration_s = 1e-3,
                     .npops = 2, .pops = pops, .nprojs = 2, .projs = projs, .ninputs = 1, .inputs = &in};
    float got[2][2][3];
    for (int t = 0; t < 2; t++) {
        RtRunOptions o = run_options(t ? 3 : 1);
        RtError err;
        RtSim *s = rt_sim_create(&m, &o, &err);
        ck_assert_msg(s != NULL, "%s", err.msg);
        ck_assert_int_eq(rt_sim_run(s, 2, &err), RT_OK);   /* steps 0, 1: arrivals at 1 */
        /* expected sum of buffer A in step 1: every synapse of projection 0,
         * in CSR order, rounded to float after each add */
        const int64_t *row = rt_sim_rows(s, 0);
        const uint32_t *post = rt_sim_posts(s, 0);
        const double *w = rt_sim_weights(s, 0);
        float want0[3] = {0, 0, 0};
        double exact[3] = {0, 0, 0};
        for (int i = 0; i < NSRC; i++)
            for (int64_t q = row[i]; q < row[i + 1]; q++) {
                want0[post[q]] = (float)((double)want0[post[q]] + w[q]);
                exact[post[q]] += w[q];
            }
        for (int j = 0; j < 3; j++) {
            got[t][0][j] = rt_sim_state_f32(s, 1, 0)[j];
            got[t][1][j] = rt_sim_state_f32(s, 1, 1)[j];
            ck_assert_msg(got[t][0][j] == want0[j], "neuron %d: %a, want %a", j, (double)got[t][0][j],
                          (double)want0[j]);
            ck_assert(fabs((double)got[t][0][j] - exact[j]) <= NSRC * 6e-8 * exact[j]);
            ck_assert(got[t][1][j] >= 0.1f && got[t][1][j] < 0.1f + NSRC * 3e-9f);   /* ring + input */
        }
        rt_sim_free(s);
    }
    ck_assert(memcmp(got[0], got[1], sizeof got[0]) == 0);
}
END_TEST

/* One rounding per add, in CSR order, told apart from the alternatives by
 * a weight h = 2^-24 + 2^-50 (exact in double, not in float), just above half an ulp of 1.0f:
 *   (float)(1.0 + h) = 1 + 2^-23   (what the runtime must give),
 *   1.0f + (float)h  = 1.0         (tie to even: weights rounded first),
 *   (float)((float)h + 1.0) = 1.0  (the other order).
 * Projection from a file: pre 0 -> post 0 weight 1, pre 1 -> post 0
 * weight h (buffer A); current inputs 1.0 then h into buffer B of
 * neurons 0..1 (inputs in descriptor order). */
START_TEST(test_float_rounding_per_add) {
    const double h = ldexp(1, -24) + ldexp(1, -50);
    char path[] = "/tmp/rt_float_conn_XXXXXX";   /* not .npy: CSV */
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "0,0,1.0\n1,0,%.17g\n", h);
    fclose(f);
    static double t2[2] = {0, 0};
    static int32_t n2[2] = {0, 1};
    RtPopDesc pops[2] = {
        spike_source("S", 2, 2, t2, n2),
        {.name = "P", .size = 2, .kind = RT_POP_NEURON, .precision = RT_PREC_F32, .nstates = 2,
         .states = probe_states, .ninputs = 2, .input_names = probe_inputs, .update = probe_update_f},
    };
    RtProjDesc proj = {.name = "S->P", .pre = 0, .post = 1, .receptor = 0, .rule = RT_CONN_FILE,
                       .file = path, .weight = {RT_DIST_CONST, 0, 0}, .delay = {RT_DIST_CONST, 1e-4, 0}};
    RtInputDesc in[2] = {
        {.name = "I", .kind = RT_INPUT_CURRENT, .post = 1, .receptor = 1, .end = -1, .weight = 1.0, .stop_s = -1},
        {.name = "J", .kind = RT_INPUT_CURRENT, .post = 1, .receptor = 1, .end = -1, .weight = h, .stop_s = -1},
    };
    RtModelDesc m = {.abi_version = RT_ABI_VERSION, .name = "R", .dt = 1e-4, .duration_s = 1e-3,
                     .npops = 2, .pops = pops, .nprojs = 1, .projs = &proj, .ninputs = 2, .inputs = in};
    RtError err;
    RtSim *s = rt_sim_create(&m, NULL, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    ck_assert_int_eq(rt_sim_run(s, 2, &err), RT_OK);
    const float want = 1.0f + ldexpf(1, -23);
    ck_assert(1.0f + (float)h == 1.0f && (float)(1.0 + h) == want);   /* the premise */
    const float *a = rt_sim_state_f32(s, 1, 0), *b = rt_sim_state_f32(s, 1, 1);
    ck_assert_msg(a[0] == want, "delivery: %a", (double)a[0]);
    ck_assert(a[1] == 0);
    ck_assert_msg(b[0] == want && b[1] == want, "inputs: %a %a", (double)b[0], (double)b[1]);
    rt_sim_free(s);
    unlink(path);
}
END_TEST

/* ---- recordings, non-finite check, balance monitor ---- */

/* state[0] = (float)(i + 1) * 2^step (overflows to inf at step ~128 for
 * neuron 0); state[1] = -2*state[0]. */
static void grow_update_f(const RtPopArgs *a, int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
        float x = a->step == 0 ? (float)(i + 1) : F(a->state[0])[i] * 2.0f;
        F(a->state[0])[i] = x;
        F(a->state[1])[i] = -2.0f * x;
        a->spiked[i] = 0;
    }
}

static const RtVarDesc grow_states[] = {{"x", "A", {RT_DIST_CONST, 0.1, 0}},
                                        {"y", "A", {RT_DIST_CONST, 0, 0}}};

static RtPopDesc grow_pop(int64_t size) {
    return (RtPopDesc){.name = "G", .size = size, .kind = RT_POP_NEURON, .precision = RT_PREC_F32,
                       .nstates = 2, .states = grow_states, .update = grow_update_f};
}

/* A state recording of a float population is '<f4' [samples, neurons]:
 * row 0 the initial (rounded) values, row k the values after step k;
 * the manifest says "float32". A balance monitor of the float states
 * gives the window means (the exact values) and ratio 2. */
START_TEST(test_float_recording_and_balance) {
    make_dir();
    RtPopDesc pop = grow_pop(4);
    RtRecDesc recs[2] = {
        {.kind = RT_REC_STATE, .pop = 0, .var = 0, .begin = 1, .end = 4, .every = 1, .file = "x.npy"},
        {.kind = RT_REC_BALANCE, .pop = 0, .var = 0, .var2 = 1, .end = -1, .every = 2, .file = "b.npy"},
    };
    RtModelDesc m = {.abi_version = RT_ABI_VERSION, .name = "G", .dt = 1e-4, .duration_s = 4e-4,
                     .npops = 1, .pops = &pop, .nrecs = 2, .recs = recs};
    RtRunOptions o;
    rt_run_options_init(&o);
    o.out_dir = dir;
    run_to_files(&m, &o);
    char descr[64];
    int64_t rows, cols;
    float *x = read_npy("x.npy", descr, &rows, &cols, 3 * sizeof(float));
    ck_assert_str_eq(descr, "'<f4'");
    ck_assert_int_eq(rows, 5);
    ck_assert_int_eq(cols, 3);
    for (int j = 0; j < 3; j++) {
        ck_assert(x[j] == (float)0.1);
        for (int k = 1; k < 5; k++)
            ck_assert(x[3 * k + j] == (float)(j + 2) * (float)(1 << (k - 1)));
    }
    free(x);
    char *man = read_text("manifest.json");
    ck_assert_msg(strstr(man, "\"dtype\": \"float32\"") != NULL, "%s", man);
    double *b = read_npy("b.npy", descr, &rows, &cols, 4 * 4 * sizeof(double));
    ck_assert_int_eq(rows, 2);
    ck_assert_int_eq(cols, 4);
    for (int w = 0; w < 2; w++)
        for (int i = 0; i < 4; i++) {   /* window w: steps 2w, 2w+1: x = (i+1)*2^(2w) * {1, 2} */
            const double *bi = b + 16 * w + 4 * i;
            double e = (i + 1) * 1.5 * (double)(1 << (2 * w));
            ck_assert_msg(bi[0] == e, "window %d neuron %d: I_E %g want %g", w, i, bi[0], e);
            ck_assert(bi[1] == -2 * e);
            ck_assert(bi[2] == 2.0);
        }
    free(b);
    remove_dir();
}
END_TEST

/* 200 neurons (the vector path of the check): y = -2(i+1)*2^k first
 * reaches -2^128 (-inf in float) at k = 120, for neurons i >= 127; the
 * error names the smallest, the variable and "infinite", for 1-3 threads. */
START_TEST(test_float_nonfinite) {
    RtPopDesc pop = grow_pop(200);
    RtModelDesc m = {.abi_version = RT_ABI_VERSION, .name = "G", .dt = 1e-4, .duration_s = 1,
                     .npops = 1, .pops = &pop};
    for (int t = 1; t <= 3; t++) {
        RtRunOptions o = run_options(t);
        RtError err;
        RtSim *s = rt_sim_create(&m, &o, &err);
        ck_assert_ptr_nonnull(s);
        ck_assert_int_eq(rt_sim_run(s, -1, &err), RT_E_NONFINITE);
        ck_assert_msg(strstr(err.msg, "neuron 127: state 'y' is infinite after step 120") != NULL,
                      "%s", err.msg);
        rt_sim_free(s);
    }
}
END_TEST

/* Descriptor checks: an unknown precision is invalid; a plastic
 * projection from or to a float population is accepted ([S-cg-7]: until
 * then it was RT_E_UNSUPPORTED). */
START_TEST(test_float_descriptor_checks) {
    RtModelDesc m;
    RtPopDesc pops[2];
    RtProjDesc projs[4];
    coba_float_model(&m, pops, projs);
    RtError err;
    pops[1].precision = 2;
    ck_assert_ptr_null(rt_sim_create(&m, NULL, &err));
    ck_assert_int_eq(err.code, RT_E_INVALID);
    pops[1].precision = RT_PREC_F64;
    RtPlasticDesc pl = {0};
    projs[1].plastic = &pl;   /* E (float) -> I (double) */
    RtSim *sf = rt_sim_create(&m, NULL, &err);
    ck_assert_msg(sf != NULL, "%s", err.msg);
    rt_sim_free(sf);
    pops[0].precision = RT_PREC_F64;
    pops[0].update = coba_update;
    pops[1].update = coba_update;
    RtSim *s = rt_sim_create(&m, NULL, &err);   /* both double: accepted */
    ck_assert_msg(s != NULL, "%s", err.msg);
    rt_sim_free(s);
}
END_TEST

/* A plastic projection without an on_pre kernel delivers w itself
 * (rt_plastic.c): into a float buffer that is one rounding per add, in the
 * same order as the static float delivery, so COBA in float with all four
 * projections plastic gives the static run's raster and final V bit for bit
 * (E -> E, E -> I, I -> E, I -> I: float post buffers), for 1 and 2 threads. */
START_TEST(test_float_plastic_plain_delivery) {
    RtModelDesc m, mp;
    RtPopDesc pops[2], popsp[2];
    RtProjDesc projs[4], projsp[4];
    coba_float_model(&m, pops, projs);
    coba_float_model(&mp, popsp, projsp);
    static RtPlasticDesc pl = {0};
    for (int k = 0; k < 4; k++)
        projsp[k].plastic = &pl;
    static Result rs, r1, r2;
    run(&m, 1, 2000, &rs);
    run(&mp, 1, 2000, &r1);
    run(&mp, 2, 2000, &r2);
    ck_assert_int_gt(rs.spikes[0], 100);
    ck_assert_msg(r1.hash == rs.hash, "plastic float raster differs from the static one");
    ck_assert(memcmp(r1.v, rs.v, sizeof rs.v) == 0);
    ck_assert_msg(r2.hash == r1.hash, "raster differs with 2 threads");
    ck_assert(memcmp(r2.v, r1.v, sizeof r1.v) == 0);
}
END_TEST

Suite *rt_float_suite(void) {
    Suite *s = suite_create("rt_float");
    TCase *tc = tcase_create("float");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_float_coba_threads);
    tcase_add_test(tc, test_float_initial_values);
    tcase_add_test(tc, test_float_delivery_order);
    tcase_add_test(tc, test_float_rounding_per_add);
    tcase_add_test(tc, test_float_recording_and_balance);
    tcase_add_test(tc, test_float_nonfinite);
    tcase_add_test(tc, test_float_descriptor_checks);
    tcase_add_test(tc, test_float_plastic_plain_delivery);
    suite_add_tcase(s, tc);
    return s;
}
