/* cg_llvm.c - MirPop -> LLVM update kernels; target machine, passes, objects.
 *
 * Each population gets two functions:
 *   eic_update_<k>(const RtPopArgs *a, i64 begin, i64 end)   the RtUpdateFn
 *   eic_update_<k>.body(noalias arrays..., begin, end, step, t, dt)
 * The wrapper loads the array pointers from RtPopArgs and calls the body,
 * which is always inlined: LLVM turns its noalias parameters into alias
 * scopes, so the vectorizer needs no runtime alias checks (TOOLCHAIN.md §7.15).
 * A population with probes (MirPop.probes) also gets
 *   eic_probe_<k>(const RtPopArgs *a, i64 begin, i64 end, double *const *out)
 * the RtProbeFn (ABI v5): on_input on the loaded values, then the probe
 * expressions into out[k][i - begin]; nothing else is stored. It runs only
 * over recorded neurons, so it is a plain scalar loop.
 * A population with initial values computed per neuron (MirPop.init) or a
 * refractory period fixed per neuron (MirPop.refractory_param) also gets
 *   eic_init_<k>(const RtPopArgs *a, i64 begin, i64 end)
 * the RtInitFn: run once by the runtime after its draws, a scalar loop in
 * double that writes those states and the hidden refractory steps.
 *
 * The per-neuron code is straight-line SSA. MIR_IF is if-converted while
 * emitting: both branches are evaluated and every write becomes
 * select(mask, new, old). Model expressions cannot trap (IEEE floating
 * point), so this is always safe, and the loop body has no branches for the
 * vectorizer to worry about.
 *
 * Floating point: no fast-math flags on model arithmetic (see cg_llvm.h and
 * /work/notes/spec-cg.md). exp is inline (cg_math.c); log, sin, cos, pow map to
 * LLVM intrinsics and tanh to libm, which are calls: only models that use
 * them pay for them. A `precision float` kernel does the same in float.
 *
 * JIT latency (issue 3): populations with the same MIR share one kernel
 * (aliases), the pass pipeline is short (CG_PIPELINE), the vectorized loop
 * is tail-folded so there is no scalar copy to compile, and one target
 * machine serves the whole process. Measurements: cg_llvm.h, bench/.
 */
#include "cg_llvm.h"

#include <llvm-c/Analysis.h>
#include <llvm-c/DebugInfo.h>
#include <llvm-c/Support.h>
#include <llvm-c/Target.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg_int.h"
#include "cg_math.h"
#include "rt_abi.h"

/* Fast-math flags put on model arithmetic. None: every flag that helps
 * (reassoc, contract, arcp) can make the vector body and the scalar remainder
 * round differently, and then results would depend on the thread partition. */
#define CG_FMF LLVMFastMathNone

/* The pass pipeline and back-end level; cg_set_tuning changes them for
 * benchmarks. Defaults and the measurements behind them: cg_llvm.h. */
/* LLVM options for the loop vectorizer (cl::opt, process-global):
 * - no epilogue vectorization: it makes a third loop copy, ~25% of compile
 *   time for nothing measurable at run time (TOOLCHAIN.md §7.12);
 * - tail folding: the last partial vector of neurons runs in the vector
 *   body under a mask instead of in a scalar remainder loop, so there is
 *   one copy of the loop to generate code for. Measured on the COBA model:
 *   back end 8.5 -> 5.4 ms CPU, kernel 3-8% slower (bench/cg_bench.sh).
 *   Where masked memory operations are not legal (no AVX-512 or AVX2 for
 *   the types) LLVM falls back to a scalar remainder loop. */
#define CG_FLAG_EPILOGUE "-enable-epilogue-vectorization=false"
#define CG_FLAG_TAIL_FOLD "-prefer-predicate-over-epilogue=predicate-else-scalar-epilogue"
#define CG_LLVM_FLAGS CG_FLAG_EPILOGUE " " CG_FLAG_TAIL_FOLD
static const char *g_pipeline = CG_PIPELINE;
static LLVMCodeGenOptLevel g_level = CG_CODEGEN_LEVEL;

/* struct Emit: see cg_int.h (shared with cg_syn.c). */

static void fail(Emit *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(Emit *e, const char *fmt, ...)
{
    if (e->failed)
        return;
    e->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->err, e->errlen, fmt, ap);
    va_end(ap);
}

static void set_err(char *err, size_t errlen, const char *what, char *msg)
{
    snprintf(err, errlen, "%s: %s", what, msg ? msg : "unknown error");
    if (msg)
        LLVMDisposeMessage(msg);
}

/* ---- target ---------------------------------------------------------------- */

/* True if the comma-separated LLVM feature list enables `name` ("+name"). */
static bool has_feature(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *s = list; s && *s; s = strchr(s, ',') ? strchr(s, ',') + 1 : NULL)
        if (s[0] == '+' && strncmp(s + 1, name, n) == 0 && (s[n + 1] == ',' || s[n + 1] == 0))
            return true;
    return false;
}

int cg_target_host(CgTarget *t, char *err, size_t errlen)
{
    static bool inited;
    if (!inited) {
        LLVMInitializeNativeTarget();
        LLVMInitializeNativeAsmPrinter();
        /* Process-global LLVM options, set once here (see CG_LLVM_FLAGS). */
        const char *argv[] = {"eic", CG_FLAG_EPILOGUE, CG_FLAG_TAIL_FOLD};
        LLVMParseCommandLineOptions(3, argv, NULL);
        inited = true;
    }
    memset(t, 0, sizeof *t);
    char *triple = LLVMGetDefaultTargetTriple(), *cpu = LLVMGetHostCPUName();
    char *feat = LLVMGetHostCPUFeatures();
    snprintf(t->triple, sizeof t->triple, "%s", triple);
    snprintf(t->cpu, sizeof t->cpu, "%s", cpu);
    snprintf(t->features, sizeof t->features, "%s", feat);
    t->fma = has_feature(feat, "fma");
    LLVMDisposeMessage(triple);
    LLVMDisposeMessage(cpu);
    LLVMDisposeMessage(feat);
    char *msg = NULL;
    if (LLVMGetTargetFromTriple(t->triple, &t->target, &msg)) {
        set_err(err, errlen, "no LLVM target for the host", msg);
        return -1;
    }
    return 0;
}

LLVMTargetMachineRef cg_target_machine(const CgTarget *t)
{
    return LLVMCreateTargetMachine(t->target, t->triple, t->cpu, t->features,
                                   g_level, LLVMRelocPIC, LLVMCodeModelSmall);
}

const char *cg_tuning_desc(void)
{
    static char buf[1100];
    snprintf(buf, sizeof buf, "pipeline %s|late %s|codegen level %d|%s", g_pipeline, CG_PIPELINE_LATE,
             (int)g_level, CG_LLVM_FLAGS);
    return buf;
}

void cg_set_tuning(const char *pipeline, int level)
{
    g_pipeline = pipeline ? pipeline : CG_PIPELINE;
    g_level = level >= 0 ? (LLVMCodeGenOptLevel)level : CG_CODEGEN_LEVEL;
}

/* One target machine per process for data layouts, passes and emission:
 * creating one costs about 0.3 ms, paid up to three times per model before
 * (TOOLCHAIN.md §7.12 counts every millisecond of a cache hit). It is
 * recreated only when asked for a different target. Compilation is single-
 * threaded, so no lock; the machine lives until the process exits. */
