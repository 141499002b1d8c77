/* units.h - physical dimensions and unit names.
 *
 * sema resolves every unit written in a model (`200 pF`, `1 mV/ms`) to a scale
 * factor to SI and a Dim, checks that operands agree, and reports dimensions
 * back to the user in units a neuroscientist writes ("V/s", "S", "1/s").
 * This module knows nothing of the AST or of LLVM; it only uses lang/arena.h.
 *
 * Representation of a dimension: the exponents of the 7 SI base dimensions
 * (m, kg, s, A, K, mol, cd), each a rational num/den kept reduced with den > 0,
 * so that sqrt(mV) (exponents 1/2) and x^(1/3) are exact. A zeroed Dim is the
 * dimensionless one: a den of 0 is read as 1 (every operation writes den >= 1).
 * Exponents are bounded by UNIT_EXP_LIMIT in numerator and denominator; an
 * operation whose result would exceed it (x^1000000000) sets `overflow`, which
 * is sticky, and such a Dim is equal to nothing and not dimensionless. */
#ifndef EIC_UNITS_H
#define EIC_UNITS_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"

/* Base dimensions, in the order of Dim.e. */
typedef enum UnitBase { UNIT_M, UNIT_KG, UNIT_S, UNIT_A, UNIT_K, UNIT_MOL, UNIT_CD, UNIT_NBASE } UnitBase;

#define UNIT_EXP_LIMIT 1000000

typedef struct UnitExp {
    int32_t num;   /* reduced numerator */
    int32_t den;   /* > 0 after any operation; 0 in a zeroed Dim means 1 */
} UnitExp;

typedef struct Dim {
    UnitExp e[UNIT_NBASE];  /* indexed by UnitBase */
    bool overflow;          /* an exponent left [-UNIT_EXP_LIMIT, UNIT_EXP_LIMIT] */
} Dim;

/* Dimension with integer exponents (m, kg, s, A, K, mol, cd). */
Dim unit_dim_make(int m, int kg, int s, int a, int k, int mol, int cd);
Dim unit_dim_none(void);                       /* dimensionless */
Dim unit_dim_mul(Dim a, Dim b);                /* a*b: exponents add */
Dim unit_dim_div(Dim a, Dim b);                /* a/b: exponents subtract */
/* a^(num/den): exponents scale by num/den. den must not be 0 (then the
 * result has overflow set). */
Dim unit_dim_pow(Dim a, int64_t num, int64_t den);
bool unit_dim_equal(Dim a, Dim b);
bool unit_dim_is_dimensionless(Dim a);

/* Resolves a unit name: an optional SI prefix (q r y z a f p n u µ m c d da h
 * k M G T P E Z Y R Q) and a base unit (m g s A K mol cd V S F Ω ohm Hz C W J N
 * Pa L M), or one of the unprefixable `min` and `1`. An exact base name wins
 * over prefix + base (`M` is molar, `m` metre, `Ms` megasecond). On success
 * stores the factor from the unit to SI (1 mV -> 1e-3) and the dimension, and
 * returns true; otherwise returns false and leaves the outputs alone. */
bool unit_lookup(const char *name, double *scale_to_si, Dim *dim);

/* The known unit spelling closest to `unknown`, or NULL when nothing is close:
 * a case-insensitive match first ("mv" -> "mV"), else the nearest spelling
 * within one edit for names of 2-3 bytes and two edits for longer ones (a
 * swap of neighbours or a change of case counts half). One-byte names only get
 * case fixes. Returns a static string. */
const char *unit_suggest(const char *unknown);

/* A name for the dimension `d` in units a neuroscientist writes: "V", "S",
 * "V/s", "1/s", "S*V", "V^2", "V^(1/2)", "mM" for mol/m^3, "dimensionless",
 * and as a last resort base units ("kg*m^2/(s^3*A)"). Allocated in `a`. */
char *unit_format_dim(Arena *a, Dim d);

/* Formats an SI value with its dimension: in `preferred` when it names a unit
 * of dimension `d` ("-60 mV" for -0.06 V and "mV"), otherwise with an
 * engineering prefix chosen for the value ("20 ms", "3 nS", "5 Hz" for 1/s,
 * "2 uM"; times get no prefix above s). Prefix micro is written `u`, as the
 * source must spell it. Allocated in `a`. */
char *unit_format_value(Arena *a, double si_value, Dim d, const char *preferred);

#endif
