/* rt_balance.c - the balance monitor (RT_REC_BALANCE; contract: "BALANCE
 * MONITOR" in rt_abi.h). Per recorded neuron, the excitatory and inhibitory
 * input currents of every step: with ABI v5 from the population's probe
 * kernel, evaluated before the update over the recorded neurons only; before
 * v5 from two states the update kernel writes. Windows of W steps start every
 * H steps (H divides W); at a window's end one structured .npy row: means,
 * ratio, correlation.
 *
 * Online and stable: per neuron a ring of B = W/H blocks; the block being
 * filled accumulates its H samples with Welford's updates (mean, sum of
 * squared deviations, co-moment), and a window's statistics merge its B
 * blocks oldest first with Chan et al.'s pairwise formulas. With H = W the
 * single block is the window and the arithmetic is that of the v3 monitor.
 *
 * Threads accumulate their own neurons in the thread phase (each neuron's
 * sums are formed by one thread in step order, so results do not depend on
 * the number of threads); rows are appended in the serial phase.
 *
 * Population level (NAME_pop.npy): the same statistics of the currents
 * averaged over the recorded neurons, Ibar_E(s) = mean_i I_E,i(s). Threads
 * store each neuron's sample of step s in a per-slot buffer; the serial phase
 * of s sums it in a fixed order (sum_fixed: the same bits for any thread
 * count) and feeds the mean to one more accumulator slot, j = ncols, with the
 * same Welford/Chan arithmetic. The buffer is double-buffered by step parity
 * because the workers may already run step s+1 (never s+2) while the serial
 * phase of s reads it (rt_sim.c, wait_start).
 */
#include "rt_balance.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "rt_npy.h"
#include "rt_sim.h"
#include "rt_util.h"

#define BAL_DESCR "[('I_E','<f8'),('I_I','<f8'),('ratio','<f8'),('corr','<f8')]"
#define BAL_POP_SUFFIX "_pop"   /* NAME.npy -> NAME_pop.npy: float64 [windows, 4] */

/* One balance recording. Block b of slot j is element j*nblocks + b of the
 * five accumulator arrays; slots 0 .. ncols-1 are the recorded neurons, slot
 * ncols the population average. */
typedef struct Bal {
    const RtRecDesc *d;
    int64_t begin, end, window, hop;
    int64_t ncols;            /* recorded neurons, end - begin */
    int64_t nblocks;          /* window / hop */
    double *me, *mi;          /* per block: running means of I_E, I_I */
    double *m2e, *m2i, *cei;  /* per block: sums of squared deviations, co-moment */
    double *row;              /* 4 doubles per slot: the window's output */
    int probed;               /* samples from the probe kernel (v5), else states */
    double *xe, *xi;          /* the samples of step s per neuron slot, at
                                 (s & 1) * (ncols + 1) + j */
    double **outs;            /* probed: per thread part, the probe kernel's out[] */
    int nprobes;
    RtNpy npy;                /* NAME.npy: per neuron */
    RtNpy pop_npy;            /* NAME_pop.npy: the population average */
} Bal;

struct RtBalSet {
    Bal *bal;
    int nbal;
    int *of_rec;              /* per recording: index into bal, or -1 */
    int nrecs;
};

/* The probes of population p that balance monitors read (0: none, read
 * states; descriptors before v5 have none). */
static int pop_probes(const RtModelDesc *m, int p) {
    return m->abi_version >= 5 ? m->pops[p].nprobes : 0;
}

static int64_t hop_of(const RtModelDesc *m, const RtRecDesc *d) {
    return m->abi_version >= 5 && d->hop ? d->hop : d->every;
}