static LLVMTargetMachineRef shared_tm(const CgTarget *t)
{
    static LLVMTargetMachineRef tm;
    static CgTarget key;
    static LLVMCodeGenOptLevel level;
    if (tm && level == g_level && strcmp(key.triple, t->triple) == 0 && strcmp(key.cpu, t->cpu) == 0 &&
        strcmp(key.features, t->features) == 0 && key.target == t->target)
        return tm;
    if (tm)
        LLVMDisposeTargetMachine(tm);
    key = *t;
    level = g_level;
    tm = cg_target_machine(t);
    return tm;
}

void cg_kernel_name(char *buf, size_t len, int index)
{
    snprintf(buf, len, "eic_update_%d", index);
}

void cg_probe_name(char *buf, size_t len, int index)
{
    snprintf(buf, len, "eic_probe_%d", index);
}

void cg_init_name(char *buf, size_t len, int index)
{
    snprintf(buf, len, "eic_init_%d", index);
}

bool cg_has_init(const MirPop *p)
{
    return p->init.n > 0 || (p->refractory && p->refractory_param >= 0);
}

LLVMModuleRef cg_module_create(LLVMContextRef cx, const CgTarget *t, const char *name)
{
    LLVMModuleRef m = LLVMModuleCreateWithNameInContext(name, cx);
    LLVMSetSourceFileName(m, name, strlen(name));
    LLVMSetTarget(m, t->triple);
    if (t->datalayout[0]) {   /* a cache hit then needs no target machine at all */
        LLVMSetDataLayout(m, t->datalayout);
        return m;
    }
    LLVMTargetDataRef dl = LLVMCreateTargetDataLayout(shared_tm(t));
    LLVMSetModuleDataLayout(m, dl);
    LLVMDisposeTargetData(dl);
    return m;
}

/* ---- expressions ----------------------------------------------------------- */

static LLVMValueRef emit_expr(Emit *e, const MirExpr *x);

static LLVMValueRef fmf(LLVMValueRef v)
{
    if (CG_FMF != LLVMFastMathNone && LLVMCanValueUseFastMathFlags(v))
        LLVMSetFastMathFlags(v, CG_FMF);
    return v;
}

/* The type of model values: double, or float in a `precision float` kernel. */
static LLVMTypeRef real_type(const Emit *e)
{
    return e->real ? e->real : e->f64;
}

static LLVMValueRef cnst(Emit *e, double v)
{
    return LLVMConstReal(real_type(e), v);   /* rounded to float in a float kernel */
}

/* An expression used as a condition: comparisons and logic give i1 directly;
 * any other value is true when nonzero. */
static LLVMValueRef emit_cond(Emit *e, const MirExpr *x)
{
    static const LLVMRealPredicate preds[] = {
        [MX_LT] = LLVMRealOLT, [MX_LE] = LLVMRealOLE, [MX_GT] = LLVMRealOGT,
        [MX_GE] = LLVMRealOGE, [MX_EQ] = LLVMRealOEQ, [MX_NE] = LLVMRealUNE,
    };
    switch (x->op) {
    case MX_LT: case MX_LE: case MX_GT: case MX_GE: case MX_EQ: case MX_NE:
        return LLVMBuildFCmp(e->b, preds[x->op], emit_expr(e, x->args[0]),
                             emit_expr(e, x->args[1]), "");
    case MX_AND:
        return LLVMBuildAnd(e->b, emit_cond(e, x->args[0]), emit_cond(e, x->args[1]), "");
    case MX_OR:
        return LLVMBuildOr(e->b, emit_cond(e, x->args[0]), emit_cond(e, x->args[1]), "");
    case MX_NOT:
        return LLVMBuildNot(e->b, emit_cond(e, x->args[0]), "");
    default:
        return LLVMBuildFCmp(e->b, LLVMRealUNE, emit_expr(e, x), cnst(e, 0.0), "");
    }
}

/* min/max as C's a < b ? a : b (NaN in b propagates, like the reference). */
static LLVMValueRef emit_minmax(Emit *e, LLVMValueRef a, LLVMValueRef b, bool is_min)
{
    LLVMValueRef c = LLVMBuildFCmp(e->b, is_min ? LLVMRealOLT : LLVMRealOGT, a, b, "");
    return LLVMBuildSelect(e->b, c, a, b, "");
}

/* x^y. Small integer constant exponents become multiplications (x*x*x for
 * 3: left to right), 0.5 a square root, anything else llvm.pow. */
static LLVMValueRef emit_pow(Emit *e, const MirExpr *x)
{
    LLVMValueRef base = emit_expr(e, x->args[0]);
    const MirExpr *ex = x->args[1];
    if (ex->op == MX_CONST && ex->value == 0.5)
        return cg_math_intrinsic(&e->math, "llvm.sqrt", &base, 1);
    if (ex->op == MX_CONST && ex->value == (int)ex->value && ex->value >= 1 && ex->value <= 8) {
        LLVMValueRef r = base;
        for (int i = 1; i < (int)ex->value; i++)
            r = fmf(LLVMBuildFMul(e->b, r, base, ""));
        return r;
    }
    LLVMValueRef args[2] = {base, emit_expr(e, ex)};
    return cg_math_intrinsic(&e->math, "llvm.pow", args, 2);
}

static LLVMValueRef emit_call(Emit *e, const MirExpr *x)
{
    LLVMValueRef a[3] = {NULL, NULL, NULL};
    for (int i = 0; i < x->nargs && i < 3; i++)
        a[i] = emit_expr(e, x->args[i]);
    static const int arity[MF__COUNT] = {
        [MF_EXP] = 1, [MF_LOG] = 1, [MF_SQRT] = 1, [MF_SIN] = 1, [MF_COS] = 1, [MF_TANH] = 1,
        [MF_ABS] = 1, [MF_MIN] = 2, [MF_MAX] = 2, [MF_CLIP] = 3, [MF_FLOOR] = 1,
        [MF_EXPEULER] = 3,
    };
    if (x->fn < 0 || x->fn >= MF__COUNT || x->nargs != arity[x->fn]) {
        fail(e, "unsupported call (function %d with %d arguments)", x->fn, x->nargs);
        return cnst(e, 0.0);
    }
    switch ((MirFn)x->fn) {
    case MF_EXP:   return cg_math_exp(&e->math, a[0]);
    case MF_LOG:   return cg_math_intrinsic(&e->math, "llvm.log", a, 1);
    case MF_SQRT:  return cg_math_intrinsic(&e->math, "llvm.sqrt", a, 1);
    case MF_SIN:   return cg_math_intrinsic(&e->math, "llvm.sin", a, 1);
    case MF_COS:   return cg_math_intrinsic(&e->math, "llvm.cos", a, 1);
    case MF_TANH:  return cg_math_libm(&e->math, "tanh", a, 1);
    case MF_ABS:   return cg_math_intrinsic(&e->math, "llvm.fabs", a, 1);
    case MF_FLOOR: return cg_math_intrinsic(&e->math, "llvm.floor", a, 1);
    case MF_MIN:   return emit_minmax(e, a[0], a[1], true);
    case MF_MAX:   return emit_minmax(e, a[0], a[1], false);
    case MF_CLIP:  return emit_minmax(e, emit_minmax(e, a[0], a[1], false), a[2], true);
    case MF_EXPEULER: return cg_math_expeuler(&e->math, a[0], a[1], a[2]);
    case MF__COUNT: break;
    }
    return cnst(e, 0.0);
}

