/* ode.c - integration schemes: analysis of ODE right-hand sides and the
 * discretized update written into MirPop.step; see ode.h and SPEC.md
 * ("Integration schemes").
 *
 * Outline of ode_plan():
 *   1. dependencies: which ODE states each right-hand side reads (through
 *      definitions), and whether it reads time, parameters, inputs;
 *   2. structural linearity: rhs_i = sum_j A_ij x_j + b_i, once with every
 *      ODE state as a variable (exact candidates) and once with only x_i
 *      (conditionally linear, exponential Euler candidates);
 *   3. the scheme per ODE (method hint, or the automatic choice);
 *   4. emission: the definitions at the start of the step, then each group's
 *      new values into fresh temporaries, then one MIR_SET per state, so that
 *      every right-hand side sees start-of-step values. */
#include "ode.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cg_math.h"
#include "mir_eval.h"

/* ==== matrix exponential ================================================= */

typedef long double Real; /* 64-bit mantissa on x86-64: the propagator rounds once, to double */

/* C = A B for n x n row-major matrices; C must not alias A or B. */
static void mat_mul(int n, const Real *A, const Real *B, Real *C) {
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            Real s = 0;
            for (int k = 0; k < n; k++) s += A[i * n + k] * B[k * n + j];
            C[i * n + j] = s;
        }
}

/* Solves D X = N in place (X overwrites N) by Gaussian elimination with
 * partial pivoting; D is destroyed. Returns false if D is singular. */
static bool mat_solve(int n, Real *D, Real *N) {
    for (int c = 0; c < n; c++) {
        int piv = c;
        for (int r = c + 1; r < n; r++)
            if (fabsl(D[r * n + c]) > fabsl(D[piv * n + c])) piv = r;
        if (D[piv * n + c] == 0) return false;
        if (piv != c)
            for (int k = 0; k < n; k++) {
                Real t = D[c * n + k]; D[c * n + k] = D[piv * n + k]; D[piv * n + k] = t;
                t = N[c * n + k]; N[c * n + k] = N[piv * n + k]; N[piv * n + k] = t;
            }
        for (int r = c + 1; r < n; r++) {
            Real f = D[r * n + c] / D[c * n + c];
            if (f == 0) continue;
            for (int k = c; k < n; k++) D[r * n + k] -= f * D[c * n + k];
            for (int k = 0; k < n; k++) N[r * n + k] -= f * N[c * n + k];
        }
    }
    for (int c = n - 1; c >= 0; c--)
        for (int k = 0; k < n; k++) {
            Real s = N[c * n + k];
            for (int j = c + 1; j < n; j++) s -= D[c * n + j] * N[j * n + k];
            N[c * n + k] = s / D[c * n + c];
        }
    return true;
}

/* Number of halvings s so that ||A||_1 / 2^s <= 1/2; -1 if A is not finite
 * or needs absurdly many. */
static int expm_scaling(int n, const double *A) {
    double norm = 0;
    for (int j = 0; j < n; j++) {
        double col = 0;
        for (int i = 0; i < n; i++) col += fabs(A[i * n + j]);
        if (!isfinite(col)) return -1;
        if (col > norm) norm = col;
    }
    int s = 0;
    while (norm > 0.5 && s < 1100) { norm /= 2; s++; }
    return s < 1100 ? s : -1;
}

enum { PADE_Q = 8 }; /* [8/8]: truncation error < 3e-23 for ||X|| <= 1/2 (Moler & Van Loan) */

/* Evaluates the [q/q] Pade approximant of exp(X): N = sum c_k X^k,
 * D = sum (-1)^k c_k X^k, then X := D^-1 N. W is 3 n*n of scratch. */
static bool expm_pade(int n, Real *X, Real *W) {
    Real *N = W, *D = W + n * n, *Pw = W + 2 * n * n, *T = X; /* T reused at the end */
    Real *pw = malloc(sizeof(Real) * (size_t)(n * n));
    for (int i = 0; i < n * n; i++) { N[i] = D[i] = 0; Pw[i] = (i % (n + 1) == 0); }
    Real c = 1;
    for (int k = 0; k <= PADE_Q; k++) {
        if (k > 0) {
            c *= (Real)(PADE_Q - k + 1) / (Real)(k * (2 * PADE_Q - k + 1));
            mat_mul(n, Pw, X, pw);
            memcpy(Pw, pw, sizeof(Real) * (size_t)(n * n));
        }
        for (int i = 0; i < n * n; i++) {
            N[i] += c * Pw[i];
            D[i] += ((k & 1) ? -c : c) * Pw[i];
        }
    }
    free(pw);
    bool ok = mat_solve(n, D, N);
    memcpy(T, N, sizeof(Real) * (size_t)(n * n));
    return ok;
}

/* Off-diagonal 1-norms of column i (*c) and row i (*r). */
static void offdiag_norms(int n, const Real *X, int i, Real *c, Real *r) {
    *c = *r = 0;
    for (int j = 0; j < n; j++)
        if (j != i) *c += fabsl(X[j * n + i]), *r += fabsl(X[i * n + j]);
}

/* Scales row i by 1/f and column i by f, and records f in d[i]. */
static void scale_index(int n, Real *X, Real *d, int i, Real f) {
    d[i] *= f;
    for (int j = 0; j < n; j++) X[i * n + j] /= f, X[j * n + i] *= f;
}

/* Balances X := D^-1 X D with D = diag(d), powers of two only, so that it is
 * exact (Parlett & Reinsch; LAPACK's gebal). Physical units make couplings
 * like R/tau_m ~ 1e10 next to rates ~ 1e2; balancing shrinks the norm to the
 * size of the rates, so scaling and squaring needs few or no squarings. An
 * index whose row (column) is zero off the diagonal is scaled until its
 * column (row) has a norm of at most 1: any power of two is exact there. */
static void expm_balance(int n, Real *X, Real *d) {
    for (int i = 0; i < n; i++) d[i] = 1;
    for (int sweep = 0; sweep < 64; sweep++) {
        bool changed = false;
        for (int i = 0; i < n; i++) {
            Real c, r, f = 1;
            offdiag_norms(n, X, i, &c, &r);
            if (c == 0 && r == 0) continue;
            if (r == 0 || c == 0) {
                Real m = c + r;
                while (m > 1) m /= 2, f *= 2;
                if (f > 1) scale_index(n, X, d, i, c == 0 ? f : 1 / f), changed = true;
                continue;
            }
            Real s = c + r;
            while (c < r / 2) c *= 2, r /= 2, f *= 2;
            while (c >= r * 2) c /= 2, r *= 2, f /= 2;
            if (c + r < 0.95L * s) scale_index(n, X, d, i, f), changed = true;
        }
        if (!changed) break;
    }
}

