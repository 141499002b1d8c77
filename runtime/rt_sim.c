/* rt_sim.c - building a simulation from an RtModelDesc and the fixed-step
 * loop: deliver, update, check, gather, record, events (see rt_abi.h).
 *
 * Threads: the calling thread plus nthreads-1 workers. Each thread owns the
 * contiguous neuron range rt_sim_range(size, t, nthreads) of every
 * population and, for its own neurons only, adds the synaptic input (walking
 * the spikes of the step in neuron order and each CSR row in post order, so
 * every sum is formed in one global order) and runs the update kernel. The
 * gather, record and event phases run on the calling thread between two
 * barriers. Hence results are bit-identical for any thread count.
 */
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt_rng.h"
#include "rt_sim.h"
#include "rt_util.h"

/* ---- per-thread phase ---- */

/* Adds the spikes due at step `s` of projection `pr` to post neurons [lo, hi). */
static void deliver_homogeneous(RtSim *s, RtProj *pr, RtStep step, int64_t lo, int64_t hi) {
    const RtCsr *c = &pr->csr;
    if (step - c->delay0 < 0)
        return;
    const RtPop *pre = &s->pops[pr->d->pre];
    int slot = (int)((step - c->delay0) % pre->hist_len);
    const uint32_t *spk = pre->hist[slot];
    int64_t n = pre->hist_n[slot];
    double *buf = s->pops[pr->d->post].input[pr->d->receptor];
    const uint32_t *post = c->post;
    const double *w = c->weight;
    int whole = lo == 0 && hi == c->npost;
    for (int64_t k = 0; k < n; k++) {
        int64_t a = c->row[spk[k]], b = c->row[spk[k] + 1];
        if (!whole) {
            a = rt_syn_lower_bound(post, a, b, (uint32_t)lo);
            b = rt_syn_lower_bound(post, a, b, (uint32_t)hi);
        }
        for (int64_t q = a; q < b; q++)
            buf[post[q]] += w[q];
    }
}

/* Heterogeneous delays: spikes of step s-1 go into the ring slot of their
 * arrival step; then the slot of step s is added to the buffer and cleared. */
