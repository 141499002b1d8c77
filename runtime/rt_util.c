/* rt_util.c - allocation hook with fault injection, error formatting, clock.
 * The one place where libeicrt calls malloc (see rt_util.h). */
#include "rt_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long fail_after = -1;   /* allocations left before failing; < 0: never */
static long alloc_count;

/* Returns 1 when the fault injector says this allocation must fail. */
static int should_fail(void) {
    alloc_count++;
    if (fail_after < 0)
        return 0;
    if (fail_after == 0)
        return 1;
    fail_after--;
    return 0;
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

void rt_alloc_fail_after(long n) { fail_after = n; }

long rt_alloc_count(void) { return alloc_count; }

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
