/* parser.y - the grammar of eic model files (SPEC.md section 3).
 *
 * A pure bison parser fed by the reentrant flex scanner in lexer.l. Actions
 * are thin: each builds the AST node of lang/ast.h for its rule, allocated in
 * the session arena, and does no semantic checking (compiler/sema.c does).
 * Syntax errors are worded by yyreport_syntax_error ("expected '=' after
 * parameter name, found 'mV'"); recovery happens at declaration, body item,
 * network item and statement boundaries through the `error` token, so one
 * file reports all its syntax errors. parse_file() at the end is the entry
 * point declared in lang/parse.h.
 *
 * Rule comments use the EBNF notation of SPEC.md. */

%define api.pure full
%define parse.error custom
%define parse.lac full
%define api.location.type {SrcSpan}
%locations
%expect 0
%lex-param {yyscan_t scanner}
%parse-param {yyscan_t scanner} {ParseCtx *ctx}

%code requires {
#include <stdbool.h>

#include "ast.h"
#include "diag.h"
#include "parse.h"
#include "source.h"

typedef void *yyscan_t;

/* State shared by the scanner and the parser of one file. */
typedef struct ParseCtx {
    SourceSet *src;
    Arena *arena;
    Diags *d;
    uint32_t file;
    uint32_t pos;            /* byte offset where the next token starts */
    AstNode *root;           /* the AST_FILE; declarations are appended as they complete */
    int prev_tok;            /* last token handed to the parser (0 at start) */
    SrcSpan prev_span;       /* its span */
    SrcSpan prev2_span;      /* the span of the token before it */
    int depth;               /* open '(' '[' '{' */
    int chain;               /* prefix operators and '^' pending at this bracket level */
    int outer;               /* sum of the chains of the enclosing levels */
    int saved_chain[PARSE_MAX_DEPTH + 2];
    uint32_t open_at[PARSE_MAX_DEPTH + 2]; /* offsets of the open brackets, for notes */
    int errors_at_start;     /* d->nerrors when this file started */
    bool stop;               /* too deep or too many errors: the scanner returns end of file */
    uint32_t comment_start;  /* offset of the '/' of an open block comment */
    Diagnostic *bad;         /* last bad-byte diagnostic, extended while bad bytes continue */
    DiagId bad_id;
    uint32_t bad_end;
} ParseCtx;
}

%code provides {
/* Prepares `c` for scanning file `file` of `src`; root is a fresh AST_FILE. */
void parse_ctx_init(ParseCtx *c, SourceSet *src, uint32_t file, Diags *d);
/* Token kind of keyword s[0..n), or 0 when it is no keyword. */
int parse_keyword(const char *s, size_t n);
/* Human description of token kind `tok` ("'parameter'", "name", "'->'"). */
const char *parse_token_desc(int tok);
/* More errors than this in one file stop its parse (garbage input stays fast). */
#define PARSE_MAX_FILE_ERRORS 100
/* Deepest syntax tree a declaration may have (long operator chains). */
#define PARSE_MAX_TREE_DEPTH 1024
}

%code {
#include <stdlib.h>
#include <string.h>

#include "lexer.h"

#define A (ctx->arena)

/* A node's span covers its first and last symbol; an empty rule gets an
 * empty span at the end of the previous symbol. */
#define YYLLOC_DEFAULT(Cur, Rhs, N)                                                  \
    do {                                                                           \
        if (N) {                                                                   \
            (Cur) = src_span_join(YYRHSLOC(Rhs, 1), YYRHSLOC(Rhs, N));             \
        } else {                                                                   \
            (Cur).file = YYRHSLOC(Rhs, 0).file;                                    \
            (Cur).offset = YYRHSLOC(Rhs, 0).offset + YYRHSLOC(Rhs, 0).len;         \
            (Cur).len = 0;                                                         \
        }                                                                          \
    } while (0)

static void yyerror(SrcSpan *loc, yyscan_t scanner, ParseCtx *ctx, const char *msg);
static AstNode *mk(ParseCtx *ctx, AstKind k, SrcSpan sp);
static AstNode *mk_named(ParseCtx *ctx, AstKind k, SrcSpan sp, const char *name, SrcSpan nsp);
static AstNode *mk_op(ParseCtx *ctx, AstKind k, int op, SrcSpan sp, AstNode *a, AstNode *b);
static AstList list1(ParseCtx *ctx, AstNode *n);
static AstList list_add(ParseCtx *ctx, AstList l, AstNode *n);
static AstList list_cat(ParseCtx *ctx, AstList l, AstList m);
static AstList set_kind(AstList l, AstKind k);
static AstNode *mk_clause(ParseCtx *ctx, AstClauseKind k, SrcSpan sp, AstNode *value);
static AstNode *mk_decl(ParseCtx *ctx, AstKind k, SrcSpan sp, const char *name, SrcSpan nsp,
                        AstList body);
static bool expect_word(ParseCtx *ctx, const char *got, SrcSpan sp, const char *want,
                        const char *where);
static bool tree_depth_ok(ParseCtx *ctx, AstNode *decl);
static AstNode *mk_arg(ParseCtx *ctx, SrcSpan sp, AstNode *target, AstNode *value);
}

%union {
    AstNode *node;
    AstList list;
    const char *str;
    int ival;
}

%token <str> IDENT "name"
%token <node> NUM "number"
%token <node> STRING "string"
%token ARROW "->" DOTDOT ".." ADDEQ "+=" SUBEQ "-=" MULEQ "*=" DIVEQ "/="
%token LE "<=" GE ">=" EQ "==" NE "!="
/* Keywords: keep them together and in this order (parse_keyword relies on it). */
%token KW_IMPORT "import" KW_NEURON "neuron" KW_RECEPTOR "receptor" KW_SYNAPSE "synapse"
%token KW_PLASTICITY "plasticity" KW_MODULATOR "modulator" KW_CONTEXT "context"
%token KW_MOTIF "motif" KW_NETWORK "network" KW_SIMULATE "simulate"
%token KW_PARAMETER "parameter" KW_STATE "state" KW_LET "let" KW_SPIKE "spike" KW_WHEN "when"
%token KW_REFRACTORY "refractory" KW_CLAMP "clamp" KW_PORT "port" KW_CURRENT "current"
%token KW_ON "on" KW_PRE "pre" KW_POST "post" KW_TRACE "trace" KW_RATE "rate" KW_OF "of"
%token KW_EVERY "every" KW_BOUNDS "bounds" KW_SOFT "soft" KW_METHOD "method" KW_LEVEL "level"
%token KW_SCALE "scale" KW_BY "by" KW_DELIVER "deliver" KW_IF "if" KW_THEN "then"
%token KW_ELSE "else" KW_AND "and" KW_OR "or" KW_NOT "not" KW_TRUE "true" KW_FALSE "false"
%token KW_POPULATION "population" KW_CONNECT "connect" KW_INPUT "input" KW_RECORD "record"
%token KW_USE "use" KW_AS "as" KW_AT "at" KW_FOR "for" KW_ENTER "enter" KW_EXIT "exit"
%token KW_SET "set" KW_SILENCE "silence" KW_LESION "lesion" KW_RELEASE "release"
%token KW_FRACTION "fraction" KW_VIA "via" KW_ONTO "onto" KW_WITH "with"
%token KW_ALL_TO_ALL "all_to_all" KW_ONE_TO_ONE "one_to_one" KW_PROBABILITY "probability"
%token KW_INDEGREE "indegree" KW_OUTDEGREE "outdegree" KW_FROM "from" KW_WEIGHT "weight"
%token KW_DELAY "delay" KW_AUTAPSES "autapses" KW_NO "no" KW_POISSON "poisson"
%token KW_SPIKES "spikes" KW_WINDOW "window" KW_DT "dt" KW_SEED "seed"
%token KW_PRECISION "precision"