static void deliver_ring(RtSim *s, RtProj *pr, RtStep step, int64_t lo, int64_t hi) {
    const RtCsr *c = &pr->csr;
    const RtPop *pre = &s->pops[pr->d->pre];
    int64_t L = pr->ring_len, npost = c->npost;
    if (step >= 1) {
        int slot = (int)((step - 1) % pre->hist_len);
        const uint32_t *spk = pre->hist[slot];
        for (int64_t k = 0; k < pre->hist_n[slot]; k++) {
            int64_t a = rt_syn_lower_bound(c->post, c->row[spk[k]], c->row[spk[k] + 1], (uint32_t)lo);
            for (int64_t q = a; q < c->row[spk[k] + 1] && c->post[q] < hi; q++)
                pr->ring[((step - 1 + c->delay[q]) % L) * npost + c->post[q]] += c->weight[q];
        }
    }
    double *buf = s->pops[pr->d->post].input[pr->d->receptor];
    double *due = pr->ring + (step % L) * npost;
    for (int64_t i = lo; i < hi; i++) {
        buf[i] += due[i];
        due[i] = 0;
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
    double w = in->d->weight;
    if (in->d->kind == RT_INPUT_CURRENT) {
        for (int64_t i = lo; i < hi; i++)
            buf[i] += w;
        return;
    }
    double lambda = (double)in->d->n_sources * in->rate_hz * s->dt;
    uint32_t stream = rt_stream(RT_STREAM_INPUT, (uint32_t)idx, 0);
    for (int64_t i = lo; i < hi; i++) {
        RtRng r;
        rt_rng_init(&r, s->seed, stream, (uint64_t)step << 32 | (uint64_t)i);
        int64_t k = rt_rng_poisson(&r, lambda);
        if (k)
            buf[i] += (double)k * w;
    }
}

/* Poisson source population: a spike with probability rate*dt per step. */
static void update_poisson_pop(RtSim *s, RtPop *pop, RtStep step, int64_t lo, int64_t hi) {
    double p = pop->d->rate_hz * s->dt;
    uint32_t stream = rt_stream(RT_STREAM_POISSON_POP, pop->args.pop, 0);
    for (int64_t i = lo; i < hi; i++) {
        RtRng r;
        rt_rng_init(&r, s->seed, stream, (uint64_t)step << 32 | (uint64_t)i);
        pop->spiked[i] = rt_rng_uniform(&r) < p;
    }
}

/* 1 if any of x[lo..hi) is NaN or infinite. x*0 is 0 for finite x and NaN
 * otherwise, and NaN survives the sum; GNU C vector types make the sum SIMD
 * without -ffast-math and without a chain of dependent adds (a scalar
 * running sum made this check cost as much as the COBA update). */
static int any_nonfinite(const double *x, int64_t lo, int64_t hi) {
    double acc = 0;
    int64_t i = lo;
#if defined(__GNUC__)
    /* SSE2-sized, unaligned, may alias the double array */
    typedef double F64x2 __attribute__((vector_size(16), aligned(8), may_alias));
    F64x2 v0 = {0, 0}, v1 = v0, v2 = v0, v3 = v0;
    for (; i + 8 <= hi; i += 8) {
        const F64x2 *b = (const F64x2 *)(x + i);
        v0 += b[0] * 0.0;
        v1 += b[1] * 0.0;
        v2 += b[2] * 0.0;
        v3 += b[3] * 0.0;
    }
    F64x2 v = v0 + v1 + v2 + v3;
    acc = v[0] + v[1];
#endif
    for (; i < hi; i++)
        acc += x[i] * 0.0;
    return acc != 0.0 || acc != acc;   /* NaN compares unequal to itself */
}

/* Finds the first non-finite state of [lo, hi) (smallest neuron, then
 * variable); scans element by element only when the fast check fails. */
static int find_nonfinite(const RtPop *pop, int64_t lo, int64_t hi, RtBad *bad) {
    int found = 0;
    for (int v = 0; v < pop->d->nstates; v++) {
        const double *x = pop->state[v];
        if (!any_nonfinite(x, lo, hi))
            continue;
        for (int64_t i = lo; i < hi; i++) {
            if (isfinite(x[i]))
                continue;
            if (!found || i < bad->neuron)
                *bad = (RtBad){pop->args.pop, v, i, x[i]};
            found = 1;
            break;
        }
    }
    return found;
}

/* Everything thread t does in one step, for its own neurons. */
static void thread_step(RtSim *s, int t) {
    RtStep step = s->now;
    int check = step % s->opt.check_every == 0;
    s->bad[t].pop = -1;
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
                deliver_homogeneous(s, pr, step, lo, hi);
        }
        for (int k = 0; k < pop->nin_inputs; k++)
            apply_input(s, pop->in_inputs[k], step, lo, hi);
        if (pop->d->kind == RT_POP_POISSON)
            update_poisson_pop(s, pop, step, lo, hi);
        else if (pop->d->kind == RT_POP_NEURON && lo < hi) {
            pop->d->update(&pop->args, lo, hi);
            if (check && s->bad[t].pop < 0)
                find_nonfinite(pop, lo, hi, &s->bad[t]);
            rt_plastic_post(s, p, t, step, lo, hi);   /* on_post, every (ABI v2) */
        }
    }
}

static void barrier_init(RtBarrier *b, int n) {
    atomic_init(&b->count, 0);
    atomic_init(&b->gen, 0);
    b->n = n;
}

/* Waits until all b->n threads have arrived (sequentially consistent, so the
 * work before the barrier is visible to every thread after it). */
static void barrier_wait(RtBarrier *b) {
    int gen = atomic_load(&b->gen);
    if (atomic_fetch_add(&b->count, 1) == b->n - 1) {
        atomic_store(&b->count, 0);
        atomic_fetch_add(&b->gen, 1);
        return;
    }
    long pause_ns = 1000;
    for (long spins = 0; atomic_load(&b->gen) == gen; spins++) {
        if (spins < 4000)
            continue;                       /* busy: the others are microseconds away */
        if (spins < 8000) {
            sched_yield();                  /* oversubscribed: let them run */
            continue;
        }
        struct timespec ts = {0, pause_ns}; /* idle (between runs): sleep, back off */
        nanosleep(&ts, NULL);
        if (pause_ns < 1000000)
            pause_ns *= 2;
    }
}