RtErrorCode rt_bal_validate(const RtModelDesc *m, int k, RtError *err) {
    const RtRecDesc *d = &m->recs[k];
    if (d->pop < 0 || d->pop >= m->npops || m->pops[d->pop].kind != RT_POP_NEURON || !d->file
        || d->every < 1)
        return rt_err(err, RT_E_INVALID, "model descriptor: recording %d: balance needs a "
                      "neuron population, two state indices, a window >= 1 and a file", k);
    const RtPopDesc *pd = &m->pops[d->pop];
    int np = pop_probes(m, d->pop), n = np ? np : pd->nstates;
    if (d->var < 0 || d->var >= n || d->var2 < 0 || d->var2 >= n || (np && !pd->probe))
        return rt_err(err, RT_E_INVALID, "model descriptor: recording %d: balance needs two "
                      "%s indices of population '%s'", k, np ? "probe" : "state", pd->name);
    int64_t h = hop_of(m, d);
    if (h < 1 || d->every % h)
        return rt_err(err, RT_E_INVALID, "model descriptor: recording %d: balance hop %lld "
                      "must divide the window %lld", k, (long long)h, (long long)d->every);
    /* open_one allocates (neurons + 1) * W/H doubles per array: a count whose
       byte size does not fit in size_t would wrap to a small allocation */
    if ((uint64_t)(d->every / h) > (uint64_t)(SIZE_MAX / sizeof(double)) / (uint64_t)(pd->size + 1))
        return rt_err(err, RT_E_INVALID, "model descriptor: recording %d: balance window %lld / "
                      "hop %lld = %lld blocks per neuron of '%s' do not fit in memory", k,
                      (long long)d->every, (long long)h, (long long)(d->every / h), pd->name);
    return RT_OK;
}

/* ---- opening ---- */

static RtErrorCode bal_nomem(RtError *err) {
    return rt_err(err, RT_E_NOMEM, "out of memory");
}

/* "NAME.npy" (or "NAME") -> "NAME_pop.npy" into out; 0 if it does not fit. */
static int pop_file(const char *file, char *out, size_t size) {
    size_t n = strlen(file);
    if (n >= 4 && strcmp(file + n - 4, ".npy") == 0)
        n -= 4;
    int w = snprintf(out, size, "%.*s" BAL_POP_SUFFIX ".npy", (int)n, file);
    return w >= 0 && (size_t)w < size;
}

static RtErrorCode open_one(RtSim *s, Bal *b, const RtRecDesc *d, RtError *err) {
    int64_t size = s->pops[d->pop].size;
    b->d = d;
    b->begin = d->begin < 0 ? 0 : d->begin > size ? size : d->begin;
    b->end = d->end < 0 || d->end > size ? size : d->end;
    if (b->end < b->begin)
        b->end = b->begin;
    b->window = d->every;
    b->hop = hop_of(s->m, d);
    b->nblocks = b->window / b->hop;
    b->ncols = b->end - b->begin;
    size_t n = (size_t)(b->ncols + 1);   /* + the population slot */
    double **a[] = {&b->me, &b->mi, &b->m2e, &b->m2i, &b->cei};
    for (int k = 0; k < 5; k++)
        if (!(*a[k] = rt_alloc(n * (size_t)b->nblocks * sizeof(double))))
            return bal_nomem(err);
    if (!(b->row = rt_alloc(4 * n * sizeof(double))))
        return bal_nomem(err);
    b->nprobes = pop_probes(s->m, d->pop);
    b->probed = b->nprobes > 0;
    s->probed |= b->probed;
    b->xe = rt_alloc(2 * n * sizeof(double));
    b->xi = rt_alloc(2 * n * sizeof(double));
    if (!b->xe || !b->xi)
        return bal_nomem(err);
    if (b->probed
        && !(b->outs = rt_alloc((size_t)s->nthreads * (size_t)b->nprobes * sizeof *b->outs)))
        return bal_nomem(err);
    char path[800], ppath[800], pop[600];
    int w = snprintf(path, sizeof path, "%s/%s", s->out_dir, d->file);
    int wp = pop_file(d->file, pop, sizeof pop) ? snprintf(ppath, sizeof ppath, "%s/%s", s->out_dir, pop) : -1;
    if (w < 0 || (size_t)w >= sizeof path || wp < 0 || (size_t)wp >= sizeof ppath)
        return rt_err(err, RT_E_INVALID, "recording path too long: %s/%s", s->out_dir, d->file);
    int64_t cols = b->ncols;
    RtErrorCode rc = rt_npy_open(&b->npy, path, BAL_DESCR, cols ? cols : 1,
                                 (size_t)(cols ? cols : 1) * 32, err);
    return rc ? rc : rt_npy_open(&b->pop_npy, ppath, "'<f8'", 4, 4 * sizeof(double), err);
}