/* exp(A) in long double into E (n x n). See ode_expm(). */
static bool expm_ld(int n, const double *A, Real *E) {
    Real *X = malloc(sizeof(Real) * (size_t)(n * n) * 4 + sizeof(Real) * (size_t)n);
    Real *W = X + n * n, *d = X + 4 * n * n;
    for (int i = 0; i < n * n; i++) X[i] = A[i];
    bool ok = true;
    for (int i = 0; i < n * n; i++) ok &= isfinite(A[i]) != 0;
    if (ok) expm_balance(n, X, d);
    double *Xd = malloc(sizeof(double) * (size_t)(n * n));
    for (int i = 0; ok && i < n * n; i++) Xd[i] = (double)X[i];
    int s = ok ? expm_scaling(n, Xd) : -1;
    free(Xd);
    ok = s >= 0;
    for (int i = 0; ok && i < n * n; i++) X[i] = ldexpl(X[i], -s);
    ok = ok && expm_pade(n, X, W);
    for (int k = 0; ok && k < s; k++) { /* undo the scaling: exp(A) = exp(A/2^s)^(2^s) */
        mat_mul(n, X, X, W);
        memcpy(X, W, sizeof(Real) * (size_t)(n * n));
    }
    for (int i = 0; ok && i < n; i++) /* undo the balancing: exp(A) = D exp(D^-1 A D) D^-1 */
        for (int j = 0; j < n; j++) {
            E[i * n + j] = X[i * n + j] * d[i] / d[j];
            if (!isfinite((double)E[i * n + j])) ok = false;
        }
    free(X);
    return ok;
}

bool ode_expm(int n, const double *A, double *E) {
    Real *L = malloc(sizeof(Real) * (size_t)(n * n));
    bool ok = expm_ld(n, A, L);
    for (int i = 0; ok && i < n * n; i++) E[i] = (double)L[i];
    free(L);
    return ok;
}

/* ode_propagator() in long double, so that the coefficients emitted are
 * rounded to double once, and the constant part of Phi r is summed before
 * rounding. */
static bool propagator_ld(int n, const double *A, double dt, Real *P, Real *Phi) {
    int m = 2 * n;
    double *M = calloc((size_t)(m * m), sizeof(double));
    Real *E = malloc(sizeof(Real) * (size_t)(m * m));
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) M[i * m + j] = A[i * n + j] * dt;
        M[i * m + n + i] = dt;
    }
    bool ok = expm_ld(m, M, E);
    for (int i = 0; ok && i < n; i++)
        for (int j = 0; j < n; j++) {
            P[i * n + j] = E[i * m + j];
            Phi[i * n + j] = E[i * m + n + j];
        }
    free(M);
    free(E);
    return ok;
}

bool ode_propagator(int n, const double *A, double dt, double *P, double *Phi) {
    Real *L = malloc(sizeof(Real) * (size_t)(2 * n * n));
    bool ok = propagator_ld(n, A, dt, L, L + n * n);
    for (int i = 0; ok && i < n * n; i++) P[i] = (double)L[i], Phi[i] = (double)L[n * n + i];
    free(L);
    return ok;
}

/* ==== analysis ============================================================ */

/* What an expression depends on, besides constants. */
enum {
    DF_STATE = 1, /* an ODE state (which ones: Dep.st) */
    DF_TIME = 2,  /* t: not constant over the step */
    DF_PARAM = 4, /* a per-neuron parameter: constant in time, differs per neuron */
    DF_STEP = 8,  /* constant over one step, may change between steps: inputs,
                     states without an ODE, definitions computed from them */
};

typedef struct Dep {
    unsigned flags;
    bool *st;        /* [nodes]: reads ODE state i */
} Dep;

/* A linear decomposition rhs = sum_j c[j] x_j + r over the ODE states chosen
 * as variables. NULL means zero. ok is false when rhs is not affine in them. */
typedef struct Lin {
    bool ok;
    MirExpr **c;     /* [nodes] */
    MirExpr *r;
} Lin;

typedef struct Plan {
    Arena *a;
    MirPop *pop;
    double dt;
    Diags *d;
    int n;                 /* number of ODEs */
    int ntemps0;           /* temps of the definitions (before ode.c added any) */
    int *ode_of;           /* [nstates] -> ODE index or -1 */
    MirExpr **tdef;        /* [ntemps0] value of the temp's MIR_LET; NULL if set inside an if or never */
    bool *topaque;         /* [ntemps0] assigned inside an if or more than once */
    Dep *tdep;             /* [ntemps0] dependencies of each temp */
    Dep *dep;              /* [n] dependencies of each rhs */
    Lin *lin_all;          /* [n] affine in all ODE states */
    Lin *lin_self;         /* [n] affine in its own state */
    MirExpr **next;        /* [n] new value of each state (a temp), filled by emission */
} Plan;

static const char *state_name(const Plan *p, int ode) {
    return p->pop->states[p->pop->odes[ode].state].name;
}

static Dep dep_new(Plan *p) {
    Dep d = {0, ARENA_ARRAY(p->a, bool, p->n > 0 ? p->n : 1)};
    return d;
}

static void dep_merge(Plan *p, Dep *into, const Dep *from) {
    into->flags |= from->flags;
    for (int i = 0; i < p->n; i++) into->st[i] |= from->st[i];
}

/* Adds the dependencies of `e` to *out. */
static void deps_of(Plan *p, const MirExpr *e, Dep *out) {
    switch (e->op) {
    case MX_CONST: case MX_DT: return;
    case MX_TIME: out->flags |= DF_TIME; return;
    case MX_PARAM: case MX_PCONST: out->flags |= DF_PARAM; return;
    case MX_INPUT: case MX_GLOBAL: out->flags |= DF_STEP; return;
    case MX_STATE: {
        int i = (e->slot >= 0 && e->slot < p->pop->nstates) ? p->ode_of[e->slot] : -1;
        if (i < 0) out->flags |= DF_STEP;
        else { out->flags |= DF_STATE; out->st[i] = true; }
        return;
    }
    case MX_TEMP:
        if (e->slot >= 0 && e->slot < p->ntemps0) dep_merge(p, out, &p->tdep[e->slot]);
        else out->flags |= DF_STEP;
        return;
    default:
        for (int i = 0; i < e->nargs; i++) deps_of(p, e->args[i], out);
    }
}

