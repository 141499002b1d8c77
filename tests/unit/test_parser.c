/* test_parser.c - the grammar (lang/parser.y, SPEC.md section 3): tree shapes
 * of every construct, spans, syntax-error messages and locations, recovery,
 * nesting limits, hostile input, and ast_dump's text. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "parser.h" /* PARSE_MAX_FILE_ERRORS */

static Arena arena;
static SourceSet src;
static Diags diags;

static void setup(void) {
    arena_init(&arena);
    src_init(&src, &arena);
    diag_init(&diags, &src, NULL); /* keep diagnostics in diags.first */
}

static void teardown(void) { arena_free(&arena); }

static AstNode *parse_n(const char *text, size_t len) {
    uint32_t f = src_add(&src, "t.ei", text, len);
    AstNode *root = parse_file(&src, f, &diags);
    ck_assert_ptr_nonnull(root);
    ck_assert_int_eq(root->kind, AST_FILE);
    return root;
}

static AstNode *parse(const char *text) { return parse_n(text, strlen(text)); }

/* Parses text that must have no diagnostics. */
static AstNode *parse_ok(const char *text) {
    AstNode *root = parse(text);
    ck_assert_msg(diags.first == NULL, "unexpected diagnostic: %s",
                  diags.first ? diags.first->message : "");
    return root;
}

/* The only item of the only declaration of `text` (an expression is
 * wrapped in `neuron N { let x = ... }` by expr()). */
static AstNode *only_item(const char *text) {
    AstNode *root = parse_ok(text);
    ck_assert_int_eq(root->items.n, 1);
    ck_assert_int_eq(root->items.v[0]->items.n, 1);
    return root->items.v[0]->items.v[0];
}

static AstNode *expr(const char *e) {
    char buf[512];
    snprintf(buf, sizeof buf, "neuron N { let x = %s }", e);
    AstNode *def = only_item(buf);
    ck_assert_int_eq(def->kind, AST_DEF);
    return def->a;
}

static void check_pos(SrcSpan sp, uint32_t line, uint32_t col) {
    uint32_t l, c;
    src_line_col(&src, sp.file, sp.offset, &l, &c);
    ck_assert_msg(l == line && c == col, "at %u:%u, expected %u:%u", l, c, line, col);
}

static void check_node(const AstNode *n, AstKind kind, const char *name) {
    ck_assert_ptr_nonnull(n);
    ck_assert_str_eq(ast_kind_name(n->kind), ast_kind_name(kind));
    if (name) {
        ck_assert_ptr_nonnull(n->name);
        ck_assert_str_eq(n->name, name);
    } else {
        ck_assert_ptr_null(n->name);
    }
}

static void check_num(const AstNode *n, double v, const char *unit) {
    check_node(n, AST_NUM, NULL);
    ck_assert_double_eq_tol(n->num, v, 1e-12 * (v < 0 ? -v : v) + 1e-300);
    if (unit) ck_assert_str_eq(n->unit, unit);
    else ck_assert_ptr_null(n->unit);
}

static void check_diag(int i, DiagId id, uint32_t line, uint32_t col, const char *message) {
    Diagnostic *g = diags.first;
    for (int k = 0; k < i && g; k++) g = g->next;
    ck_assert_msg(g != NULL, "no diagnostic #%d", i);
    ck_assert_str_eq(diag_id_name(g->id), diag_id_name(id));
    check_pos(g->span, line, col);
    ck_assert_str_eq(g->message, message);
}

static int count_diags(void) {
    int n = 0;
    for (Diagnostic *g = diags.first; g; g = g->next) n++;
    return n;
}

/* ---- the DESIGN.md example ------------------------------------------------ */

static const char *design_example =
    "import std.receptors            # stdlib/ model files, found on a search path\n"
    "\n"
    "neuron LIF {\n"
    "    parameter C_m = 200 pF, g_L = 10 nS, E_L = -60 mV\n"
    "    parameter V_th = -50 mV, V_reset = -60 mV, t_ref = 5 ms\n"
    "    state V = E_L\n"
    "    dV/dt = (g_L*(E_L - V) + I_syn) / C_m     # I_syn: sum of receptor currents\n"
    "    spike when V > V_th { V = V_reset }\n"
    "    refractory t_ref\n"
    "}\n"
    "receptor AMPA {                  # linear postsynaptic dynamics, lumped per target neuron\n"
    "    parameter tau = 5 ms, E_rev = 0 mV\n"
    "    state g = 0 nS\n"
    "    dg/dt = -g/tau\n"
    "    on spike(w) { g += w }\n"
    "    current g*(E_rev - V)\n"
    "}\n"
    "plasticity VogelsISTDP {         # inhibitory STDP (Vogels et al. 2011)\n"
    "    parameter eta = 1 pS, rho0 = 3 Hz, tau = 20 ms, w_max = 100 nS\n"
    "    trace x_pre  tau on pre  += 1\n"
    "    trace x_post tau on post += 1\n"
    "    on pre  { w = clip(w + eta*(x_post - 2*rho0*tau), 0 nS, w_max) }\n"
    "    on post { w = clip(w + eta*x_pre, 0 nS, w_max) }\n"
    "}\n"
    "context Arousal {                # a neuromodulatory context: named, switchable, graded by a level\n"
    "    level NE = 1\n"
    "    scale PV.g_L by 1 + 0.3*NE\n"
    "    scale E -> PV weight by 1 + 0.5*NE\n"
    "}\n"
    "motif FeedbackInhibition(E, I, p_ei = 0.1, p_ie = 0.2) {\n"
    "    connect E -> I via AMPA   weight 1 nS probability p_ei delay 1 ms\n"
    "    connect I -> E via GABA_A weight 4 nS probability p_ie delay 1 ms\n"
    "}\n"
    "network Demo {\n"
    "    population E = 3200 of LIF(V = uniform(-60 mV, -50 mV))\n"
    "    population PV = 800 of LIF(t_ref = 1 ms)\n"
    "    use FeedbackInhibition(E, PV)\n"
    "    connect PV -> E via GABA_A weight 6 nS probability 0.02 with VogelsISTDP\n"
    "    input drive = poisson 8000 rate 2 Hz -> E via AMPA weight 0.3 nS\n"
    "    record spikes of E, PV\n"
    "    record V of E[0..9] every 1 ms\n"
    "    at 2 s enter Arousal for 500 ms\n"
    "    at 3 s set drive.rate = 20 Hz for 100 ms      # a sudden sensory burst\n"
    "}\n"
    "simulate Demo for 5 s dt 0.1 ms seed 42\n";

