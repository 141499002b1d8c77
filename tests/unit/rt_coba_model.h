/* rt_coba_model.h - the COBA benchmark network (Brette et al. 2007, benchmark
 * 1, as BENCHMARKS.md defines it) written by hand against rt_abi.h, the way
 * the compiler generates it: a conductance-based LIF update kernel with the
 * receptor buffers applied first, Brian2's forward Euler, refractoriness that
 * holds V, and a descriptor of 3200 E + 800 I neurons with p = 0.02.
 * Shared by tests/unit/test_rt_sim.c and bench/rt_coba.c (header-only). */
#ifndef EIC_RT_COBA_MODEL_H
#define EIC_RT_COBA_MODEL_H

#include "rt_abi.h"

/* SI constants, folded as the compiler folds uniform parameters. */
#define COBA_C_M 200e-12
#define COBA_G_L 10e-9
#define COBA_E_L (-60e-3)
#define COBA_V_TH (-50e-3)
#define COBA_V_RESET (-60e-3)
#define COBA_E_E 0.0
#define COBA_E_I (-80e-3)
#define COBA_TAU_E 5e-3
#define COBA_TAU_I 10e-3
#define COBA_N_REF 50            /* 5 ms / 0.1 ms */
#define COBA_DT 1e-4

/* Inner loop with restrict pointers, as the generated kernel has noalias. */
static void coba_loop(double *restrict v, double *restrict ge, double *restrict gi,
                      double *restrict in_e, double *restrict in_i, RtStep *restrict ref,
                      uint8_t *restrict spk, RtStep step, int64_t begin, int64_t end) {
    const double dt = COBA_DT;
    for (int64_t i = begin; i < end; i++) {
        double g_e = ge[i] + in_e[i], g_i = gi[i] + in_i[i];   /* on spike(w) { g += w } */
        in_e[i] = 0;
        in_i[i] = 0;
        double V = v[i];
        double dv = (COBA_G_L * (COBA_E_L - V) + g_e * (COBA_E_E - V) + g_i * (COBA_E_I - V)) / COBA_C_M;
        double vn = V + dt * dv;
        ge[i] = g_e - dt * g_e / COBA_TAU_E;
        gi[i] = g_i - dt * g_i / COBA_TAU_I;
        int refractory = step < ref[i];
        if (refractory)
            vn = V;                          /* V is clamped while refractory */
        int s = !refractory && vn > COBA_V_TH;
        if (s) {
            vn = COBA_V_RESET;
            ref[i] = step + COBA_N_REF;
        }
        v[i] = vn;
        spk[i] = (uint8_t)s;
    }
}

static void coba_update(const RtPopArgs *a, int64_t begin, int64_t end) {
    coba_loop(a->state[0], a->state[1], a->state[2], a->input[0], a->input[1], a->ref_until,
              a->spiked, a->step, begin, end);
}

static const RtVarDesc coba_states[] = {
    {"V", "V", {RT_DIST_NORMAL, -65e-3, 5e-3}},
    {"g_e", "S", {RT_DIST_NORMAL, 40e-9, 15e-9}},
    {"g_i", "S", {RT_DIST_NORMAL, 200e-9, 120e-9}},
};
static const char *const coba_inputs[] = {"AMPA", "GABA_A"};

/* Fills the arrays in `pops`/`projs` and `m` for a network of n neurons
 * (80 % E) with probability p; duration 1 s. */
static void coba_model(RtModelDesc *m, RtPopDesc pops[2], RtProjDesc projs[4], int64_t n, double p) {
    int64_t ne = n * 4 / 5;
    for (int k = 0; k < 2; k++)
        pops[k] = (RtPopDesc){.name = k ? "I" : "E", .size = k ? n - ne : ne, .kind = RT_POP_NEURON,
                              .nstates = 3, .states = coba_states, .ninputs = 2,
                              .input_names = coba_inputs, .update = coba_update};
    static const char *const names[4] = {"E->E", "E->I", "I->E", "I->I"};
    for (int k = 0; k < 4; k++) {
        int pre = k / 2, post = k % 2;
        projs[k] = (RtProjDesc){.name = names[k], .pre = pre, .post = post, .receptor = pre,
                                .rule = RT_CONN_PROBABILITY, .p = p, .autapses = true,
                                .weight = {RT_DIST_CONST, pre ? 67e-9 : 6e-9, 0},
                                .delay = {RT_DIST_CONST, 0, 0}};
    }
    *m = (RtModelDesc){.abi_version = RT_ABI_VERSION, .name = "COBA", .dt = COBA_DT,
                       .duration_s = 1.0, .seed = 42, .npops = 2, .pops = pops,
                       .nprojs = 4, .projs = projs};
}

#endif
