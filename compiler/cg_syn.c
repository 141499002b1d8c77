/* cg_syn.c - MirSyn -> LLVM synapse kernels (RtSynFn, runtime/rt_abi.h v2).
 *
 * A kernel is one loop over the synapses of an event (see cg_syn.h): on pre
 * the synapses q in [e->first, e->last) of row i = e->neuron, post j =
 * a->post[q]; on post and every, k in [e->first, e->last) with q =
 * e->syn[k], i = e->pre[k], j = e->neuron. Per synapse the variable table of
 * the MirSyn is gathered from the runtime's arrays (w[q], syn[v][q],
 * pre_trace[k][i], post_trace[k][j], post_state[v][j], pre_state[k][i], the
 * event's elapsed time; the efficacy starts at 0), the blocks run as
 * straight-line if-converted code (cg_int.h), and w and the synapse states
 * that changed are stored; on pre input[j] += efficacy. With MirSyn.post_f32
 * (`precision float`, [S-cg-7]) post_state and input hold floats: a post
 * state is read and widened to double (exact), and the input add is
 * input[j] = (float)((double)input[j] + gain*efficacy), one rounding, as the
 * runtime's float delivery; all other state and arithmetic stay double. The base pointers
 * are loaded once, before the loop. Synapse events are few per step, so the
 * loop is scalar; the arithmetic is the same IR as the neuron kernels' (no
 * fast-math), so results equal the reference interpreter's up to the inline
 * exp (within 1 ulp of libm). */
#include "cg_syn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg_int.h"
#include "rt_abi.h"

/* Field numbers of RtSynArgs and RtSynEvent (rt_abi.h field order). */
enum { SA_W, SA_SYN, SA_POST, SA_ROW, SA_PRE_TRACE, SA_POST_TRACE, SA_POST_STATE, SA_PRE_STATE, SA_INPUT,
       SA_CONSTS, SA_SYN_LAST, SA_STEP, SA_T, SA_DT, SA_SEED, SA_PROJ, SA_RES0, SA_NSYN,
       SA_GLOBALS, SA_GAIN /* v3 */, SA__COUNT };
enum { SE_SYN, SE_PRE, SE_FIRST, SE_LAST, SE_NEURON, SE_RES0, SE_ELAPSED, SE__COUNT };

typedef struct SynEmit {
    Emit e;
    const MirSyn *s;
    CgSynKernel kind;
    LLVMTypeRef i32, args_ty, ev_ty;
    LLVMValueRef fn, args, ev;
    LLVMValueRef *base;         /* [nvars] array of each variable, NULL for elapsed/deliver */
    LLVMValueRef w_base, post, input, ev_syn, ev_pre, elapsed, neuron;
    LLVMValueRef syn_last, step;   /* syn_clock: per-synapse last event step; current step */
    LLVMValueRef gain;             /* v3: the projection's gain this step (on pre) */
    LLVMTypeRef post_ty;           /* element type of post states and input: float when
                                      MirSyn.post_f32 ([S-cg-7]), else double */
} SynEmit;

void cg_syn_kernel_name(char *buf, size_t len, CgSynKernel kind, int index) {
    static const char *names[] = {"pre", "post", "every", "row"};
    snprintf(buf, len, "eic_syn_%s_%d", names[kind], index);
}

bool cg_syn_has_kernel(const MirSyn *s, CgSynKernel kind) {
    return kind == CG_SYN_PRE || (kind == CG_SYN_POST && s->has_on_post) || (kind == CG_SYN_EVERY && s->has_every) ||
           (kind == CG_SYN_PRE_ROW && s->per_pre);
}

static LLVMTypeRef args_type(SynEmit *se) {
    Emit *e = &se->e;
    LLVMTypeRef f[SA__COUNT];
    for (int i = 0; i <= SA_SYN_LAST; i++) f[i] = e->ptr;
    f[SA_STEP] = e->i64, f[SA_T] = e->f64, f[SA_DT] = e->f64, f[SA_SEED] = e->i64;
    f[SA_PROJ] = se->i32, f[SA_RES0] = se->i32, f[SA_NSYN] = e->i64;
    f[SA_GLOBALS] = e->ptr, f[SA_GAIN] = e->f64;
    return LLVMStructTypeInContext(e->cx, f, SA__COUNT, 0);
}

static LLVMTypeRef event_type(SynEmit *se) {
    Emit *e = &se->e;
    LLVMTypeRef f[SE__COUNT] = {e->ptr, e->ptr, e->i64, e->i64, se->i32, se->i32, e->f64};
    return LLVMStructTypeInContext(e->cx, f, SE__COUNT, 0);
}

