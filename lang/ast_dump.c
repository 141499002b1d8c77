/* ast_dump.c - the AST as indented text (eic dump-ast, parser tests).
 *
 * One node per line: kind, then the fields that kind uses (name, operator,
 * flags, number and unit), then line:col of the node. Children follow, two
 * spaces deeper: a, b and c are labelled "a:", "b:", "c:", list `items`
 * is unlabelled and `items2` is labelled "items2:". The format is stable;
 * tests compare it verbatim. Example:
 *
 *   FILE 'm.ei' 1:1
 *     NEURON N 1:1
 *       PARAM a 1:22
 *         a: NUM 1 mV 1:26
 */
#include <stdlib.h>
#include <string.h>

#include "ast.h"

/* Deeper trees (long operator chains) are cut off rather than overflowing the stack. */
enum { DUMP_MAX_DEPTH = 2000 };

static const char *event_word(int ev) {
    static const char *w[] = {"", "pre", "post", "spike", "release"};
    return ev >= 0 && ev <= EV_RELEASE ? w[ev] : "?";
}

static const char *assign_text(int op) {
    static const char *w[] = {"=", "+=", "-=", "*=", "/="};
    return op >= 0 && op <= ASSIGN_DIV ? w[op] : "?";
}

static const char *input_word(int op) {
    static const char *w[] = {"poisson", "spikes", "current"};
    return op >= 0 && op <= INPUT_CURRENT ? w[op] : "?";
}

static const char *action_word(int op) {
    static const char *w[] = {"enter", "exit", "set", "silence", "lesion", "release"};
    return op >= 0 && op <= ACT_RELEASE ? w[op] : "?";
}

/* The operator-like field of `n`, or NULL when its kind has none. */
static const char *op_text(const AstNode *n) {
    switch (n->kind) {
    case AST_UNARY: case AST_BINARY: return ast_op_text((AstOp)n->op);
    case AST_ASSIGN: return assign_text(n->op);
    case AST_ON: case AST_TRACE: case AST_RATE: return event_word(n->op);
    case AST_INPUT: return input_word(n->op);
    case AST_ACTION: return action_word(n->op);
    case AST_CLAUSE: return ast_clause_word((AstClauseKind)n->op);
    default: return NULL;
    }
}

/* Shortest of %.15g and %.17g that reads back as `v` (0.3, not 0.29999999999999999). */
static const char *num_text(char *buf, size_t size, double v) {
    snprintf(buf, size, "%.15g", v);
    if (strtod(buf, NULL) != v) snprintf(buf, size, "%.17g", v);
    return buf;
}

static void print_head(FILE *out, SourceSet *src, const AstNode *n) {
    char buf[32];
    fputs(ast_kind_name(n->kind), out);
    if (n->kind == AST_FILE || n->kind == AST_STRING) fprintf(out, " '%s'", n->name ? n->name : "");
    else if (n->name) fprintf(out, " %s", n->name);
    const char *op = op_text(n);
    if (op) fprintf(out, " %s", op);
    if (n->flags & AST_F_PER_PRE) fputs(" per_pre", out);
    if (n->flags & AST_F_SET) fputs(" set", out);
    if (n->flags & AST_F_SOFT) fputs(" soft", out);
    if (n->flags & AST_F_NO) fputs(" no", out);
    if (n->kind == AST_NUM) {
        fprintf(out, " %s", num_text(buf, sizeof buf, n->num));
        if (n->unit) fprintf(out, " %s", n->unit);
    }
    if (n->kind == AST_BOOL) fputs(n->num != 0 ? " true" : " false", out);
    uint32_t line, col;
    src_line_col(src, n->span.file, n->span.offset, &line, &col);
    fprintf(out, " %u:%u\n", line, col);
}

static void dump(FILE *out, SourceSet *src, const AstNode *n, int depth, const char *label) {
    fprintf(out, "%*s%s", depth * 2, "", label);
    if (!n) {
        fputs("(null)\n", out);
        return;
    }
    if (depth > DUMP_MAX_DEPTH) {
        fputs("...\n", out);
        return;
    }
    print_head(out, src, n);
    if (n->a) dump(out, src, n->a, depth + 1, "a: ");
    if (n->b) dump(out, src, n->b, depth + 1, "b: ");
    if (n->c) dump(out, src, n->c, depth + 1, "c: ");
    for (int i = 0; i < n->items.n; i++) dump(out, src, n->items.v[i], depth + 1, "");
    for (int i = 0; i < n->items2.n; i++) dump(out, src, n->items2.v[i], depth + 1, "items2: ");
}

void ast_dump(FILE *out, SourceSet *src, const AstNode *n) { dump(out, src, n, 0, ""); }
