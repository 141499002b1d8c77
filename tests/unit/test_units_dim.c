/* test_units_dim.c - Check suite for compiler/units.c: dimension algebra,
 * unit lookup with SI prefixes, typo suggestions and formatting, on the
 * numbers a neuron model uses (200 pF / 10 nS = 20 ms, nS*mV = pA). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "units.h"

/* Relative comparison: scales are products of powers of ten. */
static int close_rel(double a, double b) { return fabs(a - b) <= 1e-12 * fabs(b); }

static Dim dim_of(const char *unit) {
    double s;
    Dim d;
    ck_assert_msg(unit_lookup(unit, &s, &d), "unit '%s' not found", unit);
    return d;
}

static double scale_of(const char *unit) {
    double s;
    Dim d;
    ck_assert_msg(unit_lookup(unit, &s, &d), "unit '%s' not found", unit);
    return s;
}

START_TEST(test_every_prefix) {
    static const struct { const char *p; int e; } pfx[] = {
        {"q", -30}, {"r", -27}, {"y", -24}, {"z", -21}, {"a", -18}, {"f", -15}, {"p", -12},
        {"n", -9},  {"u", -6},  {"\xc2\xb5", -6}, {"m", -3}, {"c", -2}, {"d", -1}, {"da", 1},
        {"h", 2},   {"k", 3},   {"M", 6},   {"G", 9},   {"T", 12},  {"P", 15},  {"E", 18},
        {"Z", 21},  {"Y", 24},  {"R", 27},  {"Q", 30},
    };
    for (size_t i = 0; i < sizeof pfx / sizeof pfx[0]; i++) {
        char name[16];
        snprintf(name, sizeof name, "%sV", pfx[i].p);
        ck_assert_msg(close_rel(scale_of(name), pow(10, pfx[i].e)), "%s: %g", name, scale_of(name));
        ck_assert(unit_dim_equal(dim_of(name), unit_dim_make(2, 1, -3, -1, 0, 0, 0)));
        snprintf(name, sizeof name, "%sS", pfx[i].p);
        ck_assert_msg(close_rel(scale_of(name), pow(10, pfx[i].e)), "%s", name);
    }
}
END_TEST

START_TEST(test_base_units) {
    ck_assert(unit_dim_equal(dim_of("S"), unit_dim_make(-2, -1, 3, 2, 0, 0, 0)));
    ck_assert(unit_dim_equal(dim_of("F"), unit_dim_make(-2, -1, 4, 2, 0, 0, 0)));
    ck_assert(unit_dim_equal(dim_of("\xce\xa9"), dim_of("ohm")));
    ck_assert(unit_dim_equal(dim_of("Hz"), unit_dim_make(0, 0, -1, 0, 0, 0, 0)));
    ck_assert(unit_dim_equal(dim_of("C"), unit_dim_mul(dim_of("A"), dim_of("s"))));
    ck_assert(unit_dim_equal(dim_of("W"), unit_dim_mul(dim_of("V"), dim_of("A"))));
    ck_assert(unit_dim_equal(dim_of("J"), unit_dim_mul(dim_of("W"), dim_of("s"))));
    ck_assert(unit_dim_equal(dim_of("N"), unit_dim_div(dim_of("J"), dim_of("m"))));
    ck_assert(unit_dim_equal(dim_of("Pa"), unit_dim_div(dim_of("N"), unit_dim_pow(dim_of("m"), 2, 1))));
    ck_assert(close_rel(scale_of("L"), 1e-3));
    ck_assert(unit_dim_equal(dim_of("L"), unit_dim_pow(dim_of("m"), 3, 1)));
    ck_assert(close_rel(scale_of("min"), 60));
    ck_assert(close_rel(scale_of("g"), 1e-3));
    ck_assert(scale_of("kg") == 1.0); /* k + g, exactly SI */
    ck_assert(unit_dim_equal(dim_of("kg"), unit_dim_make(0, 1, 0, 0, 0, 0, 0)));
    ck_assert(scale_of("1") == 1.0);
    ck_assert(unit_dim_is_dimensionless(dim_of("1")));
    ck_assert(unit_dim_equal(dim_of("K"), unit_dim_make(0, 0, 0, 0, 1, 0, 0)));
    ck_assert(unit_dim_equal(dim_of("cd"), unit_dim_make(0, 0, 0, 0, 0, 0, 1)));
}
END_TEST