/* Records the definitions: each MIR_LET's value and dependencies, in order.
 * A temp assigned inside an `if` also depends on the condition and cannot be
 * substituted (tdef stays NULL). */
static void scan_defs(Plan *p, const MirBlock *b, const Dep *cond) {
    for (int i = 0; i < b->n; i++) {
        const MirStmt *s = b->v[i];
        if (s->kind == MIR_IF) {
            Dep c = dep_new(p);
            if (cond) dep_merge(p, &c, cond);
            deps_of(p, s->value, &c);
            scan_defs(p, &s->then, &c);
            scan_defs(p, &s->else_, &c);
        } else if (s->kind == MIR_LET && s->slot >= 0 && s->slot < p->ntemps0) {
            Dep d = dep_new(p);
            if (cond) dep_merge(p, &d, cond);
            deps_of(p, s->value, &d);
            if (cond || p->tdef[s->slot] || p->topaque[s->slot]) { /* conditional or reassigned */
                dep_merge(p, &p->tdep[s->slot], &d);
                p->tdef[s->slot] = NULL;
                p->topaque[s->slot] = true;
            } else {
                p->tdep[s->slot] = d;
                p->tdef[s->slot] = s->value;
            }
        }
    }
}

/* ---- folding constructors: NULL stands for 0 ------------------------------ */

static bool is_num(const MirExpr *e, double v) { return e && e->op == MX_CONST && e->value == v; }

static MirExpr *k_const(Plan *p, double v) { return mir_const(p->a, v); }

static MirExpr *k_add(Plan *p, MirExpr *x, MirExpr *y) {
    if (!x || is_num(x, 0)) return y;
    if (!y || is_num(y, 0)) return x;
    if (x->op == MX_CONST && y->op == MX_CONST) return k_const(p, x->value + y->value);
    return mir_binary(p->a, MX_ADD, x, y);
}

static MirExpr *k_neg(Plan *p, MirExpr *x) {
    if (!x) return NULL;
    if (x->op == MX_CONST) return k_const(p, -x->value);
    if (x->op == MX_NEG) return x->args[0];
    return mir_unary(p->a, MX_NEG, x);
}

static MirExpr *k_sub(Plan *p, MirExpr *x, MirExpr *y) {
    if (!y || is_num(y, 0)) return x;
    if (!x || is_num(x, 0)) return k_neg(p, y);
    if (x->op == MX_CONST && y->op == MX_CONST) return k_const(p, x->value - y->value);
    return mir_binary(p->a, MX_SUB, x, y);
}

static MirExpr *k_mul(Plan *p, MirExpr *x, MirExpr *y) {
    if (!x || !y || is_num(x, 0) || is_num(y, 0)) return NULL;
    if (is_num(x, 1)) return y;
    if (is_num(y, 1)) return x;
    if (x->op == MX_CONST && y->op == MX_CONST) return k_const(p, x->value * y->value);
    if (is_num(x, -1)) return k_neg(p, y);
    if (is_num(y, -1)) return k_neg(p, x);
    return mir_binary(p->a, MX_MUL, x, y);
}

/* x / y with y != 0 structurally (y is a non-NULL state-free denominator). */
static MirExpr *k_div(Plan *p, MirExpr *x, MirExpr *y) {
    if (!x || is_num(x, 0)) return NULL;
    if (is_num(y, 1)) return x;
    if (x->op == MX_CONST && y->op == MX_CONST) return k_const(p, x->value / y->value);
    return mir_binary(p->a, MX_DIV, x, y);
}

/* ---- structural linearity ------------------------------------------------ */

static bool lin_is_free(const Plan *p, const Lin *l) {
    if (!l->ok) return false;
    for (int i = 0; i < p->n; i++)
        if (l->c[i]) return false;
    return true;
}

static Lin lin_new(Plan *p, bool ok, MirExpr *r) {
    Lin l = {ok, ARENA_ARRAY(p->a, MirExpr *, p->n > 0 ? p->n : 1), r};
    return l;
}

/* Combines x (op) y for op in {ADD, SUB}, or scales x by the state-free
 * expression f: MUL (x*f) or DIV (x/f). */
static Lin lin_sum(Plan *p, const Lin *x, const Lin *y, bool sub) {
    Lin l = lin_new(p, true, sub ? k_sub(p, x->r, y->r) : k_add(p, x->r, y->r));
    for (int i = 0; i < p->n; i++)
        l.c[i] = sub ? k_sub(p, x->c[i], y->c[i]) : k_add(p, x->c[i], y->c[i]);
    return l;
}

static Lin lin_scale(Plan *p, const Lin *x, MirExpr *f, bool div) {
    Lin l = lin_new(p, true, div ? k_div(p, x->r, f) : k_mul(p, x->r, f));
    for (int i = 0; i < p->n; i++)
        l.c[i] = div ? k_div(p, x->c[i], f) : k_mul(p, x->c[i], f);
    return l;
}

static Lin lin_of(Plan *p, MirExpr *e, int var);

/* Does temp `k` depend on a variable (all ODE states if var < 0, else ODE var)? */
static bool temp_reads_var(const Plan *p, int k, int var) {
    const Dep *d = &p->tdep[k];
    if (var >= 0) return d->st[var];
    return (d->flags & DF_STATE) != 0;
}

static Lin lin_leaf(Plan *p, MirExpr *e, int var) {
    if (e->op == MX_STATE && e->slot >= 0 && e->slot < p->pop->nstates) {
        int i = p->ode_of[e->slot];
        if (i >= 0 && (var < 0 || var == i)) {
            Lin l = lin_new(p, true, NULL);
            l.c[i] = k_const(p, 1);
            return l;
        }
    }
    if (e->op == MX_TEMP && e->slot >= 0 && e->slot < p->ntemps0) {
        const Dep *d = &p->tdep[e->slot];
        bool reads = temp_reads_var(p, e->slot, var);
        if (p->tdef[e->slot] && (reads || d->flags == 0))  /* analyse through the definition */
            return lin_of(p, p->tdef[e->slot], var);
        if (reads) return lin_new(p, false, NULL);        /* opaque and state-dependent */
    }
    if (e->op == MX_CONST) return lin_new(p, true, is_num(e, 0) ? NULL : e);
    if (e->op == MX_DT) return lin_new(p, true, k_const(p, p->dt));
    return lin_new(p, true, e);
}

