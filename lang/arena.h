/* arena.h - bump allocator owning everything a compile session creates.
 *
 * Token text, AST nodes, symbols, types and diagnostics live in one Arena per
 * session and are freed together by arena_free(). Memory is returned zeroed.
 * Out of memory is fatal (there is no user error to report), so callers never
 * check for NULL. */
#ifndef EIC_ARENA_H
#define EIC_ARENA_H

#include <stddef.h>

typedef struct ArenaBlock ArenaBlock;

typedef struct Arena {
    ArenaBlock *head;   /* newest block first */
    size_t total;       /* bytes handed out, for statistics */
} Arena;

void arena_init(Arena *a);
void arena_free(Arena *a);

/* Returns `size` zeroed bytes aligned for any type, owned by `a`. */
void *arena_alloc(Arena *a, size_t size);

/* Returns a NUL-terminated copy of `s[0..len)` owned by `a`. */
char *arena_strndup(Arena *a, const char *s, size_t len);
char *arena_strdup(Arena *a, const char *s);

/* printf into arena memory. */
char *arena_printf(Arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Grows an arena array: returns a copy of `old` (n elements of `elem` bytes)
 * with room for `cap` elements. The old block is simply abandoned. */
void *arena_grow(Arena *a, void *old, size_t n, size_t cap, size_t elem);

#define ARENA_NEW(a, T) ((T *)arena_alloc((a), sizeof(T)))
#define ARENA_ARRAY(a, T, n) ((T *)arena_alloc((a), sizeof(T) * (size_t)(n)))

#endif
