/* rt_sim.c - building a simulation from an RtModelDesc and the fixed-step
 * loop: deliver, update, check, gather, record, events (see rt_abi.h).
 *
 * Threads: the calling thread plus nthreads-1 workers. Each thread owns the
 * contiguous neuron range rt_sim_range(size, t, nthreads) of every
 * population and, for its own neurons only, adds the synaptic input (walking
 * the spikes of the step in neuron order and each CSR row in post order, so
 * every sum is formed in one global order) and runs the update kernel, and
 * collects the spikes of its range into its own list. One barrier ends the
 * step; the merge, record and event phases then run on the calling thread
 * while the workers already start the next step, unless that phase touches
 * what the next step reads or writes (see RtSync in rt_sim.h). Hence results
 * are bit-identical for any thread count.
 */
#define _DEFAULT_SOURCE 1   /* getloadavg */
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt_ei.h"
#include "rt_rng.h"
#include "rt_sim.h"
#include "rt_util.h"

/* ---- per-thread phase ---- */

/* Neurons per update-kernel call: the states, inputs and flags of a block
 * stay in the L1 cache for the non-finite check that follows. */
#define RT_SIM_BLOCK 512

/* Neurons per batch of Poisson draws (rt_rng_*_elements; a multiple of 16). */
#define RT_SIM_RNG_CHUNK 256

/* The spike lists of step `e` of `pre`: one per thread range, in thread
 * order, which is neuron order. Returns how many lists (0 if e < 0). */
static inline int spike_lists(const RtSim *s, const RtPop *pre, RtStep e,
                              uint32_t *const **lists, const int64_t **counts) {
    if (e < 0)
        return 0;
    int slot = (int)(e % pre->hist_len);
    *lists = pre->tspk + slot;           /* stride hist_len between threads */
    *counts = pre->tspk_n + slot;
    return s->nthreads;
}

/* Adds the synapses [a, b) of `c` (a part of one row) to buf, each weight
 * times the gain g (v3; g == 1 adds the weights unscaled, the same bits). */
static inline void add_row(const RtCsr *c, double *restrict buf, int64_t a, int64_t b, double g) {
    const uint32_t *post = c->post;
    const double *w = c->weight;
    if (c->wconst) {   /* same sums: every w[q] is w0 */
        double w0 = g == 1.0 ? c->w0 : g * c->w0;
        for (int64_t q = a; q < b; q++)
            buf[post[q]] += w0;
    } else if (g == 1.0)
        for (int64_t q = a; q < b; q++)
            buf[post[q]] += w[q];
    else
        for (int64_t q = a; q < b; q++)
            buf[post[q]] += g * w[q];
}

/* add_row for a float buffer (RT_PREC_F32 post population): each add is
 * done in double and rounded to float once, in the same order as add_row,
 * so the float sums are bit-identical for any thread count too. */
static inline void add_row_f32(const RtCsr *c, float *restrict buf, int64_t a, int64_t b, double g) {
    const uint32_t *post = c->post;
    const double *w = c->weight;
    if (c->wconst) {
        double w0 = g == 1.0 ? c->w0 : g * c->w0;
        for (int64_t q = a; q < b; q++)
            buf[post[q]] = (float)((double)buf[post[q]] + w0);
    } else if (g == 1.0)
        for (int64_t q = a; q < b; q++)
            buf[post[q]] = (float)((double)buf[post[q]] + w[q]);
    else
        for (int64_t q = a; q < b; q++)
            buf[post[q]] = (float)((double)buf[post[q]] + g * w[q]);
}

/* Prefetches the post indices [a, b) of a row (and weights unless wconst). The
 * rows of a large projection are not in the cache (Vogels et al. 2011 at
 * full size: 5 MB of E -> E post indices, rows of 640 bytes at random
 * places), and the first line alone left the add loop waiting on the rest
 * of the row: prefetching the whole next row while one is added cut the
 * network's simulate time by about 9 %. Prefetches never fault, and the
 * row of a spike is in bounds. */
static inline void prefetch_row(const RtCsr *c, int64_t a, int64_t b) {
    if (a >= b)
        return;
    for (int64_t q = a; q < b; q += 16)   /* 16 uint32 per 64-byte line */
        __builtin_prefetch(c->post + q);
    __builtin_prefetch(c->post + b - 1);  /* the last line, when a is not line-aligned */
    if (!c->wconst) {
        for (int64_t q = a; q < b; q += 8)
            __builtin_prefetch(c->weight + q);
        __builtin_prefetch(c->weight + b - 1);
    }
}

/* The synapses [*a, *b) of row r whose posts thread t owns ([lo, hi)):
 * the whole row with one thread, else from the row's split offsets
 * (pr->split), or by binary search when there are none. */
static inline void row_part(const RtSim *s, const RtProj *pr, uint32_t r, int t, int64_t lo,
                            int64_t hi, int64_t *a, int64_t *b) {
    const RtCsr *c = &pr->csr;
    *a = c->row[r];
    *b = c->row[r + 1];
    if (s->nthreads == 1)
        return;
    if (pr->split) {
        const uint32_t *sp = pr->split + (size_t)r * (size_t)(s->nthreads - 1);
        int64_t r0 = *a;
        if (t > 0)
            *a = r0 + sp[t - 1];
        if (t < s->nthreads - 1)
            *b = r0 + sp[t];
        return;
    }
    *a = rt_syn_lower_bound(c->post, *a, *b, (uint32_t)lo);
    *b = rt_syn_lower_bound(c->post, *a, *b, (uint32_t)hi);
}

/* Adds the spikes due at step `step` of projection `pr` to post neurons
 * [lo, hi) (thread t's): those of step - delay, every list in neuron order.
 * The thread's part of the next spike's row is prefetched while one is
 * added. */
static void deliver_homogeneous(RtSim *s, RtProj *pr, int t, RtStep step, int64_t lo, int64_t hi) {
    const RtCsr *c = &pr->csr;
    const RtPop *pre = &s->pops[pr->d->pre];
    uint32_t *const *lists;
    const int64_t *counts;
    int nl = spike_lists(s, pre, step - c->delay0, &lists, &counts);
    double *buf = s->pops[pr->d->post].input[pr->d->receptor];
    int f32 = s->pops[pr->d->post].f32;   /* buf holds floats */
    for (int u = 0; u < nl; u++) {
        const uint32_t *spk = lists[u * pre->hist_len];
        int64_t n = counts[u * pre->hist_len];
        int64_t a, b, na = 0, nb = 0;   /* the part of the next spike's row */
        if (n > 0)
            row_part(s, pr, spk[0], t, lo, hi, &na, &nb);
        for (int64_t k = 0; k < n; k++) {
            a = na;
            b = nb;
            if (k + 1 < n) {
                row_part(s, pr, spk[k + 1], t, lo, hi, &na, &nb);
                prefetch_row(c, na, nb);
            }
            if (f32)
                add_row_f32(c, (float *)(void *)buf, a, b, pr->gain);
            else
                add_row(c, buf, a, b, pr->gain);
        }
    }
}

/* Heterogeneous delays: spikes of step s-1 go into the ring slot of their
 * arrival step; then the slot of step s is added to the buffer and cleared. */
