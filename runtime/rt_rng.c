/* rt_rng.c - Philox4x32-10 and the distributions the runtime draws from it
 * (uniform, normal, Poisson, binomial). See rt_rng.h for the keying scheme. */
#include "rt_rng.h"

#include <math.h>
#include <string.h>

#include "rt_abi.h"

#define RT_PI 3.14159265358979323846

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

/* One Philox round: two 32x32->64 multiplies, xor with the other half and key. */
static inline void philox_round(uint32_t c[4], const uint32_t k[2]) {
    uint64_t p0 = (uint64_t)PHILOX_M0 * c[0];
    uint64_t p1 = (uint64_t)PHILOX_M1 * c[2];
    uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    uint32_t n0 = hi1 ^ c[1] ^ k[0];
    uint32_t n2 = hi0 ^ c[3] ^ k[1];
    c[0] = n0; c[1] = lo1; c[2] = n2; c[3] = lo0;
}

void rt_rng_philox(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c[4] = {ctr[0], ctr[1], ctr[2], ctr[3]};
    uint32_t k[2] = {key[0], key[1]};
    for (int r = 0; r < 10; r++) {
        if (r > 0) {          /* the key is bumped before rounds 2..10 */
            k[0] += PHILOX_W0;
            k[1] += PHILOX_W1;
        }
        philox_round(c, k);
    }
    out[0] = c[0]; out[1] = c[1]; out[2] = c[2]; out[3] = c[3];
}

void rt_rng_init(RtRng *r, uint64_t seed, uint32_t stream, uint64_t element) {
    r->key[0] = (uint32_t)seed;
    r->key[1] = (uint32_t)(seed >> 32);
    r->ctr[0] = 0;
    r->ctr[1] = (uint32_t)element;
    r->ctr[2] = (uint32_t)(element >> 32);
    r->ctr[3] = stream;
    r->used = 4;
    r->has_spare = 0;
}

uint32_t rt_rng_u32(RtRng *r) {
    if (r->used == 4) {
        rt_rng_philox(r->ctr, r->key, r->buf);
        r->ctr[0]++;
        r->used = 0;
    }
    return r->buf[r->used++];
}

double rt_rng_uniform(RtRng *r) {
    uint64_t hi = rt_rng_u32(r), lo = rt_rng_u32(r);
    return (double)((hi << 32 | lo) >> 11) * 0x1.0p-53;
}

double rt_rng_uniform_pos(RtRng *r) { return 1.0 - rt_rng_uniform(r); }

double rt_rng_normal(RtRng *r) {
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u1 = rt_rng_uniform_pos(r), u2 = rt_rng_uniform(r);
    double rad = sqrt(-2.0 * log(u1)), a = 2.0 * RT_PI * u2;
    r->spare = rad * sin(a);
    r->has_spare = 1;
    return rad * cos(a);
}

uint64_t rt_rng_below(RtRng *r, uint64_t n) {
    uint64_t k = (uint64_t)(rt_rng_uniform(r) * (double)n);
    return k < n ? k : n - 1;   /* rounding of u*n near 1 */
}

double rt_log_factorial(int64_t k) {
    if (k < 16) {
        double s = 0;
        for (int64_t i = 2; i <= k; i++)
            s += log((double)i);
        return s;
    }
    double n = (double)k, n2 = n * n;
    /* Stirling: n ln n - n + ln(2 pi n)/2 + 1/(12n) - 1/(360n^3) + 1/(1260n^5) */
    return n * log(n) - n + 0.5 * log(2.0 * RT_PI * n)
         + (1.0 / 12.0 - (1.0 / 360.0 - 1.0 / (1260.0 * n2)) / n2) / n;
}

/* Poisson by sequential search of the CDF from the uniform u, p0 =
 * exp(-lambda); fine for small lambda. */
static int64_t poisson_search(double u, double lambda, double p0) {
    double p = p0, f = p;
    int64_t k = 0;
    while (u > f && k < 1000) {
        k++;
        p *= lambda / (double)k;
        f += p;
    }
    return k;
}

