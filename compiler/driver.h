/* driver.h - the eic commands (check, dump-ast, run, build, emit-llvm).
 *
 * Each command takes the parsed command line and returns the process exit
 * code: 0 success, 1 model errors, 2 usage errors, 3 runtime failure. */
#ifndef EIC_DRIVER_H
#define EIC_DRIVER_H

#include <stdbool.h>

enum { EXIT_MODEL_ERROR = 1, EXIT_USAGE = 2, EXIT_RUNTIME = 3 };

#define DRIVER_MAX_DEFINES 64

typedef struct DriverOptions {
    const char *command;
    const char *file;
    const char *output;        /* -o */
    const char *includes[32];  /* -I */
    int nincludes;
    bool explain;              /* check --explain */
    bool quiet, progress;
    long long seed;  bool has_seed;
    int threads;               /* 0: all cores */
    const char *duration;      /* --duration text, parsed as a quantity */
    const char *defines[DRIVER_MAX_DEFINES]; /* -D name=value */
    int ndefines;
} DriverOptions;

int driver_check(const DriverOptions *o);
int driver_dump_ast(const DriverOptions *o);

#endif
