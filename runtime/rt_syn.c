/* rt_syn.c - connectivity builders (all-to-all, one-to-one, probability,
 * fixed in-/out-degree, from file) into CSR, then weights and delays.
 * See rt_syn.h for the storage and the keying of random draws.
 *
 * A projection between neuron ranges (ABI v4, RtProjDesc.pre_begin..
 * post_end) is built on the ranges alone: rows, posts, sizes and random keys
 * are range-local while building (row i is neuron pre_begin + i), and
 * expand_ranges() finally maps the CSR to population indices (rows outside
 * the pre range empty, posts shifted by post_begin). */
#include "rt_syn.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "rt_npy.h"
#include "rt_rng.h"
#include "rt_util.h"

/* Context of one build: the projection and its growing post array. */
typedef struct Build {
    RtCsr *c;
    const RtProjDesc *pd;
    uint32_t proj;
    uint64_t seed;
    double dt;
    int self;           /* pre == post population and no autapses */
    int64_t pre0, post0; /* first neuron of the pre and post ranges */
    int ranged;         /* a range differs from its whole population */
    int64_t off;        /* local row i and local post i + off are one neuron
                           (pre_begin - post_begin; 0 for whole populations) */
    int self_any;       /* self and the ranges overlap: some row has a self */
    int64_t cap;        /* capacity of c->post */
    RtError *err;
    int threads;        /* threads for the parallel parts */
} Build;

#define SYN_MAX_THREADS 64

/* ---- running parts of a build on several threads ---- */

typedef void (*ParFn)(void *ctx, int t, int nt);
typedef struct ParArg {
    ParFn fn;
    void *ctx;
    int t, nt;
} ParArg;

static void *par_main(void *p) {
    ParArg *a = p;
    a->fn(a->ctx, a->t, a->nt);
    return NULL;
}

/* Runs fn(ctx, t, nt) for t = 0..nt-1, on nt threads when it can start
 * them (a part whose thread cannot start runs here, afterwards). */
static void run_parallel(ParFn fn, void *ctx, int nt) {
    pthread_t tid[SYN_MAX_THREADS];
    ParArg arg[SYN_MAX_THREADS];
    int started[SYN_MAX_THREADS] = {0};
    for (int t = 1; t < nt; t++) {
        arg[t] = (ParArg){fn, ctx, t, nt};
        started[t] = pthread_create(&tid[t], NULL, par_main, &arg[t]) == 0;
    }
    fn(ctx, 0, nt);
    for (int t = 1; t < nt; t++) {
        if (started[t])
            pthread_join(tid[t], NULL);
        else
            fn(ctx, t, nt);
    }
}

/* Threads worth using for n independent items. */
static int par_threads(const Build *b, int64_t n) {
    int64_t nt = n / 512 + 1;
    if (nt > b->threads) nt = b->threads;
    if (nt > SYN_MAX_THREADS) nt = SYN_MAX_THREADS;
    return nt < 1 ? 1 : (int)nt;
}

static inline int64_t part_begin(int64_t n, int t, int nt) { return n * t / nt; }

static RtErrorCode nomem(Build *b) {
    return rt_err(b->err, RT_E_NOMEM, "out of memory building projection '%s'", b->pd->name);
}

/* Makes room for `extra` more posts. */
static RtErrorCode reserve(Build *b, int64_t extra) {
    if (b->c->nsyn + extra <= b->cap)
        return RT_OK;
    int64_t nc = b->cap + b->cap / 2 + extra + 1024;
    uint32_t *np = rt_realloc(b->c->post, (size_t)nc * sizeof(uint32_t));
    if (!np)
        return nomem(b);
    b->c->post = np;
    b->cap = nc;
    return RT_OK;
}

static inline void push(Build *b, int64_t j) { b->c->post[b->c->nsyn++] = (uint32_t)j; }

/* Sorts a[0..n) ascending: quicksort with insertion sort for short runs.
 * Inline comparisons make it several times faster than qsort here. */
