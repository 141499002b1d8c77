/* rt_npy.c - .npy writer (incremental, always loadable) and reader.
 * Format: numpy's NEP 1 / format version 1.0, little-endian data. */
#include "rt_npy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rt_util.h"

#define NPY_BUF_BYTES (1u << 20)   /* flush after this many pending bytes */

/* Formats the header (magic, version, length, dict, padding) into h, of
 * exactly `total` bytes. Returns 0 if the dict does not fit. */
static int format_header(const RtNpy *w, char *h, long total) {
    char dict[256];
    int n;
    if (w->cols)
        n = snprintf(dict, sizeof dict, "{'descr': %s, 'fortran_order': False, 'shape': (%20lld, %lld), }",
                     w->descr, (long long)w->rows, (long long)w->cols);
    else
        n = snprintf(dict, sizeof dict, "{'descr': %s, 'fortran_order': False, 'shape': (%20lld,), }",
                     w->descr, (long long)w->rows);
    if (n < 0 || n + 11 > total || n >= (int)sizeof dict)
        return 0;
    memcpy(h, "\x93NUMPY\x01\x00", 8);
    unsigned hl = (unsigned)(total - 10);
    h[8] = (char)(hl & 0xff);
    h[9] = (char)(hl >> 8);
    memset(h + 10, ' ', (size_t)(total - 10));
    memcpy(h + 10, dict, (size_t)n);
    h[total - 1] = '\n';
    return 1;
}

static RtErrorCode io_error(RtNpy *w, RtError *err, const char *what) {
    return rt_err(err, RT_E_IO, "cannot %s '%s': %s", what, w->path, strerror(errno));
}

/* Rewrites the header in place and returns to the end of the file. */
static RtErrorCode write_header(RtNpy *w, RtError *err) {
    char h[256];
    if (!format_header(w, h, w->header_len))
        return rt_err(err, RT_E_INVALID, "npy header of '%s' too long", w->path);
    if (fseek(w->f, 0, SEEK_SET) != 0 || fwrite(h, 1, (size_t)w->header_len, w->f) != (size_t)w->header_len)
        return io_error(w, err, "write");
    if (fseek(w->f, 0, SEEK_END) != 0)
        return io_error(w, err, "seek in");
    return RT_OK;
}

RtErrorCode rt_npy_open(RtNpy *w, const char *path, const char *descr, int64_t cols,
                        size_t rowbytes, RtError *err) {
    memset(w, 0, sizeof *w);
    /* whole rows only; a row wider than the buffer gets a buffer of one row */
    w->bufcap = NPY_BUF_BYTES / rowbytes * rowbytes;
    if (w->bufcap == 0)
        w->bufcap = rowbytes;
    size_t pl = strlen(path) + 1;
    w->path = rt_realloc(NULL, pl);
    w->buf = rt_realloc(NULL, w->bufcap);
    if (!w->path || !w->buf) {
        rt_free(w->path); rt_free(w->buf);
        w->path = NULL; w->buf = NULL;
        return rt_err(err, RT_E_NOMEM, "out of memory opening '%s'", path);
    }
    memcpy(w->path, path, pl);
    snprintf(w->descr, sizeof w->descr, "%s", descr);
    w->cols = cols;
    w->rowbytes = rowbytes;
    char tmp[256];
    w->header_len = format_header(w, tmp, 128) ? 128 : 256;
    w->f = fopen(path, "wb");
    if (!w->f)
        return io_error(w, err, "create");
    RtErrorCode rc = write_header(w, err);
    if (rc == RT_OK && fflush(w->f) != 0)   /* a full disk shows up now, not at the end */
        rc = io_error(w, err, "write");
    return rc;
}

RtErrorCode rt_npy_flush(RtNpy *w, RtError *err) {
    if (!w->f)
        return RT_OK;
    if (w->bufn) {
        if (fwrite(w->buf, 1, w->bufn, w->f) != w->bufn)
            return io_error(w, err, "write");
        /* the data must reach the file before the header claims them */
        if (fflush(w->f) != 0)
            return io_error(w, err, "write");
        w->rows += (int64_t)(w->bufn / w->rowbytes);
        w->bufn = 0;
    }
    RtErrorCode rc = write_header(w, err);
    if (rc == RT_OK && fflush(w->f) != 0)
        return io_error(w, err, "write");
    return rc;
}