static LLVMValueRef field(SynEmit *se, LLVMTypeRef st, LLVMValueRef p, int k, LLVMTypeRef ty) {
    return LLVMBuildLoad2(se->e.b, ty, LLVMBuildStructGEP2(se->e.b, st, p, (unsigned)k, ""), "");
}

static LLVMValueRef at(SynEmit *se, LLVMTypeRef ty, LLVMValueRef base, LLVMValueRef i) {
    return LLVMBuildInBoundsGEP2(se->e.b, ty, base, &i, 1, "");
}

/* The k-th array of a `double *const *` field of RtSynArgs. */
static LLVMValueRef array_of(SynEmit *se, int fld, int k) {
    Emit *e = &se->e;
    LLVMValueRef arrs = field(se, se->args_ty, se->args, fld, e->ptr);
    return LLVMBuildLoad2(e->b, e->ptr, at(se, e->ptr, arrs, LLVMConstInt(e->i64, (unsigned long long)k, 0)), "");
}

/* Entry block: the base pointer of every variable and the event's fields. */
static void load_bases(SynEmit *se) {
    Emit *e = &se->e;
    const MirSyn *s = se->s;
    se->w_base = field(se, se->args_ty, se->args, SA_W, e->ptr);
    se->post = field(se, se->args_ty, se->args, SA_POST, e->ptr);
    se->input = field(se, se->args_ty, se->args, SA_INPUT, e->ptr);
    e->t = field(se, se->args_ty, se->args, SA_T, e->f64);
    e->dt = field(se, se->args_ty, se->args, SA_DT, e->f64);
    se->ev_syn = field(se, se->ev_ty, se->ev, SE_SYN, e->ptr);
    se->ev_pre = field(se, se->ev_ty, se->ev, SE_PRE, e->ptr);
    se->elapsed = field(se, se->ev_ty, se->ev, SE_ELAPSED, e->f64);
    se->neuron = LLVMBuildZExt(e->b, field(se, se->ev_ty, se->ev, SE_NEURON, se->i32), e->i64, "neuron");
    se->syn_last = s->syn_clock ? field(se, se->args_ty, se->args, SA_SYN_LAST, e->ptr) : NULL;
    se->step = field(se, se->args_ty, se->args, SA_STEP, e->i64);
    se->gain = se->kind == CG_SYN_PRE ? field(se, se->args_ty, se->args, SA_GAIN, e->f64) : NULL;
    if (s->shape.nglobals) {   /* modulator levels: loop invariants, loaded once */
        LLVMValueRef g = field(se, se->args_ty, se->args, SA_GLOBALS, e->ptr);
        for (int k = 0; k < s->shape.nglobals; k++)
            e->globals[k] = LLVMBuildLoad2(e->b, e->f64, at(se, e->f64, g, LLVMConstInt(e->i64, (unsigned long long)k, 0)), "");
    }
    for (int v = 0; v < s->nvars; v++) {
        const MirSynVar *var = &s->vars[v];
        switch (var->kind) {
        case MSV_WEIGHT: se->base[v] = se->w_base; break;
        case MSV_SYN: se->base[v] = array_of(se, SA_SYN, var->index); break;
        case MSV_TRACE_PRE: se->base[v] = array_of(se, SA_PRE_TRACE, mir_syn_trace_side_index(s, var->index)); break;
        case MSV_TRACE_POST: se->base[v] = array_of(se, SA_POST_TRACE, mir_syn_trace_side_index(s, var->index)); break;
        case MSV_POST_STATE: se->base[v] = array_of(se, SA_POST_STATE, var->index); break;
        case MSV_PRE_STATE: se->base[v] = array_of(se, SA_PRE_STATE, mir_syn_pre_var_index(s, v)); break;
        case MSV_ELAPSED: case MSV_DELIVER: se->base[v] = NULL; break;
        }
    }
}

/* The element index of variable v for synapse q, pre neuron i, post j
 * (per-pre synapse state is indexed by the pre neuron). */
static LLVMValueRef index_of(const MirSyn *s, const MirSynVar *var, LLVMValueRef q, LLVMValueRef i, LLVMValueRef j) {
    switch (var->kind) {
    case MSV_SYN: return s->per_pre ? i : q;
    case MSV_WEIGHT: return q;
    case MSV_TRACE_PRE: case MSV_PRE_STATE: return i;
    default: return j;
    }
}