RtErrorCode rt_bal_open(RtSim *s, RtBalSet **out, RtError *err) {
    const RtModelDesc *m = s->m;
    RtBalSet *b = *out = rt_alloc(sizeof *b);
    if (!b)
        return bal_nomem(err);
    b->nrecs = m->nrecs;
    b->bal = rt_alloc((size_t)(m->nrecs + 1) * sizeof *b->bal);
    b->of_rec = rt_alloc((size_t)(m->nrecs + 1) * sizeof *b->of_rec);
    if (!b->bal || !b->of_rec)
        return bal_nomem(err);
    RtErrorCode rc = RT_OK;
    for (int k = 0; k < m->nrecs; k++)
        b->of_rec[k] = -1;
    for (int k = 0; rc == RT_OK && k < m->nrecs; k++)
        if (s->out_dir && m->recs[k].kind == RT_REC_BALANCE) {
            b->of_rec[k] = b->nbal;
            rc = open_one(s, &b->bal[b->nbal++], &m->recs[k], err);
        }
    return rc;
}

/* ---- the step ---- */

/* Statistics of one block or window: mean, sum of squared deviations of
 * I_E and I_I, co-moment. */
typedef struct Moments {
    double me, mi, m2e, m2i, cei;
} Moments;

static Moments block_of(const Bal *b, int64_t q) {
    return (Moments){b->me[q], b->mi[q], b->m2e[q], b->m2i[q], b->cei[q]};
}

/* Chan, Golub & LeVeque's pairwise update: the moments of a (na samples)
 * followed by c (nc samples). */
static Moments merge(Moments a, double na, Moments c, double nc) {
    double n = na + nc, de = c.me - a.me, di = c.mi - a.mi, f = na * nc / n;
    return (Moments){a.me + de * (nc / n), a.mi + di * (nc / n), a.m2e + c.m2e + de * de * f,
                     a.m2i + c.m2i + di * di * f, a.cei + c.cei + de * di * f};
}

/* Window statistics of slot j into row[4j..4j+3]; `newest` is the block
 * that has just been completed. */
static void window_output(const Bal *b, int64_t j, int64_t newest) {
    int64_t nb = b->nblocks, q0 = j * nb;
    Moments w = block_of(b, q0 + (newest + 1) % nb);   /* the oldest block */
    for (int64_t k = 1; k < nb; k++)
        w = merge(w, (double)(k * b->hop), block_of(b, q0 + (newest + 1 + k) % nb), (double)b->hop);
    double *o = b->row + 4 * j;
    o[0] = w.me;
    o[1] = w.mi;
    o[2] = -w.mi / w.me;
    double sd = sqrt(w.m2e) * sqrt(w.m2i);
    o[3] = sd > 0 ? -w.cei / sd : NAN;   /* corr(I_E, -I_I) = -cov(I_E, I_I)/sd */
}

/* 1 if a row is due after `step`: a block ends and a whole window exists. */
static int row_due(const Bal *b, RtStep step) {
    return (step + 1) % b->hop == 0 && step + 1 >= b->window;
}

/* Where `step` falls: the block being filled, its sample count with this
 * step's, and whether a row is due after it (computed once per call, not per
 * neuron: integer divisions). */
typedef struct Pos {
    int64_t n, blk;
    int due;
} Pos;

static Pos pos_of(const Bal *b, RtStep step) {
    return (Pos){step % b->hop + 1, (step / b->hop) % b->nblocks, row_due(b, step)};
}

/* Welford's update of slot j's current block with the sample (e, x);
 * at the block's last step, the window's outputs if one is due. */
static inline void add_sample(Bal *b, int64_t j, Pos ps, double e, double x) {
    int64_t n = ps.n, q = j * b->nblocks + ps.blk;
    double dn = (double)n;
    if (n == 1) {   /* a new block: exact first values, no rounding via the old mean */
        b->me[q] = e, b->mi[q] = x;
        b->m2e[q] = b->m2i[q] = b->cei[q] = 0;
    } else {
        double de = e - b->me[q], di = x - b->mi[q];
        b->me[q] += de / dn;
        b->mi[q] += di / dn;
        b->m2e[q] += de * (e - b->me[q]);
        b->m2i[q] += di * (x - b->mi[q]);
        b->cei[q] += de * (x - b->mi[q]);
    }
    if (ps.due)
        window_output(b, j, ps.blk);
}

/* Offset of step `step`'s half of the sample buffers xe, xi. */
static int64_t half_of(const Bal *b, RtStep step) {
    return (step & 1) * (b->ncols + 1);
}

