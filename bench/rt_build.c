/* rt_build.c - times the connectivity builders on 10^7 synapses and prints
 * the bytes per synapse of the CSR storage. Not a test.
 *   usage: rt_build [synapses=1e7] [threads=2] */
#include <stdio.h>
#include <stdlib.h>

#include "rt_syn.h"
#include "rt_util.h"

static int threads = 2;

static void one(const char *what, RtProjDesc pd, int64_t npre, int64_t npost) {
    RtCsr c;
    RtError err;
    double t0 = rt_now_s();
    if (rt_syn_build(&c, &pd, 0, npre, npost, 1, 1e-4, threads, &err) != RT_OK) {
        fprintf(stderr, "rt_build: %s\n", err.msg);
        exit(1);
    }
    double t = rt_now_s() - t0;
    double bytes = (double)c.nsyn * (sizeof *c.post + sizeof *c.weight + (c.delay ? 2 : 0))
                 + (double)(npre + 1) * sizeof *c.row;
    printf("%d threads: %-28s %10lld synapses in %.3f s (%.1f ns/synapse), %.2f bytes/synapse\n", threads, what,
           (long long)c.nsyn, t, 1e9 * t / (double)c.nsyn, bytes / (double)c.nsyn);
    rt_syn_free(&c);
}

int main(int argc, char **argv) {
    double nsyn = argc > 1 ? atof(argv[1]) : 1e7;
    threads = argc > 2 ? atoi(argv[2]) : 2;
    int64_t n = 100000, k = (int64_t)(nsyn / (double)n);
    RtProjDesc pd = {.name = "bench", .pre = 0, .post = 1, .weight = {RT_DIST_CONST, 1e-9, 0},
                     .delay = {RT_DIST_CONST, 1e-3, 0}};
    pd.rule = RT_CONN_PROBABILITY;
    pd.p = (double)k / (double)n;
    one("probability, const w", pd, n, n);
    pd.weight = (RtDist){RT_DIST_NORMAL, 1e-9, 0.1e-9};
    one("probability, normal w", pd, n, n);
    pd.weight = (RtDist){RT_DIST_CONST, 1e-9, 0};
    pd.rule = RT_CONN_FIXED_INDEGREE;
    pd.degree = k;
    one("fixed in-degree", pd, n, n);
    pd.rule = RT_CONN_FIXED_OUTDEGREE;
    one("fixed out-degree", pd, n, n);
    pd.rule = RT_CONN_PROBABILITY;
    pd.delay = (RtDist){RT_DIST_UNIFORM, 1e-3, 5e-3};
    one("probability, uniform delay", pd, n, n);
    return 0;
}
