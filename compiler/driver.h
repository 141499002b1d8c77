/* driver.h - the eic commands (check, dump-ast, run, build, emit-llvm).
 *
 * Each command takes the parsed command line and returns the process exit
 * code: 0 success, 1 model errors, 2 usage errors, 3 runtime failure. */
#ifndef EIC_DRIVER_H
#define EIC_DRIVER_H

#include <stdbool.h>

#include "rt_cli.h"

enum { EXIT_MODEL_ERROR = 1, EXIT_USAGE = 2, EXIT_RUNTIME = 3 };

#define DRIVER_MAX_DEFINES 64

typedef struct DriverOptions {
    const char *command;
    const char *file;
    const char *includes[32];  /* -I */
    int nincludes;
    bool explain;              /* check --explain */
    RtCliOptions run;          /* run options (-o, --seed, --threads, ...), shared with AOT executables */
    const char *defines[DRIVER_MAX_DEFINES]; /* -D name=value */
    int ndefines;
} DriverOptions;

typedef struct Session Session;

/* A session with the options' search path; diagnostics go to stderr. */
void driver_open_session(Session *s, const DriverOptions *o);
/* Flushes diagnostics, frees the session; returns `code`, or 1 if there were errors. */
int driver_finish(Session *s, int code);
/* "out/<file name without .ei>", allocated in `a`. */
struct Arena;
const char *driver_default_out_dir(struct Arena *a, const char *file);

/* Applies the -D defines to the loaded syntax trees (defines.c). Returns -1
 * after printing a usage error. */
int driver_apply_defines(Session *s, const DriverOptions *o);
/* Loads the model file and applies defines: EXIT_MODEL_ERROR, EXIT_USAGE or 0. */
int driver_load(Session *s, const DriverOptions *o);

int driver_check(const DriverOptions *o);
int driver_run(const DriverOptions *o);
int driver_emit_llvm(const DriverOptions *o);
/* eic build FILE -o EXE: an executable that runs the model like eic run. */
int driver_build(const DriverOptions *o);
/* check --explain: the integration scheme of every ODE of the simulated network. */
int driver_explain(const DriverOptions *o);
int driver_dump_ast(const DriverOptions *o);

#endif
