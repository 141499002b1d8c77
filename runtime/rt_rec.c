/* rt_rec.c - recordings (spikes, state samples, population rates) written
 * incrementally as .npy files, and DIR/manifest.json describing the run.
 *
 * Sampling rules: a state recording's row k holds the values at
 * t = k*every*dt (row 0: initial values, then after each `every` steps);
 * a rate recording's element k is the mean rate of the recorded neurons over
 * [k*every*dt, (k+1)*every*dt); a spike at step s has time s*dt.
 * State recordings of an RT_PREC_F32 population are float32 ('<f4'): the
 * stored values exactly, at half the bytes (rt_abi.h, RT_PREC_F32).
 * A probe recording's (ABI v5) row k holds the probe of step k*every, which
 * the population's probe kernel computes before that step's update, over the
 * recorded neurons only (rt_rec_probe, thread phase); float64 always (a float
 * kernel's values widened exactly).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rt_ei.h"
#include "rt_sim.h"
#include "rt_util.h"

#define REC_FLUSH_STEPS 10000  /* flush all files at least this often */

static const char *kind_name(RtRecKind k) {
    return k == RT_REC_SPIKES ? "spikes" : k == RT_REC_STATE ? "state" : k == RT_REC_PROBE ? "probe"
                                                                          : "rate";
}

/* RT_REC_PROBE: the row buffer and the per-part out[] arrays. */
static RtErrorCode open_probe(RtSim *s, RtRecRt *r, RtError *err) {
    int64_t cols = r->end - r->begin;
    int np = s->pops[r->d->pop].d->nprobes;
    r->row = rt_alloc((size_t)(cols ? cols : 1) * sizeof(double));
    r->outs = rt_alloc((size_t)s->nthreads * (size_t)np * sizeof *r->outs);
    if (!r->row || !r->outs)
        return rt_err(err, RT_E_NOMEM, "out of memory");
    s->probed = 1;
    return rt_npy_open(&r->npy, r->file, "'<f8'", cols, (size_t)(cols ? cols : 1) * 8, err);
}

/* Address of neuron `begin` of state `var`: a row of doubles, or of
 * floats for an RT_PREC_F32 population. */
static const void *state_row(const RtPop *pop, int var, int64_t begin) {
    if (pop->f32)
        return (const float *)(const void *)pop->state[var] + begin;
    return pop->state[var] + begin;
}

/* Opens one recording file and writes what exists at t = 0. */
static RtErrorCode open_one(RtSim *s, RtRecRt *r, RtError *err) {
    const RtRecDesc *d = r->d;
    if (d->kind == RT_REC_BALANCE || d->kind == RT_REC_WEIGHTS)
        return RT_OK;   /* ABI v3: rt_ei.c opens and writes them */
    const RtPop *pop = &s->pops[d->pop];
    r->begin = d->begin < 0 ? 0 : d->begin;
    r->end = d->end < 0 || d->end > pop->size ? pop->size : d->end;
    if (r->begin > r->end)
        r->begin = r->end;
    int n = snprintf(r->file, sizeof r->file, "%s/%s", s->out_dir, d->file);
    if (n < 0 || n >= (int)sizeof r->file)
        return rt_err(err, RT_E_INVALID, "recording path too long: %s/%s", s->out_dir, d->file);
    if (d->kind == RT_REC_SPIKES)
        return rt_npy_open(&r->npy, r->file, "[('t', '<f8'), ('i', '<i4')]", 0, 12, err);
    if (d->kind == RT_REC_RATE)
        return rt_npy_open(&r->npy, r->file, "'<f8'", 0, 8, err);
    if (d->kind == RT_REC_PROBE)
        return open_probe(s, r, err);
    int64_t cols = r->end - r->begin;
    size_t elem = pop->f32 ? 4 : 8;
    RtErrorCode rc = rt_npy_open(&r->npy, r->file, pop->f32 ? "'<f4'" : "'<f8'", cols,
                                 (size_t)(cols ? cols : 1) * elem, err);
    if (rc == RT_OK && cols)
        rc = rt_npy_append(&r->npy, state_row(pop, d->var, r->begin), 1, err);
    return rc;
}

