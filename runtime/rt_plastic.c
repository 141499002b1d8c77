/* rt_plastic.c - plastic and short-term-plasticity projections (ABI v2).
 *
 * Builds, per plastic projection, a CSC index (for every post neuron the
 * ascending list of its synapses, each packed with its pre neuron),
 * per-synapse or per-pre state with initial values, pre and post traces;
 * and runs the kernels at the points of
 * the step that rt_abi.h ("ABI v2") lists:
 *   deliver (threads, own post neurons): on_pre per arriving row segment;
 *   after update (threads, own neurons): on_post per spiking post neuron,
 *     post-trace jumps, every, post-trace decay;
 *   after gather (serial): on_pre_row, last arrival, pre-trace decay and
 *     jumps for the next step's arrivals, pre-state snapshots.
 * Everything a thread writes belongs to its own post neurons; everything
 * shared (pre traces, per-pre state) is written serially, so results do not
 * depend on the number of threads.
 */
#include "rt_plastic.h"

#include <math.h>
#include <string.h>

#include "rt_npy.h"
#include "rt_rng.h"
#include "rt_sim.h"
#include "rt_util.h"

/* ---- validation ---- */

static RtErrorCode bad_plastic(RtError *err, const RtProjDesc *pd, const char *why) {
    return rt_err(err, RT_E_INVALID, "projection '%s': %s", pd->name ? pd->name : "?", why);
}

static int traces_ok(int n, const RtTraceDesc *t) {
    if (n < 0 || (n && !t))
        return 0;
    for (int k = 0; k < n; k++)
        if (!(t[k].tau > 0) || !isfinite(t[k].inc)
            || (t[k].mode != RT_TRACE_ADD && t[k].mode != RT_TRACE_SET))
            return 0;
    return 1;
}

/* Checks one plastic descriptor against its projection and populations. */
static RtErrorCode validate_one(const RtModelDesc *m, const RtProjDesc *pd, RtError *err) {
    const RtPlasticDesc *d = pd->plastic;
    if (m->abi_version < 2)
        return bad_plastic(err, pd, "plasticity needs ABI version 2");
    if (m->pops[pd->post].kind != RT_POP_NEURON)
        return bad_plastic(err, pd, "a plastic projection must target a neuron population");
    if (pd->delay.kind != RT_DIST_CONST && d->per_pre)
        return rt_err(err, RT_E_UNSUPPORTED, "projection '%s': per-pre synapse state needs one "
                      "delay, not a distribution", pd->name);
    if (d->nsynvars < 0 || (d->nsynvars && !d->synvars) || d->nsynvars > 4096)
        return bad_plastic(err, pd, "bad synapse variables");
    for (int v = 0; v < d->nsynvars; v++)
        if (d->synvars[v].init.kind == RT_DIST_KERNEL)
            return bad_plastic(err, pd, "synapse variables start from constants or distributions");
    if (!traces_ok(d->ntraces_pre, d->traces_pre) || !traces_ok(d->ntraces_post, d->traces_post))
        return bad_plastic(err, pd, "bad traces (tau must be > 0)");
    if (d->npre_vars < 0 || (d->npre_vars && !d->pre_vars) || d->nconsts < 0
        || (d->nconsts && !d->consts))
        return bad_plastic(err, pd, "bad pre variables or constants");
    for (int k = 0; k < d->npre_vars; k++)
        if (d->pre_vars[k] < 0 || d->pre_vars[k] >= m->pops[pd->pre].nstates)
            return bad_plastic(err, pd, "pre variable index out of range");
    if (d->every && !(d->every_s > 0))
        return bad_plastic(err, pd, "an every kernel needs a period > 0");
    if (d->on_pre_row && !d->per_pre)
        return bad_plastic(err, pd, "on_pre_row is for per-pre synapse state");
    return RT_OK;
}

RtErrorCode rt_plastic_validate(const RtModelDesc *m, RtError *err) {
    for (int k = 0; k < m->nprojs; k++)
        if (m->projs[k].plastic) {
            RtErrorCode rc = validate_one(m, &m->projs[k], err);
            if (rc)
                return rc;
        }
    for (int k = 0; k < m->nevents; k++) {
        const RtEventDesc *e = &m->events[k];
        if (e->kind != RT_EV_SET_PROJ_CONST)
            continue;
        if (m->abi_version < 2 || e->target < 0 || e->target >= m->nprojs
            || !m->projs[e->target].plastic || e->index < 0
            || e->index >= m->projs[e->target].plastic->nconsts)
            return rt_err(err, RT_E_INVALID, "model descriptor: event %d: bad target", k);
    }
    return RT_OK;
}