static void sort_u32(uint32_t *a, int64_t n) {
    while (n > 16) {
        uint32_t x = a[0], y = a[n / 2], z = a[n - 1];   /* median of three */
        uint32_t piv = x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y);
        int64_t i = 0, j = n - 1;
        for (;;) {
            while (a[i] < piv) i++;
            while (a[j] > piv) j--;
            if (i >= j)
                break;
            uint32_t t = a[i]; a[i] = a[j]; a[j] = t;
            i++; j--;
        }
        /* recurse into the smaller part, loop on the larger */
        if (j + 1 < n - j - 1) {
            sort_u32(a, j + 1);
            a += j + 1;
            n -= j + 1;
        } else {
            sort_u32(a + j + 1, n - j - 1);
            n = j + 1;
        }
    }
    for (int64_t i = 1; i < n; i++) {
        uint32_t v = a[i];
        int64_t k = i;
        for (; k > 0 && a[k - 1] > v; k--)
            a[k] = a[k - 1];
        a[k] = v;
    }
}

/* Writes k distinct values of [0, m), ascending, into out (k <= m). Dense
 * requests use selection sampling (Knuth's algorithm S); sparse ones draw,
 * sort and drop duplicates until k distinct remain, which is uniform over
 * k-subsets by symmetry. */
static void sample_distinct(RtRng *r, uint64_t m, int64_t k, uint32_t *out) {
    if ((uint64_t)k * 2 > m) {
        int64_t got = 0;
        for (uint64_t t = 0; t < m && got < k; t++)
            if ((double)(m - t) * rt_rng_uniform(r) < (double)(k - got))
                out[got++] = (uint32_t)t;
        return;
    }
    int64_t n = 0;
    while (n < k) {
        for (int64_t i = n; i < k; i++)
            out[i] = (uint32_t)rt_rng_below(r, m);
        sort_u32(out, k);
        n = 0;
        for (int64_t i = 0; i < k; i++)
            if (n == 0 || out[i] != out[n - 1])
                out[n++] = out[i];
    }
}

/* The local post index that is row i's own neuron when autapses are
 * excluded, or -1 (autapses allowed, other population, or outside the post
 * range). */
static inline int64_t self_post(const Build *b, int64_t i) {
    int64_t j = i + b->off;
    return b->self && j >= 0 && j < b->c->npost ? j : -1;
}

/* Likewise the local row of post j's own neuron, or -1. */
static inline int64_t self_pre(const Build *b, int64_t j) {
    int64_t i = j - b->off;
    return b->self && i >= 0 && i < b->c->npre ? i : -1;
}

/* Maps candidate x of [0, m-1) to a neuron index skipping `self`. */
static inline uint32_t skip_self(uint32_t x, int64_t self) {
    return x >= (uint64_t)self ? x + 1 : x;
}

/* row i: every post with probability p, by geometric skips between hits. */
static RtErrorCode row_probability(Build *b, int64_t i) {
    int64_t npost = b->c->npost, self = self_post(b, i);
    double p = b->pd->p;
    if (p >= 1) {
        if (reserve(b, npost))
            return RT_E_NOMEM;
        for (int64_t j = 0; j < npost; j++)
            if (j != self)
                push(b, j);
        return RT_OK;
    }
    if (!(p > 0))
        return RT_OK;
    RtRng r;
    rt_rng_init(&r, b->seed, rt_stream(RT_STREAM_CONN, b->proj, 0), (uint64_t)i);
    double lq = log1p(-p);
    for (int64_t j = -1;;) {
        double skip = floor(log(rt_rng_uniform_pos(&r)) / lq);
        if (skip >= (double)(npost - 1 - j))
            break;
        j += 1 + (int64_t)skip;
        if (j == self)
            continue;
        if (reserve(b, 1))
            return RT_E_NOMEM;
        push(b, j);
    }
    return RT_OK;
}

/* row i: `degree` distinct posts. */
static RtErrorCode row_outdegree(Build *b, int64_t i) {
    int64_t k = b->pd->degree, self = self_post(b, i), m = b->c->npost - (self >= 0 ? 1 : 0);
    if (reserve(b, k))
        return RT_E_NOMEM;
    RtRng r;
    rt_rng_init(&r, b->seed, rt_stream(RT_STREAM_CONN, b->proj, 0), (uint64_t)i);
    uint32_t *out = b->c->post + b->c->nsyn;
    sample_distinct(&r, (uint64_t)m, k, out);
    if (self >= 0)   /* skipping self keeps the order ascending */
        for (int64_t q = 0; q < k; q++)
            out[q] = skip_self(out[q], self);
    b->c->nsyn += k;
    return RT_OK;
}

