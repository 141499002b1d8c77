/* frontend.h - a compile session: loading a model file and its imports.
 *
 * The driver creates one Session per invocation. front_load() parses the root
 * file and, recursively, every file it imports (through the search path),
 * reporting missing imports and import cycles. All declarations of all loaded
 * files share one global namespace (SPEC.md, "Imports").
 */
#ifndef EIC_FRONTEND_H
#define EIC_FRONTEND_H

#include <stdbool.h>

#include "arena.h"
#include "ast.h"
#include "diag.h"
#include "source.h"

#define FRONT_MAX_SEARCH 64

typedef struct Session {
    Arena arena;
    SourceSet src;
    Diags diags;
    const char *search[FRONT_MAX_SEARCH]; /* -I dirs, then EIC_PATH entries */
    int nsearch;
    const char *stdlib_dirs[2];           /* in-tree, installed */
    AstNode **files;                      /* parsed AST_FILE nodes; files[0] is the root */
    int nfiles, cap_files;
    const char **canon;                   /* canonical path per source file index */
    int cap_canon;
} Session;

/* Initializes `s`; diagnostics print to `diag_out` (NULL: keep only). */
void front_init(Session *s, FILE *diag_out);
void front_free(Session *s);

/* Appends a search directory (from -I or EIC_PATH). */
void front_add_search(Session *s, const char *dir);
/* Adds each entry of a colon-separated list such as $EIC_PATH. */
void front_add_search_list(Session *s, const char *list);

/* Loads and parses `path` and everything it imports. Returns false when
 * any error was reported (the ASTs are still available for what parsed). */
bool front_load(Session *s, const char *path);

/* Like front_load for an in-memory text (tests, fuzzing). */
bool front_load_text(Session *s, const char *name, const char *text, size_t len);

#endif
