/* sema.h - semantic analysis: names, types, physical units and model rules.
 *
 * sema_check() runs over every file a Session loaded and reports all errors
 * of the phase. On success it returns the checked Program: the global
 * declarations with their resolved symbols, parameters folded to SI
 * constants, and per network the populations and connections that lowering
 * (lower.c) turns into MIR. */
#ifndef EIC_SEMA_H
#define EIC_SEMA_H

#include <stdio.h>

#include "frontend.h"

typedef struct Program Program;

/* Returns NULL when errors were reported. The Program lives in s->arena. */
Program *sema_check(Session *s);

#endif