static void *worker_main(void *arg) {
    RtSim *s = ((void **)arg)[0];
    int t = (int)(intptr_t)((void **)arg)[1];
    rt_free(arg);
    /* wait until every worker exists: the barriers need all parties */
    pthread_mutex_lock(&s->gate_mu);
    while (!s->gate_open)
        pthread_cond_wait(&s->gate_cv, &s->gate_mu);
    int abort_start = s->gate_open == 2;
    pthread_mutex_unlock(&s->gate_mu);
    /* only the gate's own verdict: rt_sim_free may set quit before this
     * worker got here, and then waits for it at bar_start */
    if (abort_start)
        return NULL;
    for (;;) {
        barrier_wait(&s->bar_start);
        if (s->quit)
            return NULL;
        thread_step(s, t);
        barrier_wait(&s->bar_end);
    }
}

/* ---- serial phase ---- */

/* Collects the spikes of step `step` of every population in neuron order. */
static void gather(RtSim *s, RtStep step) {
    for (int p = 0; p < s->m->npops; p++) {
        RtPop *pop = &s->pops[p];
        int slot = (int)(step % pop->hist_len);
        uint32_t *out = pop->hist[slot];
        int64_t n = 0;
        if (pop->d->kind == RT_POP_SPIKE_TIMES) {
            while (pop->src_pos < pop->src_n && pop->src_step[pop->src_pos] <= step) {
                if (pop->src_step[pop->src_pos] == step)
                    out[n++] = pop->src_neuron[pop->src_pos];
                pop->src_pos++;
            }
        } else {
            const uint8_t *f = pop->spiked;
            int64_t i = 0;
            for (; i + 8 <= pop->size; i += 8) {   /* skip 8 silent neurons at once */
                uint64_t w;
                memcpy(&w, f + i, 8);
                if (!w)
                    continue;
                for (int64_t j = i; j < i + 8; j++)
                    if (f[j])
                        out[n++] = (uint32_t)j;
            }
            for (; i < pop->size; i++)
                if (f[i])
                    out[n++] = (uint32_t)i;
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
        else if (e->kind == RT_EV_SET_PROJ_CONST)
            rt_plastic_set_const(s, e->target, e->index, e->value);
    }
}

/* Turns the threads' findings into an RT_E_NONFINITE error, if any. */
static RtErrorCode report_nonfinite(RtSim *s, RtStep step, RtError *err) {
    const RtBad *best = NULL;
    for (int t = 0; t < s->nthreads; t++) {
        const RtBad *b = &s->bad[t];
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

RtErrorCode rt_sim_step(RtSim *s, RtError *err) {
    if (s->fail.code)
        return rt_err(err, s->fail.code, "%s", s->fail.msg);
    if (s->now >= (RtStep)1 << 32)
        return rt_err(err, RT_E_OVERFLOW, "step counter beyond 2^32 steps");
    RtStep step = s->now;
    for (int p = 0; p < s->m->npops; p++) {
        s->pops[p].args.step = step;
        s->pops[p].args.t = (double)step * s->dt;
    }
    if (s->nthreads > 1)
        barrier_wait(&s->bar_start);
    thread_step(s, 0);
    if (s->nthreads > 1)
        barrier_wait(&s->bar_end);
    RtErrorCode rc = report_nonfinite(s, step, &s->fail);
    gather(s, step);
    rt_plastic_serial(s, step);   /* per-pre state, pre traces (ABI v2) */
    if (rc == RT_OK)
        rc = rt_rec_step(s, step, &s->fail);
    s->now = step + 1;
    apply_events(s, s->now);
    if (rc)
        return rt_err(err, rc, "%s", s->fail.msg);
    return RT_OK;
}

RtErrorCode rt_sim_run(RtSim *s, RtStep nsteps, RtError *err) {
    RtStep end = nsteps < 0 ? s->total : s->now + nsteps;
    RtStep every = s->total / 100 > 0 ? s->total / 100 : 1;
    double t0 = rt_now_s();
    RtErrorCode rc = RT_OK;
    while (rc == RT_OK && s->now < end) {
        if (s->opt.interrupt && *s->opt.interrupt) {
            rc = rt_err(err, RT_E_INTERRUPTED, "interrupted after step %lld (t = %.6g s)",
                        (long long)s->now, (double)s->now * s->dt);
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
        if (d->precision != RT_PREC_F64)
            return rt_err(err, RT_E_UNSUPPORTED, "population '%s': float precision is reserved "
                          "for ABI v2", d->name);
        if (d->kind == RT_POP_NEURON && !d->update)
            return invalid(err, "population", p, "neuron population without update kernel");
        if (d->nstates < 0 || d->nparams < 0 || d->ninputs < 0 || d->nconsts < 0
            || (d->nstates && !d->states) || (d->nparams && !d->params)
            || (d->nconsts && !d->consts))
            return invalid(err, "population", p, "bad variable arrays");
        if (d->kind == RT_POP_SPIKE_TIMES && !d->spike_file && d->nspikes
            && (!d->spike_times || !d->spike_neurons))
            return invalid(err, "population", p, "spike source without spikes");
    }
    return RT_OK;
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
            || (d->kind == RT_INPUT_POISSON && (d->n_sources < 1 || !(d->rate_hz >= 0))))
            return invalid(err, "input", k, "bad population, receptor, sources or rate");
    }
    for (int k = 0; k < m->nrecs; k++) {
        const RtRecDesc *d = &m->recs[k];
        if (d->pop < 0 || d->pop >= m->npops || d->every < 1 || !d->file
            || (d->kind == RT_REC_STATE && (d->var < 0 || d->var >= m->pops[d->pop].nstates)))
            return invalid(err, "recording", k, "bad population, variable, interval or file");
    }
    for (int k = 0; k < m->nevents; k++) {
        const RtEventDesc *d = &m->events[k];
        if (d->kind == RT_EV_SILENCE)
            return rt_err(err, RT_E_UNSUPPORTED, "event %d: silencing is reserved for ABI v2", k);
        if ((d->kind == RT_EV_SET_CONST && (d->target < 0 || d->target >= m->npops
                                            || d->index < 0 || d->index >= m->pops[d->target].nconsts))
            || (d->kind == RT_EV_SET_INPUT_RATE && (d->target < 0 || d->target >= m->ninputs)))
            return invalid(err, "event", k, "bad target");
    }
    return RT_OK;
}

static RtErrorCode validate(const RtModelDesc *m, const RtRunOptions *o, RtError *err) {
    if (m->abi_version != 1 && m->abi_version != RT_ABI_VERSION)
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
    return rc ? rc : rt_plastic_validate(m, err);
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
                                      m->pops[pr->d->post].size, s->seed, s->dt, s->nthreads, err);
        if (rc)
            return rc;
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
            if (m->projs[k].pre == p && !s->projs[k].ring && s->projs[k].csr.delay0 + 1 > len)
                len = s->projs[k].csr.delay0 + 1;
            if (m->projs[k].post == p)
                pop->in_projs[pop->nin_projs++] = k;
        }
        for (int k = 0; k < m->ninputs; k++)
            if (m->inputs[k].post == p)
                pop->in_inputs[pop->nin_inputs++] = k;
        RtErrorCode rc = rt_pop_alloc_history(pop, len, err);
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
        s->inputs[k] = (RtInputRt){d, d->rate_hz, to_step(d->start_s, s->dt),
                                   d->stop_s < 0 ? INT64_MAX : to_step(d->stop_s, s->dt),
                                   d->begin < 0 ? 0 : d->begin,
                                   d->end < 0 || d->end > size ? size : d->end};
    }
    for (int k = 0; k < m->nevents; k++)
        s->events[k] = (RtEventRt){to_step(m->events[k].time_s, s->dt), &m->events[k]};
    s->nevents = m->nevents;
    qsort(s->events, (size_t)s->nevents, sizeof *s->events, cmp_event);
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

