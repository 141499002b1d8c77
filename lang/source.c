/* source.c - loading source files and mapping offsets to lines; see source.h. */
#include "source.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

void src_init(SourceSet *s, Arena *a) {
    s->arena = a;
    s->cap = 8;
    s->files = ARENA_ARRAY(a, SrcFile, s->cap);
    s->nfiles = 1; /* index 0: no file */
    s->files[0].path = "<none>";
    s->files[0].text = "";
}

uint32_t src_add(SourceSet *s, const char *path, const char *text, size_t len) {
    if (s->nfiles == s->cap) {
        s->files = arena_grow(s->arena, s->files, s->nfiles, s->cap * 2, sizeof(SrcFile));
        s->cap *= 2;
    }
    SrcFile *f = &s->files[s->nfiles];
    f->path = arena_strdup(s->arena, path);
    f->text = arena_strndup(s->arena, text, len);
    f->len = len;
    return s->nfiles++;
}

uint32_t src_load(SourceSet *s, const char *path, const char **err) {
    struct stat st;
    if (stat(path, &st) != 0) {
        *err = arena_printf(s->arena, "cannot open '%s': %s", path, strerror(errno));
        return 0;
    }
    if (S_ISDIR(st.st_mode)) {
        *err = arena_printf(s->arena, "'%s' is a directory, not a model file", path);
        return 0;
    }
    if (!S_ISREG(st.st_mode)) {
        *err = arena_printf(s->arena, "'%s' is not a regular file", path);
        return 0;
    }
    if ((unsigned long long)st.st_size > SRC_MAX_FILE_BYTES) {
        *err = arena_printf(s->arena, "'%s' is too large (%lld bytes; the limit is %u)", path,
                            (long long)st.st_size, SRC_MAX_FILE_BYTES);
        return 0;
    }
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        *err = arena_printf(s->arena, "cannot open '%s': %s", path, strerror(errno));
        return 0;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = arena_alloc(s->arena, cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - 1 - n, fp)) > 0) {
        n += got;
        if (n == cap - 1) break;
    }
    int failed = ferror(fp);
    fclose(fp);
    if (failed) {
        *err = arena_printf(s->arena, "cannot read '%s': %s", path, strerror(errno));
        return 0;
    }
    return src_add(s, path, buf, n);
}

uint32_t src_find(const SourceSet *s, const char *path) {
    for (uint32_t i = 1; i < s->nfiles; i++)
        if (strcmp(s->files[i].path, path) == 0) return i;
    return 0;
}

static void compute_lines(SourceSet *s, SrcFile *f) {
    uint32_t n = 1;
    for (size_t i = 0; i < f->len; i++)
        if (f->text[i] == '\n') n++;
    f->line_starts = ARENA_ARRAY(s->arena, uint32_t, n + 1);
    uint32_t k = 0;
    f->line_starts[k++] = 0;
    for (size_t i = 0; i < f->len; i++)
        if (f->text[i] == '\n') f->line_starts[k++] = (uint32_t)i + 1;
    f->line_starts[k] = (uint32_t)f->len + 1; /* sentinel */
    f->nlines = n;
}

void src_line_col(SourceSet *s, uint32_t file, uint32_t offset, uint32_t *line, uint32_t *col) {
    SrcFile *f = &s->files[file < s->nfiles ? file : 0];
    if (!f->line_starts) compute_lines(s, f);
    if (offset > f->len) offset = (uint32_t)f->len;
    uint32_t lo = 0, hi = f->nlines - 1; /* last line start <= offset */
    while (lo < hi) {
        uint32_t mid = (lo + hi + 1) / 2;
        if (f->line_starts[mid] <= offset) lo = mid;
        else hi = mid - 1;
    }
    *line = lo + 1;
    *col = offset - f->line_starts[lo] + 1;
}

const char *src_line_text(SourceSet *s, uint32_t file, uint32_t line, size_t *len) {
    SrcFile *f = &s->files[file < s->nfiles ? file : 0];
    if (!f->line_starts) compute_lines(s, f);
    if (line < 1 || line > f->nlines) {
        *len = 0;
        return "";
    }
    uint32_t start = f->line_starts[line - 1];
    uint32_t end = f->line_starts[line] - 1; /* the newline, or len */
    if (end > f->len) end = (uint32_t)f->len;
    if (end > start && f->text[end - 1] == '\r') end--;
    *len = end - start;
    return f->text + start;
}

SrcSpan src_span_join(SrcSpan a, SrcSpan b) {
    if (a.file != b.file || b.file == 0) return a;
    if (a.file == 0) return b;
    uint32_t lo = a.offset < b.offset ? a.offset : b.offset;
    uint32_t ae = a.offset + a.len, be = b.offset + b.len;
    uint32_t hi = ae > be ? ae : be;
    return (SrcSpan){a.file, lo, hi - lo};
}