/* ---- building ---- */

/* Insertion sort of row [a, b) by (delay, post); rows are short and
 * already ascending in post, so this is about linear. */
static void sort_row(RtCsr *c, int64_t a, int64_t b) {
    for (int64_t q = a + 1; q < b; q++) {
        uint16_t d = c->delay[q];
        uint32_t j = c->post[q];
        double w = c->weight[q];
        int64_t r = q;
        for (; r > a && (c->delay[r - 1] > d || (c->delay[r - 1] == d && c->post[r - 1] > j)); r--) {
            c->delay[r] = c->delay[r - 1];
            c->post[r] = c->post[r - 1];
            c->weight[r] = c->weight[r - 1];
        }
        c->delay[r] = d;
        c->post[r] = j;
        c->weight[r] = w;
    }
}

void rt_plastic_sort_rows(RtCsr *c) {
    for (int64_t i = 0; c->delay && i < c->npre; i++)
        sort_row(c, c->row[i], c->row[i + 1]);
}

/* The delay groups of pl (one group of delay0 without per-synapse delays).
 * Returns 0 when out of memory. */
static int build_groups(RtPlastic *pl, const RtCsr *c) {
    pl->ngroups = 1;
    pl->syn_delay = c->delay;
    if (!c->delay) {
        pl->gdelay = rt_alloc(sizeof(int));
        if (!pl->gdelay)
            return 0;
        pl->gdelay[0] = pl->delay;
        pl->nvirt = pl->npre;
        return 1;
    }
    pl->group_of = rt_alloc((size_t)(c->max_delay + 1) * sizeof(int));
    pl->gdelay = rt_alloc((size_t)(c->max_delay + 1) * sizeof(int));
    if (!pl->group_of || !pl->gdelay)
        return 0;
    for (int64_t q = 0; q < c->nsyn; q++)
        pl->group_of[c->delay[q]] = 1;
    pl->ngroups = 0;
    for (int d = 0; d <= c->max_delay; d++)
        if (pl->group_of[d]) {
            pl->gdelay[pl->ngroups] = d;
            pl->group_of[d] = pl->ngroups++;
        }
    if (pl->ngroups == 0)
        pl->gdelay[pl->ngroups++] = 1;
    pl->nvirt = pl->ngroups * pl->npre;
    return 1;
}

/* The virtual pre index of synapse q of pre neuron i (see RtPlastic). */
static inline uint32_t virt_pre(const RtPlastic *pl, int64_t q, uint32_t i) {
    return pl->group_of ? (uint32_t)(pl->group_of[pl->syn_delay[q]] * pl->npre + i) : i;
}

/* The first q in [a, b) with delay[q] >= d (the row is sorted by delay). */
static int64_t delay_bound(const uint16_t *delay, int64_t a, int64_t b, int d) {
    while (a < b) {
        int64_t mid = a + (b - a) / 2;
        if (delay[mid] < d)
            a = mid + 1;
        else
            b = mid;
    }
    return a;
}

/* Row i's synapses of group g: [*a, *b) (the whole row with one group). */
static void group_segment(const RtPlastic *pl, const int64_t *row, uint32_t i, int g, int64_t *a,
                          int64_t *b) {
    *a = row[i];
    *b = row[i + 1];
    if (!pl->group_of)
        return;
    *a = delay_bound(pl->syn_delay, *a, *b, pl->gdelay[g]);
    *b = delay_bound(pl->syn_delay, *a, *b, pl->gdelay[g] + 1);
}


/* Bits that hold the values 0 .. n-1 (0 when n <= 1). */
static int bits_for(int64_t n) {
    int b = 0;
    while (b < 62 && ((int64_t)1 << b) < n)
        b++;
    return b;
}

/* The CSC index: for each post neuron, its synapses in ascending order (a
 * counting sort of the CSR by post). on_post and every need each synapse q
 * and its pre neuron i. When the bits of i (npre) and of q's offset in its
 * row (the longest row) fit in 32 together (Vogels et al. 2011: 11 + 8), an
 * entry packs both, (i << off_bits) | (q - row[i]): 4 bytes per synapse
 * give i without a search and q = row[i] + offset, and entries still
 * ascend with q. Otherwise csc holds q and csc_pre holds i (4 more bytes
 * per synapse). Returns 0 when out of memory. */
