/* rt_cli.h - the command-line shell around a simulation, shared by `eic run`
 * and the executables `eic build` makes, so both accept the same run options
 * and print, record and fail identically.
 *
 * This is the one part of libeicrt that prints (progress and the summary on
 * the terminal); the simulation itself (rt_sim_*) never does. */
#ifndef EIC_RT_CLI_H
#define EIC_RT_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "rt_abi.h"

enum { RT_CLI_EXIT_RUNTIME = 3, RT_CLI_EXIT_USAGE = 2 };

typedef struct RtCliOptions {
    const char *output;        /* -o DIR; NULL: out/<model name> */
    uint64_t seed;  bool has_seed;
    int threads;               /* 0: all cores */
    double duration_s;         /* < 0: the model's */
    bool quiet, progress;
} RtCliOptions;

void rt_cli_options_init(RtCliOptions *o);

/* If argv[*i] is a run option (-o, --seed, --threads, --duration, --quiet,
 * --progress), consumes it (and its value), stores it and returns 1; returns
 * 0 if it is not one; returns -1 after printing a usage error for a bad value. */
int rt_cli_parse_option(RtCliOptions *o, int argc, char **argv, int *i);

/* Help text lines for the run options. */
extern const char rt_cli_options_help[];

/* Builds, runs and finishes the simulation of `m`: progress on stderr (for
 * runs over a second, when stderr is a terminal or --progress), Ctrl-C stops
 * the run and leaves complete files and an incomplete manifest, then prints
 * the summary. `timings` holds what the caller measured (parse, compile);
 * build, simulate and total are added here (total from `t0`, a
 * rt_cli_now() taken when the process started its work). Returns the exit
 * code: 0, or 3 on a runtime failure (message on stderr). */
int rt_cli_simulate(const RtModelDesc *m, const RtCliOptions *o, const char *model_file,
                    const char *default_out, RtTimings *timings, double t0);

/* Monotonic clock in seconds. */
double rt_cli_now(void);

#endif
