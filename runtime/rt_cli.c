/* rt_cli.c - the command-line shell around a simulation; see rt_cli.h. */
#include "rt_cli.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char rt_cli_options_help[] =
    "  -o DIR            output directory (default: out/<model name>)\n"
    "  --seed N          random seed (default: the model's)\n"
    "  --threads N       worker threads (default: by network size and idle cores); results do not depend on it\n"
    "  --duration T      simulated time with a unit: 500ms, 2s (default: the model's)\n"
    "  --quiet           print nothing but errors\n"
    "  --progress        show progress even when stderr is not a terminal\n";

void rt_cli_options_init(RtCliOptions *o) {
    memset(o, 0, sizeof *o);
    o->duration_s = -1;
}

double rt_cli_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int bad_value(const char *opt, const char *v, const char *want) {
    fprintf(stderr, "eic: error: invalid value '%s' for %s (%s)\n", v, opt, want);
    return -1;
}

/* The value of option `name` at argv[*i] (`--x V`, `--x=V`, `-oV`), or NULL. */
static const char *value_of(int argc, char **argv, int *i, const char *name) {
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0) return NULL;
    if (a[n] == '\0') return *i + 1 < argc ? argv[++*i] : "";
    if (a[n] == '=') return a + n + 1;
    if (name[1] != '-') return a + n;
    return NULL;
}

static bool parse_uint(const char *v, unsigned long long max, unsigned long long *out) {
    char *end;
    if (!*v || *v == '-' || *v == '+') return false;
    unsigned long long n = strtoull(v, &end, 10);
    if (*end || n > max) return false;
    *out = n;
    return true;
}

/* "500ms", "2 s", "1.5s", "20us", "1min": seconds, or < 0 if malformed. */
static double parse_time(const char *v) {
    char *end;
    double x = strtod(v, &end);
    if (end == v) return -1;
    while (*end == ' ') end++;
    static const struct { const char *u; double s; } units[] = {
        {"s", 1}, {"ms", 1e-3}, {"us", 1e-6}, {"min", 60}};
    for (size_t k = 0; k < sizeof units / sizeof units[0]; k++)
        if (!strcmp(end, units[k].u)) return x > 0 && x < 1e12 ? x * units[k].s : -1;
    return -1;
}

int rt_cli_parse_option(RtCliOptions *o, int argc, char **argv, int *i) {
    const char *a = argv[*i], *v;
    unsigned long long n;
    if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) o->quiet = true;
    else if (!strcmp(a, "--progress")) o->progress = true;
    else if ((v = value_of(argc, argv, i, "-o"))) {
        if (!*v) return bad_value("-o", v, "a directory");
        o->output = v;
    } else if ((v = value_of(argc, argv, i, "--seed"))) {
        if (!parse_uint(v, UINT64_MAX, &n)) return bad_value("--seed", v, "a non-negative integer");
        o->seed = n;
        o->has_seed = true;
    } else if ((v = value_of(argc, argv, i, "--threads"))) {
        if (!parse_uint(v, 1024, &n) || n < 1) return bad_value("--threads", v, "1 to 1024");
        o->threads = (int)n;
    } else if ((v = value_of(argc, argv, i, "--duration"))) {
        if ((o->duration_s = parse_time(v)) <= 0) return bad_value("--duration", v, "a time such as 500ms or 2s");
    } else return 0;
    return 1;
}

static volatile int interrupted;
static void on_signal(int sig) {
    (void)sig;
    interrupted = 1;
}

typedef struct Progress {
    double start, dt;
    bool show, shown;
} Progress;

/* Simulated time, real-time factor and ETA on one line, once a run has
 * taken more than a second. */
static void report_progress(void *ctx, RtStep done, RtStep total) {
    Progress *p = ctx;
    double el = rt_cli_now() - p->start;
    if (!p->show || el < 1.0 || done <= 0) return;
    double sim = (double)done * p->dt;
    fprintf(stderr, "\r[eic] %.3f / %.3f s simulated (%3.0f%%), %.2fx real time, ETA %.1f s   ", sim,
            (double)total * p->dt, 100.0 * (double)done / (double)total, el / sim,
            el * (double)(total - done) / (double)done);
    p->shown = true;
}

static void print_summary(RtSim *sim, const RtModelDesc *m, const RtTimings *tm, const char *out_dir) {
    double dur = (double)rt_sim_now(sim) * m->dt;
    printf("%-12s %10s %10s %10s\n", "population", "size", "spikes", "rate (Hz)");
    for (int i = 0; i < m->npops; i++) {
        int64_t n = rt_sim_spike_count(sim, i);
        printf("%-12s %10lld %10lld %10.2f\n", m->pops[i].name, (long long)m->pops[i].size, (long long)n,
               dur > 0 ? (double)n / ((double)m->pops[i].size * dur) : 0.0);
    }
    int nt = rt_sim_threads(sim);
    printf("time: parse %.3f s, compile %.3f s, build %.3f s, simulate %.3f s, total %.3f s (%d thread%s)\n",
           tm->parse_s, tm->compile_s, tm->build_s, tm->simulate_s, tm->total_s, nt, nt == 1 ? "" : "s");
    if (out_dir) printf("results: %s/manifest.json\n", out_dir);
}

static int failure(const RtError *e) {
    fprintf(stderr, "eic: runtime error: %s\n", e->msg);
    return RT_CLI_EXIT_RUNTIME;
}

int rt_cli_simulate(const RtModelDesc *m, const RtCliOptions *o, const char *model_file,
                    const char *default_out, RtTimings *tm, double t0) {
    RtRunOptions ro;
    rt_run_options_init(&ro);
    const char *out_dir = o->output ? o->output : default_out;
    ro.seed = o->has_seed ? o->seed : m->seed;
    ro.threads = o->threads;
    ro.duration_s = o->duration_s;
    ro.out_dir = out_dir;
    ro.model_file = model_file;
    ro.eic_version = EIC_VERSION;
    ro.interrupt = &interrupted;
    ro.check_every = 100; /* NaN/inf found within 100 steps; checking every step costs ~2x */
    Progress pr = {.dt = m->dt, .show = !o->quiet && (o->progress || isatty(2))};
    ro.progress = report_progress;
    ro.progress_ctx = &pr;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    RtError err = {0}, ferr = {0};
    double t1 = rt_cli_now();
    RtSim *sim = rt_sim_create(m, &ro, &err);
    if (!sim) return failure(&err);
    double t2 = rt_cli_now();
    tm->build_s = t2 - t1;
    pr.start = t2;
    RtErrorCode rc = rt_sim_run(sim, -1, &err);
    if (pr.shown) fputc('\n', stderr);
    tm->simulate_s = rt_cli_now() - t2;
    tm->total_s = rt_cli_now() - t0;
    RtErrorCode frc = rt_sim_finish(sim, tm, &ferr);
    if (!o->quiet) print_summary(sim, m, tm, out_dir);
    rt_sim_free(sim);
    if (rc != RT_OK) return failure(&err);
    if (frc != RT_OK) return failure(&ferr);
    return 0;
}