static int build_csc(RtPlastic *pl, const RtCsr *c) {
    int64_t longest = 0;
    for (int64_t i = 0; i < pl->npre; i++)
        if (c->row[i + 1] - c->row[i] > longest)
            longest = c->row[i + 1] - c->row[i];
    int pre_bits = bits_for(pl->npre);
    pl->off_bits = 32 - pre_bits;
    pl->col = rt_alloc((size_t)(pl->npost + 1) * sizeof(int64_t));
    pl->csc = rt_alloc((size_t)(pl->nsyn + 1) * sizeof(uint32_t));
    if (pre_bits + bits_for(longest) > 32)
        pl->csc_pre = rt_alloc((size_t)(pl->nsyn + 1) * sizeof(uint32_t));
    if (!pl->col || !pl->csc || (pre_bits + bits_for(longest) > 32 && !pl->csc_pre))
        return 0;
    for (int64_t q = 0; q < pl->nsyn; q++)
        pl->col[c->post[q] + 1]++;
    for (int64_t j = 0; j < pl->npost; j++) {
        int64_t n = pl->col[j + 1];
        if (n > pl->max_in)
            pl->max_in = n;
        pl->col[j + 1] += pl->col[j];
    }
    /* col[j] serves as the cursor of column j, then is shifted back */
    for (int64_t i = 0; i < pl->npre; i++)
        for (int64_t q = c->row[i]; q < c->row[i + 1]; q++) {
            int64_t at = pl->col[c->post[q]]++;
            if (pl->csc_pre) {
                pl->csc[at] = (uint32_t)q;
                pl->csc_pre[at] = virt_pre(pl, q, (uint32_t)i);
            } else   /* off_bits is 32 only when npre <= 1, i.e. i == 0 */
                pl->csc[at] = (uint32_t)((uint64_t)i << pl->off_bits | (uint64_t)(q - c->row[i]));
        }
    memmove(pl->col + 1, pl->col, (size_t)pl->npost * sizeof(int64_t));
    pl->col[0] = 0;
    return 1;
}

static double draw(const RtDist *d, RtRng *r) {
    switch (d->kind) {
    case RT_DIST_UNIFORM: return d->a + (d->b - d->a) * rt_rng_uniform(r);
    case RT_DIST_NORMAL: return d->a + d->b * rt_rng_normal(r);
    default: return d->a;
    }
}

/* Initial values of the synapse variables: per row (or per pre neuron) one
 * keyed sequence, stream (RT_STREAM_WEIGHT, projection, 1 + variable). */
static void init_synvars(RtPlastic *pl, const RtCsr *c, uint64_t seed) {
    const RtPlasticDesc *d = pl->d;
    for (int v = 0; v < d->nsynvars; v++) {
        const RtDist *init = &d->synvars[v].init;
        uint32_t stream = rt_stream(RT_STREAM_WEIGHT, (uint32_t)pl->proj, (uint32_t)(1 + v));
        for (int64_t i = 0; i < pl->npre; i++) {
            RtRng r;
            if (init->kind != RT_DIST_CONST)
                rt_rng_init(&r, seed, stream, (uint64_t)i);
            if (d->per_pre)
                pl->syn[v][i] = draw(init, &r);
            else
                for (int64_t q = c->row[i]; q < c->row[i + 1]; q++)
                    pl->syn[v][q] = draw(init, &r);
        }
    }
}

