/* lower_globals.c - modulator states with their own dynamics
 * (lower_int.h, [S-net-10]): after the protocol, the modulator states whose
 * ODE is not a plain exponential decay (RT_GLOBAL_KERNEL, marked by
 * lower_protocol.c) are gathered into one MirPop of size one, whose states
 * are those globals, and planned by ode.c like a neuron: exact propagators
 * for linear constant-coefficient systems (coupled ones too), otherwise the
 * simulate's method (rk4 for nonlinear ODEs, exponential Euler for
 * conditionally linear ones by default). cg_globals.c compiles it into
 * eic_globals_step, which the runtime calls once per step in its serial
 * phase (RtModelDesc.globals_update), so every thread reads the same values.
 *
 * Which states go to the kernel: a modulator with one kernel state brings
 * all its ODE states (a coupled pool is integrated together), and a kernel
 * ODE that reads another modulator's state brings that modulator too, so
 * every state a kernel ODE reads is either integrated with it or a level
 * that only events change (constant over a step). Pure decays nobody's
 * kernel reads stay RT_GLOBAL_DECAY, bit for bit as before. */
#include "lower_int.h"

#include <string.h>

#include "mir_eval.h"
#include "ode.h"

/* Moves every ODE state of modulator `mod` to the kernel; true if one moved. */
static bool mod_to_kernel(Lower *L, AstNode *mod) {
    bool moved = false;
    for (int q = 0; q < L->nglobals; q++) {
        GlobalLow *g = &L->globals[q];
        if (g->mod == mod && g->ode && g->desc.kind != RT_GLOBAL_KERNEL) {
            g->desc.kind = RT_GLOBAL_KERNEL;
            g->desc.tau = g->desc.baseline = 0;
            moved = true;
        }
    }
    return moved;
}

/* The right-hand side of global q's ODE in modulator-local slots (MX_STATE
 * k: the modulator's k-th state; MX_GLOBAL: another modulator's state).
 * Lowering may register further globals. */
static MirExpr *global_rhs(Lower *L, int q) {
    AstNode *mod = L->globals[q].mod, *ode = L->globals[q].ode;
    LCtx c = {.L = L, .scope = sema_body_scope(L->p, mod), .global = mod};
    return mir_fold(L->a, lower_expr(&c, ode->a), L->p->sim_dt);
}

/* Moves the modulators of the globals `x` reads (MX_GLOBAL) to the kernel. */
static bool pull_read(Lower *L, const MirExpr *x) {
    bool moved = false;
    if (x->op == MX_GLOBAL && x->slot >= 0 && x->slot < L->nglobals && L->globals[x->slot].mod)
        moved |= mod_to_kernel(L, L->globals[x->slot].mod);
    for (int i = 0; i < x->nargs; i++) moved |= pull_read(L, x->args[i]);
    return moved;
}

/* The closure described in the header, to a fixed point. It lowers the
 * ODEs again, so it stops at the first error: global_dynamics has reported
 * it, and every pass would report it once more. */
static void close_kernel_set(Lower *L) {
    for (bool changed = true; changed && !L->failed;) {
        int before = L->nglobals;   /* a newly registered modulator may be a kernel one */
        changed = false;
        for (int q = 0; q < L->nglobals; q++)
            if (L->globals[q].mod && L->globals[q].desc.kind == RT_GLOBAL_KERNEL)
                changed |= mod_to_kernel(L, L->globals[q].mod);
        for (int q = 0; q < L->nglobals; q++)
            if (L->globals[q].mod && L->globals[q].desc.kind == RT_GLOBAL_KERNEL)
                changed |= pull_read(L, global_rhs(L, q));
        changed |= L->nglobals != before;
    }
}

/* The global of modulator-local state slot k of `mod`: its states are
 * registered together, in declaration order (lower_global_index). */
static int global_of_local(Lower *L, AstNode *mod, int k) {
    for (int q = 0; q < L->nglobals; q++)
        if (L->globals[q].mod == mod && !L->globals[q].rule) return q + k;
    return -1;
}

/* `x` with the modulator's local slots and the globals turned into the
 * kernel's slots: a kernel global is MX_STATE kslot[g], any other global
 * (a level, a decay) stays MX_GLOBAL g. Returns a copy. */
static MirExpr *remap(Lower *L, AstNode *mod, const int *kslot, const MirExpr *x) {
    MirExpr *y = ARENA_NEW(L->a, MirExpr);
    *y = *x;
    if (x->op == MX_STATE || x->op == MX_GLOBAL) {
        int g = x->op == MX_STATE ? global_of_local(L, mod, x->slot) : x->slot;
        y->op = kslot[g] >= 0 ? MX_STATE : MX_GLOBAL;
        y->slot = kslot[g] >= 0 ? kslot[g] : g;
        return y;
    }
    if (x->nargs) y->args = ARENA_ARRAY(L->a, MirExpr *, x->nargs);
    for (int i = 0; i < x->nargs; i++) y->args[i] = remap(L, mod, kslot, x->args[i]);
    return y;
}

/* The method of the kernel: the one the kernel modulators name (`method M`
 * in the body; they must agree), else the simulate's, else automatic. */
static MirMethod kernel_method(Lower *L) {
    MirMethod m = MM_AUTO;
    AstNode *named = NULL;
    for (int q = 0; q < L->nglobals; q++) {
        AstNode *mod = L->globals[q].mod;
        if (!mod || L->globals[q].desc.kind != RT_GLOBAL_KERNEL) continue;
        for (int i = 0; i < mod->items.n; i++) {
            AstNode *it = mod->items.v[i];
            if (it->kind != AST_METHOD) continue;
            if (named && lower_method_of(it->name) != m)
                lower_unsupported(L, it->span, "naming different methods in modulators integrated together");
            named = it;
            m = lower_method_of(it->name);
        }
    }
    AstNode *sim = named ? NULL : lower_clause(L->p->simulate, CL_METHOD);
    return sim ? lower_method_of(sim->a->name) : m;
}

void lower_globals(Lower *L, Lowered *out) {
    if (L->failed) return;   /* errors in a modulator ODE are reported once, by global_dynamics */
    close_kernel_set(L);
    if (L->failed) return;
    int nk = 0, *kslot = ARENA_ARRAY(L->a, int, L->nglobals + 1);
    for (int q = 0; q < L->nglobals; q++) kslot[q] = L->globals[q].desc.kind == RT_GLOBAL_KERNEL ? nk++ : -1;
    if (!nk) return;
    MirPop *mp = ARENA_NEW(L->a, MirPop);
    mp->name = "modulators";
    mp->size = 1;
    mp->nstates = mp->nodes = nk;
    mp->states = ARENA_ARRAY(L->a, MirVar, nk + 1);
    mp->odes = ARENA_ARRAY(L->a, MirOde, nk + 1);
    out->global_of = ARENA_ARRAY(L->a, int, nk + 1);
    for (int q = 0; q < L->nglobals; q++) {
        int k = kslot[q];
        if (k < 0) continue;
        GlobalLow *g = &L->globals[q];
        out->global_of[k] = q;
        mp->states[k] = (MirVar){g->desc.name, g->desc.unit, g->desc.init};
        mp->odes[k] = (MirOde){.state = k, .rhs = remap(L, g->mod, kslot, global_rhs(L, q)), .span = g->ode->span};
    }
    mp->method_hint = kernel_method(L);
    mp->nglobals = L->nglobals;
    if (!ode_plan(L->a, mp, L->p->sim_dt, L->d)) L->failed = true;
    out->globals_mir = mp;
}