static LLVMValueRef slot_value(Emit *e, LLVMValueRef *arr, int n, int slot, const char *what)
{
    if (slot < 0 || slot >= n) {
        fail(e, "%s slot %d out of range (population has %d)", what, slot, n);
        return cnst(e, 0.0);
    }
    return arr[slot];
}

static LLVMValueRef emit_expr(Emit *e, const MirExpr *x)
{
    const MirPop *p = e->p;
    LLVMBuilderRef b = e->b;
    switch (x->op) {
    case MX_CONST: return cnst(e, x->value);
    case MX_STATE: return slot_value(e, e->state, p->nstates, x->slot, "state");
    case MX_PARAM: return slot_value(e, e->param, p->nparams, x->slot, "parameter");
    case MX_INPUT: return slot_value(e, e->input, p->ninputs, x->slot, "input");
    case MX_TEMP:  return slot_value(e, e->temp, p->ntemps, x->slot, "temporary");
    case MX_TIME:  return e->t;
    case MX_DT:    return e->dt;
    case MX_PCONST: return slot_value(e, e->consts, p->nconsts, x->slot, "constant");
    case MX_GLOBAL: return slot_value(e, e->globals, p->nglobals, x->slot, "global");
    case MX_NEG:   return LLVMBuildFNeg(b, emit_expr(e, x->args[0]), "");
    case MX_ADD: return fmf(LLVMBuildFAdd(b, emit_expr(e, x->args[0]), emit_expr(e, x->args[1]), ""));
    case MX_SUB: return fmf(LLVMBuildFSub(b, emit_expr(e, x->args[0]), emit_expr(e, x->args[1]), ""));
    case MX_MUL: return fmf(LLVMBuildFMul(b, emit_expr(e, x->args[0]), emit_expr(e, x->args[1]), ""));
    case MX_DIV: return fmf(LLVMBuildFDiv(b, emit_expr(e, x->args[0]), emit_expr(e, x->args[1]), ""));
    case MX_POW: return emit_pow(e, x);
    case MX_CALL: return emit_call(e, x);
    case MX_LT: case MX_LE: case MX_GT: case MX_GE: case MX_EQ: case MX_NE:
    case MX_AND: case MX_OR: case MX_NOT:
        return LLVMBuildUIToFP(b, emit_cond(e, x), real_type(e), "");
    case MX_SELECT:
        return LLVMBuildSelect(b, emit_cond(e, x->args[0]), emit_expr(e, x->args[1]),
                               emit_expr(e, x->args[2]), "");
    }
    fail(e, "unknown MIR expression kind %d", (int)x->op);
    return cnst(e, 0.0);
}

/* ---- statements ------------------------------------------------------------- */

/* *dst = v where the current predicate holds. */
static void assign(Emit *e, LLVMValueRef *dst, LLVMValueRef v)
{
    *dst = e->mask ? LLVMBuildSelect(e->b, e->mask, v, *dst, "") : v;
}

static void emit_block(Emit *e, const MirBlock *blk);

static LLVMValueRef *slot_ref(Emit *e, LLVMValueRef *arr, int n, int slot, const char *what)
{
    static LLVMValueRef dummy;
    if (slot < 0 || slot >= n) {
        fail(e, "%s slot %d out of range (population has %d)", what, slot, n);
        return &dummy;
    }
    return &arr[slot];
}

/* if (c) then else: both sides are emitted under the conjunction of the
 * enclosing mask with c (resp. not c). */
static void emit_if(Emit *e, const MirStmt *s)
{
    LLVMValueRef outer = e->mask, c = emit_cond(e, s->value);
    LLVMValueRef nc = LLVMBuildNot(e->b, c, "");
    e->mask = outer ? LLVMBuildAnd(e->b, outer, c, "") : c;
    emit_block(e, &s->then);
    e->mask = outer ? LLVMBuildAnd(e->b, outer, nc, "") : nc;
    emit_block(e, &s->else_);
    e->mask = outer;
}

static void emit_stmt(Emit *e, const MirStmt *s)
{
    const MirPop *p = e->p;
    switch (s->kind) {
    case MIR_SET:
        assign(e, slot_ref(e, e->state, p->nstates, s->slot, "state"), emit_expr(e, s->value));
        break;
    case MIR_LET:
        assign(e, slot_ref(e, e->temp, p->ntemps, s->slot, "temporary"), emit_expr(e, s->value));
        break;
    case MIR_INPUT_CLEAR:
        assign(e, slot_ref(e, e->input, p->ninputs, s->slot, "input"), cnst(e, 0.0));
        break;
    case MIR_IF:
        emit_if(e, s);
        break;
    }
}

static void emit_block(Emit *e, const MirBlock *blk)
{
    for (int i = 0; i < blk->n && !e->failed; i++)
        emit_stmt(e, blk->v[i]);
}

/* ---- the kernel ------------------------------------------------------------- */

static void add_attr(Emit *e, LLVMValueRef fn, unsigned idx, const char *name)
{
    unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
    LLVMAddAttributeAtIndex(fn, idx, LLVMCreateEnumAttribute(e->cx, kind, 0));
}

static void add_str_attr(Emit *e, LLVMValueRef fn, const char *k, const char *v)
{
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                            LLVMCreateStringAttribute(e->cx, k, (unsigned)strlen(k), v, (unsigned)strlen(v)));
}

/* Body parameters: arrays first (states, params, inputs, ref_until, spiked),
 * then begin, end, step, t, dt, then the constant block and the globals
 * (read only, loaded once before the loop: see load_invariants). */
enum { BODY_SCALARS = 5, BODY_TAIL = 2 };

static int body_narrays(const MirPop *p)
{
    return p->nstates + p->nparams + p->ninputs + 2;
}

static LLVMValueRef declare_body(Emit *e, const char *name)
{
    int na = body_narrays(e->p), n = na + BODY_SCALARS + BODY_TAIL;
    LLVMTypeRef *ps = calloc((size_t)n, sizeof *ps);
    for (int i = 0; i < na; i++)
        ps[i] = e->ptr;
    LLVMTypeRef sc[BODY_SCALARS + BODY_TAIL] = {e->i64, e->i64, e->i64, e->f64, e->f64, e->ptr, e->ptr};
    memcpy(ps + na, sc, sizeof sc);
    LLVMValueRef fn = LLVMAddFunction(e->m, name, LLVMFunctionType(LLVMVoidTypeInContext(e->cx), ps, (unsigned)n, 0));
    free(ps);
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    add_attr(e, fn, LLVMAttributeFunctionIndex, "alwaysinline");
    add_attr(e, fn, LLVMAttributeFunctionIndex, "nounwind");
    add_str_attr(e, fn, "prefer-vector-width", "512");
    for (int i = 0; i < na; i++) {
        add_attr(e, fn, (unsigned)i + 1, "noalias");
        add_attr(e, fn, (unsigned)i + 1, "nocapture");
    }
    for (int i = na + BODY_SCALARS; i < n; i++) {   /* consts, globals */
        add_attr(e, fn, (unsigned)i + 1, "noalias");
        add_attr(e, fn, (unsigned)i + 1, "readonly");
    }
    return fn;
}

/* Loads `n` doubles of the array `base` into vals (as model values), in the
 * entry block: the constant block and the globals do not change during one
 * kernel call, so they are loop invariants. */