RtErrorCode rt_npy_append(RtNpy *w, const void *rows, int64_t n, RtError *err) {
    const unsigned char *p = rows;
    size_t left = (size_t)n * w->rowbytes;
    while (left) {
        size_t room = w->bufcap > w->bufn ? w->bufcap - w->bufn : 0;
        if (room == 0) {
            RtErrorCode rc = rt_npy_flush(w, err);
            if (rc)
                return rc;
            continue;
        }
        if (room > left)
            room = left;
        if (room > w->rowbytes && room % w->rowbytes)
            room -= room % w->rowbytes;
        memcpy(w->buf + w->bufn, p, room);
        w->bufn += room;
        p += room;
        left -= room;
    }
    return RT_OK;
}

RtErrorCode rt_npy_close(RtNpy *w, RtError *err) {
    RtErrorCode rc = RT_OK;
    if (w->f) {
        rc = rt_npy_flush(w, err);
        if (fclose(w->f) != 0 && rc == RT_OK)
            rc = io_error(w, err, "close");
        w->f = NULL;
    }
    rt_free(w->buf);
    rt_free(w->path);
    w->buf = NULL;
    w->path = NULL;
    return rc;
}

/* ---- reader ---- */

/* Extracts the value text after `'key':` into out (up to the closing
 * quote, bracket or parenthesis). Returns 0 if absent. */
static int dict_value(const char *dict, const char *key, char *out, size_t n) {
    const char *p = strstr(dict, key);
    if (!p)
        return 0;
    p = strchr(p + strlen(key), ':');
    if (!p)
        return 0;
    p++;
    while (*p == ' ')
        p++;
    char close = *p == '(' ? ')' : *p == '[' ? ']' : *p == '\'' ? '\'' : ',';
    const char *e = strchr(p + 1, close);
    if (!e)
        return 0;
    size_t len = (size_t)(e - p) + (close == ',' ? 0 : 1);
    if (len >= n)
        return 0;
    memcpy(out, p, len);
    out[len] = 0;
    return 1;
}

RtErrorCode rt_npy_parse_header(FILE *f, char *descr, size_t descr_size, int64_t *rows,
                                int64_t *cols, long *header_len, RtError *err) {
    unsigned char pre[12];
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0)
        return rt_err(err, RT_E_IO, "not a .npy file");
    long hl = pre[8] | (long)pre[9] << 8, start = 10;
    if (pre[6] >= 2) {
        if (fread(pre + 10, 1, 2, f) != 2)
            return rt_err(err, RT_E_IO, "truncated .npy header");
        hl |= (long)pre[10] << 16 | (long)pre[11] << 24;
        start = 12;
    }
    char dict[4096], shape[256];
    if (hl <= 0 || hl >= (long)sizeof dict || fread(dict, 1, (size_t)hl, f) != (size_t)hl)
        return rt_err(err, RT_E_IO, "bad .npy header");
    dict[hl] = 0;
    if (!dict_value(dict, "'descr'", descr, descr_size) || !dict_value(dict, "'shape'", shape, sizeof shape))
        return rt_err(err, RT_E_IO, "bad .npy header: %s", dict);
    if (strstr(dict, "'fortran_order': True"))
        return rt_err(err, RT_E_UNSUPPORTED, "fortran-order .npy not supported");
    long long r = 0, c = 0;
    int n = sscanf(shape, " ( %lld , %lld", &r, &c);
    *rows = n >= 1 ? r : 1;   /* "()" is a scalar: one row */
    *cols = n >= 2 ? c : 0;
    *header_len = start + hl;
    return RT_OK;
}

/* Converts one element of dtype `t` at p to double. */
static double elem_to_double(const char *t, const unsigned char *p) {
    if (!strcmp(t, "'<f8'")) { double v; memcpy(&v, p, 8); return v; }
    if (!strcmp(t, "'<f4'")) { float v; memcpy(&v, p, 4); return v; }
    if (!strcmp(t, "'<i4'")) { int32_t v; memcpy(&v, p, 4); return v; }
    if (!strcmp(t, "'<u4'")) { uint32_t v; memcpy(&v, p, 4); return v; }
    if (!strcmp(t, "'<i8'")) { int64_t v; memcpy(&v, p, 8); return (double)v; }
    uint64_t v; memcpy(&v, p, 8); return (double)v;
}

static size_t dtype_size(const char *t) {
    static const char *const types[] = {"'<f8'", "'<f4'", "'<i4'", "'<u4'", "'<i8'", "'<u8'"};
    static const size_t sizes[] = {8, 4, 4, 4, 8, 8};
    for (int i = 0; i < 6; i++)
        if (!strcmp(t, types[i]))
            return sizes[i];
    return 0;
}