/* Before v5: the samples of `step` are states var, var2 after the update. */
static void bal_states(RtSim *s, Bal *b, RtStep step, int64_t lo, int64_t hi) {
    if (lo < b->begin) lo = b->begin;
    if (hi > b->end) hi = b->end;
    const RtPop *pop = &s->pops[b->d->pop];
    const double *xe = pop->state[b->d->var], *xi = pop->state[b->d->var2];
    const float *fe = pop->f32 ? (const float *)(const void *)xe : NULL;   /* RT_PREC_F32 */
    const float *fi = pop->f32 ? (const float *)(const void *)xi : NULL;
    Pos ps = pos_of(b, step);
    double *ye = b->xe + half_of(b, step) - b->begin, *yi = b->xi + half_of(b, step) - b->begin;
    for (int64_t i = lo; i < hi; i++) {
        ye[i] = fe ? (double)fe[i] : xe[i];
        yi[i] = fi ? (double)fi[i] : xi[i];
        add_sample(b, i - b->begin, ps, ye[i], yi[i]);
    }
}

/* v5: the samples of `step` from the probe kernel, before the update, over
 * the recorded neurons of [lo, hi) only; part t's out[] array. */
static void bal_probe(RtSim *s, Bal *b, int t, RtPopArgs *args, RtStep step, int64_t lo, int64_t hi) {
    if (lo < b->begin) lo = b->begin;
    if (hi > b->end) hi = b->end;
    if (lo >= hi)
        return;
    double **out = b->outs + (size_t)t * (size_t)b->nprobes;   /* the others stay NULL */
    double *ye = b->xe + half_of(b, step), *yi = b->xi + half_of(b, step);
    out[b->d->var] = ye + (lo - b->begin);
    out[b->d->var2] = yi + (lo - b->begin);
    s->pops[b->d->pop].d->probe(args, lo, hi, out);
    if (b->d->var == b->d->var2)   /* one out[] slot for both: the kernel filled yi only */
        memcpy(ye + (lo - b->begin), yi + (lo - b->begin), (size_t)(hi - lo) * sizeof(double));
    Pos ps = pos_of(b, step);
    for (int64_t j = lo - b->begin; j < hi - b->begin; j++)
        add_sample(b, j, ps, ye[j], yi[j]);
}

void rt_bal_before_update(RtBalSet *b, RtSim *s, int p, int t, RtPopArgs *args, RtStep step,
                          int64_t lo, int64_t hi) {
    for (int k = 0; k < b->nbal; k++)
        if (b->bal[k].d->pop == p && b->bal[k].probed)
            bal_probe(s, &b->bal[k], t, args, step, lo, hi);
}

void rt_bal_after_update(RtBalSet *b, RtSim *s, int p, RtStep step, int64_t lo, int64_t hi) {
    for (int k = 0; k < b->nbal; k++)
        if (b->bal[k].d->pop == p && !b->bal[k].probed)
            bal_states(s, &b->bal[k], step, lo, hi);
}

int rt_bal_holds(const RtBalSet *b, RtStep step) {
    for (int k = 0; k < b->nbal; k++)
        if (row_due(&b->bal[k], step))
            return 1;
    return 0;
}

/* The sum of y[0..n) in a fixed order, whatever the thread count: lane k
 * (0..7) adds y[j] for j = k mod 8 in index order, then ((l0 + l1) + (l2 +
 * l3)) + ((l4 + l5) + (l6 + l7)). Eight independent addition chains in
 * locals (registers), not one long chain: the serial phase stays short. */
static double sum_fixed(const double *y, int64_t n) {
    double l0 = 0, l1 = 0, l2 = 0, l3 = 0, l4 = 0, l5 = 0, l6 = 0, l7 = 0;
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        l0 += y[j], l1 += y[j + 1], l2 += y[j + 2], l3 += y[j + 3];
        l4 += y[j + 4], l5 += y[j + 5], l6 += y[j + 6], l7 += y[j + 7];
    }
    double *rest[7] = {&l0, &l1, &l2, &l3, &l4, &l5, &l6};
    for (int k = 0; j < n; j++, k++)
        *rest[k] += y[j];
    return ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7));
}

/* Serial phase of `step`: the population sample, the mean of the threads'
 * samples of this step (sum_fixed), into slot ncols (and its row if one is
 * due). The caller skips monitors without recorded neurons. */
