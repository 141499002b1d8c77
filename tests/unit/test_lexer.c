/* test_lexer.c - the scanner (lang/lexer.l): tokens, quantities, spans and
 * lexical diagnostics (SPEC.md section 2). Drives the flex scanner directly
 * through the generated lexer.h, as the parser does. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"
#include "lexer.h"

static Arena arena;
static SourceSet src;
static Diags diags;

static void setup(void) {
    arena_init(&arena);
    src_init(&src, &arena);
    diag_init(&diags, &src, NULL); /* keep diagnostics in diags.first */
}

static void teardown(void) { arena_free(&arena); }

typedef struct Tok {
    int tok;
    SrcSpan sp;
    YYSTYPE v;
} Tok;

enum { MAX_TOKS = 64 };
static Tok toks[MAX_TOKS];

/* Lexes text[0..len) as file "t.ei" into toks[]; returns the token count
 * (all tokens are counted, at most MAX_TOKS stored). */
static int lex_n(const char *text, size_t len) {
    uint32_t f = src_add(&src, "t.ei", text, len);
    ParseCtx ctx;
    parse_ctx_init(&ctx, &src, f, &diags);
    yyscan_t sc;
    ck_assert_int_eq(yylex_init_extra(&ctx, &sc), 0);
    YY_BUFFER_STATE b = yy_scan_bytes(src.files[f].text, (int)len, sc);
    int n = 0;
    for (;;) {
        YYSTYPE v;
        SrcSpan sp;
        int t = yylex(&v, &sp, sc);
        if (t == 0) break;
        if (n < MAX_TOKS) toks[n] = (Tok){t, sp, v};
        n++;
    }
    yy_delete_buffer(b, sc);
    yylex_destroy(sc);
    return n;
}

static int lex(const char *text) { return lex_n(text, strlen(text)); }

static void line_col(SrcSpan sp, uint32_t *line, uint32_t *col) {
    src_line_col(&src, sp.file, sp.offset, line, col);
}

/* Asserts that diagnostic number `i` (0-based) has id, line:col, length and
 * a message containing `text`. */
static void check_diag(int i, DiagId id, uint32_t line, uint32_t col, uint32_t len, const char *text) {
    Diagnostic *g = diags.first;
    for (int k = 0; k < i && g; k++) g = g->next;
    ck_assert_msg(g != NULL, "no diagnostic #%d", i);
    ck_assert_str_eq(diag_id_name(g->id), diag_id_name(id));
    uint32_t l, c;
    line_col(g->span, &l, &c);
    ck_assert_uint_eq(l, line);
    ck_assert_uint_eq(c, col);
    ck_assert_uint_eq(g->span.len, len);
    ck_assert_msg(strstr(g->message, text) != NULL, "message '%s' lacks '%s'", g->message, text);
}

/* [S-lex-4] the whole keyword set, in SPEC.md order; each is its own token. */
static const char *keywords[] = {
    "import", "neuron", "receptor", "synapse", "plasticity", "modulator", "context", "motif",
    "network", "simulate", "parameter", "state", "let", "spike", "when", "refractory", "clamp",
    "port", "current", "on", "pre", "post", "trace", "rate", "of", "every", "bounds", "soft",
    "method", "level", "scale", "by", "deliver", "if", "then", "else", "and", "or", "not", "true",
    "false", "population", "connect", "input", "record", "use", "as", "at", "for", "enter", "exit",
    "set", "silence", "lesion", "release", "fraction", "via", "onto", "with", "all_to_all",
    "one_to_one", "probability", "indegree", "outdegree", "from", "weight", "delay", "autapses",
    "no", "poisson", "spikes", "window", "dt", "seed", "precision",
};

START_TEST(keywords_are_tokens) {
    int nk = (int)(sizeof keywords / sizeof *keywords);
    ck_assert_int_eq(nk, KW_PRECISION - KW_IMPORT + 1);
    for (int i = 0; i < nk; i++) {
        ck_assert_int_eq(lex(keywords[i]), 1);
        ck_assert_int_eq(toks[0].tok, KW_IMPORT + i);
        char quoted[32];
        snprintf(quoted, sizeof quoted, "'%s'", keywords[i]);
        ck_assert_str_eq(parse_token_desc(toks[0].tok), quoted);
        ck_assert_int_eq(parse_keyword(keywords[i], strlen(keywords[i])), KW_IMPORT + i);
    }
    /* prefixes, extensions and other cases of keywords are names */
    const char *names[] = {"imports", "neuro", "Neuron", "tau", "per", "d", "x_1", "_"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        ck_assert_int_eq(lex(names[i]), 1);
        ck_assert_int_eq(toks[0].tok, IDENT);
        ck_assert_str_eq(toks[0].v.str, names[i]);
    }
    ck_assert_int_eq(diags.nerrors, 0);
}
END_TEST