START_TEST(design_example_parses) {
    AstNode *root = parse_ok(design_example);
    AstKind kinds[] = {AST_IMPORT, AST_NEURON, AST_RECEPTOR, AST_PLASTICITY, AST_CONTEXT,
                       AST_MOTIF, AST_NETWORK, AST_SIMULATE};
    const char *names[] = {"std.receptors", "LIF", "AMPA", "VogelsISTDP", "Arousal",
                           "FeedbackInhibition", "Demo", "Demo"};
    ck_assert_int_eq(root->items.n, 8);
    for (int i = 0; i < 8; i++) check_node(root->items.v[i], kinds[i], names[i]);

    AstNode *lif = root->items.v[1];
    check_pos(lif->span, 3, 1);
    check_pos(lif->name_span, 3, 8);
    ck_assert_int_eq(lif->items.n, 10); /* 6 parameters, state, ODE, spike, refractory */
    check_node(lif->items.v[0], AST_PARAM, "C_m");
    check_num(lif->items.v[0]->a, 200, "pF");
    check_pos(lif->items.v[0]->a->unit_span, 4, 25);
    check_node(lif->items.v[2]->a, AST_UNARY, NULL);
    check_num(lif->items.v[2]->a->a, 60, "mV");
    check_node(lif->items.v[6], AST_STATE, "V");
    AstNode *ode = lif->items.v[7];
    check_node(ode, AST_ODE, "V");
    check_pos(ode->name_span, 7, 6);
    ck_assert_uint_eq(ode->name_span.len, 1);
    ck_assert_int_eq(ode->a->op, OP_DIV);
    check_node(lif->items.v[8], AST_SPIKE, NULL);
    ck_assert_int_eq(lif->items.v[8]->items.n, 1);
    check_node(lif->items.v[9], AST_REFRACTORY, NULL);

    AstNode *net = root->items.v[6];
    ck_assert_int_eq(net->items.n, 9);
    AstKind net_kinds[] = {AST_POPULATION, AST_POPULATION, AST_USE, AST_CONNECT, AST_INPUT,
                           AST_RECORD, AST_RECORD, AST_AT, AST_AT};
    for (int i = 0; i < 9; i++) ck_assert_int_eq(net->items.v[i]->kind, net_kinds[i]);

    AstNode *sim = root->items.v[7];
    ck_assert_int_eq(sim->items.n, 3);
    ck_assert_int_eq(sim->items.v[0]->op, CL_FOR);
    check_num(sim->items.v[0]->a, 5, "s");
    ck_assert_int_eq(sim->items.v[1]->op, CL_DT);
    check_num(sim->items.v[1]->a, 0.1, "ms");
    ck_assert_int_eq(sim->items.v[2]->op, CL_SEED);
    check_num(sim->items.v[2]->a, 42, NULL);
}
END_TEST

START_TEST(repeated_parses) {
    for (int i = 0; i < 100; i++) {
        AstNode *root = parse(design_example);
        ck_assert_int_eq(root->items.n, 8);
    }
    ck_assert_int_eq(diags.nerrors, 0);
}
END_TEST

/* ---- declarations ------------------------------------------------------- */

START_TEST(declarations) {
    AstNode *root = parse_ok(
        "import a.b.c\n"
        "receptor NMDA onto dend { }\n"
        "receptor GABA { }\n"
        "synapse TM per pre { }\n"
        "synapse S { }\n"
        "modulator DA { }\n"
        "motif M() { }\n"
        "simulate Net method rk4 precision float\n");
    ck_assert_int_eq(root->items.n, 8);
    check_node(root->items.v[0], AST_IMPORT, "a.b.c");
    check_pos(root->items.v[0]->name_span, 1, 8);
    ck_assert_uint_eq(root->items.v[0]->name_span.len, 5);
    check_node(root->items.v[1], AST_RECEPTOR, "NMDA");
    check_node(root->items.v[1]->c, AST_NAME, "dend");
    ck_assert_ptr_null(root->items.v[2]->c);
    check_node(root->items.v[3], AST_SYNAPSE, "TM");
    ck_assert_int_eq(root->items.v[3]->flags, AST_F_PER_PRE);
    ck_assert_int_eq(root->items.v[4]->flags, 0);
    check_node(root->items.v[5], AST_MODULATOR, "DA");
    check_node(root->items.v[6], AST_MOTIF, "M");
    ck_assert_int_eq(root->items.v[6]->items2.n, 0);
    AstNode *sim = root->items.v[7];
    ck_assert_int_eq(sim->items.v[0]->op, CL_METHOD);
    check_node(sim->items.v[0]->a, AST_NAME, "rk4");
    ck_assert_int_eq(sim->items.v[1]->op, CL_PRECISION);
    check_node(sim->items.v[1]->a, AST_NAME, "float");
}
END_TEST

START_TEST(optional_semicolons) {
    AstNode *root = parse_ok("neuron N { parameter a = 1; state v = 0; ; spike when v > 1 { v = 0; } };\n"
                             "network X { population E = 1 of N; };");
    ck_assert_int_eq(root->items.n, 2);
    ck_assert_int_eq(root->items.v[0]->items.n, 3);
    ck_assert_int_eq(root->items.v[1]->items.n, 1);
}
END_TEST

/* ---- body items --------------------------------------------------------- */