RtErrorCode rt_rec_open(RtSim *s, RtError *err) {
    s->recs = rt_alloc((size_t)(s->m->nrecs + 1) * sizeof *s->recs);
    if (!s->recs)
        return rt_err(err, RT_E_NOMEM, "out of memory");
    if (!s->out_dir)
        return RT_OK;
    for (int k = 0; k < s->m->nrecs; k++) {
        s->recs[k].d = &s->m->recs[k];
        RtErrorCode rc = open_one(s, &s->recs[k], err);
        if (rc)
            return rc;
    }
    return rt_rec_manifest(s, &(RtTimings){0}, 0, err);
}

/* Appends the spikes of `step` in [begin, end) as (t, i) records. */
static RtErrorCode rec_spikes(RtSim *s, RtRecRt *r, RtStep step, RtError *err) {
    const RtPop *pop = &s->pops[r->d->pop];
    int slot = (int)(step % pop->hist_len);
    const uint32_t *spk = pop->hist[slot];
    int64_t n = pop->hist_n[slot], m = 0;
    unsigned char buf[12 * 256];
    double t = (double)step * s->dt;
    for (int64_t k = 0; k < n; k++) {
        if (spk[k] < r->begin || spk[k] >= r->end)
            continue;
        int32_t i = (int32_t)spk[k];
        memcpy(buf + 12 * m, &t, 8);
        memcpy(buf + 12 * m + 8, &i, 4);
        if (++m == 256) {
            RtErrorCode rc = rt_npy_append(&r->npy, buf, m, err);
            if (rc)
                return rc;
            m = 0;
        }
    }
    return m ? rt_npy_append(&r->npy, buf, m, err) : RT_OK;
}

static RtErrorCode rec_rate(RtSim *s, RtRecRt *r, RtStep step, RtError *err) {
    const RtPop *pop = &s->pops[r->d->pop];
    int slot = (int)(step % pop->hist_len);
    if (r->begin == 0 && r->end == pop->size)
        r->bin_count += pop->hist_n[slot];
    else
        for (int64_t k = 0; k < pop->hist_n[slot]; k++)
            r->bin_count += pop->hist[slot][k] >= r->begin && pop->hist[slot][k] < r->end;
    if ((step + 1) % r->d->every)
        return RT_OK;
    double n = (double)(r->end - r->begin);
    double rate = n > 0 ? (double)r->bin_count / (n * (double)r->d->every * s->dt) : 0;
    r->bin_count = 0;
    return rt_npy_append(&r->npy, &rate, 1, err);
}

/* RT_REC_PROBE: 1 if recording r has a row in `step` (step k*every). */
static int probe_due(const RtRecRt *r, RtStep step) {
    return r->d->kind == RT_REC_PROBE && step % r->d->every == 0 && r->end > r->begin;
}

void rt_rec_probe(RtSim *s, int p, int t, RtPopArgs *args, RtStep step, int64_t lo, int64_t hi) {
    for (int k = 0; s->out_dir && k < s->m->nrecs; k++) {
        RtRecRt *r = &s->recs[k];
        if (r->d->pop != p || !probe_due(r, step))
            continue;
        int64_t a = lo > r->begin ? lo : r->begin, b = hi < r->end ? hi : r->end;
        if (a >= b)
            continue;
        const RtPopDesc *pd = s->pops[p].d;
        double **out = r->outs + (size_t)t * (size_t)pd->nprobes;   /* the others stay NULL */
        out[r->d->var] = r->row + (a - r->begin);
        pd->probe(args, a, b, out);
    }
}

int rt_rec_reads_state(const RtSim *s, RtStep step) {
    if (!s->out_dir)
        return 0;
    for (int k = 0; k < s->m->nrecs; k++) {
        const RtRecRt *r = &s->recs[k];
        if (r->d->kind == RT_REC_STATE && (step + 1) % r->d->every == 0 && r->end > r->begin)
            return 1;
        if (probe_due(r, step))
            return 1;
    }
    return 0;
}

