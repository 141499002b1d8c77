/* ast.c - constructing AST nodes and naming their kinds, operators and clauses.
 *
 * The parser (parser.y) calls ast_new/ast_push from its actions; ast_dump.c,
 * diagnostics and compiler/ use the name tables. Everything lives in the
 * session arena; see ast.h for what each field means per kind. */
#include "ast.h"

AstNode *ast_new(Arena *a, AstKind kind, SrcSpan span) {
    AstNode *n = ARENA_NEW(a, AstNode);
    n->kind = kind;
    n->span = span;
    return n;
}

/* Appends `n` to `l`, doubling the arena array when full (the old array is
 * abandoned in the arena, which is cheaper than tracking it). */
void ast_push(Arena *a, AstList *l, AstNode *n) {
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 4;
        l->v = arena_grow(a, l->v, (size_t)l->n, (size_t)cap, sizeof(AstNode *));
        l->cap = cap;
    }
    l->v[l->n++] = n;
}

const char *ast_kind_name(AstKind k) {
    static const char *names[] = {
#define X(k) #k,
        AST_KINDS(X)
#undef X
    };
    return (unsigned)k < AST__COUNT ? names[k] : "?";
}

/* Returns the source spelling of an operator ("+", "and", ...). */
const char *ast_op_text(AstOp op) {
    switch (op) {
    case OP_ADD: case OP_PLUS: return "+";
    case OP_SUB: case OP_NEG: return "-";
    case OP_MUL: return "*";
    case OP_DIV: return "/";
    case OP_POW: return "^";
    case OP_LT: return "<";
    case OP_LE: return "<=";
    case OP_GT: return ">";
    case OP_GE: return ">=";
    case OP_EQ: return "==";
    case OP_NE: return "!=";
    case OP_AND: return "and";
    case OP_OR: return "or";
    case OP_NOT: return "not";
    case OP_NONE: break;
    }
    return "?";
}

/* Returns the keyword that introduces a clause (CL_FILE is `from "file"`). */
const char *ast_clause_word(AstClauseKind k) {
    static const char *words[] = {
#define X(k, word) word,
        AST_CLAUSES(X)
#undef X
    };
    return (unsigned)k < CL__COUNT ? words[k] : "?";
}
