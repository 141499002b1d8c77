/* main.c - the eic command line: parses arguments and dispatches to driver.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

static void usage(FILE *out) {
    fputs("usage: eic COMMAND [options] FILE\n"
          "\n"
          "commands:\n"
          "  check FILE        check a model file and report every error\n"
          "  dump-ast FILE     print the syntax tree of a model file\n"
          "  run FILE          compile, simulate and record the model's 'simulate'\n"
          "  build FILE -o EXE an executable that runs the model (same options and outputs as run)\n"
          "  emit-llvm FILE    print the optimized LLVM IR of the model's kernels\n"
          "\n"
          "options:\n"
          "  -I DIR            add DIR to the import search path (also: EIC_PATH=dir1:dir2)\n"
          "  -D NAME=VALUE     override a population's parameter or initial value, or an input's rate,\n"
          "                    with units checked: -D E.tau_m=10ms, -D E.AMPA.tau=3ms, -D drive.rate=20Hz\n"
          "  --explain         (check) show the integration scheme chosen per equation\n"

          "  -h, --help        show this help\n"
          "  --version         show the eic version\n"
          "\n"
          "run options (also accepted by executables made with 'eic build'):\n",
          out);
    fputs(rt_cli_options_help, out);
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("eic: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n(run 'eic --help' for usage)\n", stderr);
    return EXIT_USAGE;
}

/* Returns the value of an option that takes one (`-I DIR` or `-IDIR`), or NULL. */
static const char *option_value(int argc, char **argv, int *i, const char *name) {
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0) return NULL;
    if (argv[*i][n] == '\0') return *i + 1 < argc ? argv[++*i] : "";
    if (argv[*i][n] == '=') return argv[*i] + n + 1;
    if (name[1] != '-') return argv[*i] + n; /* short option glued to its value */
    return NULL;
}

int main(int argc, char **argv) {
    DriverOptions o = {0};
    rt_cli_options_init(&o.run);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int r = rt_cli_parse_option(&o.run, argc, argv, &i);
        if (r < 0) return EXIT_USAGE;
        if (r > 0) continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--version")) {
            printf("eic %s\n", EIC_VERSION);
            return 0;
        } else if (!strcmp(a, "--explain")) {
            o.explain = true;
        } else if ((v = option_value(argc, argv, &i, "-D"))) {
            if (!*v) return usage_error("option '%s' needs name=value", "-D");
            if (o.ndefines == DRIVER_MAX_DEFINES) return usage_error("too many '%s' options", "-D");
            o.defines[o.ndefines++] = v;
        } else if ((v = option_value(argc, argv, &i, "-I"))) {
            if (!*v) return usage_error("option '%s' needs a directory", "-I");
            if (o.nincludes == 32) return usage_error("too many '%s' options", "-I");
            o.includes[o.nincludes++] = v;
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error("unknown option '%s'", a);
        } else if (!o.command) {
            o.command = a;
        } else if (!o.file) {
            o.file = a;
        } else {
            return usage_error("unexpected argument '%s'", a);
        }
    }
    if (!o.command) {
        usage(stderr);
        return EXIT_USAGE;
    }
    int (*run)(const DriverOptions *) = NULL;
    if (!strcmp(o.command, "check")) run = driver_check;
    else if (!strcmp(o.command, "dump-ast")) run = driver_dump_ast;
    else if (!strcmp(o.command, "run")) run = driver_run;
    else if (!strcmp(o.command, "emit-llvm")) run = driver_emit_llvm;
    else if (!strcmp(o.command, "build")) run = driver_build;
    else return usage_error("unknown command '%s'", o.command);
    if (!o.file) return usage_error("'%s' needs a model file", o.command);
    return run(&o);
}