RtErrorCode rt_rec_step(RtSim *s, RtStep step, RtError *err) {
    if (!s->out_dir)
        return RT_OK;
    RtErrorCode rc = RT_OK;
    for (int k = 0; rc == RT_OK && k < s->m->nrecs; k++) {
        RtRecRt *r = &s->recs[k];
        if (r->d->kind == RT_REC_SPIKES)
            rc = rec_spikes(s, r, step, err);
        else if (r->d->kind == RT_REC_RATE)
            rc = rec_rate(s, r, step, err);
        else if (r->d->kind == RT_REC_STATE && (step + 1) % r->d->every == 0 && r->end > r->begin)
            rc = rt_npy_append(&r->npy, state_row(&s->pops[r->d->pop], r->d->var, r->begin), 1, err);
        else if (probe_due(r, step))
            rc = rt_npy_append(&r->npy, r->row, 1, err);
    }
    if (rc == RT_OK && (step + 1) % REC_FLUSH_STEPS == 0)
        rc = rt_rec_flush(s, err);
    if (rc && err) {   /* name the time: the file and cause are in the message */
        char why[sizeof err->msg];
        memcpy(why, err->msg, sizeof why);
        rt_err(err, rc, "at t = %.6g s: %.400s", (double)step * s->dt, why);
    }
    return rc;
}

RtErrorCode rt_rec_flush(RtSim *s, RtError *err) {
    for (int k = 0; s->out_dir && k < s->m->nrecs; k++) {
        RtErrorCode rc = rt_npy_flush(&s->recs[k].npy, err);
        if (rc)
            return rc;
    }
    return RT_OK;
}

RtErrorCode rt_rec_close(RtSim *s, RtError *err) {
    RtErrorCode first = RT_OK;
    for (int k = 0; s->recs && k < s->m->nrecs; k++) {
        RtError e;
        RtErrorCode rc = rt_npy_close(&s->recs[k].npy, &e);
        rt_free(s->recs[k].row);   /* RT_REC_PROBE buffers */
        rt_free(s->recs[k].outs);
        s->recs[k].row = NULL;
        s->recs[k].outs = NULL;
        if (rc && !first) {
            first = rc;
            if (err)
                *err = e;
        }
    }
    return first;
}

/* ---- manifest.json ---- */

static void manifest_pops(FILE *f, const RtSim *s) {
    double simulated = (double)s->now * s->dt;
    fprintf(f, "  \"populations\": {");
    for (int p = 0; p < s->m->npops; p++) {
        const RtPop *pop = &s->pops[p];
        double rate = simulated > 0 ? (double)pop->spikes_total / ((double)pop->size * simulated) : 0;
        fprintf(f, "%s\n    ", p ? "," : "");
        rt_json_str(f, pop->d->name);
        /* "precision": the population's state arrays (rt_abi.h RT_PREC_*) */
        fprintf(f, ": {\"size\": %lld, \"spikes\": %lld, \"rate_hz\": %.17g, \"precision\": \"%s\"}",
                (long long)pop->size, (long long)pop->spikes_total, rate, pop->f32 ? "float32" : "float64");
    }
    fprintf(f, "\n  },\n");
}

/* "acceleration": the declared factor of every projection whose plasticity
 * rule runs accelerated (`with R accelerated by F`), keyed "PROJ RULE", so a
 * reader of the results sees that its slow time constants were divided by F.
 * Always present ({} when nothing is accelerated). */
static void manifest_accel(FILE *f, const RtSim *s) {
    fprintf(f, "  \"acceleration\": {");
    int n = 0;
    for (int k = 0; k < s->m->nprojs; k++) {
        const RtProjDesc *pj = &s->m->projs[k];
        if (!pj->plastic || !(pj->plastic->accel > 0)) continue;
        char key[256];
        snprintf(key, sizeof key, "%s %s", pj->name ? pj->name : "?", pj->plastic->rule ? pj->plastic->rule : "?");
        fprintf(f, "%s", n++ ? ", " : "");
        rt_json_str(f, key);
        fprintf(f, ": %.17g", pj->plastic->accel);
    }
    fprintf(f, "},\n");
}