/* Allocates the per-neuron and per-synapse arrays. Returns 0 when out of memory. */
static int alloc_state(RtPlastic *pl, int nthreads) {
    const RtPlasticDesc *d = pl->d;
    pl->syn = rt_arrays_alloc(d->nsynvars, (d->per_pre ? pl->npre : pl->nsyn) + 1, sizeof(double));
    pl->pre_tr = rt_arrays_alloc(d->ntraces_pre, pl->nvirt + 1, sizeof(double));
    pl->pre_before = rt_arrays_alloc(d->ntraces_pre, pl->nvirt + 1, sizeof(double));
    pl->post_tr = rt_arrays_alloc(d->ntraces_post, pl->npost + 1, sizeof(double));
    pl->pre_snap = rt_arrays_alloc(d->npre_vars, pl->nvirt + 1, sizeof(double));
    pl->pre_f = rt_alloc((size_t)(d->ntraces_pre + 1) * sizeof(double));
    pl->post_f = rt_alloc((size_t)(d->ntraces_post + 1) * sizeof(double));
    pl->last_arr = rt_alloc((size_t)(pl->nvirt + 1) * sizeof(RtStep));
    pl->last_post = rt_alloc((size_t)(pl->npost + 1) * sizeof(RtStep));
    pl->consts = rt_alloc((size_t)(d->nconsts + 1) * sizeof(double));
    pl->scratch = rt_alloc((size_t)nthreads * sizeof *pl->scratch);
    if (d->syn_clock)
        pl->syn_last = rt_alloc((size_t)(pl->nsyn + 1) * sizeof(RtStep));
    for (int t = 0; pl->scratch && t < nthreads; t++)
        if (!(pl->scratch[t] = rt_alloc((size_t)(pl->max_in + 1) * 2 * sizeof(uint32_t))))
            return 0;
    return rt_arrays_ok(pl->syn, d->nsynvars) && rt_arrays_ok(pl->pre_tr, d->ntraces_pre)
           && rt_arrays_ok(pl->pre_before, d->ntraces_pre) && rt_arrays_ok(pl->post_tr, d->ntraces_post)
           && rt_arrays_ok(pl->pre_snap, d->npre_vars) && pl->pre_f && pl->post_f && pl->last_arr
           && pl->last_post && pl->consts && pl->scratch && (pl->syn_last || !d->syn_clock);
}

/* Copies the pre population's states named by pre_vars (start of a step);
 * a float (RT_PREC_F32) population's states are widened to double, exactly,
 * so the kernels' pre_state is double in either precision. */
static void snapshot_pre(RtSim *s, RtPlastic *pl) {
    const RtPop *pre = &s->pops[s->m->projs[pl->proj].pre];
    for (int k = 0; k < pl->d->npre_vars; k++) {
        const double *x = pre->state[pl->d->pre_vars[k]];
        if (!pre->f32)
            memcpy(pl->pre_snap[k], x, (size_t)pl->npre * sizeof(double));
        else {
            const float *f = (const float *)(const void *)x;
            for (int64_t i = 0; i < pl->npre; i++)
                pl->pre_snap[k][i] = f[i];
        }
        for (int g = 1; g < pl->ngroups; g++)   /* every group's block: pre.X of the same step */
            memcpy(pl->pre_snap[k] + g * pl->npre, pl->pre_snap[k], (size_t)pl->npre * sizeof(double));
    }
}

/* The two kernel argument blocks (they differ only in pre_trace). */
static void setup_args(RtSim *s, RtPlastic *pl, RtCsr *c) {
    const RtProjDesc *pd = &s->m->projs[pl->proj];
    RtPop *post = &s->pops[pd->post];
    pl->args_post = (RtSynArgs){
        .w = c->weight, .syn = pl->syn, .post = c->post, .row = c->row,
        .pre_trace = (const double *const *)pl->pre_tr, .post_trace = pl->post_tr,
        .post_state = (const double *const *)post->state,
        .pre_state = (const double *const *)pl->pre_snap, .input = post->input[pd->receptor],
        .consts = pl->consts, .syn_last = pl->syn_last, .step = 0, .t = 0, .dt = s->dt,
        .seed = s->seed, .proj = (uint32_t)pl->proj, .nsyn = pl->nsyn};
    pl->args_pre = pl->args_post;
    pl->args_pre.pre_trace = (const double *const *)pl->pre_before;
}

