/* defines.c - `-D name=value` on the command line of check, run and build.
 *
 * A define overrides something of the simulated network without editing the
 * model file, for parameter sweeps:
 *   -D E.tau_m=10ms        a parameter or state (initial value) of population E
 *   -D E.AMPA.tau=3ms      a parameter of a receptor instance of population E
 *   -D drive.rate=20Hz     the rate of a Poisson input
 * The value is a number with an optional unit. Each define becomes part of the
 * syntax tree before semantic analysis (an override appended to the
 * population, or the input's rate clause replaced), so it is checked like
 * model text, units included; its diagnostics point into a source named
 * "<command line>". */
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "frontend.h"

static AstNode *simulated_network(Session *s) {
    const char *net = NULL;
    for (int f = 0; f < s->nfiles && !net; f++)
        for (int i = 0; i < s->files[f]->items.n; i++)
            if (s->files[f]->items.v[i]->kind == AST_SIMULATE) {
                net = s->files[f]->items.v[i]->name;
                break;
            }
    for (int f = 0; net && f < s->nfiles; f++)
        for (int i = 0; i < s->files[f]->items.n; i++) {
            AstNode *d = s->files[f]->items.v[i];
            if (d->kind == AST_NETWORK && d->name && !strcmp(d->name, net)) return d;
        }
    return NULL;
}

static AstNode *network_item(AstNode *net, AstKind kind, const char *name, size_t len) {
    for (int i = 0; i < net->items.n; i++) {
        AstNode *it = net->items.v[i];
        if (it->kind == kind && it->name && strlen(it->name) == len && !strncmp(it->name, name, len)) return it;
    }
    return NULL;
}

static int define_error(const char *def, const char *why) {
    fprintf(stderr, "eic: error: invalid define '-D %s': %s\n", def, why);
    return -1;
}

/* The value text as an AST_NUM (a number and an optional unit), with spans in
 * the "<command line>" source `file` whose text starts at `base`. */
static AstNode *value_node(Session *s, uint32_t file, const char *text, uint32_t base, uint32_t len) {
    const char *v = text + base;
    char *end;
    double x = strtod(v, &end);
    if (end == v) return NULL;
    const char *u = end;
    while (*u == ' ') u++;
    AstNode *n = ast_new(&s->arena, AST_NUM, (SrcSpan){file, base, len});
    n->num = x;
    if (*u) {
        for (const char *c = u; *c; c++)
            if (!(*c == '_' || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                  (unsigned char)*c >= 0x80))
                return NULL;
        n->unit = arena_strdup(&s->arena, u);
        n->unit_span = (SrcSpan){file, (uint32_t)(u - text), (uint32_t)strlen(u)};
    }
    return n;
}

static int apply_one(Session *s, AstNode *net, const char *def) {
    const char *eq = strchr(def, '=');
    const char *dot = strchr(def, '.');
    if (!eq || !dot || dot > eq || dot == def || eq == dot + 1)
        return define_error(def, "expected POPULATION.name=VALUE or INPUT.rate=VALUE");
    if (!net) return define_error(def, "the model has no 'simulate', so there is no network to change");
    uint32_t file = src_add(&s->src, "<command line>", def, strlen(def));
    const char *text = s->src.files[file].text;
    AstNode *value = value_node(s, file, text, (uint32_t)(eq + 1 - def), (uint32_t)strlen(eq + 1));
    if (!value) return define_error(def, "the value must be a number with an optional unit, such as 10ms or -60mV");
    const char *target = arena_strndup(&s->arena, def, (size_t)(dot - def));
    const char *member = arena_strndup(&s->arena, dot + 1, (size_t)(eq - dot - 1));
    AstNode *pop = network_item(net, AST_POPULATION, target, strlen(target));
    if (pop && pop->b) {
        AstNode *arg = ast_new(&s->arena, AST_ARG, (SrcSpan){file, 0, (uint32_t)strlen(def)});
        arg->name = member;
        arg->name_span = (SrcSpan){file, (uint32_t)(dot + 1 - def), (uint32_t)(eq - dot - 1)};
        arg->a = value;
        ast_push(&s->arena, &pop->b->items, arg);
        return 0;
    }
    AstNode *in = network_item(net, AST_INPUT, target, strlen(target));
    if (in && !strcmp(member, "rate")) {
        for (int i = 0; i < in->items.n; i++)
            if (in->items.v[i]->kind == AST_CLAUSE && in->items.v[i]->op == CL_RATE) {
                in->items.v[i]->a = value;
                return 0;
            }
    }
    return define_error(def, arena_printf(&s->arena, "network '%s' has no population or Poisson input '%s' with '%s'",
                                          net->name, target, member));
}

int driver_apply_defines(Session *s, const DriverOptions *o) {
    AstNode *net = o->ndefines ? simulated_network(s) : NULL;
    for (int i = 0; i < o->ndefines; i++)
        if (apply_one(s, net, o->defines[i])) return -1;
    return 0;
}
