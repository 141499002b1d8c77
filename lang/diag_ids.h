/* diag_ids.h - the table of diagnostic ids (X-macro).
 *
 * DIAG(ENUM, "id", severity, "one-line summary for SPEC.md")
 * Every id here must be documented in SPEC.md and have a golden pair under
 * tests/golden/<id>/ (tests/golden/coverage checks both). Ids are stable:
 * never rename one, add a new one instead. */

/* input files and the lexer */
DIAG(DIAG_FILE_UNREADABLE,       "file-unreadable",        ERROR, "a model file is missing, unreadable, too large, or a directory")
DIAG(DIAG_EMPTY_FILE,            "empty-file",             ERROR, "a model file contains no declarations")
DIAG(DIAG_INVALID_CHAR,          "invalid-character",      ERROR, "a character that cannot start any token")
DIAG(DIAG_INVALID_UTF8,          "invalid-utf8",           ERROR, "bytes that are not valid UTF-8")
DIAG(DIAG_NUL_BYTE,              "nul-byte",               ERROR, "a NUL byte in the source")
DIAG(DIAG_UNTERMINATED_COMMENT,  "unterminated-comment",   ERROR, "a block comment without its closing '*/'")
DIAG(DIAG_UNTERMINATED_STRING,   "unterminated-string",    ERROR, "a string literal without its closing quote")
DIAG(DIAG_NUMBER_RANGE,          "number-out-of-range",    ERROR, "a numeric literal too large for a double or an integer too large for 64 bits")
/* the parser */
DIAG(DIAG_SYNTAX,                "syntax-error",           ERROR, "the input does not match the grammar")
DIAG(DIAG_TOO_DEEP,              "nesting-too-deep",       ERROR, "expressions or blocks nested deeper than the limit")
/* names */
DIAG(DIAG_UNDEFINED,             "undefined-name",         ERROR, "a name that is not declared in scope")
DIAG(DIAG_DUPLICATE,             "duplicate-declaration",  ERROR, "a name declared twice in one scope")
DIAG(DIAG_WRONG_KIND,            "wrong-kind",             ERROR, "a name that refers to the wrong kind of declaration")
DIAG(DIAG_IMPORT_NOT_FOUND,      "import-not-found",       ERROR, "an import that is not on the search path")
DIAG(DIAG_IMPORT_CYCLE,          "import-cycle",           ERROR, "files that import each other")
DIAG(DIAG_UNKNOWN_UNIT,          "unknown-unit",           ERROR, "a unit name that is not an SI unit with an optional prefix")
DIAG(DIAG_UNKNOWN_FUNCTION,      "unknown-function",       ERROR, "a call of a function that does not exist")
DIAG(DIAG_ARG_COUNT,             "argument-count",         ERROR, "a call with the wrong number of arguments")
DIAG(DIAG_DEF_CYCLE,             "definition-cycle",       ERROR, "algebraic definitions that depend on each other in a cycle")
/* units and types */
DIAG(DIAG_UNIT_MISMATCH,         "unit-mismatch",          ERROR, "operands, assignments or overrides whose dimensions differ")
DIAG(DIAG_ODE_UNIT,              "ode-unit",               ERROR, "an ODE whose right-hand side is not the state's dimension per time")
DIAG(DIAG_DIMENSIONLESS_ARG,     "dimensionless-argument", ERROR, "a function such as exp or log applied to a quantity with a dimension")
DIAG(DIAG_BAD_POWER,             "invalid-power",          ERROR, "an exponent that is not a constant dimensionless rational")
DIAG(DIAG_EXPECTED_DIM,          "expected-dimension",     ERROR, "a value whose dimension is not the one its place requires (a time, a rate, ...)")
DIAG(DIAG_NOT_BOOL,              "expected-boolean",       ERROR, "a condition that is not a comparison or logical expression")
DIAG(DIAG_BOOL_ARITH,            "boolean-arithmetic",     ERROR, "a boolean used as a number")
DIAG(DIAG_NOT_CONSTANT,          "not-constant",           ERROR, "a value that must be known before the run depends on state")
/* model rules */
DIAG(DIAG_ASSIGN_PARAMETER,      "assign-to-parameter",    ERROR, "an event handler or reset that assigns a parameter")
DIAG(DIAG_ASSIGN_READONLY,       "assign-to-readonly",     ERROR, "an assignment to something that cannot be written (a definition, time, a constant)")
DIAG(DIAG_PLASTICITY_WRITES_POST,"plasticity-writes-post", ERROR, "a plasticity rule that writes a postsynaptic neuron's state")
DIAG(DIAG_ODE_NOT_STATE,         "ode-not-state",          ERROR, "a derivative of a name that is not a state variable")
DIAG(DIAG_DUPLICATE_ODE,         "duplicate-ode",          ERROR, "two ODEs for the same state variable")
DIAG(DIAG_RECEPTOR_NOT_LINEAR,   "receptor-not-linear",    ERROR, "a receptor's on spike handler that does more than add multiples of the weight to its states")
DIAG(DIAG_PROBABILITY_RANGE,     "probability-range",      ERROR, "a probability outside [0, 1]")
DIAG(DIAG_NEGATIVE_DELAY,        "negative-delay",         ERROR, "a negative synaptic delay")
DIAG(DIAG_BAD_SIZE,              "invalid-size",           ERROR, "a population size, count or degree that is not a positive integer")
DIAG(DIAG_RANGE_BOUNDS,          "range-out-of-bounds",    ERROR, "a neuron range outside its population or with its ends reversed")
DIAG(DIAG_BAD_OPTION,            "invalid-option",         ERROR, "a clause given twice, missing, or not allowed in its place")
DIAG(DIAG_MISPLACED_DIST,       "misplaced-distribution", ERROR, "a random distribution where a deterministic value is required")
DIAG(DIAG_INVALID_VALUE,         "invalid-value",          ERROR, "a value outside its domain (a negative duration, rate or time constant)")
DIAG(DIAG_EXACT_NONLINEAR,       "exact-nonlinear",        ERROR, "`method exact` for an ODE that is not linear with coefficients known at compile time")
DIAG(DIAG_EXPEULER_NONLINEAR,    "exponential-euler-nonlinear", ERROR, "`method exponential_euler` for an ODE that is not affine in its own state")
DIAG(DIAG_UNSUPPORTED,          "unsupported",            ERROR, "a construct that eic run cannot simulate yet (eic check accepts it)")
DIAG(DIAG_DELAY_NOT_MULTIPLE,    "delay-not-multiple-of-dt", WARNING, "a delay that is not a whole number of time steps")
DIAG(DIAG_UNUSED,                "unused-declaration",     WARNING, "a parameter, state or definition that nothing uses")
