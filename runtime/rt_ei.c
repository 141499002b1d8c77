/* rt_ei.c - E/I mechanisms of ABI v3 (see "ABI v3" in rt_abi.h):
 *   globals    modulator states and context levels, advanced once per step
 *              in the serial phase (exact decay factor, or the model's
 *              globals_update kernel), read by every kernel;
 *   gains      a factor per projection on every delivered efficacy
 *              (rt_sim.c and rt_plastic.c multiply; this file sets them);
 *   silence    neurons chosen by Philox priorities keyed by (seed, pop, key)
 *              whose spike flags are cleared after their update;
 *   balance    delegated to rt_balance.c;
 *   weights    a projection's weights every `every` steps or at the end.
 * The thread-phase work (silence, balance accumulation) touches only the
 * calling thread's neurons; everything else runs in the serial phase, so
 * results do not depend on the number of threads.
 */
#include "rt_ei.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rt_balance.h"
#include "rt_npy.h"
#include "rt_rng.h"
#include "rt_sim.h"
#include "rt_util.h"

#define EI_FLUSH_STEPS 10000   /* flush the files at least this often */

/* Silencing state of one population (NULL arrays: never silenced). */
typedef struct EiPop {
    uint32_t *count;          /* per neuron: active silences and lesions choosing it */
    uint32_t *list;           /* the neurons with count > 0, ascending */
    int64_t nlist;
} EiPop;

/* One weight recording. */
typedef struct EiW {
    const RtRecDesc *d;
    int64_t nsyn;
    RtNpy npy;
} EiW;

struct RtEi {
    double *globals;          /* nglobals (+1), what kernels read */
    double *decay_f;          /* RT_GLOBAL_DECAY: exp(-dt/tau) */
    int dynamic;              /* some global changes every step */
    EiPop *pops;
    uint32_t **chosen;        /* per event: silence/lesion choice, ascending */
    int64_t *nchosen;
    int *active;              /* event indices of the active silences, in order */
    int nactive;
    int *rec_of;              /* per recording: index into w, or -1 */
    RtBalSet *bal;            /* the balance recordings (rt_balance.c) */
    EiW *w;
    int nw;
};

static int is_v3_event(RtEventKind k) {
    return k == RT_EV_SILENCE || k == RT_EV_UNSILENCE || k == RT_EV_LESION
           || k == RT_EV_SET_GLOBAL || k == RT_EV_ADD_GLOBAL || k == RT_EV_SET_GAIN;
}

/* ---- validation ---- */

static RtErrorCode bad(RtError *err, const char *what, int i, const char *why) {
    return rt_err(err, RT_E_INVALID, "model descriptor: %s %d: %s", what, i, why);
}

static RtErrorCode validate_globals(const RtModelDesc *m, RtError *err) {
    if (m->nglobals < 0 || (m->nglobals && !m->globals) || m->nglobals > (1 << 20))
        return rt_err(err, RT_E_INVALID, "model descriptor: bad globals array");
    for (int g = 0; g < m->nglobals; g++) {
        const RtGlobalDesc *d = &m->globals[g];
        if (!d->name || !isfinite(d->init))
            return bad(err, "global", g, "needs a name and a finite initial value");
        if (d->kind == RT_GLOBAL_DECAY && !(d->tau > 0 && isfinite(d->tau) && isfinite(d->baseline)))
            return bad(err, "global", g, "a decaying global needs tau > 0 and a finite baseline");
        if (d->kind == RT_GLOBAL_KERNEL && !m->globals_update)
            return bad(err, "global", g, "a kernel global needs RtModelDesc.globals_update");
        if (d->kind != RT_GLOBAL_LEVEL && d->kind != RT_GLOBAL_DECAY && d->kind != RT_GLOBAL_KERNEL)
            return bad(err, "global", g, "unknown kind");
    }
    for (int k = 0; k < m->nprojs; k++)
        if (m->projs[k].gain_global < 0 || m->projs[k].gain_global > m->nglobals)
            return bad(err, "projection", k, "gain_global out of range");
    return RT_OK;
}