static RtErrorCode row_simple(Build *b, int64_t i) {
    int64_t npost = b->c->npost, self = self_post(b, i);
    if (b->pd->rule == RT_CONN_ONE_TO_ONE) {
        if (reserve(b, 1))
            return RT_E_NOMEM;
        if (self != i)
            push(b, i);
        return RT_OK;
    }
    if (reserve(b, npost))
        return RT_E_NOMEM;
    for (int64_t j = 0; j < npost; j++)
        if (j != self)
            push(b, j);
    return RT_OK;
}

/* Row-wise rules: rows [i0, i1) into b->c, whose row[] starts at i0. */
static RtErrorCode build_row_range(Build *b, int64_t i0, int64_t i1) {
    RtCsr *c = b->c;
    for (int64_t i = i0; i < i1; i++) {
        c->row[i - i0] = c->nsyn;
        RtErrorCode rc;
        switch (b->pd->rule) {
        case RT_CONN_PROBABILITY: rc = row_probability(b, i); break;
        case RT_CONN_FIXED_OUTDEGREE: rc = row_outdegree(b, i); break;
        default: rc = row_simple(b, i); break;
        }
        if (rc)
            return rc == RT_E_NOMEM ? nomem(b) : rc;
    }
    c->row[i1 - i0] = c->nsyn;
    return RT_OK;
}

/* One thread's share of the rows: its own CSR piece, merged afterwards. */
typedef struct RowsJob {
    const Build *b;
    Build part[SYN_MAX_THREADS];
    RtCsr csr[SYN_MAX_THREADS];
    RtError err[SYN_MAX_THREADS];
    RtErrorCode rc[SYN_MAX_THREADS];
} RowsJob;

static void rows_part(void *ctx, int t, int nt) {
    RowsJob *j = ctx;
    int64_t n = j->b->c->npre, i0 = part_begin(n, t, nt), i1 = part_begin(n, t + 1, nt);
    RtCsr *c = &j->csr[t];
    c->npre = i1 - i0;
    c->npost = j->b->c->npost;
    j->part[t] = *j->b;
    j->part[t].c = c;
    j->part[t].cap = 0;
    j->part[t].err = &j->err[t];
    c->row = rt_alloc((size_t)(i1 - i0 + 1) * sizeof(int64_t));
    j->rc[t] = c->row ? build_row_range(&j->part[t], i0, i1) : nomem(&j->part[t]);
}

/* Concatenates the pieces in row order (so the result does not depend on
 * the number of threads) and frees them. */
static RtErrorCode merge_rows(Build *b, RowsJob *j, int nt) {
    RtCsr *c = b->c;
    RtErrorCode rc = RT_OK;
    for (int t = 0; t < nt && rc == RT_OK; t++)
        if (j->rc[t]) {
            rc = j->rc[t];
            if (b->err)
                *b->err = j->err[t];
        }
    int64_t total = 0;
    for (int t = 0; t < nt; t++)
        total += j->csr[t].nsyn;
    if (rc == RT_OK && !(c->post = rt_realloc(NULL, (size_t)(total + 1) * sizeof(uint32_t))))
        rc = nomem(b);
    for (int t = 0; rc == RT_OK && t < nt; t++) {
        int64_t i0 = part_begin(c->npre, t, nt);
        memcpy(c->post + c->nsyn, j->csr[t].post, (size_t)j->csr[t].nsyn * sizeof(uint32_t));
        for (int64_t r = 0; r < j->csr[t].npre; r++)
            c->row[i0 + r] = c->nsyn + j->csr[t].row[r];
        c->nsyn += j->csr[t].nsyn;
    }
    c->row[c->npre] = c->nsyn;
    b->cap = total + 1;
    for (int t = 0; t < nt; t++)
        rt_syn_free(&j->csr[t]);
    return rc;
}

static RtErrorCode build_rows(Build *b) {
    int nt = par_threads(b, b->c->npre);
    if (nt == 1)
        return build_row_range(b, 0, b->c->npre);
    RowsJob *j = rt_alloc(sizeof *j);
    if (!j)
        return nomem(b);
    j->b = b;
    run_parallel(rows_part, j, nt);
    RtErrorCode rc = merge_rows(b, j, nt);
    rt_free(j);
    return rc;
}