static void bal_population(Bal *b, RtStep step) {
    double n = (double)b->ncols;
    add_sample(b, b->ncols, pos_of(b, step), sum_fixed(b->xe + half_of(b, step), b->ncols) / n,
               sum_fixed(b->xi + half_of(b, step), b->ncols) / n);
}

RtErrorCode rt_bal_write(RtBalSet *b, RtStep step, RtStep flush, RtError *err) {
    RtErrorCode rc = RT_OK;
    for (int k = 0; rc == RT_OK && k < b->nbal; k++) {
        Bal *x = &b->bal[k];
        if (x->ncols == 0)
            continue;
        bal_population(x, step);
        if (row_due(x, step)) {
            rc = rt_npy_append(&x->npy, x->row, 1, err);
            if (rc == RT_OK)
                rc = rt_npy_append(&x->pop_npy, x->row + 4 * x->ncols, 1, err);
        }
    }
    for (int k = 0; rc == RT_OK && (step + 1) % flush == 0 && k < b->nbal; k++) {
        rc = rt_npy_flush(&b->bal[k].npy, err);
        if (rc == RT_OK)
            rc = rt_npy_flush(&b->bal[k].pop_npy, err);
    }
    return rc;
}

/* ---- manifest, close, free ---- */

void rt_bal_manifest(FILE *f, const RtSim *s, const RtBalSet *b, int k) {
    const RtRecDesc *d = &s->m->recs[k];
    const RtPopDesc *pd = &s->m->pops[d->pop];
    int i = b && b->of_rec ? b->of_rec[k] : -1;
    const Bal *x = i >= 0 ? &b->bal[i] : NULL;
    fprintf(f, "{\"file\": ");
    rt_json_str(f, d->file);
    fprintf(f, ", \"kind\": \"balance\", \"population\": ");
    rt_json_str(f, pd->name);
    int64_t hop = hop_of(s->m, d);
    int64_t rows = s->now >= d->every ? (s->now - d->every) / hop + 1 : 0;
    fprintf(f, ", \"neurons\": [%lld, %lld], \"window_s\": %.17g, \"every_s\": %.17g, "
            "\"windows\": %lld, \"variables\": [\"I_E\", \"I_I\", \"ratio\", \"corr\"], "
            "\"units\": [", (long long)(x ? x->begin : 0), (long long)(x ? x->end : 0),
            (double)d->every * s->dt, (double)hop * s->dt, (long long)rows);
    const RtVarDesc *v = pop_probes(s->m, d->pop) ? pd->probes : pd->states;
    rt_json_str(f, v[d->var].unit);
    fprintf(f, ", ");
    rt_json_str(f, v[d->var2].unit);
    fprintf(f, ", \"1\", \"1\"], \"dtype\": \"%s\", \"shape\": \"[windows, neurons]\", "
            "\"population_file\": ", BAL_DESCR);
    char pop[600];
    rt_json_str(f, pop_file(d->file, pop, sizeof pop) ? pop : "");
    fprintf(f, ", \"population_columns\": [\"I_E\", \"I_I\", \"ratio\", \"corr\"], "
            "\"population_dtype\": \"float64\", \"population_shape\": \"[windows, 4]\"}");
}

RtErrorCode rt_bal_close(RtBalSet *b, RtError *err) {
    RtErrorCode rc = RT_OK;
    for (int k = 0; b && k < b->nbal; k++) {
        RtErrorCode r = rt_npy_close(&b->bal[k].npy, rc ? NULL : err);
        rc = rc ? rc : r;
        r = rt_npy_close(&b->bal[k].pop_npy, rc ? NULL : err);
        rc = rc ? rc : r;
    }
    return rc;
}

void rt_bal_free(RtBalSet *b) {
    if (!b)
        return;
    for (int k = 0; b->bal && k < b->nbal; k++) {
        Bal *x = &b->bal[k];
        rt_npy_close(&x->npy, NULL);
        rt_npy_close(&x->pop_npy, NULL);
        rt_free(x->me); rt_free(x->mi); rt_free(x->m2e); rt_free(x->m2i); rt_free(x->cei);
        rt_free(x->row); rt_free(x->xe); rt_free(x->xi); rt_free(x->outs);
    }
    rt_free(b->bal);
    rt_free(b->of_rec);
    rt_free(b);
}