%type <node> decl import neuron receptor synapse plasticity modulator context motif network
%type <node> simulate opt_onto sim_clause binding motif_param stmt if_stmt on_head
%type <node> net_item action clause call scale_target selector rec_name lvalue name_ref target
%type <node> expr or_e and_e not_e cmp_e add_e mul_e unary pow_e postfix primary arg
%type <node> opt_expr opt_fraction opt_for opt_as
%type <list> items item bindings block stmts names opt_names motif_params opt_motif_params
%type <list> net_items clauses sim_clauses rec_names targets args opt_args opt_paren_args
%type <list> opt_clamp
%type <str> dotted
%type <ival> opt_per assign_op cmp_op pre_post opt_soft

%initial-action {
    @$.file = ctx->file;
    @$.offset = 0;
    @$.len = 0;
}

%%

/* file -> { decl | ';' } */
file: decls ;

decls
    : %empty
    | decls decl    { if ($2 && tree_depth_ok(ctx, $2)) ast_push(A, &ctx->root->items, $2); }
    | decls ';'
    ;

decl
    : import | neuron | receptor | synapse | plasticity | modulator | context | motif
    | network | simulate
    | error         { $$ = NULL; }
    ;

/* import -> 'import' NAME { '.' NAME } */
import
    : KW_IMPORT dotted  { $$ = mk_named(ctx, AST_IMPORT, @$, $2, @2); }
    ;

dotted
    : IDENT             { $$ = $1; }
    | dotted '.' IDENT  { $$ = arena_printf(A, "%s.%s", $1, $3); }
    ;

/* neuron -> 'neuron' NAME '{' { item } '}'   (likewise plasticity, modulator, context) */
neuron: KW_NEURON IDENT '{' items '}'         { $$ = mk_decl(ctx, AST_NEURON, @$, $2, @2, $4); } ;
plasticity: KW_PLASTICITY IDENT '{' items '}' { $$ = mk_decl(ctx, AST_PLASTICITY, @$, $2, @2, $4); } ;
modulator: KW_MODULATOR IDENT '{' items '}'   { $$ = mk_decl(ctx, AST_MODULATOR, @$, $2, @2, $4); } ;
context: KW_CONTEXT IDENT '{' items '}'       { $$ = mk_decl(ctx, AST_CONTEXT, @$, $2, @2, $4); } ;

/* receptor -> 'receptor' NAME [ 'onto' NAME ] '{' { item } '}' */
receptor
    : KW_RECEPTOR IDENT opt_onto '{' items '}'
        { $$ = mk_decl(ctx, AST_RECEPTOR, @$, $2, @2, $5); $$->c = $3; }
    ;
opt_onto
    : %empty            { $$ = NULL; }
    | KW_ONTO IDENT     { $$ = mk_named(ctx, AST_NAME, @2, $2, @2); }
    ;

/* synapse -> 'synapse' NAME [ 'per' 'pre' ] '{' { item } '}'   ('per' is contextual) */
synapse
    : KW_SYNAPSE IDENT opt_per '{' items '}'
        { $$ = mk_decl(ctx, AST_SYNAPSE, @$, $2, @2, $5); $$->flags = $3; }
    ;
opt_per
    : %empty            { $$ = 0; }
    | IDENT KW_PRE      { expect_word(ctx, $1, @1, "per", "after the synapse name"); $$ = AST_F_PER_PRE; }
    ;

/* motif -> 'motif' NAME '(' [ motif_param { ',' motif_param } ] ')' '{' { net_item } '}' */
motif
    : KW_MOTIF IDENT '(' opt_motif_params ')' '{' net_items '}'
        { $$ = mk_decl(ctx, AST_MOTIF, @$, $2, @2, $7); $$->items2 = $4; }
    ;
opt_motif_params
    : %empty                            { $$ = (AstList){0}; }
    | motif_params
    ;
motif_params
    : motif_param                       { $$ = list1(ctx, $1); }
    | motif_params ',' motif_param      { $$ = list_add(ctx, $1, $3); }
    ;
/* motif_param -> NAME [ '=' expr ] */
motif_param
    : IDENT             { $$ = mk_named(ctx, AST_PARAM, @$, $1, @1); }
    | IDENT '=' expr    { $$ = mk_named(ctx, AST_PARAM, @$, $1, @1); $$->a = $3; }
    ;

/* network -> 'network' NAME '{' { net_item } '}' */
network
    : KW_NETWORK IDENT '{' net_items '}'  { $$ = mk_decl(ctx, AST_NETWORK, @$, $2, @2, $4); }
    ;

/* simulate -> 'simulate' NAME { sim_clause } */
simulate
    : KW_SIMULATE IDENT sim_clauses
        { $$ = mk_named(ctx, AST_SIMULATE, @$, $2, @2); $$->items = $3; }
    ;
sim_clauses
    : %empty                    { $$ = (AstList){0}; }
    | sim_clauses sim_clause    { $$ = list_add(ctx, $1, $2); }
    ;
/* sim_clause -> 'for' expr | 'dt' expr | 'seed' expr | 'method' NAME | 'precision' NAME */
sim_clause
    : KW_FOR expr               { $$ = mk_clause(ctx, CL_FOR, @$, $2); }
    | KW_DT expr                { $$ = mk_clause(ctx, CL_DT, @$, $2); }
    | KW_SEED expr              { $$ = mk_clause(ctx, CL_SEED, @$, $2); }
    | KW_METHOD IDENT           { $$ = mk_clause(ctx, CL_METHOD, @$, mk_named(ctx, AST_NAME, @2, $2, @2)); }
    | KW_PRECISION IDENT        { $$ = mk_clause(ctx, CL_PRECISION, @$, mk_named(ctx, AST_NAME, @2, $2, @2)); }
    ;

/* ---- body items -------------------------------------------------------- */

items
    : %empty            { $$ = (AstList){0}; }
    | items item        { $$ = list_cat(ctx, $1, $2); }
    | items ';'
    ;