START_TEST(operators_and_punctuation) {
    const char *text = "-> .. += -= *= /= <= >= == != - + * / ^ < > = ( ) { } [ ] , . ;";
    int want[] = {ARROW, DOTDOT, ADDEQ, SUBEQ, MULEQ, DIVEQ, LE, GE, EQ, NE, '-', '+', '*', '/',
                  '^', '<', '>', '=', '(', ')', '{', '}', '[', ']', ',', '.', ';'};
    int n = (int)(sizeof want / sizeof *want);
    ck_assert_int_eq(lex(text), n);
    for (int i = 0; i < n; i++) ck_assert_int_eq(toks[i].tok, want[i]);
    ck_assert_uint_eq(toks[2].sp.offset, 6);
    ck_assert_uint_eq(toks[2].sp.len, 2);
    ck_assert_int_eq(diags.nerrors, 0);
}
END_TEST

/* [S-lex-6] a number and a unit on the same line are one quantity token. */
START_TEST(quantities) {
    ck_assert_int_eq(lex("200 pF"), 1);
    AstNode *q = toks[0].v.node;
    ck_assert_int_eq(toks[0].tok, NUM);
    ck_assert_double_eq(q->num, 200);
    ck_assert_str_eq(q->unit, "pF");
    ck_assert_uint_eq(q->span.offset, 0);
    ck_assert_uint_eq(q->span.len, 6);
    ck_assert_uint_eq(q->unit_span.offset, 4);
    ck_assert_uint_eq(q->unit_span.len, 2);

    ck_assert_int_eq(lex("1e-3 mV"), 1);
    ck_assert_double_eq_tol(toks[0].v.node->num, 1e-3, 1e-18);
    ck_assert_str_eq(toks[0].v.node->unit, "mV");

    ck_assert_int_eq(lex("2e3ms 0.1\tms 5Hz"), 3);
    ck_assert_double_eq(toks[0].v.node->num, 2000);
    ck_assert_str_eq(toks[0].v.node->unit, "ms");
    ck_assert_double_eq_tol(toks[1].v.node->num, 0.1, 1e-15);
    ck_assert_str_eq(toks[1].v.node->unit, "ms");
    ck_assert_str_eq(toks[2].v.node->unit, "Hz");

    /* a unit made of letters and an exponent-like start: "2em" is 2 em */
    ck_assert_int_eq(lex("2em"), 1);
    ck_assert_double_eq(toks[0].v.node->num, 2);
    ck_assert_str_eq(toks[0].v.node->unit, "em");

    /* Ω is a unit character: 1 kΩ, 3 Ω, 2MΩ */
    ck_assert_int_eq(lex("1 k\xCE\xA9 3 \xCE\xA9 2M\xCE\xA9"), 3);
    ck_assert_str_eq(toks[0].v.node->unit, "k\xCE\xA9");
    ck_assert_str_eq(toks[1].v.node->unit, "\xCE\xA9");
    ck_assert_str_eq(toks[2].v.node->unit, "M\xCE\xA9");
    ck_assert_int_eq(diags.nerrors, 0);
}
END_TEST