/* Fixed in-degree, one thread's share: the pre of posts [j0, j1). */
typedef struct ColsJob {
    const Build *b;
    uint32_t *pre;      /* npost * degree */
} ColsJob;

static void cols_part(void *ctx, int t, int nt) {
    const ColsJob *job = ctx;
    const Build *b = job->b;
    int64_t n = b->c->npost, k = b->pd->degree;
    for (int64_t j = part_begin(n, t, nt); j < part_begin(n, t + 1, nt); j++) {
        int64_t self = self_pre(b, j), m = b->c->npre - (self >= 0 ? 1 : 0);
        RtRng r;
        rt_rng_init(&r, b->seed, rt_stream(RT_STREAM_CONN, b->proj, 0), (uint64_t)j);
        uint32_t *col = job->pre + j * k;
        sample_distinct(&r, (uint64_t)m, k, col);
        for (int64_t q = 0; self >= 0 && q < k; q++)
            col[q] = skip_self(col[q], self);
    }
}

/* Fixed in-degree: `degree` distinct pre per post (keyed by post), then the
 * transpose into rows by pre; posts come out ascending within each row. */
static RtErrorCode build_indegree(Build *b) {
    RtCsr *c = b->c;
    int64_t k = b->pd->degree;
    uint32_t *pre = rt_realloc(NULL, (size_t)(c->npost * k + 1) * sizeof(uint32_t));
    if (!pre || reserve(b, c->npost * k)) {
        rt_free(pre);
        return nomem(b);
    }
    ColsJob job = {b, pre};
    run_parallel(cols_part, &job, par_threads(b, c->npost));
    memset(c->row, 0, (size_t)(c->npre + 1) * sizeof(int64_t));
    for (int64_t s = 0; s < c->npost * k; s++)
        c->row[pre[s] + 1]++;
    for (int64_t i = 0; i < c->npre; i++)
        c->row[i + 1] += c->row[i];
    c->nsyn = c->npost * k;
    /* fill: row[i] serves as the cursor of row i, then is shifted back */
    for (int64_t j = 0; j < c->npost; j++)
        for (int64_t q = 0; q < k; q++)
            c->post[c->row[pre[j * k + q]]++] = (uint32_t)j;
    memmove(c->row + 1, c->row, (size_t)c->npre * sizeof(int64_t));
    c->row[0] = 0;
    rt_free(pre);
    return RT_OK;
}

int64_t rt_syn_delay_steps(double d, double dt) {
    double s = nearbyint(d / dt);
    return s < 1 ? 1 : s > 1e15 ? (int64_t)1e15 : (int64_t)s;
}

/* Draws one value of `d` (not RT_DIST_KERNEL). */
static double draw(const RtDist *d, RtRng *r) {
    switch (d->kind) {
    case RT_DIST_UNIFORM: return d->a + (d->b - d->a) * rt_rng_uniform(r);
    case RT_DIST_NORMAL: return d->a + d->b * rt_rng_normal(r);
    default: return d->a;
    }
}

/* Weights and delays of rows [i0, i1) of one thread's share; delays beyond
 * the limit are left for the caller to report (maxd holds the largest). */
typedef struct ValuesJob {
    const Build *b;
    int have_w, have_d;
    const double *fd;               /* delays from a file, or NULL */
    int64_t maxd[SYN_MAX_THREADS];
} ValuesJob;

static void values_part(void *ctx, int t, int nt) {
    ValuesJob *j = ctx;
    const Build *b = j->b;
    const RtCsr *c = b->c;
    const RtProjDesc *pd = b->pd;
    int64_t i0 = part_begin(c->npre, t, nt), i1 = part_begin(c->npre, t + 1, nt), maxd = 1;
    for (int64_t i = i0; i < i1; i++) {
        RtRng r;
        rt_rng_init(&r, b->seed, rt_stream(RT_STREAM_WEIGHT, b->proj, 0), (uint64_t)i);
        for (int64_t q = c->row[i]; q < c->row[i + 1] && !j->have_w; q++)
            c->weight[q] = draw(&pd->weight, &r);
        if (!c->delay)
            continue;
        rt_rng_init(&r, b->seed, rt_stream(RT_STREAM_DELAY, b->proj, 0), (uint64_t)i);
        for (int64_t q = c->row[i]; q < c->row[i + 1]; q++) {
            int64_t d = rt_syn_delay_steps(j->have_d ? j->fd[q] : draw(&pd->delay, &r), b->dt);
            c->delay[q] = (uint16_t)(d > RT_MAX_DELAY_STEPS ? RT_MAX_DELAY_STEPS : d);
            if (d > maxd)
                maxd = d;
        }
    }
    j->maxd[t] = maxd;
}

