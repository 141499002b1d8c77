/* test_rt_plindex.c - the pre neuron of each synapse that on_post and every
 * kernels receive (RtSynEvent.pre), which rt_plastic.c finds through its
 * block index (RT_PL_BLK_SHIFT) instead of storing it: checked against the
 * CSR rows for row lengths below, around and above a block (empty rows,
 * rows of one synapse, all-to-all rows of 200), an empty projection, and
 * 1 and 3 threads. Performance work of issue 5 ("Performance"). */
#include <check.h>
#include <math.h>
#include <stdint.h>

#include "rt_abi.h"
#include "rt_plastic.h"
#include "rt_tiny_model.h"

/* Every neuron spikes every step (so on_post runs for every column). */
static void always(const RtPopArgs *a, int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
        a->input[0][i] = 0;
        a->spiked[i] = 1;
    }
}

/* The row i with row[i] <= q < row[i+1], by a plain linear scan. */
static uint32_t row_of(const int64_t *row, int64_t q) {
    uint32_t i = 0;
    while (row[i + 1] <= q)
        i++;
    return i;
}

/* on_post and every: w[q] += 1 when pre[k] is q's row, the synapse's post
 * is the event's neuron and syn[] ascends; NaN otherwise. */
static void check_pre(const RtSynArgs *a, const RtSynEvent *e) {
    for (int64_t k = e->first; k < e->last; k++) {
        uint32_t q = e->syn[k];
        int ok = e->pre[k] == row_of(a->row, q) && a->post[q] == e->neuron
                 && (k == e->first || e->syn[k - 1] < q);
        a->w[q] = ok ? a->w[q] + 1 : NAN;
    }
}

static RtSim *create(const RtModelDesc *m, int threads) {
    RtRunOptions o;
    rt_run_options_init(&o);
    o.threads = threads;
    o.seed = 3;
    RtError err;
    RtSim *s = rt_sim_create(m, &o, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    return s;
}

/* pre (npre) -> post (npost) at probability p (1: all to all), 4 steps with
 * on_post and an every kernel each step: every weight must end at 8. */
static void check_shape(int64_t npre, int64_t npost, double p, int threads) {
    RtPlasticDesc pl = {.on_post = check_pre, .every = check_pre, .every_s = 1e-4};
    RtPopDesc pops[2] = {tiny_pop("A", npre, tiny_counter), tiny_pop("B", npost, always)};
    RtProjDesc pr = {.name = "A->B", .pre = 0, .post = 1,
                     .rule = p >= 1 ? RT_CONN_ALL_TO_ALL : RT_CONN_PROBABILITY, .p = p,
                     .weight = {RT_DIST_CONST, 0, 0}, .delay = {RT_DIST_CONST, 1e-4, 0},
                     .plastic = &pl};
    RtModelDesc m = tiny_model(pops, 2, &pr, 1);
    RtSim *s = create(&m, threads);
    RtError err;
    ck_assert_msg(rt_sim_run(s, 4, &err) == RT_OK, "%s", err.msg);
    int64_t n = rt_sim_synapse_count(s, 0);
    const double *w = rt_sim_weights(s, 0);
    if (p > 0)
        ck_assert_int_gt(n, 0);
    for (int64_t q = 0; q < n; q++)
        ck_assert_msg(w[q] == 8, "%lld x %lld p %g, %d threads: synapse %lld: %g", (long long)npre,
                      (long long)npost, p, threads, (long long)q, w[q]);
    rt_sim_free(s);
}

START_TEST(test_pre_index_shapes) {
    for (int threads = 1; threads <= 3; threads += 2) {
        check_shape(300, 5, 0.3, threads);     /* rows of ~1.5, many empty */
        check_shape(64, 3, 0.05, threads);     /* fewer synapses than one block */
        check_shape(20, 200, 1, threads);      /* rows of 200, several blocks each */
        check_shape(1000, 1, 1, threads);      /* one synapse per row (Song et al.) */
        check_shape(200, 400, 0.1, threads);   /* rows of ~40, around a block */
        check_shape(50, 50, 0, threads);       /* no synapse at all */
    }
}
END_TEST

/* The block index costs 4 bytes per 2^RT_PL_BLK_SHIFT synapses: the I -> E
 * projection of Vogels et al. (2011) (2000 x 8000, p = 0.02, one trace per
 * side) costs 16 + 0.125 bytes per synapse plus its per-neuron arrays (row
 * and column offsets, traces, last-event steps: 0.8 bytes per synapse
 * here), and no more. */
START_TEST(test_pre_index_bytes) {
    RtTraceDesc tr = {"x", 0.02, 1, RT_TRACE_ADD};
    RtPlasticDesc pl = {.ntraces_pre = 1, .traces_pre = &tr, .ntraces_post = 1,
                        .traces_post = &tr, .on_post = check_pre};
    RtPopDesc pops[2] = {tiny_pop("A", 2000, tiny_counter), tiny_pop("B", 8000, always)};
    RtProjDesc pr = {.name = "I->E", .pre = 0, .post = 1, .rule = RT_CONN_PROBABILITY, .p = 0.02,
                     .weight = {RT_DIST_CONST, 0, 0}, .delay = {RT_DIST_CONST, 1e-4, 0},
                     .plastic = &pl};
    RtModelDesc m = tiny_model(pops, 2, &pr, 1);
    RtSim *s = create(&m, 1);
    double n = (double)rt_sim_synapse_count(s, 0), b = (double)rt_sim_synapse_bytes(s, 0) / n;
    double per_neuron = (2001 + 8001) * 8.0 + 2000 * 8 * 3 + 8000 * 8 * 2;
    double syn = 16 + 4.0 / (1 << RT_PL_BLK_SHIFT);
    ck_assert_msg(b > syn && b < syn + per_neuron / n + 0.01, "%.4f bytes per synapse", b);
    rt_sim_free(s);
}
END_TEST

Suite *rt_plindex_suite(void) {
    Suite *s = suite_create("rt_plindex");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_pre_index_shapes);
    tcase_add_test(tc, test_pre_index_bytes);
    suite_add_tcase(s, tc);
    return s;
}