static int64_t poisson_inversion(RtRng *r, double lambda) {
    double u = rt_rng_uniform(r);
    return poisson_search(u, lambda, exp(-lambda));
}

/* PTRS, Hormann (1993) "The transformed rejection method for generating
 * Poisson random variables", for lambda >= 10. */
static int64_t poisson_ptrs(RtRng *r, double lam) {
    double slam = sqrt(lam), loglam = log(lam);
    double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
    double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
        double u = rt_rng_uniform(r) - 0.5, v = rt_rng_uniform(r);
        double us = 0.5 - fabs(u);
        double k = floor((2 * a / us + b) * u + lam + 0.43);
        if (us >= 0.07 && v <= vr)
            return (int64_t)k;
        if (k < 0 || (us < 0.013 && v > us))
            continue;
        if (log(v) + log(invalpha) - log(a / (us * us) + b)
            <= -lam + k * loglam - rt_log_factorial((int64_t)k))
            return (int64_t)k;
    }
}

int64_t rt_rng_poisson(RtRng *r, double lambda) {
    if (!(lambda > 0))
        return 0;
    return lambda < 12 ? poisson_inversion(r, lambda) : poisson_ptrs(r, lambda);
}

/* Binomial by inversion (BINV), for n*p small; p <= 0.5. */
static int64_t binomial_inversion(RtRng *r, int64_t n, double p) {
    double q = 1 - p, s = p / q, a = (double)(n + 1) * s;
    double r0 = pow(q, (double)n);
    for (;;) {
        double u = rt_rng_uniform(r), pr = r0;
        int64_t x = 0;
        while (u > pr) {
            u -= pr;
            x++;
            if (x > n)
                break;
            pr *= a / (double)x - s;
        }
        if (x <= n)
            return x;
    }
}

/* BTRS, Hormann (1993) "The generation of binomial random variates"; p <= 0.5. */
static int64_t binomial_btrs(RtRng *r, int64_t n, double p) {
    double q = 1 - p, spq = sqrt((double)n * p * q);
    double b = 1.15 + 2.53 * spq, a = -0.0873 + 0.0248 * b + 0.01 * p;
    double c = (double)n * p + 0.5, vr = 0.92 - 4.2 / b;
    double alpha = (2.83 + 5.1 / b) * spq, lpq = log(p / q);
    int64_t m = (int64_t)floor((double)(n + 1) * p);
    double h = rt_log_factorial(m) + rt_log_factorial(n - m);
    for (;;) {
        double u = rt_rng_uniform(r) - 0.5, v = rt_rng_uniform(r);
        double us = 0.5 - fabs(u);
        double kf = floor((2 * a / us + b) * u + c);
        if (kf < 0 || kf > (double)n)
            continue;
        int64_t k = (int64_t)kf;
        if (us >= 0.07 && v <= vr)
            return k;
        v = log(v * alpha / (a / (us * us) + b));
        if (v <= h - rt_log_factorial(k) - rt_log_factorial(n - k) + (double)(k - m) * lpq)
            return k;
    }
}

int64_t rt_rng_binomial(RtRng *r, int64_t n, double p) {
    if (n <= 0 || !(p > 0))
        return 0;
    if (p >= 1)
        return n;
    if (p > 0.5)
        return n - rt_rng_binomial(r, n, 1 - p);
    return (double)n * p < 14 ? binomial_inversion(r, n, p) : binomial_btrs(r, n, p);
}

/* ---- callbacks for generated code (rt_abi.h) ---- */

/* One draw for (pop, neuron, step, k): element = step << 32 | neuron. */
static void kernel_rng(RtRng *r, uint64_t seed, uint32_t pop, uint64_t neuron, RtStep step,
                       uint32_t k) {
    rt_rng_init(r, seed, rt_stream(RT_STREAM_KERNEL, pop, 0),
                (uint64_t)step << 32 | (neuron & 0xffffffffu));
    r->ctr[0] = k;
}