static void deliver_ring(RtSim *s, RtProj *pr, RtStep step, int64_t lo, int64_t hi) {
    const RtCsr *c = &pr->csr;
    const RtPop *pre = &s->pops[pr->d->pre];
    int64_t L = pr->ring_len, npost = c->npost;
    uint32_t *const *lists;
    const int64_t *counts;
    int nl = spike_lists(s, pre, step - 1, &lists, &counts);
    for (int u = 0; u < nl; u++) {
        const uint32_t *spk = lists[u * pre->hist_len];
        for (int64_t k = 0; k < counts[u * pre->hist_len]; k++) {
            int64_t a = rt_syn_lower_bound(c->post, c->row[spk[k]], c->row[spk[k] + 1], (uint32_t)lo);
            for (int64_t q = a; q < c->row[spk[k] + 1] && c->post[q] < hi; q++)
                pr->ring[((step - 1 + c->delay[q]) % L) * npost + c->post[q]] += c->weight[q];
        }
    }
    double *buf = s->pops[pr->d->post].input[pr->d->receptor];
    double *due = pr->ring + (step % L) * npost, g = pr->gain;   /* gain at arrival (v3) */
    float *fbuf = s->pops[pr->d->post].f32 ? (float *)(void *)buf : NULL;   /* the ring is double */
    for (int64_t i = lo; i < hi; i++) {
        double x = g == 1.0 ? due[i] : g * due[i];
        if (fbuf)
            fbuf[i] = (float)((double)fbuf[i] + x);
        else
            buf[i] += x;
        due[i] = 0;
    }
}

/* x[i] += w for i in [lo, hi) (a current input, every step): the same
 * single IEEE addition per element as a plain loop, in GNU C vectors of 8
 * doubles cloned for AVX-512 and AVX2 (the scalar loop was 8 % of the
 * Vogels et al. (2011) network's time, which injects 200 pA everywhere). */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void add_range(double *restrict x, int64_t lo, int64_t hi, double w) {
    int64_t i = lo;
#if defined(__GNUC__)
    typedef double F64x8 __attribute__((vector_size(64), aligned(8), may_alias));
    for (; i + 16 <= hi; i += 16) {
        F64x8 *b = (F64x8 *)(x + i);
        b[0] += w;
        b[1] += w;
    }
#endif
    for (; i < hi; i++)
        x[i] += w;
}

/* add_range for a float buffer (RT_PREC_F32): x[i] = (float)((double)x[i]
 * + w), the same widening (exact), IEEE double addition and one rounding
 * per element as the scalar loop, 8 elements per vector (the scalar loop
 * was 11 % of the float Vogels et al. (2011) network's time). */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void add_range_f32(float *restrict x, int64_t lo, int64_t hi, double w) {
    int64_t i = lo;
#if defined(__GNUC__)
    typedef float F32x8 __attribute__((vector_size(32), aligned(4), may_alias));
    typedef double F64x8 __attribute__((vector_size(64)));
    for (; i + 8 <= hi; i += 8) {
        F32x8 *b = (F32x8 *)(x + i);
        *b = __builtin_convertvector(__builtin_convertvector(*b, F64x8) + w, F32x8);
    }
#endif
    for (; i < hi; i++)
        x[i] = (float)((double)x[i] + w);
}

/* The rate input `in` (with per-neuron delays) has in effect in step q:
 * the last change at or before q, else the declared rate. */
static double shifted_rate(const RtInputRt *in, RtStep q) {
    int lo = 0, hi = in->nchg;   /* first change after q */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (in->chg_step[mid] <= q)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? in->chg_rate[lo - 1] : in->d->rate_hz;
}

/* Whether input `in` has a rate change in steps (qlo, qhi]. */
static int rate_changes_in(const RtInputRt *in, RtStep qlo, RtStep qhi) {
    for (int c = 0; c < in->nchg; c++)
        if (in->chg_step[c] > qlo && in->chg_step[c] <= qhi)
            return 1;
    return 0;
}

/* A Poisson input with a delay drawn per neuron ([S-net-3b]) into neurons
 * [lo, hi): neuron i's count in step `step` is drawn, keyed by (step, i) as
 * without delays, with the rate in effect in step step - d_i, and is zero
 * while step - d_i is before the input's start. A chunk whose neurons all
 * see one rate is drawn side by side (the same bits as one by one; 4-5x
 * faster for 20000 neurons); one that straddles a rate change, neuron by
 * neuron. */
static void apply_shifted_input(RtSim *s, int idx, RtStep step, int64_t lo, int64_t hi,
                                double *buf, float *fbuf) {
    const RtInputRt *in = &s->inputs[idx];
    uint32_t stream = rt_stream(RT_STREAM_INPUT, (uint32_t)idx, 0);
    double n_src = (double)in->d->n_sources;
    int64_t kk[RT_SIM_RNG_CHUNK];
    for (int64_t c = lo; c < hi; c += RT_SIM_RNG_CHUNK) {
        int64_t n = hi - c < RT_SIM_RNG_CHUNK ? hi - c : RT_SIM_RNG_CHUNK;
        const RtStep *sh = in->shift + (c - in->begin);
        RtStep dmin = sh[0], dmax = sh[0];
        for (int64_t m = 1; m < n; m++) {
            dmin = sh[m] < dmin ? sh[m] : dmin;
            dmax = sh[m] > dmax ? sh[m] : dmax;
        }
        if (step - dmin < in->start)
            continue;   /* no neuron of the chunk has input yet */
        int one_rate = !rate_changes_in(in, step - dmax, step - dmin);
        if (one_rate)   /* as lambda in apply_input */
            rt_rng_poisson_elements(s->seed, stream, (uint64_t)step << 32 | (uint64_t)c, n,
                                    n_src * shifted_rate(in, step - dmin) * s->dt, kk);
        for (int64_t m = 0; m < n; m++) {
            int64_t i = c + m;
            RtStep q = step - sh[m];
            if (q < in->start)
                continue;
            int64_t k = kk[m];
            if (!one_rate) {
                RtRng r;
                rt_rng_init(&r, s->seed, stream, (uint64_t)step << 32 | (uint64_t)i);
                k = rt_rng_poisson(&r, n_src * shifted_rate(in, q) * s->dt);
            }
            double w = in->w ? in->w[i - in->begin] : in->d->weight;
            if (k && fbuf)
                fbuf[i] = (float)((double)fbuf[i] + (double)k * w);
            else if (k)
                buf[i] += (double)k * w;
        }
    }
}

/* Poisson trains and current injections into neurons [lo, hi). */
static void apply_input(RtSim *s, int idx, RtStep step, int64_t lo, int64_t hi) {
    const RtInputRt *in = &s->inputs[idx];
    if (step < in->start || step >= in->stop)
        return;
    if (lo < in->begin) lo = in->begin;
    if (hi > in->end) hi = in->end;
    double *buf = s->pops[in->d->post].input[in->d->receptor];
    float *fbuf = s->pops[in->d->post].f32 ? (float *)(void *)buf : NULL;   /* as add_row_f32 */
    double w = in->d->weight;
    if (in->d->kind == RT_INPUT_CURRENT) {
        if (fbuf)
            add_range_f32(fbuf, lo, hi, w);
        else
            add_range(buf, lo, hi, w);
        return;
    }
    if (in->shift) {
        apply_shifted_input(s, idx, step, lo, hi, buf, fbuf);
        return;
    }
    double lambda = (double)in->d->n_sources * in->rate_hz * s->dt;
    uint32_t stream = rt_stream(RT_STREAM_INPUT, (uint32_t)idx, 0);
    int64_t kk[RT_SIM_RNG_CHUNK];   /* counts of a chunk, drawn side by side (same bits) */
    for (int64_t c = lo; c < hi; c += RT_SIM_RNG_CHUNK) {
        int64_t n = hi - c < RT_SIM_RNG_CHUNK ? hi - c : RT_SIM_RNG_CHUNK;
        rt_rng_poisson_elements(s->seed, stream, (uint64_t)step << 32 | (uint64_t)c, n, lambda, kk);
        for (int64_t i = c; i < c + n; i++) {
            int64_t k = kk[i - c];
            double wi = in->w ? in->w[i - in->begin] : w;
            if (k && fbuf)
                fbuf[i] = (float)((double)fbuf[i] + (double)k * wi);
            else if (k)
                buf[i] += (double)k * wi;
        }
    }
}

/* Poisson source population: a spike with probability rate*dt per step, the
 * rate in effect (RT_EV_SET_POP_RATE changes it, never the draws). */