/* Decomposes `e` as affine in the variables: every ODE state when var < 0,
 * else only ODE `var` (other states then count as coefficients). Products and
 * quotients are affine only when one factor (the divisor) is variable-free;
 * calls, powers, comparisons and selects only when variable-free. */
static Lin lin_of(Plan *p, MirExpr *e, int var) {
    if (e->nargs == 0 && e->op != MX_CALL) return lin_leaf(p, e, var);
    Lin a = lin_of(p, e->args[0], var);
    if (!a.ok) return a;
    if (e->op == MX_NEG) {
        Lin l = lin_scale(p, &a, k_const(p, -1), false);
        return l;
    }
    Lin b = e->nargs > 1 ? lin_of(p, e->args[1], var) : a;
    if (!b.ok) return b;
    switch (e->op) {
    case MX_ADD: return lin_sum(p, &a, &b, false);
    case MX_SUB: return lin_sum(p, &a, &b, true);
    case MX_MUL:
        if (lin_is_free(p, &a)) return a.r ? lin_scale(p, &b, a.r, false) : lin_new(p, true, NULL);
        if (lin_is_free(p, &b)) return b.r ? lin_scale(p, &a, b.r, false) : lin_new(p, true, NULL);
        return lin_new(p, false, NULL);
    case MX_DIV:
        if (lin_is_free(p, &b) && b.r) return lin_scale(p, &a, b.r, true);
        return lin_new(p, false, NULL);
    default: break;
    }
    /* anything else is affine only if it does not read a variable at all */
    for (int i = 0; i < e->nargs; i++) {
        Lin l = i < 2 ? (i == 0 ? a : b) : lin_of(p, e->args[i], var);
        if (!lin_is_free(p, &l)) return lin_new(p, false, NULL);
    }
    return lin_new(p, true, e);
}

/* ==== emission helpers ==================================================== */

/* Names `v` by a fresh temp (MIR_LET appended to the step) unless it is a
 * leaf already; returns the expression to use in its place. */
static MirExpr *emit_let(Plan *p, MirExpr *v) {
    if (!v) return k_const(p, 0);
    if (v->nargs == 0 && v->op != MX_CALL) return v;
    int slot = p->pop->ntemps++;
    mir_push(p->a, &p->pop->step, mir_let(p->a, slot, v));
    MirExpr *t = mir_leaf(p->a, MX_TEMP, slot);
    t->span = v->span;
    return t;
}

static MirExpr *state_ref(Plan *p, int ode) {
    return mir_leaf(p->a, MX_STATE, p->pop->odes[ode].state);
}

/* One step of dx/dt = c x + r with c, r frozen at their start-of-step values:
 *   x' = E x + phi1(z) (dt r),  z = c dt,  E = exp(z),  phi1(z) = (exp(z) - 1)/z.
 * Exact when c and r are constant over the step (a linear uncoupled ODE);
 * exponential Euler otherwise. A constant z is evaluated now (expm1 keeps
 * full accuracy). Otherwise the step is the function MF_EXPEULER
 * (cg_math.c): for |z| <= 0.35 phi1 is a polynomial and E = 1 + z phi1,
 * no exp and no division; beyond, the closed forms, which vectorized loops
 * run only when a lane needs them. phi1(0) = 1, so a coefficient that is
 * zero at run time gives the Euler step. Without r, E = exp(z) alone.
 * c == NULL (x absent from its rhs) gives the Euler step x + dt r. */
static MirExpr *emit_expeuler(Plan *p, int i, MirExpr *c, MirExpr *r) {
    MirExpr *x = state_ref(p, i), *dt = k_const(p, p->dt);
    if (c) c = mir_fold(p->a, c, p->dt);
    if (r) r = mir_fold(p->a, r, p->dt);
    if (!c) return emit_let(p, k_add(p, x, k_mul(p, dt, r)));
    MirExpr *z = emit_let(p, k_mul(p, c, dt));
    if (z->op != MX_CONST && r) {
        MirExpr *w = emit_let(p, k_mul(p, dt, r));
        MirOde *o = &p->pop->odes[i];
        o->reason = arena_printf(p->a, "%s; phi1(a*dt) = (exp(a*dt) - 1)/(a*dt) by a degree-%d polynomial and "
                                 "exp(a*dt) = 1 + a*dt*phi1 where |a*dt| <= %g (no exp, no division), "
                                 "closed forms beyond", o->reason,
                                 p->pop->use_float ? CG_PHI1_DEGREE_F : CG_PHI1_DEGREE_D, CG_PHI1_R);
        return emit_let(p, mir_call(p->a, MF_EXPEULER, 3, (MirExpr *[]){z, x, w}));
    }
    if (z->op != MX_CONST) return emit_let(p, k_mul(p, emit_let(p, mir_call(p->a, MF_EXP, 1, &z)), x));
    MirExpr *E = k_const(p, exp(z->value)), *phi = NULL;
    if (r) phi = k_const(p, z->value == 0 ? 1.0 : expm1(z->value) / z->value);
    return emit_let(p, k_add(p, k_mul(p, E, x), k_mul(p, k_mul(p, dt, phi), r)));
}

/* Exact update of the linear block idx[0..m) whose coefficients are all
 * constants: x' = P x + Phi r with P, Phi from the propagator. Returns false
 * if the propagator is not finite. */
static bool emit_exact_block(Plan *p, const int *idx, int m) {
    double *A = ARENA_ARRAY(p->a, double, m * m);
    Real *P = ARENA_ARRAY(p->a, Real, m * m), *Phi = ARENA_ARRAY(p->a, Real, m * m);
    MirExpr **r = ARENA_ARRAY(p->a, MirExpr *, m);
    for (int u = 0; u < m; u++) {
        const Lin *l = &p->lin_all[idx[u]];
        for (int v = 0; v < m; v++) A[u * m + v] = l->c[idx[v]] ? l->c[idx[v]]->value : 0.0;
        r[u] = l->r ? mir_fold(p->a, l->r, p->dt) : NULL;
    }
    if (!propagator_ld(m, A, p->dt, P, Phi)) return false;
    for (int u = 0; u < m; u++) {
        MirExpr *sum = NULL, *q = NULL;
        Real qc = 0;
        for (int v = 0; v < m; v++) {
            sum = k_add(p, sum, k_mul(p, k_const(p, (double)P[u * m + v]), state_ref(p, idx[v])));
            if (r[v] && r[v]->op == MX_CONST) qc += Phi[u * m + v] * r[v]->value;
            else q = k_add(p, q, k_mul(p, k_const(p, (double)Phi[u * m + v]), r[v]));
        }
        p->next[idx[u]] = emit_let(p, k_add(p, k_add(p, sum, k_const(p, (double)qc)), q));
    }
    return true;
}

