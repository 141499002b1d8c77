/* test_rt_plindex.c - the synapses and pre neurons that on_post and every
 * kernels receive (RtSynEvent.syn, .pre), which rt_plastic.c decodes from
 * its CSC index: entries that pack the pre neuron and the offset in its row
 * into 32 bits, or, when those do not fit, a synapse index and a stored pre
 * neuron. Checked against the CSR rows for row lengths from 0 to 40000,
 * rows of one synapse, an empty projection, both encodings at their
 * boundary (17 + 15 bits packed, 17 + 16 not), and 1 and 3 threads; and the
 * bytes per synapse. Performance work of issue 5 ("Performance"). */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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

/* The row i with row[i] <= q < row[i+1] (rows may be empty), by a plain
 * binary search over all npre rows (sz_npre, set by each check). */
static int64_t sz_npre;
static uint32_t row_of(const int64_t *row, int64_t q) {
    int64_t lo = 0, hi = sz_npre;   /* row[lo] <= q < row[hi] */
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (row[mid] <= q)
            lo = mid;
        else
            hi = mid;
    }
    return (uint32_t)lo;
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

/* 4 steps of `pr` (pre npre -> post npost) with on_post and an every
 * kernel each step: every weight must end at 8. Returns the simulation's
 * bytes per synapse of the projection. */
static double check_proj(RtProjDesc *pr, int64_t npre, int64_t npost, int threads) {
    RtPlasticDesc pl = {.on_post = check_pre, .every = check_pre, .every_s = 1e-4};
    RtPopDesc pops[2] = {tiny_pop("A", npre, tiny_counter), tiny_pop("B", npost, always)};
    pr->pre = 0;
    pr->post = 1;
    pr->weight = (RtDist){RT_DIST_CONST, 0, 0};
    pr->delay = (RtDist){RT_DIST_CONST, 1e-4, 0};
    pr->plastic = &pl;
    RtModelDesc m = tiny_model(pops, 2, pr, 1);
    RtSim *s = create(&m, threads);
    RtError err;
    sz_npre = npre;
    ck_assert_msg(rt_sim_run(s, 4, &err) == RT_OK, "%s", err.msg);
    int64_t n = rt_sim_synapse_count(s, 0);
    const double *w = rt_sim_weights(s, 0);
    for (int64_t q = 0; q < n; q++)
        ck_assert_msg(w[q] == 8, "%s %lld x %lld, %d threads: synapse %lld: %g", pr->name,
                      (long long)npre, (long long)npost, threads, (long long)q, w[q]);
    double bytes = n ? (double)rt_sim_synapse_bytes(s, 0) / (double)n : 0;
    rt_sim_free(s);
    return bytes;
}

/* pre (npre) -> post (npost) at probability p (1: all to all). */
static void check_shape(int64_t npre, int64_t npost, double p, int threads) {
    RtProjDesc pr = {.name = "A->B", .rule = p >= 1 ? RT_CONN_ALL_TO_ALL : RT_CONN_PROBABILITY,
                     .p = p};
    double b = check_proj(&pr, npre, npost, threads);
    if (p > 0)
        ck_assert(b > 0);
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

/* From a file: row `a` holds `la` synapses (posts 0 .. la-1) and the last
 * row, npre - 1, holds posts 7 and 12; the rows between are empty. */
static double check_file(int64_t npre, int64_t npost, int64_t a, int64_t la, int threads) {
    char path[] = "/tmp/rt_plindex_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    for (int64_t j = 0; j < la; j++)
        fprintf(f, "%lld %lld\n", (long long)a, (long long)j);
    fprintf(f, "%lld 7\n%lld 12\n", (long long)(npre - 1), (long long)(npre - 1));
    fclose(f);
    RtProjDesc pr = {.name = "file", .rule = RT_CONN_FILE, .file = path};
    double b = check_proj(&pr, npre, npost, threads);
    unlink(path);
    return b;
}

/* The two encodings at their boundary: 70000 pre neurons take 17 bits; a
 * longest row of 32768 synapses (offsets 0 .. 32767, 15 bits) still packs,
 * one of 32769 does not (csc_pre: 4 more bytes per synapse). The row of
 * 32768 is the last pre neuron's, so the packed entries use all 32 bits. */
START_TEST(test_pre_index_encodings) {
    for (int threads = 1; threads <= 3; threads += 2) {
        double packed = check_file(70000, 40000, 69998, 32768, threads);
        double wide = check_file(70000, 40000, 5, 32769, threads);
        ck_assert_msg(wide - packed > 3.9 && wide - packed < 4.1,
                      "bytes per synapse: packed %.3f, not packed %.3f", packed, wide);
    }
}
END_TEST

/* The packed CSC index costs 4 bytes per synapse, nothing more: the I -> E
 * projection of Vogels et al. (2011) (2000 x 8000, p = 0.02, one trace per
 * side) costs 16 bytes per synapse plus its per-neuron arrays (row and
 * column offsets, traces, last-event steps: 0.8 bytes per synapse here)
 * and the per-thread scratch, and no more. */
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
    double syn = 16;
    ck_assert_msg(b > syn && b < syn + per_neuron / n + 0.01, "%.4f bytes per synapse", b);
    rt_sim_free(s);
}
END_TEST

Suite *rt_plindex_suite(void) {
    Suite *s = suite_create("rt_plindex");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_pre_index_shapes);
    tcase_add_test(tc, test_pre_index_encodings);
    tcase_add_test(tc, test_pre_index_bytes);
    suite_add_tcase(s, tc);
    return s;
}