START_TEST(body_items) {
    AstNode *root = parse_ok(
        "neuron N {\n"
        "  parameter a = 1, b = 2 mV\n"
        "  state v = 0, w = a\n"
        "  let I = a*v\n"
        "  dw/dt = -w\n"
        "  refractory 2 ms clamp v, w\n"
        "  port dend(I_d, V_d)\n"
        "  current g*(E - V)\n"
        "  every 10 s { a = 1 }\n"
        "  bounds 0 nS .. w_max soft\n"
        "  bounds 0 .. 1\n"
        "  method exponential_euler\n"
        "  level NE = 1\n"
        "}\n");
    AstNode *n = root->items.v[0];
    ck_assert_int_eq(n->items.n, 14);
    AstKind kinds[] = {AST_PARAM, AST_PARAM, AST_STATE, AST_STATE, AST_DEF, AST_ODE,
                       AST_REFRACTORY, AST_PORT, AST_CURRENT, AST_EVERY, AST_BOUNDS,
                       AST_BOUNDS, AST_METHOD, AST_LEVEL};
    for (int i = 0; i < 14; i++) ck_assert_int_eq(n->items.v[i]->kind, kinds[i]);
    check_node(n->items.v[1], AST_PARAM, "b");
    check_pos(n->items.v[1]->span, 2, 20);
    check_num(n->items.v[1]->a, 2, "mV");
    check_node(n->items.v[3]->a, AST_NAME, "a");
    check_node(n->items.v[5], AST_ODE, "w");
    AstNode *r = n->items.v[6];
    check_num(r->a, 2, "ms");
    ck_assert_int_eq(r->items2.n, 2);
    check_node(r->items2.v[1], AST_NAME, "w");
    AstNode *p = n->items.v[7];
    check_node(p, AST_PORT, "dend");
    ck_assert_int_eq(p->items2.n, 2);
    check_node(p->items2.v[0], AST_NAME, "I_d");
    check_node(p->items2.v[1], AST_NAME, "V_d");
    ck_assert_int_eq(n->items.v[8]->a->op, OP_MUL);
    ck_assert_int_eq(n->items.v[9]->items.n, 1);
    check_num(n->items.v[9]->a, 10, "s");
    ck_assert_int_eq(n->items.v[10]->flags, AST_F_SOFT);
    check_num(n->items.v[10]->a, 0, "nS");
    check_node(n->items.v[10]->b, AST_NAME, "w_max");
    ck_assert_int_eq(n->items.v[11]->flags, 0);
    check_node(n->items.v[12], AST_METHOD, "exponential_euler");
    check_node(n->items.v[13], AST_LEVEL, "NE");
}
END_TEST

START_TEST(event_items) {
    AstNode *root = parse_ok(
        "plasticity P {\n"
        "  on spike(w, x) { g += w }\n"
        "  on spike { }\n"
        "  on pre { w -= 1 }\n"
        "  on post { post.x *= 2 }\n"
        "  on release(amount) { w /= amount }\n"
        "  trace x tau on pre += 1\n"
        "  trace y 20 ms on post = 1\n"
        "  rate r of post tau 1 s\n"
        "  rate q of pre tau tau_r\n"
        "}\n");
    AstNode *p = root->items.v[0];
    ck_assert_int_eq(p->items.n, 9);
    AstNode *on = p->items.v[0];
    check_node(on, AST_ON, NULL);
    ck_assert_int_eq(on->op, EV_SPIKE);
    check_pos(on->span, 2, 3);
    ck_assert_int_eq(on->items2.n, 2);
    check_node(on->items2.v[1], AST_NAME, "x");
    ck_assert_int_eq(on->items.n, 1);
    ck_assert_int_eq(on->items.v[0]->op, ASSIGN_ADD);
    ck_assert_int_eq(p->items.v[1]->items2.n, 0);
    ck_assert_int_eq(p->items.v[2]->op, EV_PRE);
    ck_assert_int_eq(p->items.v[2]->items.v[0]->op, ASSIGN_SUB);
    AstNode *post = p->items.v[3];
    ck_assert_int_eq(post->op, EV_POST);
    AstNode *as = post->items.v[0];
    ck_assert_int_eq(as->op, ASSIGN_MUL);
    check_node(as->a, AST_MEMBER, "x");
    check_node(as->a->a, AST_NAME, "post");
    ck_assert_int_eq(p->items.v[4]->op, EV_RELEASE);
    ck_assert_int_eq(p->items.v[4]->items.v[0]->op, ASSIGN_DIV);
    AstNode *tr = p->items.v[5];
    check_node(tr, AST_TRACE, "x");
    ck_assert_int_eq(tr->op, EV_PRE);
    ck_assert_int_eq(tr->flags, 0);
    check_node(tr->a, AST_NAME, "tau");
    check_num(tr->b, 1, NULL);
    AstNode *tr2 = p->items.v[6];
    ck_assert_int_eq(tr2->op, EV_POST);
    ck_assert_int_eq(tr2->flags, AST_F_SET);
    check_num(tr2->a, 20, "ms");
    AstNode *rate = p->items.v[7];
    check_node(rate, AST_RATE, "r");
    ck_assert_int_eq(rate->op, EV_POST);
    check_num(rate->a, 1, "s");
    ck_assert_int_eq(p->items.v[8]->op, EV_PRE);
}
END_TEST

START_TEST(scale_targets) {
    AstNode *root = parse_ok(
        "context C {\n"
        "  scale PV.g_L by 2\n"
        "  scale E -> PV weight by 1 + NE\n"
        "  scale E[0..9] -> I delay by 2\n"
        "  scale A -> B g_max by 0.5\n"
        "}\n");
    AstNode *c = root->items.v[0];
    AstNode *s0 = c->items.v[0];
    check_node(s0, AST_SCALE, NULL);
    check_node(s0->a, AST_MEMBER, "g_L");
    check_node(s0->a->a, AST_NAME, "PV");
    check_num(s0->b, 2, NULL);
    AstNode *pr = c->items.v[1]->a;
    check_node(pr, AST_PROJECTION, "weight");
    check_pos(pr->name_span, 3, 17);
    check_node(pr->a, AST_NAME, "E");
    check_node(pr->b, AST_NAME, "PV");
    ck_assert_int_eq(c->items.v[1]->b->op, OP_ADD);
    check_node(c->items.v[2]->a, AST_PROJECTION, "delay");
    check_node(c->items.v[2]->a->a, AST_RANGE, "E");
    check_node(c->items.v[3]->a, AST_PROJECTION, "g_max");
}
END_TEST