static RtErrorCode validate_event(const RtModelDesc *m, int k, RtError *err) {
    const RtEventDesc *e = &m->events[k];
    switch (e->kind) {
    case RT_EV_SILENCE: case RT_EV_LESION: case RT_EV_UNSILENCE:
        if (e->target < 0 || e->target >= m->npops || e->index < 0)
            return bad(err, "event", k, "bad population or key");
        if (m->pops[e->target].kind == RT_POP_SPIKE_TIMES)
            return rt_err(err, RT_E_UNSUPPORTED, "event %d: population '%s' replays spike times "
                          "and cannot be silenced", k, m->pops[e->target].name);
        if (e->kind != RT_EV_UNSILENCE && !(e->value >= 0 && e->value <= 1))
            return bad(err, "event", k, "the fraction must be in [0, 1]");
        if (e->kind != RT_EV_UNSILENCE && m->abi_version >= 5 && (e->end || e->begin)
            && !(e->begin >= 0 && e->begin < e->end && e->end <= m->pops[e->target].size))
            return bad(err, "event", k, "the neuron range must satisfy 0 <= begin < end <= size");
        return RT_OK;
    case RT_EV_SET_GLOBAL: case RT_EV_ADD_GLOBAL:
        if (e->target < 0 || e->target >= m->nglobals || !isfinite(e->value))
            return bad(err, "event", k, "bad global or value");
        return RT_OK;
    case RT_EV_SET_GAIN:
        if (e->target < 0 || e->target >= m->nprojs || !isfinite(e->value))
            return bad(err, "event", k, "bad projection or gain");
        if (m->projs[e->target].gain_global)
            return bad(err, "event", k, "the projection's gain follows a global");
        return RT_OK;
    default:
        return RT_OK;
    }
}

static RtErrorCode validate_rec(const RtModelDesc *m, int k, RtError *err) {
    const RtRecDesc *d = &m->recs[k];
    if (d->kind == RT_REC_BALANCE)
        return rt_bal_validate(m, k, err);
    if (d->kind == RT_REC_WEIGHTS
        && (d->proj < 0 || d->proj >= m->nprojs || d->every < 0 || !d->file))
        return bad(err, "recording", k, "weights need a projection, every >= 0 and a file");
    return RT_OK;
}

/* 1 if `m` uses anything of ABI v3. */
static int uses_v3(const RtModelDesc *m) {
    int v3 = m->nglobals != 0 || m->globals_update != NULL;
    for (int k = 0; k < m->nprojs; k++)
        v3 |= m->projs[k].gain_global != 0;
    for (int k = 0; k < m->nevents; k++)
        v3 |= is_v3_event(m->events[k].kind);
    for (int k = 0; k < m->nrecs; k++)
        v3 |= m->recs[k].kind == RT_REC_BALANCE || m->recs[k].kind == RT_REC_WEIGHTS;
    return v3;
}

RtErrorCode rt_ei_validate(const RtModelDesc *m, RtError *err) {
    if (m->abi_version < 3 && uses_v3(m))
        return rt_err(err, RT_E_INVALID, "model descriptor: globals, gains, silencing and "
                      "balance or weight recordings need ABI version 3");
    RtErrorCode rc = validate_globals(m, err);
    for (int k = 0; rc == RT_OK && k < m->nevents; k++)
        rc = validate_event(m, k, err);
    for (int k = 0; rc == RT_OK && k < m->nrecs; k++)
        rc = validate_rec(m, k, err);
    return rc;
}

/* ---- silence choices ---- */

typedef struct Prio {
    double u;
    uint32_t i;
} Prio;

