/* units.c - dimensions, unit names and their formatting; see units.h.
 *
 * Sits between the parser and sema: sema calls unit_lookup() for every unit
 * written in the model and unit_format_dim()/unit_format_value() when it
 * words a diagnostic. The unit and prefix tables below are the single source
 * of truth; SPEC.md's unit table is written from them. */
#include "units.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- tables -------------------------------------------------------------- */

/* Base units that take a prefix:
 * X(arg, name, mantissa, power of ten, suggest?, m, kg, s, A, K, mol, cd).
 * Scale to SI = mantissa * 10^power, so that `kg` (k + g) is exactly 1.
 * `suggest` is 0 for spellings unit_suggest() must not propose (the lexer
 * only accepts U+03A9 for ohm). */
#define UNIT_PREFIXABLE(X, arg)                                   \
    X(arg, "m", 1, 0, 1, 1, 0, 0, 0, 0, 0, 0)                     \
    X(arg, "g", 1, -3, 1, 0, 1, 0, 0, 0, 0, 0)                    \
    X(arg, "s", 1, 0, 1, 0, 0, 1, 0, 0, 0, 0)                     \
    X(arg, "A", 1, 0, 1, 0, 0, 0, 1, 0, 0, 0)                     \
    X(arg, "K", 1, 0, 1, 0, 0, 0, 0, 1, 0, 0)                     \
    X(arg, "mol", 1, 0, 1, 0, 0, 0, 0, 0, 1, 0)                   \
    X(arg, "cd", 1, 0, 1, 0, 0, 0, 0, 0, 0, 1)                    \
    X(arg, "V", 1, 0, 1, 2, 1, -3, -1, 0, 0, 0)                   \
    X(arg, "S", 1, 0, 1, -2, -1, 3, 2, 0, 0, 0)                   \
    X(arg, "F", 1, 0, 1, -2, -1, 4, 2, 0, 0, 0)                   \
    X(arg, "\xce\xa9", 1, 0, 1, 2, 1, -3, -2, 0, 0, 0) /* Ω */    \
    X(arg, "\xe2\x84\xa6", 1, 0, 0, 2, 1, -3, -2, 0, 0, 0) /* Ω, ohm sign */ \
    X(arg, "ohm", 1, 0, 1, 2, 1, -3, -2, 0, 0, 0)                 \
    X(arg, "Hz", 1, 0, 1, 0, 0, -1, 0, 0, 0, 0)                   \
    X(arg, "C", 1, 0, 1, 0, 0, 1, 1, 0, 0, 0)                     \
    X(arg, "W", 1, 0, 1, 2, 1, -3, 0, 0, 0, 0)                    \
    X(arg, "J", 1, 0, 1, 2, 1, -2, 0, 0, 0, 0)                    \
    X(arg, "N", 1, 0, 1, 1, 1, -2, 0, 0, 0, 0)                    \
    X(arg, "Pa", 1, 0, 1, -1, 1, -2, 0, 0, 0, 0)                  \
    X(arg, "L", 1, -3, 1, 3, 0, 0, 0, 0, 0, 0)                    \
    X(arg, "M", 1, 3, 1, -3, 0, 0, 0, 0, 1, 0)

/* Units that take no prefix. */
#define UNIT_PLAIN(X, arg)                                        \
    X(arg, "min", 60, 0, 1, 0, 0, 1, 0, 0, 0, 0)                  \
    X(arg, "1", 1, 0, 1, 0, 0, 0, 0, 0, 0, 0)

/* SI prefixes: X(text, power of ten, suggest?). The order is the preference
 * of unit_suggest() among equally close spellings: common ones first. */
#define UNIT_PREFIXES(X)                                          \
    X("m", -3, 1) X("u", -6, 1) X("n", -9, 1) X("p", -12, 1)      \
    X("k", 3, 1) X("M", 6, 1) X("G", 9, 1) X("f", -15, 1)         \
    X("c", -2, 1) X("d", -1, 1) X("da", 1, 1) X("h", 2, 1)        \
    X("T", 12, 1) X("a", -18, 1) X("P", 15, 1) X("E", 18, 1)      \
    X("z", -21, 1) X("Z", 21, 1) X("y", -24, 1) X("Y", 24, 1)     \
    X("r", -27, 1) X("R", 27, 1) X("q", -30, 1) X("Q", 30, 1)     \
    X("\xc2\xb5", -6, 0) /* µ micro sign */                       \
    X("\xce\xbc", -6, 0) /* μ greek mu */