/* item -> 'parameter' binding { ',' binding } | 'state' binding { ',' binding }
 *       | 'let' NAME '=' expr | DNAME '/' 'dt' '=' expr
 *       | 'spike' 'when' expr block | 'refractory' expr [ 'clamp' NAME { ',' NAME } ]
 *       | 'port' NAME '(' NAME { ',' NAME } ')' | 'current' expr | 'on' on_head block
 *       | 'trace' NAME expr 'on' ( 'pre' | 'post' ) ( '+=' | '=' ) expr
 *       | 'rate' NAME 'of' ( 'pre' | 'post' ) 'tau' expr | 'every' expr block
 *       | 'bounds' expr '..' expr [ 'soft' ] | 'method' NAME | 'level' NAME '=' expr
 *       | 'scale' scale_target 'by' expr */
item
    : KW_PARAMETER bindings         { $$ = set_kind($2, AST_PARAM); }
    | KW_STATE bindings             { $$ = set_kind($2, AST_STATE); }
    | KW_LET IDENT '=' expr
        { AstNode *n = mk_named(ctx, AST_DEF, @$, $2, @2); n->a = $4; $$ = list1(ctx, n); }
    | IDENT '/' KW_DT '=' expr
        {
            AstNode *n = mk_named(ctx, AST_ODE, @$, $1, @1);
            if ($1[0] == 'd' && $1[1]) {
                n->name = $1 + 1;
                n->name_span.offset++;
                n->name_span.len--;
            } else {
                diag_report(ctx->d, @1, DIAG_SYNTAX,
                            "expected a derivative 'dX/dt' (the name must start with 'd'), found '%s/dt'", $1);
            }
            n->a = $5;
            $$ = list1(ctx, n);
        }
    | KW_SPIKE KW_WHEN expr block
        { AstNode *n = mk(ctx, AST_SPIKE, @$); n->a = $3; n->items = $4; $$ = list1(ctx, n); }
    | KW_REFRACTORY expr opt_clamp
        { AstNode *n = mk(ctx, AST_REFRACTORY, @$); n->a = $2; n->items2 = $3; $$ = list1(ctx, n); }
    | KW_PORT IDENT '(' names ')'
        { AstNode *n = mk_named(ctx, AST_PORT, @$, $2, @2); n->items2 = $4; $$ = list1(ctx, n); }
    | KW_CURRENT expr
        { AstNode *n = mk(ctx, AST_CURRENT, @$); n->a = $2; $$ = list1(ctx, n); }
    | KW_ON on_head block
        { $2->span = @$; $2->items = $3; $$ = list1(ctx, $2); }
    | KW_TRACE IDENT expr KW_ON pre_post ADDEQ expr
        {
            AstNode *n = mk_named(ctx, AST_TRACE, @$, $2, @2);
            n->op = $5; n->a = $3; n->b = $7;
            $$ = list1(ctx, n);
        }
    | KW_TRACE IDENT expr KW_ON pre_post '=' expr
        {
            AstNode *n = mk_named(ctx, AST_TRACE, @$, $2, @2);
            n->op = $5; n->flags = AST_F_SET; n->a = $3; n->b = $7;
            $$ = list1(ctx, n);
        }
    | KW_RATE IDENT KW_OF pre_post IDENT expr
        {
            expect_word(ctx, $5, @5, "tau", "after 'of pre' or 'of post'");
            AstNode *n = mk_named(ctx, AST_RATE, @$, $2, @2);
            n->op = $4; n->a = $6;
            $$ = list1(ctx, n);
        }
    | KW_EVERY expr block
        { AstNode *n = mk(ctx, AST_EVERY, @$); n->a = $2; n->items = $3; $$ = list1(ctx, n); }
    | KW_BOUNDS expr DOTDOT expr opt_soft
        {
            AstNode *n = mk_op(ctx, AST_BOUNDS, 0, @$, $2, $4);
            n->flags = $5;
            $$ = list1(ctx, n);
        }
    | KW_METHOD IDENT
        { $$ = list1(ctx, mk_named(ctx, AST_METHOD, @$, $2, @2)); }
    | KW_LEVEL IDENT '=' expr
        { AstNode *n = mk_named(ctx, AST_LEVEL, @$, $2, @2); n->a = $4; $$ = list1(ctx, n); }
    | KW_SCALE scale_target KW_BY expr
        { $$ = list1(ctx, mk_op(ctx, AST_SCALE, 0, @$, $2, $4)); }
    | error         { $$ = (AstList){0}; }
    ;

/* binding -> NAME '=' expr */
bindings
    : binding               { $$ = list1(ctx, $1); }
    | bindings ',' binding  { $$ = list_add(ctx, $1, $3); }
    ;
binding
    : IDENT '=' expr        { $$ = mk_named(ctx, AST_PARAM, @$, $1, @1); $$->a = $3; }
    ;

opt_clamp
    : %empty                { $$ = (AstList){0}; }
    | KW_CLAMP names        { $$ = $2; }
    ;
names
    : IDENT                 { $$ = list1(ctx, mk_named(ctx, AST_NAME, @1, $1, @1)); }
    | names ',' IDENT       { $$ = list_add(ctx, $1, mk_named(ctx, AST_NAME, @3, $3, @3)); }
    ;
opt_names
    : %empty                { $$ = (AstList){0}; }
    | names
    ;

/* on_head -> 'spike' [ '(' NAME { ',' NAME } ')' ] | 'pre' | 'post'
 *          | 'release' [ '(' NAME { ',' NAME } ')' ] */
on_head
    : KW_SPIKE                      { $$ = mk_op(ctx, AST_ON, EV_SPIKE, @$, NULL, NULL); }
    | KW_SPIKE '(' opt_names ')'    { $$ = mk_op(ctx, AST_ON, EV_SPIKE, @$, NULL, NULL); $$->items2 = $3; }
    | KW_PRE                        { $$ = mk_op(ctx, AST_ON, EV_PRE, @$, NULL, NULL); }
    | KW_POST                       { $$ = mk_op(ctx, AST_ON, EV_POST, @$, NULL, NULL); }
    | KW_RELEASE                    { $$ = mk_op(ctx, AST_ON, EV_RELEASE, @$, NULL, NULL); }
    | KW_RELEASE '(' opt_names ')'  { $$ = mk_op(ctx, AST_ON, EV_RELEASE, @$, NULL, NULL); $$->items2 = $3; }
    ;

pre_post
    : KW_PRE        { $$ = EV_PRE; }
    | KW_POST       { $$ = EV_POST; }
    ;

opt_soft
    : %empty        { $$ = 0; }
    | KW_SOFT       { $$ = AST_F_SOFT; }
    ;

/* scale_target -> postfix | postfix '->' postfix selector */
scale_target
    : postfix
    | postfix ARROW postfix selector
        { $$ = mk_op(ctx, AST_PROJECTION, 0, @$, $1, $3); $$->name = $4->name; $$->name_span = $4->span; }
    ;