static void update_poisson_pop(RtSim *s, RtPop *pop, RtStep step, int64_t lo, int64_t hi) {
    double p = pop->rate_hz * s->dt;
    uint32_t stream = rt_stream(RT_STREAM_POISSON_POP, pop->args.pop, 0);
    double u[RT_SIM_RNG_CHUNK];   /* uniforms of a chunk, drawn side by side (same bits) */
    for (int64_t c = lo; c < hi; c += RT_SIM_RNG_CHUNK) {
        int64_t n = hi - c < RT_SIM_RNG_CHUNK ? hi - c : RT_SIM_RNG_CHUNK;
        rt_rng_uniform_elements(s->seed, stream, (uint64_t)step << 32 | (uint64_t)c, n, u);
        for (int64_t i = c; i < c + n; i++)
            pop->spiked[i] = u[i - c] < p;
    }
}

/* 1 if any of x[lo..hi) is NaN or infinite. x*0 is 0 for finite x and NaN
 * otherwise, and NaN survives the sum; GNU C vector types make the sum SIMD
 * without -ffast-math and without a chain of dependent adds (a scalar
 * running sum made this check cost as much as the COBA update). On x86-64
 * the function is cloned for AVX-512 and AVX2 and the loader picks the
 * widest the CPU has: 2.5x faster than SSE2 on a 4000-neuron COBA step. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static int any_nonfinite(const double *x, int64_t lo, int64_t hi) {
    double acc = 0;
    int64_t i = lo;
#if defined(__GNUC__)
    /* 8 doubles, unaligned, may alias the double array */
    typedef double F64x8 __attribute__((vector_size(64), aligned(8), may_alias));
    F64x8 v0 = {0}, v1 = v0, v2 = v0, v3 = v0;
    for (; i + 32 <= hi; i += 32) {
        const F64x8 *b = (const F64x8 *)(x + i);
        v0 += b[0] * 0.0;
        v1 += b[1] * 0.0;
        v2 += b[2] * 0.0;
        v3 += b[3] * 0.0;
    }
    F64x8 v = (v0 + v1) + (v2 + v3);
    for (int k = 0; k < 8; k++)
        acc += v[k];
#endif
    for (; i < hi; i++)
        acc += x[i] * 0.0;
    return acc != 0.0 || acc != acc;   /* NaN compares unequal to itself */
}

/* any_nonfinite for a float array (RT_PREC_F32 states): the same test on
 * 16 floats per vector. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static int any_nonfinite_f32(const float *x, int64_t lo, int64_t hi) {
    float acc = 0;
    int64_t i = lo;
#if defined(__GNUC__)
    typedef float F32x16 __attribute__((vector_size(64), aligned(4), may_alias));
    F32x16 v0 = {0}, v1 = v0, v2 = v0, v3 = v0;
    for (; i + 64 <= hi; i += 64) {
        const F32x16 *b = (const F32x16 *)(x + i);
        v0 += b[0] * 0.0f;
        v1 += b[1] * 0.0f;
        v2 += b[2] * 0.0f;
        v3 += b[3] * 0.0f;
    }
    F32x16 v = (v0 + v1) + (v2 + v3);
    for (int k = 0; k < 16; k++)
        acc += v[k];
#endif
    for (; i < hi; i++)
        acc += x[i] * 0.0f;
    return acc != 0.0f || acc != acc;
}

/* State v of `pop` at neuron i as a double (exact for float arrays). */
static inline double state_at(const RtPop *pop, int v, int64_t i) {
    return pop->f32 ? (double)((const float *)(const void *)pop->state[v])[i] : pop->state[v][i];
}

/* Finds the first non-finite state of [lo, hi) (smallest neuron, then
 * variable); scans element by element only when the fast check fails. */
static int find_nonfinite(const RtPop *pop, int64_t lo, int64_t hi, RtBad *bad) {
    int found = 0;
    for (int v = 0; v < pop->d->nstates; v++) {
        const double *x = pop->state[v];
        if (pop->f32 ? !any_nonfinite_f32((const float *)(const void *)x, lo, hi)
                     : !any_nonfinite(x, lo, hi))
            continue;
        for (int64_t i = lo; i < hi; i++) {
            if (isfinite(state_at(pop, v, i)))
                continue;
            if (!found || i < bad->neuron)
                *bad = (RtBad){pop->args.pop, v, i, state_at(pop, v, i)};
            found = 1;
            break;
        }
    }
    return found;
}

/* 8 bytes of f as one word (no alignment needed). */
static inline uint64_t load_u64(const uint8_t *f) {
    uint64_t x;
    memcpy(&x, f, 8);
    return x;
}

/* Writes to out the neurons i of [lo, hi) with f[i] != 0, ascending, and
 * returns how many. Spikes are rare in a step (Vogels et al. 2011: about
 * 14 of 8000), so 64 flags are tested at once, and the set bytes of a
 * non-zero word of 8 are found from its lowest set bit (little-endian: the
 * lowest bit lies in the first byte), not by testing each byte. */
static int64_t collect_flags(const uint8_t *f, int64_t lo, int64_t hi, uint32_t *out) {
    int64_t n = 0, i = lo;
    for (; i + 64 <= hi; i += 64) {
        uint64_t any = 0;
        for (int k = 0; k < 8; k++)   /* ORed straight from memory (a copy to an array
                                         first went through the stack) */
            any |= load_u64(f + i + 8 * k);
        if (!any)
            continue;
        for (int k = 0; k < 8; k++) {
            uint64_t x = load_u64(f + i + 8 * k);
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            while (x) {   /* b: the first non-zero byte */
                int b = __builtin_ctzll(x) >> 3;
                out[n++] = (uint32_t)(i + 8 * k + b);
                x &= ~((uint64_t)0xff << (8 * b));
            }
#else
            for (int b = 0; x && b < 8; b++)
                if (f[i + 8 * k + b])
                    out[n++] = (uint32_t)(i + 8 * k + b);
#endif
        }
    }
    for (; i < hi; i++)
        if (f[i])
            out[n++] = (uint32_t)i;
    return n;
}

/* Collects the spikes of `step` in thread t's range [lo, hi) of `pop`, in
 * neuron order, into the thread's own list. */
static void gather_thread(RtPop *pop, int t, RtStep step, int64_t lo, int64_t hi) {
    int slot = (int)(step % pop->hist_len);
    uint32_t *out = pop->tspk[t * pop->hist_len + slot];
    int64_t n = 0;
    if (pop->d->kind == RT_POP_SPIKE_TIMES) {
        int64_t pos = pop->src_tpos[t];
        for (; pos < pop->src_n && pop->src_step[pos] <= step; pos++)
            if (pop->src_step[pos] == step && pop->src_neuron[pos] >= lo && pop->src_neuron[pos] < hi)
                out[n++] = pop->src_neuron[pos];
        pop->src_tpos[t] = pos;
    } else
        n = collect_flags(pop->spiked, lo, hi, out);
    pop->tspk_n[t * pop->hist_len + slot] = n;
}

/* Everything thread t does in step `step`, for its own neurons: deliver,
 * inputs, update, check, on_post, and its share of the spike lists. */
