/* rt_balance.c - the balance monitor of ABI v3 (RT_REC_BALANCE; contract:
 * "BALANCE MONITOR" in rt_abi.h). Per recorded neuron, Welford accumulators
 * of two state arrays (the excitatory and inhibitory input currents the
 * update kernel stores) over consecutive windows; at a window's end one
 * structured .npy row: means, ratio, correlation.
 *
 * Threads accumulate their own neurons in the thread phase (each neuron's
 * sums are formed by one thread in step order, so results do not depend on
 * the number of threads); rows are appended in the serial phase.
 */
#include "rt_balance.h"

#include <math.h>
#include <string.h>

#include "rt_npy.h"
#include "rt_sim.h"
#include "rt_util.h"

#define BAL_DESCR "[('I_E','<f8'),('I_I','<f8'),('ratio','<f8'),('corr','<f8')]"

/* One balance recording: Welford accumulators per recorded neuron. */
typedef struct Bal {
    const RtRecDesc *d;
    int64_t begin, end, window;
    double *me, *mi;          /* running means of I_E, I_I */
    double *m2e, *m2i, *cei;  /* sums of squared deviations, co-moment */
    double *row;              /* 4 doubles per neuron: the window's output */
    RtNpy npy;
} Bal;

struct RtBalSet {
    Bal *bal;
    int nbal;
    int *of_rec;              /* per recording: index into bal, or -1 */
    int nrecs;
};

RtErrorCode rt_bal_validate(const RtModelDesc *m, int k, RtError *err) {
    const RtRecDesc *d = &m->recs[k];
    if (d->pop < 0 || d->pop >= m->npops || m->pops[d->pop].kind != RT_POP_NEURON || !d->file
        || d->every < 1 || d->var < 0 || d->var >= m->pops[d->pop].nstates || d->var2 < 0
        || d->var2 >= m->pops[d->pop].nstates)
        return rt_err(err, RT_E_INVALID, "model descriptor: recording %d: balance needs a "
                      "neuron population, two state indices, a window >= 1 and a file", k);
    return RT_OK;
}

/* ---- opening ---- */

static RtErrorCode bal_nomem(RtError *err) {
    return rt_err(err, RT_E_NOMEM, "out of memory");
}

