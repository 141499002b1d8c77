/* rt_coba.c - times the COBA benchmark network (4000 neurons, 1 s) on the
 * runtime alone, with the hand-written C kernel of tests/unit/rt_coba_model.h.
 * Not a test: prints build and simulation times per thread count.
 *   usage: rt_coba [neurons=4000] [seconds=1] [threads...=1 2]
 * With N != 4000 the connection probability is 80/N (BENCHMARKS.md). */
#include <stdio.h>
#include <stdlib.h>

#include "rt_abi.h"
#include "rt_coba_model.h"
#include "rt_util.h"

static int run(int64_t n, double seconds, int threads) {
    RtModelDesc m;
    RtPopDesc pops[2];
    RtProjDesc projs[4];
    coba_model(&m, pops, projs, n, n == 4000 ? 0.02 : 80.0 / (double)n);
    RtRunOptions o;
    rt_run_options_init(&o);
    o.seed = 42;
    o.threads = threads;
    o.duration_s = seconds;
    RtError err;
    double t0 = rt_now_s();
    RtSim *s = rt_sim_create(&m, &o, &err);
    if (!s) {
        fprintf(stderr, "rt_coba: %s\n", err.msg);
        return 1;
    }
    double t1 = rt_now_s();
    if (rt_sim_run(s, -1, &err) != RT_OK) {
        fprintf(stderr, "rt_coba: %s\n", err.msg);
        rt_sim_free(s);
        return 1;
    }
    double t2 = rt_now_s();
    int64_t syn = 0;
    for (int k = 0; k < 4; k++)
        syn += rt_sim_synapse_count(s, k);
    printf("COBA N=%lld %.3g s threads=%d: build %.4f s (%lld synapses), simulate %.4f s, "
           "E %.2f Hz, I %.2f Hz\n", (long long)n, seconds, threads, t1 - t0, (long long)syn,
           t2 - t1, (double)rt_sim_spike_count(s, 0) / ((double)pops[0].size * seconds),
           (double)rt_sim_spike_count(s, 1) / ((double)pops[1].size * seconds));
    rt_sim_free(s);
    return 0;
}

int main(int argc, char **argv) {
    int64_t n = argc > 1 ? atoll(argv[1]) : 4000;
    double seconds = argc > 2 ? atof(argv[2]) : 1.0;
    if (argc <= 3)
        return run(n, seconds, 1) || run(n, seconds, 2);
    for (int k = 3; k < argc; k++)
        if (run(n, seconds, atoi(argv[k])))
            return 1;
    return 0;
}
