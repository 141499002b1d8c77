/* rt_test_run.h - run helpers shared by the runtime suites that drive the
 * step loop through rt_abi.h (test_rt_sim.c, test_rt_float.c, test_rt_ei.c,
 * test_rt_balance.c, test_rt_plastic.c, test_rt_rec.c): run options for a
 * thread count (and an output directory), a spike-time source population,
 * a run to the end that writes its files, the allocation-failure sweep of
 * rt_sim_create, stepping a simulation while hashing its raster, and
 * reading a whole file. Header-only, like rt_tiny_model.h and
 * rt_coba_model.h; every function is static. */
#ifndef EIC_RT_TEST_RUN_H
#define EIC_RT_TEST_RUN_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "rt_abi.h"
#include "rt_util.h"

/* The defaults of rt_run_options_init with `threads` threads (0: automatic). */
static RtRunOptions run_options(int threads) {
    RtRunOptions o;
    rt_run_options_init(&o);
    o.threads = threads;
    return o;
}

/* run_options writing into `out` (NULL: no files), with a fixed version
 * string so that manifests do not depend on the build. */
static RtRunOptions run_options_out(int threads, const char *out) {
    RtRunOptions o = run_options(threads);
    o.out_dir = out;
    o.eic_version = "test";
    return o;
}

/* Creates, runs to the end, finishes (writes the outputs) and frees a
 * simulation of `m`, asserting that every call succeeds. */
static void run_to_files(const RtModelDesc *m, const RtRunOptions *o) {
    RtError err;
    RtSim *s = rt_sim_create(m, o, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    ck_assert_int_eq(rt_sim_run(s, -1, &err), RT_OK);
    ck_assert_int_eq(rt_sim_finish(s, NULL, &err), RT_OK);
    rt_sim_free(s);
}

/* Makes allocation k of rt_sim_create fail, for k = 0, 1, ... up to
 * `limit`, until creation succeeds: every failure must be RT_E_NOMEM (and
 * under ASan leak nothing). The simulation that is created runs `steps`
 * steps (which may allocate no more) and, with `finish`, writes its
 * outputs. Returns the number of failed creations; `limit` means it never
 * succeeded. */
static int create_failures(const RtModelDesc *m, const RtRunOptions *o, RtStep steps, bool finish, long limit) {
    int failures = 0;
    for (long k = 0; k < limit; k++) {
        RtError err;
        rt_alloc_fail_after(k);
        RtSim *s = rt_sim_create(m, o, &err);
        rt_alloc_fail_after(-1);
        if (s) {
            ck_assert_int_eq(rt_sim_run(s, steps, &err), RT_OK);
            if (finish)
                ck_assert_int_eq(rt_sim_finish(s, NULL, &err), RT_OK);
            rt_sim_free(s);
            break;
        }
        ck_assert_msg(err.code == RT_E_NOMEM, "%s", err.msg);
        failures++;
    }
    return failures;
}

/* A population of `size` sources replaying `n` spikes: times[k] (s) of
 * neurons[k]. The arrays must outlive the simulation. */
static RtPopDesc spike_source(const char *name, int64_t size, int64_t n, const double *times,
                              const int32_t *neurons) {
    return (RtPopDesc){.name = name, .size = size, .kind = RT_POP_SPIKE_TIMES, .nspikes = n,
                       .spike_times = times, .spike_neurons = neurons};
}

#define RASTER_HASH_INIT 0xcbf29ce484222325ull   /* FNV-1a offset basis */

/* FNV-1a: folds the 8 bytes of x into h. */
static uint64_t fnv(uint64_t h, uint64_t x) {
    for (int b = 0; b < 8; b++) {
        h ^= (x >> (8 * b)) & 0xff;
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Runs `steps` steps of `s`, folding (step << 33 | population << 32 |
 * neuron) of every spike of populations [0, npops), in the order the
 * runtime lists them, into *hash: equal hashes mean equal rasters. */
static void step_hashing(RtSim *s, int npops, RtStep steps, uint64_t *hash) {
    RtError err;
    for (RtStep k = 0; k < steps; k++) {
        RtStep step = rt_sim_now(s);
        ck_assert_msg(rt_sim_step(s, &err) == RT_OK, "%s", err.msg);
        for (int p = 0; p < npops; p++) {
            int64_t n;
            const RtNeuron *spk = rt_sim_last_spikes(s, p, &n);
            for (int64_t q = 0; q < n; q++)
                *hash = fnv(*hash, (uint64_t)step << 33 | (uint64_t)p << 32 | spk[q]);
        }
    }
}

/* Reads a whole file into a malloc'd, NUL-terminated buffer; *n receives
 * its size. */
static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    ck_assert(b != NULL && fread(b, 1, (size_t)len, f) == (size_t)len);
    b[len] = 0;
    fclose(f);
    *n = (size_t)len;
    return b;
}

#endif