static void load_invariants(Emit *e, LLVMValueRef base, int n, LLVMValueRef *vals)
{
    for (int k = 0; k < n; k++) {
        LLVMValueRef idx = LLVMConstInt(e->i64, (unsigned long long)k, 0);
        LLVMValueRef v = LLVMBuildLoad2(e->b, e->f64, LLVMBuildInBoundsGEP2(e->b, e->f64, base, &idx, 1, ""), "");
        vals[k] = e->real != e->f64 ? LLVMBuildFPTrunc(e->b, v, e->real, "") : v;
    }
}

static LLVMValueRef elem_ptr(Emit *e, LLVMTypeRef ty, LLVMValueRef base, LLVMValueRef i)
{
    return LLVMBuildInBoundsGEP2(e->b, ty, base, &i, 1, "");
}

/* Loads this neuron's states, parameters and inputs into SSA values. */
static void load_neuron(Emit *e, LLVMValueRef fn, LLVMValueRef i)
{
    const MirPop *p = e->p;
    int k = 0;
    for (int v = 0; v < p->nstates; v++, k++)
        e->state[v] = e->state0[v] = LLVMBuildLoad2(e->b, e->real, elem_ptr(e, e->real, LLVMGetParam(fn, (unsigned)k), i), "");
    for (int v = 0; v < p->nparams; v++, k++)
        e->param[v] = LLVMBuildLoad2(e->b, e->real, elem_ptr(e, e->real, LLVMGetParam(fn, (unsigned)k), i), "");
    for (int v = 0; v < p->ninputs; v++, k++)
        e->input[v] = e->input0[v] = LLVMBuildLoad2(e->b, e->real, elem_ptr(e, e->real, LLVMGetParam(fn, (unsigned)k), i), "");
    for (int v = 0; v < p->ntemps; v++)
        e->temp[v] = cnst(e, 0.0);   /* a temp read before any write is 0 */
}

/* Writes back changed states, zeroes the inputs, writes spiked[i]. */
static void store_neuron(Emit *e, LLVMValueRef fn, LLVMValueRef i, LLVMValueRef spike)
{
    const MirPop *p = e->p;
    for (int v = 0; v < p->nstates; v++)
        if (e->state[v] != e->state0[v])
            LLVMBuildStore(e->b, e->state[v], elem_ptr(e, e->real, LLVMGetParam(fn, (unsigned)v), i));
    int k = p->nstates + p->nparams;
    for (int v = 0; v < p->ninputs; v++)
        LLVMBuildStore(e->b, cnst(e, 0.0), elem_ptr(e, e->real, LLVMGetParam(fn, (unsigned)(k + v)), i));
    LLVMValueRef spiked = LLVMGetParam(fn, (unsigned)(body_narrays(p) - 1));
    LLVMBuildStore(e->b, LLVMBuildZExt(e->b, spike, e->i8, ""), elem_ptr(e, e->i8, spiked, i));
}

static LLVMValueRef emit_n_ref_neuron(Emit *e);
static LLVMValueRef emit_n_ref_value(Emit *e);

/* Steps 3 and 4 of the update: refractory clamp, threshold, reset,
 * ref_until. Returns the i1 "spiked". */
static LLVMValueRef emit_spike_logic(Emit *e, LLVMValueRef fn, LLVMValueRef i, LLVMValueRef n_ref,
                                     LLVMValueRef *pre)
{
    const MirPop *p = e->p;
    int na = body_narrays(p);
    LLVMValueRef step = LLVMGetParam(fn, (unsigned)na + 2);
    LLVMValueRef ref_ptr = NULL, rf = NULL, isref = NULL;
    if (p->refractory)   /* per neuron: parameters only, so any point of the step will do */
        n_ref = emit_n_ref_neuron(e);
    if (n_ref) {
        ref_ptr = elem_ptr(e, e->i64, LLVMGetParam(fn, (unsigned)na - 2), i);
        rf = LLVMBuildLoad2(e->b, e->i64, ref_ptr, "ref_until");
        isref = LLVMBuildICmp(e->b, LLVMIntSLT, step, rf, "isref");
        for (int c = 0; c < p->nclamped; c++) {
            int s = p->clamped[c];
            if (s >= 0 && s < p->nstates)
                e->state[s] = LLVMBuildSelect(e->b, isref, pre[s], e->state[s], "");
        }
    }
    LLVMValueRef spike = p->threshold ? emit_cond(e, p->threshold) : LLVMConstInt(e->i1, 0, 0);
    if (isref)
        spike = LLVMBuildAnd(e->b, spike, LLVMBuildNot(e->b, isref, ""), "spike");
    e->mask = spike;
    emit_block(e, &p->reset);
    e->mask = NULL;
    if (n_ref) {
        LLVMValueRef until = LLVMBuildAdd(e->b, step, n_ref, ""); /* rt_abi.h: s + round(t_ref/dt), as Brian2 */
        LLVMBuildStore(e->b, LLVMBuildSelect(e->b, spike, until, rf, ""), ref_ptr);
    }
    return spike;
}

/* At most this many refractory steps (2^53, exact in double and float):
 * more than any run has, so such a period still outlasts the run, and
 * step + n_ref cannot overflow the i64 ref_until. Without the bound a period
 * of 2^63 steps or more (or an infinite float t_ref) made fptosi poison, in
 * practice INT64_MIN: the neuron was never refractory. */
#define CG_REF_STEPS_MAX 0x1p53

/* min(q, CG_REF_STEPS_MAX) for a step count q >= 0 in double. */
static LLVMValueRef clamp_ref_steps(Emit *e, LLVMValueRef q)
{
    LLVMValueRef mn[2] = {q, LLVMConstReal(e->f64, CG_REF_STEPS_MAX)};
    return cg_math_intrinsic(&e->math, "llvm.minnum", mn, 2);
}

/* round(refractory_s / dt) as i64 (at most CG_REF_STEPS_MAX), or NULL when
 * the population has none or its period differs per neuron
 * (emit_n_ref_neuron). In double in float kernels too: the step count must
 * not depend on the precision of the state. */
static LLVMValueRef emit_n_ref(Emit *e)
{
    if (!(e->p->refractory_s > 0) || e->p->refractory)
        return NULL;
    LLVMValueRef q = LLVMBuildFDiv(e->b, LLVMConstReal(e->f64, e->p->refractory_s), e->dt64, "");
    q = cg_math_intrinsic(&e->math, "llvm.round", &q, 1);
    return LLVMBuildFPToSI(e->b, clamp_ref_steps(e, q), e->i64, "n_ref");
}

/* This neuron's round(t_ref / dt) as i64 for a refractory period that
 * differs per neuron (MirPop.refractory): the same division and rounding as
 * emit_n_ref, in double (a float kernel's value widened exactly), so a
 * neuron whose t_ref equals a constant period gets that period's steps. A
 * negative or NaN t_ref gives 0 steps (maxnum), as no refractory period does:
 * fptosi of NaN would be poison. */
static LLVMValueRef emit_n_ref_neuron(Emit *e)
{
    if (e->p->refractory_param >= 0)   /* computed once by the init kernel (emit_n_ref_value) */
        return LLVMBuildFPToSI(e->b, slot_value(e, e->param, e->p->nparams, e->p->refractory_param, "parameter"),
                               e->i64, "n_ref");
    return LLVMBuildFPToSI(e->b, emit_n_ref_value(e), e->i64, "n_ref");
}

/* round(t_ref / dt) of this neuron as a double (an integer in [0,
 * CG_REF_STEPS_MAX], as emit_n_ref bounds it), for emit_n_ref_neuron or for
 * the init kernel to store in the hidden parameter MirPop.refractory_param
 * (a float population's float holds it exactly up to 2^24 steps, and
 * CG_REF_STEPS_MAX too). */