/* Exact base names win over prefix + base. */
START_TEST(test_resolution_rule) {
    ck_assert(unit_dim_equal(dim_of("M"), unit_dim_make(-3, 0, 0, 0, 0, 1, 0)));
    ck_assert(close_rel(scale_of("M"), 1e3));                   /* mol/L */
    ck_assert(scale_of("mM") == 1.0);                           /* mM = mol/m^3 */
    ck_assert(unit_dim_equal(dim_of("mM"), unit_dim_make(-3, 0, 0, 0, 0, 1, 0)));
    ck_assert(close_rel(scale_of("uM"), 1e-3));
    ck_assert(close_rel(scale_of("M\xce\xa9"), 1e6));
    ck_assert(unit_dim_equal(dim_of("M\xce\xa9"), dim_of("ohm")));
    ck_assert(close_rel(scale_of("kohm"), 1e3));
    ck_assert(unit_dim_equal(dim_of("m"), unit_dim_make(1, 0, 0, 0, 0, 0, 0)));
    ck_assert(close_rel(scale_of("mm"), 1e-3));
    ck_assert(unit_dim_equal(dim_of("mm"), dim_of("m")));
    ck_assert(close_rel(scale_of("ms"), 1e-3));
    ck_assert(close_rel(scale_of("Ms"), 1e6));
    ck_assert(unit_dim_equal(dim_of("Ms"), dim_of("s")));
    ck_assert(close_rel(scale_of("mol"), 1));                   /* not m + "ol" */
    ck_assert(close_rel(scale_of("mmol"), 1e-3));
    ck_assert(close_rel(scale_of("cd"), 1));                    /* candela, not c + d */
    ck_assert(close_rel(scale_of("dam"), 10));
    ck_assert(close_rel(scale_of("hPa"), 100));
    ck_assert(close_rel(scale_of("mL"), 1e-6));
}
END_TEST

START_TEST(test_unknown_units) {
    double s = 7;
    Dim d = unit_dim_make(1, 0, 0, 0, 0, 0, 0);
    static const char *bad[] = {"", "mv", "x", "kmin", "k1", "kk", "da", "msec", "Volt", "k", "mmm", "h", "mΩx"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!unit_lookup(bad[i], &s, &d), "'%s' resolved", bad[i]);
    ck_assert(s == 7); /* outputs untouched */
    ck_assert(unit_dim_equal(d, dim_of("m")));
}
END_TEST

START_TEST(test_real_arithmetic) {
    /* nS * mV = pA */
    Dim cur = unit_dim_mul(dim_of("nS"), dim_of("mV"));
    ck_assert(unit_dim_equal(cur, dim_of("A")));
    ck_assert(close_rel(scale_of("nS") * scale_of("mV"), scale_of("pA")));
    ck_assert(close_rel(scale_of("nS") * scale_of("mV"), 1e-12));
    /* mV/ms = V/s, factor 1 */
    ck_assert(unit_dim_equal(unit_dim_div(dim_of("mV"), dim_of("ms")), unit_dim_div(dim_of("V"), dim_of("s"))));
    ck_assert(close_rel(scale_of("mV") / scale_of("ms"), 1.0));
    /* tau = C_m / g_L: 200 pF / 10 nS = 20 ms */
    Dim tau = unit_dim_div(dim_of("pF"), dim_of("nS"));
    ck_assert(unit_dim_equal(tau, dim_of("s")));
    ck_assert(close_rel(200 * scale_of("pF") / (10 * scale_of("nS")), 20 * scale_of("ms")));
    /* Ω * S is dimensionless; a 100 MΩ membrane and 10 nS give 1 */
    ck_assert(unit_dim_is_dimensionless(unit_dim_mul(dim_of("ohm"), dim_of("S"))));
    ck_assert(close_rel(100 * scale_of("M\xce\xa9") * 10 * scale_of("nS"), 1.0));
    /* mM is mol/m^3; 1 M = 1000 mol/m^3 */
    ck_assert(unit_dim_equal(dim_of("mM"), unit_dim_div(dim_of("mol"), unit_dim_pow(dim_of("m"), 3, 1))));
    ck_assert(close_rel(scale_of("mol") / scale_of("L"), scale_of("M")));
    /* C = A*s: 1 pA for 1 ms is 1 fC */
    ck_assert(close_rel(scale_of("pA") * scale_of("ms"), scale_of("fC")));
    /* Hz * s dimensionless; 5 Hz for 2 s is 10 */
    ck_assert(unit_dim_is_dimensionless(unit_dim_mul(dim_of("Hz"), dim_of("s"))));
}
END_TEST