START_TEST(quantity_boundaries) {
    /* a keyword after a number is not a unit */
    ck_assert_int_eq(lex("3200 of LIF"), 3);
    ck_assert_int_eq(toks[0].tok, NUM);
    ck_assert_ptr_null(toks[0].v.node->unit);
    ck_assert_uint_eq(toks[0].sp.len, 4);
    ck_assert_uint_eq(toks[0].v.node->span.len, 4);
    ck_assert_int_eq(toks[1].tok, KW_OF);
    ck_assert_uint_eq(toks[1].sp.offset, 5);
    ck_assert_int_eq(toks[2].tok, IDENT);

    /* a newline ends the quantity */
    ck_assert_int_eq(lex("5\nHz"), 2);
    ck_assert_ptr_null(toks[0].v.node->unit);
    ck_assert_int_eq(toks[1].tok, IDENT);

    /* '^' right after a number keeps it a number; later units are expressions */
    ck_assert_int_eq(lex("2^3 1 mV/ms"), 6);
    ck_assert_int_eq(toks[1].tok, '^');
    ck_assert_str_eq(toks[3].v.node->unit, "mV");
    ck_assert_int_eq(toks[4].tok, '/');
    ck_assert_int_eq(toks[5].tok, IDENT);

    /* no leading or trailing dot: E[0..9] */
    ck_assert_int_eq(lex("E[0..9]"), 6);
    int want[] = {IDENT, '[', NUM, DOTDOT, NUM, ']'};
    for (int i = 0; i < 6; i++) ck_assert_int_eq(toks[i].tok, want[i]);
    ck_assert_double_eq(toks[4].v.node->num, 9);
    ck_assert_int_eq(diags.nerrors, 0);
}
END_TEST

/* After '.', keywords are member names: drive.rate, post.weight. */
START_TEST(member_names_after_dot) {
    ck_assert_int_eq(lex("drive.rate post.weight"), 6);
    ck_assert_int_eq(toks[2].tok, IDENT);
    ck_assert_str_eq(toks[2].v.str, "rate");
    ck_assert_int_eq(toks[3].tok, KW_POST);
    ck_assert_int_eq(toks[5].tok, IDENT);
    ck_assert_str_eq(toks[5].v.str, "weight");
}
END_TEST

START_TEST(comments_and_spans) {
    const char *text = "a # line comment\n  b /* block\n * still */ c\n\"str\"";
    ck_assert_int_eq(lex(text), 4);
    uint32_t l, c;
    line_col(toks[1].sp, &l, &c);
    ck_assert_uint_eq(l, 2);
    ck_assert_uint_eq(c, 3);
    line_col(toks[2].sp, &l, &c);
    ck_assert_uint_eq(l, 3);
    ck_assert_uint_eq(c, 13);
    ck_assert_int_eq(toks[3].tok, STRING);
    ck_assert_str_eq(toks[3].v.node->name, "str");
    ck_assert_uint_eq(toks[3].sp.len, 5);
    ck_assert_int_eq(diags.nerrors, 0);
}
END_TEST

START_TEST(unterminated_comment) {
    ck_assert_int_eq(lex("a\n  /* no end\n b"), 1);
    ck_assert_int_eq(diags.nerrors, 1);
    check_diag(0, DIAG_UNTERMINATED_COMMENT, 2, 3, 2, "'*/'");
}
END_TEST

START_TEST(unterminated_string) {
    ck_assert_int_eq(lex("x = \"abc\ny"), 4);
    ck_assert_int_eq(toks[2].tok, STRING);
    ck_assert_str_eq(toks[2].v.node->name, "abc");
    ck_assert_int_eq(toks[3].tok, IDENT);
    ck_assert_int_eq(diags.nerrors, 1);
    check_diag(0, DIAG_UNTERMINATED_STRING, 1, 5, 1, "string");
}
END_TEST

/* [S-lex-5] */
START_TEST(number_out_of_range) {
    ck_assert_int_eq(lex("1e999 ms"), 1);
    ck_assert(isinf(toks[0].v.node->num));
    check_diag(0, DIAG_NUMBER_RANGE, 1, 1, 5, "1e999");
    char big[400];
    memset(big, '9', sizeof big - 1);
    big[sizeof big - 1] = 0;
    ck_assert_int_eq(lex(big), 1);
    ck_assert_int_eq(diags.nerrors, 2);
    check_diag(1, DIAG_NUMBER_RANGE, 1, 1, 399, "too large");
    /* tiny values underflow quietly to zero or a subnormal */
    ck_assert_int_eq(lex("1e-400"), 1);
    ck_assert_int_eq(diags.nerrors, 2);
}
END_TEST

START_TEST(malformed_exponent) {
    ck_assert_int_eq(lex("2e + 1.5E-"), 3);
    ck_assert_int_eq(diags.nerrors, 2);
    check_diag(0, DIAG_SYNTAX, 1, 1, 2, "'2e'");
    check_diag(1, DIAG_SYNTAX, 1, 6, 5, "'1.5E-'");
    ck_assert_double_eq(toks[2].v.node->num, 1.5);
}
END_TEST

