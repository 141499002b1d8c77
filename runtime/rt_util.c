/* rt_util.c - allocation hook with fault injection, error formatting, clock,
 * JSON strings.
 * The one place where libeicrt calls malloc (see rt_util.h). */
#include "rt_util.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Atomic: connectivity builders allocate from several threads. */
static atomic_long fail_after = -1;   /* allocations left before failing; < 0: never */
static atomic_long alloc_count;

/* Returns 1 when the fault injector says this allocation must fail. */
static int should_fail(void) {
    atomic_fetch_add(&alloc_count, 1);
    long left = atomic_load(&fail_after);
    while (left > 0 && !atomic_compare_exchange_weak(&fail_after, &left, left - 1))
        ;
    return left == 0;
}

void *rt_alloc(size_t size) {
    if (should_fail())
        return NULL;
    /* aligned_alloc wants a multiple of the alignment */
    size_t n = (size + RT_ALIGN - 1) / RT_ALIGN * RT_ALIGN;
    if (n == 0)
        n = RT_ALIGN;
    void *p = aligned_alloc(RT_ALIGN, n);
    if (p)
        memset(p, 0, n);
    return p;
}

void *rt_realloc(void *p, size_t size) {
    if (should_fail())
        return NULL;
    return realloc(p, size ? size : 1);
}

void rt_free(void *p) { free(p); }

void rt_alloc_fail_after(long n) { atomic_store(&fail_after, n < 0 ? -1 : n); }

long rt_alloc_count(void) { return atomic_load(&alloc_count); }

RtErrorCode rt_err(RtError *e, RtErrorCode code, const char *fmt, ...) {
    if (!e)
        return code;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return code;
}

double rt_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double **rt_arrays_alloc(int n, int64_t len, size_t elem) {
    double **a = rt_alloc((size_t)(n + 1) * sizeof *a);
    for (int k = 0; a && k < n; k++)
        if (!(a[k] = rt_alloc((size_t)len * elem)))
            return a;   /* the caller sees the NULL entry */
    return a;
}

int rt_arrays_ok(double **a, int n) {
    if (!a)
        return 0;
    for (int k = 0; k < n; k++)
        if (!a[k])
            return 0;
    return 1;
}

void rt_arrays_free(double **a, int n) {
    for (int k = 0; a && k < n; k++)
        rt_free(a[k]);
    rt_free(a);
}

void rt_json_str(FILE *f, const char *s) {
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