static int cmp_prio(const void *a, const void *b) {
    const Prio *x = a, *y = b;
    if (x->u != y->u)
        return x->u < y->u ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The k = round(fraction*n) neurons of [begin, begin + n) of population p
 * that key `key` chooses: those of smallest priority u_i (see "ABI v3"),
 * ascending. u_i does not depend on the range, so the choice in a range is
 * the whole population's ranking restricted to it. Returns the new array
 * (rt_alloc'd) or NULL when out of memory; *k receives the count. */
static uint32_t *choose(uint64_t seed, int p, int64_t begin, int64_t n, int key, double fraction,
                        int64_t *k) {
    *k = (int64_t)round(fraction * (double)n);
    if (*k > n)
        *k = n;
    Prio *pr = rt_realloc(NULL, (size_t)n * sizeof *pr);
    uint32_t *out = rt_alloc((size_t)(*k + 1) * sizeof *out);
    if (!pr || !out) {
        rt_free(pr);
        rt_free(out);
        return NULL;
    }
    uint32_t stream = rt_stream(RT_STREAM_SILENCE, (uint32_t)p, 0);
    for (int64_t j = 0; j < n; j++) {
        uint64_t i = (uint64_t)(begin + j);
        RtRng r;
        rt_rng_init(&r, seed, stream, (uint64_t)key << 32 | i);
        pr[j] = (Prio){rt_rng_uniform(&r), (uint32_t)i};
    }
    qsort(pr, (size_t)n, sizeof *pr, cmp_prio);
    for (int64_t j = 0; j < *k; j++)
        out[j] = pr[j].i;
    qsort(out, (size_t)*k, sizeof *out, cmp_u32);
    rt_free(pr);
    return out;
}

/* Counts and the silent list for population p, on its first silence event. */
static int alloc_pop(EiPop *ep, int64_t n) {
    if (ep->count)
        return 1;
    ep->count = rt_alloc((size_t)(n + 1) * sizeof *ep->count);
    ep->list = rt_alloc((size_t)(n + 1) * sizeof *ep->list);
    return ep->count && ep->list;
}

static RtErrorCode build_silences(RtSim *s, RtEi *ei, RtError *err) {
    const RtModelDesc *m = s->m;
    for (int k = 0; k < m->nevents; k++) {
        const RtEventDesc *e = &m->events[k];
        if (e->kind != RT_EV_SILENCE && e->kind != RT_EV_LESION && e->kind != RT_EV_UNSILENCE)
            continue;
        int64_t n = m->pops[e->target].size;
        if (!alloc_pop(&ei->pops[e->target], n))
            return rt_err(err, RT_E_NOMEM, "out of memory for silencing '%s'", m->pops[e->target].name);
        if (e->kind == RT_EV_UNSILENCE)
            continue;
        int64_t begin = 0, len = n;   /* v5: a neuron range [begin, end) */
        if (m->abi_version >= 5 && e->end > 0) {
            begin = e->begin;
            len = e->end - e->begin;
        }
        ei->chosen[k] = choose(s->seed, e->target, begin, len, e->index, e->value, &ei->nchosen[k]);
        if (!ei->chosen[k])
            return rt_err(err, RT_E_NOMEM, "out of memory for silencing '%s'", m->pops[e->target].name);
    }
    return RT_OK;
}

/* Rebuilds the ascending list of silent neurons of population p. */
static void relist(RtEi *ei, int64_t n, int p) {
    EiPop *ep = &ei->pops[p];
    ep->nlist = 0;
    for (int64_t i = 0; i < n; i++)
        if (ep->count[i])
            ep->list[ep->nlist++] = (uint32_t)i;
}

/* ---- building ---- */

static RtErrorCode ei_nomem(RtError *err) {
    return rt_err(err, RT_E_NOMEM, "out of memory");
}

static void set_gain(RtSim *s, int k, double g) {
    s->projs[k].gain = g;
    RtPlastic *pl = s->projs[k].pl;
    if (pl)
        pl->args_pre.gain = pl->args_post.gain = g;
}

/* Gains linked to globals take the globals' current values. */
static void link_gains(RtSim *s) {
    for (int k = 0; k < s->m->nprojs; k++)
        if (s->m->projs[k].gain_global)
            set_gain(s, k, s->ei->globals[s->m->projs[k].gain_global - 1]);
}

RtErrorCode rt_ei_build(RtSim *s, RtError *err) {
    const RtModelDesc *m = s->m;
    RtEi *ei = s->ei = rt_alloc(sizeof *ei);
    if (!ei)
        return ei_nomem(err);
    ei->globals = rt_alloc((size_t)(m->nglobals + 1) * sizeof(double));
    ei->decay_f = rt_alloc((size_t)(m->nglobals + 1) * sizeof(double));
    ei->pops = rt_alloc((size_t)(m->npops + 1) * sizeof *ei->pops);
    ei->chosen = rt_alloc((size_t)(m->nevents + 1) * sizeof *ei->chosen);
    ei->nchosen = rt_alloc((size_t)(m->nevents + 1) * sizeof *ei->nchosen);
    ei->active = rt_alloc((size_t)(m->nevents + 1) * sizeof *ei->active);
    ei->rec_of = rt_alloc((size_t)(m->nrecs + 1) * sizeof *ei->rec_of);
    if (!ei->globals || !ei->decay_f || !ei->pops || !ei->chosen || !ei->nchosen || !ei->active
        || !ei->rec_of)
        return ei_nomem(err);
    ei->dynamic = m->globals_update != NULL;
    for (int g = 0; g < m->nglobals; g++) {
        ei->globals[g] = m->globals[g].init;
        if (m->globals[g].kind == RT_GLOBAL_DECAY) {
            ei->decay_f[g] = exp(-s->dt / m->globals[g].tau);
            ei->dynamic = 1;
        }
    }
    for (int k = 0; k < m->nrecs; k++)
        ei->rec_of[k] = -1;   /* until rt_ei_open */
    s->always_hold |= ei->dynamic;   /* the serial phase changes what kernels read */
    for (int p = 0; p < m->npops; p++)
        s->pops[p].args.globals = ei->globals;
    for (int k = 0; k < m->nprojs; k++)
        s->projs[k].gain = 1.0;
    link_gains(s);
    return build_silences(s, ei, err);
}

/* "DIR/NAME.npy" -> "DIR/NAME_syn.npy" (or "DIR/NAME_syn.npy" from "DIR/NAME"). */
static RtErrorCode path_of(const RtSim *s, const char *file, const char *suffix, char *out,
                           size_t size, RtError *err) {
    size_t n = strlen(file);
    if (suffix && n >= 4 && strcmp(file + n - 4, ".npy") == 0)
        n -= 4;
    int w = suffix ? snprintf(out, size, "%s/%.*s%s.npy", s->out_dir, (int)n, file, suffix)
                   : snprintf(out, size, "%s/%s", s->out_dir, file);
    if (w < 0 || (size_t)w >= size)
        return rt_err(err, RT_E_INVALID, "recording path too long: %s/%s", s->out_dir, file);
    return RT_OK;
}

/* One row of NAME_syn.npy. */
typedef struct SynPair {
    uint32_t pre, post;
} SynPair;

/* NAME_syn.npy: (pre, post) of every synapse in CSR order. */
static RtErrorCode write_pairs(RtSim *s, const RtRecDesc *d, RtError *err) {
    char path[800];
    RtErrorCode rc = path_of(s, d->file, "_syn", path, sizeof path, err);
    RtNpy f = {0};
    if (rc == RT_OK)
        rc = rt_npy_open(&f, path, "[('pre','<u4'),('post','<u4')]", 0, sizeof(SynPair), err);
    const RtCsr *c = &s->projs[d->proj].csr;
    for (int64_t i = 0; rc == RT_OK && i < c->npre; i++)
        for (int64_t q = c->row[i]; rc == RT_OK && q < c->row[i + 1]; q++) {
            SynPair sp = {(uint32_t)i, c->post[q]};
            rc = rt_npy_append(&f, &sp, 1, err);
        }
    RtErrorCode rc2 = rt_npy_close(&f, rc ? NULL : err);
    return rc ? rc : rc2;
}

static RtErrorCode open_weights(RtSim *s, EiW *w, const RtRecDesc *d, RtError *err) {
    w->d = d;
    w->nsyn = s->projs[d->proj].csr.nsyn;
    char path[800];
    RtErrorCode rc = path_of(s, d->file, NULL, path, sizeof path, err);
    if (rc == RT_OK)
        rc = rt_npy_open(&w->npy, path, "'<f8'", w->nsyn ? w->nsyn : 1,
                         (size_t)(w->nsyn ? w->nsyn : 1) * 8, err);
    if (rc == RT_OK)
        rc = write_pairs(s, d, err);
    if (rc == RT_OK && d->every >= 1 && w->nsyn)   /* row 0: the initial weights */
        rc = rt_npy_append(&w->npy, s->projs[d->proj].csr.weight, 1, err);
    return rc;
}

static RtErrorCode open_recs(RtSim *s, RtEi *ei, RtError *err) {
    const RtModelDesc *m = s->m;
    ei->w = rt_alloc((size_t)(m->nrecs + 1) * sizeof *ei->w);
    if (!ei->w)
        return ei_nomem(err);
    RtErrorCode rc = rt_bal_open(s, &ei->bal, err);
    for (int k = 0; rc == RT_OK && k < m->nrecs; k++) {
        ei->rec_of[k] = -1;
        if (!s->out_dir)
            continue;
        if (m->recs[k].kind == RT_REC_WEIGHTS) {
            ei->rec_of[k] = ei->nw;
            rc = open_weights(s, &ei->w[ei->nw++], &m->recs[k], err);
        }
    }
    return rc;
}

RtErrorCode rt_ei_open(RtSim *s, RtError *err) {
    RtEi *ei = s->ei;
    for (int k = 0; k < s->m->nprojs; k++) {
        RtPlastic *pl = s->projs[k].pl;
        if (pl) {
            pl->args_pre.globals = pl->args_post.globals = ei->globals;
            set_gain(s, k, s->projs[k].gain);
        }
    }
    return open_recs(s, ei, err);
}

/* ---- the step ---- */

/* Clears the spike flags of the silent neurons in [lo, hi). */
static void silence_range(const EiPop *ep, uint8_t *spiked, int64_t lo, int64_t hi) {
    int64_t a = 0, b = ep->nlist;
    while (a < b) {   /* first list entry >= lo */
        int64_t mid = a + (b - a) / 2;
        if (ep->list[mid] < lo)
            a = mid + 1;
        else
            b = mid;
    }
    for (int64_t k = a; k < ep->nlist && ep->list[k] < hi; k++)
        spiked[ep->list[k]] = 0;
}

void rt_ei_before_update(RtSim *s, int p, int t, RtPopArgs *args, RtStep step, int64_t lo,
                         int64_t hi) {
    if (s->ei->bal)
        rt_bal_before_update(s->ei->bal, s, p, t, args, step, lo, hi);
}

void rt_ei_after_update(RtSim *s, int p, RtStep step, int64_t lo, int64_t hi) {
    RtEi *ei = s->ei;
    if (ei->pops[p].nlist)
        silence_range(&ei->pops[p], s->pops[p].spiked, lo, hi);
    if (ei->bal)
        rt_bal_after_update(ei->bal, s, p, step, lo, hi);
}

int rt_ei_holds(const RtSim *s, RtStep step) {
    const RtEi *ei = s->ei;
    if (ei->bal && rt_bal_holds(ei->bal, step))
        return 1;
    for (int k = 0; k < ei->nw; k++)
        if (ei->w[k].d->every >= 1 && (step + 1) % ei->w[k].d->every == 0)
            return 1;
    return 0;
}

/* Globals from step `step` to step+1: kernel, then exact decays, then links. */
static void advance_globals(RtSim *s, RtStep step) {
    RtEi *ei = s->ei;
    const RtModelDesc *m = s->m;
    if (m->globals_update) {
        RtGlobalsArgs a = {ei->globals, step, (double)step * s->dt, s->dt, s->seed, m->nglobals};
        m->globals_update(&a);
    }
    for (int g = 0; g < m->nglobals; g++)
        if (m->globals[g].kind == RT_GLOBAL_DECAY) {
            double b = m->globals[g].baseline;
            ei->globals[g] = b + (ei->globals[g] - b) * ei->decay_f[g];
        }
    link_gains(s);
}

static RtErrorCode write_samples(RtSim *s, RtStep step, RtError *err) {
    RtEi *ei = s->ei;
    RtErrorCode rc = ei->bal ? rt_bal_write(ei->bal, step, EI_FLUSH_STEPS, err) : RT_OK;
    for (int k = 0; rc == RT_OK && k < ei->nw; k++) {
        EiW *w = &ei->w[k];
        if (w->d->every >= 1 && (step + 1) % w->d->every == 0 && w->nsyn)
            rc = rt_npy_append(&w->npy, s->projs[w->d->proj].csr.weight, 1, err);
    }
    for (int k = 0; rc == RT_OK && (step + 1) % EI_FLUSH_STEPS == 0 && k < ei->nw; k++)
        rc = rt_npy_flush(&ei->w[k].npy, err);
    return rc;
}

RtErrorCode rt_ei_serial(RtSim *s, RtStep step, RtError *err) {
    RtErrorCode rc = write_samples(s, step, err);
    if (s->ei->dynamic)
        advance_globals(s, step);
    if (rc && err) {   /* name the time: the file and cause are in the message */
        char why[sizeof err->msg];
        memcpy(why, err->msg, sizeof why);
        rt_err(err, rc, "at t = %.6g s: %.400s", (double)step * s->dt, why);
    }
    return rc;
}

/* Silence (+1) or end a silence (-1) of the neurons event k chose. */
static void count_chosen(RtSim *s, int k, int delta) {
    RtEi *ei = s->ei;
    const RtEventDesc *e = &s->m->events[k];
    EiPop *ep = &ei->pops[e->target];
    for (int64_t j = 0; j < ei->nchosen[k]; j++)
        ep->count[ei->chosen[k][j]] += (uint32_t)delta;
    relist(ei, s->pops[e->target].size, e->target);
}

/* RT_EV_UNSILENCE: the latest active silence of (pop, key) ends. */
static void unsilence(RtSim *s, const RtEventDesc *e) {
    RtEi *ei = s->ei;
    for (int a = ei->nactive - 1; a >= 0; a--) {
        const RtEventDesc *x = &s->m->events[ei->active[a]];
        if (x->target != e->target || x->index != e->index)
            continue;
        count_chosen(s, ei->active[a], -1);
        memmove(ei->active + a, ei->active + a + 1, (size_t)(ei->nactive - a - 1) * sizeof(int));
        ei->nactive--;
        return;
    }
}

void rt_ei_apply_event(RtSim *s, const RtEventDesc *e) {
    RtEi *ei = s->ei;
    int k = (int)(e - s->m->events);
    switch (e->kind) {
    case RT_EV_SILENCE:
        ei->active[ei->nactive++] = k;
        count_chosen(s, k, +1);
        break;
    case RT_EV_LESION:   /* counted forever: nothing ends it */
        count_chosen(s, k, +1);
        break;
    case RT_EV_UNSILENCE:
        unsilence(s, e);
        break;
    case RT_EV_SET_GLOBAL:
        ei->globals[e->target] = e->value;
        link_gains(s);
        break;
    case RT_EV_ADD_GLOBAL:
        ei->globals[e->target] += e->value;
        link_gains(s);
        break;
    case RT_EV_SET_GAIN:
        set_gain(s, e->target, e->value);
        break;
    default:
        break;
    }
}

/* ---- manifest, finish, free, inspection ---- */

void rt_ei_manifest_rec(FILE *f, const RtSim *s, int k) {
    const RtRecDesc *d = &s->m->recs[k];
    if (d->kind == RT_REC_BALANCE) {
        rt_bal_manifest(f, s, s->ei ? s->ei->bal : NULL, k);
        return;
    }
    fprintf(f, "{\"file\": ");
    rt_json_str(f, d->file);
    fprintf(f, ", \"kind\": \"weights\", \"projection\": ");
    rt_json_str(f, s->m->projs[d->proj].name);
    char syn[600];
    size_t n = strlen(d->file);
    n = n >= 4 && strcmp(d->file + n - 4, ".npy") == 0 ? n - 4 : n;
    snprintf(syn, sizeof syn, "%.*s_syn.npy", (int)n, d->file);
    fprintf(f, ", \"synapses\": %lld, \"every_s\": %.17g, \"index_file\": ",
            (long long)s->projs[d->proj].csr.nsyn, (double)d->every * s->dt);
    rt_json_str(f, syn);
    fprintf(f, ", \"units\": [\"SI\"], \"dtype\": \"float64\", \"shape\": \"[samples, synapses]\"}");
}

RtErrorCode rt_ei_finish(RtSim *s, RtError *err) {
    RtEi *ei = s->ei;
    RtErrorCode rc = RT_OK;
    if (!ei)
        return RT_OK;
    for (int k = 0; rc == RT_OK && k < ei->nw; k++)
        if (ei->w[k].d->every == 0 && ei->w[k].nsyn)
            rc = rt_npy_append(&ei->w[k].npy, s->projs[ei->w[k].d->proj].csr.weight, 1, err);
    RtErrorCode rb = rt_bal_close(ei->bal, rc ? NULL : err);
    rc = rc ? rc : rb;
    for (int k = 0; k < ei->nw; k++) {
        RtErrorCode r = rt_npy_close(&ei->w[k].npy, rc ? NULL : err);
        rc = rc ? rc : r;
    }
    return rc;
}

void rt_ei_free(RtSim *s) {
    RtEi *ei = s->ei;
    if (!ei)
        return;
    rt_bal_free(ei->bal);
    for (int k = 0; ei->w && k < ei->nw; k++)
        rt_npy_close(&ei->w[k].npy, NULL);
    for (int p = 0; ei->pops && p < s->m->npops; p++) {
        rt_free(ei->pops[p].count);
        rt_free(ei->pops[p].list);
    }
    for (int k = 0; ei->chosen && k < s->m->nevents; k++)
        rt_free(ei->chosen[k]);
    rt_free(ei->globals); rt_free(ei->decay_f); rt_free(ei->pops); rt_free(ei->chosen);
    rt_free(ei->nchosen); rt_free(ei->active); rt_free(ei->rec_of); rt_free(ei->w);
    rt_free(ei);
    s->ei = NULL;
}

double *rt_sim_globals(RtSim *s) { return s->ei ? s->ei->globals : NULL; }
double rt_sim_gain(const RtSim *s, int proj) { return s->projs[proj].gain; }

int64_t rt_sim_silenced(const RtSim *s, int pop, const RtNeuron **list) {
    const EiPop *ep = s->ei ? &s->ei->pops[pop] : NULL;
    if (list)
        *list = ep ? ep->list : NULL;
    return ep ? ep->nlist : 0;
}