START_TEST(test_rational_powers) {
    Dim m2 = unit_dim_pow(dim_of("m"), 2, 1);
    ck_assert(unit_dim_equal(unit_dim_pow(m2, 1, 2), dim_of("m")));   /* sqrt(m^2) */
    Dim rv = unit_dim_pow(dim_of("mV"), 1, 2);                        /* sqrt(mV) */
    ck_assert(!unit_dim_equal(rv, dim_of("V")));
    ck_assert(unit_dim_equal(unit_dim_mul(rv, rv), dim_of("V")));
    ck_assert_int_eq(rv.e[UNIT_M].num, 1);
    ck_assert_int_eq(rv.e[UNIT_M].den, 1);
    ck_assert_int_eq(rv.e[UNIT_S].num, -3);
    ck_assert_int_eq(rv.e[UNIT_S].den, 2);
    /* x^(1/3) cubed is x again; (x^(1/3))^(3/2) = x^(1/2) */
    Dim c = unit_dim_pow(dim_of("F"), 1, 3);
    ck_assert(unit_dim_equal(unit_dim_pow(c, 3, 1), dim_of("F")));
    ck_assert(unit_dim_equal(unit_dim_pow(c, 3, 2), unit_dim_pow(dim_of("F"), 1, 2)));
    ck_assert(unit_dim_equal(unit_dim_mul(unit_dim_mul(c, c), c), dim_of("F")));
    /* negative and unreduced exponents */
    ck_assert(unit_dim_equal(unit_dim_pow(dim_of("s"), -2, -4), unit_dim_pow(dim_of("s"), 1, 2)));
    ck_assert(unit_dim_equal(unit_dim_pow(dim_of("s"), -1, 1), dim_of("Hz")));
    ck_assert(unit_dim_is_dimensionless(unit_dim_pow(dim_of("V"), 0, 5)));
}
END_TEST

START_TEST(test_zeroed_and_overflow) {
    Dim z = {0};
    ck_assert(unit_dim_is_dimensionless(z));
    ck_assert(unit_dim_equal(z, dim_of("1")));
    ck_assert(unit_dim_equal(unit_dim_mul(z, dim_of("V")), dim_of("V")));
    Dim big = unit_dim_pow(dim_of("V"), 1000000000, 1);
    ck_assert(big.overflow);
    ck_assert(!unit_dim_equal(big, big));
    ck_assert(!unit_dim_is_dimensionless(unit_dim_pow(big, 0, 1))); /* sticky */
    ck_assert(unit_dim_pow(dim_of("V"), 1, 0).overflow);
    /* growing by repeated products stays exact until the limit */
    Dim p = dim_of("s");
    for (int i = 0; i < 19; i++) p = unit_dim_mul(p, p);
    ck_assert(!p.overflow);
    ck_assert_int_eq(p.e[UNIT_S].num, 1 << 19);
    p = unit_dim_mul(p, p);
    ck_assert(p.overflow);
}
END_TEST

START_TEST(test_suggest) {
    ck_assert_str_eq(unit_suggest("mv"), "mV");
    ck_assert_str_eq(unit_suggest("Mv"), "MV");
    ck_assert_str_eq(unit_suggest("pf"), "pF");
    ck_assert_str_eq(unit_suggest("hz"), "Hz");
    ck_assert_str_eq(unit_suggest("NS"), "nS");
    ck_assert_str_eq(unit_suggest("sm"), "ms");        /* swapped letters */
    ck_assert_str_eq(unit_suggest("msec"), "ms");
    ck_assert_str_eq(unit_suggest("mVV"), "mV");
    ck_assert_str_eq(unit_suggest("MOhm"), "Mohm");
    ck_assert_ptr_null(unit_suggest("nano"));
    ck_assert_ptr_null(unit_suggest("x"));             /* one letter: only case fixes */
    ck_assert_ptr_null(unit_suggest("tau"));
    ck_assert_ptr_null(unit_suggest("voltage"));
    ck_assert_ptr_null(unit_suggest(""));
    /* every suggestion is itself a known unit */
    static const char *typos[] = {"mv", "pf", "hz", "NS", "sm", "msec", "MOhm", "ua", "kohms", "mmole"};
    for (size_t i = 0; i < sizeof typos / sizeof typos[0]; i++) {
        const char *s = unit_suggest(typos[i]);
        ck_assert_msg(s != NULL, "no suggestion for %s", typos[i]);
        (void)dim_of(s);
    }
}
END_TEST

static void check_dim_name(Dim d, const char *want) {
    Arena a;
    arena_init(&a);
    const char *got = unit_format_dim(&a, d);
    ck_assert_msg(strcmp(got, want) == 0, "got '%s', want '%s'", got, want);
    arena_free(&a);
}

/* Dimensions of `x`, `x*y`, `x/y` for unit names. */
static Dim u1(const char *x) { return dim_of(x); }
static Dim umul(const char *x, const char *y) { return unit_dim_mul(dim_of(x), dim_of(y)); }
static Dim udiv(const char *x, const char *y) { return unit_dim_div(dim_of(x), dim_of(y)); }

