/* ode.h - choosing and writing the integration scheme of each ODE.
 *
 * Pipeline position: after sema has built a MirPop (MIR in SI units with
 * uniform parameters folded), ode_plan() analyses the right-hand sides and
 * writes MirPop.step, the statements that advance every state by one step dt;
 * codegen compiles that block. The schemes and the order of evaluation are
 * specified in SPEC.md ("Integration schemes"):
 *   - exact propagators for linear constant-coefficient blocks (matrix
 *     exponential computed here, once; no exp in the step),
 *   - exact per-neuron decay for uncoupled linear ODEs with per-neuron
 *     coefficients,
 *   - exponential Euler for conditionally linear ODEs,
 *   - RK4 otherwise; the model may name euler, rk2, rk4, exponential_euler
 *     or exact instead. */
#ifndef EIC_ODE_H
#define EIC_ODE_H

#include <stdbool.h>

#include "arena.h"
#include "diag.h"
#include "mir.h"

/* Sets every pop->odes[i].method and .reason and appends the discretized
 * update for step `dt` (seconds, > 0) to pop->step; new temporaries are
 * numbered from pop->ntemps, which grows. All right-hand sides read
 * start-of-step values; the states are written at the end of the block.
 * Reports `exact-nonlinear` / `exponential-euler-nonlinear` to `d` (may be
 * NULL) when pop->method_hint names a scheme that cannot integrate an ODE;
 * returns false then (pop->step is left empty). Allocates in `a`. Call once
 * per population. */
bool ode_plan(Arena *a, MirPop *pop, double dt, Diags *d);

/* Event-driven variant for synapse states (ADDITIVE: see mir_syn.h): writes
 * into pop->step the exact relaxation of every ODE over the run-time elapsed
 * time held in state slot `elapsed_slot` (seconds):
 *   x' = E x + (E - 1) r / c,  E = exp(c * elapsed)   for dx/dt = c x + r,
 * which needs each ODE linear in its own state alone with constant c and r;
 * otherwise reports [unsupported] to `d` and returns false. `dt` (> 0) is
 * only the value of a `dt` read by a right-hand side. Allocates in `a`. */
bool ode_plan_elapsed(Arena *a, MirPop *pop, int elapsed_slot, double dt, Diags *d);

/* One line per ODE, "STATE: METHOD - REASON\n", for `eic check --explain`.
 * Returns an arena string ("" when there are no ODEs). */
char *ode_explain(Arena *a, const MirPop *pop);

/* E = exp(A) for a row-major n x n matrix, by scaling and squaring with a
 * [8/8] Pade approximant in long double. Returns false if A has a NaN or an
 * infinity or is too large to scale (E is then unspecified). */
bool ode_expm(int n, const double *A, double *E);

/* Propagator of dx/dt = A x + b with b constant over the step:
 *   x(t+dt) = P x(t) + Phi b,  P = exp(A dt),  Phi = integral_0^dt exp(A s) ds,
 * both from one exponential of the augmented matrix [[A dt, I dt], [0, 0]].
 * Row-major n x n. Returns false as ode_expm does. */
bool ode_propagator(int n, const double *A, double dt, double *P, double *Phi);

#endif