/* ---- explicit Runge-Kutta ------------------------------------------------- */

/* Substitution for one stage: ODE states in the stage set read stage values,
 * definitions that depend on them read renamed temps, t reads t + shift. */
typedef struct Subst {
    MirExpr **x;     /* [n] stage value of ODE i, or NULL: start-of-step value */
    int *tmap;       /* [ntemps0] renamed temp, or -1 */
    double tshift;
} Subst;

static MirExpr *subst(Plan *p, MirExpr *e, const Subst *s) {
    if (e->op == MX_STATE && e->slot >= 0 && e->slot < p->pop->nstates) {
        int i = p->ode_of[e->slot];
        return (i >= 0 && s->x[i]) ? s->x[i] : e;
    }
    if (e->op == MX_TEMP && e->slot >= 0 && e->slot < p->ntemps0 && s->tmap[e->slot] >= 0)
        return mir_leaf(p->a, MX_TEMP, s->tmap[e->slot]);
    if (e->op == MX_TIME && s->tshift != 0) return k_add(p, e, k_const(p, s->tshift));
    if (e->nargs == 0) return e;
    MirExpr **args = ARENA_ARRAY(p->a, MirExpr *, e->nargs);
    bool changed = false;
    for (int i = 0; i < e->nargs; i++) {
        args[i] = subst(p, e->args[i], s);
        changed |= args[i] != e->args[i];
    }
    if (!changed) return e;
    MirExpr *n = ARENA_NEW(p->a, MirExpr);
    *n = *e;
    n->args = args;
    return n;
}

static bool block_renames(const MirBlock *b, const int *tmap) {
    for (int i = 0; i < b->n; i++) {
        const MirStmt *s = b->v[i];
        if (s->kind == MIR_LET && tmap[s->slot] >= 0) return true;
        if (s->kind == MIR_IF && (block_renames(&s->then, tmap) || block_renames(&s->else_, tmap)))
            return true;
    }
    return false;
}

/* Copies the definitions that the stage changes, with substitution, into
 * `out`; definitions that do not read a stage state keep their temps. */
static void copy_defs(Plan *p, const MirBlock *b, const Subst *s, MirBlock *out) {
    for (int i = 0; i < b->n; i++) {
        const MirStmt *st = b->v[i];
        if (st->kind == MIR_LET && st->slot < p->ntemps0 && s->tmap[st->slot] >= 0) {
            mir_push(p->a, out, mir_let(p->a, s->tmap[st->slot], subst(p, st->value, s)));
        } else if (st->kind == MIR_IF &&
                   (block_renames(&st->then, s->tmap) || block_renames(&st->else_, s->tmap))) {
            MirStmt *c = mir_if(p->a, subst(p, st->value, s));
            copy_defs(p, &st->then, s, &c->then);
            copy_defs(p, &st->else_, s, &c->else_);
            mir_push(p->a, out, c);
        }
    }
}

/* Emits k_i = f_i(x_stage, t + tshift) for every ODE in `in`; xs == NULL is
 * the first stage (start-of-step values, definitions as computed). */
static void emit_stage(Plan *p, const bool *in, MirExpr **xs, double tshift, MirExpr **k) {
    Subst s = {ARENA_ARRAY(p->a, MirExpr *, p->n), ARENA_ARRAY(p->a, int, p->ntemps0 + 1), tshift};
    for (int t = 0; t < p->ntemps0; t++) s.tmap[t] = -1;
    if (xs) {
        for (int i = 0; i < p->n; i++) s.x[i] = in[i] ? xs[i] : NULL;
        for (int t = 0; t < p->ntemps0; t++) {
            bool reads = (p->tdep[t].flags & DF_TIME) != 0;
            for (int i = 0; i < p->n && !reads; i++) reads = in[i] && p->tdep[t].st[i];
            if (reads) s.tmap[t] = p->pop->ntemps++;
        }
        copy_defs(p, &p->pop->defs, &s, &p->pop->step);
    }
    for (int i = 0; i < p->n; i++)
        if (in[i]) k[i] = emit_let(p, mir_fold(p->a, xs ? subst(p, p->pop->odes[i].rhs, &s) : p->pop->odes[i].rhs, p->dt));
}

/* x + h * k for every ODE in `in`, as temps. */
static void emit_axpy(Plan *p, const bool *in, double h, MirExpr **k, MirExpr **out) {
    for (int i = 0; i < p->n; i++)
        if (in[i]) out[i] = emit_let(p, k_add(p, state_ref(p, i), k_mul(p, k_const(p, h), k[i])));
}

/* Integrates the ODEs in `in` together with one explicit scheme (euler,
 * midpoint rk2 or classical rk4) and stores the new values of those marked
 * in `write` (the others are integrated only to give exact stage values). */
static void emit_rk(Plan *p, MirMethod m, const bool *in, const bool *write) {
    int n = p->n;
    double h = p->dt;
    MirExpr **k1 = ARENA_ARRAY(p->a, MirExpr *, n), **k2 = ARENA_ARRAY(p->a, MirExpr *, n);
    MirExpr **k3 = ARENA_ARRAY(p->a, MirExpr *, n), **k4 = ARENA_ARRAY(p->a, MirExpr *, n);
    MirExpr **xs = ARENA_ARRAY(p->a, MirExpr *, n), **res = ARENA_ARRAY(p->a, MirExpr *, n);
    emit_stage(p, in, NULL, 0, k1);
    if (m == MM_EULER) {
        emit_axpy(p, in, h, k1, res);
    } else if (m == MM_RK2) {
        emit_axpy(p, in, h / 2, k1, xs);
        emit_stage(p, in, xs, h / 2, k2);
        emit_axpy(p, in, h, k2, res);
    } else {
        emit_axpy(p, in, h / 2, k1, xs);
        emit_stage(p, in, xs, h / 2, k2);
        emit_axpy(p, in, h / 2, k2, xs);
        emit_stage(p, in, xs, h / 2, k3);
        emit_axpy(p, in, h, k3, xs);
        emit_stage(p, in, xs, h, k4);
        for (int i = 0; i < n; i++) {
            if (!in[i]) continue;
            MirExpr *sum = k_add(p, k_add(p, k1[i], k_mul(p, k_const(p, 2), k2[i])),
                                 k_add(p, k_mul(p, k_const(p, 2), k3[i]), k4[i]));
            res[i] = k_add(p, state_ref(p, i), k_mul(p, k_const(p, h / 6), sum));
        }
    }
    for (int i = 0; i < n; i++)
        if (write[i]) p->next[i] = emit_let(p, res[i]);
}

