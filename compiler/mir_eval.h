/* mir_eval.h - reference interpreter and constant folder for the MIR.
 *
 * Evaluates MIR expressions and statement lists for ONE neuron on plain
 * double arrays. It defines what the generated code must compute (codegen
 * tests compare against it), lets the ODE tests run `MirPop.step` over many
 * steps, and folds constant sub-expressions for sema and ode.c. No LLVM. */
#ifndef EIC_MIR_EVAL_H
#define EIC_MIR_EVAL_H

#include "mir.h"

/* The values one neuron's kernel sees. Arrays are indexed by slot; any may be
 * NULL when the code never references that kind of leaf. */
typedef struct MirEnv {
    double *states;   /* read and written (MIR_SET) */
    const double *params;
    double *inputs;   /* read; zeroed by MIR_INPUT_CLEAR */
    double *temps;    /* written by MIR_LET, read by MX_TEMP */
    double t;         /* time at the start of the step, seconds */
    double dt;        /* step, seconds */
    const double *consts;   /* MX_PCONST: the population's constant block */
    const double *globals;  /* MX_GLOBAL: network-wide values */
} MirEnv;

/* Value of `e` in `env`. Comparisons and logic give 1.0 or 0.0; any nonzero
 * value counts as true; MX_SELECT evaluates only the branch it takes. */
double mir_eval(const MirExpr *e, const MirEnv *env);

/* Runs the statements of `b` in order (statements see earlier writes). */
void mir_exec(const MirBlock *b, MirEnv *env);

/* Applies one math function to already evaluated arguments. */
double mir_apply_fn(MirFn fn, int nargs, const double *x);

/* True if `e` contains no leaf that varies (state, parameter, input, temp,
 * time). MX_DT counts as varying unless `dt_known` is true. */
bool mir_is_constant(const MirExpr *e, bool dt_known);

/* Returns `e` with every constant sub-expression replaced by one MX_CONST
 * (MX_DT replaced by `dt` when dt > 0). Shares unchanged sub-trees with `e`;
 * new nodes are allocated in `a` and keep the span of the node they replace. */
MirExpr *mir_fold(Arena *a, MirExpr *e, double dt);

#endif
