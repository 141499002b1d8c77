/* coba_c_ref.c - the COBA neuron update written by hand in C: the ceiling
 * the generated kernel is measured against (bench/cg_bench.c).
 *
 * Compiled on its own with gcc -O3 -march=native -ffast-math (see
 * bench/cg_bench.sh), so gcc vectorizes exp() through libmvec. Same model,
 * constants and update order as the MIR in cg_bench.c and tests/unit/test_cg.c:
 * inputs, exponential-Euler membrane, exact conductance decay,
 * refractoriness, threshold, reset. */
#include <math.h>
#include <stdint.h>

#include "rt_abi.h"

void coba_c_update(const RtPopArgs *a, int64_t b, int64_t e);

void coba_c_update(const RtPopArgs *a, int64_t b, int64_t e)
{
    const double Cm = 200e-12, gL = 10e-9, EL = -60e-3, Ee = 0.0, Ei = -80e-3;
    const double Vth = -50e-3, Vr = -60e-3, dt = a->dt;
    const double de = exp(-dt / 5e-3), di = exp(-dt / 10e-3);
    const int64_t nref = (int64_t)round(5e-3 / dt), step = a->step;
    double *restrict V = a->state[0], *restrict ge = a->state[1], *restrict gi = a->state[2];
    double *restrict in_e = a->input[0], *restrict in_i = a->input[1];
    const double *restrict ib = a->param[0];
    int64_t *restrict ref = a->ref_until;
    uint8_t *restrict spiked = a->spiked;
    for (int64_t i = b; i < e; i++) {
        double g_e = ge[i] + in_e[i], g_i = gi[i] + in_i[i];
        in_e[i] = 0;
        in_i[i] = 0;
        double gt = gL + g_e + g_i;
        double vinf = (gL * EL + g_e * Ee + g_i * Ei + ib[i]) / gt;
        double v = vinf + (V[i] - vinf) * exp(-gt * dt / Cm);
        int isref = step < ref[i];
        v = isref ? V[i] : v;
        int spk = !isref && v > Vth;
        V[i] = spk ? Vr : v;
        ref[i] = spk ? step + 1 + nref : ref[i];
        spiked[i] = (uint8_t)spk;
        ge[i] = g_e * de;
        gi[i] = g_i * di;
    }
}