/* selector -> NAME | 'weight' | 'delay' */
selector
    : IDENT         { $$ = mk_named(ctx, AST_NAME, @1, $1, @1); }
    | KW_WEIGHT     { $$ = mk_named(ctx, AST_NAME, @1, "weight", @1); }
    | KW_DELAY      { $$ = mk_named(ctx, AST_NAME, @1, "delay", @1); }
    ;

/* ---- statements ------------------------------------------------------- */

/* block -> '{' { stmt } '}' */
block
    : '{' stmts '}'     { $$ = $2; }
    ;
stmts
    : %empty            { $$ = (AstList){0}; }
    | stmts stmt        { $$ = $2 ? list_add(ctx, $1, $2) : $1; }
    | stmts ';'
    ;

/* stmt -> lvalue ( '=' | '+=' | '-=' | '*=' | '/=' ) expr | 'deliver' expr | if_stmt */
stmt
    : lvalue assign_op expr     { $$ = mk_op(ctx, AST_ASSIGN, $2, @$, $1, $3); }
    | KW_DELIVER expr           { $$ = mk_op(ctx, AST_DELIVER, 0, @$, $2, NULL); }
    | if_stmt
    | error                     { $$ = NULL; }
    ;

/* if_stmt -> 'if' expr block [ 'else' ( block | if_stmt ) ] */
if_stmt
    : KW_IF expr block                      { $$ = mk_op(ctx, AST_IF, 0, @$, $2, NULL); $$->items = $3; }
    | KW_IF expr block KW_ELSE block
        { $$ = mk_op(ctx, AST_IF, 0, @$, $2, NULL); $$->items = $3; $$->items2 = $5; }
    | KW_IF expr block KW_ELSE if_stmt
        { $$ = mk_op(ctx, AST_IF, 0, @$, $2, NULL); $$->items = $3; $$->items2 = list1(ctx, $5); }
    ;

assign_op
    : '='       { $$ = ASSIGN_SET; }
    | ADDEQ     { $$ = ASSIGN_ADD; }
    | SUBEQ     { $$ = ASSIGN_SUB; }
    | MULEQ     { $$ = ASSIGN_MUL; }
    | DIVEQ     { $$ = ASSIGN_DIV; }
    ;

/* lvalue -> ( NAME | 'pre' | 'post' ) { '.' NAME } */
lvalue
    : name_ref
    | lvalue '.' IDENT      { $$ = mk_named(ctx, AST_MEMBER, @$, $3, @3); $$->a = $1; }
    ;
name_ref
    : IDENT                 { $$ = mk_named(ctx, AST_NAME, @$, $1, @1); }
    | KW_PRE                { $$ = mk_named(ctx, AST_NAME, @$, "pre", @1); }
    | KW_POST               { $$ = mk_named(ctx, AST_NAME, @$, "post", @1); }
    ;

/* ---- network items ------------------------------------------------------- */

net_items
    : %empty                { $$ = (AstList){0}; }
    | net_items net_item    { $$ = $2 ? list_add(ctx, $1, $2) : $1; }
    | net_items ';'
    ;

/* net_item -> 'population' NAME '=' expr 'of' ( NAME | 'poisson' ) [ '(' args ')' ]
 *           | 'connect' postfix '->' postfix { clause }
 *           | 'input' NAME '=' 'poisson' [ expr ] { clause } '->' postfix { clause }
 *           | 'input' NAME '=' 'spikes' 'from' STRING '->' postfix { clause }
 *           | 'input' NAME '=' 'current' expr '->' postfix { clause }
 *           | 'record' rec_name { ',' rec_name } 'of' target { ',' target } { clause }
 *           | 'use' NAME [ '(' args ')' ] [ 'as' NAME ]
 *           | 'at' expr [ 'for' expr ] action | 'at' expr action 'for' expr */
net_item
    : KW_POPULATION IDENT '=' expr KW_OF call
        { $$ = mk_named(ctx, AST_POPULATION, @$, $2, @2); $$->a = $4; $$->b = $6; }
    | KW_POPULATION IDENT '=' expr KW_OF KW_POISSON opt_paren_args
        {
            $$ = mk_named(ctx, AST_POPULATION, @$, $2, @2); $$->a = $4;
            $$->b = mk_named(ctx, AST_CALL, @6, "poisson", @6); $$->b->items = $7;
            $$->b->span = src_span_join(@6, @7);
        }
    | KW_CONNECT postfix ARROW postfix clauses
        { $$ = mk_op(ctx, AST_CONNECT, 0, @$, $2, $4); $$->items = $5; }
    | KW_INPUT IDENT '=' KW_POISSON opt_expr clauses ARROW postfix clauses
        {
            $$ = mk_named(ctx, AST_INPUT, @$, $2, @2);
            $$->op = INPUT_POISSON; $$->a = $5; $$->b = $8;
            $$->items = list_cat(ctx, $6, $9);
        }
    | KW_INPUT IDENT '=' KW_SPIKES KW_FROM STRING ARROW postfix clauses
        {
            $$ = mk_named(ctx, AST_INPUT, @$, $2, @2);
            $$->op = INPUT_SPIKES; $$->a = $6; $$->b = $8; $$->items = $9;
        }
    | KW_INPUT IDENT '=' KW_CURRENT expr ARROW postfix clauses
        {
            $$ = mk_named(ctx, AST_INPUT, @$, $2, @2);
            $$->op = INPUT_CURRENT; $$->a = $5; $$->b = $7; $$->items = $8;
        }
    | KW_RECORD rec_names KW_OF targets clauses
        { $$ = mk(ctx, AST_RECORD, @$); $$->items2 = $2; $$->items = list_cat(ctx, $4, $5); }
    | KW_USE call opt_as
        {
            $$ = mk(ctx, AST_USE, @$);
            $$->a = $2;
            if ($3) { $$->name = $3->name; $$->name_span = $3->span; }
        }
    | KW_AT expr action opt_for
        { $$ = mk(ctx, AST_AT, @$); $$->a = $2; $$->b = $4; $$->c = $3; }
    | KW_AT expr KW_FOR expr action
        { $$ = mk(ctx, AST_AT, @$); $$->a = $2; $$->b = $4; $$->c = $5; }
    | error         { $$ = NULL; }
    ;

opt_expr
    : %empty        { $$ = NULL; }
    | expr
    ;
opt_as
    : %empty        { $$ = NULL; }
    | KW_AS IDENT   { $$ = mk_named(ctx, AST_NAME, @2, $2, @2); }
    ;
opt_for
    : %empty        { $$ = NULL; }
    | KW_FOR expr   { $$ = $2; }
    ;

/* call -> NAME [ '(' [ arg { ',' arg } ] ')' ] */
call
    : IDENT opt_paren_args  { $$ = mk_named(ctx, AST_CALL, @$, $1, @1); $$->items = $2; }
    ;