static void thread_step(RtSim *s, int t, RtStep step) {
    int check = step % s->opt.check_every == 0;
    RtBad *bad = &s->bad[2 * t + (step & 1)];
    bad->pop = -1;
    for (int p = 0; p < s->m->npops; p++) {
        RtPop *pop = &s->pops[p];
        int64_t lo, hi;
        rt_sim_range(pop->size, t, s->nthreads, &lo, &hi);
        for (int k = 0; k < pop->nin_projs; k++) {
            RtProj *pr = &s->projs[pop->in_projs[k]];
            if (pr->pl)
                rt_plastic_deliver(s, pop->in_projs[k], step, lo, hi);
            else if (pr->ring)
                deliver_ring(s, pr, step, lo, hi);
            else
                deliver_homogeneous(s, pr, t, step, lo, hi);
        }
        for (int k = 0; k < pop->nin_inputs; k++)
            apply_input(s, pop->in_inputs[k], step, lo, hi);
        if (pop->d->kind == RT_POP_POISSON) {
            update_poisson_pop(s, pop, step, lo, hi);
            rt_ei_after_update(s, p, step, lo, hi);   /* silence (ABI v3) */
        } else if (pop->d->kind == RT_POP_NEURON && lo < hi) {
            RtPopArgs *args = &s->targs[t * s->m->npops + p];
            args->step = step;
            args->t = (double)step * s->dt;
            if (s->probed)   /* probe recordings, balance monitors (ABI v5) */
                rt_rec_probe(s, p, t, args, step, lo, hi), rt_ei_before_update(s, p, t, args, step, lo, hi);
            /* in blocks, so the check reads states the kernel left in L1 */
            for (int64_t b = lo; b < hi; b += RT_SIM_BLOCK) {
                int64_t e = hi - b > RT_SIM_BLOCK ? b + RT_SIM_BLOCK : hi;
                pop->d->update(args, b, e);
                if (check && bad->pop < 0)
                    find_nonfinite(pop, b, e, bad);
            }
            rt_ei_after_update(s, p, step, lo, hi);   /* silence, balance (ABI v3) */
            gather_thread(pop, t, step, lo, hi);      /* the list rt_plastic_post walks */
            rt_plastic_post(s, p, t, step, lo, hi);   /* on_post, every (ABI v2) */
            continue;
        }
        gather_thread(pop, t, step, lo, hi);
    }
}

/* ---- synchronisation (see RtSync in rt_sim.h) ---- */

/* One round of waiting. A partner thread is normally microseconds away:
 * spin. If it is not, the machine is probably oversubscribed and the partner
 * descheduled: yield the core to it (sleeping here would add a timer's
 * latency to every such step). Only after 50 ms of waiting, which happens
 * between runs, sleep with growing pauses. */
typedef struct RtWait {
    long spins;
    double since;        /* when yielding began, 0: not yet */
    long pause_ns;
} RtWait;

static void backoff(RtWait *w) {
    if (w->spins++ < 300) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
        return;
    }
    double now = rt_now_s();
    if (w->since == 0)
        w->since = now;
    if (now - w->since < 0.05) {
        sched_yield();
        return;
    }
    w->pause_ns = w->pause_ns ? (w->pause_ns < 1000000 ? 2 * w->pause_ns : w->pause_ns) : 10000;
    struct timespec ts = {0, w->pause_ns};   /* idle: 10 us .. 1 ms */
    nanosleep(&ts, NULL);
}

/* Waits until every part of `step` is done (acquire: the parts' writes are
 * visible afterwards). Returns 0 on quit. */
static int wait_step_done(RtSim *s, RtStep step) {
    long long target = (long long)(step + 1) * s->nthreads;
    RtWait w = {0, 0, 0};
    while (atomic_load_explicit(&s->sync.parts_done, memory_order_acquire) < target) {
        if (atomic_load_explicit(&s->sync.quit, memory_order_relaxed))
            return 0;
        backoff(&w);
    }
    return 1;
}

/* Claims and runs parts of `step` until none is left. A part is claimed by
 * advancing sync.claim from step*P + part, and only within this step, so a
 * thread never holds work it cannot start. */
static void run_parts(RtSim *s, RtStep step) {
    long long first = (long long)step * s->nthreads, end = first + s->nthreads;
    long long k = atomic_load(&s->sync.claim);
    while (k < end) {
        if (!atomic_compare_exchange_weak(&s->sync.claim, &k, k + 1))
            continue;   /* k now holds the current value */
        thread_step(s, (int)(k - first), step);
        atomic_fetch_add_explicit(&s->sync.parts_done, 1, memory_order_release);
        k = atomic_load(&s->sync.claim);
    }
}

/* 1 if a part found a non-finite state in `step` (read after its barrier). */
static int step_failed(const RtSim *s, RtStep step) {
    for (int u = 0; u < s->nthreads; u++)
        if (s->bad[2 * u + (step & 1)].pop >= 0)
            return 1;
    return 0;
}

/* A worker waits until `step` may start: authorized, every part of step-1
 * done, the serial part of step-2 done (so the workers are at most one step
 * ahead and hold[(step-1)&1] is published), and if step-1 holds (or failed)
 * its serial part done too. If other threads did all of `step` meanwhile,
 * the flags read here may already belong to a later step; that is harmless
 * because run_parts then finds no part of `step` left to claim. 0 on quit. */
static int wait_start(RtSim *s, RtStep step) {
    long long ready = (long long)step * s->nthreads;
    RtWait w = {0, 0, 0};
    for (;;) {
        if (atomic_load_explicit(&s->sync.quit, memory_order_relaxed))
            return 0;
        if (atomic_load_explicit(&s->sync.authorized, memory_order_acquire) > step
            && atomic_load_explicit(&s->sync.parts_done, memory_order_acquire) >= ready) {
            if (step == 0)
                return 1;
            long long rel = atomic_load_explicit(&s->sync.released, memory_order_acquire);
            if (rel >= step)
                return 1;
            if (rel >= step - 1 && !atomic_load(&s->sync.hold[(step - 1) & 1])
                && !step_failed(s, step - 1))
                return 1;
        }
        backoff(&w);
    }
}

static void *worker_main(void *arg) {
    RtSim *s = arg;
    /* wait until every worker exists */
    pthread_mutex_lock(&s->gate_mu);
    while (!s->gate_open)
        pthread_cond_wait(&s->gate_cv, &s->gate_mu);
    int abort_start = s->gate_open == 2;
    pthread_mutex_unlock(&s->gate_mu);
    if (abort_start)
        return NULL;
    for (RtStep step = 0;; step++) {
        if (!wait_start(s, step))
            return NULL;
        run_parts(s, step);
        /* catch up if the other threads did whole steps without us */
        long long k = atomic_load(&s->sync.claim) / s->nthreads;
        if (k - 1 > step)
            step = k - 1;
    }
}

/* ---- serial phase ---- */

/* Merges the threads' spike lists of `step` into the population histories
 * (neuron order) and counts them. With one thread they are the history. */
static void merge_spikes(RtSim *s, RtStep step) {
    for (int p = 0; p < s->m->npops; p++) {
        RtPop *pop = &s->pops[p];
        int slot = (int)(step % pop->hist_len);
        int64_t n = 0;
        if (pop->tspk == pop->hist)
            n = pop->hist_n[slot];
        else
            for (int t = 0; t < s->nthreads; t++) {
                int64_t k = pop->tspk_n[t * pop->hist_len + slot];
                memcpy(pop->hist[slot] + n, pop->tspk[t * pop->hist_len + slot], (size_t)k * 4);
                n += k;
            }
        pop->hist_n[slot] = n;
        pop->spikes_total += n;
    }
}

/* Applies the protocol events due before the update of step `step`. */
static void apply_events(RtSim *s, RtStep step) {
    while (s->ev_pos < s->nevents && s->events[s->ev_pos].step <= step) {
        const RtEventDesc *e = s->events[s->ev_pos++].d;
        if (e->kind == RT_EV_SET_CONST)
            s->pops[e->target].consts[e->index] = e->value;
        else if (e->kind == RT_EV_SET_INPUT_RATE)
            s->inputs[e->target].rate_hz = e->value;
        else if (e->kind == RT_EV_SET_POP_RATE)
            s->pops[e->target].rate_hz = e->value;
        else if (e->kind == RT_EV_SET_PROJ_CONST)
            rt_plastic_set_const(s, e->target, e->index, e->value);
        else
            rt_ei_apply_event(s, e);   /* ABI v3 kinds */
    }
}