static RtErrorCode open_one(RtSim *s, Bal *b, const RtRecDesc *d, RtError *err) {
    int64_t size = s->pops[d->pop].size;
    b->d = d;
    b->begin = d->begin < 0 ? 0 : d->begin > size ? size : d->begin;
    b->end = d->end < 0 || d->end > size ? size : d->end;
    if (b->end < b->begin)
        b->end = b->begin;
    b->window = d->every;
    size_t n = (size_t)(b->end - b->begin + 1);
    double **a[] = {&b->me, &b->mi, &b->m2e, &b->m2i, &b->cei};
    for (int k = 0; k < 5; k++)
        if (!(*a[k] = rt_alloc(n * sizeof(double))))
            return bal_nomem(err);
    if (!(b->row = rt_alloc(4 * n * sizeof(double))))
        return bal_nomem(err);
    char path[800];
    int w = snprintf(path, sizeof path, "%s/%s", s->out_dir, d->file);
    if (w < 0 || (size_t)w >= sizeof path)
        return rt_err(err, RT_E_INVALID, "recording path too long: %s/%s", s->out_dir, d->file);
    int64_t cols = b->end - b->begin;
    return rt_npy_open(&b->npy, path, BAL_DESCR, cols ? cols : 1, (size_t)(cols ? cols : 1) * 32,
                       err);
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

/* Window statistics of neuron slot j into row[4j..4j+3]. */
static void window_output(const Bal *b, int64_t j) {
    double *o = b->row + 4 * j;
    o[0] = b->me[j];
    o[1] = b->mi[j];
    o[2] = -b->mi[j] / b->me[j];
    double sd = sqrt(b->m2e[j]) * sqrt(b->m2i[j]);
    o[3] = sd > 0 ? -b->cei[j] / sd : NAN;   /* corr(I_E, -I_I) = -cov(I_E, I_I)/sd */
}

/* Welford's update of the recorded neurons of [lo, hi) with the samples of
 * `step`; at the window's last step, the window's outputs. */
static void bal_step(RtSim *s, Bal *b, RtStep step, int64_t lo, int64_t hi) {
    if (lo < b->begin) lo = b->begin;
    if (hi > b->end) hi = b->end;
    const RtPop *pop = &s->pops[b->d->pop];
    const double *xe = pop->state[b->d->var], *xi = pop->state[b->d->var2];
    const float *fe = pop->f32 ? (const float *)(const void *)xe : NULL;   /* RT_PREC_F32 */
    const float *fi = pop->f32 ? (const float *)(const void *)xi : NULL;
    int64_t n = step % b->window + 1;   /* samples in the window, this one included */
    double dn = (double)n;
    for (int64_t i = lo; i < hi; i++) {
        int64_t j = i - b->begin;
        double e = fe ? (double)fe[i] : xe[i], x = fi ? (double)fi[i] : xi[i];
        if (n == 1) {   /* a new window: exact first values, no rounding via the old mean */
            b->me[j] = e, b->mi[j] = x;
            b->m2e[j] = b->m2i[j] = b->cei[j] = 0;
        } else {
            double de = e - b->me[j], di = x - b->mi[j];
            b->me[j] += de / dn;
            b->mi[j] += di / dn;
            b->m2e[j] += de * (e - b->me[j]);
            b->m2i[j] += di * (x - b->mi[j]);
            b->cei[j] += de * (x - b->mi[j]);
        }
        if (n == b->window)
            window_output(b, j);
    }
}

void rt_bal_after_update(RtBalSet *b, RtSim *s, int p, RtStep step, int64_t lo, int64_t hi) {
    for (int k = 0; k < b->nbal; k++)
        if (b->bal[k].d->pop == p)
            bal_step(s, &b->bal[k], step, lo, hi);
}

int rt_bal_holds(const RtBalSet *b, RtStep step) {
    for (int k = 0; k < b->nbal; k++)
        if ((step + 1) % b->bal[k].window == 0)
            return 1;
    return 0;
}

RtErrorCode rt_bal_write(RtBalSet *b, RtStep step, RtStep flush, RtError *err) {
    RtErrorCode rc = RT_OK;
    for (int k = 0; rc == RT_OK && k < b->nbal; k++) {
        Bal *x = &b->bal[k];
        if ((step + 1) % x->window == 0 && x->end > x->begin)
            rc = rt_npy_append(&x->npy, x->row, 1, err);
    }
    for (int k = 0; rc == RT_OK && (step + 1) % flush == 0 && k < b->nbal; k++)
        rc = rt_npy_flush(&b->bal[k].npy, err);
    return rc;
}

/* ---- manifest, close, free ---- */

static void json_name(FILE *f, const char *s) {
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

void rt_bal_manifest(FILE *f, const RtSim *s, const RtBalSet *b, int k) {
    const RtRecDesc *d = &s->m->recs[k];
    const RtPopDesc *pd = &s->m->pops[d->pop];
    int i = b && b->of_rec ? b->of_rec[k] : -1;
    const Bal *x = i >= 0 ? &b->bal[i] : NULL;
    fprintf(f, "{\"file\": ");
    json_name(f, d->file);
    fprintf(f, ", \"kind\": \"balance\", \"population\": ");
    json_name(f, pd->name);
    fprintf(f, ", \"neurons\": [%lld, %lld], \"window_s\": %.17g, \"windows\": %lld, "
            "\"variables\": [\"I_E\", \"I_I\", \"ratio\", \"corr\"], \"units\": [",
            (long long)(x ? x->begin : 0), (long long)(x ? x->end : 0),
            (double)d->every * s->dt, (long long)(s->now / d->every));
    json_name(f, pd->states[d->var].unit);
    fprintf(f, ", ");
    json_name(f, pd->states[d->var2].unit);
    fprintf(f, ", \"1\", \"1\"], \"dtype\": \"%s\", \"shape\": \"[windows, neurons]\"}",
            BAL_DESCR);
}

RtErrorCode rt_bal_close(RtBalSet *b, RtError *err) {
    RtErrorCode rc = RT_OK;
    for (int k = 0; b && k < b->nbal; k++) {
        RtErrorCode r = rt_npy_close(&b->bal[k].npy, rc ? NULL : err);
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
        rt_free(x->me); rt_free(x->mi); rt_free(x->m2e); rt_free(x->m2i); rt_free(x->cei);
        rt_free(x->row);
    }
    rt_free(b->bal);
    rt_free(b->of_rec);
    rt_free(b);
}