/* ==== choosing the schemes ================================================ */

/* Per-ODE classification filled by classify(). */
typedef enum Kind {
    K_NONE,
    K_MATRIX,        /* exact, member of a constant-coefficient block */
    K_SCALAR_EXACT,  /* exact, uncoupled with per-neuron coefficient */
    K_EXPEULER,      /* exponential Euler in its own state */
    K_RK,            /* euler / rk2 / rk4 as in MirOde.method */
} Kind;

typedef struct Choice {
    Kind *kind;      /* [n] */
    bool *exact_ok;  /* [n] linear, autonomous, and reads only such states */
    int *comp;       /* [n] connected component (within exact_ok or within the rest) */
} Choice;

static void analyse(Plan *p) {
    for (int i = 0; i < p->n; i++) {
        MirExpr *rhs = p->pop->odes[i].rhs;
        p->dep[i] = dep_new(p);
        deps_of(p, rhs, &p->dep[i]);
        p->lin_all[i] = lin_of(p, rhs, -1);
        p->lin_self[i] = lin_of(p, rhs, i);
        Lin *l = &p->lin_all[i];
        for (int j = 0; l->ok && j < p->n; j++)
            if (l->c[j]) l->c[j] = mir_fold(p->a, l->c[j], p->dt);
        if (l->ok && l->r) l->r = mir_fold(p->a, l->r, p->dt);
    }
}

/* exact_ok: the largest set of linear autonomous ODEs closed under "reads
 * the state of": an exact update of the set then needs nothing else. */
static void find_exact_set(Plan *p, bool *ok) {
    for (int i = 0; i < p->n; i++) ok[i] = p->lin_all[i].ok && !(p->dep[i].flags & DF_TIME);
    for (bool changed = true; changed;) {
        changed = false;
        for (int i = 0; i < p->n; i++)
            for (int j = 0; ok[i] && j < p->n; j++)
                if (p->dep[i].st[j] && !ok[j]) ok[i] = false, changed = true;
    }
}

/* Connected components of the undirected "reads" graph, separately within
 * the exact set and within the rest. comp[i] is the smallest member. */
static void find_components(Plan *p, const bool *ok, int *comp) {
    for (int i = 0; i < p->n; i++) comp[i] = i;
    for (bool changed = true; changed;) {
        changed = false;
        for (int i = 0; i < p->n; i++)
            for (int j = 0; j < p->n; j++) {
                if (ok[i] != ok[j] || !(p->dep[i].st[j] || p->dep[j].st[i])) continue;
                int c = comp[i] < comp[j] ? comp[i] : comp[j];
                if (comp[i] != c || comp[j] != c) comp[i] = comp[j] = c, changed = true;
            }
    }
}

/* Names of the other ODE states that ODE i reads, "a, b" (arena). */
static const char *others_read(Plan *p, int i) {
    char *s = "";
    for (int j = 0; j < p->n; j++)
        if (j != i && p->dep[i].st[j])
            s = arena_printf(p->a, "%s%s'%s'", s, *s ? ", " : "", state_name(p, j));
    if (p->dep[i].flags & DF_TIME) s = arena_printf(p->a, "%s%st", s, *s ? ", " : "");
    return s;
}

/* Names of the exact-set members of component c, "V, I" (arena). */
static const char *block_names(Plan *p, const Choice *ch, int c) {
    char *s = "";
    for (int j = 0; j < p->n; j++)
        if (ch->exact_ok[j] && ch->comp[j] == c)
            s = arena_printf(p->a, "%s%s%s", s, *s ? ", " : "", state_name(p, j));
    return s;
}

static bool reads_only_itself(const Plan *p, int i) {
    for (int j = 0; j < p->n; j++)
        if (j != i && p->dep[i].st[j]) return false;
    return true;
}

static void set_method(Plan *p, int i, MirMethod m, Kind k, Choice *ch, const char *reason) {
    p->pop->odes[i].method = m;
    p->pop->odes[i].reason = reason;
    ch->kind[i] = k;
}

/* Why ODE i is not in the exact set (for diagnostics and --explain). */
static const char *why_not_exact(Plan *p, const bool *exact_ok, int i) {
    if (!p->lin_all[i].ok) return "its right-hand side is not linear in the state variables";
    if (p->dep[i].flags & DF_TIME) return "its right-hand side depends on time";
    for (int j = 0; j < p->n; j++)
        if (j != i && p->dep[i].st[j] && !exact_ok[j])
            return arena_printf(p->a, "it depends on '%s', whose equation is not linear", state_name(p, j));
    return "it is linear";
}

/* Schemes for one component of the exact set: one propagator if every
 * coefficient is a constant; otherwise per ODE, exact decay when it reads
 * only itself and exponential Euler when coupled. */
static void choose_exact_component(Plan *p, Choice *ch, int c) {
    int m = 0;
    bool constant = true;
    for (int i = 0; i < p->n; i++) {
        if (!ch->exact_ok[i] || ch->comp[i] != c) continue;
        m++;
        for (int j = 0; j < p->n; j++)
            if (p->lin_all[i].c[j] && p->lin_all[i].c[j]->op != MX_CONST) constant = false;
    }
    for (int i = 0; i < p->n; i++) {
        if (!ch->exact_ok[i] || ch->comp[i] != c) continue;
        const MirExpr *self = p->lin_all[i].c[i];
        if (constant && m > 1)
            set_method(p, i, MM_EXACT, K_MATRIX, ch, arena_printf(p->a,
                "linear with constant coefficients: %dx%d propagator of {%s} computed at compile time",
                m, m, block_names(p, ch, c)));
        else if (reads_only_itself(p, i) && (!self || self->op == MX_CONST))
            set_method(p, i, MM_EXACT, K_MATRIX, ch,
                       "linear with constant coefficients: propagator computed at compile time");
        else if (reads_only_itself(p, i))
            set_method(p, i, MM_EXACT, K_SCALAR_EXACT, ch,
                       "linear with a per-neuron coefficient: exact decay exp(a*dt) evaluated per neuron");
        else
            set_method(p, i, MM_EXPONENTIAL_EULER, K_EXPEULER, ch, arena_printf(p->a,
                "linear, but coupled to %s with per-neuron coefficients (no compile-time propagator)",
                others_read(p, i)));
    }
}

