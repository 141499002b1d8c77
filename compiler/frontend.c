/* frontend.c - loading model files and resolving imports; see frontend.h.
 *
 * `import a.b.c` names the file a/b/c.ei. It is searched in the directory of
 * the importing file, then in each -I directory and EIC_PATH entry in order.
 * `import std.x.y` names x/y.ei in the standard library (the in-tree stdlib/
 * of the build, then the installed share/eic/stdlib). Each file is loaded
 * once; a file that imports a file still being loaded is an import cycle. */
#include "frontend.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parse.h"

void front_init(Session *s, FILE *diag_out) {
    memset(s, 0, sizeof *s);
    arena_init(&s->arena);
    src_init(&s->src, &s->arena);
    diag_init(&s->diags, &s->src, diag_out);
    s->stdlib_dirs[0] = EIC_STDLIB_DIR;
    s->stdlib_dirs[1] = EIC_INSTALLED_STDLIB_DIR;
}

void front_free(Session *s) { arena_free(&s->arena); }

void front_add_search(Session *s, const char *dir) {
    if (s->nsearch < FRONT_MAX_SEARCH && dir && *dir)
        s->search[s->nsearch++] = arena_strdup(&s->arena, dir);
}

void front_add_search_list(Session *s, const char *list) {
    if (!list) return;
    const char *p = list;
    while (*p) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n) front_add_search(s, arena_strndup(&s->arena, p, n));
        if (!end) break;
        p = end + 1;
    }
}

static void push_file(Session *s, AstNode *f) {
    if (s->nfiles == s->cap_files) {
        int cap = s->cap_files ? s->cap_files * 2 : 8;
        s->files = arena_grow(&s->arena, s->files, (size_t)s->nfiles, (size_t)cap, sizeof *s->files);
        s->cap_files = cap;
    }
    s->files[s->nfiles++] = f;
}

static bool is_regular_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static char *dir_of(Arena *a, const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? arena_strndup(a, path, (size_t)(slash - path)) : arena_strdup(a, ".");
}

/* The relative path of a dotted import name: "a.b.c" -> "a/b/c.ei". */
static char *import_relpath(Arena *a, const char *dotted) {
    char *rel = arena_printf(a, "%s.ei", dotted);
    for (char *p = rel; p < rel + strlen(rel) - 3; p++)
        if (*p == '.') *p = '/';
    return rel;
}

/* Returns the path of the file an import names, or NULL. */
static const char *find_import(Session *s, const char *importer, const char *dotted) {
    Arena *a = &s->arena;
    if (strncmp(dotted, "std.", 4) == 0) {
        char *rel = import_relpath(a, dotted + 4);
        for (int i = 0; i < 2; i++) {
            char *p = arena_printf(a, "%s/%s", s->stdlib_dirs[i], rel);
            if (is_regular_file(p)) return p;
        }
        return NULL;
    }
    char *rel = import_relpath(a, dotted);
    char *dir = dir_of(a, importer);
    char *p = strcmp(dir, ".") ? arena_printf(a, "%s/%s", dir, rel) : rel;
    if (is_regular_file(p)) return p;
    for (int i = 0; i < s->nsearch; i++) {
        p = arena_printf(a, "%s/%s", s->search[i], rel);
        if (is_regular_file(p)) return p;
    }
    return NULL;
}

/* The canonical (symlink-free, absolute) path identifies a file, so that two
 * spellings of one path are loaded once and self-imports are cycles. */
static const char *canonical(Session *s, const char *path) {
    char *real = realpath(path, NULL);
    const char *key = arena_strdup(&s->arena, real ? real : path);
    free(real);
    return key;
}

static void remember_canonical(Session *s, uint32_t f, const char *key) {
    if (f >= (uint32_t)s->cap_canon) {
        int cap = s->cap_canon ? s->cap_canon : 16;
        while ((uint32_t)cap <= f) cap *= 2;
        s->canon = arena_grow(&s->arena, s->canon, (size_t)s->cap_canon, (size_t)cap, sizeof *s->canon);
        s->cap_canon = cap;
    }
    s->canon[f] = key;
}