START_TEST(test_format_dim) {
    check_dim_name(u1("mV"), "V");
    check_dim_name(u1("nA"), "A");
    check_dim_name(u1("nS"), "S");
    check_dim_name(u1("pF"), "F");
    check_dim_name(u1("ohm"), "\xce\xa9");
    check_dim_name(u1("pC"), "C");
    check_dim_name(u1("ms"), "s");
    check_dim_name(u1("Hz"), "1/s");
    check_dim_name(udiv("mV", "ms"), "V/s");
    check_dim_name(udiv("pA", "ms"), "A/s");
    check_dim_name(udiv("nS", "ms"), "S/s");
    check_dim_name(unit_dim_pow(u1("mV"), 2, 1), "V^2");
    check_dim_name(unit_dim_pow(u1("mV"), 1, 2), "V^(1/2)");
    check_dim_name(u1("1"), "dimensionless");
    check_dim_name(umul("ohm", "S"), "dimensionless");
    check_dim_name(umul("nS", "mV"), "A");
    check_dim_name(udiv("pF", "nS"), "s");
    check_dim_name(umul("mV", "ms"), "V*s");
    check_dim_name(udiv("Hz", "mV"), "1/(V*s)");
    check_dim_name(udiv("ms", "mV"), "s/V");
    check_dim_name(u1("mM"), "mM");
    check_dim_name(udiv("uM", "ms"), "mM/s");
    check_dim_name(udiv("Hz", "s"), "1/s^2");
    check_dim_name(unit_dim_pow(u1("m"), 2, 1), "m^2");
    check_dim_name(udiv("pF", "m"), "F/m");
    check_dim_name(u1("kg"), "kg");
    check_dim_name(u1("W"), "W");
    /* no one- or two-unit name: SI base units */
    Arena a;
    arena_init(&a);
    ck_assert_str_eq(unit_format_dim(&a, unit_dim_make(2, 1, -3, 0, 1, 1, 0)), "kg*m^2*K*mol/s^3");
    ck_assert_str_eq(unit_format_dim(&a, unit_dim_make(2, 1, -3, -1, 1, 0, 1)), "kg*m^2*K*cd/(s^3*A)");
    arena_free(&a);
}
END_TEST

static void check_value(double si, const char *unit_of_dim, const char *preferred, const char *want) {
    Arena a;
    arena_init(&a);
    const char *got = unit_format_value(&a, si, dim_of(unit_of_dim), preferred);
    ck_assert_msg(strcmp(got, want) == 0, "%g [%s] as %s: got '%s', want '%s'", si, unit_of_dim,
                  preferred ? preferred : "NULL", got, want);
    arena_free(&a);
}

START_TEST(test_format_value) {
    check_value(-0.06, "V", "mV", "-60 mV");
    check_value(-0.06, "V", NULL, "-60 mV");
    check_value(0.02, "s", NULL, "20 ms");
    check_value(200 * 1e-12, "F", NULL, "200 pF");
    check_value(1e-8, "S", "nS", "10 nS");
    check_value(3e-9, "S", NULL, "3 nS");
    check_value(2.5e-6, "s", NULL, "2.5 us");
    check_value(5000, "s", NULL, "5000 s");         /* no ks */
    check_value(5, "Hz", NULL, "5 Hz");
    check_value(2000, "Hz", NULL, "2 kHz");
    check_value(0.002, "mM", NULL, "2 uM");
    check_value(2, "mM", NULL, "2 mM");
    check_value(1e8, "ohm", NULL, "100 M\xce\xa9");
    check_value(0, "V", NULL, "0 V");
    check_value(0.5, "1", NULL, "0.5");
    check_value(0.5, "1", "1", "0.5");
    check_value(310, "K", NULL, "310 K");
    check_value(-0.06, "V", "nS", "-60 mV");        /* wrong preferred unit is ignored */
    check_value(-0.06, "V", "bogus", "-60 mV");
    Arena a;
    arena_init(&a);
    ck_assert_str_eq(unit_format_value(&a, 1.5, unit_dim_div(dim_of("V"), dim_of("s")), NULL), "1.5 V/s");
    ck_assert_str_eq(unit_format_value(&a, 1.5, unit_dim_div(dim_of("V"), dim_of("s")), "mV/ms"), "1.5 V/s");
    arena_free(&a);
}
END_TEST

Suite *units_dim_suite(void) {
    Suite *s = suite_create("units_dim");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_every_prefix);
    tcase_add_test(tc, test_base_units);
    tcase_add_test(tc, test_resolution_rule);
    tcase_add_test(tc, test_unknown_units);
    tcase_add_test(tc, test_real_arithmetic);
    tcase_add_test(tc, test_rational_powers);
    tcase_add_test(tc, test_zeroed_and_overflow);
    tcase_add_test(tc, test_suggest);
    tcase_add_test(tc, test_format_dim);
    tcase_add_test(tc, test_format_value);
    suite_add_tcase(s, tc);
    return s;
}
