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
    struct Diagnostic *next;
} Diagnostic;

typedef struct Diags {
    SourceSet *src;
    Diagnostic *first, *last;
    int nerrors, nwarnings;
    FILE *out;        /* where diagnostics are printed as they are reported; NULL = keep only */
    bool color;       /* ANSI colours in `out` */
    int max_errors;   /* stop recording after this many errors (0 = unlimited) */
    Diagnostic *pending; /* reported, not yet printed (waiting for its notes) */
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
