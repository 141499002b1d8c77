/* rt_tiny_model.h - small hand-written kernels for runtime tests, in the
 * shape generated code has (rt_abi.h): an integrate-and-fire "integrator"
 * (x += input; spike and reset to 0 when x >= 1), a counter of arrived
 * input, and a kernel that adds consts[0] every step. Header-only. */
#ifndef EIC_RT_TINY_MODEL_H
#define EIC_RT_TINY_MODEL_H

#include <math.h>

#include "rt_abi.h"

/* state 0: x; input 0. Threshold 1, reset 0, no refractoriness. */
static void tiny_integrator(const RtPopArgs *a, int64_t begin, int64_t end) {
    double *x = a->state[0], *in = a->input[0];
    for (int64_t i = begin; i < end; i++) {
        x[i] += in[i];
        in[i] = 0;
        int s = x[i] >= 1;
        if (s)
            x[i] = 0;
        a->spiked[i] = (uint8_t)s;
    }
}

/* state 0: total input received; never spikes. */
static void tiny_counter(const RtPopArgs *a, int64_t begin, int64_t end) {
    double *x = a->state[0], *in = a->input[0];
    for (int64_t i = begin; i < end; i++) {
        x[i] += in[i];
        in[i] = 0;
        a->spiked[i] = 0;
    }
}

/* state 0: x += consts[0] per step; x becomes NaN for neuron consts[1] at
 * step consts[2] (when consts[2] >= 0). */
static void tiny_adder(const RtPopArgs *a, int64_t begin, int64_t end) {
    double *x = a->state[0];
    for (int64_t i = begin; i < end; i++) {
        x[i] += a->consts[0];
        if ((double)i == a->consts[1] && (double)a->step == a->consts[2])
            x[i] = NAN;
        a->spiked[i] = 0;
    }
}

static const RtVarDesc tiny_x[] = {{"x", "1", {RT_DIST_CONST, 0, 0}}};
static const char *const tiny_in[] = {"in"};

static RtPopDesc tiny_pop(const char *name, int64_t size, RtUpdateFn f) {
    return (RtPopDesc){.name = name, .size = size, .kind = RT_POP_NEURON, .nstates = 1,
                       .states = tiny_x, .ninputs = 1, .input_names = tiny_in, .update = f};
}

static RtModelDesc tiny_model(RtPopDesc *pops, int npops, RtProjDesc *projs, int nprojs) {
    return (RtModelDesc){.abi_version = RT_ABI_VERSION, .name = "tiny", .dt = 1e-4,
                         .duration_s = 0.01, .seed = 5, .npops = npops, .pops = pops,
                         .nprojs = nprojs, .projs = projs};
}

#endif
