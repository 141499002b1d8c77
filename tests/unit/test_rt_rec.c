/* test_rt_rec.c - recordings and manifest: .npy headers and contents parsed
 * in C (and loaded by numpy when /usr/bin/python3 has it), files of an
 * interrupted run stay loadable, I/O errors (disk full, file too large) are
 * reported with the file and the time. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt_abi.h"
#include "rt_npy.h"
#include "rt_tiny_model.h"
#include "rt_util.h"

#define RT_TEST_DIR_PREFIX "/tmp/rt_rec_"
#include "rt_test_files.h"
#include "rt_test_run.h"

/* The tiny raster network with all three recording kinds. */
static const double times[] = {0.0, 0.5e-3};
static const int32_t neurons[] = {0, 1};
static RtPopDesc pops[2];
static RtProjDesc projs[1];
static RtRecDesc recs[3];

static RtModelDesc recorded_model(void) {
    pops[0] = (RtPopDesc){.name = "S", .size = 2, .kind = RT_POP_SPIKE_TIMES, .nspikes = 2,
                          .spike_times = times, .spike_neurons = neurons};
    pops[1] = tiny_pop("N", 2, tiny_integrator);
    projs[0] = (RtProjDesc){.name = "S->N", .pre = 0, .post = 1, .rule = RT_CONN_ONE_TO_ONE,
                            .weight = {RT_DIST_CONST, 0.6, 0}, .delay = {RT_DIST_CONST, 1e-3, 0}};
    recs[0] = (RtRecDesc){.kind = RT_REC_SPIKES, .pop = 1, .end = -1, .every = 1, .file = "N_spikes.npy"};
    recs[1] = (RtRecDesc){.kind = RT_REC_STATE, .pop = 1, .var = 0, .end = -1, .every = 5,
                          .file = "N_x.npy"};
    recs[2] = (RtRecDesc){.kind = RT_REC_RATE, .pop = 1, .end = -1, .every = 10, .file = "N_rate.npy"};
    RtModelDesc m = tiny_model(pops, 2, projs, 1);
    m.nrecs = 3;
    m.recs = recs;
    m.duration_s = 4e-3;   /* 40 steps */
    return m;
}

/* Source spikes at steps 0 and 2 (neuron 0) and 5 (neuron 1) add 0.6 each to
 * N0 at steps 10 and 12 (it spikes at 12) and to N1 at step 15 (it stays at
 * 0.6). Checks every recording kind and the manifest. */