double rt_abi_uniform(uint64_t seed, uint32_t pop, uint64_t neuron, RtStep step, uint32_t k) {
    RtRng r;
    kernel_rng(&r, seed, pop, neuron, step, k);
    return rt_rng_uniform(&r);
}

double rt_abi_normal(uint64_t seed, uint32_t pop, uint64_t neuron, RtStep step, uint32_t k) {
    RtRng r;
    kernel_rng(&r, seed, pop, neuron, step, k);
    return rt_rng_normal(&r);
}

const RtAbiSymbol rt_abi_symbols[] = {
    {"rt_abi_uniform", (void (*)(void))rt_abi_uniform},
    {"rt_abi_normal", (void (*)(void))rt_abi_normal},
    {NULL, NULL},
};

/* ---- many elements at once ---- */

#define RNG_LANES 16

/* The first uniform (rt_rng_uniform) of the sequences element0 + k,
 * k < 16: rt_rng_philox with the counter {0, element lo, element hi,
 * stream}, lane by lane (portable C). */
static void uniform_lanes_c(uint64_t seed, uint32_t stream, uint64_t element0, double *u) {
    uint32_t c0[RNG_LANES], c1[RNG_LANES], c2[RNG_LANES], c3[RNG_LANES];
    for (int k = 0; k < RNG_LANES; k++) {
        uint64_t e = element0 + (uint64_t)k;
        c0[k] = 0;
        c1[k] = (uint32_t)e;
        c2[k] = (uint32_t)(e >> 32);
        c3[k] = stream;
    }
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int r = 0; r < 10; r++) {   /* philox_round, the key bumped after each */
        for (int k = 0; k < RNG_LANES; k++) {
            uint64_t p0 = (uint64_t)PHILOX_M0 * c0[k], p1 = (uint64_t)PHILOX_M1 * c2[k];
            uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1[k] ^ k0;
            uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3[k] ^ k1;
            c1[k] = (uint32_t)p1;
            c3[k] = (uint32_t)p0;
            c0[k] = n0;
            c2[k] = n2;
        }
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    for (int k = 0; k < RNG_LANES; k++)
        u[k] = (double)(((uint64_t)c0[k] << 32 | c1[k]) >> 11) * 0x1.0p-53;
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

/* uniform_lanes_c with AVX-512: each 32-bit counter word sits in the low
 * half of a 64-bit lane, so one vpmuludq is a round's 32x32->64 multiply
 * for 8 elements (the upper halves carry garbage that no multiply reads
 * and the end masks off). The two halves of the 16 lanes are two
 * independent chains, interleaved to hide the multiplies' latency. The
 * 53-bit integers convert to double exactly (vcvtuqq2pd, AVX-512DQ). */
__attribute__((target("avx512f,avx512dq")))
static void uniform_lanes_avx512(uint64_t seed, uint32_t stream, uint64_t element0, double *u) {
    const __m512i m0 = _mm512_set1_epi64(PHILOX_M0), m1 = _mm512_set1_epi64(PHILOX_M1);
    const __m512i lo32 = _mm512_set1_epi64(0xffffffffll);
    __m512i e = _mm512_add_epi64(_mm512_set1_epi64((long long)element0),
                                 _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0));
    __m512i f = _mm512_add_epi64(e, _mm512_set1_epi64(8));
    __m512i a0 = _mm512_setzero_si512(), a1 = e, a2 = _mm512_srli_epi64(e, 32);
    __m512i b0 = a0, b1 = f, b2 = _mm512_srli_epi64(f, 32);
    __m512i a3 = _mm512_set1_epi64(stream), b3 = a3;
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int r = 0; r < 10; r++) {
        __m512i key0 = _mm512_set1_epi64(k0), key1 = _mm512_set1_epi64(k1);
        __m512i p0 = _mm512_mul_epu32(a0, m0), p1 = _mm512_mul_epu32(a2, m1);
        __m512i q0 = _mm512_mul_epu32(b0, m0), q1 = _mm512_mul_epu32(b2, m1);
        a0 = _mm512_xor_si512(_mm512_xor_si512(_mm512_srli_epi64(p1, 32), a1), key0);
        a2 = _mm512_xor_si512(_mm512_xor_si512(_mm512_srli_epi64(p0, 32), a3), key1);
        b0 = _mm512_xor_si512(_mm512_xor_si512(_mm512_srli_epi64(q1, 32), b1), key0);
        b2 = _mm512_xor_si512(_mm512_xor_si512(_mm512_srli_epi64(q0, 32), b3), key1);
        a1 = p1;
        a3 = p0;
        b1 = q1;
        b3 = q0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    const __m512d scale = _mm512_set1_pd(0x1.0p-53);
    __m512i x = _mm512_or_si512(_mm512_slli_epi64(a0, 32), _mm512_and_si512(a1, lo32));
    __m512i y = _mm512_or_si512(_mm512_slli_epi64(b0, 32), _mm512_and_si512(b1, lo32));
    _mm512_storeu_pd(u, _mm512_mul_pd(_mm512_cvtepu64_pd(_mm512_srli_epi64(x, 11)), scale));
    _mm512_storeu_pd(u + 8, _mm512_mul_pd(_mm512_cvtepu64_pd(_mm512_srli_epi64(y, 11)), scale));
}
#endif

