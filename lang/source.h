/* source.h - source files of a session and spans into them.
 *
 * Every token and AST node carries a SrcSpan (file index, byte offset, byte
 * length). Line and column are computed only when a diagnostic is printed. */
#ifndef EIC_SOURCE_H
#define EIC_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"

typedef struct SrcSpan {
    uint32_t file;    /* index into SourceSet.files; 0 means "no file" */
    uint32_t offset;  /* byte offset of the first character */
    uint32_t len;     /* bytes covered; may be 0 */
} SrcSpan;

typedef struct SrcFile {
    const char *path;     /* as given or as found on the search path */
    const char *text;     /* contents, NUL-terminated (embedded NULs possible) */
    size_t len;           /* bytes in text, excluding the terminator */
    uint32_t *line_starts;/* offsets of line starts, computed lazily */
    uint32_t nlines;
} SrcFile;

typedef struct SourceSet {
    Arena *arena;
    SrcFile *files;       /* files[0] is a placeholder for "no file" */
    uint32_t nfiles, cap;
} SourceSet;

void src_init(SourceSet *s, Arena *a);

/* Adds an in-memory file; returns its index. `text` is copied. */
uint32_t src_add(SourceSet *s, const char *path, const char *text, size_t len);

/* Reads `path` from disk. Returns its index, or 0 with a message (owned by the
 * arena) in *err: missing, unreadable, a directory, or too large. */
uint32_t src_load(SourceSet *s, const char *path, const char **err);

/* Finds an already loaded file by path; 0 if none. */
uint32_t src_find(const SourceSet *s, const char *path);

/* 1-based line and column (in bytes) of `offset` in `file`. */
void src_line_col(SourceSet *s, uint32_t file, uint32_t offset, uint32_t *line, uint32_t *col);

/* The text of line `line` (1-based) without its newline; length in *len. */
const char *src_line_text(SourceSet *s, uint32_t file, uint32_t line, size_t *len);

/* Smallest span covering both (same file assumed; `a` wins otherwise). */
SrcSpan src_span_join(SrcSpan a, SrcSpan b);

#define SRC_MAX_FILE_BYTES (64u * 1024u * 1024u)

#endif