static LLVMValueRef emit_n_ref_value(Emit *e)
{
    LLVMValueRef tr = emit_expr(e, e->p->refractory);
    if (e->real != e->f64)
        tr = LLVMBuildFPExt(e->b, tr, e->f64, "");
    LLVMValueRef q = LLVMBuildFDiv(e->b, tr, e->dt64, "");
    q = cg_math_intrinsic(&e->math, "llvm.round", &q, 1);
    LLVMValueRef mx[2] = {q, LLVMConstReal(e->f64, 0.0)};
    return clamp_ref_steps(e, cg_math_intrinsic(&e->math, "llvm.maxnum", mx, 2));
}

/* Loop metadata asking the vectorizer for `width` lanes: !{self,
 * !{"llvm.loop.vectorize.enable", true}, !{"llvm.loop.vectorize.width", w}}. */
static void set_vector_width(Emit *e, LLVMValueRef backedge, unsigned width)
{
    LLVMTypeRef i1 = e->i1, i32 = LLVMInt32TypeInContext(e->cx);
    LLVMMetadataRef en[2] = {LLVMMDStringInContext2(e->cx, "llvm.loop.vectorize.enable", 26),
                             LLVMValueAsMetadata(LLVMConstInt(i1, 1, 0))};
    LLVMMetadataRef wd[2] = {LLVMMDStringInContext2(e->cx, "llvm.loop.vectorize.width", 25),
                             LLVMValueAsMetadata(LLVMConstInt(i32, width, 0))};
    LLVMMetadataRef tmp = LLVMTemporaryMDNode(e->cx, NULL, 0);
    LLVMMetadataRef ops[3] = {tmp, LLVMMDNodeInContext2(e->cx, en, 2), LLVMMDNodeInContext2(e->cx, wd, 2)};
    LLVMMetadataRef id = LLVMMDNodeInContext2(e->cx, ops, 3);
    LLVMMetadataReplaceAllUsesWith(tmp, id);   /* the loop id refers to itself */
    LLVMSetMetadata(backedge, LLVMGetMDKindIDInContext(e->cx, "llvm.loop", 9), LLVMMetadataAsValue(e->cx, id));
}

/* The per-neuron loop: for (i = begin; i < end; i++) { ... }. `width`, when
 * nonzero, is the vector width to ask for (float kernels: see emit_pop). */
static void emit_body(Emit *e, LLVMValueRef fn, unsigned width)
{
    int na = body_narrays(e->p);
    CgLoop l = cg_int_loop_open(e, fn);
    e->t = LLVMGetParam(fn, (unsigned)na + 3);
    e->dt = e->dt64 = LLVMGetParam(fn, (unsigned)na + 4);
    if (e->real != e->f64) {   /* t and dt arrive as doubles (RtPopArgs) */
        e->t = LLVMBuildFPTrunc(e->b, e->t, e->real, "t");
        e->dt = LLVMBuildFPTrunc(e->b, e->dt, e->real, "dt");
    }
    load_invariants(e, LLVMGetParam(fn, (unsigned)(na + BODY_SCALARS)), e->p->nconsts, e->consts);
    load_invariants(e, LLVMGetParam(fn, (unsigned)(na + BODY_SCALARS + 1)), e->p->nglobals, e->globals);
    LLVMValueRef n_ref = emit_n_ref(e);
    cg_int_loop_enter(e, &l, LLVMGetParam(fn, (unsigned)na), LLVMGetParam(fn, (unsigned)na + 1), "i");
    LLVMValueRef i = l.i;
    load_neuron(e, fn, i);
    /* The refractory clamp restores the values from the start of the step,
     * before on_input: a delta synapse's jump (`V += w`) that arrives while
     * the neuron is refractory is dropped, as in NEST's iaf_psc_delta. */
    LLVMValueRef *pre = calloc((size_t)e->p->nstates + 1, sizeof *pre);
    memcpy(pre, e->state0, (size_t)e->p->nstates * sizeof *pre);
    emit_block(e, &e->p->on_input);
    emit_block(e, &e->p->step);
    LLVMValueRef spike = emit_spike_logic(e, fn, i, n_ref, pre);
    free(pre);
    store_neuron(e, fn, i, spike);
    LLVMValueRef br = cg_int_loop_close(e, &l);
    if (width)
        set_vector_width(e, br, width);
}

/* LLVM type of RtPopArgs (field order of rt_abi.h). */
static LLVMTypeRef pop_args_type(Emit *e)
{
    LLVMTypeRef f[] = {e->ptr, e->ptr, e->ptr, e->ptr, e->ptr, e->ptr,
                       e->i64, e->f64, e->f64, e->i64, LLVMInt32TypeInContext(e->cx),
                       LLVMInt32TypeInContext(e->cx), e->i64, e->ptr};
    return LLVMStructTypeInContext(e->cx, f, sizeof f / sizeof f[0], 0);
}

enum { ARG_STATE, ARG_PARAM, ARG_INPUT, ARG_CONSTS, ARG_REF_UNTIL, ARG_SPIKED, ARG_STEP, ARG_T, ARG_DT,
       ARG_GLOBALS = 13 /* v3 */ };

static LLVMValueRef load_field(Emit *e, LLVMTypeRef st, LLVMValueRef a, int field, LLVMTypeRef ty)
{
    return LLVMBuildLoad2(e->b, ty, LLVMBuildStructGEP2(e->b, st, a, (unsigned)field, ""), "");
}

/* The RtUpdateFn wrapper: unpacks RtPopArgs and calls the body. */
static void emit_wrapper(Emit *e, LLVMValueRef body, const char *name)
{
    LLVMTypeRef ps[3] = {e->ptr, e->i64, e->i64};
    LLVMTypeRef fty = LLVMFunctionType(LLVMVoidTypeInContext(e->cx), ps, 3, 0);
    LLVMValueRef fn = LLVMAddFunction(e->m, name, fty);
    add_attr(e, fn, LLVMAttributeFunctionIndex, "nounwind");
    add_attr(e, fn, 1, "nocapture");
    add_attr(e, fn, 1, "readonly");
    add_str_attr(e, fn, "prefer-vector-width", "512");
    LLVMPositionBuilderAtEnd(e->b, LLVMAppendBasicBlockInContext(e->cx, fn, "entry"));
    LLVMTypeRef st = pop_args_type(e);
    LLVMValueRef a = LLVMGetParam(fn, 0);
    const MirPop *p = e->p;
    int na = body_narrays(p), k = 0;
    LLVMValueRef *args = calloc((size_t)na + BODY_SCALARS + BODY_TAIL, sizeof *args);
    int counts[3] = {p->nstates, p->nparams, p->ninputs};
    for (int g = 0; g < 3; g++) {
        LLVMValueRef arr = load_field(e, st, a, ARG_STATE + g, e->ptr);
        for (int v = 0; v < counts[g]; v++) {
            LLVMValueRef idx = LLVMConstInt(e->i64, (unsigned long long)v, 0);
            args[k++] = LLVMBuildLoad2(e->b, e->ptr, LLVMBuildInBoundsGEP2(e->b, e->ptr, arr, &idx, 1, ""), "");
        }
    }
    args[k++] = load_field(e, st, a, ARG_REF_UNTIL, e->ptr);
    args[k++] = load_field(e, st, a, ARG_SPIKED, e->ptr);
    args[k++] = LLVMGetParam(fn, 1);
    args[k++] = LLVMGetParam(fn, 2);
    args[k++] = load_field(e, st, a, ARG_STEP, e->i64);
    args[k++] = load_field(e, st, a, ARG_T, e->f64);
    args[k++] = load_field(e, st, a, ARG_DT, e->f64);
    args[k++] = p->nconsts ? load_field(e, st, a, ARG_CONSTS, e->ptr) : LLVMConstNull(e->ptr);
    args[k++] = p->nglobals ? load_field(e, st, a, ARG_GLOBALS, e->ptr) : LLVMConstNull(e->ptr);
    LLVMBuildCall2(e->b, LLVMGlobalGetValueType(body), body, args, (unsigned)k, "");
    LLVMBuildRetVoid(e->b);
    free(args);
}