/* Builds the plastic part of projection k (its CSR exists). */
static RtErrorCode build_one(RtSim *s, int k, RtError *err) {
    RtProj *pr = &s->projs[k];
    const RtProjDesc *pd = pr->d;
    RtCsr *c = &pr->csr;
    if (c->delay && pd->plastic->per_pre)
        return rt_err(err, RT_E_UNSUPPORTED, "projection '%s': per-pre synapse state needs one "
                      "delay for all its synapses", pd->name);
    if (c->nsyn >= (int64_t)UINT32_MAX)
        return rt_err(err, RT_E_OVERFLOW, "projection '%s': %lld synapses; a plastic projection "
                      "holds fewer than 2^32", pd->name, (long long)c->nsyn);
    RtPlastic *pl = rt_alloc(sizeof *pl);
    if (!pl)
        return rt_err(err, RT_E_NOMEM, "out of memory");
    pr->pl = pl;
    *pl = (RtPlastic){.d = pd->plastic, .proj = k, .npre = c->npre, .npost = c->npost,
                      .nsyn = c->nsyn, .delay = c->delay0};
    if (!build_groups(pl, c))
        return rt_err(err, RT_E_NOMEM, "out of memory for the plastic state of '%s'", pd->name);
    if (pl->nvirt >= (int64_t)UINT32_MAX)   /* virtual pre indices are uint32 */
        return rt_err(err, RT_E_OVERFLOW, "projection '%s': %lld pre neurons times %d different "
                      "delays exceed 2^32", pd->name, (long long)pl->npre, pl->ngroups);
    if (!build_csc(pl, c) || !alloc_state(pl, s->nthreads))
        return rt_err(err, RT_E_NOMEM, "out of memory for the plastic state of '%s'", pd->name);
    const RtPlasticDesc *d = pl->d;
    for (int q = 0; q < d->ntraces_pre; q++)
        pl->pre_f[q] = exp(-s->dt / d->traces_pre[q].tau);
    for (int q = 0; q < d->ntraces_post; q++)
        pl->post_f[q] = exp(-s->dt / d->traces_post[q].tau);
    if (d->nconsts)
        memcpy(pl->consts, d->consts, (size_t)d->nconsts * sizeof(double));
    if (d->every) {
        double n = nearbyint(d->every_s / s->dt);
        pl->n_every = n < 1 ? 1 : n > 1e15 ? (RtStep)1e15 : (RtStep)n;
    }
    init_synvars(pl, c, s->seed);
    snapshot_pre(s, pl);
    setup_args(s, pl, c);
    return RT_OK;
}

RtErrorCode rt_plastic_build(RtSim *s, RtError *err) {
    for (int k = 0; k < s->m->nprojs; k++)
        if (s->m->projs[k].plastic) {
            RtErrorCode rc = build_one(s, k, err);
            if (rc)
                return rc;
        }
    return RT_OK;
}

void rt_plastic_free(RtPlastic *pl, int nthreads) {
    if (!pl)
        return;
    const RtPlasticDesc *d = pl->d;
    rt_free(pl->col);
    rt_free(pl->csc);
    rt_free(pl->csc_pre);
    for (int t = 0; pl->scratch && t < nthreads; t++)
        rt_free(pl->scratch[t]);
    rt_free(pl->scratch);
    rt_arrays_free(pl->syn, d->nsynvars);
    rt_arrays_free(pl->pre_tr, d->ntraces_pre);
    rt_arrays_free(pl->pre_before, d->ntraces_pre);
    rt_arrays_free(pl->post_tr, d->ntraces_post);
    rt_arrays_free(pl->pre_snap, d->npre_vars);
    rt_free(pl->syn_last);
    rt_free(pl->pre_f);
    rt_free(pl->post_f);
    rt_free(pl->last_arr);
    rt_free(pl->last_post);
    rt_free(pl->consts);
    rt_free(pl->gdelay);
    rt_free(pl->group_of);
    rt_free(pl);
}

/* ---- the step ---- */

/* Spikes of the pre population that arrive at the synapses of group g in
 * step `step` (emitted in step - delay of g); *n receives their count (0
 * before the first arrival). */
static const uint32_t *arrivals(const RtSim *s, const RtPlastic *pl, int g, RtStep step, int64_t *n) {
    const RtPop *pre = &s->pops[s->m->projs[pl->proj].pre];
    RtStep e = step - pl->gdelay[g];
    if (e < 0) {
        *n = 0;
        return NULL;
    }
    int slot = (int)(e % pre->hist_len);
    *n = pre->hist_n[slot];
    return pre->hist[slot];
}

/* The on_pre calls (or plain deliveries) of group g's arrivals of `step`
 * onto post neurons [lo, hi). */
static void deliver_group(RtSim *s, int k, RtPlastic *pl, int g, RtStep step, int64_t lo, int64_t hi) {
    int64_t n;
    const uint32_t *spk = arrivals(s, pl, g, step, &n);
    const int64_t *row = pl->args_pre.row;
    const uint32_t *post = pl->args_pre.post;
    int whole = lo == 0 && hi == pl->npost;
    int f32 = s->pops[s->m->projs[k].post].f32;   /* input holds floats ([S-cg-7]) */
    for (int64_t m = 0; m < n; m++) {
        uint32_t i = spk[m];
        int64_t a, b;
        group_segment(pl, row, i, g, &a, &b);
        if (!whole) {
            a = rt_syn_lower_bound(post, a, b, (uint32_t)lo);
            b = rt_syn_lower_bound(post, a, b, (uint32_t)hi);
        }
        if (a >= b)
            continue;
        if (!pl->d->on_pre) {   /* plain plastic projection: deliver w (times the v3 gain) */
            double gain = pl->args_pre.gain;
            if (f32) {   /* float buffer: add in double, round once, as rt_sim.c's add_row_f32 */
                float *in = (float *)(void *)pl->args_pre.input;
                for (int64_t q = a; q < b; q++)
                    in[post[q]] = (float)((double)in[post[q]] + (gain == 1.0 ? pl->args_pre.w[q]
                                                                             : gain * pl->args_pre.w[q]));
                continue;
            }
            for (int64_t q = a; q < b; q++)
                pl->args_pre.input[post[q]] += gain == 1.0 ? pl->args_pre.w[q] : gain * pl->args_pre.w[q];
            continue;
        }
        uint32_t v = (uint32_t)(g * pl->npre + i);   /* the group's pre traces and clock */
        RtSynEvent ev = {NULL, NULL, a, b, v, 0, (double)(step - pl->last_arr[v]) * s->dt};
        pl->d->on_pre(&pl->args_pre, &ev);
    }
}

