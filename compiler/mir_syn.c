/* mir_syn.c - reference interpreter and printer of synapse kernels (mir_syn.h).
 *
 * The interpreter defines what the kernels emitted by cg_syn.c compute for
 * one synapse: the variable table is a plain array, so each block runs with
 * mir_exec() exactly as a neuron's statements do. Tests drive it with the
 * event sequence of a spike train and compare with closed-form results. */
#include "mir_syn.h"

#include "mir_eval.h"

void mir_syn_exec(const MirSyn *s, const MirBlock *b, MirSynEnv *env) {
    MirEnv e = {.states = env->vars, .temps = env->temps, .t = env->t, .dt = env->dt};
    (void)s;
    mir_exec(b, &e);
}

double mir_syn_pre_event(const MirSyn *s, MirSynEnv *env, double elapsed) {
    env->vars[s->elapsed_slot] = elapsed;
    mir_syn_exec(s, &s->decay, env);
    mir_syn_exec(s, &s->on_pre, env);
    return env->vars[s->deliver_slot];
}

int mir_syn_trace_side_index(const MirSyn *s, int k) {
    int n = 0;
    for (int i = 0; i < k; i++) n += s->traces[i].post == s->traces[k].post;
    return n;
}

int mir_syn_pre_var_index(const MirSyn *s, int slot) {
    int n = 0;
    for (int i = 0; i < slot; i++) n += s->vars[i].kind == MSV_PRE_STATE;
    return n;
}

static const char *var_kind_name(MirSynVarKind k) {
    static const char *names[] = {"weight", "synapse", "pre trace", "post trace", "post state", "pre state",
                                  "elapsed", "deliver"};
    return names[k];
}

void mir_syn_dump(FILE *f, const MirSyn *s) {
    fprintf(f, "projection %s (synapse %s, rule %s)\n", s->name, s->synapse ? s->synapse : "-",
            s->rule ? s->rule : "-");
    for (int i = 0; i < s->nvars; i++)
        fprintf(f, "  var %d %s [%s] %s index %d init %g\n", i, s->vars[i].name, s->vars[i].unit,
                var_kind_name(s->vars[i].kind), s->vars[i].index, s->vars[i].init.a);
    for (int i = 0; i < s->ntraces; i++)
        fprintf(f, "  trace %s of %s tau %g %s %g\n", s->traces[i].name, s->traces[i].post ? "post" : "pre",
                s->traces[i].tau, s->traces[i].set ? "=" : "+=", s->traces[i].inc);
    const struct { const char *name; const MirBlock *b; } blocks[] = {
        {"decay", &s->decay}, {"on pre", &s->on_pre}, {"on post", &s->on_post}, {"every", &s->every}};
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
        fprintf(f, "  %s:\n", blocks[i].name);
        mir_dump_block(f, &s->shape, blocks[i].b, 2);
    }
}