/* ---- scalar per-neuron kernels: eic_probe_<k>, eic_init_<k> ---------------- */

/* The element pointers of `n` arrays listed at `arr` (a double **), loaded in
 * the entry block. */
static void load_array_ptrs(Emit *e, LLVMValueRef arr, int n, LLVMValueRef *out)
{
    for (int v = 0; v < n; v++) {
        LLVMValueRef idx = LLVMConstInt(e->i64, (unsigned long long)v, 0);
        out[v] = LLVMBuildLoad2(e->b, e->ptr, LLVMBuildInBoundsGEP2(e->b, e->ptr, arr, &idx, 1, ""), "");
    }
}

/* A kernel `name`(RtPopArgs *a, int64 begin, int64 end[, ptr]) with a plain
 * loop over i in [begin, end): the probe and init kernels, which run over
 * few neurons or once and so need neither the body/wrapper split nor a
 * vector width. */
typedef struct {
    LLVMValueRef fn, a;
    LLVMTypeRef st;   /* RtPopArgs */
    CgLoop loop;
} ScalarLoop;

/* Declares the kernel with `nparams` parameters (3, or 4 with a trailing
 * pointer) and leaves the builder in its entry block, where the caller
 * loads its array pointers before scalar_loop_enter. */
static ScalarLoop scalar_loop_open(Emit *e, const char *name, unsigned nparams)
{
    ScalarLoop l = {0};
    LLVMTypeRef ps[4] = {e->ptr, e->i64, e->i64, e->ptr};
    l.fn = LLVMAddFunction(e->m, name, LLVMFunctionType(LLVMVoidTypeInContext(e->cx), ps, nparams, 0));
    add_attr(e, l.fn, LLVMAttributeFunctionIndex, "nounwind");
    l.loop = cg_int_loop_open(e, l.fn);
    l.st = pop_args_type(e);
    l.a = LLVMGetParam(l.fn, 0);
    return l;
}

/* Ends the entry block: t, dt (in e->real), constants and globals from
 * RtPopArgs, then into the loop over [begin, end). Leaves the builder at
 * the top of the loop body with l->loop.i the neuron index and every
 * temporary 0. */
static void scalar_loop_enter(Emit *e, ScalarLoop *l)
{
    const MirPop *p = e->p;
    e->t = load_field(e, l->st, l->a, ARG_T, e->f64);
    e->dt = e->dt64 = load_field(e, l->st, l->a, ARG_DT, e->f64);
    if (e->real != e->f64) {
        e->t = LLVMBuildFPTrunc(e->b, e->t, e->real, "t");
        e->dt = LLVMBuildFPTrunc(e->b, e->dt, e->real, "dt");
    }
    if (p->nconsts)
        load_invariants(e, load_field(e, l->st, l->a, ARG_CONSTS, e->ptr), p->nconsts, e->consts);
    if (p->nglobals)
        load_invariants(e, load_field(e, l->st, l->a, ARG_GLOBALS, e->ptr), p->nglobals, e->globals);
    cg_int_loop_enter(e, &l->loop, LLVMGetParam(l->fn, 1), LLVMGetParam(l->fn, 2), "i");
    for (int v = 0; v < p->ntemps; v++)
        e->temp[v] = cnst(e, 0.0);
}

/* ---- the probe kernel (ABI v5) ------------------------------------------------ */

/* Stores probe k's value v at out[k][i - begin] when out[k] is not NULL;
 * leaves the builder in the block after the store. */
static void store_probe(Emit *e, LLVMValueRef fn, LLVMValueRef outk, LLVMValueRef off, LLVMValueRef v)
{
    LLVMBasicBlockRef st = LLVMAppendBasicBlockInContext(e->cx, fn, "probe.store");
    LLVMBasicBlockRef next = LLVMAppendBasicBlockInContext(e->cx, fn, "probe.next");
    LLVMBuildCondBr(e->b, LLVMBuildIsNotNull(e->b, outk, ""), st, next);
    LLVMPositionBuilderAtEnd(e->b, st);
    if (e->real != e->f64)   /* a float kernel's value, widened exactly */
        v = LLVMBuildFPExt(e->b, v, e->f64, "");
    LLVMBuildStore(e->b, v, elem_ptr(e, e->f64, outk, off));
    LLVMBuildBr(e->b, next);
    LLVMPositionBuilderAtEnd(e->b, next);
}

/* eic_probe_<k>: per neuron of [begin, end), the values loaded as the
 * update kernel loads them, its on_input statements, then every probe. */
static void emit_probe(Emit *e, const char *name)
{
    const MirPop *p = e->p;
    ScalarLoop l = scalar_loop_open(e, name, 4);
    int counts[3] = {p->nstates, p->nparams, p->ninputs}, n = p->nstates + p->nparams + p->ninputs;
    LLVMValueRef *arrs = calloc((size_t)n + (size_t)p->nprobes + 1, sizeof *arrs), *outs = arrs + n;
    for (int g = 0, k = 0; g < 3; k += counts[g], g++)
        load_array_ptrs(e, load_field(e, l.st, l.a, ARG_STATE + g, e->ptr), counts[g], arrs + k);
    load_array_ptrs(e, LLVMGetParam(l.fn, 3), p->nprobes, outs);
    scalar_loop_enter(e, &l);

    LLVMValueRef *slots[3] = {e->state, e->param, e->input};
    for (int g = 0, k = 0; g < 3; k += counts[g], g++)
        for (int v = 0; v < counts[g]; v++)
            slots[g][v] = LLVMBuildLoad2(e->b, e->real, elem_ptr(e, e->real, arrs[k + v], l.loop.i), "");
    emit_block(e, &p->on_input);
    LLVMValueRef off = LLVMBuildSub(e->b, l.loop.i, l.loop.begin, "");
    for (int k = 0; k < p->nprobes && !e->failed; k++)
        store_probe(e, l.fn, outs[k], off, emit_expr(e, p->probes[k]));
    cg_int_loop_close(e, &l.loop);
    free(arrs);
}

/* ---- the init kernel ([S-neuron-1a]) -------------------------------------------- */

/* eic_init_<k>, the RtInitFn: per neuron of [begin, end), loads the states
 * and parameters the runtime has filled (constants, draws), runs MirPop.init
 * (the initial values computed per neuron, in dependency order) and stores
 * the states it wrote. The arithmetic is double also for a `precision
 * float` population, whose float values are widened exactly and whose
 * results are rounded to float once, as the runtime does with its draws.
 * It runs once, so it is a plain scalar loop; JIT and AOT share its object. */
