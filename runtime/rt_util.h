/* rt_util.h - allocation hook, error formatting and JSON strings shared by the runtime.
 *
 * Every allocation of libeicrt goes through rt_alloc/rt_realloc so that tests
 * can make the n-th allocation fail (rt_alloc_fail_after) and check that each
 * failure surfaces as RT_E_NOMEM instead of a crash.
 */
#ifndef EIC_RT_UTIL_H
#define EIC_RT_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rt_abi.h"

/* Zeroed memory aligned to RT_ALIGN bytes, or NULL. Free with rt_free. */
void *rt_alloc(size_t size);
/* Like realloc (no alignment promise beyond malloc's), or NULL. */
void *rt_realloc(void *p, size_t size);
void rt_free(void *p);

/* Test hook: after `n` more successful allocations every allocation fails;
 * n < 0 switches failures off. Thread-safe (atomic counters). */
void rt_alloc_fail_after(long n);
/* Number of allocations attempted since the process started. */
long rt_alloc_count(void);

/* `n` arrays of `len` elements of `elem` bytes each (zeroed, aligned), one
 * extra NULL slot at the end. On failure an entry (or the result) is NULL:
 * check with rt_arrays_ok, free with rt_arrays_free in every case. */
double **rt_arrays_alloc(int n, int64_t len, size_t elem);
int rt_arrays_ok(double **a, int n);
void rt_arrays_free(double **a, int n);

/* Formats a message into *e (if e is not NULL), sets its code, returns code. */
RtErrorCode rt_err(RtError *e, RtErrorCode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes s as a JSON string literal (quotes, backslashes and control
 * characters escaped; NULL as ""), for the manifests. */
void rt_json_str(FILE *f, const char *s);

/* Monotonic wall time in seconds. */
double rt_now_s(void);

#endif
