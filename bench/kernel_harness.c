/* kernel_harness.c - times one generated update kernel: eic_update_0 of an
 * object compiled from `eic emit-llvm` output (bench/kernel_cost.sh builds
 * it). N neurons of a 3-state, 2-input conductance model (COBA's layout),
 * S steps, thread CPU time, best of 5 repetitions; a few inputs arrive every
 * step. Not a test.   usage: kernel_harness [N=4000] [S=10000] [label] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "rt_abi.h"

void eic_update_0(const RtPopArgs *a, int64_t begin, int64_t end);

static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 4000, steps = argc > 2 ? atoi(argv[2]) : 10000;
    size_t bytes = ((size_t)n * 8 + 63) / 64 * 64;
    double *st[3], *in[2];
    for (int k = 0; k < 3; k++)
        st[k] = aligned_alloc(64, bytes);
    for (int k = 0; k < 2; k++)
        in[k] = aligned_alloc(64, bytes);
    RtStep *ref = aligned_alloc(64, bytes);
    uint8_t *spk = aligned_alloc(64, bytes);
    srand(1);
    for (int i = 0; i < n; i++) {
        st[0][i] = -0.065 + 0.005 * (rand() / (double)RAND_MAX);
        st[1][i] = 40e-9;
        st[2][i] = 200e-9;
        in[0][i] = in[1][i] = 0;
        ref[i] = 0;
    }
    RtPopArgs a = {.state = st, .input = in, .ref_until = ref, .spiked = spk, .dt = 1e-4, .size = n};
    double best = 1e9;
    long spikes = 0;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = cpu_now();
        for (int s = 0; s < steps; s++) {
            a.step = s;
            a.t = s * 1e-4;
            for (int i = 0; i < n; i += 97)
                in[0][i] += 6e-9;
            eic_update_0(&a, 0, n);
            for (int i = 0; i < n; i += 64)
                spikes += spk[i];
        }
        double t = cpu_now() - t0;
        if (t < best)
            best = t;
    }
    printf("%-26s %7.1f ms per %d steps of %d neurons = %.2f ns/neuron-step (%ld spikes)\n",
           argc > 3 ? argv[3] : "", best * 1e3, steps, n, best * 1e9 / ((double)steps * n), spikes);
    return 0;
}