typedef struct UnitDef {
    const char *name;
    double mant;
    int p10;
    bool suggest;
    signed char e[UNIT_NBASE];
} UnitDef;

typedef struct UnitPrefix {
    const char *text;
    int p10;
    bool suggest;
} UnitPrefix;

#define UNIT_DEF(arg, n, mant, p, sug, m, kg, s, a, k, mol, cd) \
    {n, mant, p, sug, {m, kg, s, a, k, mol, cd}},
static const UnitDef prefixable[] = {UNIT_PREFIXABLE(UNIT_DEF, 0)};
static const UnitDef plain[] = {UNIT_PLAIN(UNIT_DEF, 0)};
#define UNIT_PFX(t, p, sug) {t, p, sug},
static const UnitPrefix prefixes[] = {UNIT_PREFIXES(UNIT_PFX)};

enum {
    N_PREFIXABLE = sizeof prefixable / sizeof prefixable[0],
    N_PLAIN = sizeof plain / sizeof plain[0],
    N_PREFIXES = sizeof prefixes / sizeof prefixes[0],
};

/* Every prefix + base spelling as a string constant, so that unit_suggest()
 * can return a static string: combos[prefix][base]. */
#define UNIT_CELL(p, n, mant, p10, sug, m, kg, s, a, k, mol, cd) p n,
#define UNIT_ROW(t, p, sug) {UNIT_PREFIXABLE(UNIT_CELL, t)},
static const char *const combos[N_PREFIXES][N_PREFIXABLE] = {UNIT_PREFIXES(UNIT_ROW)};

/* ---- rational exponents ---------------------------------------------------- */

static int64_t gcd64(int64_t a, int64_t b) {
    if (a < 0) a = -a;
    if (b < 0) b = -b;
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static int64_t den_of(UnitExp x) { return x.den ? x.den : 1; }

/* Reduces num/den into *out; false when it does not fit the limit. */
static bool exp_make(int64_t num, int64_t den, UnitExp *out) {
    if (den == 0) return false;
    if (den < 0) num = -num, den = -den;
    int64_t g = gcd64(num, den);
    if (g > 1) num /= g, den /= g;
    if (num > UNIT_EXP_LIMIT || num < -UNIT_EXP_LIMIT || den > UNIT_EXP_LIMIT) return false;
    out->num = (int32_t)num;
    out->den = (int32_t)den;
    return true;
}

Dim unit_dim_make(int m, int kg, int s, int a, int k, int mol, int cd) {
    Dim d = {0};
    int v[UNIT_NBASE] = {m, kg, s, a, k, mol, cd};
    for (int i = 0; i < UNIT_NBASE; i++)
        if (!exp_make(v[i], 1, &d.e[i])) d.overflow = true;
    return d;
}

Dim unit_dim_none(void) { return unit_dim_make(0, 0, 0, 0, 0, 0, 0); }

/* a + sign*b exponent-wise: the common body of mul and div. */
static Dim dim_add(Dim a, Dim b, int sign) {
    Dim r = {0};
    r.overflow = a.overflow || b.overflow;
    for (int i = 0; i < UNIT_NBASE; i++) {
        int64_t ad = den_of(a.e[i]), bd = den_of(b.e[i]);
        int64_t num = (int64_t)a.e[i].num * bd + sign * (int64_t)b.e[i].num * ad;
        if (!exp_make(num, ad * bd, &r.e[i])) r.overflow = true;
    }
    return r;
}

Dim unit_dim_mul(Dim a, Dim b) { return dim_add(a, b, 1); }
Dim unit_dim_div(Dim a, Dim b) { return dim_add(a, b, -1); }

Dim unit_dim_pow(Dim a, int64_t num, int64_t den) {
    Dim r = {0};
    UnitExp p;
    r.overflow = a.overflow;
    if (!exp_make(num, den, &p)) {
        r.overflow = true;
        return r;
    }
    for (int i = 0; i < UNIT_NBASE; i++) {
        /* both factors are within the limit, so the products fit in 64 bits */
        if (!exp_make((int64_t)a.e[i].num * p.num, den_of(a.e[i]) * p.den, &r.e[i])) r.overflow = true;
    }
    return r;
}

bool unit_dim_equal(Dim a, Dim b) {
    if (a.overflow || b.overflow) return false;
    for (int i = 0; i < UNIT_NBASE; i++) {
        /* reduced forms are unique, but a zeroed exponent has den 0 */
        if ((int64_t)a.e[i].num * den_of(b.e[i]) != (int64_t)b.e[i].num * den_of(a.e[i])) return false;
    }
    return true;
}

bool unit_dim_is_dimensionless(Dim a) { return unit_dim_equal(a, unit_dim_none()); }

/* ---- lookup ------------------------------------------------------------------ */

/* 10^e, correctly rounded (strtod is exact for decimal literals). */
static double pow10_exact(int e) {
    char buf[16];
    snprintf(buf, sizeof buf, "1e%d", e);
    return strtod(buf, NULL);
}

static void def_result(const UnitDef *u, int extra_p10, double *scale, Dim *dim) {
    *scale = u->mant * pow10_exact(u->p10 + extra_p10);
    *dim = unit_dim_make(u->e[0], u->e[1], u->e[2], u->e[3], u->e[4], u->e[5], u->e[6]);
}

static const UnitDef *find_def(const UnitDef *t, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(t[i].name, name) == 0) return &t[i];
    return NULL;
}

