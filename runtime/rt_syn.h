/* rt_syn.h - projections: connectivity builders into CSR rows by presynaptic
 * neuron, with weights and delays.
 *
 * A static synapse costs 12 bytes: a uint32 post index and a double weight in
 * two parallel arrays (plus an int64 row offset per presynaptic neuron).
 * Heterogeneous delays add a uint16 per synapse (in steps). Post indices are
 * ascending within each row, which lets a thread find the part of a row that
 * falls in its neuron range by binary search. Every random draw is keyed by
 * (seed, projection, row), so the network is the same for any thread count.
 */
#ifndef EIC_RT_SYN_H
#define EIC_RT_SYN_H

#include <stdint.h>

#include "rt_abi.h"

#define RT_MAX_DELAY_STEPS 65535

typedef struct RtCsr {
    int64_t npre, npost, nsyn;
    int64_t *row;       /* npre + 1 offsets into post/weight */
    uint32_t *post;     /* nsyn post indices, ascending within a row */
    double *weight;     /* nsyn weights, SI */
    uint16_t *delay;    /* nsyn delays in steps, or NULL: all equal delay0 */
    int wconst;         /* every weight equals w0 and none can change (no
                           plasticity): delivery adds w0 without reading weight[] */
    double w0;
    int delay0;         /* the delay in steps when homogeneous */
    int max_delay;      /* largest delay in steps, >= 1 */
} RtCsr;

/* Builds projection number `proj` of `pd` between populations of npre and
 * npost neurons, using up to `threads` threads (the result does not depend
 * on it). On failure *c is left empty (safe to rt_syn_free). */
RtErrorCode rt_syn_build(RtCsr *c, const RtProjDesc *pd, uint32_t proj, int64_t npre,
                         int64_t npost, uint64_t seed, double dt, int threads, RtError *err);
void rt_syn_free(RtCsr *c);

/* Converts a delay in seconds into steps: max(1, round(d/dt)). */
int64_t rt_syn_delay_steps(double d, double dt);

/* First index k in [lo, hi) with post[k] >= x (post ascending). */
static inline int64_t rt_syn_lower_bound(const uint32_t *post, int64_t lo, int64_t hi, uint32_t x) {
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (post[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

#endif