opt_paren_args
    : %empty                { $$ = (AstList){0}; }
    | '(' opt_args ')'      { $$ = $2; }
    ;

/* rec_name -> NAME [ '.' NAME ] | 'spikes' | 'rate' | 'current' | 'weight'
 * (NAME '.' NAME: a receptor instance's state, `record AMPA.g of E`; the node
 * is one AST_NAME named "AMPA.g") */
rec_names
    : rec_name                  { $$ = list1(ctx, $1); }
    | rec_names ',' rec_name    { $$ = list_add(ctx, $1, $3); }
    ;
rec_name
    : IDENT         { $$ = mk_named(ctx, AST_NAME, @1, $1, @1); }
    | IDENT '.' IDENT
        { $$ = mk_named(ctx, AST_NAME, @$, arena_printf(A, "%s.%s", $1, $3), @$); }
    | KW_SPIKES     { $$ = mk_named(ctx, AST_NAME, @1, "spikes", @1); }
    | KW_RATE       { $$ = mk_named(ctx, AST_NAME, @1, "rate", @1); }
    | KW_CURRENT    { $$ = mk_named(ctx, AST_NAME, @1, "current", @1); }
    | KW_WEIGHT     { $$ = mk_named(ctx, AST_NAME, @1, "weight", @1); }
    ;
/* targets -> target { ',' target }
 * target  -> postfix | postfix '->' postfix      (a projection: `record weights of E -> I`) */
targets
    : target                { $$ = list1(ctx, mk_clause(ctx, CL_OF, @1, $1)); }
    | targets ',' target    { $$ = list_add(ctx, $1, mk_clause(ctx, CL_OF, @3, $3)); }
    ;
target
    : postfix
    | postfix ARROW postfix { $$ = mk_op(ctx, AST_PROJECTION, 0, @$, $1, $3); }
    ;

clauses
    : %empty                { $$ = (AstList){0}; }
    | clauses clause        { $$ = list_add(ctx, $1, $2); }
    ;

/* clause -> 'via' NAME | 'onto' NAME | 'synapse' call | 'with' call [ 'accelerated' 'by' expr ] | 'all_to_all'
 *         | 'one_to_one' | 'probability' expr | 'indegree' expr | 'outdegree' expr
 *         | 'from' STRING | 'weight' expr | 'delay' expr | [ 'no' ] 'autapses'
 *         | 'rate' expr | 'every' expr | 'window' expr
 * 'with' call may end in 'accelerated' 'by' expr (b: the factor; `accelerated`
 * is a contextual word, like `per` and `tau`) */
clause
    : KW_VIA IDENT          { $$ = mk_clause(ctx, CL_VIA, @$, mk_named(ctx, AST_NAME, @2, $2, @2)); }
    | KW_ONTO IDENT         { $$ = mk_clause(ctx, CL_ONTO, @$, mk_named(ctx, AST_NAME, @2, $2, @2)); }
    | KW_SYNAPSE call       { $$ = mk_clause(ctx, CL_SYNAPSE, @$, $2); }
    | KW_WITH call          { $$ = mk_clause(ctx, CL_WITH, @$, $2); }
    | KW_WITH call IDENT KW_BY expr
        {
            expect_word(ctx, $3, @3, "accelerated", "after the plasticity rule");
            $$ = mk_clause(ctx, CL_WITH, @$, $2);
            $$->b = $5;
        }
    | KW_ALL_TO_ALL         { $$ = mk_clause(ctx, CL_ALL_TO_ALL, @$, NULL); }
    | KW_ONE_TO_ONE         { $$ = mk_clause(ctx, CL_ONE_TO_ONE, @$, NULL); }
    | KW_PROBABILITY expr   { $$ = mk_clause(ctx, CL_PROBABILITY, @$, $2); }
    | KW_INDEGREE expr      { $$ = mk_clause(ctx, CL_INDEGREE, @$, $2); }
    | KW_OUTDEGREE expr     { $$ = mk_clause(ctx, CL_OUTDEGREE, @$, $2); }
    | KW_FROM STRING        { $$ = mk_clause(ctx, CL_FILE, @$, $2); }
    | KW_WEIGHT expr        { $$ = mk_clause(ctx, CL_WEIGHT, @$, $2); }
    | KW_DELAY expr         { $$ = mk_clause(ctx, CL_DELAY, @$, $2); }
    | KW_AUTAPSES           { $$ = mk_clause(ctx, CL_AUTAPSES, @$, NULL); }
    | KW_NO KW_AUTAPSES     { $$ = mk_clause(ctx, CL_AUTAPSES, @$, NULL); $$->flags = AST_F_NO; }
    | KW_RATE expr          { $$ = mk_clause(ctx, CL_RATE, @$, $2); }
    | KW_EVERY expr         { $$ = mk_clause(ctx, CL_EVERY, @$, $2); }
    | KW_WINDOW expr        { $$ = mk_clause(ctx, CL_WINDOW, @$, $2); }
    ;

/* action -> 'enter' NAME [ '(' args ')' ] | 'exit' NAME | 'set' lvalue '=' expr
 *         | ( 'silence' | 'lesion' ) postfix [ 'fraction' expr ] | 'release' NAME [ expr ] */
action
    : KW_ENTER IDENT opt_paren_args
        { $$ = mk_op(ctx, AST_ACTION, ACT_ENTER, @$, mk_named(ctx, AST_NAME, @2, $2, @2), NULL); $$->items = $3; }
    | KW_EXIT IDENT
        { $$ = mk_op(ctx, AST_ACTION, ACT_EXIT, @$, mk_named(ctx, AST_NAME, @2, $2, @2), NULL); }
    | KW_SET lvalue '=' expr
        { $$ = mk_op(ctx, AST_ACTION, ACT_SET, @$, $2, $4); }
    | KW_SILENCE postfix opt_fraction
        { $$ = mk_op(ctx, AST_ACTION, ACT_SILENCE, @$, $2, $3); }
    | KW_LESION postfix opt_fraction
        { $$ = mk_op(ctx, AST_ACTION, ACT_LESION, @$, $2, $3); }
    | KW_RELEASE IDENT opt_expr
        { $$ = mk_op(ctx, AST_ACTION, ACT_RELEASE, @$, mk_named(ctx, AST_NAME, @2, $2, @2), $3); }
    ;
opt_fraction
    : %empty                { $$ = NULL; }
    | KW_FRACTION expr      { $$ = $2; }
    ;

/* ---- expressions, loosest first ---------------------------------------- */

/* expr -> 'if' expr 'then' expr 'else' expr | or_e */
expr
    : KW_IF expr KW_THEN expr KW_ELSE expr
        { $$ = mk_op(ctx, AST_COND, 0, @$, $2, $4); $$->c = $6; }
    | or_e
    ;