static bool cond_linear(const Plan *p, int i) {
    return p->lin_self[i].ok && p->lin_self[i].c[i] != NULL;
}

/* Schemes for one component outside the exact set: exponential Euler if
 * every member is affine in itself, else rk4 for the whole component (so
 * that coupled nonlinear equations keep fourth order). */
static void choose_rest_component(Plan *p, Choice *ch, int c) {
    bool all = true;
    int culprit = -1;
    for (int i = 0; i < p->n; i++)
        if (!ch->exact_ok[i] && ch->comp[i] == c && !cond_linear(p, i)) {
            all = false;
            if (culprit < 0) culprit = i;
        }
    for (int i = 0; i < p->n; i++) {
        if (ch->exact_ok[i] || ch->comp[i] != c) continue;
        const char *sn = state_name(p, i);
        if (all)
            set_method(p, i, MM_EXPONENTIAL_EULER, K_EXPEULER, ch, arena_printf(p->a,
                "conditionally linear: affine in '%s'%s%s%s", sn,
                others_read(p, i)[0] ? " given " : "", others_read(p, i),
                others_read(p, i)[0] ? " at their start-of-step values" : ""));
        else if (!cond_linear(p, i))
            set_method(p, i, MM_RK4, K_RK, ch, arena_printf(p->a, "not linear in '%s'", sn));
        else
            set_method(p, i, MM_RK4, K_RK, ch, arena_printf(p->a,
                "coupled to '%s', which is not linear: integrated together by rk4", state_name(p, culprit)));
    }
}

static void choose_auto(Plan *p, Choice *ch) {
    for (int i = 0; i < p->n; i++) {
        if (ch->comp[i] != i) continue; /* once per component, at its smallest member */
        if (ch->exact_ok[i]) choose_exact_component(p, ch, i);
        else choose_rest_component(p, ch, i);
    }
}

static void report(Plan *p, int i, DiagId id, const char *msg) {
    if (p->d) diag_report(p->d, p->pop->odes[i].span, id, "%s", msg);
}

/* Applies the method named by the model. Returns false after reporting
 * every ODE it cannot integrate. */
static bool choose_hint(Plan *p, Choice *ch) {
    MirMethod m = p->pop->method_hint;
    bool ok = true;
    if (m == MM_EXACT) {
        choose_auto(p, ch);
        for (int i = 0; i < p->n; i++) {
            if (!ch->exact_ok[i]) {
                report(p, i, DIAG_EXACT_NONLINEAR, arena_printf(p->a, "cannot integrate '%s' exactly: %s",
                       state_name(p, i), why_not_exact(p, ch->exact_ok, i)));
                ok = false;
            } else if (ch->kind[i] == K_EXPEULER) {
                report(p, i, DIAG_EXACT_NONLINEAR, arena_printf(p->a, "cannot integrate '%s' exactly: it is "
                       "coupled to %s with coefficients that differ per neuron", state_name(p, i), others_read(p, i)));
                ok = false;
            }
        }
        return ok;
    }
    for (int i = 0; i < p->n; i++) {
        if (m != MM_EXPONENTIAL_EULER) {
            set_method(p, i, m, K_RK, ch, arena_printf(p->a, "method %s named by the model", mir_method_name(m)));
        } else if (p->lin_self[i].ok) {
            set_method(p, i, m, K_EXPEULER, ch, "method exponential_euler named by the model");
        } else {
            report(p, i, DIAG_EXPEULER_NONLINEAR, arena_printf(p->a, "cannot integrate '%s' by exponential "
                   "Euler: its right-hand side is not linear in '%s'", state_name(p, i), state_name(p, i)));
            ok = false;
        }
    }
    return ok;
}

/* ==== emission ============================================================ */

/* The exact-set members of component c marked K_MATRIX, into idx; count. */
static int matrix_block(const Plan *p, const Choice *ch, int c, int *idx) {
    int m = 0;
    for (int i = 0; i < p->n; i++)
        if (ch->kind[i] == K_MATRIX && ch->comp[i] == c) idx[m++] = i;
    return m;
}

/* Emits every propagator block: the K_MATRIX members of one component (in a
 * component with per-neuron coefficients these read only themselves, so the
 * block is diagonal). A block whose propagator is not finite (coefficients
 * near overflow) falls back to rk4. */
static void emit_matrix_blocks(Plan *p, Choice *ch) {
    int *idx = ARENA_ARRAY(p->a, int, p->n);
    for (int i = 0; i < p->n; i++) {
        if (ch->kind[i] != K_MATRIX || p->next[i]) continue;
        int m = matrix_block(p, ch, ch->comp[i], idx);
        if (emit_exact_block(p, idx, m)) continue;
        for (int u = 0; u < m; u++)
            set_method(p, idx[u], MM_RK4, K_RK, ch, "linear, but its propagator overflows: rk4");
    }
}

/* Explicit Runge-Kutta groups, one per method; each integrates the states
 * it reads too, so that its stages see consistent values. */
static void emit_rk_groups(Plan *p, const Choice *ch) {
    static const MirMethod ms[] = {MM_EULER, MM_RK2, MM_RK4};
    bool *in = ARENA_ARRAY(p->a, bool, p->n), *write = ARENA_ARRAY(p->a, bool, p->n);
    for (int k = 0; k < 3; k++) {
        bool any = false;
        for (int i = 0; i < p->n; i++) {
            write[i] = in[i] = ch->kind[i] == K_RK && p->pop->odes[i].method == ms[k];
            any |= write[i];
        }
        if (!any) continue;
        for (bool changed = true; changed;) {
            changed = false;
            for (int i = 0; i < p->n; i++)
                for (int j = 0; in[i] && j < p->n; j++)
                    if (p->dep[i].st[j] && !in[j]) in[j] = true, changed = true;
        }
        emit_rk(p, ms[k], in, write);
    }
}

