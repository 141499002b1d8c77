/* diag.c - diagnostics: recording, notes and clang-style rendering; see diag.h. */
#include "diag.h"

#include <stdarg.h>
#include <string.h>

typedef struct DiagInfo {
    const char *name;
    DiagSeverity severity;
    const char *summary;
} DiagInfo;

static const DiagInfo diag_table[] = {
#define ERROR DIAG_SEV_ERROR
#define WARNING DIAG_SEV_WARNING
#define DIAG(e, id, sev, summary) {id, sev, summary},
#include "diag_ids.h"
#undef DIAG
#undef ERROR
#undef WARNING
};

const char *diag_id_name(DiagId id) { return id < DIAG__COUNT ? diag_table[id].name : "?"; }
DiagSeverity diag_id_severity(DiagId id) { return diag_table[id].severity; }
const char *diag_id_summary(DiagId id) { return diag_table[id].summary; }

DiagId diag_id_lookup(const char *name) {
    for (int i = 0; i < DIAG__COUNT; i++)
        if (strcmp(diag_table[i].name, name) == 0) return (DiagId)i;
    return DIAG__COUNT;
}

void diag_init(Diags *d, SourceSet *src, FILE *out) {
    memset(d, 0, sizeof *d);
    d->src = src;
    d->out = out;
    d->max_errors = 200;
}

/* The last diagnostic is printed only when the next one arrives (or at
 * diag_flush), so that notes attached after diag_report print with it. */
static void print_pending(Diags *d) {
    if (d->pending && d->out) diag_render(d, d->pending, d->out);
    d->pending = NULL;
}

void diag_flush(Diags *d) {
    print_pending(d);
    if (d->out) fflush(d->out);
}

static Diagnostic *make(Diags *d, SrcSpan span, DiagId id, DiagSeverity sev, const char *fmt,
                        va_list ap) {
    Arena *a = d->src->arena;
    Diagnostic *g = ARENA_NEW(a, Diagnostic);
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    g->id = id;
    g->severity = sev;
    g->span = span;
    g->message = arena_strdup(a, buf);
    return g;
}

Diagnostic *diag_report(Diags *d, SrcSpan span, DiagId id, const char *fmt, ...) {
    DiagSeverity sev = diag_table[id].severity;
    if (sev == DIAG_SEV_ERROR && d->max_errors && d->nerrors >= d->max_errors) {
        d->nerrors++;
        return NULL;
    }
    print_pending(d);
    va_list ap;
    va_start(ap, fmt);
    Diagnostic *g = make(d, span, id, sev, fmt, ap);
    va_end(ap);
    if (d->last) d->last->next = g;
    else d->first = g;
    d->last = g;
    if (sev == DIAG_SEV_ERROR) d->nerrors++;
    else d->nwarnings++;
    /* Context notes: the three innermost frames and the outermost one (a
     * runaway recursion of motifs must not print a note per level). */
    Diagnostic **tail = &g->context_notes;
    int depth = 0;
    SrcSpan prev = {0};
    for (const DiagContext *c = d->context; c; c = c->outer) {
        bool repeat = c->span.file == prev.file && c->span.offset == prev.offset && depth > 0;
        prev = c->span;
        if (repeat || (depth++ >= 3 && c->outer)) continue; /* a recursion repeats one place */
        Diagnostic *n = ARENA_NEW(d->src->arena, Diagnostic);
        n->id = id;
        n->severity = DIAG_SEV_NOTE;
        n->span = c->span;
        n->message = c->message;
        *tail = n;
        tail = &n->next;
    }
    d->pending = g;
    return g;
}

void diag_push_context(Diags *d, DiagContext *frame, SrcSpan span, const char *message) {
    frame->span = span;
    frame->message = message;
    frame->outer = d->context;
    d->context = frame;
}

void diag_pop_context(Diags *d, const DiagContext *frame) {
    if (d->context == frame) d->context = frame->outer;
}

void diag_note(Diags *d, Diagnostic *to, SrcSpan span, const char *fmt, ...) {
    if (!to) return;
    va_list ap;
    va_start(ap, fmt);
    Diagnostic *n = make(d, span, to->id, DIAG_SEV_NOTE, fmt, ap);
    va_end(ap);
    Diagnostic **p = &to->notes;
    while (*p) p = &(*p)->next;
    *p = n;
}

/* Prints the line under `span` with a caret and tildes, clang style. Tabs in
 * the source are echoed in the marker line so the caret stays aligned; bytes
 * that are not printable are shown as '?'. */
static void render_snippet(Diags *d, SrcSpan span, FILE *out) {
    uint32_t line, col;
    src_line_col(d->src, span.file, span.offset, &line, &col);
    size_t len;
    const char *text = src_line_text(d->src, span.file, line, &len);
    const size_t max_shown = 200; /* a 1 MB line must not flood the terminal */
    size_t start = 0;
    if (col - 1 > max_shown / 2 && len > max_shown) start = col - 1 - max_shown / 2;
    size_t end = len < start + max_shown ? len : start + max_shown;
    fprintf(out, "%5u | %s", line, start ? "..." : "");
    for (size_t i = start; i < end; i++) {
        unsigned char c = (unsigned char)text[i];
        fputc(c == '\t' || (c >= 0x20 && c < 0x7f) || c >= 0x80 ? c : '?', out);
    }
    fprintf(out, "%s\n      | %s", end < len ? "..." : "", start ? "   " : "");
    for (size_t i = start; i + 1 < col && i < end; i++) fputc(text[i] == '\t' ? '\t' : ' ', out);
    fputc('^', out);
    size_t span_end = col - 1 + span.len;
    if (span_end > len) span_end = len;
    if (span_end > end) span_end = end;
    for (size_t i = col; i < span_end; i++) fputc('~', out);
    fputc('\n', out);
}

static void render_one(Diags *d, const Diagnostic *g, FILE *out) {
    static const char *label[] = {"error", "warning", "note"};
    static const char *colour[] = {"\033[1;31m", "\033[1;35m", "\033[1;36m"};
    if (g->span.file) {
        uint32_t line, col;
        src_line_col(d->src, g->span.file, g->span.offset, &line, &col);
        fprintf(out, "%s:%u:%u: ", d->src->files[g->span.file].path, line, col);
    } else {
        fputs("eic: ", out);
    }
    if (d->color) fprintf(out, "%s%s:\033[0m ", colour[g->severity], label[g->severity]);
    else fprintf(out, "%s: ", label[g->severity]);
    fputs(g->message, out);
    if (g->severity != DIAG_SEV_NOTE) fprintf(out, " [%s]", diag_table[g->id].name);
    fputc('\n', out);
    if (g->span.file) render_snippet(d, g->span, out);
}

void diag_render(Diags *d, const Diagnostic *g, FILE *out) {
    render_one(d, g, out);
    for (const Diagnostic *n = g->notes; n; n = n->next) render_one(d, n, out);
    for (const Diagnostic *n = g->context_notes; n; n = n->next) render_one(d, n, out);
}
