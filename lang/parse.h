/* parse.h - entry point of the front end: text to AST.
 *
 * parse_file() lexes and parses one source file of a SourceSet, reporting
 * every lexical and syntax error to `d` (recovering at declaration
 * boundaries), and returns an AST_FILE node allocated in the source set's
 * arena. It never returns NULL and never aborts on bad input: binary data,
 * NUL bytes, invalid UTF-8, huge lines and deep nesting all end in
 * diagnostics. */
#ifndef EIC_PARSE_H
#define EIC_PARSE_H

#include "ast.h"
#include "diag.h"
#include "source.h"

/* Expressions and blocks may nest at most this deep ([nesting-too-deep]). */
#define PARSE_MAX_DEPTH 256

AstNode *parse_file(SourceSet *src, uint32_t file, Diags *d);

#endif