bool unit_lookup(const char *name, double *scale_to_si, Dim *dim) {
    const UnitDef *u = find_def(prefixable, N_PREFIXABLE, name);
    if (!u) u = find_def(plain, N_PLAIN, name);
    if (u) { /* an exact base name wins: `M` is molar, `m` metre */
        def_result(u, 0, scale_to_si, dim);
        return true;
    }
    for (int i = 0; i < N_PREFIXES; i++) {
        size_t pl = strlen(prefixes[i].text);
        if (strncmp(name, prefixes[i].text, pl) != 0 || name[pl] == '\0') continue;
        u = find_def(prefixable, N_PREFIXABLE, name + pl);
        if (u) {
            def_result(u, prefixes[i].p10, scale_to_si, dim);
            return true;
        }
    }
    return false;
}

/* ---- suggestions ------------------------------------------------------------- */

/* Weighted optimal string alignment distance, bytewise: insert, delete and
 * substitute cost 2; a change of case only or a swap of two neighbours costs
 * 1, because those are the likeliest typos ("mv", "sm"). Inputs are short. */
static int edit_distance(const char *a, const char *b) {
    enum { MAXL = 16 };
    size_t n = strlen(a), m = strlen(b);
    if (n >= MAXL || m >= MAXL) return 99;
    int d[MAXL + 1][MAXL + 1];
    for (size_t i = 0; i <= n; i++) d[i][0] = 2 * (int)i;
    for (size_t j = 0; j <= m; j++) d[0][j] = 2 * (int)j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            char x = a[i - 1], y = b[j - 1];
            int sub = x == y ? 0 : tolower((unsigned char)x) == tolower((unsigned char)y) ? 1 : 2;
            int best = d[i - 1][j - 1] + sub;
            if (d[i - 1][j] + 2 < best) best = d[i - 1][j] + 2;
            if (d[i][j - 1] + 2 < best) best = d[i][j - 1] + 2;
            if (i > 1 && j > 1 && x == b[j - 2] && a[i - 2] == y && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[n][m];
}

typedef struct Suggest {
    const char *unknown;
    const char *best;
    int score;  /* lower is better; see consider() */
} Suggest;

/* Scores a candidate: case-insensitive matches first, then by edit distance,
 * then by closeness in length ("sm" -> "ms", not "m"). */
static void consider(Suggest *s, const char *cand) {
    int dist = edit_distance(s->unknown, cand);
    int dlen = abs((int)strlen(s->unknown) - (int)strlen(cand));
    int score = (strcasecmp(s->unknown, cand) == 0 ? 0 : 1000) + dist * 10 + dlen;
    if (score < s->score) {
        s->score = score;
        s->best = cand;
    }
}

const char *unit_suggest(const char *unknown) {
    size_t len = strlen(unknown);
    if (len == 0 || len > 12) return NULL;
    Suggest s = {unknown, NULL, INT_MAX};
    for (int j = 0; j < N_PREFIXABLE; j++)
        if (prefixable[j].suggest) consider(&s, prefixable[j].name);
    for (int j = 0; j < N_PLAIN; j++)
        if (plain[j].suggest) consider(&s, plain[j].name);
    for (int i = 0; i < N_PREFIXES; i++) {
        if (!prefixes[i].suggest) continue;
        for (int j = 0; j < N_PREFIXABLE; j++)
            if (prefixable[j].suggest) consider(&s, combos[i][j]);
    }
    /* one letter is too little to guess from; short names allow one edit */
    int max_cost = len == 1 ? 0 : len <= 3 ? 2 : 4;
    if (s.best && (s.score < 1000 || (s.score - 1000) / 10 <= max_cost)) return s.best;
    return NULL;
}

/* ---- formatting ---------------------------------------------------------------- */

/* Units dimensions are named in, most preferred first; ties between equally
 * short names go to the earlier atoms ("V/s", not "A/F"). Concentration is
 * named mM because 1 mM is exactly 1 mol/m^3. */
typedef struct FmtAtom {
    const char *name;
    signed char e[UNIT_NBASE];  /* m, kg, s, A, K, mol, cd */
} FmtAtom;

static const FmtAtom atoms[] = {
    {"V", {2, 1, -3, -1, 0, 0, 0}},   {"s", {0, 0, 1, 0, 0, 0, 0}},
    {"A", {0, 0, 0, 1, 0, 0, 0}},     {"S", {-2, -1, 3, 2, 0, 0, 0}},
    {"F", {-2, -1, 4, 2, 0, 0, 0}},   {"\xce\xa9", {2, 1, -3, -2, 0, 0, 0}},
    {"C", {0, 0, 1, 1, 0, 0, 0}},     {"mM", {-3, 0, 0, 0, 0, 1, 0}},
    {"m", {1, 0, 0, 0, 0, 0, 0}},     {"mol", {0, 0, 0, 0, 0, 1, 0}},
    {"kg", {0, 1, 0, 0, 0, 0, 0}},    {"K", {0, 0, 0, 0, 1, 0, 0}},
    {"cd", {0, 0, 0, 0, 0, 0, 1}},    {"W", {2, 1, -3, 0, 0, 0, 0}},
    {"J", {2, 1, -2, 0, 0, 0, 0}},    {"N", {1, 1, -2, 0, 0, 0, 0}},
    {"Pa", {-1, 1, -2, 0, 0, 0, 0}},
};
enum { N_ATOMS = sizeof atoms / sizeof atoms[0] };

/* One factor of a formatted dimension: name^exp. */
typedef struct Factor {
    const char *name;
    UnitExp exp;
} Factor;

static Dim atom_dim(int i) {
    const signed char *e = atoms[i].e;
    return unit_dim_make(e[0], e[1], e[2], e[3], e[4], e[5], e[6]);
}

/* Appends "name", "name^2" or "name^(1/2)" for |exp| to buf. */
static void put_factor(char *buf, size_t cap, const Factor *f) {
    size_t n = strlen(buf);
    int64_t num = llabs((long long)f->exp.num), den = den_of(f->exp);
    if (num == 1 && den == 1)
        snprintf(buf + n, cap - n, "%s", f->name);
    else if (den == 1)
        snprintf(buf + n, cap - n, "%s^%lld", f->name, (long long)num);
    else
        snprintf(buf + n, cap - n, "%s^(%lld/%lld)", f->name, (long long)num, (long long)den);
}

/* Joins factors of one sign with '*' into buf. Returns how many were put. */
static int put_side(char *buf, size_t cap, const Factor *f, int n, int sign) {
    int put = 0;
    for (int i = 0; i < n; i++) {
        if ((f[i].exp.num > 0) != (sign > 0) || f[i].exp.num == 0) continue;
        if (put++) strncat(buf, "*", cap - strlen(buf) - 1);
        put_factor(buf, cap, &f[i]);
    }
    return put;
}

/* "num/den", "1/den", "num/(a*b)" from factors with signed exponents. */
static char *render_factors(Arena *a, const Factor *f, int n) {
    char num[256] = "", den[256] = "";
    int nn = put_side(num, sizeof num, f, n, 1);
    int nd = put_side(den, sizeof den, f, n, -1);
    if (nd == 0) return arena_strdup(a, num);
    return arena_printf(a, "%s/%s%s%s", nn ? num : "1", nd > 1 ? "(" : "", den, nd > 1 ? ")" : "");
}

/* If d == atom^r for some rational r, stores r and returns true. */
static bool match_single(Dim d, Dim atom, UnitExp *r) {
    for (int i = 0; i < UNIT_NBASE; i++) {
        if (atom.e[i].num == 0) continue;
        UnitExp q;
        if (!exp_make((int64_t)d.e[i].num * atom.e[i].den, den_of(d.e[i]) * atom.e[i].num, &q) || q.num == 0)
            return false;
        if (!unit_dim_equal(unit_dim_pow(atom, q.num, q.den), d)) return false;
        *r = q;
        return true;
    }
    return false;
}

/* Best x^i * y^j (atoms x < y, integer i, j in [-3, 3]) equal to d: fewest
 * total powers, then earliest atoms. Returns false if none. */
static bool match_pair(Dim d, Factor out[2]) {
    int best = 1 << 30;
    for (int x = 0; x < N_ATOMS; x++) {
        for (int y = x + 1; y < N_ATOMS; y++) {
            for (int i = -3; i <= 3; i++) {
                for (int j = -3; j <= 3; j++) {
                    if (!i || !j) continue;
                    int cost = (abs(i) + abs(j)) * 1000 + x + y;
                    if (cost >= best) continue;
                    Dim p = unit_dim_mul(unit_dim_pow(atom_dim(x), i, 1), unit_dim_pow(atom_dim(y), j, 1));
                    if (!unit_dim_equal(p, d)) continue;
                    best = cost;
                    out[0] = (Factor){atoms[x].name, {i, 1}};
                    out[1] = (Factor){atoms[y].name, {j, 1}};
                }
            }
        }
    }
    return best != 1 << 30;
}

char *unit_format_dim(Arena *a, Dim d) {
    static const char *const base_names[UNIT_NBASE] = {"m", "kg", "s", "A", "K", "mol", "cd"};
    static const int base_order[UNIT_NBASE] = {UNIT_KG, UNIT_M, UNIT_S, UNIT_A, UNIT_K, UNIT_MOL, UNIT_CD};
    if (d.overflow) return arena_strdup(a, "(exponent overflow)");
    if (unit_dim_is_dimensionless(d)) return arena_strdup(a, "dimensionless");
    Factor f[UNIT_NBASE];
    int best = -1, best_cost = 0;
    for (int i = 0; i < N_ATOMS; i++) { /* one unit: "Ω" beats "1/S", "V^2" beats "1/V^-2" */
        UnitExp r;
        if (!match_single(d, atom_dim(i), &r)) continue;
        int cost = (r.num != 1 || r.den != 1) * 1000000 + (r.num < 0) * 100000 + (abs(r.num) + r.den) * 100 + i;
        if (best < 0 || cost < best_cost) {
            best = i;
            best_cost = cost;
            f[0] = (Factor){atoms[i].name, r};
        }
    }
    if (best >= 0) return render_factors(a, f, 1);
    if (match_pair(d, f)) return render_factors(a, f, 2);
    for (int i = 0; i < UNIT_NBASE; i++) /* last resort: SI base units */
        f[i] = (Factor){base_names[base_order[i]], d.e[base_order[i]]};
    return render_factors(a, f, UNIT_NBASE);
}

/* Units a value is printed in with an engineering prefix, and the range of
 * prefixes that reads naturally for each (no "5 ks", no "0.3 kK"). */
typedef struct ValueUnit {
    const char *name;
    double scale;       /* SI value of one `name` */
    int min_p10, max_p10;
    signed char e[UNIT_NBASE];
} ValueUnit;

static const ValueUnit value_units[] = {
    {"V", 1, -24, 9, {2, 1, -3, -1, 0, 0, 0}},     {"A", 1, -24, 9, {0, 0, 0, 1, 0, 0, 0}},
    {"S", 1, -24, 9, {-2, -1, 3, 2, 0, 0, 0}},     {"F", 1, -24, 9, {-2, -1, 4, 2, 0, 0, 0}},
    {"\xce\xa9", 1, -24, 12, {2, 1, -3, -2, 0, 0, 0}}, {"C", 1, -24, 9, {0, 0, 1, 1, 0, 0, 0}},
    {"s", 1, -24, 0, {0, 0, 1, 0, 0, 0, 0}},       {"Hz", 1, -24, 9, {0, 0, -1, 0, 0, 0, 0}},
    {"M", 1e3, -24, 0, {-3, 0, 0, 0, 0, 1, 0}},    {"m", 1, -24, 3, {1, 0, 0, 0, 0, 0, 0}},
    {"mol", 1, -24, 0, {0, 0, 0, 0, 0, 1, 0}},     {"g", 1e-3, -24, 3, {0, 1, 0, 0, 0, 0, 0}},
    {"K", 1, 0, 0, {0, 0, 0, 0, 1, 0, 0}},         {"W", 1, -24, 9, {2, 1, -3, 0, 0, 0, 0}},
    {"J", 1, -24, 9, {2, 1, -2, 0, 0, 0, 0}},      {"N", 1, -24, 9, {1, 1, -2, 0, 0, 0, 0}},
    {"Pa", 1, -24, 9, {-1, 1, -2, 0, 0, 0, 0}},
};
enum { N_VALUE_UNITS = sizeof value_units / sizeof value_units[0] };

static const char *prefix_text(int p10) {
    if (p10 == 0) return "";
    for (int i = 0; i < N_PREFIXES; i++)
        if (prefixes[i].p10 == p10 && prefixes[i].suggest) return prefixes[i].text;
    return NULL;
}

/* "<x/10^p> <prefix><unit>" with p a multiple of 3 putting the mantissa in
 * [1, 1000), clamped to the unit's range. */
static char *format_engineering(Arena *a, double si, const ValueUnit *u) {
    double x = si / u->scale;
    int p = 0;
    if (x != 0 && isfinite(x)) p = (int)floor(log10(fabs(x)) / 3) * 3;
    if (p < u->min_p10) p = u->min_p10;
    if (p > u->max_p10) p = u->max_p10;
    const char *pt = prefix_text(p); /* every range end above is a multiple of 3 */
    return arena_printf(a, "%.12g %s%s", x / pow10_exact(p), pt, u->name);
}

char *unit_format_value(Arena *a, double si_value, Dim d, const char *preferred) {
    double scale;
    Dim pd;
    if (preferred && unit_lookup(preferred, &scale, &pd) && unit_dim_equal(pd, d)) {
        if (strcmp(preferred, "1") == 0) return arena_printf(a, "%.12g", si_value);
        return arena_printf(a, "%.12g %s", si_value / scale, preferred);
    }
    if (unit_dim_is_dimensionless(d)) return arena_printf(a, "%.12g", si_value);
    for (int i = 0; i < N_VALUE_UNITS; i++) {
        const signed char *e = value_units[i].e;
        if (unit_dim_equal(d, unit_dim_make(e[0], e[1], e[2], e[3], e[4], e[5], e[6])))
            return format_engineering(a, si_value, &value_units[i]);
    }
    return arena_printf(a, "%.12g %s", si_value, unit_format_dim(a, d));
}