/* [S-lex-1] one diagnostic per run of bad bytes */
START_TEST(invalid_characters) {
    ck_assert_int_eq(lex("a @@@ b $ c"), 3);
    ck_assert_int_eq(diags.nerrors, 2);
    check_diag(0, DIAG_INVALID_CHAR, 1, 3, 3, "'@'");
    check_diag(1, DIAG_INVALID_CHAR, 1, 9, 1, "'$'");
    /* valid UTF-8 outside strings and comments is an invalid character */
    ck_assert_int_eq(lex("x \xC3\xA9\xC3\xA9 y"), 2);
    check_diag(2, DIAG_INVALID_CHAR, 1, 3, 4, "'\xC3\xA9'");
    /* control characters */
    ck_assert_int_eq(lex("x\x01\x02y"), 2);
    check_diag(3, DIAG_INVALID_CHAR, 1, 2, 2, "0x01");
    ck_assert_int_eq(diags.nerrors, 4);
}
END_TEST

START_TEST(invalid_utf8_and_nul) {
    ck_assert_int_eq(lex_n("a \xff\xfe\x80 b", 7), 2);
    ck_assert_int_eq(diags.nerrors, 1);
    check_diag(0, DIAG_INVALID_UTF8, 1, 3, 3, "UTF-8");
    ck_assert_int_eq(lex_n("a\0\0\0b", 5), 2);
    ck_assert_int_eq(diags.nerrors, 2);
    check_diag(1, DIAG_NUL_BYTE, 1, 2, 3, "NUL");
    /* overlong and surrogate encodings are invalid */
    ck_assert_int_eq(lex_n("\xC0\xAF \xED\xA0\x80", 6), 0);
    ck_assert_int_eq(diags.nerrors, 4);
    /* in comments and strings: UTF-8 is fine, broken UTF-8 and NUL are not */
    ck_assert_int_eq(lex("# \xC3\xA9t\xC3\xA9\n\"\xCE\xA9\""), 1);
    ck_assert_int_eq(diags.nerrors, 4);
    ck_assert_int_eq(lex_n("# \xff\n\"a\0\"", 8), 1);
    ck_assert_int_eq(diags.nerrors, 6); /* 0xff and the NUL */
    check_diag(5, DIAG_NUL_BYTE, 2, 3, 1, "NUL");
    check_diag(4, DIAG_INVALID_UTF8, 1, 3, 1, "0xFF");
}
END_TEST

START_TEST(long_line_and_garbage) {
    size_t n = 1 << 20;
    char *buf = malloc(n);
    memset(buf, 'a', n);
    ck_assert_int_eq(lex_n(buf, n), 1);
    ck_assert_uint_eq(toks[0].sp.len, n);
    ck_assert_uint_eq(strlen(toks[0].v.str), n);
    ck_assert_int_eq(diags.nerrors, 0);
    /* 1 MB of pseudo-random bytes ends, with the error count capped */
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        buf[i] = (char)(x >> 24);
    }
    lex_n(buf, n);
    ck_assert_int_ge(diags.nerrors, 1);
    ck_assert_int_le(diags.nerrors, PARSE_MAX_FILE_ERRORS);
    free(buf);
}
END_TEST

Suite *lexer_suite(void) {
    Suite *s = suite_create("lexer");
    TCase *tc = tcase_create("lexer");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, keywords_are_tokens);
    tcase_add_test(tc, operators_and_punctuation);
    tcase_add_test(tc, quantities);
    tcase_add_test(tc, quantity_boundaries);
    tcase_add_test(tc, member_names_after_dot);
    tcase_add_test(tc, comments_and_spans);
    tcase_add_test(tc, unterminated_comment);
    tcase_add_test(tc, unterminated_string);
    tcase_add_test(tc, number_out_of_range);
    tcase_add_test(tc, malformed_exponent);
    tcase_add_test(tc, invalid_characters);
    tcase_add_test(tc, invalid_utf8_and_nul);
    tcase_add_test(tc, long_line_and_garbage);
    suite_add_tcase(s, tc);
    return s;
}