static void emit_init(Emit *e, const char *name)
{
    const MirPop *p = e->p;
    LLVMTypeRef store_ty = e->real;   /* the arrays' element type */
    e->real = e->f64;
    ScalarLoop l = scalar_loop_open(e, name, 3);
    int n = p->nstates + p->nparams;
    LLVMValueRef *arrs = calloc((size_t)n + 1, sizeof *arrs);
    load_array_ptrs(e, load_field(e, l.st, l.a, ARG_STATE, e->ptr), p->nstates, arrs);
    load_array_ptrs(e, load_field(e, l.st, l.a, ARG_PARAM, e->ptr), p->nparams, arrs + p->nstates);
    scalar_loop_enter(e, &l);

    for (int v = 0; v < n; v++) {
        LLVMValueRef x = LLVMBuildLoad2(e->b, store_ty, elem_ptr(e, store_ty, arrs[v], l.loop.i), "");
        if (store_ty != e->f64)
            x = LLVMBuildFPExt(e->b, x, e->f64, "");
        if (v < p->nstates)
            e->state[v] = e->state0[v] = x;
        else
            e->param[v - p->nstates] = x;
    }
    emit_block(e, &p->init);
    for (int v = 0; v < p->nstates; v++) {
        if (e->state[v] == e->state0[v])
            continue;
        LLVMValueRef x = store_ty != e->f64 ? LLVMBuildFPTrunc(e->b, e->state[v], store_ty, "") : e->state[v];
        LLVMBuildStore(e->b, x, elem_ptr(e, store_ty, arrs[v], l.loop.i));
    }
    if (p->refractory && p->refractory_param >= 0 && p->refractory_param < p->nparams) {
        /* the steps from the parameters as the runtime filled them (a float
         * population's widened), as emit_n_ref_neuron would compute them */
        LLVMValueRef x = emit_n_ref_value(e);
        if (store_ty != e->f64)
            x = LLVMBuildFPTrunc(e->b, x, store_ty, "");
        LLVMBuildStore(e->b, x, elem_ptr(e, store_ty, arrs[p->nstates + p->refractory_param], l.loop.i));
    }
    cg_int_loop_close(e, &l.loop);
    free(arrs);
    e->real = store_ty;
}

/* Lanes of a float kernel: a full vector register of floats. Left to
 * itself the vectorizer sizes vectors by the widest type in the loop, the
 * i64 ref_until, and would give float kernels the width of double ones,
 * which is not what `precision float` is for. */
static unsigned float_width(const CgTarget *t)
{
    if (has_feature(t->features, "avx512f"))
        return 16;
    return has_feature(t->features, "avx") ? 8 : 4;
}

/* cg_emit_pop with the precision given: `use_float` makes state,
 * parameter and input arrays float and the arithmetic float. `update` and
 * `probe` say which of the population's kernels to emit (the others are
 * aliases of a twin's). */
static int emit_pop(LLVMModuleRef m, const CgTarget *t, const MirPop *p, int index, bool use_float,
                    bool update, bool probe, char *err, size_t errlen)
{
    Emit e;
    cg_int_init(&e, m, t, p, use_float, err, errlen);
    size_t n = (size_t)(p->nstates + p->ninputs + p->nparams + p->ntemps + p->nconsts + p->nglobals + 1);
    LLVMValueRef *mem = calloc(2 * n, sizeof *mem);
    e.state = mem;             e.state0 = e.state + p->nstates;
    e.input = e.state0 + p->nstates;  e.input0 = e.input + p->ninputs;
    e.param = e.input0 + p->ninputs;  e.temp = e.param + p->nparams;
    e.consts = e.temp + p->ntemps;    e.globals = e.consts + p->nconsts;
    char name[64], bname[80];
    cg_kernel_name(name, sizeof name, index);
    snprintf(bname, sizeof bname, "%s.body", name);
    if (update) {
        LLVMValueRef body = declare_body(&e, bname);
        emit_body(&e, body, use_float ? float_width(t) : 0);
        emit_wrapper(&e, body, name);
    }
    if (probe && p->nprobes && !e.failed) {
        cg_probe_name(name, sizeof name, index);
        emit_probe(&e, name);
    }
    if (cg_has_init(p) && !e.failed) {   /* every population its own: it runs once */
        cg_init_name(name, sizeof name, index);
        emit_init(&e, name);
    }
    free(mem);
    LLVMDisposeBuilder(e.b);
    return e.failed ? -1 : 0;
}

int cg_emit_pop(LLVMModuleRef m, const CgTarget *t, const MirPop *p, int index,
                char *err, size_t errlen)
{
    return emit_pop(m, t, p, index, p->use_float, true, true, err, errlen);
}

/* ---- one kernel per distinct population --------------------------------------- */

/* Writes `x` in prefix form with slots and exact constants (%a). */
static void sig_expr(FILE *f, const MirExpr *x)
{
    if (!x) {
        fputs("_ ", f);
        return;
    }
    fprintf(f, "(%d %d %d %a", (int)x->op, x->fn, x->slot, x->value);
    for (int i = 0; i < x->nargs; i++)
        sig_expr(f, x->args[i]);
    fputs(")", f);
}

static void sig_block(FILE *f, const MirBlock *b)
{
    fputs("{", f);
    for (int i = 0; i < b->n; i++) {
        const MirStmt *st = b->v[i];
        fprintf(f, "[%d %d ", (int)st->kind, st->slot);
        sig_expr(f, st->value);
        if (st->kind == MIR_IF) {
            sig_block(f, &st->then);
            sig_block(f, &st->else_);
        }
        fputs("]", f);
    }
    fputs("}", f);
}

/* Everything emit_body reads, as text: counts, precision, refractoriness
 * and the kernel blocks, structurally (slots, exact constants), so names,
 * sizes and initial values do not matter. Two populations with equal
 * signatures get one update kernel. With `probes`, the probe expressions
 * too (the probe kernel's signature; NULL when there are none), so a
 * monitored population shares its update kernel with an unmonitored twin.
 * Returns malloc'd memory, NULL when out of it. */
static char *kernel_signature(const MirPop *p, bool probes)
{
    if (probes && !p->nprobes)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    fprintf(f, "%d %d %d %d %d %a %d %d", p->nstates, p->nparams, p->ninputs, p->ntemps,
            (int)p->use_float, p->refractory_s, p->nconsts, p->nglobals);
    for (int i = 0; i < p->nclamped; i++)
        fprintf(f, " c%d", p->clamped[i]);
    if (p->refractory)
        fprintf(f, " r%d", p->refractory_param), sig_expr(f, p->refractory);
    sig_block(f, &p->on_input);
    sig_block(f, &p->step);
    sig_expr(f, p->threshold);
    sig_block(f, &p->reset);
    for (int k = 0; probes && k < p->nprobes; k++)
        sig_expr(f, p->probes[k]);
    fclose(f);
    return buf;
}

/* Index of an earlier population with the same signature, or -1. */
static int find_twin(char **sig, int i)
{
    for (int k = 0; k < i; k++)
        if (sig[i] && sig[k] && strcmp(sig[i], sig[k]) == 0)
            return k;
    return -1;
}

/* `eic_update_<i>` (or `eic_probe_<i>`, `namer`) as an alias of the kernel
 * of population k: one symbol more in the object, no second copy of the code. */