/* ---- statements ------------------------------------------------------------ */

START_TEST(statements) {
    AstNode *sp = only_item(
        "neuron N { spike when V > th {\n"
        "  V = V_reset\n"
        "  deliver w * 2\n"
        "  if a > 1 { x = 1 } else if a < 0 { x = 2 } else { x = 3; y = 4 }\n"
        "  if b { }\n"
        "  pre.u += 1\n"
        "} }\n");
    check_node(sp, AST_SPIKE, NULL);
    ck_assert_int_eq(sp->a->op, OP_GT);
    ck_assert_int_eq(sp->items.n, 5);
    AstNode *as = sp->items.v[0];
    check_node(as, AST_ASSIGN, NULL);
    ck_assert_int_eq(as->op, ASSIGN_SET);
    check_node(as->a, AST_NAME, "V");
    check_node(as->b, AST_NAME, "V_reset");
    check_pos(as->span, 2, 3);
    check_node(sp->items.v[1], AST_DELIVER, NULL);
    ck_assert_int_eq(sp->items.v[1]->a->op, OP_MUL);
    AstNode *ifs = sp->items.v[2];
    check_node(ifs, AST_IF, NULL);
    ck_assert_int_eq(ifs->items.n, 1);
    ck_assert_int_eq(ifs->items2.n, 1);
    AstNode *elif = ifs->items2.v[0];
    check_node(elif, AST_IF, NULL);
    ck_assert_int_eq(elif->a->op, OP_LT);
    ck_assert_int_eq(elif->items2.n, 2);
    check_pos(elif->span, 4, 27);
    ck_assert_int_eq(sp->items.v[3]->items.n, 0);
    ck_assert_int_eq(sp->items.v[3]->items2.n, 0);
    check_node(sp->items.v[4]->a, AST_MEMBER, "u");
    check_node(sp->items.v[4]->a->a, AST_NAME, "pre");
}
END_TEST

/* ---- network items -------------------------------------------------------- */

START_TEST(populations_and_connections) {
    AstNode *root = parse_ok(
        "network X {\n"
        "  population E = 100 of LIF\n"
        "  population I = n_i of LIF(V = -60 mV)\n"
        "  connect E -> I all_to_all\n"
        "  connect E[0..9] -> m.I[3] one_to_one autapses no autapses\n"
        "  connect E -> E synapse TM(U = 0.5) with STDP onto dend via NMDA\n"
        "  connect A -> B indegree 10 outdegree 5 from \"conn.csv\" weight w delay 1 ms probability 0.1\n"
        "}\n");
    AstNode *net = root->items.v[0];
    AstNode *pe = net->items.v[0];
    check_node(pe, AST_POPULATION, "E");
    check_num(pe->a, 100, NULL);
    check_node(pe->b, AST_CALL, "LIF");
    ck_assert_int_eq(pe->b->items.n, 0);
    AstNode *pi = net->items.v[1];
    check_node(pi->a, AST_NAME, "n_i");
    ck_assert_int_eq(pi->b->items.n, 1);
    check_node(pi->b->items.v[0], AST_ARG, "V");
    ck_assert_int_eq(pi->b->items.v[0]->a->op, OP_NEG);

    AstNode *c0 = net->items.v[2];
    check_node(c0, AST_CONNECT, NULL);
    check_node(c0->a, AST_NAME, "E");
    check_node(c0->b, AST_NAME, "I");
    ck_assert_int_eq(c0->items.n, 1);
    ck_assert_int_eq(c0->items.v[0]->op, CL_ALL_TO_ALL);
    ck_assert_ptr_null(c0->items.v[0]->a);

    AstNode *c1 = net->items.v[3];
    check_node(c1->a, AST_RANGE, "E");
    check_num(c1->a->a, 0, NULL);
    check_num(c1->a->b, 9, NULL);
    check_node(c1->b, AST_RANGE, "I");
    check_num(c1->b->a, 3, NULL);
    ck_assert_ptr_null(c1->b->b);
    check_node(c1->b->c, AST_MEMBER, "I");
    check_node(c1->b->c->a, AST_NAME, "m");
    ck_assert_int_eq(c1->items.n, 3);
    ck_assert_int_eq(c1->items.v[0]->op, CL_ONE_TO_ONE);
    ck_assert_int_eq(c1->items.v[1]->op, CL_AUTAPSES);
    ck_assert_int_eq(c1->items.v[1]->flags, 0);
    ck_assert_int_eq(c1->items.v[2]->op, CL_AUTAPSES);
    ck_assert_int_eq(c1->items.v[2]->flags, AST_F_NO);
    check_pos(c1->items.v[2]->span, 5, 49);

    AstNode *c2 = net->items.v[4];
    AstClauseKind k2[] = {CL_SYNAPSE, CL_WITH, CL_ONTO, CL_VIA};
    for (int i = 0; i < 4; i++) ck_assert_int_eq(c2->items.v[i]->op, k2[i]);
    check_node(c2->items.v[0]->a, AST_CALL, "TM");
    check_node(c2->items.v[0]->a->items.v[0], AST_ARG, "U");
    check_node(c2->items.v[1]->a, AST_CALL, "STDP");
    check_node(c2->items.v[2]->a, AST_NAME, "dend");
    check_node(c2->items.v[3]->a, AST_NAME, "NMDA");

    AstNode *c3 = net->items.v[5];
    AstClauseKind k3[] = {CL_INDEGREE, CL_OUTDEGREE, CL_FILE, CL_WEIGHT, CL_DELAY, CL_PROBABILITY};
    ck_assert_int_eq(c3->items.n, 6);
    for (int i = 0; i < 6; i++) ck_assert_int_eq(c3->items.v[i]->op, k3[i]);
    check_node(c3->items.v[2]->a, AST_STRING, "conn.csv");
    check_num(c3->items.v[4]->a, 1, "ms");
}
END_TEST