/* Writes pop->step: definitions, new values into temps, then the states. */
static void emit_all(Plan *p, Choice *ch) {
    for (int i = 0; i < p->pop->defs.n; i++) mir_push(p->a, &p->pop->step, p->pop->defs.v[i]);
    emit_matrix_blocks(p, ch);
    for (int i = 0; i < p->n; i++) {
        if (ch->kind[i] == K_SCALAR_EXACT)
            p->next[i] = emit_expeuler(p, i, p->lin_all[i].c[i], p->lin_all[i].r);
        else if (ch->kind[i] == K_EXPEULER)
            p->next[i] = emit_expeuler(p, i, p->lin_self[i].c[i], p->lin_self[i].r);
    }
    emit_rk_groups(p, ch);
    for (int i = 0; i < p->n; i++) {
        assert(p->next[i]);
        MirStmt *s = mir_set(p->a, p->pop->odes[i].state, p->next[i]);
        mir_push(p->a, &p->pop->step, s);
    }
}

static void plan_init(Plan *p, Arena *a, MirPop *pop, double dt, Diags *d) {
    memset(p, 0, sizeof *p);
    p->a = a, p->pop = pop, p->dt = dt, p->d = d, p->n = pop->nodes, p->ntemps0 = pop->ntemps;
    p->ode_of = ARENA_ARRAY(a, int, pop->nstates + 1);
    for (int s = 0; s < pop->nstates; s++) p->ode_of[s] = -1;
    for (int i = 0; i < p->n; i++) {
        assert(pop->odes[i].state >= 0 && pop->odes[i].state < pop->nstates);
        p->ode_of[pop->odes[i].state] = i;
    }
    p->tdef = ARENA_ARRAY(a, MirExpr *, p->ntemps0 + 1);
    p->topaque = ARENA_ARRAY(a, bool, p->ntemps0 + 1);
    p->tdep = ARENA_ARRAY(a, Dep, p->ntemps0 + 1);
    for (int t = 0; t < p->ntemps0; t++) p->tdep[t] = dep_new(p);
    p->dep = ARENA_ARRAY(a, Dep, p->n + 1);
    p->lin_all = ARENA_ARRAY(a, Lin, p->n + 1);
    p->lin_self = ARENA_ARRAY(a, Lin, p->n + 1);
    p->next = ARENA_ARRAY(a, MirExpr *, p->n + 1);
}

bool ode_plan(Arena *a, MirPop *pop, double dt, Diags *d) {
    assert(dt > 0);
    Plan p;
    plan_init(&p, a, pop, dt, d);
    scan_defs(&p, &pop->defs, NULL);
    analyse(&p);
    Choice ch = {ARENA_ARRAY(a, Kind, p.n + 1), ARENA_ARRAY(a, bool, p.n + 1), ARENA_ARRAY(a, int, p.n + 1)};
    find_exact_set(&p, ch.exact_ok);
    find_components(&p, ch.exact_ok, ch.comp);
    if (pop->method_hint == MM_AUTO) choose_auto(&p, &ch);
    else if (!choose_hint(&p, &ch)) return false;
    emit_all(&p, &ch);
    return true;
}

char *ode_explain(Arena *a, const MirPop *pop) {
    char *s = arena_strdup(a, "");
    for (int i = 0; i < pop->nodes; i++) {
        const MirOde *o = &pop->odes[i];
        s = arena_printf(a, "%s%s: %s - %s\n", s, pop->states[o->state].name, mir_method_name(o->method),
                         o->reason ? o->reason : "not planned");
    }
    return s;
}

/* ==== event-driven relaxation over a run-time elapsed time ================ */

/* x(t + D) of dx/dt = c x + r with constant c, r, where D is the run-time
 * value `el`: x' = E x + (E - 1) r / c with E = exp(c D) (c != 0), or
 * x + D r (c == 0). */
static MirExpr *emit_elapsed_decay(Plan *p, int i, MirExpr *c, MirExpr *r, MirExpr *el) {
    MirExpr *x = state_ref(p, i);
    if (!c || is_num(c, 0)) return emit_let(p, k_add(p, x, k_mul(p, el, r)));
    MirExpr *E = emit_let(p, mir_call(p->a, MF_EXP, 1, (MirExpr *[]){k_mul(p, c, el)}));
    MirExpr *next = k_mul(p, E, x);
    if (r) {
        MirExpr *ratio = mir_fold(p->a, k_div(p, r, c), p->dt);
        next = k_add(p, next, k_mul(p, k_sub(p, E, k_const(p, 1)), ratio));
    }
    return emit_let(p, next);
}

/* Why ODE i cannot be relaxed exactly over an elapsed time, or NULL. */
static const char *why_not_elapsed(Plan *p, int i) {
    const Lin *l = &p->lin_all[i];
    if (!l->ok) return "it is not linear in its state";
    for (int j = 0; j < p->n; j++)
        if (j != i && l->c[j]) return arena_printf(p->a, "it reads '%s' (coupled ODEs)", state_name(p, j));
    if ((l->c[i] && !mir_is_constant(l->c[i], true)) || (l->r && !mir_is_constant(l->r, true)))
        return "its coefficients change between events";
    return NULL;
}

bool ode_plan_elapsed(Arena *a, MirPop *pop, int elapsed_slot, double dt, Diags *d) {
    assert(dt > 0 && elapsed_slot >= 0 && elapsed_slot < pop->nstates);
    Plan p;
    plan_init(&p, a, pop, dt, d);
    scan_defs(&p, &pop->defs, NULL);
    analyse(&p);
    bool ok = true;
    for (int i = 0; i < p.n; i++) {
        const char *why = why_not_elapsed(&p, i);
        if (why) {
            report(&p, i, DIAG_UNSUPPORTED,
                   arena_printf(a, "synapse state '%s' must relax exactly between events, but %s", state_name(&p, i), why));
            ok = false;
        }
    }
    if (!ok) return false;
    MirExpr *el = mir_leaf(a, MX_STATE, elapsed_slot);
    for (int i = 0; i < p.n; i++) {
        pop->odes[i].method = MM_EXACT;
        pop->odes[i].reason = "linear with constant coefficients: exact relaxation over the time since the last event";
        p.next[i] = emit_elapsed_decay(&p, i, p.lin_all[i].c[i], p.lin_all[i].r, el);
    }
    for (int i = 0; i < p.n; i++) mir_push(a, &pop->step, mir_set(a, pop->odes[i].state, p.next[i]));
    return true;
}
