/* ast.h - the abstract syntax tree of an eic model file.
 *
 * The parser (parser.y) builds it; compiler/sema.c gives it meaning. Every node
 * lives in the session arena and carries the SrcSpan of the text it came from
 * (`span`) and, where it declares or references a name, the span of that name
 * (`name_span`). One generic node type keeps the parser thin; the table below
 * says what each field means for each kind. Fields a kind does not use are
 * zero/NULL.
 *
 *   kind              name            op / flags           a / b / c                     items / items2
 *   ---------------------------------------------------------------------------------------------------------
 *   AST_FILE          path            -                    -                             decls / -
 *   AST_IMPORT        dotted name     -                    -                             -
 *   AST_NEURON        type name       -                    -                             body items
 *   AST_RECEPTOR      type name       -                    c: default port (AST_NAME)    body items
 *   AST_SYNAPSE       type name       flags: AST_F_PER_PRE -                             body items
 *   AST_PLASTICITY    rule name       -                    -                             body items
 *   AST_MODULATOR     name            -                    -                             body items
 *   AST_CONTEXT       name            -                    -                             body items
 *   AST_MOTIF         name            -                    -                             body / params (AST_PARAM, a = default or NULL)
 *   AST_NETWORK       name            -                    -                             body items
 *   AST_SIMULATE      network name    -                    -                             clauses
 *
 *   body items
 *   AST_PARAM         name            -                    a: value
 *   AST_STATE         name            -                    a: initial value
 *   AST_DEF           name            -                    a: expression (`let name = a`)
 *   AST_ODE           state name      -                    a: right-hand side (`dname/dt = a`)
 *   AST_SPIKE         -               -                    a: condition                  statements (reset)
 *   AST_REFRACTORY    -               -                    a: duration                   - / clamped names (AST_NAME)
 *   AST_PORT          port name       -                    -                             - / [current, voltage] (AST_NAME)
 *   AST_CURRENT       -               -                    a: current expression
 *   AST_ON            -               op: AstEvent         -                             statements / parameters (AST_NAME)
 *   AST_TRACE         trace name      op: AstEvent (pre/post), flags: AST_F_SET (`= v`, nearest spike) else `+= v`
 *                                                          a: time constant, b: increment
 *   AST_RATE          estimate name   op: AstEvent (pre/post)  a: time constant
 *   AST_EVERY         -               -                    a: period                     statements
 *   AST_BOUNDS        -               flags: AST_F_SOFT    a: lower, b: upper
 *   AST_METHOD        method name     -                    -
 *   AST_LEVEL         level name      -                    a: default value
 *   AST_SCALE         -               -                    a: target, b: factor
 *
 *   statements
 *   AST_ASSIGN        -               op: AstAssignOp      a: target (NAME/MEMBER), b: value
 *   AST_DELIVER       -               -                    a: efficacy
 *   AST_IF            -               -                    a: condition                  then / else (an else-if is one AST_IF in else)
 *
 *   network items (also motif bodies)
 *   AST_POPULATION    name            -                    a: size, b: AST_CALL of the type with overrides
 *   AST_CONNECT       -               -                    a: source, b: target          clauses
 *   AST_INPUT         name            op: AstInputKind     a: count/file/amplitude, b: target   clauses
 *   AST_RECORD        -               -                    -                             clauses / [what..., `of`, targets...] see below
 *   AST_USE           alias or NULL   -                    a: AST_CALL of the motif
 *   AST_AT            -               -                    a: time, b: duration or NULL, c: action
 *   AST_ACTION        -               op: AstActionKind    a: target, b: value           args (AST_ARG for enter)
 *
 *   AST_RECORD: items2 = the recorded quantities (AST_NAME: `spikes`, `rate`, `balance` or variables);
 *   items = clauses, among them one CL_OF per target population (a = NAME/RANGE/MEMBER) or projection
 *   (a = AST_PROJECTION, `record weights of SRC -> DST`).
 *   AST_POPULATION: b is named "poisson" for `of poisson(rate = R)` (a keyword, so no neuron type clashes).
 *
 *   clauses
 *   AST_CLAUSE        -               op: AstClauseKind    a: value (expression, AST_CALL, AST_STRING, AST_NAME)
 *                                                         b: CL_WITH: `accelerated by` factor or NULL
 *
 *   expressions
 *   AST_NUM           unit text/NULL  -                    num: value; unit_span: span of the unit
 *   AST_BOOL          -               -                    num: 0 or 1
 *   AST_STRING        contents        -                    -
 *   AST_NAME          identifier      -                    -
 *   AST_MEMBER        member          -                    a: object (`a.name`)
 *   AST_RANGE         population      -                    a: first, b: last or NULL (`E[a..b]`, `E[a]`),
 *                                                          c: the base (NAME, or MEMBER for `m.E[...]`)
 *   AST_PROJECTION    selector        -                    a: source, b: target (`A -> B weight`)
 *   AST_UNARY         -               op: AstOp            a
 *   AST_BINARY        -               op: AstOp            a, b
 *   AST_COND          -               -                    a: condition, b: then, c: else (`if a then b else c`)
 *   AST_CALL          callee          -                    -                             arguments (expressions or AST_ARG)
 *   AST_ARG           argument name   -                    a: value (`name = a`)
 */