START_TEST(inputs) {
    AstNode *root = parse_ok(
        "network X {\n"
        "  input a = poisson 100 rate 5 Hz -> E via AMPA weight 1 nS\n"
        "  input b = poisson rate r -> E[0..9]\n"
        "  input c = spikes from \"in.npy\" -> E delay 2 ms\n"
        "  input d = current 50 pA -> E\n"
        "}\n");
    AstNode *net = root->items.v[0];
    AstNode *a = net->items.v[0];
    check_node(a, AST_INPUT, "a");
    ck_assert_int_eq(a->op, INPUT_POISSON);
    check_num(a->a, 100, NULL);
    check_node(a->b, AST_NAME, "E");
    ck_assert_int_eq(a->items.n, 3);
    ck_assert_int_eq(a->items.v[0]->op, CL_RATE);
    check_num(a->items.v[0]->a, 5, "Hz");
    ck_assert_int_eq(a->items.v[1]->op, CL_VIA);
    AstNode *b = net->items.v[1];
    ck_assert_ptr_null(b->a);
    check_node(b->b, AST_RANGE, "E");
    ck_assert_int_eq(b->items.n, 1);
    AstNode *c = net->items.v[2];
    ck_assert_int_eq(c->op, INPUT_SPIKES);
    check_node(c->a, AST_STRING, "in.npy");
    ck_assert_int_eq(c->items.v[0]->op, CL_DELAY);
    AstNode *d = net->items.v[3];
    ck_assert_int_eq(d->op, INPUT_CURRENT);
    check_num(d->a, 50, "pA");
    ck_assert_int_eq(d->items.n, 0);
}
END_TEST

START_TEST(records_and_uses) {
    AstNode *root = parse_ok(
        "network X {\n"
        "  record spikes of E, PV\n"
        "  record V, g_e of E[0..9] every 1 ms\n"
        "  record rate of E every 1 ms\n"
        "  record balance of E[0..99] window 50 ms every 1 ms\n"
        "  record current, weight of E\n"
        "  use M(E, PV, p = 0.1) as m1\n"
        "  use Plain\n"
        "  record AMPA.g, V of E[0..9] every 1 ms\n"
        "}\n");
    AstNode *net = root->items.v[0];
    AstNode *r0 = net->items.v[0];
    check_node(r0, AST_RECORD, NULL);
    ck_assert_int_eq(r0->items2.n, 1);
    check_node(r0->items2.v[0], AST_NAME, "spikes");
    ck_assert_int_eq(r0->items.n, 2);
    ck_assert_int_eq(r0->items.v[1]->op, CL_OF);
    check_node(r0->items.v[1]->a, AST_NAME, "PV");
    AstNode *r1 = net->items.v[1];
    ck_assert_int_eq(r1->items2.n, 2);
    check_node(r1->items2.v[1], AST_NAME, "g_e");
    ck_assert_int_eq(r1->items.n, 2);
    check_node(r1->items.v[0]->a, AST_RANGE, "E");
    ck_assert_int_eq(r1->items.v[1]->op, CL_EVERY);
    check_node(net->items.v[2]->items2.v[0], AST_NAME, "rate");
    AstNode *r3 = net->items.v[3];
    check_node(r3->items2.v[0], AST_NAME, "balance");
    ck_assert_int_eq(r3->items.v[1]->op, CL_WINDOW);
    check_num(r3->items.v[1]->a, 50, "ms");
    check_node(net->items.v[4]->items2.v[0], AST_NAME, "current");
    check_node(net->items.v[4]->items2.v[1], AST_NAME, "weight");
    AstNode *u = net->items.v[5];
    check_node(u, AST_USE, "m1");
    check_pos(u->name_span, 7, 28);
    check_node(u->a, AST_CALL, "M");
    ck_assert_int_eq(u->a->items.n, 3);
    check_node(u->a->items.v[2], AST_ARG, "p");
    check_node(net->items.v[6], AST_USE, NULL);
    check_node(net->items.v[6]->a, AST_CALL, "Plain");
    AstNode *r7 = net->items.v[7];   /* a receptor instance's state: one name "AMPA.g" */
    ck_assert_int_eq(r7->items2.n, 2);
    check_node(r7->items2.v[0], AST_NAME, "AMPA.g");
    check_pos(r7->items2.v[0]->span, 9, 10);
    ck_assert_int_eq(r7->items2.v[0]->span.len, 6);
    check_node(r7->items2.v[1], AST_NAME, "V");
}
END_TEST

START_TEST(protocol_events) {
    AstNode *root = parse_ok(
        "network X {\n"
        "  at 2 s enter Arousal(NE = 2) for 500 ms\n"
        "  at 1 s for 2 s enter Calm\n"
        "  at 3 s exit Arousal\n"
        "  at 3 s set drive.rate = 20 Hz for 100 ms\n"
        "  at 4 s silence E[0..9] fraction 0.5\n"
        "  at 5 s lesion PV\n"
        "  at 6 s release DA 0.5\n"
        "  at 7 s release DA\n"
        "}\n");
    AstNode *net = root->items.v[0];
    ck_assert_int_eq(net->items.n, 8);
    AstNode *a0 = net->items.v[0];
    check_node(a0, AST_AT, NULL);
    check_num(a0->a, 2, "s");
    check_num(a0->b, 500, "ms");
    check_node(a0->c, AST_ACTION, NULL);
    ck_assert_int_eq(a0->c->op, ACT_ENTER);
    check_node(a0->c->a, AST_NAME, "Arousal");
    ck_assert_int_eq(a0->c->items.n, 1);
    check_node(a0->c->items.v[0], AST_ARG, "NE");
    AstNode *a1 = net->items.v[1];
    check_num(a1->b, 2, "s");
    ck_assert_int_eq(a1->c->items.n, 0);
    ck_assert_int_eq(net->items.v[2]->c->op, ACT_EXIT);
    ck_assert_ptr_null(net->items.v[2]->b);
    AstNode *set = net->items.v[3]->c;
    ck_assert_int_eq(set->op, ACT_SET);
    check_node(set->a, AST_MEMBER, "rate");
    check_num(set->b, 20, "Hz");
    AstNode *sil = net->items.v[4]->c;
    ck_assert_int_eq(sil->op, ACT_SILENCE);
    check_node(sil->a, AST_RANGE, "E");
    check_num(sil->b, 0.5, NULL);
    ck_assert_int_eq(net->items.v[5]->c->op, ACT_LESION);
    ck_assert_ptr_null(net->items.v[5]->c->b);
    AstNode *rel = net->items.v[6]->c;
    ck_assert_int_eq(rel->op, ACT_RELEASE);
    check_node(rel->a, AST_NAME, "DA");
    check_num(rel->b, 0.5, NULL);
    ck_assert_ptr_null(net->items.v[7]->c->b);
}
END_TEST