/* Starts nthreads-1 workers, which wait at a gate until all exist. */
static RtErrorCode start_threads(RtSim *s, RtError *err) {
    s->bad = rt_alloc((size_t)s->nthreads * sizeof *s->bad);
    if (!s->bad)
        return rt_err(err, RT_E_NOMEM, "out of memory");
    if (s->nthreads == 1)
        return RT_OK;
    s->tids = rt_alloc((size_t)s->nthreads * sizeof *s->tids);
    if (!s->tids)
        return rt_err(err, RT_E_NOMEM, "out of memory");
    barrier_init(&s->bar_start, s->nthreads);
    barrier_init(&s->bar_end, s->nthreads);
    RtErrorCode rc = RT_OK;
    for (int t = 1; t < s->nthreads && rc == RT_OK; t++) {
        void **arg = rt_alloc(2 * sizeof(void *));
        if (!arg) {
            rc = rt_err(err, RT_E_NOMEM, "out of memory starting threads");
            break;
        }
        arg[0] = s;
        arg[1] = (void *)(intptr_t)t;
        if (pthread_create(&s->tids[t], NULL, worker_main, arg) != 0) {
            rt_free(arg);
            rc = rt_err(err, RT_E_NOMEM, "cannot start thread %d", t);
        } else
            s->nstarted++;
    }
    open_gate(s, rc != RT_OK);
    return rc;
}