#ifndef EIC_AST_H
#define EIC_AST_H

#include <stdio.h>

#include "arena.h"
#include "source.h"

#define AST_KINDS(X)                                                                          \
    X(FILE) X(IMPORT) X(NEURON) X(RECEPTOR) X(SYNAPSE) X(PLASTICITY) X(MODULATOR) X(CONTEXT)  \
    X(MOTIF) X(NETWORK) X(SIMULATE)                                                           \
    X(PARAM) X(STATE) X(DEF) X(ODE) X(SPIKE) X(REFRACTORY) X(PORT) X(CURRENT) X(ON) X(TRACE)  \
    X(RATE) X(EVERY) X(BOUNDS) X(METHOD) X(LEVEL) X(SCALE)                                    \
    X(ASSIGN) X(DELIVER) X(IF)                                                                \
    X(POPULATION) X(CONNECT) X(INPUT) X(RECORD) X(USE) X(AT) X(ACTION) X(CLAUSE)              \
    X(NUM) X(BOOL) X(STRING) X(NAME) X(MEMBER) X(RANGE) X(PROJECTION) X(UNARY) X(BINARY)      \
    X(COND) X(CALL) X(ARG)

typedef enum AstKind {
#define X(k) AST_##k,
    AST_KINDS(X)
#undef X
    AST__COUNT
} AstKind;

typedef enum AstOp {
    OP_NONE,
    OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_POW,
    OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE,
    OP_AND, OP_OR,
    OP_NEG, OP_PLUS, OP_NOT,
} AstOp;

typedef enum AstAssignOp { ASSIGN_SET, ASSIGN_ADD, ASSIGN_SUB, ASSIGN_MUL, ASSIGN_DIV } AstAssignOp;

typedef enum AstEvent { EV_NONE, EV_PRE, EV_POST, EV_SPIKE, EV_RELEASE } AstEvent;

typedef enum AstInputKind { INPUT_POISSON, INPUT_SPIKES, INPUT_CURRENT } AstInputKind;

typedef enum AstActionKind {
    ACT_ENTER,   /* enter CONTEXT[(level = v, ...)]  a: AST_NAME, items: AST_ARG */
    ACT_EXIT,    /* exit CONTEXT                     a: AST_NAME */
    ACT_SET,     /* set TARGET = VALUE               a: NAME/MEMBER, b: value */
    ACT_SILENCE, /* silence POP [fraction F]         a: population, b: fraction or NULL */
    ACT_LESION,  /* lesion POP [fraction F]          a: population, b: fraction or NULL */
    ACT_RELEASE, /* release MODULATOR [AMOUNT]       a: AST_NAME, b: amount or NULL */
} AstActionKind;

/* Clause keywords of connect, input, record and simulate. */
#define AST_CLAUSES(X)                                                                         \
    X(VIA, "via") X(ONTO, "onto") X(SYNAPSE, "synapse") X(WITH, "with")                        \
    X(ALL_TO_ALL, "all_to_all") X(ONE_TO_ONE, "one_to_one") X(PROBABILITY, "probability")       \
    X(INDEGREE, "indegree") X(OUTDEGREE, "outdegree") X(FILE, "from")                          \
    X(WEIGHT, "weight") X(DELAY, "delay") X(AUTAPSES, "autapses") X(RATE, "rate")              \
    X(OF, "of") X(EVERY, "every") X(WINDOW, "window") X(FOR, "for") X(DT, "dt")                \
    X(SEED, "seed") X(METHOD, "method") X(PRECISION, "precision")

typedef enum AstClauseKind {
#define X(k, word) CL_##k,
    AST_CLAUSES(X)
#undef X
    CL__COUNT
} AstClauseKind;

enum { AST_F_PER_PRE = 1, AST_F_SET = 2, AST_F_SOFT = 4, AST_F_NO = 8 /* `no autapses` */ };

typedef struct AstNode AstNode;

typedef struct AstList {
    AstNode **v;
    int n, cap;
} AstList;

struct AstNode {
    AstKind kind;
    int op;              /* AstOp, AstAssignOp, AstEvent, AstInputKind, AstActionKind or AstClauseKind */
    int flags;           /* AST_F_* */
    SrcSpan span;        /* the whole construct */
    SrcSpan name_span;   /* the name, where there is one */
    const char *name;
    double num;          /* AST_NUM, AST_BOOL */
    const char *unit;    /* AST_NUM: unit text as written after the number, or NULL */
    SrcSpan unit_span;
    AstNode *a, *b, *c;
    AstList items, items2;
    void *sema;          /* compiler annotations; lang/ never touches it */
};

/* Returns a node of `kind` with `span`, allocated in `a`. */
AstNode *ast_new(Arena *a, AstKind kind, SrcSpan span);
void ast_push(Arena *a, AstList *l, AstNode *n);

const char *ast_kind_name(AstKind k);
const char *ast_op_text(AstOp op);
const char *ast_clause_word(AstClauseKind k);

/* Prints the tree as indented text, one node per line, with line:col of each
 * node (eic dump-ast). */
void ast_dump(FILE *out, SourceSet *src, const AstNode *n);

#endif