/* ---- expressions ------------------------------------------------------------- */

START_TEST(precedence) {
    AstNode *e = expr("-x^2");
    ck_assert_int_eq(e->op, OP_NEG);
    ck_assert_int_eq(e->a->op, OP_POW);
    e = expr("2^3^2");
    ck_assert_int_eq(e->op, OP_POW);
    check_num(e->a, 2, NULL);
    ck_assert_int_eq(e->b->op, OP_POW);
    e = expr("2^-1");
    ck_assert_int_eq(e->b->op, OP_NEG);
    e = expr("a - b - c");
    ck_assert_int_eq(e->op, OP_SUB);
    ck_assert_int_eq(e->a->op, OP_SUB);
    check_node(e->b, AST_NAME, "c");
    e = expr("a + b * c");
    ck_assert_int_eq(e->op, OP_ADD);
    ck_assert_int_eq(e->b->op, OP_MUL);
    e = expr("a / b * c");
    ck_assert_int_eq(e->op, OP_MUL);
    ck_assert_int_eq(e->a->op, OP_DIV);
    e = expr("not a < b and c or d");
    ck_assert_int_eq(e->op, OP_OR);
    ck_assert_int_eq(e->a->op, OP_AND);
    ck_assert_int_eq(e->a->a->op, OP_NOT);
    ck_assert_int_eq(e->a->a->a->op, OP_LT);
    e = expr("a + 1 >= b");
    ck_assert_int_eq(e->op, OP_GE);
    e = expr("(a + b) * c");
    ck_assert_int_eq(e->op, OP_MUL);
    ck_assert_int_eq(e->a->op, OP_ADD);
    e = expr("if v > 0 then 1 else if v < 0 then -1 else 0");
    check_node(e, AST_COND, NULL);
    ck_assert_int_eq(e->a->op, OP_GT);
    check_node(e->c, AST_COND, NULL);
    e = expr("+a == b");
    ck_assert_int_eq(e->op, OP_EQ);
    ck_assert_int_eq(e->a->op, OP_PLUS);
}
END_TEST

START_TEST(comparison_is_non_associative) {
    parse("neuron N { let x = a < b < c }");
    ck_assert_int_eq(diags.nerrors, 1);
    check_diag(0, DIAG_SYNTAX, 1, 26, "unexpected '<' after name 'b'");
}
END_TEST

START_TEST(units_and_primaries) {
    AstNode *e = expr("1 mV/ms");
    ck_assert_int_eq(e->op, OP_DIV);
    check_num(e->a, 1, "mV");
    check_node(e->b, AST_NAME, "ms");
    e = expr("5 pA*ms + 1/s");
    ck_assert_int_eq(e->a->op, OP_MUL);
    check_num(e->a->a, 5, "pA");
    ck_assert_int_eq(e->b->op, OP_DIV);
    e = expr("dt");
    check_node(e, AST_NAME, "dt");
    e = expr("true");
    check_node(e, AST_BOOL, NULL);
    ck_assert_double_eq(e->num, 1);
    e = expr("false");
    ck_assert_double_eq(e->num, 0);
    e = expr("\"text\"");
    check_node(e, AST_STRING, "text");
    e = expr("post.V - pre.x");
    check_node(e->a, AST_MEMBER, "V");
    check_node(e->a->a, AST_NAME, "post");
    check_node(e->b->a, AST_NAME, "pre");
    e = expr("exp(-t/tau)");
    check_node(e, AST_CALL, "exp");
    ck_assert_int_eq(e->items.n, 1);
    e = expr("f()");
    ck_assert_int_eq(e->items.n, 0);
    e = expr("uniform(-60 mV, high = -50 mV)");
    ck_assert_int_eq(e->items.n, 2);
    check_node(e->items.v[1], AST_ARG, "high");
    e = expr("a.b.c");
    check_node(e, AST_MEMBER, "c");
    check_node(e->a, AST_MEMBER, "b");
}
END_TEST

START_TEST(expression_spans) {
    AstNode *def = only_item("neuron N {\n  let x = (a +\n    b) * 2 mV\n}");
    AstNode *e = def->a;
    check_pos(e->span, 2, 11);
    uint32_t l, c;
    src_line_col(&src, e->span.file, e->span.offset + e->span.len, &l, &c);
    ck_assert_uint_eq(l, 3);
    ck_assert_uint_eq(c, 14);
    check_pos(e->b->unit_span, 3, 12);
    check_pos(def->span, 2, 3);
    check_pos(def->name_span, 2, 7);
}
END_TEST

/* ---- syntax errors and recovery ------------------------------------------- */

START_TEST(error_messages) {
    parse("neuron N {\n  parameter C_m mV = 3\n}\n");
    ck_assert_int_eq(count_diags(), 1);
    check_diag(0, DIAG_SYNTAX, 2, 17, "expected '=' after parameter name, found 'mV'");

    parse("network X { connect A -> B weight }");
    check_diag(1, DIAG_SYNTAX, 1, 35, "expected expression after 'weight', found '}'");

    parse("neuron N { state v = (1 + 2 }");
    check_diag(2, DIAG_SYNTAX, 1, 29, "expected ')' or operator after expression, found '}'");

    parse("simulate X for 1 s\nneuron");
    check_diag(3, DIAG_SYNTAX, 2, 7, "expected name after 'neuron', found end of file");
    ck_assert_int_eq(count_diags(), 4);
}
END_TEST