/* Turns the threads' findings into an RT_E_NONFINITE error, if any. */
static RtErrorCode report_nonfinite(RtSim *s, RtStep step, RtError *err) {
    const RtBad *best = NULL;
    for (int t = 0; t < s->nthreads; t++) {
        const RtBad *b = &s->bad[2 * t + (step & 1)];
        if (b->pop < 0)
            continue;
        if (!best || b->pop < best->pop || (b->pop == best->pop && b->neuron < best->neuron))
            best = b;
    }
    if (!best)
        return RT_OK;
    const RtPopDesc *d = &s->m->pops[best->pop];
    return rt_err(err, RT_E_NONFINITE, "population '%s' neuron %lld: state '%s' is %s after "
                  "step %lld (t = %.6g s)", d->name, (long long)best->neuron,
                  d->states[best->var].name, isnan(best->value) ? "nan" : "infinite",
                  (long long)step, (double)(step + 1) * s->dt);
}

/* Whether the serial part of `step` must finish before any thread starts
 * step+1: it reads states (a sample is due), applies events, runs plastic
 * serial work, or the run is being interrupted. Decided before the barrier. */
static int decide_hold(RtSim *s, RtStep step) {
    return s->always_hold || rt_rec_reads_state(s, step) || rt_ei_holds(s, step)
           || (s->ev_pos < s->nevents && s->events[s->ev_pos].step <= step + 1);
}

/* With workers: publishes whether the serial part of `step` holds step+1,
 * then lets the workers start step+1 once `step`'s parts are done (they may
 * already be running `step`). On an interrupt, step+1 may still start (it
 * may have started: the workers are one step ahead) but nothing after it. */
static void release_next(RtSim *s, RtStep step) {
    atomic_store(&s->sync.hold[(step + 1) & 1], decide_hold(s, step + 1));
    if (s->opt.interrupt && *s->opt.interrupt && !s->intr_latched) {
        s->intr_latched = 1;
        s->intr_stop = step + 2;
        if (atomic_load(&s->sync.authorized) > step + 2)
            atomic_store(&s->sync.authorized, step + 2);
    }
    atomic_store_explicit(&s->sync.released, step + 1, memory_order_release);
}

RtErrorCode rt_sim_step(RtSim *s, RtError *err) {
    if (s->fail.code)
        return rt_err(err, s->fail.code, "%s", s->fail.msg);
    if (s->now >= (RtStep)1 << 32)
        return rt_err(err, RT_E_OVERFLOW, "step counter beyond 2^32 steps");
    RtStep step = s->now;
    for (int p = 0; p < s->m->npops; p++) {   /* for inspection and plastic code */
        s->pops[p].args.step = step;
        s->pops[p].args.t = (double)step * s->dt;
    }
    int threads = s->nthreads > 1;
    if (threads) {   /* the parts go to whichever thread claims them first */
        if (atomic_load(&s->sync.authorized) < step + 1)
            atomic_store(&s->sync.authorized, step + 1);
        run_parts(s, step);
        wait_step_done(s, step);
    } else
        thread_step(s, 0, step);
    /* serial part: the workers may already run step+1 unless step holds */
    RtErrorCode rc = report_nonfinite(s, step, &s->fail);
    merge_spikes(s, step);
    rt_plastic_serial(s, step);   /* per-pre state, pre traces (ABI v2) */
    if (rc == RT_OK)
        rc = rt_rec_step(s, step, &s->fail);
    if (rc == RT_OK)   /* balance, weights; globals to step+1 (ABI v3) */
        rc = rt_ei_serial(s, step, &s->fail);
    s->now = step + 1;
    apply_events(s, s->now);
    if (rc)
        return rt_err(err, rc, "%s", s->fail.msg);
    if (threads)
        release_next(s, step);
    return RT_OK;
}

static RtErrorCode interrupted(RtSim *s, RtError *err) {
    return rt_err(err, RT_E_INTERRUPTED, "interrupted after step %lld (t = %.6g s)",
                  (long long)s->now, (double)s->now * s->dt);
}

RtErrorCode rt_sim_run(RtSim *s, RtStep nsteps, RtError *err) {
    RtStep end = nsteps < 0 ? s->total : s->now + nsteps;
    RtStep every = s->total / 100 > 0 ? s->total / 100 : 1;
    double t0 = rt_now_s();
    RtErrorCode rc = RT_OK;
    if (s->opt.interrupt && *s->opt.interrupt)
        rc = interrupted(s, err);
    s->intr_latched = 0;
    /* the workers may run ahead up to `end` (see release_next) */
    if (rc == RT_OK && s->nthreads > 1 && atomic_load(&s->sync.authorized) < end)
        atomic_store(&s->sync.authorized, end);
    while (rc == RT_OK && s->now < end) {
        if (s->nthreads == 1 && s->opt.interrupt && *s->opt.interrupt) {
            s->intr_latched = 1;
            s->intr_stop = s->now;
        }
        if (s->intr_latched && s->now >= s->intr_stop) {
            rc = interrupted(s, err);
            break;
        }
        rc = rt_sim_step(s, err);
        if (s->opt.progress && s->now % every == 0)
            s->opt.progress(s->opt.progress_ctx, s->now, s->total);
    }
    s->sim_s += rt_now_s() - t0;
    return rc;
}

/* ---- building ---- */

static RtErrorCode invalid(RtError *err, const char *what, int i, const char *why) {
    return rt_err(err, RT_E_INVALID, "model descriptor: %s %d: %s", what, i, why);
}

static RtErrorCode validate_pops(const RtModelDesc *m, RtError *err) {
    for (int p = 0; p < m->npops; p++) {
        const RtPopDesc *d = &m->pops[p];
        if (!d->name || d->size < 1 || d->size >= (int64_t)1 << 32)
            return invalid(err, "population", p, "needs a name and 1 <= size < 2^32");
        if (d->precision != RT_PREC_F64 && d->precision != RT_PREC_F32)
            return invalid(err, "population", p, "precision is neither RT_PREC_F64 nor RT_PREC_F32");
        if (d->kind == RT_POP_NEURON && !d->update)
            return invalid(err, "population", p, "neuron population without update kernel");
        if (d->nstates < 0 || d->nparams < 0 || d->ninputs < 0 || d->nconsts < 0
            || (d->nstates && !d->states) || (d->nparams && !d->params)
            || (d->nconsts && !d->consts))
            return invalid(err, "population", p, "bad variable arrays");
        if (d->kind == RT_POP_SPIKE_TIMES && !d->spike_file && d->nspikes
            && (!d->spike_times || !d->spike_neurons))
            return invalid(err, "population", p, "spike source without spikes");
        /* v5: manifests read probes[var], and only neuron updates run the
           probe kernel (another kind would record rows never computed) */
        if (m->abi_version >= 5
            && (d->nprobes < 0
                || (d->nprobes && (!d->probes || !d->probe || d->kind != RT_POP_NEURON))))
            return invalid(err, "population", p, "probes need nprobes >= 0, their names, a probe "
                           "kernel and a neuron population");
    }
    return RT_OK;
}

/* A drawn input weight or delay: none (RT_DIST_CONST), or uniform/normal
 * with finite parameters on a Poisson input. */
static int input_dist_ok(const RtDist *d, RtInputKind kind) {
    if (d->kind == RT_DIST_CONST)
        return 1;
    return kind == RT_INPUT_POISSON && (d->kind == RT_DIST_UNIFORM || d->kind == RT_DIST_NORMAL)
           && isfinite(d->a) && isfinite(d->b);
}