static void manifest_recs(FILE *f, const RtSim *s) {
    fprintf(f, "  \"recordings\": [");
    for (int k = 0; k < s->m->nrecs; k++) {
        const RtRecRt *r = &s->recs[k];
        if (r->d->kind == RT_REC_BALANCE || r->d->kind == RT_REC_WEIGHTS) {
            fprintf(f, "%s\n    ", k ? "," : "");
            rt_ei_manifest_rec(f, s, k);   /* ABI v3 */
            continue;
        }
        const RtPopDesc *pd = &s->m->pops[r->d->pop];
        fprintf(f, "%s\n    {\"file\": ", k ? "," : "");
        rt_json_str(f, r->d->file);
        fprintf(f, ", \"kind\": \"%s\", \"population\": ", kind_name(r->d->kind));
        rt_json_str(f, pd->name);
        fprintf(f, ", \"neurons\": [%lld, %lld], \"every_s\": %.17g, ", (long long)r->begin,
                (long long)r->end, (double)r->d->every * s->dt);
        if (r->d->kind == RT_REC_STATE) {
            fprintf(f, "\"variables\": [");
            rt_json_str(f, pd->states[r->d->var].name);
            fprintf(f, "], \"units\": [");
            rt_json_str(f, pd->states[r->d->var].unit);
            fprintf(f, "], \"dtype\": \"%s\", \"shape\": \"[samples, neurons]\"}",
                    s->pops[r->d->pop].f32 ? "float32" : "float64");
        } else if (r->d->kind == RT_REC_PROBE) {   /* row k: step k*every, before its update */
            fprintf(f, "\"variables\": [");
            rt_json_str(f, pd->probes[r->d->var].name);
            fprintf(f, "], \"units\": [");
            rt_json_str(f, pd->probes[r->d->var].unit);
            fprintf(f, "], \"dtype\": \"float64\", \"shape\": \"[samples, neurons]\"}");
        } else if (r->d->kind == RT_REC_SPIKES)
            fprintf(f, "\"variables\": [\"t\", \"i\"], \"units\": [\"s\", \"1\"], "
                       "\"dtype\": \"[('t', '<f8'), ('i', '<i4')]\"}");
        else
            fprintf(f, "\"variables\": [\"rate\"], \"units\": [\"Hz\"], \"dtype\": \"float64\"}");
    }
    fprintf(f, "\n  ]\n");
}

static void manifest_body(FILE *f, const RtSim *s, const RtTimings *t, int complete) {
    fprintf(f, "{\n  \"eic_version\": ");
    rt_json_str(f, s->opt.eic_version ? s->opt.eic_version : "unknown");
    fprintf(f, ",\n  \"model\": ");
    rt_json_str(f, s->opt.model_file ? s->opt.model_file : s->m->name);
    fprintf(f, ",\n  \"network\": ");
    rt_json_str(f, s->m->name);
    fprintf(f, ",\n  \"abi_version\": %d,\n  \"seed\": %llu,\n  \"dt_s\": %.17g,\n"
               "  \"duration_s\": %.17g,\n  \"simulated_s\": %.17g,\n  \"steps\": %lld,\n"
               "  \"threads\": %d,\n  \"complete\": %s,\n  \"error\": ",
            RT_ABI_VERSION, (unsigned long long)s->seed, s->dt, (double)s->total * s->dt,
            (double)s->now * s->dt, (long long)s->now, s->nthreads, complete ? "true" : "false");
    if (s->fail.code)
        rt_json_str(f, s->fail.msg);
    else
        fprintf(f, "null");
    fprintf(f, ",\n  \"timings\": {\"parse_s\": %.6f, \"compile_s\": %.6f, \"build_s\": %.6f, "
               "\"simulate_s\": %.6f, \"total_s\": %.6f},\n",
            t->parse_s, t->compile_s, t->build_s, t->simulate_s, t->total_s);
    manifest_accel(f, s);
    manifest_pops(f, s);
    manifest_recs(f, s);
    fprintf(f, "}\n");
}

/* Writes DIR/manifest.json through a temporary file and rename, so a reader
 * never sees half a manifest. */
RtErrorCode rt_rec_manifest(RtSim *s, const RtTimings *t, int complete, RtError *err) {
    if (!s->out_dir)
        return RT_OK;
    char path[600], tmp[610];
    snprintf(path, sizeof path, "%s/manifest.json", s->out_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return rt_err(err, RT_E_IO, "cannot create '%s': %s", tmp, strerror(errno));
    manifest_body(f, s, t, complete);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return rt_err(err, RT_E_IO, "cannot write '%s': %s", tmp, strerror(errno));
    if (rename(tmp, path) != 0)
        return rt_err(err, RT_E_IO, "cannot rename '%s': %s", tmp, strerror(errno));
    return RT_OK;
}
