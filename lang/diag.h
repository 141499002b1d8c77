/* diag.h - collecting and printing diagnostics.
 *
 * lang/ and compiler/ report every user error through a Diags; they never exit
 * on user errors. Each diagnostic has a stable id (diag_ids.h), a primary span
 * and optional notes. Rendering is clang-style:
 *
 *   model.ei:12:17: error: cannot add 'mV' and 'nS' [unit-mismatch]
 *      12 |     v = v + g_syn
 *         |             ^~~~~
 *   model.ei:4:5: note: 'g_syn' declared here
 */
#ifndef EIC_DIAG_H
#define EIC_DIAG_H

#include <stdbool.h>
#include <stdio.h>

#include "source.h"

typedef enum DiagSeverity { DIAG_SEV_ERROR, DIAG_SEV_WARNING, DIAG_SEV_NOTE } DiagSeverity;

typedef enum DiagId {
#define DIAG(e, id, sev, summary) e,
#include "diag_ids.h"
#undef DIAG
    DIAG__COUNT
} DiagId;

typedef struct Diagnostic {
    DiagId id;
    DiagSeverity severity;
    SrcSpan span;
    const char *message;
    struct Diagnostic *notes; /* chained through next */
    struct Diagnostic *context_notes; /* from the DiagContext frames; printed after `notes` */
    struct Diagnostic *next;
} Diagnostic;

/* A frame of "where this happened", e.g. the use of a motif whose body is
 * being checked: every error or warning reported while the frame is pushed
 * ends with a note at `span` saying `message`, innermost frame first. The
 * frame is the caller's (usually on its stack); diagnostics copy it. */
typedef struct DiagContext {
    SrcSpan span;
    const char *message;
    const struct DiagContext *outer;
} DiagContext;

typedef struct Diags {
    SourceSet *src;
    Diagnostic *first, *last;
    int nerrors, nwarnings;
    FILE *out;        /* where diagnostics are printed as they are reported; NULL = keep only */
    bool color;       /* ANSI colours in `out` */
    int max_errors;   /* stop recording after this many errors (0 = unlimited) */
    Diagnostic *pending; /* reported, not yet printed (waiting for its notes) */
    const DiagContext *context; /* innermost pushed frame, or NULL */
} Diags;

void diag_init(Diags *d, SourceSet *src, FILE *out);

/* Reports an error or warning (severity from the id table). Returns the
 * diagnostic so that notes can be attached. The message is formatted into the
 * arena. */
Diagnostic *diag_report(Diags *d, SrcSpan span, DiagId id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Attaches a note to `to` (which may be NULL: the note is then dropped). Notes
 * are printed after their diagnostic, so report notes before the next
 * diagnostic; diag_flush() prints a pending diagnostic with its notes. */
void diag_note(Diags *d, Diagnostic *to, SrcSpan span, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Pushes `frame` (filled in with span and message) as the innermost context;
 * pop it with diag_pop_context before the frame goes out of scope. */
void diag_push_context(Diags *d, DiagContext *frame, SrcSpan span, const char *message);
void diag_pop_context(Diags *d, const DiagContext *frame);

/* Prints any diagnostic not yet printed. */
void diag_flush(Diags *d);

const char *diag_id_name(DiagId id);
DiagSeverity diag_id_severity(DiagId id);
const char *diag_id_summary(DiagId id);
/* DIAG__COUNT when `name` is no id. */
DiagId diag_id_lookup(const char *name);

/* Renders one diagnostic (with notes) to `out`. */
void diag_render(Diags *d, const Diagnostic *g, FILE *out);

#endif