void rt_plastic_deliver(RtSim *s, int k, RtStep step, int64_t lo, int64_t hi) {
    RtPlastic *pl = s->projs[k].pl;
    for (int g = 0; g < pl->ngroups; g++)
        deliver_group(s, k, pl, g, step, lo, hi);
}

/* The synapses of column j and their pre neurons: *syn and *pre receive
 * arrays of the column's length (returned), decoded from the packed CSC
 * into thread t's scratch, or csc and csc_pre themselves. The weights of
 * the column, which the kernel reads next at scattered places, are
 * prefetched on the way. */
static int64_t column(const RtPlastic *pl, int t, int64_t j, const uint32_t **syn,
                      const uint32_t **pre) {
    const int64_t *row = pl->args_post.row;
    const double *w = pl->args_post.w;
    int64_t c0 = pl->col[j], n = pl->col[j + 1] - c0;
    const uint32_t *e = pl->csc + c0;
    for (int64_t k = 0; k < n; k += 16)   /* the column's cache lines at once */
        __builtin_prefetch(e + k);
    if (pl->csc_pre) {
        for (int64_t k = 0; k < n; k++)
            __builtin_prefetch(w + e[k], 1);
        *syn = e;
        *pre = pl->csc_pre + c0;
        return n;
    }
    uint32_t *qs = pl->scratch[t], *is = qs + pl->max_in + 1;
    uint32_t mask = (uint32_t)(((uint64_t)1 << pl->off_bits) - 1);
    for (int64_t k = 0; k < n; k++) {
        uint32_t i = (uint32_t)((uint64_t)e[k] >> pl->off_bits);
        uint32_t q = (uint32_t)(row[i] + (e[k] & mask));
        __builtin_prefetch(w + q, 1);   /* the kernel's w[q], in flight */
        qs[k] = q;
        is[k] = pl->group_of ? virt_pre(pl, q, i) : i;
    }
    *syn = qs;
    *pre = is;
    return n;
}

/* on_post of post neuron j (it spiked in `step`), then its trace jumps. */
static void post_event(RtSim *s, RtPlastic *pl, int t, RtStep step, int64_t j) {
    const RtPlasticDesc *d = pl->d;
    if (d->on_post && pl->col[j] < pl->col[j + 1]) {
        const uint32_t *syn, *pre;
        int64_t n = column(pl, t, j, &syn, &pre);
        RtSynEvent ev = {syn, pre, 0, n, (uint32_t)j, 0, (double)(step - pl->last_post[j]) * s->dt};
        d->on_post(&pl->args_post, &ev);
    }
    for (int q = 0; q < d->ntraces_post; q++) {
        double *x = pl->post_tr[q];
        x[j] = d->traces_post[q].mode == RT_TRACE_SET ? d->traces_post[q].inc
                                                      : x[j] + d->traces_post[q].inc;
    }
    pl->last_post[j] = step;
}

/* The every kernel for the post neurons [lo, hi), one call per neuron. */
static void every_calls(RtSim *s, RtPlastic *pl, int t, int64_t lo, int64_t hi) {
    for (int64_t j = lo; j < hi; j++) {
        if (pl->col[j] == pl->col[j + 1])
            continue;
        const uint32_t *syn, *pre;
        int64_t n = column(pl, t, j, &syn, &pre);
        RtSynEvent ev = {syn, pre, 0, n, (uint32_t)j, 0, (double)pl->n_every * s->dt};
        pl->d->every(&pl->args_post, &ev);
    }
}