/* or_e -> and_e { 'or' and_e } */
or_e
    : and_e
    | or_e KW_OR and_e      { $$ = mk_op(ctx, AST_BINARY, OP_OR, @$, $1, $3); }
    ;
/* and_e -> not_e { 'and' not_e } */
and_e
    : not_e
    | and_e KW_AND not_e    { $$ = mk_op(ctx, AST_BINARY, OP_AND, @$, $1, $3); }
    ;
/* not_e -> 'not' not_e | cmp_e */
not_e
    : KW_NOT not_e          { $$ = mk_op(ctx, AST_UNARY, OP_NOT, @$, $2, NULL); }
    | cmp_e
    ;
/* cmp_e -> add_e [ ( '<' | '<=' | '>' | '>=' | '==' | '!=' ) add_e ]   (non-associative) */
cmp_e
    : add_e
    | add_e cmp_op add_e    { $$ = mk_op(ctx, AST_BINARY, $2, @$, $1, $3); }
    ;
cmp_op
    : '<'   { $$ = OP_LT; }
    | LE    { $$ = OP_LE; }
    | '>'   { $$ = OP_GT; }
    | GE    { $$ = OP_GE; }
    | EQ    { $$ = OP_EQ; }
    | NE    { $$ = OP_NE; }
    ;
/* add_e -> mul_e { ( '+' | '-' ) mul_e } */
add_e
    : mul_e
    | add_e '+' mul_e       { $$ = mk_op(ctx, AST_BINARY, OP_ADD, @$, $1, $3); }
    | add_e '-' mul_e       { $$ = mk_op(ctx, AST_BINARY, OP_SUB, @$, $1, $3); }
    ;
/* mul_e -> unary { ( '*' | '/' ) unary } */
mul_e
    : unary
    | mul_e '*' unary       { $$ = mk_op(ctx, AST_BINARY, OP_MUL, @$, $1, $3); }
    | mul_e '/' unary       { $$ = mk_op(ctx, AST_BINARY, OP_DIV, @$, $1, $3); }
    ;
/* unary -> ( '-' | '+' ) unary | pow_e */
unary
    : '-' unary             { $$ = mk_op(ctx, AST_UNARY, OP_NEG, @$, $2, NULL); }
    | '+' unary             { $$ = mk_op(ctx, AST_UNARY, OP_PLUS, @$, $2, NULL); }
    | pow_e
    ;
/* pow_e -> postfix [ '^' unary ]   (right-associative; -x^2 is -(x^2)) */
pow_e
    : postfix
    | postfix '^' unary     { $$ = mk_op(ctx, AST_BINARY, OP_POW, @$, $1, $3); }
    ;
/* postfix -> primary { '.' NAME | '[' expr [ '..' expr ] ']' } */
postfix
    : primary
    | postfix '.' IDENT
        { $$ = mk_named(ctx, AST_MEMBER, @$, $3, @3); $$->a = $1; }
    | postfix '[' expr ']'
        { $$ = mk_op(ctx, AST_RANGE, 0, @$, $3, NULL); $$->c = $1; $$->name = $1->name; $$->name_span = $1->name_span; }
    | postfix '[' expr DOTDOT expr ']'
        { $$ = mk_op(ctx, AST_RANGE, 0, @$, $3, $5); $$->c = $1; $$->name = $1->name; $$->name_span = $1->name_span; }
    ;
/* primary -> NUMBER | QUANTITY | STRING | 'true' | 'false' | NAME | 'dt' | 'pre' | 'post'
 *          | NAME '(' [ arg { ',' arg } ] ')' | '(' expr ')' */
primary
    : NUM
    | STRING
    | KW_TRUE               { $$ = mk(ctx, AST_BOOL, @$); $$->num = 1; }
    | KW_FALSE              { $$ = mk(ctx, AST_BOOL, @$); }
    | IDENT                 { $$ = mk_named(ctx, AST_NAME, @$, $1, @1); }
    | KW_DT                 { $$ = mk_named(ctx, AST_NAME, @$, "dt", @1); }
    | KW_PRE                { $$ = mk_named(ctx, AST_NAME, @$, "pre", @1); }
    | KW_POST               { $$ = mk_named(ctx, AST_NAME, @$, "post", @1); }
    | IDENT '(' opt_args ')'    { $$ = mk_named(ctx, AST_CALL, @$, $1, @1); $$->items = $3; }
    | '(' expr ')'          { $$ = $2; }
    ;
opt_args
    : %empty                { $$ = (AstList){0}; }
    | args
    ;
args
    : arg                   { $$ = list1(ctx, $1); }
    | args ',' arg          { $$ = list_add(ctx, $1, $3); }
    ;
/* arg -> expr | NAME '=' expr | NAME '.' NAME '=' expr | 'rate' '=' expr (poisson(rate = R))
 * (the dotted form overrides a receptor's parameter or state: `AMPA.g = 0 nS`) */
arg
    : expr
    | expr '=' expr         { $$ = mk_arg(ctx, @$, $1, $3); }
    | KW_RATE '=' expr      { $$ = mk_arg(ctx, @$, mk_named(ctx, AST_NAME, @1, "rate", @1), $3); }
    ;

%%

/* ---- node helpers (all nodes live in ctx->arena) ----------------------- */

static AstNode *mk(ParseCtx *ctx, AstKind k, SrcSpan sp) { return ast_new(A, k, sp); }

static AstNode *mk_named(ParseCtx *ctx, AstKind k, SrcSpan sp, const char *name, SrcSpan nsp) {
    AstNode *n = ast_new(A, k, sp);
    n->name = name;
    n->name_span = nsp;
    return n;
}

/* A named argument `name = value` or `Receptor.name = value`; anything else
 * left of '=' is a syntax error (reported here, the argument is dropped). */
static AstNode *mk_arg(ParseCtx *ctx, SrcSpan sp, AstNode *target, AstNode *value) {
    const char *name = NULL;
    if (target->kind == AST_NAME) name = target->name;
    else if (target->kind == AST_MEMBER && target->a->kind == AST_NAME)
        name = arena_printf(A, "%s.%s", target->a->name, target->name);
    if (!name) {
        diag_report(ctx->d, target->span, DIAG_SYNTAX,
                    "expected a name before '=' in an argument (name = value or Receptor.name = value)");
        return value;
    }
    AstNode *n = mk_named(ctx, AST_ARG, sp, name, target->span);
    n->a = value;
    return n;
}

static AstNode *mk_op(ParseCtx *ctx, AstKind k, int op, SrcSpan sp, AstNode *a, AstNode *b) {
    AstNode *n = ast_new(A, k, sp);
    n->op = op;
    n->a = a;
    n->b = b;
    return n;
}

static AstNode *mk_clause(ParseCtx *ctx, AstClauseKind k, SrcSpan sp, AstNode *value) {
    return mk_op(ctx, AST_CLAUSE, (int)k, sp, value, NULL);
}