static RtErrorCode validate_rest(const RtModelDesc *m, RtError *err) {
    for (int k = 0; k < m->nprojs; k++) {
        const RtProjDesc *d = &m->projs[k];
        if (d->pre < 0 || d->pre >= m->npops || d->post < 0 || d->post >= m->npops
            || d->receptor < 0 || d->receptor >= m->pops[d->post].ninputs || !d->name)
            return invalid(err, "projection", k, "bad name, population or receptor index");
    }
    for (int k = 0; k < m->ninputs; k++) {
        const RtInputDesc *d = &m->inputs[k];
        if (d->post < 0 || d->post >= m->npops || d->receptor < 0
            || d->receptor >= m->pops[d->post].ninputs
            || (d->kind == RT_INPUT_POISSON && (d->n_sources < 1 || !(d->rate_hz >= 0 && isfinite(d->rate_hz)))))
            return invalid(err, "input", k, "bad population, receptor, sources or rate (a finite rate >= 0)");
        if (!input_dist_ok(&d->weight_dist, d->kind) || !input_dist_ok(&d->delay_dist, d->kind))
            return invalid(err, "input", k, "bad drawn weight or delay");
    }
    for (int k = 0; k < m->nrecs; k++) {
        const RtRecDesc *d = &m->recs[k];
        if (d->kind == RT_REC_BALANCE || d->kind == RT_REC_WEIGHTS)
            continue;   /* rt_ei_validate */
        if (d->pop < 0 || d->pop >= m->npops || d->every < 1 || !d->file
            || (d->kind == RT_REC_STATE && (d->var < 0 || d->var >= m->pops[d->pop].nstates)))
            return invalid(err, "recording", k, "bad population, variable, interval or file");
        if (d->kind == RT_REC_PROBE   /* ABI v5 */
            && (m->abi_version < 5 || d->var < 0 || d->var >= m->pops[d->pop].nprobes
                || !m->pops[d->pop].probe))
            return invalid(err, "recording", k, "a probe recording needs ABI v5 and a probe index "
                           "of a population with a probe kernel");
    }
    for (int k = 0; k < m->nevents; k++) {
        const RtEventDesc *d = &m->events[k];
        if ((d->kind == RT_EV_SET_CONST && (d->target < 0 || d->target >= m->npops
                                            || d->index < 0 || d->index >= m->pops[d->target].nconsts))
            || (d->kind == RT_EV_SET_INPUT_RATE && (d->target < 0 || d->target >= m->ninputs)))
            return invalid(err, "event", k, "bad target");
        /* an infinite rate would reach the Poisson draw's conversion to an integer */
        if (d->kind == RT_EV_SET_INPUT_RATE && m->inputs[d->target].kind == RT_INPUT_POISSON
            && !(d->value >= 0 && isfinite(d->value)))
            return invalid(err, "event", k, "a Poisson input's rate must be finite and >= 0");
        if (d->kind == RT_EV_SET_POP_RATE
            && (m->abi_version < 5 || d->target < 0 || d->target >= m->npops
                || m->pops[d->target].kind != RT_POP_POISSON || !(d->value >= 0 && isfinite(d->value))))
            return invalid(err, "event", k, "a rate event needs ABI v5, a Poisson population and a finite rate >= 0");
    }
    return RT_OK;
}

static RtErrorCode validate(const RtModelDesc *m, const RtRunOptions *o, RtError *err) {
    if (m->abi_version < 1 || m->abi_version > RT_ABI_VERSION)   /* older versions: fields zero */
        return rt_err(err, RT_E_INVALID, "model descriptor has ABI version %u, runtime has %d",
                      m->abi_version, RT_ABI_VERSION);
    if (!(m->dt > 0) || m->npops < 0 || (m->npops && !m->pops) || (m->nprojs && !m->projs)
        || (m->ninputs && !m->inputs) || (m->nrecs && !m->recs) || (m->nevents && !m->events))
        return rt_err(err, RT_E_INVALID, "model descriptor: bad dt or arrays");
    if (m->npops > 4096 || m->nprojs > 4096 || m->ninputs > 4096)
        return rt_err(err, RT_E_INVALID, "model descriptor: more than 4096 populations, "
                      "projections or inputs");
    if (o->threads < 0)
        return rt_err(err, RT_E_INVALID, "threads must be >= 0");
    RtErrorCode rc = validate_pops(m, err);
    if (rc == RT_OK) rc = validate_rest(m, err);
    if (rc == RT_OK) rc = rt_ei_validate(m, err);
    return rc ? rc : rt_plastic_validate(m, err);
}

/* With several threads, where in each row of a homogeneous static
 * projection the posts of threads 1..nthreads-1 begin (offsets from the
 * row's start, nthreads-1 per row): delivery then finds the part of a row
 * a thread adds without two binary searches per row and thread. Returns 0
 * when out of memory. */
static int build_split(RtSim *s, RtProj *pr) {
    const RtCsr *c = &pr->csr;
    int nt = s->nthreads;
    if (nt == 1)
        return 1;
    pr->split = rt_alloc((size_t)(c->npre + 1) * (size_t)(nt - 1) * sizeof(uint32_t));
    if (!pr->split)
        return 0;
    int64_t size = s->m->pops[pr->d->post].size;
    for (int64_t r = 0; r < c->npre; r++)
        for (int t = 1; t < nt; t++) {
            int64_t lo, hi;
            rt_sim_range(size, t, nt, &lo, &hi);
            int64_t q = rt_syn_lower_bound(c->post, c->row[r], c->row[r + 1], (uint32_t)lo);
            pr->split[(size_t)r * (size_t)(nt - 1) + (size_t)(t - 1)] = (uint32_t)(q - c->row[r]);
        }
    return 1;
}

/* Builds the projections and their rings; lists them per post population. */
static RtErrorCode build_projections(RtSim *s, RtError *err) {
    const RtModelDesc *m = s->m;
    s->projs = rt_alloc((size_t)(m->nprojs + 1) * sizeof *s->projs);
    if (!s->projs)
        return rt_err(err, RT_E_NOMEM, "out of memory");
    for (int k = 0; k < m->nprojs; k++) {
        RtProj *pr = &s->projs[k];
        pr->d = &m->projs[k];
        RtErrorCode rc = rt_syn_build(&pr->csr, pr->d, (uint32_t)k, m->pops[pr->d->pre].size,
                                      m->pops[pr->d->post].size, s->seed, s->dt, s->build_threads, err);
        if (rc)
            return rc;
        if (!pr->csr.delay && !pr->d->plastic && !build_split(s, pr))
            return rt_err(err, RT_E_NOMEM, "out of memory for the thread split of '%s'", pr->d->name);
        if (pr->csr.delay && pr->d->plastic) {   /* delivered by rt_plastic.c per delay group */
            rt_plastic_sort_rows(&pr->csr);
            continue;
        }
        if (pr->csr.delay) {
            pr->ring_len = pr->csr.max_delay;
            pr->ring = rt_alloc((size_t)pr->ring_len * (size_t)pr->csr.npost * sizeof(double));
            if (!pr->ring)
                return rt_err(err, RT_E_NOMEM, "out of memory for the delay ring of '%s'", pr->d->name);
        }
    }
    return RT_OK;
}

/* Spike history lengths, and the per-population lists of incoming
 * projections and inputs (in descriptor order: the order of the sums). */
static RtErrorCode wire_populations(RtSim *s, RtError *err) {
    const RtModelDesc *m = s->m;
    for (int p = 0; p < m->npops; p++) {
        RtPop *pop = &s->pops[p];
        int len = 2;
        pop->in_projs = rt_alloc((size_t)(m->nprojs + 1) * sizeof(int));
        pop->in_inputs = rt_alloc((size_t)(m->ninputs + 1) * sizeof(int));
        if (!pop->in_projs || !pop->in_inputs)
            return rt_err(err, RT_E_NOMEM, "out of memory");
        for (int k = 0; k < m->nprojs; k++) {
            const RtCsr *c = &s->projs[k].csr;   /* plastic: per-synapse delays read the history */
            int dmax = c->delay ? c->max_delay : c->delay0;
            if (m->projs[k].pre == p && !s->projs[k].ring && dmax + 1 > len)
                len = dmax + 1;
            if (m->projs[k].post == p)
                pop->in_projs[pop->nin_projs++] = k;
        }
        for (int k = 0; k < m->ninputs; k++)
            if (m->inputs[k].post == p)
                pop->in_inputs[pop->nin_inputs++] = k;
        RtErrorCode rc = rt_pop_alloc_history(pop, len, s->nthreads, err);
        if (rc)
            return rc;
    }
    return RT_OK;
}