/* syn_clock: elapsed = (step - syn_last[q]) * dt, then syn_last[q] = step. */
static LLVMValueRef synapse_elapsed(SynEmit *se, LLVMValueRef q) {
    Emit *e = &se->e;
    LLVMValueRef p = at(se, e->i64, se->syn_last, q);
    LLVMValueRef n = LLVMBuildSub(e->b, se->step, LLVMBuildLoad2(e->b, e->i64, p, "last"), "");
    LLVMBuildStore(e->b, se->step, p);
    return LLVMBuildFMul(e->b, LLVMBuildSIToFP(e->b, n, e->f64, ""), e->dt, "elapsed");
}

static void gather(SynEmit *se, LLVMValueRef q, LLVMValueRef i, LLVMValueRef j) {
    Emit *e = &se->e;
    const MirSyn *s = se->s;
    LLVMValueRef elapsed = s->syn_clock ? synapse_elapsed(se, q) : se->elapsed;
    for (int v = 0; v < s->nvars; v++) {
        LLVMValueRef x;
        if (s->vars[v].kind == MSV_ELAPSED) x = elapsed;
        else if (s->vars[v].kind == MSV_DELIVER) x = LLVMConstReal(e->f64, 0.0);
        else if (s->vars[v].kind == MSV_POST_STATE && s->post_f32) {   /* float, exact in double */
            x = LLVMBuildLoad2(e->b, se->post_ty, at(se, se->post_ty, se->base[v], j), s->vars[v].name);
            x = LLVMBuildFPExt(e->b, x, e->f64, "");
        } else x = LLVMBuildLoad2(e->b, e->f64, at(se, e->f64, se->base[v], index_of(s, &s->vars[v], q, i, j)), s->vars[v].name);
        e->state[v] = e->state0[v] = x;
    }
    for (int k = 0; k < s->ntemps; k++) e->temp[k] = LLVMConstReal(e->f64, 0.0);
}

/* Stores what the kernel may write: w and per-synapse state; per-pre state
 * only in the row kernel, which writes nothing else. */
static void scatter(SynEmit *se, LLVMValueRef q, LLVMValueRef i, LLVMValueRef j) {
    Emit *e = &se->e;
    const MirSyn *s = se->s;
    bool row = se->kind == CG_SYN_PRE_ROW;
    for (int v = 0; v < s->nvars; v++) {
        MirSynVarKind k = s->vars[v].kind;
        bool mine = s->per_pre ? (row && k == MSV_SYN) : (k == MSV_WEIGHT || k == MSV_SYN);
        if (mine && e->state[v] != e->state0[v])
            LLVMBuildStore(e->b, e->state[v], at(se, e->f64, se->base[v], index_of(s, &s->vars[v], q, i, j)));
    }
    if (se->kind == CG_SYN_PRE) {
        LLVMValueRef p = at(se, se->post_ty, se->input, j);
        /* gain * efficacy (rt_abi.h v3): 1.0 * x == x, so gain 1 changes no bit */
        LLVMValueRef eff = LLVMBuildFMul(e->b, se->gain, e->state[s->deliver_slot], "");
        LLVMValueRef in = LLVMBuildLoad2(e->b, se->post_ty, p, "in");
        if (s->post_f32) in = LLVMBuildFPExt(e->b, in, e->f64, "");
        LLVMValueRef sum = LLVMBuildFAdd(e->b, in, eff, "");
        /* a float buffer: the sum in double, rounded once, as the runtime's float delivery */
        if (s->post_f32) sum = LLVMBuildFPTrunc(e->b, sum, se->post_ty, "");
        LLVMBuildStore(e->b, sum, p);
    }
}

/* The synapse q, pre neuron i and post neuron j of loop iteration k. */
static void loop_indices(SynEmit *se, LLVMValueRef k, LLVMValueRef *q, LLVMValueRef *i, LLVMValueRef *j) {
    Emit *e = &se->e;
    if (se->kind == CG_SYN_PRE || se->kind == CG_SYN_PRE_ROW) {
        *q = k;
        *i = se->neuron;
        *j = LLVMBuildZExt(e->b, LLVMBuildLoad2(e->b, se->i32, at(se, se->i32, se->post, k), ""), e->i64, "j");
    } else {
        *q = LLVMBuildZExt(e->b, LLVMBuildLoad2(e->b, se->i32, at(se, se->i32, se->ev_syn, k), ""), e->i64, "q");
        *i = LLVMBuildZExt(e->b, LLVMBuildLoad2(e->b, se->i32, at(se, se->i32, se->ev_pre, k), ""), e->i64, "i");
        *j = se->neuron;
    }
}