/* x[j] *= f for j in [lo, hi): the per-step decay of a trace. Each element
 * gets the same single IEEE product as a plain loop, so the bits do not
 * change; GNU C vectors of 8 doubles, cloned for AVX-512 and AVX2 (as
 * rt_sim.c's any_nonfinite), make it 8 products per instruction where the
 * CPU has them (the scalar loop cost 4 % of the Vogels et al. network). */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void scale_range(double *restrict x, int64_t lo, int64_t hi, double f) {
    int64_t j = lo;
#if defined(__GNUC__)
    typedef double F64x8 __attribute__((vector_size(64), aligned(8), may_alias));
    for (; j + 16 <= hi; j += 16) {
        F64x8 *b = (F64x8 *)(x + j);
        b[0] *= f;
        b[1] *= f;
    }
#endif
    for (; j < hi; j++)
        x[j] *= f;
}

/* The on_post calls of the n spiking neurons `js` (ascending): the CSC
 * column of the next one is prefetched while one is processed, since a
 * column's first cache line is otherwise a sure miss. */
static void post_events(RtSim *s, RtPlastic *pl, const uint32_t *js, int64_t n, int t,
                        RtStep step) {
    for (int64_t m = 0; m < n; m++) {
        if (m + 1 < n) {
            int64_t c = pl->col[js[m + 1]], e = pl->col[js[m + 1] + 1];
            for (; c < e; c += 16)
                __builtin_prefetch(pl->csc + c);
        }
        post_event(s, pl, t, step, js[m]);
    }
}

void rt_plastic_post(RtSim *s, int p, int t, RtStep step, int64_t lo, int64_t hi) {
    RtPop *pop = &s->pops[p];
    int slot = (int)(step % pop->hist_len);   /* thread t's spikes of [lo, hi), gathered */
    const uint32_t *js = pop->tspk[t * pop->hist_len + slot];
    int64_t nspk = pop->tspk_n[t * pop->hist_len + slot];
    for (int k = 0; k < pop->nin_projs; k++) {
        RtPlastic *pl = s->projs[pop->in_projs[k]].pl;
        if (!pl)
            continue;
        if (pl->d->on_post || pl->d->ntraces_post)
            post_events(s, pl, js, nspk, t, step);
        if (pl->n_every && (step + 1) % pl->n_every == 0)
            every_calls(s, pl, t, lo, hi);
        for (int q = 0; q < pl->d->ntraces_post; q++)   /* to the next step */
            scale_range(pl->post_tr[q], lo, hi, pl->post_f[q]);
    }
}

/* on_pre_row for the arrivals of `step`, then their last-arrival steps. */
static void row_events(RtSim *s, RtPlastic *pl, RtStep step) {
    const int64_t *row = pl->args_pre.row;
    for (int g = 0; g < pl->ngroups; g++) {   /* on_pre_row: per_pre, so one group */
        int64_t n;
        const uint32_t *spk = arrivals(s, pl, g, step, &n);
        for (int64_t m = 0; m < n; m++) {
            uint32_t i = spk[m];
            if (pl->d->on_pre_row) {
                RtSynEvent ev = {NULL, NULL, row[i], row[i + 1], i, 0,
                                 (double)(step - pl->last_arr[i]) * s->dt};
                pl->d->on_pre_row(&pl->args_pre, &ev);
            }
            pl->last_arr[g * pl->npre + i] = step;
        }
    }
}

/* Pre traces from step `step` to step+1: decay, then the jumps of the
 * arrivals of step+1, keeping each arriving neuron's value before its jump. */
static void advance_pre_traces(RtSim *s, RtPlastic *pl, RtStep step) {
    const RtPlasticDesc *d = pl->d;
    for (int q = 0; q < d->ntraces_pre; q++)
        scale_range(pl->pre_tr[q], 0, pl->nvirt, pl->pre_f[q]);
    for (int g = 0; g < pl->ngroups; g++) {   /* group g's block jumps at its own arrivals */
        int64_t n;
        const uint32_t *spk = arrivals(s, pl, g, step + 1, &n);
        for (int q = 0; q < d->ntraces_pre; q++) {
            double *x = pl->pre_tr[q] + g * pl->npre, *before = pl->pre_before[q] + g * pl->npre;
            double inc = d->traces_pre[q].inc;
            int set = d->traces_pre[q].mode == RT_TRACE_SET;
            for (int64_t m = 0; m < n; m++) {
                uint32_t i = spk[m];
                before[i] = x[i];
                x[i] = set ? inc : x[i] + inc;
            }
        }
    }
}