static RtStep to_step(double t, double dt) { return (RtStep)nearbyint(t / dt); }

static int cmp_event(const void *a, const void *b) {
    const RtEventRt *x = a, *y = b;
    if (x->step != y->step)
        return x->step < y->step ? -1 : 1;
    return (x->d > y->d) - (x->d < y->d);   /* descriptor order */
}

/* One value of a drawn input weight or delay (uniform or normal). */
static double draw_input_value(const RtDist *d, RtRng *r) {
    if (d->kind == RT_DIST_UNIFORM)
        return d->a + (d->b - d->a) * rt_rng_uniform(r);
    return d->a + d->b * rt_rng_normal(r);
}

/* Input k's rate changes (its RT_EV_SET_INPUT_RATE events, in the order
 * apply_events applies them: the last of one step wins), for per-neuron
 * delays, which look up the rate of an earlier step. */
static RtErrorCode input_rate_history(RtSim *s, int k) {
    RtInputRt *in = &s->inputs[k];
    int n = 0;
    for (int e = 0; e < s->nevents; e++)
        n += s->events[e].d->kind == RT_EV_SET_INPUT_RATE && s->events[e].d->target == k;
    in->chg_step = rt_alloc((size_t)(n + 1) * sizeof *in->chg_step);
    in->chg_rate = rt_alloc((size_t)(n + 1) * sizeof *in->chg_rate);
    if (!in->chg_step || !in->chg_rate)
        return RT_E_NOMEM;
    for (int e = 0; e < s->nevents; e++)
        if (s->events[e].d->kind == RT_EV_SET_INPUT_RATE && s->events[e].d->target == k) {
            in->chg_step[in->nchg] = s->events[e].step;
            in->chg_rate[in->nchg++] = s->events[e].d->value;
        }
    return RT_OK;
}

/* Draws input k's per-neuron weights and delays (RtInputDesc.weight_dist,
 * delay_dist), keyed by the population index of the neuron, so the values
 * do not depend on threads and a neuron keeps its draw whatever range the
 * input targets. */
static RtErrorCode draw_input(RtSim *s, int k) {
    RtInputRt *in = &s->inputs[k];
    const RtInputDesc *d = in->d;
    int64_t n = in->end > in->begin ? in->end - in->begin : 0;
    RtRng r;
    if (d->weight_dist.kind != RT_DIST_CONST) {
        if (!(in->w = rt_alloc((size_t)(n + 1) * sizeof *in->w)))
            return RT_E_NOMEM;
        for (int64_t i = 0; i < n; i++) {
            rt_rng_init(&r, s->seed, rt_stream(RT_STREAM_INPUT, (uint32_t)k, 1), (uint64_t)(in->begin + i));
            in->w[i] = draw_input_value(&d->weight_dist, &r);
        }
    }
    if (d->delay_dist.kind == RT_DIST_CONST)
        return RT_OK;
    if (!(in->shift = rt_alloc((size_t)(n + 1) * sizeof *in->shift)))
        return RT_E_NOMEM;
    for (int64_t i = 0; i < n; i++) {
        rt_rng_init(&r, s->seed, rt_stream(RT_STREAM_INPUT, (uint32_t)k, 2), (uint64_t)(in->begin + i));
        double steps = round(draw_input_value(&d->delay_dist, &r) / s->dt);   /* as llround in lower_net.c */
        in->shift[i] = steps > 0 ? (steps < 1e15 ? (RtStep)steps : (RtStep)1e15) : 0;
    }
    return input_rate_history(s, k);
}

/* Inputs' windows and rates, and the sorted event list. */
static RtErrorCode setup_inputs_events(RtSim *s, RtError *err) {
    const RtModelDesc *m = s->m;
    s->inputs = rt_alloc((size_t)(m->ninputs + 1) * sizeof *s->inputs);
    s->events = rt_alloc((size_t)(m->nevents + 1) * sizeof *s->events);
    if (!s->inputs || !s->events)
        return rt_err(err, RT_E_NOMEM, "out of memory");
    for (int k = 0; k < m->ninputs; k++) {
        const RtInputDesc *d = &m->inputs[k];
        int64_t size = m->pops[d->post].size;
        s->inputs[k] = (RtInputRt){.d = d, .rate_hz = d->rate_hz, .start = to_step(d->start_s, s->dt),
                                   .stop = d->stop_s < 0 ? INT64_MAX : to_step(d->stop_s, s->dt),
                                   .begin = d->begin < 0 ? 0 : d->begin,
                                   .end = d->end < 0 || d->end > size ? size : d->end};
    }
    for (int k = 0; k < m->nevents; k++)
        s->events[k] = (RtEventRt){to_step(m->events[k].time_s, s->dt), &m->events[k]};
    s->nevents = m->nevents;
    qsort(s->events, (size_t)s->nevents, sizeof *s->events, cmp_event);
    for (int k = 0; k < m->ninputs; k++) {
        RtErrorCode rc = draw_input(s, k);
        if (rc)
            return rt_err(err, rc, "out of memory");
    }
    apply_events(s, 0);
    return RT_OK;
}

/* Lets the workers run (quit = 0) or end (quit = 1); joins them if quitting. */
static void open_gate(RtSim *s, int quit) {
    pthread_mutex_lock(&s->gate_mu);
    s->quit = quit;
    s->gate_open = quit ? 2 : 1;
    pthread_cond_broadcast(&s->gate_cv);
    pthread_mutex_unlock(&s->gate_mu);
    if (quit) {
        for (int t = 1; t <= s->nstarted; t++)
            pthread_join(s->tids[t], NULL);
        s->nstarted = 0;
    }
}

/* Per-thread state of the step loop, then nthreads-1 workers, which wait at
 * a gate until all exist. */
static RtErrorCode start_threads(RtSim *s, RtError *err) {
    int np = s->m->npops;
    s->bad = rt_alloc((size_t)s->nthreads * 2 * sizeof *s->bad);
    s->targs = rt_alloc((size_t)s->nthreads * (size_t)(np + 1) * sizeof *s->targs);
    if (!s->bad || !s->targs)
        return rt_err(err, RT_E_NOMEM, "out of memory");
    for (int t = 0; t < s->nthreads; t++)
        for (int p = 0; p < np; p++)
            s->targs[t * np + p] = s->pops[p].args;
    for (int k = 0; k < s->m->nprojs; k++)
        s->always_hold |= s->projs[k].pl != NULL;
    if (s->nthreads == 1)
        return RT_OK;
    atomic_store(&s->sync.hold[0], decide_hold(s, 0));   /* before any step */
    s->tids = rt_alloc((size_t)s->nthreads * sizeof *s->tids);
    if (!s->tids)
        return rt_err(err, RT_E_NOMEM, "out of memory");
    RtErrorCode rc = RT_OK;
    for (int t = 1; t < s->nthreads && rc == RT_OK; t++) {
        if (pthread_create(&s->tids[t], NULL, worker_main, s) != 0)
            rc = rt_err(err, RT_E_NOMEM, "cannot start thread %d", t);
        else
            s->nstarted++;
    }
    open_gate(s, rc != RT_OK);
    return rc;
}

/* Threads for the step loop when the user did not ask for a number: results
 * are the same for any count, so this only weighs speed. A step of a small
 * network takes microseconds and a barrier between cores costs about a
 * microsecond, so small networks run on one thread; and threads that wait
 * for each other every step lose badly when other processes already keep
 * the cores busy (one descheduled thread stalls the step), so the cores
 * counted are those the 1-minute load average leaves free. */