/* for (k = first; k < last; k++) { gather; blocks; scatter } */
static void emit_kernel_body(SynEmit *se) {
    Emit *e = &se->e;
    CgLoop l = cg_int_loop_open(e, se->fn);
    load_bases(se);
    LLVMValueRef first = field(se, se->ev_ty, se->ev, SE_FIRST, e->i64);
    LLVMValueRef last = field(se, se->ev_ty, se->ev, SE_LAST, e->i64);
    if (se->kind == CG_SYN_PRE_ROW) {   /* once per row: its first synapse stands for all */
        LLVMValueRef one = LLVMBuildAdd(e->b, first, LLVMConstInt(e->i64, 1, 0), "");
        last = LLVMBuildSelect(e->b, LLVMBuildICmp(e->b, LLVMIntSLT, one, last, ""), one, last, "");
    }
    cg_int_loop_enter(e, &l, first, last, "k");
    LLVMValueRef k = l.i, q, i, j;
    loop_indices(se, k, &q, &i, &j);
    gather(se, q, i, j);
    e->mask = NULL;
    bool pre = se->kind == CG_SYN_PRE || se->kind == CG_SYN_PRE_ROW;
    if (pre || se->s->syn_clock) cg_int_block(e, &se->s->decay);
    cg_int_block(e, pre ? &se->s->on_pre : se->kind == CG_SYN_POST ? &se->s->on_post : &se->s->every);
    scatter(se, q, i, j);
    cg_int_loop_close(e, &l);
}

static void add_attr(LLVMContextRef cx, LLVMValueRef fn, unsigned idx, const char *name) {
    unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
    LLVMAddAttributeAtIndex(fn, idx, LLVMCreateEnumAttribute(cx, kind, 0));
}

static int emit_kernel(LLVMModuleRef m, const CgTarget *t, const MirSyn *s, int index, CgSynKernel kind, char *err,
                       size_t errlen) {
    SynEmit se = {.s = s, .kind = kind};
    Emit *e = &se.e;
    cg_int_init(e, m, t, &s->shape, false, err, errlen);   /* synapse variables are double */
    se.i32 = LLVMInt32TypeInContext(e->cx);
    se.post_ty = s->post_f32 ? LLVMFloatTypeInContext(e->cx) : e->f64;
    se.args_ty = args_type(&se);
    se.ev_ty = event_type(&se);
    LLVMValueRef *mem = calloc((size_t)(3 * s->nvars + s->ntemps + s->shape.nglobals + 1), sizeof *mem);
    e->state = mem, e->state0 = mem + s->nvars, se.base = mem + 2 * s->nvars, e->temp = mem + 3 * s->nvars;
    e->globals = e->temp + s->ntemps;
    char name[64];
    cg_syn_kernel_name(name, sizeof name, kind, index);
    LLVMTypeRef ps[2] = {e->ptr, e->ptr};
    se.fn = LLVMAddFunction(m, name, LLVMFunctionType(LLVMVoidTypeInContext(e->cx), ps, 2, 0));
    add_attr(e->cx, se.fn, LLVMAttributeFunctionIndex, "nounwind");
    se.args = LLVMGetParam(se.fn, 0);
    se.ev = LLVMGetParam(se.fn, 1);
    emit_kernel_body(&se);
    free(mem);
    LLVMDisposeBuilder(e->b);
    return e->failed ? -1 : 0;
}

int cg_syn_emit_all(LLVMModuleRef m, const CgTarget *t, const MirSyn *syns, int n, char *err, size_t errlen) {
    for (int k = 0; k < n; k++)
        for (int kind = CG_SYN_PRE; kind <= CG_SYN_PRE_ROW; kind++)
            if (cg_syn_has_kernel(&syns[k], (CgSynKernel)kind) &&
                emit_kernel(m, t, &syns[k], k, (CgSynKernel)kind, err, errlen))
                return -1;
    return 0;
}

int cg_syn_bind(const MirSyn *syns, int n, RtPlasticDesc *plastic, void *(*lookup)(void *ctx, const char *name),
                void *ctx, char *err, size_t errlen) {
    for (int k = 0; k < n; k++) {
        RtSynFn *slots[] = {&plastic[k].on_pre, &plastic[k].on_post, &plastic[k].every, &plastic[k].on_pre_row};
        for (int kind = CG_SYN_PRE; kind <= CG_SYN_PRE_ROW; kind++) {
            if (!cg_syn_has_kernel(&syns[k], (CgSynKernel)kind)) continue;
            char name[64];
            cg_syn_kernel_name(name, sizeof name, (CgSynKernel)kind, k);
            *slots[kind] = (RtSynFn)(uintptr_t)lookup(ctx, name);
            if (!*slots[kind]) {
                snprintf(err, errlen, "synapse kernel %s not found after compilation", name);
                return -1;
            }
        }
    }
    return 0;
}