START_TEST(unclosed_brace_note) {
    parse("neuron N {\n  state v = 1\n");
    ck_assert_int_eq(diags.nerrors, 1);
    check_diag(0, DIAG_SYNTAX, 3, 1, "unexpected end of file after expression");
    ck_assert_ptr_nonnull(diags.first->notes);
    check_pos(diags.first->notes->span, 1, 10);
    ck_assert_str_eq(diags.first->notes->message, "to match this '{'");
}
END_TEST

START_TEST(missing_closing_brace) {
    AstNode *root = parse("neuron A {\n  state v = 0\nneuron B { }\n");
    ck_assert_int_eq(diags.nerrors, 1);
    check_diag(0, DIAG_SYNTAX, 3, 1, "expected '}' before the next declaration, found 'neuron'");
    check_pos(diags.first->notes->span, 1, 10);
    /* recovery keeps A (its unfinished last item is dropped); B's tokens are
     * skipped as part of A's body, whose '}' B's closes */
    ck_assert_int_eq(root->items.n, 1);
    check_node(root->items.v[0], AST_NEURON, "A");
    ck_assert_int_eq(root->items.v[0]->items.n, 0);
}
END_TEST

START_TEST(contextual_words) {
    parse("synapse S perx pre { }");
    check_diag(0, DIAG_SYNTAX, 1, 11, "expected 'per' after the synapse name, found 'perx'");
    parse("plasticity P { rate r of post tao 1 s }");
    check_diag(1, DIAG_SYNTAX, 1, 31, "expected 'tau' after 'of pre' or 'of post', found 'tao'");
    parse("neuron N { V/dt = 1 }");
    check_diag(2, DIAG_SYNTAX, 1, 12,
               "expected a derivative 'dX/dt' (the name must start with 'd'), found 'V/dt'");
    ck_assert_int_eq(diags.nerrors, 3);
}
END_TEST

/* [S-syn-6] */
START_TEST(recovery_reports_every_error) {
    AstNode *root = parse(
        "neuron A {\n"
        "  parameter a = 1 +\n"
        "}\n"
        "neuron B { state v = 0 }\n"
        "network C {\n"
        "  population = 3\n"
        "  connect A -> B\n"
        "}\n"
        "receptor D { on pre { w = * 2 } current g }\n"
        "simulate C for 1 s\n");
    ck_assert_int_eq(diags.nerrors, 3);
    check_diag(0, DIAG_SYNTAX, 3, 1, "expected expression after '+', found '}'");
    check_diag(1, DIAG_SYNTAX, 6, 14, "expected name after 'population', found '='");
    check_diag(2, DIAG_SYNTAX, 9, 27, "expected expression after '=', found '*'");
    /* every declaration survives, with its good items */
    ck_assert_int_eq(root->items.n, 5);
    check_node(root->items.v[1], AST_NEURON, "B");
    ck_assert_int_eq(root->items.v[1]->items.n, 1);
    AstNode *net = root->items.v[2];
    ck_assert_int_eq(net->items.n, 1);
    check_node(net->items.v[0], AST_CONNECT, NULL);
    AstNode *rec = root->items.v[3];
    ck_assert_int_eq(rec->items.n, 2);
    check_node(rec->items.v[1], AST_CURRENT, NULL);
    check_node(root->items.v[4], AST_SIMULATE, "C");
}
END_TEST

START_TEST(error_cap) {
    /* one error per declaration, 20000 declarations: the parse stops at the cap */
    const char *unit = "neuron N { = }\n";
    size_t n = 20000, len = strlen(unit);
    char *buf = malloc(n * len + 1);
    for (size_t i = 0; i < n; i++) memcpy(buf + len * i, unit, len);
    buf[len * n] = 0;
    AstNode *root = parse(buf);
    ck_assert_int_eq(diags.nerrors, PARSE_MAX_FILE_ERRORS);
    check_diag(0, DIAG_SYNTAX, 1, 12, "unexpected '=' after '{'");
    ck_assert_int_lt(root->items.n, PARSE_MAX_FILE_ERRORS + 1);
    free(buf);
}
END_TEST

/* ---- empty files, nesting and hostile input ---------------------------------- */

/* [S-syn-7] */
START_TEST(empty_files) {
    AstNode *root = parse("");
    ck_assert_int_eq(root->items.n, 0);
    check_diag(0, DIAG_EMPTY_FILE, 1, 1, "'t.ei' contains no declarations");
    parse("# only a comment\n/* and\n a block */\n  \n");
    ck_assert_int_eq(diags.nerrors, 2);
    check_diag(1, DIAG_EMPTY_FILE, 1, 1, "'t.ei' contains no declarations");
    /* a file with syntax errors only says that, not also "empty" */
    parse("neuron");
    ck_assert_int_eq(diags.nerrors, 3);
    ck_assert_int_eq(diags.last->id, DIAG_SYNTAX);
}
END_TEST

static char *nested(const char *head, const char *open, int n, const char *mid, const char *close,
                    const char *tail) {
    size_t lo = strlen(open), lc = strlen(close);
    char *buf = malloc(strlen(head) + n * (lo + lc) + strlen(mid) + strlen(tail) + 1);
    char *p = buf;
    p += sprintf(p, "%s", head);
    for (int i = 0; i < n; i++) p += sprintf(p, "%s", open);
    p += sprintf(p, "%s", mid);
    for (int i = 0; i < n; i++) p += sprintf(p, "%s", close);
    sprintf(p, "%s", tail);
    return buf;
}

/* [S-syn-8] brackets plus pending prefix operators may nest 256 deep. */
START_TEST(nesting_limit) {
    /* `neuron N {` is one level, so 255 parentheses are the most allowed */
    char *ok = nested("neuron N { let x = ", "(", PARSE_MAX_DEPTH - 1, "1", ")", " }");
    AstNode *root = parse(ok);
    ck_assert_int_eq(diags.nerrors, 0);
    ck_assert_int_eq(root->items.n, 1);
    free(ok);
    char *bad = nested("neuron N { let x = ", "(", PARSE_MAX_DEPTH, "1", ")", " }");
    root = parse(bad);
    ck_assert_int_eq(diags.nerrors, 1);
    check_diag(0, DIAG_TOO_DEEP, 1, 20 + PARSE_MAX_DEPTH - 1,
               "nesting too deep: more than 256 levels of brackets and prefix operators");
    ck_assert_int_eq(root->items.n, 0);
    free(bad);
}
END_TEST