START_TEST(test_recordings) {
    static const double t2[] = {0.0, 0.2e-3, 0.5e-3};
    static const int32_t n2[] = {0, 0, 1};
    make_dir();
    RtModelDesc m = recorded_model();
    pops[0].nspikes = 3;
    pops[0].spike_times = t2;
    pops[0].spike_neurons = n2;
    RtRunOptions o;
    rt_run_options_init(&o);
    o.out_dir = dir;
    o.eic_version = "test";
    o.threads = 2;
    RtError err;
    RtSim *s = rt_sim_create(&m, &o, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    ck_assert(strstr(read_text("manifest.json"), "\"complete\": false") != NULL);
    ck_assert_int_eq(rt_sim_run(s, -1, &err), RT_OK);
    ck_assert_int_eq(rt_sim_finish(s, NULL, &err), RT_OK);
    rt_sim_free(s);
    /* N0: 0.6 at step 10, 1.2 at step 12 -> spike at step 12 (t = 1.2 ms) */
    char descr[64];
    int64_t rows, cols;
    unsigned char *sp = read_npy("N_spikes.npy", descr, &rows, &cols, 12);
    ck_assert_str_eq(descr, "[('t', '<f8'), ('i', '<i4')]");
    ck_assert_int_eq(rows, 1);
    ck_assert_int_eq(cols, 0);
    double t;
    int32_t i;
    memcpy(&t, sp, 8);
    memcpy(&i, sp + 8, 4);
    ck_assert_double_eq(t, 12 * 1e-4);
    ck_assert_int_eq(i, 0);
    free(sp);
    /* state every 5 steps: rows at t = 0, 0.5, ..., 4 ms; x1 = 0.6 from step 15 */
    double *x = read_npy("N_x.npy", descr, &rows, &cols, 16);
    ck_assert_int_eq(rows, 9);
    ck_assert_int_eq(cols, 2);
    for (int k = 0; k < 9; k++) {      /* row k: after steps 0..5k-1 */
        ck_assert(x[2 * k] == 0);      /* N0 is 0.6 only after steps 10 and 11 */
        ck_assert(x[2 * k + 1] == (k >= 4 ? 0.6 : 0));   /* N1 gets 0.6 at step 15 */
    }
    free(x);
    double *rate = read_npy("N_rate.npy", descr, &rows, &cols, 8);
    ck_assert_int_eq(rows, 4);
    ck_assert_double_eq_tol(rate[1], 1 / (2 * 10 * 1e-4), 1e-9);   /* one spike in bin 1 */
    ck_assert(rate[0] == 0 && rate[2] == 0 && rate[3] == 0);
    free(rate);
    const char *man = read_text("manifest.json");
    ck_assert(strstr(man, "\"complete\": true") != NULL);
    ck_assert(strstr(man, "\"N\": {\"size\": 2, \"spikes\": 1, \"rate_hz\": 125, \"precision\": \"float64\"}") != NULL);
    ck_assert(strstr(man, "\"file\": \"N_x.npy\", \"kind\": \"state\"") != NULL);
    ck_assert_int_ne(python("a=np.load(d+'/N_spikes.npy'); x=np.load(d+'/N_x.npy'); "
                            "m=json.load(open(d+'/manifest.json')); "
                            "assert a['i'].tolist()==[0] and abs(a['t'][0]-0.0012)<1e-15; "
                            "assert x.shape==(9,2) and x[4,1]==0.6; assert m['complete'] is True; "
                            "assert m['populations']['N']['spikes']==1; "
                            "assert np.load(d+'/N_rate.npy').shape==(4,)"), 1);
    remove_dir();
}
END_TEST

static volatile int stop_flag;

/* Interrupted: the files hold what was recorded and the manifest says the
 * run is incomplete; before any finish, flushed files are loadable too. */
START_TEST(test_interrupted_run) {
    make_dir();
    RtModelDesc m = recorded_model();
    m.duration_s = 2.0;
    recs[1].every = 1;
    RtRunOptions o;
    rt_run_options_init(&o);
    o.out_dir = dir;
    o.interrupt = &stop_flag;
    stop_flag = 0;
    RtError err;
    RtSim *s = rt_sim_create(&m, &o, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    /* 10000 steps: the periodic flush has run; a kill now leaves valid files */
    ck_assert_int_eq(rt_sim_run(s, 10005, &err), RT_OK);
    char descr[64];
    int64_t rows, cols;
    free(read_npy("N_x.npy", descr, &rows, &cols, 16));     /* checks size == header */
    ck_assert_int_eq(rows, 10001);
    ck_assert_int_ne(python("x=np.load(d+'/N_x.npy'); assert x.shape==(10001,2)"), 1);
    stop_flag = 1;
    ck_assert_int_eq(rt_sim_run(s, -1, &err), RT_E_INTERRUPTED);
    ck_assert_int_eq(rt_sim_finish(s, NULL, &err), RT_OK);
    rt_sim_free(s);
    free(read_npy("N_x.npy", descr, &rows, &cols, 16));
    ck_assert_int_eq(rows, 10006);
    const char *man = read_text("manifest.json");
    ck_assert(strstr(man, "\"complete\": false") != NULL);
    ck_assert(strstr(man, "\"steps\": 10005") != NULL);
    ck_assert_int_ne(python("x=np.load(d+'/N_x.npy'); assert x.shape==(10006,2); "
                            "assert json.load(open(d+'/manifest.json'))['complete'] is False"), 1);
    remove_dir();
}
END_TEST

/* Disk full at creation (the file is /dev/full), and a file-size limit hit
 * during the run: RT_E_IO naming the file, the cause and the time. */
START_TEST(test_io_errors) {
    make_dir();
    char link[128];
    snprintf(link, sizeof link, "%s/N_spikes.npy", dir);
    ck_assert_int_eq(symlink("/dev/full", link), 0);
    RtModelDesc m = recorded_model();
    RtRunOptions o;
    rt_run_options_init(&o);
    o.out_dir = dir;
    RtError err;
    ck_assert_ptr_null(rt_sim_create(&m, &o, &err));
    ck_assert_int_eq(err.code, RT_E_IO);
    ck_assert_msg(strstr(err.msg, "N_spikes.npy") && strstr(err.msg, strerror(ENOSPC)), "%s", err.msg);
    unlink(link);
    /* 1000 neurons recorded every step: 8 kB a row, > 64 kB after ~8 rows */
    pops[1].size = 1000;
    m.nprojs = 0;
    m.duration_s = 1.0;
    recs[1].every = 1;
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 64 * 1024;
    setrlimit(RLIMIT_FSIZE, &lim);
    RtSim *s = rt_sim_create(&m, &o, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    RtErrorCode rc = rt_sim_run(s, -1, &err);
    setrlimit(RLIMIT_FSIZE, &old);
    ck_assert_int_eq(rc, RT_E_IO);
    ck_assert_msg(strstr(err.msg, "N_x.npy") && strstr(err.msg, "t = ") && strstr(err.msg, strerror(EFBIG)),
                  "%s", err.msg);
    ck_assert_int_lt(rt_sim_now(s), 10000);
    rt_sim_finish(s, NULL, &err);
    rt_sim_free(s);
    ck_assert(strstr(read_text("manifest.json"), "\"complete\": false") != NULL);
    remove_dir();
}
END_TEST

/* A state row wider than the 1 MiB write buffer (150,000 neurons). */
START_TEST(test_wide_rows) {
    make_dir();
    RtPopDesc wide[1] = {tiny_pop("W", 150000, tiny_counter)};
    RtRecDesc rec = {.kind = RT_REC_STATE, .pop = 0, .var = 0, .end = -1, .every = 1, .file = "W_x.npy"};
    RtInputDesc in = {.name = "c", .kind = RT_INPUT_CURRENT, .post = 0, .receptor = 0, .end = -1,
                      .weight = 0.5, .stop_s = -1};
    RtModelDesc m = tiny_model(wide, 1, NULL, 0);
    m.nrecs = 1;
    m.recs = &rec;
    m.ninputs = 1;
    m.inputs = &in;
    m.duration_s = 3e-4;
    RtRunOptions o;
    rt_run_options_init(&o);
    o.out_dir = dir;
    run_to_files(&m, &o);
    char descr[64];
    int64_t rows, cols;
    double *x = read_npy("W_x.npy", descr, &rows, &cols, 150000 * 8);
    ck_assert_int_eq(rows, 4);
    ck_assert_int_eq(cols, 150000);
    ck_assert(x[0] == 0 && x[150000 + 7] == 0.5 && x[3 * 150000 + 149999] == 1.5);
    free(x);
    remove_dir();
}
END_TEST

/* rt_json_str, which every manifest writer uses: quotes, backslashes and
 * control characters escaped, other bytes (UTF-8 too) as they are, NULL as "". */
static const char *json_of(const char *in) {
    static char out[128];
    FILE *f = tmpfile();
    ck_assert(f != NULL);
    rt_json_str(f, in);
    rewind(f);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = 0;
    fclose(f);
    return out;
}

START_TEST(test_json_str) {
    ck_assert_str_eq(json_of("E_V.npy"), "\"E_V.npy\"");
    ck_assert_str_eq(json_of("a\"b\\c"), "\"a\\\"b\\\\c\"");
    ck_assert_str_eq(json_of("l1\nl2\t\x01\x1f"), "\"l1\\u000al2\\u0009\\u0001\\u001f\"");
    ck_assert_str_eq(json_of("\xc2\xb5V /"), "\"\xc2\xb5V /\"");
    ck_assert_str_eq(json_of(""), "\"\"");
    ck_assert_str_eq(json_of(NULL), "\"\"");
}
END_TEST

Suite *rt_rec_suite(void) {
    Suite *s = suite_create("rt_rec");
    TCase *tc = tcase_create("files");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_recordings);
    tcase_add_test(tc, test_interrupted_run);
    tcase_add_test(tc, test_io_errors);
    tcase_add_test(tc, test_wide_rows);
    tcase_add_test(tc, test_json_str);
    suite_add_tcase(s, tc);
    return s;
}
