/* sema_int.h - data shared by the semantic analysis files (sema*.c).
 *
 * sema.c       global declarations, bodies of neuron/receptor/synapse/
 *              plasticity/modulator/context, statements
 * sema_expr.c  expressions: name lookup, types, dimensions, constant folding
 * sema_net.c   networks, motifs, protocol events, simulate
 */
#ifndef EIC_SEMA_INT_H
#define EIC_SEMA_INT_H

#include <stdbool.h>

#include "frontend.h"
#include "sema.h"
#include "units.h"

/* What a name stands for. */
typedef enum SymKind {
    SYM_DECL,       /* a top-level declaration (neuron, receptor, ...) */
    SYM_PARAM,      /* parameter: constant for the run */
    SYM_STATE,      /* state variable */
    SYM_DEF,        /* algebraic definition (`let`) */
    SYM_TRACE,      /* plasticity trace */
    SYM_RATE,       /* firing-rate estimate */
    SYM_LEVEL,      /* context level */
    SYM_WEIGHT,     /* the synaptic weight `w` (receptor event argument, synapse, plasticity) */
    SYM_EVENT_ARG,  /* another event argument (`on release(x)`) */
    SYM_PORT_CURRENT, /* summed receptor current of a port (I_syn) */
    SYM_VOLTAGE,    /* a receptor's view of its port's membrane potential (V) */
    SYM_BUILTIN,    /* t, dt, pi */
    SYM_MOTIF_PARAM,/* a motif parameter bound to a value or a population */
    SYM_POPULATION, /* a population of a network */
    SYM_INPUT,      /* an input of a network */
    SYM_ALIAS,      /* a `use ... as alias` motif instance */
} SymKind;

typedef enum TyKind { TY_NUM, TY_BOOL, TY_STRING, TY_DIST, TY_ERROR, TY_ANY } TyKind;

/* The type of an expression: a number with a dimension, a boolean, ...
 * A dimension may contain an unknown factor U_unk^upow (unk > 0) while the
 * unit of a weight or of a port current is still being inferred from its
 * first use (SPEC.md, "Inferred dimensions"). */
typedef struct Ty {
    TyKind kind;
    Dim dim;
    int unk, upow;
    bool wild;          /* the literal 0 without a unit: agrees with any dimension */
    bool is_const;      /* value known before the run */
    double value;       /* SI value when is_const */
    const char *unit;   /* the unit as the user wrote it, for messages; may be NULL */
} Ty;

typedef struct Sym {
    const char *name;
    SymKind kind;
    AstNode *decl;      /* declaring node (for notes and for lazy resolution) */
    Ty ty;
    int resolving;      /* 0 unresolved, 1 in progress (cycle detection), 2 done */
    int used;
    void *data;         /* kind-specific: SYM_POPULATION -> Population, SYM_MOTIF_PARAM -> bound node */
    struct Scope *home; /* the scope that declares it (its value is checked there) */
} Sym;

typedef struct Scope Scope;
struct Scope {
    Scope *parent;
    Sym **v;
    int n, cap;
    AstNode *owner;     /* the declaration whose body this is, or NULL */
};

/* Unknown dimensions being inferred (weights, port currents). */
typedef struct Unknown {
    bool bound;
    Dim dim;
    const char *what;   /* "the weight of receptor 'AMPA'" */
    const char *unit;   /* the unit as written where it was bound ("nS"), for messages; may be NULL */
} Unknown;

/* A checked population of a network. */
typedef struct Population {
    const char *name;
    AstNode *decl;      /* AST_POPULATION */
    AstNode *type;      /* the neuron declaration (NULL for a Poisson source) */
    Scope *type_scope;
    long long size;
    bool poisson;       /* `of poisson(rate = R)`: a population of Poisson spike sources */
    double rate_hz;     /* its rate R, per neuron */
} Population;

/* A network flattened by sema: every population (motif instances included,
 * in declaration order) and every connect/input/record/at item with the scope
 * that resolves its names (a motif instance's scope binds its parameters). */
typedef struct NetItem {
    AstNode *node;
    Scope *scope;
} NetItem;

typedef struct CheckedNet {
    AstNode *decl;
    Scope *scope;
    Population **pops;  int npops, cap_pops;
    NetItem *items;     int nitems, cap_items;
} CheckedNet;