static RtErrorCode delay_overflow(Build *b, int64_t d) {
    return rt_err(b->err, RT_E_OVERFLOW, "projection '%s': delay of %lld steps exceeds %d",
                  b->pd->name, (long long)d, RT_MAX_DELAY_STEPS);
}

/* Weights, then delays, of every synapse (unless a file gave them); each
 * row draws from its own keyed sequence, so rows run in parallel. */
static RtErrorCode draw_values(Build *b, int have_w, int have_d, const double *fd) {
    RtCsr *c = b->c;
    const RtProjDesc *pd = b->pd;
    int hetero = have_d || pd->delay.kind != RT_DIST_CONST;
    if (!hetero) {
        int64_t d = rt_syn_delay_steps(pd->delay.a, b->dt);
        if (d > RT_MAX_DELAY_STEPS)
            return delay_overflow(b, d);
        c->delay0 = c->max_delay = (int)d;
        if (have_w || pd->weight.kind == RT_DIST_CONST) {   /* nothing to draw */
            for (int64_t q = 0; q < c->nsyn && !have_w; q++)
                c->weight[q] = pd->weight.a;
            c->wconst = !have_w && !pd->plastic;
            c->w0 = pd->weight.a;
            return RT_OK;
        }
    } else if (!(c->delay = rt_alloc((size_t)(c->nsyn ? c->nsyn : 1) * sizeof(uint16_t))))
        return nomem(b);
    ValuesJob j = {.b = b, .have_w = have_w, .have_d = have_d, .fd = fd};
    int nt = par_threads(b, c->npre);
    run_parallel(values_part, &j, nt);
    int64_t maxd = 1;
    for (int t = 0; t < nt; t++)
        maxd = j.maxd[t] > maxd ? j.maxd[t] : maxd;
    if (maxd > RT_MAX_DELAY_STEPS)
        return delay_overflow(b, maxd);
    if (hetero)
        c->max_delay = (int)maxd;
    return RT_OK;
}

/* A synapse read from a file, sorted into CSR order. */
typedef struct FileSyn {
    uint32_t pre, post;
    int64_t line;       /* row of the table: ties keep file order */
} FileSyn;