static void add_kernel_alias(LLVMModuleRef m, int i, int k, void (*namer)(char *, size_t, int))
{
    char name[64], target[64];
    namer(name, sizeof name, i);
    namer(target, sizeof target, k);
    LLVMValueRef fn = LLVMGetNamedFunction(m, target);
    LLVMAddAlias2(m, LLVMGlobalGetValueType(fn), 0, fn, name);
}

LLVMModuleRef cg_emit_model(LLVMContextRef cx, const CgTarget *t, const MirModel *model,
                            char *err, size_t errlen)
{
    LLVMModuleRef m = cg_module_create(cx, t, "eic_model");
    char **sig = calloc(2 * ((size_t)model->npops + 1), sizeof *sig), **psig = sig + model->npops + 1;
    int rc = 0;
    for (int i = 0; i < model->npops && rc == 0; i++) {
        const MirPop *p = &model->pops[i];
        sig[i] = kernel_signature(p, false);
        psig[i] = kernel_signature(p, true);
        int twin = find_twin(sig, i), ptwin = find_twin(psig, i);
        if (twin >= 0)
            add_kernel_alias(m, i, twin, cg_kernel_name);
        if (ptwin >= 0)
            add_kernel_alias(m, i, ptwin, cg_probe_name);
        if (twin < 0 || (psig[i] && ptwin < 0) || cg_has_init(p))   /* RT_PREC_F32 arrays */
            rc = emit_pop(m, t, p, i, p->use_float, twin < 0, psig[i] && ptwin < 0, err, errlen);
    }
    for (int i = 0; i < model->npops; i++)
        free(sig[i]), free(psig[i]);
    free(sig);
    if (rc != 0) {
        LLVMDisposeModule(m);
        return NULL;
    }
    return m;
}

/* ---- passes and objects ------------------------------------------------------ */

int cg_optimize(LLVMModuleRef m, const CgTarget *t, char *err, size_t errlen)
{
    char *msg = NULL;
    if (LLVMVerifyModule(m, LLVMReturnStatusAction, &msg)) {
        set_err(err, errlen, "generated IR is invalid (compiler bug)", msg);
        return -1;
    }
    LLVMDisposeMessage(msg);
    LLVMTargetMachineRef tm = shared_tm(t);
    /* The layout from t->datalayout (the JIT's) and the machine's agree on
     * every host we know; if not, the machine's is the one code follows. */
    LLVMTargetDataRef dl = LLVMCreateTargetDataLayout(tm);
    char *want = LLVMCopyStringRepOfTargetData(dl);
    if (strcmp(want, LLVMGetDataLayoutStr(m)) != 0)
        LLVMSetModuleDataLayout(m, dl);
    LLVMDisposeMessage(want);
    LLVMDisposeTargetData(dl);
    LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
    LLVMPassBuilderOptionsSetLoopVectorization(po, 1);
    LLVMPassBuilderOptionsSetSLPVectorization(po, 1);   /* off by default */
    LLVMPassBuilderOptionsSetLoopInterleaving(po, 1);
    LLVMErrorRef pe = LLVMRunPasses(m, g_pipeline, tm, po);
    if (!pe && cg_math_finish(m, t->fma))   /* exponential Euler's vector variants */
        pe = LLVMRunPasses(m, CG_PIPELINE_LATE, tm, po);
    LLVMDisposePassBuilderOptions(po);
    if (pe) {
        char *em = LLVMGetErrorMessage(pe);
        snprintf(err, errlen, "LLVM optimisation failed: %s", em);
        LLVMDisposeErrorMessage(em);
        return -1;
    }
    return 0;
}

LLVMMemoryBufferRef cg_emit_object_buffer(LLVMModuleRef m, const CgTarget *t,
                                          char *err, size_t errlen)
{
    LLVMMemoryBufferRef buf = NULL;
    char *msg = NULL;
    if (LLVMTargetMachineEmitToMemoryBuffer(shared_tm(t), m, LLVMObjectFile, &msg, &buf)) {
        set_err(err, errlen, "object emission failed", msg);
        buf = NULL;
    }
    return buf;
}

int cg_emit_object_file(LLVMModuleRef m, const CgTarget *t, const char *path,
                        char *err, size_t errlen)
{
    LLVMMemoryBufferRef buf = cg_emit_object_buffer(m, t, err, errlen);
    if (!buf)
        return -1;
    FILE *f = fopen(path, "wb");
    size_t n = LLVMGetBufferSize(buf);
    int rc = f && fwrite(LLVMGetBufferStart(buf), 1, n, f) == n ? 0 : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    if (rc)
        snprintf(err, errlen, "cannot write object file '%s'", path);
    LLVMDisposeMemoryBuffer(buf);
    return rc;
}

/* ---- for the other emitters (cg_int.h) ---------------------------------------- */

LLVMValueRef cg_int_expr(Emit *e, const MirExpr *x)
{
    return emit_expr(e, x);
}

LLVMValueRef cg_int_cond(Emit *e, const MirExpr *x)
{
    return emit_cond(e, x);
}

void cg_int_block(Emit *e, const MirBlock *b)
{
    emit_block(e, b);
}

void cg_int_init(Emit *e, LLVMModuleRef m, const CgTarget *t, const MirPop *p, bool use_float, char *err,
                 size_t errlen)
{
    *e = (Emit){0};
    e->cx = LLVMGetModuleContext(m);
    e->m = m;
    e->b = LLVMCreateBuilderInContext(e->cx);
    e->math = (CgMath){m, e->b, t->fma};
    e->p = p;
    e->f64 = LLVMDoubleTypeInContext(e->cx);
    e->real = use_float ? LLVMFloatTypeInContext(e->cx) : e->f64;
    e->i64 = LLVMInt64TypeInContext(e->cx);
    e->i8 = LLVMInt8TypeInContext(e->cx);
    e->i1 = LLVMInt1TypeInContext(e->cx);
    e->ptr = LLVMPointerTypeInContext(e->cx, 0);
    e->err = err;
    e->errlen = errlen;
}

CgLoop cg_int_loop_open(Emit *e, LLVMValueRef fn)
{
    CgLoop l = {0};
    l.entry = LLVMAppendBasicBlockInContext(e->cx, fn, "entry");
    l.loop = LLVMAppendBasicBlockInContext(e->cx, fn, "loop");
    l.done = LLVMAppendBasicBlockInContext(e->cx, fn, "done");
    LLVMPositionBuilderAtEnd(e->b, l.entry);
    return l;
}

void cg_int_loop_enter(Emit *e, CgLoop *l, LLVMValueRef begin, LLVMValueRef end, const char *name)
{
    l->begin = begin;
    l->end = end;
    LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntSLT, begin, end, ""), l->loop, l->done);
    LLVMPositionBuilderAtEnd(e->b, l->loop);
    l->i = LLVMBuildPhi(e->b, e->i64, name);
}

LLVMValueRef cg_int_loop_close(Emit *e, CgLoop *l)
{
    LLVMValueRef next = LLVMBuildAdd(e->b, l->i, LLVMConstInt(e->i64, 1, 0), "");
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(e->b);
    LLVMValueRef br = LLVMBuildCondBr(e->b, LLVMBuildICmp(e->b, LLVMIntSLT, next, l->end, ""), l->loop, l->done);
    LLVMValueRef inc_v[2] = {l->begin, next};
    LLVMBasicBlockRef inc_b[2] = {l->entry, latch};
    LLVMAddIncoming(l->i, inc_v, inc_b, 2);
    LLVMPositionBuilderAtEnd(e->b, l->done);
    LLVMBuildRetVoid(e->b);
    return br;
}