static AstNode *mk_decl(ParseCtx *ctx, AstKind k, SrcSpan sp, const char *name, SrcSpan nsp,
                        AstList body) {
    AstNode *n = mk_named(ctx, k, sp, name, nsp);
    n->items = body;
    return n;
}

static AstList list1(ParseCtx *ctx, AstNode *n) {
    AstList l = {0};
    ast_push(A, &l, n);
    return l;
}

static AstList list_add(ParseCtx *ctx, AstList l, AstNode *n) {
    ast_push(A, &l, n);
    return l;
}

static AstList list_cat(ParseCtx *ctx, AstList l, AstList m) {
    for (int i = 0; i < m.n; i++) ast_push(A, &l, m.v[i]);
    return l;
}

/* `parameter` and `state` share the binding rule; this sets the kind. */
static AstList set_kind(AstList l, AstKind k) {
    for (int i = 0; i < l.n; i++) l.v[i]->kind = k;
    return l;
}

/* Contextual words (`per`, `tau`) are names to the grammar; this checks the
 * spelling and reports a syntax error when it is another word. */
static bool expect_word(ParseCtx *ctx, const char *got, SrcSpan sp, const char *want,
                        const char *where) {
    if (strcmp(got, want) == 0) return true;
    diag_report(ctx->d, sp, DIAG_SYNTAX, "expected '%s' %s, found '%s'", want, where, got);
    return false;
}

/* Long operator chains (`1+1+...+1`) nest the tree without nesting the
 * parser, and every later pass walks trees recursively. This checks a
 * finished declaration without recursion; a tree deeper than
 * PARSE_MAX_TREE_DEPTH is reported, dropped, and ends the parse. */
static bool tree_depth_ok(ParseCtx *ctx, AstNode *decl) {
    typedef struct { const AstNode *n; int depth; } Item;
    size_t cap = 256, top = 0;
    Item *stack = malloc(cap * sizeof *stack);
    const AstNode *bad = NULL;
    if (!stack) return true; /* out of memory: skip the check rather than fail the parse */
    stack[top++] = (Item){decl, 1};
    while (top > 0 && !bad) {
        Item it = stack[--top];
        if (it.depth > PARSE_MAX_TREE_DEPTH) {
            bad = it.n;
            break;
        }
        const AstNode *n = it.n;
        size_t need = top + 3 + (size_t)n->items.n + (size_t)n->items2.n;
        if (need > cap) {
            while (need > cap) cap *= 2;
            Item *grown = realloc(stack, cap * sizeof *stack);
            if (!grown) break;
            stack = grown;
        }
        const AstNode *kids[3] = {n->a, n->b, n->c};
        for (int i = 0; i < 3; i++)
            if (kids[i]) stack[top++] = (Item){kids[i], it.depth + 1};
        for (int i = 0; i < n->items.n; i++) stack[top++] = (Item){n->items.v[i], it.depth + 1};
        for (int i = 0; i < n->items2.n; i++) stack[top++] = (Item){n->items2.v[i], it.depth + 1};
    }
    free(stack);
    if (!bad) return true;
    if (!ctx->stop)
        diag_report(ctx->d, bad->span, DIAG_TOO_DEEP,
                    "nesting too deep: this declaration's syntax tree is more than %d levels deep",
                    PARSE_MAX_TREE_DEPTH);
    ctx->stop = true;
    return false;
}

/* ---- keywords and token names ------------------------------------------ */

/* yysymbol_name() gives a keyword's spelling ("import"); keyword symbols are
 * consecutive and in the same order as their token kinds. */
int parse_keyword(const char *s, size_t n) {
    for (int k = YYSYMBOL_KW_IMPORT; k <= YYSYMBOL_KW_PRECISION; k++) {
        const char *name = yysymbol_name((yysymbol_kind_t)k);
        if (name[0] == s[0] && strncmp(name, s, n) == 0 && name[n] == 0)
            return KW_IMPORT + (k - YYSYMBOL_KW_IMPORT);
    }
    return 0;
}

/* "'import'", "'->'", "'='", "name", "end of file": a token as messages name it. */
static const char *symbol_desc(yysymbol_kind_t k) {
    static char buf[YYNTOKENS][24];
    if (k == YYSYMBOL_YYEOF) return "end of file";
    if (k == YYSYMBOL_IDENT) return "name";
    if (k == YYSYMBOL_NUM) return "number";
    if (k == YYSYMBOL_STRING) return "string";
    const char *name = yysymbol_name(k);
    if (k >= YYNTOKENS || name[0] == '\'' || k == YYSYMBOL_YYerror || k == YYSYMBOL_YYUNDEF)
        return name;
    if (!buf[k][0]) /* keywords and operators get quotes; the text is the same each time */
        snprintf(buf[k], sizeof buf[k], "'%s'", name);
    return buf[k];
}

const char *parse_token_desc(int tok) {
    return symbol_desc(YYTRANSLATE(tok));
}

/* ---- syntax error messages ---------------------------------------------- */

/* What the source says at `sp`, quoted and shortened for a message. */
static const char *span_text(ParseCtx *ctx, SrcSpan sp) {
    const char *t = ctx->src->files[sp.file].text + sp.offset;
    uint32_t n = sp.len > 24 ? 24 : sp.len;
    char buf[40];
    size_t j = 0;
    for (uint32_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        buf[j++] = (c >= 0x20 && c != 0x7f) ? (char)c : '?';
    }
    buf[j] = 0;
    return arena_printf(A, "'%s%s'", buf, sp.len > n ? "..." : "");
}

static bool is_expr_start(yysymbol_kind_t k) {
    switch (k) {
    case YYSYMBOL_NUM: case YYSYMBOL_STRING: case YYSYMBOL_IDENT: case YYSYMBOL_KW_TRUE:
    case YYSYMBOL_KW_FALSE: case YYSYMBOL_KW_DT: case YYSYMBOL_KW_PRE: case YYSYMBOL_KW_POST:
    case YYSYMBOL_KW_IF: case YYSYMBOL_KW_NOT:
        return true;
    default:
        return k == YYTRANSLATE('(') || k == YYTRANSLATE('-') || k == YYTRANSLATE('+');
    }
}

static bool is_binary_op(yysymbol_kind_t k) {
    static const char ops[] = "+-*/^<>.[(";
    for (const char *o = ops; *o; o++)
        if (k == YYTRANSLATE((unsigned char)*o)) return true;
    return k == YYSYMBOL_LE || k == YYSYMBOL_GE || k == YYSYMBOL_EQ || k == YYSYMBOL_NE ||
           k == YYSYMBOL_KW_AND || k == YYSYMBOL_KW_OR;
}

/* "expression", "'=' or '+='", "')' or operator", ...: what could come
 * next. Expression starts collapse into "expression" and the operators that
 * could continue an expression into "operator"; NULL when still too many
 * tokens remain to list them helpfully. */
