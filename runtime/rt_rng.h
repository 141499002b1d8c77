/* rt_rng.h - Philox4x32-10 counter-based random numbers for the runtime.
 *
 * Every random draw of a run is a pure function of (seed, stream, element,
 * sequence index): the key is the 64-bit seed, the 128-bit counter is
 * {sequence, element lo, element hi, stream}. So a draw does not depend on
 * which thread makes it, in what order, or whether the code is JIT or AOT.
 * Streams name the purpose (RT_STREAM_*) and the object (population, variable,
 * projection, input); elements name the neuron, row or (step, neuron) pair.
 */
#ifndef EIC_RT_RNG_H
#define EIC_RT_RNG_H

#include <stdint.h>

/* stream = purpose << 24 | a << 12 | b, with a, b < 4096 */
enum {
    RT_STREAM_STATE_INIT = 1,  /* a = pop, b = state var; element = neuron */
    RT_STREAM_PARAM_INIT = 2,  /* a = pop, b = param; element = neuron */
    RT_STREAM_CONN = 3,        /* a = projection; element = row (pre or post) */
    RT_STREAM_WEIGHT = 4,      /* a = projection; element = pre */
    RT_STREAM_DELAY = 5,       /* a = projection; element = pre */
    RT_STREAM_INPUT = 6,       /* a = input; element = step << 32 | neuron */
    RT_STREAM_POISSON_POP = 7, /* a = pop; element = step << 32 | neuron */
    RT_STREAM_KERNEL = 8,      /* a = pop; element = step << 32 | neuron (rt_abi_*) */
    RT_STREAM_SILENCE = 9,     /* a = pop; element = key << 32 | neuron (rt_ei.c) */
    RT_STREAM_TEST = 15,       /* tests */
};

static inline uint32_t rt_stream(uint32_t purpose, uint32_t a, uint32_t b) {
    return purpose << 24 | (a & 0xfff) << 12 | (b & 0xfff);
}

typedef struct RtRng {
    uint32_t key[2];
    uint32_t ctr[4];   /* ctr[0] is the sequence index of the next block */
    uint32_t buf[4];   /* the current block */
    int used;          /* words of buf consumed; 4: empty */
    int has_spare;     /* rt_rng_normal: the second value of the last pair */
    double spare;
} RtRng;

/* The raw Philox4x32 bijection with 10 rounds (Random123's philox4x32_10). */
void rt_rng_philox(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* Starts the sequence of (seed, stream, element) at index 0. */
void rt_rng_init(RtRng *r, uint64_t seed, uint32_t stream, uint64_t element);
uint32_t rt_rng_u32(RtRng *r);
double rt_rng_uniform(RtRng *r);      /* [0, 1), 53 random bits */
double rt_rng_uniform_pos(RtRng *r);  /* (0, 1] */
double rt_rng_normal(RtRng *r);       /* standard normal (Box-Muller pairs: 2 normals per 2 uniforms) */
/* Uniform integer in [0, n), n >= 1. */
uint64_t rt_rng_below(RtRng *r, uint64_t n);
/* Poisson(lambda): inversion for lambda < 12, else Hormann's PTRS. */
int64_t rt_rng_poisson(RtRng *r, double lambda);
/* Binomial(n, p): inversion for n*min(p,1-p) < 14, else Hormann's BTRS. */
int64_t rt_rng_binomial(RtRng *r, int64_t n, double p);
/* log(k!) for k >= 0 (exact sum for small k, Stirling series above). */
double rt_log_factorial(int64_t k);

/* Many elements at once (Poisson inputs and populations draw one value per
 * neuron and step). For k < n: u[k] = rt_rng_uniform and c[k] =
 * rt_rng_poisson(lambda) of a generator just started by rt_rng_init(seed,
 * stream, element0 + k): the same bits, computed for 16 elements side by
 * side (the Philox rounds of one element form a chain of dependent
 * multiplies; 16 independent chains fill the vector units). */
void rt_rng_uniform_elements(uint64_t seed, uint32_t stream, uint64_t element0, int64_t n,
                             double *u);
void rt_rng_poisson_elements(uint64_t seed, uint32_t stream, uint64_t element0, int64_t n,
                             double lambda, int64_t *c);
/* For tests: 0 makes the *_elements functions use their portable C code
 * even where the CPU has AVX-512; 1 (the default) lets them choose. */
void rt_rng_set_simd(int enable);

#endif