RtErrorCode rt_npy_read(const char *path, double **data, int64_t *rows, int64_t *cols,
                        RtError *err) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return rt_err(err, RT_E_IO, "cannot open '%s': %s", path, strerror(errno));
    char descr[64];
    long hl;
    RtErrorCode rc = rt_npy_parse_header(f, descr, sizeof descr, rows, cols, &hl, err);
    size_t es = rc ? 0 : dtype_size(descr);
    if (rc == RT_OK && !es)
        rc = rt_err(err, RT_E_UNSUPPORTED, "'%s': dtype %s not supported", path, descr);
    if (rc) {
        fclose(f);
        return rc;
    }
    if (*cols == 0)
        *cols = 1;
    size_t n = (size_t)(*rows * *cols);
    unsigned char *raw = rt_realloc(NULL, n * es);
    *data = rt_alloc(n * sizeof(double));
    if (!raw || !*data) {
        rc = rt_err(err, RT_E_NOMEM, "out of memory reading '%s'", path);
    } else if (fread(raw, es, n, f) != n) {
        rc = rt_err(err, RT_E_IO, "'%s' is truncated", path);
    } else {
        for (size_t i = 0; i < n; i++)
            (*data)[i] = elem_to_double(descr, raw + i * es);
    }
    rt_free(raw);
    if (rc) {
        rt_free(*data);
        *data = NULL;
    }
    fclose(f);
    return rc;
}

/* ---- CSV tables ---- */

/* Parses the numbers of one CSV line into vals (up to max). Returns the count,
 * or -1 if the line holds something that is not a number. */
static int parse_csv_line(const char *line, double *vals, int max) {
    int n = 0;
    const char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',' || *p == '\r' || *p == '\n')
            p++;
        if (!*p || *p == '#')
            return n;
        char *end;
        double v = strtod(p, &end);
        if (end == p || n == max)
            return -1;
        vals[n++] = v;
        p = end;
    }
}

/* Appends one row of `cols` values to the growing table. */
static int table_push(double **data, int64_t *cap, int64_t rows, int cols, const double *v) {
    if ((rows + 1) * cols > *cap) {
        int64_t nc = *cap ? *cap * 2 : 1024;
        double *nd = rt_realloc(*data, (size_t)nc * sizeof(double));
        if (!nd)
            return 0;
        *data = nd;
        *cap = nc;
    }
    memcpy(*data + rows * cols, v, (size_t)cols * sizeof(double));
    return 1;
}

static RtErrorCode csv_read(const char *path, double **data, int64_t *rows, int64_t *cols,
                            RtError *err) {
    FILE *f = fopen(path, "r");
    if (!f)
        return rt_err(err, RT_E_IO, "cannot open '%s': %s", path, strerror(errno));
    char line[1024];
    double v[16];
    int64_t cap = 0, lineno = 0;
    RtErrorCode rc = RT_OK;
    *data = NULL; *rows = 0; *cols = 0;
    while (rc == RT_OK && fgets(line, sizeof line, f)) {
        lineno++;
        int n = parse_csv_line(line, v, 16);
        if (n < 0 && *rows == 0 && *cols == 0)
            continue;            /* a header line */
        if (n == 0)
            continue;
        if (n < 0 || (*cols && n != *cols))
            rc = rt_err(err, RT_E_INVALID, "%s:%lld: expected %lld numbers", path,
                        (long long)lineno, (long long)(*cols ? *cols : 1));
        else if (!table_push(data, &cap, *rows, n, v))
            rc = rt_err(err, RT_E_NOMEM, "out of memory reading '%s'", path);
        else {
            *cols = n;
            (*rows)++;
        }
    }
    if (rc == RT_OK && ferror(f))
        rc = rt_err(err, RT_E_IO, "cannot read '%s': %s", path, strerror(errno));
    fclose(f);
    if (rc) {
        rt_free(*data);
        *data = NULL;
    }
    return rc;
}

RtErrorCode rt_table_read(const char *path, double **data, int64_t *rows, int64_t *cols,
                          RtError *err) {
    size_t n = strlen(path);
    if (n > 4 && !strcmp(path + n - 4, ".npy"))
        return rt_npy_read(path, data, rows, cols, err);
    return csv_read(path, data, rows, cols, err);
}
