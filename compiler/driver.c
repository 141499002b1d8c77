/* driver.c - the eic commands; the passes run in the order listed here. */
#include "driver.h"

#include <stdlib.h>
#include <unistd.h>

#include "frontend.h"
#include "lower.h"
#include "sema.h"

void driver_open_session(Session *s, const DriverOptions *o) {
    front_init(s, stderr);
    s->diags.color = isatty(2) && !getenv("NO_COLOR");
    for (int i = 0; i < o->nincludes; i++) front_add_search(s, o->includes[i]);
    front_add_search_list(s, getenv("EIC_PATH"));
}

int driver_finish(Session *s, int code) {
    diag_flush(&s->diags);
    if (s->diags.nerrors) code = EXIT_MODEL_ERROR;
    front_free(s);
    return code;
}

int driver_load(Session *s, const DriverOptions *o) {
    if (!front_load(s, o->file)) return EXIT_MODEL_ERROR;
    return driver_apply_defines(s, o) ? EXIT_USAGE : 0;
}

int driver_check(const DriverOptions *o) {
    Session s;
    driver_open_session(&s, o);
    int rc = driver_load(&s, o);
    if (rc) return driver_finish(&s, rc);
    Program *p = sema_check(&s);
    if (p) lower_check_types(p);
    int code = driver_finish(&s, 0);
    if (p && o->explain) return driver_explain(o);
    return code;
}

int driver_dump_ast(const DriverOptions *o) {
    Session s;
    driver_open_session(&s, o);
    front_load(&s, o->file);
    for (int i = 0; i < s.nfiles; i++) ast_dump(stdout, &s.src, s.files[i]);
    return driver_finish(&s, 0);
}