/* Creates the output directory (one level) and remembers its path. */
static RtErrorCode setup_out_dir(RtSim *s, RtError *err) {
    if (!s->opt.out_dir)
        return RT_OK;
    size_t n = strlen(s->opt.out_dir) + 1;
    if (!(s->out_dir = rt_realloc(NULL, n)))
        return rt_err(err, RT_E_NOMEM, "out of memory");
    memcpy(s->out_dir, s->opt.out_dir, n);
    struct stat st;
    if (stat(s->out_dir, &st) != 0 && mkdir(s->out_dir, 0777) != 0)
        return rt_err(err, RT_E_IO, "cannot create directory '%s'", s->out_dir);
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
    if (rc == RT_OK) rc = setup_inputs_events(s, err);
    for (int p = 0; rc == RT_OK && p < s->m->npops; p++)
        rc = rt_pop_init_values(s, p, err);
    if (rc == RT_OK) rc = rt_plastic_build(s, err);
    if (rc == RT_OK) rc = setup_out_dir(s, err);
    if (rc == RT_OK) rc = rt_rec_open(s, err);
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
    s->nthreads = o->threads > 0 ? o->threads : cores > 0 ? (int)cores : 1;
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
    RtErrorCode rc = rt_rec_close(s, err);
    int complete = rc == RT_OK && s->fail.code == RT_OK && s->now >= s->total;
    RtErrorCode rc2 = rt_rec_manifest(s, &tm, complete, rc ? NULL : err);
    s->finished = 1;
    return rc ? rc : rc2;
}

void rt_sim_free(RtSim *s) {
    if (!s)
        return;
    if (s->nstarted) {   /* all workers exist and wait at bar_start */
        s->quit = 1;
        barrier_wait(&s->bar_start);
        for (int t = 1; t < s->nthreads; t++)
            pthread_join(s->tids[t], NULL);
    }
    pthread_mutex_destroy(&s->gate_mu);
    pthread_cond_destroy(&s->gate_cv);
    if (!s->finished)
        rt_rec_close(s, NULL);
    for (int p = 0; s->pops && p < s->m->npops; p++)
        rt_pop_free(&s->pops[p]);
    for (int k = 0; s->projs && k < s->m->nprojs; k++) {
        rt_syn_free(&s->projs[k].csr);
        rt_free(s->projs[k].ring);
        rt_plastic_free(s->projs[k].pl, s->nthreads);
    }
    rt_free(s->pops); rt_free(s->projs); rt_free(s->inputs); rt_free(s->recs);
    rt_free(s->events); rt_free(s->bad); rt_free(s->tids); rt_free(s->out_dir);
    rt_free(s);
}

/* ---- inspection ---- */

RtStep rt_sim_now(const RtSim *s) { return s->now; }
RtStep rt_sim_total_steps(const RtSim *s) { return s->total; }
int rt_sim_threads(const RtSim *s) { return s->nthreads; }
double *rt_sim_state(RtSim *s, int pop, int var) { return s->pops[pop].state[var]; }
double *rt_sim_param(RtSim *s, int pop, int par) { return s->pops[pop].param[par]; }
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