/* -1: not yet known; 0: portable C; 1: AVX-512. Threads may find it
 * unknown together and all store the same value (relaxed atomics, so this
 * is not a data race). rt_rng_set_simd changes it for tests. */
static int use_avx512 = -1;

void rt_rng_set_simd(int enable) {
#if defined(__GNUC__)
    __atomic_store_n(&use_avx512, enable ? -1 : 0, __ATOMIC_RELAXED);
#else
    use_avx512 = enable ? -1 : 0;
#endif
}

/* uniform_lanes_avx512 where the CPU has AVX-512F and DQ, else uniform_lanes_c. */
static void uniform_lanes(uint64_t seed, uint32_t stream, uint64_t element0, double *u) {
#if defined(__GNUC__) && defined(__x86_64__)
    int simd = __atomic_load_n(&use_avx512, __ATOMIC_RELAXED);
    if (simd < 0) {
        simd = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
        __atomic_store_n(&use_avx512, simd, __ATOMIC_RELAXED);
    }
    if (simd) {
        uniform_lanes_avx512(seed, stream, element0, u);
        return;
    }
#endif
    uniform_lanes_c(seed, stream, element0, u);
}

void rt_rng_uniform_elements(uint64_t seed, uint32_t stream, uint64_t element0, int64_t n,
                             double *u) {
    int64_t k = 0;
    for (; k + RNG_LANES <= n; k += RNG_LANES)
        uniform_lanes(seed, stream, element0 + (uint64_t)k, u + k);
    if (k < n) {
        double rest[RNG_LANES];
        uniform_lanes(seed, stream, element0 + (uint64_t)k, rest);
        memcpy(u + k, rest, (size_t)(n - k) * sizeof(double));
    }
}

void rt_rng_poisson_elements(uint64_t seed, uint32_t stream, uint64_t element0, int64_t n,
                             double lambda, int64_t *c) {
    if (!(lambda > 0) || lambda >= 12) {   /* PTRS draws several uniforms: one by one */
        for (int64_t k = 0; k < n; k++) {
            RtRng r;
            rt_rng_init(&r, seed, stream, element0 + (uint64_t)k);
            c[k] = rt_rng_poisson(&r, lambda);
        }
        return;
    }
    double u[RNG_LANES], p0 = exp(-lambda);
    for (int64_t k = 0; k < n; k += RNG_LANES) {
        int64_t m = n - k < RNG_LANES ? n - k : RNG_LANES;
        rt_rng_uniform_elements(seed, stream, element0 + (uint64_t)k, m, u);
        for (int64_t j = 0; j < m; j++)
            c[k + j] = poisson_search(u[j], lambda, p0);
    }
}