/* What the body being checked may do. */
typedef enum BodyKind {
    BODY_NEURON, BODY_RECEPTOR, BODY_SYNAPSE, BODY_PLASTICITY, BODY_MODULATOR, BODY_CONTEXT,
    BODY_NETWORK, BODY_MOTIF
} BodyKind;

typedef struct Program {
    Session *s;
    Arena *a;
    Diags *d;
    Scope global;
    Unknown *unknowns;
    int nunknowns, cap_unknowns;
    Scope **bodies;     /* scope of each declaration that has a body, parallel to body_decls */
    AstNode **body_decls;
    int nbodies, cap_bodies;
    AstNode *simulate;  /* the (first) simulate declaration */
    double sim_dt;      /* seconds, 0 when unknown */
} Program;

/* The context of one expression check. */
typedef struct Ctx {
    Program *p;
    Scope *scope;
    BodyKind body;
    bool constant;      /* only constants allowed (parameters, sizes, ...) */
    bool in_handler;    /* inside an event handler or reset */
    bool allow_dist;    /* distributions (uniform, normal) allowed: initial values, weights, delays */
    bool state_init;    /* a neuron's or receptor's state initial value: may read other
                           states ([S-neuron-1a]; a cycle is [definition-cycle]) */
} Ctx;

/* ---- scopes (sema.c) ---- */
Scope *sema_scope_new(Program *p, Scope *parent, AstNode *owner);
Sym *sema_lookup_local(Scope *s, const char *name);
Sym *sema_lookup(Scope *s, const char *name);
/* Declares `name`; reports [duplicate-declaration] and returns NULL if taken in `s`. */
Sym *sema_declare(Program *p, Scope *s, const char *name, SymKind kind, AstNode *decl, SrcSpan at);
/* Reports an [undefined-name] with a "did you mean" from `s` and the unit table. */
void sema_undefined(Program *p, Scope *s, const char *name, SrcSpan at, const char *what);
/* Reports "<owner> has no <what> '<name>'" with a suggestion from `s` itself. */
void sema_no_member(Program *p, Scope *s, const char *name, SrcSpan at, const char *what, const char *owner);
/* Reports an undefined declaration of `kind`, suggesting declarations of that kind. */
void sema_undefined_decl(Program *p, const char *name, SrcSpan at, AstKind kind);
Scope *sema_body_scope(Program *p, AstNode *decl);
const char *sema_decl_word(AstKind k);
/* euler, rk2, rk4, exponential_euler, exact */
bool sema_method_known(const char *name);

/* ---- expressions (sema_expr.c) ---- */
Ty sema_expr(Ctx *c, AstNode *e);
Ty sema_sym_type(Ctx *c, Sym *sym, SrcSpan use);
Ty ty_num(Dim d, const char *unit);
Ty ty_error(void);
Ty ty_bool(void);
bool ty_bad(Ty t);
/* Checks that `t` has dimension `want`; binds unknowns; reports `id` at `at`
 * with `what` ("the right-hand side of dV/dt") on mismatch. */
bool sema_expect_dim(Ctx *c, Ty t, Ty want, SrcSpan at, DiagId id, const char *what);
/* Makes `a` and `b` the same dimension (binding unknowns) or returns false. */
bool sema_unify(Program *p, Ty *a, Ty *b);
const char *sema_ty_text(Program *p, Ty t);
int sema_new_unknown(Program *p, const char *what);
Ty sema_resolve_ty(Program *p, Ty t);
/* Checks a value used where a constant is required; returns its SI value. */
bool sema_const_value(Ctx *c, AstNode *e, Dim want, const char *what, double *out);

/* ---- networks (sema_net.c) ---- */
/* Checks `net`; its flattened form is left in net->sema (a CheckedNet). */
void sema_check_network(Program *p, AstNode *net);
void sema_check_motif_decl(Program *p, AstNode *motif);
void sema_check_simulate(Program *p, AstNode *sim);
void sema_check_context_decl(Program *p, AstNode *ctx);

/* Dimensions sema needs by name. */
#define DIM_NONE unit_dim_none()
#define DIM_TIME unit_dim_make(0, 0, 1, 0, 0, 0, 0)
#define DIM_RATE unit_dim_make(0, 0, -1, 0, 0, 0, 0)
#define DIM_VOLT unit_dim_make(2, 1, -3, -1, 0, 0, 0)
#define DIM_AMP unit_dim_make(0, 0, 0, 1, 0, 0, 0)

#endif