void rt_plastic_serial(RtSim *s, RtStep step) {
    for (int k = 0; k < s->m->nprojs; k++) {
        RtPlastic *pl = s->projs[k].pl;
        if (!pl)
            continue;
        row_events(s, pl, step);
        advance_pre_traces(s, pl, step);
        snapshot_pre(s, pl);
        pl->args_pre.step = pl->args_post.step = step + 1;
        pl->args_pre.t = pl->args_post.t = (double)(step + 1) * s->dt;
    }
}

void rt_plastic_set_const(RtSim *s, int proj, int index, double value) {
    s->projs[proj].pl->consts[index] = value;
}

/* ---- inspection ---- */

const int64_t *rt_sim_rows(const RtSim *s, int proj) { return s->projs[proj].csr.row; }
const uint32_t *rt_sim_posts(const RtSim *s, int proj) { return s->projs[proj].csr.post; }
double *rt_sim_weights(RtSim *s, int proj) { return s->projs[proj].csr.weight; }

double *rt_sim_synvar(RtSim *s, int proj, int var) {
    if (proj < 0 || proj >= s->m->nprojs || !s->projs[proj].pl)
        return NULL;
    const RtPlastic *pl = s->projs[proj].pl;
    return var >= 0 && var < pl->d->nsynvars ? pl->syn[var] : NULL;
}

double *rt_sim_trace(RtSim *s, int proj, int post, int k) {
    if (proj < 0 || proj >= s->m->nprojs || !s->projs[proj].pl)
        return NULL;
    const RtPlastic *pl = s->projs[proj].pl;
    if (post)
        return k >= 0 && k < pl->d->ntraces_post ? pl->post_tr[k] : NULL;
    return k >= 0 && k < pl->d->ntraces_pre ? pl->pre_tr[k] : NULL;
}

int64_t rt_sim_synapse_bytes(const RtSim *s, int proj) {
    const RtProj *pr = &s->projs[proj];
    const RtCsr *c = &pr->csr;
    int64_t b = (c->npre + 1) * 8 + c->nsyn * (4 + 8) + (c->delay ? c->nsyn * 2 : 0);
    b += pr->split ? (c->npre + 1) * (int64_t)(s->nthreads - 1) * 4 : 0;   /* thread split */
    const RtPlastic *pl = pr->pl;
    if (!pl)
        return b;
    const RtPlasticDesc *d = pl->d;
    b += (pl->npost + 1) * 8 + pl->nsyn * (pl->csc_pre ? 8 : 4);     /* CSC */
    b += (int64_t)d->nsynvars * 8 * (d->per_pre ? pl->npre : pl->nsyn);
    b += d->syn_clock ? pl->nsyn * 8 : 0;
    b += pl->nvirt * 8 * (2 * (int64_t)d->ntraces_pre + d->npre_vars + 1);  /* + last_arr, per delay group */
    b += pl->npost * 8 * ((int64_t)d->ntraces_post + 1);               /* + last_post */
    b += (int64_t)s->nthreads * (pl->max_in + 1) * 8;                  /* scratch */
    return b;
}

/* One row of rt_sim_write_synapses' file. */
typedef struct SynRow {
    uint32_t pre, post;
    double w;
} SynRow;

RtErrorCode rt_sim_write_synapses(RtSim *s, int proj, const char *path, RtError *err) {
    if (proj < 0 || proj >= s->m->nprojs)
        return rt_err(err, RT_E_INVALID, "no projection %d", proj);
    const RtCsr *c = &s->projs[proj].csr;
    RtNpy w = {0};
    RtErrorCode rc = rt_npy_open(&w, path, "[('pre', '<u4'), ('post', '<u4'), ('w', '<f8')]", 0,
                                 sizeof(SynRow), err);
    SynRow buf[512];
    int n = 0;
    for (int64_t i = 0; rc == RT_OK && i < c->npre; i++)
        for (int64_t q = c->row[i]; rc == RT_OK && q < c->row[i + 1]; q++) {
            buf[n++] = (SynRow){(uint32_t)i, c->post[q], c->weight[q]};
            if (n == 512) {
                rc = rt_npy_append(&w, buf, n, err);
                n = 0;
            }
        }
    if (rc == RT_OK && n)
        rc = rt_npy_append(&w, buf, n, err);
    RtErrorCode rc2 = rt_npy_close(&w, rc ? NULL : err);
    return rc ? rc : rc2;
}
