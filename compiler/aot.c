/* aot.c - `eic build FILE -o EXE`: an ahead-of-time executable of a model.
 *
 * The kernels are compiled exactly as for the JIT (same passes, same target
 * machine, same object emitter) into an object file; the model descriptor is
 * written as C data (every double in hexadecimal, so no value changes by a
 * bit) with a main() that hands it to rt_cli_simulate(), the same shell
 * `eic run` uses. The system C compiler links both with libeicrt. The
 * executable accepts the run options of `eic run` and writes the same files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cg_globals.h"
#include "cg_llvm.h"
#include "cg_syn.h"
#include "driver.h"
#include "frontend.h"
#include "lower.h"
#include "sema.h"

/* Writes `s` as a C string literal (or NULL). */
static void c_string(FILE *f, const char *s) {
    if (!s) {
        fputs("NULL", f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f) fprintf(f, "\\%03o", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

static void c_dist(FILE *f, RtDist d) {
    static const char *kinds[] = {"RT_DIST_CONST", "RT_DIST_UNIFORM", "RT_DIST_NORMAL", "RT_DIST_KERNEL"};
    fprintf(f, "{%s, %a, %a}", kinds[d.kind], d.a, d.b);
}

static void c_vars(FILE *f, const char *name, int k, const RtVarDesc *v, int n) {
    fprintf(f, "static const RtVarDesc %s_%d[] = {\n", name, k);
    for (int i = 0; i < n; i++) {
        fputs("    {", f);
        c_string(f, v[i].name);
        fputs(", ", f);
        c_string(f, v[i].unit);
        fputs(", ", f);
        c_dist(f, v[i].init);
        fputs("},\n", f);
    }
    fputs("    {0}\n};\n", f);
}

/* The MIR index (kernel eic_update_N) of descriptor population k, or -1 for
 * a population without kernel (Poisson, spike times). */
static int kernel_of(const Lowered *l, int k) {
    for (int i = 0; i < l->mir.npops; i++)
        if (l->mir_pop[i] == k) return i;
    return -1;
}

/* The fields of a population without an update kernel: a Poisson source's
 * rate or a spike-time source's file. */
static void c_source_fields(FILE *f, const RtPopDesc *p) {
    if (p->kind == RT_POP_POISSON) {
        fprintf(f, ".kind = RT_POP_POISSON, .rate_hz = %a", p->rate_hz);
        return;
    }
    fputs(".kind = RT_POP_SPIKE_TIMES, .spike_file = ", f);
    c_string(f, p->spike_file);
}

static void c_pops(FILE *f, const Lowered *l) {
    const RtModelDesc *m = &l->desc;
    for (int k = 0; k < m->npops; k++) {
        const RtPopDesc *p = &m->pops[k];
        if (kernel_of(l, k) >= 0)
            fprintf(f, "void eic_update_%d(const RtPopArgs *a, int64_t begin, int64_t end);\n", kernel_of(l, k));
        if (kernel_of(l, k) >= 0 && p->nprobes)   /* ABI v5: cg_llvm.c emits it with the update kernel */
            fprintf(f, "void eic_probe_%d(const RtPopArgs *a, int64_t begin, int64_t end, double *const *out);\n",
                    kernel_of(l, k));
        if (kernel_of(l, k) >= 0 && cg_has_init(&l->mir.pops[kernel_of(l, k)]))   /* cg_llvm.c: eic_init_<k> */
            fprintf(f, "void eic_init_%d(const RtPopArgs *a, int64_t begin, int64_t end);\n", kernel_of(l, k));
        c_vars(f, "states", k, p->states, p->nstates);
        c_vars(f, "probes", k, p->probes, p->nprobes);
        c_vars(f, "params", k, p->params, p->nparams);
        fprintf(f, "static const char *const inputs_%d[] = {", k);
        for (int i = 0; i < p->ninputs; i++) {
            c_string(f, p->input_names[i]);
            fputs(", ", f);
        }
        fputs("NULL};\n", f);
        fprintf(f, "static const double consts_%d[] = {", k);
        for (int i = 0; i < p->nconsts; i++) fprintf(f, "%a, ", p->consts[i]);
        fputs("0};\n", f);
    }
    fputs("static const RtPopDesc pops[] = {\n", f);
    for (int k = 0; k < m->npops; k++) {
        const RtPopDesc *p = &m->pops[k];
        fputs("    {.name = ", f);
        c_string(f, p->name);
        fprintf(f, ", .size = %lld, .precision = %s, ", (long long)p->size,
                p->precision == RT_PREC_F32 ? "RT_PREC_F32" : "RT_PREC_F64");
        if (kernel_of(l, k) < 0) {
            c_source_fields(f, p);
            fputs("},\n", f);
            continue;
        }
        fprintf(f, ".kind = RT_POP_NEURON, .nstates = %d, .states = states_%d, .nparams = %d, .params = params_%d, "
                   ".ninputs = %d, .input_names = inputs_%d, .update = eic_update_%d, .nconsts = %d, .consts = consts_%d",
                p->nstates, k, p->nparams, k, p->ninputs, k, kernel_of(l, k), p->nconsts, k);
        if (cg_has_init(&l->mir.pops[kernel_of(l, k)]))
            fprintf(f, ", .init = eic_init_%d", kernel_of(l, k));
        if (p->nprobes)   /* ABI v5 */
            fprintf(f, ", .nprobes = %d, .probes = probes_%d, .probe = eic_probe_%d", p->nprobes, k, kernel_of(l, k));
        fputs("},\n", f);
    }
    fputs("    {0}\n};\n", f);
}

static void c_traces(FILE *f, const char *name, int k, const RtTraceDesc *t, int n) {
    fprintf(f, "static const RtTraceDesc %s_%d[] = {\n", name, k);
    for (int i = 0; i < n; i++) {
        fputs("    {", f);
        c_string(f, t[i].name);
        fprintf(f, ", %a, %a, %s},\n", t[i].tau, t[i].inc, t[i].mode == RT_TRACE_SET ? "RT_TRACE_SET" : "RT_TRACE_ADD");
    }
    fputs("    {0}\n};\n", f);
}

/* The RtPlasticDesc of every plastic projection, with its kernels declared. */
static void c_plastic(FILE *f, const Lowered *l) {
    static const char *fields[] = {".on_pre", ".on_post", ".every", ".on_pre_row"};
    for (int k = 0; k < l->nsyns; k++) {
        const RtPlasticDesc *pd = &l->plastic[k];
        c_vars(f, "synvars", k, pd->synvars, pd->nsynvars);
        c_traces(f, "traces_pre", k, pd->traces_pre, pd->ntraces_pre);
        c_traces(f, "traces_post", k, pd->traces_post, pd->ntraces_post);
        fprintf(f, "static const int pre_vars_%d[] = {", k);
        for (int i = 0; i < pd->npre_vars; i++) fprintf(f, "%d, ", pd->pre_vars[i]);
        fputs("0};\n", f);
        char names[4][64] = {"NULL", "NULL", "NULL", "NULL"};
        for (int kind = CG_SYN_PRE; kind <= CG_SYN_PRE_ROW; kind++) {
            if (!cg_syn_has_kernel(&l->syns[k], (CgSynKernel)kind)) continue;
            cg_syn_kernel_name(names[kind], sizeof names[kind], (CgSynKernel)kind, k);
            fprintf(f, "void %s(const RtSynArgs *a, const RtSynEvent *e);\n", names[kind]);
        }
        fprintf(f, "static const RtPlasticDesc plastic_%d = {.nsynvars = %d, .synvars = synvars_%d, .per_pre = %d, "
                   ".syn_clock = %d, .ntraces_pre = %d, .traces_pre = traces_pre_%d, .ntraces_post = %d, "
                   ".traces_post = traces_post_%d, .npre_vars = %d, .pre_vars = pre_vars_%d, .nconsts = 0",
                k, pd->nsynvars, k, pd->per_pre, pd->syn_clock, pd->ntraces_pre, k, pd->ntraces_post, k,
                pd->npre_vars, k);
        for (int kind = 0; kind < 4; kind++) fprintf(f, ", %s = %s", fields[kind], names[kind]);
        fprintf(f, ", .every_s = %a, .accel = %a, .rule = ", pd->every_s, pd->accel);
        c_string(f, pd->rule);
        fputs("};\n", f);
    }
}

static void c_projs(FILE *f, const RtModelDesc *m, const Lowered *l) {
    static const char *rules[] = {"RT_CONN_ALL_TO_ALL", "RT_CONN_ONE_TO_ONE", "RT_CONN_PROBABILITY",
                                  "RT_CONN_FIXED_INDEGREE", "RT_CONN_FIXED_OUTDEGREE", "RT_CONN_FILE"};
    fputs("static const RtProjDesc projs[] = {\n", f);
    for (int k = 0; k < m->nprojs; k++) {
        const RtProjDesc *p = &m->projs[k];
        fputs("    {.name = ", f);
        c_string(f, p->name);
        fprintf(f, ", .pre = %d, .post = %d, .receptor = %d, .rule = %s, .p = %a, .degree = %lld, .file = ", p->pre,
                p->post, p->receptor, rules[p->rule], p->p, (long long)p->degree);
        c_string(f, p->file);
        fprintf(f, ", .autapses = %d, .weight = ", p->autapses);
        c_dist(f, p->weight);
        fputs(", .delay = ", f);
        c_dist(f, p->delay);
        for (int q = 0; q < l->nsyns; q++)
            if (p->plastic == &l->plastic[q]) fprintf(f, ", .plastic = &plastic_%d", q);
        fprintf(f, ", .gain_global = %d, .pre_begin = %lld, .pre_end = %lld, .post_begin = %lld, .post_end = %lld},\n",
                p->gain_global, (long long)p->pre_begin, (long long)p->pre_end, (long long)p->post_begin,
                (long long)p->post_end);
    }
    fputs("    {0}\n};\n", f);
}

static void c_inputs_recs_events(FILE *f, const RtModelDesc *m) {
    fputs("static const RtInputDesc inputs[] = {\n", f);
    for (int k = 0; k < m->ninputs; k++) {
        const RtInputDesc *in = &m->inputs[k];
        fputs("    {.name = ", f);
        c_string(f, in->name);
        fprintf(f, ", .kind = %s, .post = %d, .receptor = %d, .begin = %lld, .end = %lld, .n_sources = %lld, "
                   ".rate_hz = %a, .weight = %a, .start_s = %a, .stop_s = %a, .weight_dist = ",
                in->kind == RT_INPUT_POISSON ? "RT_INPUT_POISSON" : "RT_INPUT_CURRENT", in->post, in->receptor,
                (long long)in->begin, (long long)in->end, (long long)in->n_sources, in->rate_hz, in->weight,
                in->start_s, in->stop_s);
        c_dist(f, in->weight_dist);
        fputs(", .delay_dist = ", f);
        c_dist(f, in->delay_dist);
        fputs("},\n", f);
    }
    fputs("    {0}\n};\nstatic const RtRecDesc recs[] = {\n", f);
    static const char *rk[] = {"RT_REC_SPIKES", "RT_REC_STATE", "RT_REC_RATE", "RT_REC_BALANCE", "RT_REC_WEIGHTS",
                               "RT_REC_PROBE"};
    for (int k = 0; k < m->nrecs; k++) {
        const RtRecDesc *r = &m->recs[k];
        fprintf(f, "    {.kind = %s, .pop = %d, .var = %d, .begin = %lld, .end = %lld, .every = %lld, .file = ", rk[r->kind],
                r->pop, r->var, (long long)r->begin, (long long)r->end, (long long)r->every);
        c_string(f, r->file);
        fprintf(f, ", .var2 = %d, .proj = %d, .hop = %lld},\n", r->var2, r->proj, (long long)r->hop);
    }
    fputs("    {0}\n};\nstatic const RtEventDesc events[] = {\n", f);
    static const char *ek[] = {"RT_EV_SET_CONST",  "RT_EV_SET_INPUT_RATE", "RT_EV_SILENCE",    "RT_EV_SET_PROJ_CONST",
                               "RT_EV_UNSILENCE",  "RT_EV_LESION",         "RT_EV_SET_GLOBAL", "RT_EV_ADD_GLOBAL",
                               "RT_EV_SET_GAIN",   "RT_EV_SET_POP_RATE"};
    for (int k = 0; k < m->nevents; k++) {
        const RtEventDesc *e = &m->events[k];
        fprintf(f, "    {%a, %s, %d, %d, %a, %lld, %lld},\n", e->time_s, ek[e->kind], e->target, e->index, e->value,
                (long long)e->begin, (long long)e->end);
    }
    fputs("    {0}\n};\n", f);
    static const char *gk[] = {"RT_GLOBAL_LEVEL", "RT_GLOBAL_DECAY", "RT_GLOBAL_KERNEL"};
    fputs("static const RtGlobalDesc globals[] = {\n", f);
    for (int k = 0; k < m->nglobals; k++) {
        const RtGlobalDesc *g = &m->globals[k];
        fputs("    {", f);
        c_string(f, g->name);
        fputs(", ", f);
        c_string(f, g->unit);
        fprintf(f, ", %s, %a, %a, %a},\n", gk[g->kind], g->init, g->tau, g->baseline);
    }
    fputs("    {0}\n};\n", f);
}

static const char main_template[] =
    "int main(int argc, char **argv) {\n"
    "    double t0 = rt_cli_now();\n"
    "    RtCliOptions o;\n"
    "    rt_cli_options_init(&o);\n"
    "    for (int i = 1; i < argc; i++) {\n"
    "        if (!strcmp(argv[i], \"-h\") || !strcmp(argv[i], \"--help\")) {\n"
    "            printf(\"usage: %%s [options]\\nruns the model %%s (built by eic %%s)\\n\\n\", argv[0], MODEL_FILE, EIC_BUILT_BY);\n"
    "            fputs(rt_cli_options_help, stdout);\n"
    "            return 0;\n"
    "        }\n"
    "        int r = rt_cli_parse_option(&o, argc, argv, &i);\n"
    "        if (r < 0) return RT_CLI_EXIT_USAGE;\n"
    "        if (r == 0) {\n"
    "            fprintf(stderr, \"eic: error: unknown option '%%s' (run '%%s --help' for usage)\\n\", argv[i], argv[0]);\n"
    "            return RT_CLI_EXIT_USAGE;\n"
    "        }\n"
    "    }\n"
    "    RtTimings tm = {0};\n"
    "    return rt_cli_simulate(&model, &o, MODEL_FILE, DEFAULT_OUT, &tm, t0);\n"
    "}\n";

static void write_model_c(FILE *f, const Lowered *l, const char *model_file, const char *default_out) {
    const RtModelDesc *m = &l->desc;
    fputs("/* generated by eic build: the model descriptor of ", f);
    fputs(model_file, f);
    fputs(" */\n#include <stdio.h>\n#include <string.h>\n#include \"rt_abi.h\"\n#include \"rt_cli.h\"\n\n", f);
    fputs("#define MODEL_FILE ", f);
    c_string(f, model_file);
    fputs("\n#define DEFAULT_OUT ", f);
    c_string(f, default_out);
    fprintf(f, "\n#define EIC_BUILT_BY \"%s\"\n\n", EIC_VERSION);
    c_pops(f, l);
    c_plastic(f, l);
    c_projs(f, m, l);
    c_inputs_recs_events(f, m);
    if (l->globals_mir)   /* the modulators' kernel, in kernels.o ([S-net-10]) */
        fputs("void " CG_GLOBALS_NAME "(const RtGlobalsArgs *a);\n\n", f);
    fputs("static const RtModelDesc model = {.abi_version = RT_ABI_VERSION, .name = ", f);
    c_string(f, m->name);
    fprintf(f, ", .dt = %a, .duration_s = %a, .seed = %lluULL,\n    .npops = %d, .pops = pops, .nprojs = %d, .projs = projs, "
               ".ninputs = %d, .inputs = inputs, .nrecs = %d, .recs = recs, .nevents = %d, .events = events,\n"
               "    .nglobals = %d, .globals = globals, .globals_update = %s};\n\n",
            m->dt, m->duration_s, (unsigned long long)m->seed, m->npops, m->nprojs, m->ninputs, m->nrecs, m->nevents,
            m->nglobals, l->globals_mir ? CG_GLOBALS_NAME : "NULL");
    fprintf(f, main_template);
}

/* Runs `argv` and waits; returns its exit status or -1. */
static int run_command(char *const argv[]) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        execvp(argv[0], argv);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) < 0) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int build_error(const char *what, const char *detail) {
    fprintf(stderr, "eic: error: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    return EXIT_RUNTIME;
}

/* Emits the kernels and the descriptor into `dir` and links `exe`. */
static int link_executable(const Lowered *l, const char *dir, const char *exe, const char *model_file,
                           const char *default_out) {
    char obj[4096], src[4096], err[1024] = "";
    snprintf(obj, sizeof obj, "%s/kernels.o", dir);
    snprintf(src, sizeof src, "%s/model.c", dir);
    CgTarget t;
    LLVMContextRef cx = LLVMContextCreate();
    LLVMModuleRef m = NULL;
    int rc = cg_target_host(&t, err, sizeof err) || !(m = cg_emit_model(cx, &t, &l->mir, err, sizeof err)) ||
             cg_syn_emit_all(m, &t, l->syns, l->nsyns, err, sizeof err) ||
             (l->globals_mir && cg_globals_emit(m, &t, l->globals_mir, l->global_of, err, sizeof err)) ||
             cg_optimize(m, &t, err, sizeof err) || cg_emit_object_file(m, &t, obj, err, sizeof err);
    if (m) LLVMDisposeModule(m);
    LLVMContextDispose(cx);
    if (rc) return build_error("code generation failed", err);
    FILE *f = fopen(src, "w");
    if (!f) return build_error("cannot write", src);
    write_model_c(f, l, model_file, default_out);
    if (fclose(f)) return build_error("cannot write", src);
    const char *cc = getenv("CC") ? getenv("CC") : "cc";
    char *argv[] = {(char *)cc, EIC_AOT_LINK_FLAG, "-I" EIC_RT_INCLUDE_DIR, "-DEIC_VERSION=\"" EIC_VERSION "\"", src, obj,
                    EIC_RT_LIBRARY, "-lm", "-lpthread", "-o", (char *)exe, NULL};
    int st = run_command(argv);
    if (st != 0) return build_error("linking the executable failed", st < 0 ? strerror(errno) : cc);
    return 0;
}

int driver_build(const DriverOptions *o) {
    if (!o->run.output) {
        fputs("eic: error: 'build' needs an output file: eic build FILE -o EXE\n", stderr);
        return EXIT_USAGE;
    }
    Session s;
    driver_open_session(&s, o);
    int rc = driver_load(&s, o);
    if (rc) return driver_finish(&s, rc);
    Program *p = sema_check(&s);
    Lowered *l = p ? lower_program(p) : NULL;
    if (!l || !lower_plan_odes(p, l)) return driver_finish(&s, EXIT_MODEL_ERROR);
    char dir[] = "/tmp/eic-build-XXXXXX";
    if (!mkdtemp(dir)) return driver_finish(&s, build_error("cannot create a temporary directory", strerror(errno)));
    char tmp_exe[4096];
    snprintf(tmp_exe, sizeof tmp_exe, "%s.tmp.%d", o->run.output, (int)getpid());
    int code = link_executable(l, dir, tmp_exe, o->file, driver_default_out_dir(&s.arena, o->file));
    if (code == 0 && rename(tmp_exe, o->run.output) != 0) code = build_error("cannot write", o->run.output);
    if (code) unlink(tmp_exe);
    char path[4200];
    snprintf(path, sizeof path, "%s/kernels.o", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/model.c", dir);
    unlink(path);
    rmdir(dir);
    return driver_finish(&s, code);
}