START_TEST(deep_input_ends_cleanly) {
    const char *cases[][3] = {
        {"(", "1", ")"}, {"-", "1", ""}, {"not ", "x", ""}, {"2^", "1", ""}, {"f(", "1", ")"},
        {"a[", "1", "]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int before = diags.nerrors;
        char *s = nested("neuron N { let x = ", cases[i][0], 10000, cases[i][1], cases[i][2], " }\n");
        parse(s);
        free(s);
        ck_assert_int_eq(diags.nerrors, before + 1);
        ck_assert_int_eq(diags.last->id, DIAG_TOO_DEEP);
    }
    /* nesting without brackets: else-if chains, conditional chains, operator chains */
    const char *chains[][3] = {
        {"neuron N { spike when v > 1 { ", "if x > 1 { y = 1 } else ", "{ } } }"},
        {"neuron N { let x = ", "if a > 1 then 1 else ", "0 }"},
        {"neuron N { let x = ", "1 + ", "1 }"},
    };
    for (size_t i = 0; i < sizeof chains / sizeof *chains; i++) {
        int before = diags.nerrors;
        char *s = nested(chains[i][0], chains[i][1], 20000, "", "", chains[i][2]);
        AstNode *root = parse(s);
        free(s);
        ck_assert_int_eq(diags.nerrors, before + 1);
        ck_assert_int_eq(diags.last->id, DIAG_TOO_DEEP);
        ck_assert_int_eq(root->items.n, 0);
    }
    /* long but flat chains are fine */
    char *s = nested("neuron N { let x = ", "1 + ", 1000, "1", "", " }");
    parse(s);
    free(s);
    ck_assert_int_eq(diags.nerrors, 9);
}
END_TEST

START_TEST(hostile_bytes) {
    /* NUL bytes and bad UTF-8 inside an otherwise good file: reported, rest parsed */
    const char text[] = "neuron N { state v = 0 \0\0 }\nneuron M { \xff\xfe }\n";
    AstNode *root = parse_n(text, sizeof text - 1);
    ck_assert_int_eq(diags.nerrors, 2);
    check_diag(0, DIAG_NUL_BYTE, 1, 24, "NUL byte in the source");
    check_diag(1, DIAG_INVALID_UTF8, 2, 12, "bytes that are not valid UTF-8 (0xFF)");
    ck_assert_int_eq(root->items.n, 2);
    /* 1 MB of pseudo-random bytes: capped errors, no crash */
    size_t n = 1 << 20;
    char *buf = malloc(n);
    uint32_t x = 7;
    for (size_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        buf[i] = (char)(x >> 24);
    }
    parse_n(buf, n);
    ck_assert_int_gt(diags.nerrors, 2);
    ck_assert_int_le(diags.nerrors, 2 + PARSE_MAX_FILE_ERRORS);
    /* a 1 MB line of names */
    for (size_t i = 0; i < n; i++) buf[i] = i % 2 ? ' ' : 'a';
    int before = diags.nerrors;
    parse_n(buf, n);
    ck_assert_int_eq(diags.nerrors, before + 1);
    check_diag(before, DIAG_SYNTAX, 1, 1, "unexpected 'a'");
    free(buf);
}
END_TEST

/* ---- ast_dump ---------------------------------------------------------------- */

START_TEST(dump_text) {
    AstNode *root = parse_ok("neuron N {\n  parameter a = -1.5 mV\n  on pre { w += 0.3 * x }\n}\n"
                             "network X { connect A -> B no autapses }\n");
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ast_dump(out, &src, root);
    fclose(out);
    ck_assert_str_eq(text,
                     "FILE 't.ei' 1:1\n"
                     "  NEURON N 1:1\n"
                     "    PARAM a 2:13\n"
                     "      a: UNARY - 2:17\n"
                     "        a: NUM 1.5 mV 2:18\n"
                     "    ON pre 3:3\n"
                     "      ASSIGN += 3:12\n"
                     "        a: NAME w 3:12\n"
                     "        b: BINARY * 3:17\n"
                     "          a: NUM 0.3 3:17\n"
                     "          b: NAME x 3:23\n"
                     "  NETWORK X 5:1\n"
                     "    CONNECT 5:13\n"
                     "      a: NAME A 5:21\n"
                     "      b: NAME B 5:26\n"
                     "      CLAUSE autapses no 5:28\n");
    free(text);
}
END_TEST

Suite *parser_suite(void) {
    Suite *s = suite_create("parser");
    TCase *tc = tcase_create("parser");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, design_example_parses);
    tcase_add_test(tc, repeated_parses);
    tcase_add_test(tc, declarations);
    tcase_add_test(tc, optional_semicolons);
    tcase_add_test(tc, body_items);
    tcase_add_test(tc, event_items);
    tcase_add_test(tc, scale_targets);
    tcase_add_test(tc, statements);
    tcase_add_test(tc, populations_and_connections);
    tcase_add_test(tc, inputs);
    tcase_add_test(tc, records_and_uses);
    tcase_add_test(tc, protocol_events);
    tcase_add_test(tc, precedence);
    tcase_add_test(tc, comparison_is_non_associative);
    tcase_add_test(tc, units_and_primaries);
    tcase_add_test(tc, expression_spans);
    tcase_add_test(tc, error_messages);
    tcase_add_test(tc, unclosed_brace_note);
    tcase_add_test(tc, missing_closing_brace);
    tcase_add_test(tc, contextual_words);
    tcase_add_test(tc, recovery_reports_every_error);
    tcase_add_test(tc, error_cap);
    tcase_add_test(tc, empty_files);
    tcase_add_test(tc, nesting_limit);
    tcase_add_test(tc, deep_input_ends_cleanly);
    tcase_add_test(tc, hostile_bytes);
    tcase_add_test(tc, dump_text);
    suite_add_tcase(s, tc);
    return s;
}