static uint32_t find_canonical(Session *s, const char *key) {
    for (int i = 1; i < s->cap_canon; i++)
        if (s->canon[i] && strcmp(s->canon[i], key) == 0) return (uint32_t)i;
    return 0;
}

/* Per-file load state for cycle detection, indexed by SourceSet file index. */
typedef struct LoadState {
    unsigned char *state; /* 0 unseen, 1 loading, 2 done */
    AstNode **import_of;  /* the import node through which a loading file was entered */
    int cap;
} LoadState;

static void ensure_state(Session *s, LoadState *ls, uint32_t file) {
    if ((int)file < ls->cap) return;
    int cap = ls->cap ? ls->cap : 16;
    while (cap <= (int)file) cap *= 2;
    ls->state = arena_grow(&s->arena, ls->state, (size_t)ls->cap, (size_t)cap, 1);
    ls->import_of = arena_grow(&s->arena, ls->import_of, (size_t)ls->cap, (size_t)cap, sizeof(AstNode *));
    ls->cap = cap;
}

static void load_imports(Session *s, LoadState *ls, uint32_t file, AstNode *root);

static void report_cycle(Session *s, LoadState *ls, AstNode *imp, uint32_t target) {
    Diagnostic *g = diag_report(&s->diags, imp->name_span, DIAG_IMPORT_CYCLE,
                                "import of '%s' forms a cycle", imp->name);
    /* Walk back along the chain of imports that led here, for the notes. */
    uint32_t f = imp->span.file;
    for (int guard = 0; f != target && guard < 64; guard++) {
        AstNode *via = f < (uint32_t)ls->cap ? ls->import_of[f] : NULL;
        if (!via) break;
        diag_note(&s->diags, g, via->name_span, "'%s' is imported here", s->src.files[f].path);
        f = via->span.file;
    }
}

static void load_one_import(Session *s, LoadState *ls, uint32_t file, AstNode *imp) {
    const char *path = find_import(s, s->src.files[file].path, imp->name);
    if (!path) {
        diag_report(&s->diags, imp->name_span, DIAG_IMPORT_NOT_FOUND,
                    "cannot find '%s' on the search path", imp->name);
        return;
    }
    const char *key = canonical(s, path);
    uint32_t f = find_canonical(s, key);
    if (f) {
        ensure_state(s, ls, f);
        if (ls->state[f] == 1) report_cycle(s, ls, imp, f);
        return;
    }
    const char *err = NULL;
    f = src_load(&s->src, path, &err); /* diagnostics show the path as found, not the canonical one */
    if (!f) {
        diag_report(&s->diags, imp->name_span, DIAG_FILE_UNREADABLE, "%s", err);
        return;
    }
    ensure_state(s, ls, f);
    remember_canonical(s, f, key);
    ls->import_of[f] = imp;
    AstNode *root = parse_file(&s->src, f, &s->diags);
    push_file(s, root);
    ls->state[f] = 1;
    load_imports(s, ls, f, root);
    ls->state[f] = 2;
}

static void load_imports(Session *s, LoadState *ls, uint32_t file, AstNode *root) {
    for (int i = 0; i < root->items.n; i++)
        if (root->items.v[i]->kind == AST_IMPORT) load_one_import(s, ls, file, root->items.v[i]);
}

static bool load_root(Session *s, uint32_t f) {
    LoadState ls = {0};
    ensure_state(s, &ls, f);
    AstNode *root = parse_file(&s->src, f, &s->diags);
    push_file(s, root);
    ls.state[f] = 1;
    load_imports(s, &ls, f, root);
    ls.state[f] = 2;
    diag_flush(&s->diags);
    return s->diags.nerrors == 0;
}

bool front_load(Session *s, const char *path) {
    const char *err = NULL;
    uint32_t f = src_load(&s->src, path, &err);
    if (f) remember_canonical(s, f, canonical(s, path));
    if (!f) {
        diag_report(&s->diags, (SrcSpan){0, 0, 0}, DIAG_FILE_UNREADABLE, "%s", err);
        diag_flush(&s->diags);
        return false;
    }
    return load_root(s, f);
}

bool front_load_text(Session *s, const char *name, const char *text, size_t len) {
    return load_root(s, src_add(&s->src, name, text, len));
}