static int auto_threads(const RtModelDesc *m, int cores) {
    int64_t work = 0;
    for (int p = 0; p < m->npops; p++)
        work += m->pops[p].size;
    int64_t nt = work / RT_SIM_NEURONS_PER_THREAD;
    double load[1];
    if (getloadavg(load, 1) == 1) {
        int64_t free_cores = cores - (int64_t)(load[0] + 0.5);
        if (nt > free_cores)
            nt = free_cores;
    }
    if (nt > cores) nt = cores;
    return nt < 1 ? 1 : (int)nt;
}

/* mkdir -p: creates `path` and any missing parents. Returns 0 or -1 (errno). */
static int make_dirs(char *path) {
    struct stat st;
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int bad = stat(path, &st) != 0 && mkdir(path, 0777) != 0 && errno != EEXIST;
        *p = '/';
        if (bad)
            return -1;
    }
    return stat(path, &st) != 0 && mkdir(path, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

/* Creates the output directory (with its parents) and remembers its path. */
static RtErrorCode setup_out_dir(RtSim *s, RtError *err) {
    if (!s->opt.out_dir)
        return RT_OK;
    size_t n = strlen(s->opt.out_dir) + 1;
    if (!(s->out_dir = rt_realloc(NULL, n)))
        return rt_err(err, RT_E_NOMEM, "out of memory");
    memcpy(s->out_dir, s->opt.out_dir, n);
    if (make_dirs(s->out_dir) != 0)
        return rt_err(err, RT_E_IO, "cannot create directory '%s': %s", s->out_dir, strerror(errno));
    return RT_OK;
}

void rt_run_options_init(RtRunOptions *o) {
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->duration_s = -1;
    o->check_every = 1;
}

/* The steps of rt_sim_create after the RtSim exists, in order. */
static RtErrorCode build(RtSim *s, RtError *err) {
    RtErrorCode rc = RT_OK;
    for (int p = 0; rc == RT_OK && p < s->m->npops; p++)
        rc = rt_pop_create(s, p, err);
    if (rc == RT_OK) rc = build_projections(s, err);
    if (rc == RT_OK) rc = wire_populations(s, err);
    if (rc == RT_OK) rc = rt_ei_build(s, err);   /* before the events of step 0 */
    if (rc == RT_OK) rc = setup_inputs_events(s, err);
    for (int p = 0; rc == RT_OK && p < s->m->npops; p++)
        rc = rt_pop_init_values(s, p, err);
    if (rc == RT_OK) rc = rt_plastic_build(s, err);
    if (rc == RT_OK) rc = setup_out_dir(s, err);
    if (rc == RT_OK) rc = rt_rec_open(s, err);
    if (rc == RT_OK) rc = rt_ei_open(s, err);
    if (rc == RT_OK) rc = start_threads(s, err);
    return rc;
}

RtSim *rt_sim_create(const RtModelDesc *m, const RtRunOptions *o, RtError *err) {
    RtRunOptions defaults;
    if (!o) {
        rt_run_options_init(&defaults);
        o = &defaults;
    }
    if (err)
        err->code = RT_OK, err->msg[0] = 0;
    if (validate(m, o, err))
        return NULL;
    double t0 = rt_now_s();
    RtSim *s = rt_alloc(sizeof *s);
    if (!s) {
        rt_err(err, RT_E_NOMEM, "out of memory");
        return NULL;
    }
    s->m = m;
    s->opt = *o;
    if (s->opt.check_every < 1)
        s->opt.check_every = 1;
    s->seed = o->seed;
    s->dt = m->dt;
    s->total = to_step(o->duration_s >= 0 ? o->duration_s : m->duration_s, m->dt);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    s->build_threads = o->threads > 0 ? o->threads : cores > 0 ? (int)cores : 1;
    s->nthreads = o->threads > 0 ? o->threads : auto_threads(m, s->build_threads);
    pthread_mutex_init(&s->gate_mu, NULL);
    pthread_cond_init(&s->gate_cv, NULL);
    s->pops = rt_alloc((size_t)(m->npops + 1) * sizeof *s->pops);
    if (!s->pops || build(s, err) != RT_OK) {
        if (!s->pops)
            rt_err(err, RT_E_NOMEM, "out of memory");
        rt_sim_free(s);
        return NULL;
    }
    s->build_s = rt_now_s() - t0;
    return s;
}

RtErrorCode rt_sim_finish(RtSim *s, const RtTimings *t, RtError *err) {
    RtTimings tm = t ? *t : (RtTimings){0};
    if (tm.build_s == 0) tm.build_s = s->build_s;
    if (tm.simulate_s == 0) tm.simulate_s = s->sim_s;
    RtErrorCode rc = rt_ei_finish(s, err);
    if (rc == RT_OK)
        rc = rt_rec_close(s, err);
    else
        rt_rec_close(s, NULL);
    int complete = rc == RT_OK && s->fail.code == RT_OK && s->now >= s->total;
    RtErrorCode rc2 = rt_rec_manifest(s, &tm, complete, rc ? NULL : err);
    s->finished = 1;
    return rc ? rc : rc2;
}

void rt_sim_free(RtSim *s) {
    if (!s)
        return;
    if (s->nstarted) {   /* all workers exist; every wait of theirs polls quit */
        atomic_store(&s->sync.quit, 1);
        for (int t = 1; t < s->nthreads; t++)
            pthread_join(s->tids[t], NULL);
    }
    pthread_mutex_destroy(&s->gate_mu);
    pthread_cond_destroy(&s->gate_cv);
    if (!s->finished)
        rt_rec_close(s, NULL);
    rt_ei_free(s);
    for (int p = 0; s->pops && p < s->m->npops; p++)
        rt_pop_free(&s->pops[p]);
    for (int k = 0; s->projs && k < s->m->nprojs; k++) {
        rt_syn_free(&s->projs[k].csr);
        rt_free(s->projs[k].ring);
        rt_free(s->projs[k].split);
        rt_plastic_free(s->projs[k].pl, s->nthreads);
    }
    for (int k = 0; s->inputs && k < s->m->ninputs; k++) {
        rt_free(s->inputs[k].w); rt_free(s->inputs[k].shift);
        rt_free(s->inputs[k].chg_step); rt_free(s->inputs[k].chg_rate);
    }
    rt_free(s->pops); rt_free(s->projs); rt_free(s->inputs); rt_free(s->recs);
    rt_free(s->events); rt_free(s->bad); rt_free(s->tids); rt_free(s->out_dir);
    rt_free(s->targs);
    rt_free(s);
}

/* ---- inspection ---- */

RtStep rt_sim_now(const RtSim *s) { return s->now; }
RtStep rt_sim_total_steps(const RtSim *s) { return s->total; }
int rt_sim_threads(const RtSim *s) { return s->nthreads; }
double *rt_sim_state(RtSim *s, int pop, int var) { return s->pops[pop].state[var]; }
double *rt_sim_param(RtSim *s, int pop, int par) { return s->pops[pop].param[par]; }
int rt_sim_precision(const RtSim *s, int pop) { return s->m->pops[pop].precision; }
float *rt_sim_state_f32(RtSim *s, int pop, int var) {
    return s->pops[pop].f32 ? (float *)(void *)s->pops[pop].state[var] : NULL;
}
int64_t rt_sim_spike_count(const RtSim *s, int pop) { return s->pops[pop].spikes_total; }
int64_t rt_sim_synapse_count(const RtSim *s, int proj) { return s->projs[proj].csr.nsyn; }

const RtNeuron *rt_sim_last_spikes(const RtSim *s, int pop, int64_t *n) {
    const RtPop *p = &s->pops[pop];
    if (s->now == 0) {
        *n = 0;
        return p->hist[0];
    }
    int slot = (int)((s->now - 1) % p->hist_len);
    *n = p->hist_n[slot];
    return p->hist[slot];
}