static const char *expected_text(ParseCtx *ctx, const yypcontext_t *yyctx) {
    yysymbol_kind_t exp[YYNTOKENS];
    int n = yypcontext_expected_tokens(yyctx, exp, YYNTOKENS);
    bool has_expr = false, has_op = false;
    for (int i = 0; i < n; i++) {
        if (exp[i] == YYSYMBOL_NUM) has_expr = true;
        if (exp[i] == YYTRANSLATE('*')) has_op = true;
    }
    const char *parts[8];
    int np = 0;
    if (has_expr) parts[np++] = "expression";
    for (int i = 0; i < n; i++) {
        if ((has_expr && is_expr_start(exp[i])) || (has_op && is_binary_op(exp[i]))) continue;
        if (np == 6) return NULL;
        parts[np++] = symbol_desc(exp[i]);
    }
    if (has_op) parts[np++] = "operator";
    if (np == 0) return NULL;
    const char *s = parts[0];
    for (int i = 1; i < np; i++)
        s = arena_printf(A, "%s%s%s", s, i == np - 1 ? " or " : ", ", parts[i]);
    return s;
}

/* Names what was just parsed: "after parameter name" when a declaring
 * keyword precedes the name, "after expression" after an expression, else
 * "after 'tok'" with the token before the unexpected one. NULL at the start. */
static const char *after_text(ParseCtx *ctx, const yypcontext_t *yyctx) {
    const yy_state_t *sp = yyctx->yyssp;
    if (*sp == 0 || ctx->prev2_span.file == 0) return NULL;
    yysymbol_kind_t top = (yysymbol_kind_t)yystos[*sp];
    if (top == YYSYMBOL_IDENT) {
        yysymbol_kind_t below = (yysymbol_kind_t)yystos[sp[-1]];
        if (below >= YYSYMBOL_KW_IMPORT && below <= YYSYMBOL_KW_PRECISION)
            return arena_printf(A, " after %s name", yysymbol_name(below));
        return arena_printf(A, " after name %s", span_text(ctx, ctx->prev2_span));
    }
    static const char *exprs[] = {"expr", "or_e", "and_e", "not_e", "cmp_e", "add_e",
                                  "mul_e", "unary", "pow_e", "postfix", "primary"};
    for (size_t i = 0; i < sizeof exprs / sizeof *exprs; i++)
        if (strcmp(yysymbol_name(top), exprs[i]) == 0) return " after expression";
    return arena_printf(A, " after %s", span_text(ctx, ctx->prev2_span));
}

static bool expects(const yypcontext_t *yyctx, yysymbol_kind_t want) {
    yysymbol_kind_t exp[YYNTOKENS];
    int n = yypcontext_expected_tokens(yyctx, exp, YYNTOKENS);
    for (int i = 0; i < n; i++)
        if (exp[i] == want) return true;
    return false;
}

/* Notes where the innermost bracket still open was opened. */
static void note_open_bracket(ParseCtx *ctx, Diagnostic *g) {
    if (ctx->depth <= 0) return;
    uint32_t o = ctx->open_at[ctx->depth - 1];
    char c = ctx->src->files[ctx->file].text[o];
    diag_note(ctx->d, g, (SrcSpan){ctx->file, o, 1}, "to match this '%c'", c);
}

/* Words syntax errors as "expected X after Y, found Z" (SPEC.md [S-syn-6]).
 * A declaration keyword where '}' could close a body most likely means a
 * forgotten '}', which gets its own message. */
static int yyreport_syntax_error(const yypcontext_t *yyctx, yyscan_t scanner, ParseCtx *ctx) {
    if (ctx->stop) return 0; /* the scanner already said why it stopped */
    yysymbol_kind_t tok = yypcontext_token(yyctx);
    SrcSpan at = *yypcontext_location(yyctx);
    const char *found = tok == YYSYMBOL_YYEOF ? "end of file" : span_text(ctx, at);
    if (tok >= YYSYMBOL_KW_IMPORT && tok <= YYSYMBOL_KW_SIMULATE && expects(yyctx, YYTRANSLATE('}'))) {
        Diagnostic *g = diag_report(ctx->d, at, DIAG_SYNTAX,
                                    "expected '}' before the next declaration, found %s", found);
        note_open_bracket(ctx, g);
        return 0;
    }
    const char *exp = expected_text(ctx, yyctx);
    const char *after = after_text(ctx, yyctx);
    Diagnostic *g;
    if (exp)
        g = diag_report(ctx->d, at, DIAG_SYNTAX, "expected %s%s, found %s", exp, after ? after : "",
                        found);
    else
        g = diag_report(ctx->d, at, DIAG_SYNTAX, "unexpected %s%s", found, after ? after : "");
    if (tok == YYSYMBOL_YYEOF) note_open_bracket(ctx, g);
    return 0;
}

/* Bison calls this only when its stack is exhausted, i.e. for constructs that
 * nest without brackets (long else-if chains); report it as too deep. */
static void yyerror(SrcSpan *loc, yyscan_t scanner, ParseCtx *ctx, const char *msg) {
    (void)msg;
    if (ctx->stop) return;
    diag_report(ctx->d, *loc, DIAG_TOO_DEEP, "nesting too deep: the parser stack is exhausted");
    ctx->stop = true;
}

/* ---- entry point ---------------------------------------------------------- */

void parse_ctx_init(ParseCtx *c, SourceSet *src, uint32_t file, Diags *d) {
    memset(c, 0, sizeof *c);
    c->src = src;
    c->arena = src->arena;
    c->d = d;
    c->file = file;
    c->errors_at_start = d->nerrors;
    SrcFile *f = &src->files[file];
    c->root = ast_new(src->arena, AST_FILE, (SrcSpan){file, 0, (uint32_t)f->len});
    c->root->name = f->path;
}

/* Parses file `file`; see parse.h. The scanner's buffers are freed here; the
 * AST is in src->arena. */
AstNode *parse_file(SourceSet *src, uint32_t file, Diags *d) {
    ParseCtx ctx;
    parse_ctx_init(&ctx, src, file, d);
    SrcFile *f = &src->files[file];
    yyscan_t scanner;
    if (yylex_init_extra(&ctx, &scanner) != 0) {
        diag_report(d, (SrcSpan){file, 0, 0}, DIAG_FILE_UNREADABLE, "out of memory scanning '%s'", f->path);
        return ctx.root;
    }
    YY_BUFFER_STATE buf = yy_scan_bytes(f->text, (int)f->len, scanner);
    yyparse(scanner, &ctx);
    yy_delete_buffer(buf, scanner);
    yylex_destroy(scanner);
    if (ctx.root->items.n == 0 && d->nerrors == ctx.errors_at_start)
        diag_report(d, (SrcSpan){file, 0, 0}, DIAG_EMPTY_FILE, "'%s' contains no declarations", f->path);
    return ctx.root;
}
