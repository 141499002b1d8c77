/* rt_pop.c - population storage (struct-of-arrays state, parameters,
 * receptor buffers, refractoriness, spike flags and history) and initial
 * values drawn from Philox keyed by (seed, population, variable, neuron).
 *
 * Precision (RtPopDesc.precision): RT_PREC_F64 populations have arrays of
 * doubles, RT_PREC_F32 ones arrays of floats behind the same double *
 * pointers (RtPopArgs, RtPop), which float kernels reinterpret. Initial
 * values are drawn in double and rounded to float once, so a float run
 * starts from the double run's values, each to the nearest float. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rt_rng.h"
#include "rt_sim.h"
#include "rt_util.h"

static RtErrorCode pop_nomem(const RtPop *pop, RtError *err) {
    return rt_err(err, RT_E_NOMEM, "out of memory for population '%s' (%lld neurons)",
                  pop->d->name, (long long)pop->size);
}

/* Loads RT_POP_SPIKE_TIMES spikes: sorted by (step, neuron), duplicates and
 * negative steps dropped. */
static int cmp_src(const void *a, const void *b) {
    const int64_t *x = a, *y = b;
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

static RtErrorCode load_sources(RtSim *s, RtPop *pop, RtError *err) {
    const RtPopDesc *d = pop->d;
    double *tab = NULL;
    int64_t n = d->nspikes, cols = 2;
    if (d->spike_file) {
        RtErrorCode rc = rt_table_read(d->spike_file, &tab, &n, &cols, err);
        if (rc)
            return rc;
        if (n > 0 && cols != 2) {   /* a file without spikes is valid */
            rt_free(tab);
            return rt_err(err, RT_E_INVALID, "'%s': expected 2 columns (time_s, neuron)", d->spike_file);
        }
    }
    int64_t *pairs = rt_realloc(NULL, (size_t)(2 * n + 2) * sizeof(int64_t));
    pop->src_step = rt_alloc((size_t)(n + 1) * sizeof(int64_t));
    pop->src_neuron = rt_alloc((size_t)(n + 1) * sizeof(uint32_t));
    if (!pairs || !pop->src_step || !pop->src_neuron) {
        rt_free(pairs); rt_free(tab);
        return pop_nomem(pop, err);
    }
    for (int64_t k = 0; k < n; k++) {
        double t = tab ? tab[2 * k] : d->spike_times[k];
        double i = tab ? tab[2 * k + 1] : d->spike_neurons[k];
        if (!(i >= 0 && i < (double)pop->size)) {
            rt_free(pairs); rt_free(tab);
            return rt_err(err, RT_E_INVALID, "population '%s': spike source neuron %g outside "
                          "0..%lld", d->name, i, (long long)pop->size - 1);
        }
        pairs[2 * k] = (int64_t)nearbyint(t / s->dt);
        pairs[2 * k + 1] = (int64_t)i;
    }
    qsort(pairs, (size_t)n, 2 * sizeof(int64_t), cmp_src);
    for (int64_t k = 0; k < n; k++) {
        if (pairs[2 * k] < 0 || (pop->src_n && pairs[2 * k] == pop->src_step[pop->src_n - 1]
                                 && pairs[2 * k + 1] == pop->src_neuron[pop->src_n - 1]))
            continue;
        pop->src_step[pop->src_n] = pairs[2 * k];
        pop->src_neuron[pop->src_n++] = (uint32_t)pairs[2 * k + 1];
    }
    rt_free(pairs);
    rt_free(tab);
    return RT_OK;
}

RtErrorCode rt_pop_create(RtSim *s, int p, RtError *err) {
    RtPop *pop = &s->pops[p];
    const RtPopDesc *d = &s->m->pops[p];
    pop->d = d;
    pop->size = d->size;
    pop->f32 = d->precision == RT_PREC_F32;
    pop->rate_hz = d->rate_hz;
    size_t elem = pop->f32 ? sizeof(float) : sizeof(double);
    pop->state = rt_arrays_alloc(d->nstates, d->size, elem);
    pop->param = rt_arrays_alloc(d->nparams, d->size, elem);
    pop->input = rt_arrays_alloc(d->ninputs, d->size, elem);
    pop->consts = rt_alloc((size_t)(d->nconsts + 1) * sizeof(double));
    pop->ref_until = rt_alloc((size_t)d->size * sizeof(RtStep));
    pop->spiked = rt_alloc((size_t)d->size);
    if (!rt_arrays_ok(pop->state, d->nstates) || !rt_arrays_ok(pop->param, d->nparams)
        || !rt_arrays_ok(pop->input, d->ninputs) || !pop->consts || !pop->ref_until || !pop->spiked)
        return pop_nomem(pop, err);
    if (d->nconsts)
        memcpy(pop->consts, d->consts, (size_t)d->nconsts * sizeof(double));
    pop->args = (RtPopArgs){
        .state = pop->state, .param = pop->param, .input = pop->input, .consts = pop->consts,
        .ref_until = pop->ref_until, .spiked = pop->spiked, .dt = s->dt, .seed = s->seed,
        .pop = (uint32_t)p, .size = d->size,
    };
    if (d->kind == RT_POP_SPIKE_TIMES)
        return load_sources(s, pop, err);
    return RT_OK;
}

/* The merged spike history (len slots of up to size spikes) and, with
 * several threads, each thread's lists sized to its neuron range. */
RtErrorCode rt_pop_alloc_history(RtPop *pop, int len, int nthreads, RtError *err) {
    pop->hist_len = len;
    pop->hist = rt_alloc((size_t)len * sizeof *pop->hist);
    pop->hist_n = rt_alloc((size_t)len * sizeof *pop->hist_n);
    pop->src_tpos = rt_alloc((size_t)nthreads * sizeof *pop->src_tpos);
    if (!pop->hist || !pop->hist_n || !pop->src_tpos)
        return pop_nomem(pop, err);
    for (int k = 0; k < len; k++)
        if (!(pop->hist[k] = rt_alloc((size_t)pop->size * sizeof(uint32_t))))
            return pop_nomem(pop, err);
    if (nthreads == 1) {   /* thread 0's lists are the merged history */
        pop->tspk = pop->hist;
        pop->tspk_n = pop->hist_n;
        return RT_OK;
    }
    size_t n = (size_t)nthreads * (size_t)len;
    pop->tspk = rt_alloc(n * sizeof *pop->tspk);
    pop->ntspk = (int64_t)n;
    pop->tspk_n = rt_alloc(n * sizeof *pop->tspk_n);
    if (!pop->tspk || !pop->tspk_n)
        return pop_nomem(pop, err);
    for (int t = 0; t < nthreads; t++) {
        int64_t lo, hi;
        rt_sim_range(pop->size, t, nthreads, &lo, &hi);
        for (int k = 0; k < len; k++)
            if (!(pop->tspk[t * len + k] = rt_alloc((size_t)(hi - lo + 1) * sizeof(uint32_t))))
                return pop_nomem(pop, err);
    }
    return RT_OK;
}

/* Fills array x of n values from `init`; stream names (purpose, pop, var).
 * Each value is drawn in double; a float array (f32) gets it rounded to
 * the nearest float. RT_DIST_KERNEL leaves x alone (the init kernel). */
static void draw_values(double *x, int f32, int64_t n, const RtDist *init, uint64_t seed,
                        uint32_t stream) {
    if (init->kind == RT_DIST_KERNEL)
        return;
    for (int64_t i = 0; i < n; i++) {
        RtRng r;
        double v = init->a;
        if (init->kind != RT_DIST_CONST)
            rt_rng_init(&r, seed, stream, (uint64_t)i);
        if (init->kind == RT_DIST_UNIFORM)
            v = init->a + (init->b - init->a) * rt_rng_uniform(&r);
        else if (init->kind == RT_DIST_NORMAL)
            v = init->a + init->b * rt_rng_normal(&r);
        if (f32)
            ((float *)(void *)x)[i] = (float)v;
        else
            x[i] = v;
    }
}

RtErrorCode rt_pop_init_values(RtSim *s, int p, RtError *err) {
    RtPop *pop = &s->pops[p];
    const RtPopDesc *d = pop->d;
    int need_kernel = 0;
    for (int v = 0; v < d->nparams; v++) {
        draw_values(pop->param[v], pop->f32, pop->size, &d->params[v].init, s->seed,
                    rt_stream(RT_STREAM_PARAM_INIT, (uint32_t)p, (uint32_t)v));
        need_kernel |= d->params[v].init.kind == RT_DIST_KERNEL;
    }
    for (int v = 0; v < d->nstates; v++) {
        draw_values(pop->state[v], pop->f32, pop->size, &d->states[v].init, s->seed,
                    rt_stream(RT_STREAM_STATE_INIT, (uint32_t)p, (uint32_t)v));
        need_kernel |= d->states[v].init.kind == RT_DIST_KERNEL;
    }
    if (need_kernel && !d->init)
        return rt_err(err, RT_E_INVALID, "population '%s': a variable is initialised by a "
                      "kernel but the descriptor has no init kernel", d->name);
    if (d->init) {
        pop->args.step = 0;
        pop->args.t = 0;
        d->init(&pop->args, 0, pop->size);
    }
    return RT_OK;
}

void rt_pop_free(RtPop *pop) {
    if (!pop->d)
        return;
    rt_arrays_free(pop->state, pop->d->nstates);
    rt_arrays_free(pop->param, pop->d->nparams);
    rt_arrays_free(pop->input, pop->d->ninputs);
    rt_free(pop->consts);
    rt_free(pop->ref_until);
    rt_free(pop->spiked);
    if (pop->tspk && pop->tspk != pop->hist) {
        for (int64_t k = 0; k < pop->ntspk; k++)
            rt_free(pop->tspk[k]);
        rt_free(pop->tspk);
        rt_free(pop->tspk_n);
    }
    rt_free(pop->src_tpos);
    for (int k = 0; pop->hist && k < pop->hist_len; k++)
        rt_free(pop->hist[k]);
    rt_free(pop->hist);
    rt_free(pop->hist_n);
    rt_free(pop->src_step);
    rt_free(pop->src_neuron);
    rt_free(pop->in_projs);
    rt_free(pop->in_inputs);
}
