/* fuzz_frontend.c - libFuzzer entry point for eic's front end.
 *
 * Feeds arbitrary bytes to the parser (lang/) and, when built with
 * -DEIC_FUZZ_SEMA, through the whole checking front end (compiler/frontend.c
 * and sema) exactly as `eic check` does. Everything a model file can reach
 * before code generation must end in diagnostics: no crash, no sanitizer
 * report, no leak, no hang. Diagnostics are also rendered (to /dev/null) and
 * the tree dumped, so caret rendering of odd lines and every AST pointer are
 * exercised. Built and run by tests/fuzz.sh. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ast.h"
#include "diag.h"
#include "parse.h"
#include "source.h"
#ifdef EIC_FUZZ_SEMA
#include "frontend.h"
#include "sema.h"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *null_out(void) {
    static FILE *f;
    if (!f) f = fopen("/dev/null", "w");
    return f;
}

/* Renders every recorded diagnostic, as eic does on stderr. */
static void render_all(Diags *d) {
    for (const Diagnostic *g = d->first; g; g = g->next) diag_render(d, g, null_out());
}

#ifdef EIC_FUZZ_SEMA
static void fuzz_one(const char *text, size_t len) {
    Session s;
    front_init(&s, NULL);
    if (front_load_text(&s, "fuzz.ei", text, len)) (void)sema_check(&s);
    render_all(&s.diags);
    for (int i = 0; i < s.nfiles; i++) ast_dump(null_out(), &s.src, s.files[i]);
    front_free(&s);
}
#else
static void fuzz_one(const char *text, size_t len) {
    Arena a;
    arena_init(&a);
    SourceSet src;
    src_init(&src, &a);
    Diags d;
    diag_init(&d, &src, NULL);
    uint32_t f = src_add(&src, "fuzz.ei", text, len);
    AstNode *root = parse_file(&src, f, &d);
    render_all(&d);
    ast_dump(null_out(), &src, root);
    arena_free(&a);
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_one((const char *)data, size);
    return 0;
}
