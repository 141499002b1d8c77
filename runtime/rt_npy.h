/* rt_npy.h - .npy files: an incremental writer for recordings and a small
 * reader for input tables (connectivity, spike times).
 *
 * The writer keeps a fixed-size header whose shape field has a fixed width;
 * after every flush the data are written first and then the header is
 * rewritten (seek) with the new row count, so a file cut off at any moment
 * loads in numpy with the rows flushed so far.
 */
#ifndef EIC_RT_NPY_H
#define EIC_RT_NPY_H

#include <stdint.h>
#include <stdio.h>

#include "rt_abi.h"

typedef struct RtNpy {
    FILE *f;
    char *path;          /* owned copy, for messages */
    char descr[64];      /* numpy dtype descr, e.g. "'<f8'" or "[('t', '<f8'), ('i', '<i4')]" */
    int64_t cols;        /* 0: 1-D file of rows; else 2-D [rows, cols] */
    size_t rowbytes;     /* bytes per row */
    int64_t rows;        /* rows on disk (in the header) */
    unsigned char *buf;  /* pending rows */
    size_t bufn, bufcap; /* bytes */
    long header_len;     /* bytes before the data */
} RtNpy;

/* Creates `path` with an empty array. `descr` is the numpy descr text. */
RtErrorCode rt_npy_open(RtNpy *w, const char *path, const char *descr, int64_t cols,
                        size_t rowbytes, RtError *err);
/* Appends n rows (n * rowbytes bytes); flushes when the buffer is full. */
RtErrorCode rt_npy_append(RtNpy *w, const void *rows, int64_t n, RtError *err);
/* Writes pending rows, then the header with the new shape, then fflush. */
RtErrorCode rt_npy_flush(RtNpy *w, RtError *err);
/* Flushes and closes; safe on a never-opened (zeroed) writer. */
RtErrorCode rt_npy_close(RtNpy *w, RtError *err);

/* Reads a 1-D or 2-D C-order .npy of dtype <f8, <f4, <i4, <i8, <u4 or <u8
 * into a new double array (rt_alloc'd, caller frees with rt_free).
 * *rows and *cols (1 for 1-D) receive the shape. */
RtErrorCode rt_npy_read(const char *path, double **data, int64_t *rows, int64_t *cols,
                        RtError *err);

/* Parses the header of a .npy file: descr text, shape (up to 2 dims; cols 0
 * for 1-D) and header length. For tests and the reader. */
RtErrorCode rt_npy_parse_header(FILE *f, char *descr, size_t descr_size, int64_t *rows,
                                int64_t *cols, long *header_len, RtError *err);

/* Reads a numeric table: `path` ending in .npy via rt_npy_read, else CSV
 * (comma or whitespace separated; blank lines, '#' comments and a first line
 * that does not start with a number are skipped). All rows must have the same
 * number of columns. Data as in rt_npy_read. */
RtErrorCode rt_table_read(const char *path, double **data, int64_t *rows, int64_t *cols,
                          RtError *err);

#endif
