/* rt_test_run.h - run helpers shared by the runtime suites that drive the
 * step loop through rt_abi.h (test_rt_sim.c, test_rt_float.c): run options
 * for a thread count, a spike-time source population, stepping a simulation
 * while hashing its raster, and reading a whole file. Header-only, like
 * rt_tiny_model.h and rt_coba_model.h; every function is static. */
#ifndef EIC_RT_TEST_RUN_H
#define EIC_RT_TEST_RUN_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "rt_abi.h"

/* The defaults of rt_run_options_init with `threads` threads (0: automatic). */
static RtRunOptions run_options(int threads) {
    RtRunOptions o;
    rt_run_options_init(&o);
    o.threads = threads;
    return o;
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