static int cmp_filesyn(const void *a, const void *b) {
    const FileSyn *x = a, *y = b;
    if (x->pre != y->pre)
        return x->pre < y->pre ? -1 : 1;
    if (x->post != y->post)
        return x->post < y->post ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

/* Checks the table and converts it to FileSyn records, sorted. */
static RtErrorCode file_syns(Build *b, const double *t, int64_t rows, int64_t cols, FileSyn **out) {
    RtCsr *c = b->c;
    if (cols < 2 || cols > 4)
        return rt_err(b->err, RT_E_INVALID, "'%s': expected 2 to 4 columns (pre, post[, weight[, "
                      "delay]]), found %lld", b->pd->file, (long long)cols);
    FileSyn *fs = rt_realloc(NULL, (size_t)(rows ? rows : 1) * sizeof *fs);
    if (!fs)
        return nomem(b);
    for (int64_t k = 0; k < rows; k++) {   /* population indices -> range-local */
        double pre = t[k * cols] - (double)b->pre0, post = t[k * cols + 1] - (double)b->post0;
        if (!(pre >= 0 && pre < (double)c->npre && post >= 0 && post < (double)c->npost)
            || pre != floor(pre) || post != floor(post)) {
            rt_free(fs);
            if (b->ranged)
                return rt_err(b->err, RT_E_INVALID, "'%s' row %lld: pair (%g, %g) outside the "
                              "ranges [%lld, %lld) x [%lld, %lld)", b->pd->file, (long long)k + 1,
                              t[k * cols], t[k * cols + 1], (long long)b->pre0,
                              (long long)(b->pre0 + c->npre), (long long)b->post0,
                              (long long)(b->post0 + c->npost));
            return rt_err(b->err, RT_E_INVALID, "'%s' row %lld: pair (%g, %g) outside %lld x %lld "
                          "neurons", b->pd->file, (long long)k + 1, pre, post,
                          (long long)c->npre, (long long)c->npost);
        }
        fs[k] = (FileSyn){(uint32_t)pre, (uint32_t)post, k};
    }
    qsort(fs, (size_t)rows, sizeof *fs, cmp_filesyn);
    *out = fs;
    return RT_OK;
}

/* From a table of pre, post[, weight[, delay]] (SI units). */
static RtErrorCode build_file(Build *b) {
    RtCsr *c = b->c;
    double *t = NULL, *fd = NULL;
    int64_t rows, cols;
    FileSyn *fs = NULL;
    RtErrorCode rc = rt_table_read(b->pd->file, &t, &rows, &cols, b->err);
    if (rc == RT_OK)
        rc = file_syns(b, t, rows, cols, &fs);
    if (rc == RT_OK && (reserve(b, rows) || !(c->weight = rt_alloc((size_t)(rows + 1) * sizeof(double)))
                        || (cols >= 4 && !(fd = rt_realloc(NULL, (size_t)(rows + 1) * sizeof(double))))))
        rc = nomem(b);
    if (rc == RT_OK) {
        memset(c->row, 0, (size_t)(c->npre + 1) * sizeof(int64_t));
        for (int64_t k = 0; k < rows; k++) {
            c->row[fs[k].pre + 1]++;
            c->post[k] = fs[k].post;
            if (cols >= 3)
                c->weight[k] = t[fs[k].line * cols + 2];
            if (cols >= 4)
                fd[k] = t[fs[k].line * cols + 3];
        }
        for (int64_t i = 0; i < c->npre; i++)
            c->row[i + 1] += c->row[i];
        c->nsyn = rows;
        rc = draw_values(b, cols >= 3, cols >= 4, fd);
    }
    rt_free(fs);
    rt_free(fd);
    rt_free(t);
    return rc;
}

/* Checks the rule's parameters against the population sizes. */
static RtErrorCode check_rule(Build *b) {
    const RtProjDesc *pd = b->pd;
    const RtCsr *c = b->c;
    int64_t cand = (pd->rule == RT_CONN_FIXED_INDEGREE ? c->npre : c->npost) - (b->self_any ? 1 : 0);
    switch (pd->rule) {
    case RT_CONN_ONE_TO_ONE:
        if (c->npre != c->npost)
            return rt_err(b->err, RT_E_INVALID, "projection '%s': one-to-one needs equal sizes, "
                          "got %lld and %lld", pd->name, (long long)c->npre, (long long)c->npost);
        return RT_OK;
    case RT_CONN_PROBABILITY:
        if (!(pd->p >= 0 && pd->p <= 1))
            return rt_err(b->err, RT_E_INVALID, "projection '%s': probability %g outside [0, 1]",
                          pd->name, pd->p);
        return RT_OK;
    case RT_CONN_FIXED_INDEGREE:
    case RT_CONN_FIXED_OUTDEGREE:
        if (pd->degree < 0 || pd->degree > cand)
            return rt_err(b->err, RT_E_INVALID, "projection '%s': degree %lld but only %lld "
                          "candidates", pd->name, (long long)pd->degree, (long long)cand);
        return RT_OK;
    case RT_CONN_FILE:
        return pd->file ? RT_OK : rt_err(b->err, RT_E_INVALID, "projection '%s': no file", pd->name);
    default:
        return RT_OK;
    }
}

/* Frees the delay array when every delay is equal. */
static void compress_delays(RtCsr *c) {
    if (!c->delay)
        return;
    for (int64_t s = 1; s < c->nsyn; s++)
        if (c->delay[s] != c->delay[0])
            return;
    c->delay0 = c->nsyn ? c->delay[0] : 1;
    c->max_delay = c->delay0;
    rt_free(c->delay);
    c->delay = NULL;
}

/* Shrinks post to its final size and allocates the weights. */
static RtErrorCode finish_arrays(Build *b) {
    RtCsr *c = b->c;
    uint32_t *p = rt_realloc(c->post, (size_t)(c->nsyn + 1) * sizeof(uint32_t));
    if (!p)
        return nomem(b);
    c->post = p;
    b->cap = c->nsyn + 1;
    c->weight = rt_alloc((size_t)(c->nsyn + 1) * sizeof(double));
    return c->weight ? RT_OK : nomem(b);
}

/* The range [*begin, *end) a descriptor's (begin, end) selects of n neurons
 * (end == 0: all of them); 0 if it is no valid range. */
static int range_of(int64_t begin, int64_t end, int64_t n, int64_t *b0, int64_t *e0) {
    *b0 = end == 0 ? 0 : begin;
    *e0 = end == 0 ? n : end;
    return (end != 0 || begin == 0) && *b0 >= 0 && *b0 < *e0 && *e0 <= n;
}

/* Maps the range-local CSR to population indices: npre + 1 row offsets
 * (rows outside the pre range empty), posts shifted by post0. */
static RtErrorCode expand_ranges(Build *b, int64_t npre, int64_t npost) {
    RtCsr *c = b->c;
    if (!b->ranged)
        return RT_OK;
    int64_t *row = rt_alloc((size_t)(npre + 1) * sizeof(int64_t));
    if (!row)
        return nomem(b);
    for (int64_t i = 0; i <= npre; i++)
        row[i] = i < b->pre0 ? 0 : i - b->pre0 <= c->npre ? c->row[i - b->pre0] : c->nsyn;
    for (int64_t q = 0; q < c->nsyn; q++)
        c->post[q] += (uint32_t)b->post0;
    rt_free(c->row);
    c->row = row;
    c->npre = npre;
    c->npost = npost;
    return RT_OK;
}

/* Sets up the ranges of `b` from the descriptor: c holds the range sizes. */
static RtErrorCode setup_ranges(Build *b, int64_t npre, int64_t npost) {
    const RtProjDesc *pd = b->pd;
    int64_t pe, qe;
    if (!range_of(pd->pre_begin, pd->pre_end, npre, &b->pre0, &pe)
        || !range_of(pd->post_begin, pd->post_end, npost, &b->post0, &qe))
        return rt_err(b->err, RT_E_INVALID, "projection '%s': neuron range [%lld, %lld) -> [%lld, "
                      "%lld) outside %lld x %lld neurons or empty", pd->name,
                      (long long)pd->pre_begin, (long long)pd->pre_end, (long long)pd->post_begin,
                      (long long)pd->post_end, (long long)npre, (long long)npost);
    b->c->npre = pe - b->pre0;
    b->c->npost = qe - b->post0;
    b->ranged = b->c->npre != npre || b->c->npost != npost;
    b->off = b->pre0 - b->post0;
    b->self_any = b->self && b->pre0 < qe && b->post0 < pe;
    return RT_OK;
}

RtErrorCode rt_syn_build(RtCsr *c, const RtProjDesc *pd, uint32_t proj, int64_t npre,
                         int64_t npost, uint64_t seed, double dt, int threads, RtError *err) {
    memset(c, 0, sizeof *c);
    Build b = {.c = c, .pd = pd, .proj = proj, .seed = seed, .dt = dt,
               .self = pd->pre == pd->post && !pd->autapses, .err = err,
               .threads = threads < 1 ? 1 : threads};
    if (pd->weight.kind == RT_DIST_KERNEL || pd->delay.kind == RT_DIST_KERNEL)
        return rt_err(err, RT_E_INVALID, "projection '%s': weight and delay must be constants "
                      "or distributions", pd->name);
    RtErrorCode rc = setup_ranges(&b, npre, npost);
    if (rc == RT_OK)
        rc = check_rule(&b);
    if (rc)
        return rc;
    c->row = rt_alloc((size_t)(c->npre + 1) * sizeof(int64_t));
    if (!c->row)
        return nomem(&b);
    if (pd->rule == RT_CONN_FILE)
        rc = build_file(&b);
    else {
        rc = pd->rule == RT_CONN_FIXED_INDEGREE ? build_indegree(&b) : build_rows(&b);
        if (rc == RT_OK)
            rc = finish_arrays(&b);
        if (rc == RT_OK)
            rc = draw_values(&b, 0, 0, NULL);
    }
    if (rc == RT_OK)
        rc = expand_ranges(&b, npre, npost);
    if (rc) {
        rt_syn_free(c);
        return rc;
    }
    compress_delays(c);
    return RT_OK;
}

void rt_syn_free(RtCsr *c) {
    rt_free(c->row);
    rt_free(c->post);
    rt_free(c->weight);
    rt_free(c->delay);
    memset(c, 0, sizeof *c);
}
