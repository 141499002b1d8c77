#!/bin/bash
# fuzz.sh - build the front-end fuzzer and run it (ctest: bash fuzz.sh EIC_BINARY SOURCE_DIR).
#
# Builds tests/fuzz/fuzz_frontend.c with clang -fsanitize=fuzzer,address,undefined
# against lang/ (flex and bison run here into a temp dir, so the build tree is
# not needed) and, when the sema sources are present, compiler/frontend.c and
# sema (`eic check` without code generation). Then it
#   1. runs every input of tests/fuzz/regressions/ once (past crashes);
#   2. fuzzes for FUZZ_SECONDS (default 20) from tests/fuzz/corpus/.
# Any crash, sanitizer report, leak or timeout fails the test; the input is
# kept (in $FUZZ_ARTIFACTS, default ./fuzz-artifacts) and printed so that it
# can be committed to tests/fuzz/regressions/ with the fix. Skips (exit 0)
# only when no clang with libFuzzer is installed.
set -u
src=${2:?usage: fuzz.sh EIC_BINARY SOURCE_DIR}
seconds=${FUZZ_SECONDS:-20}

cc=""
for c in ${FUZZ_CC:-} clang-14 clang-19 clang; do
    if command -v "$c" > /dev/null 2>&1; then cc=$c; break; fi
done
if [ -z "$cc" ]; then
    echo "fuzz.sh: SKIPPED: no clang found (install clang-14 for libFuzzer)"
    exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/eic-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() {
    echo "fuzz.sh: FAILED: $*"
    exit 1
}

# ---- generate the scanner and parser -----------------------------------------
bison -Wall -o "$work/parser.c" --defines="$work/parser.h" "$src/lang/parser.y" 2> "$work/bison.log" \
    || { cat "$work/bison.log"; fail "bison failed on lang/parser.y"; }
flex -o "$work/lexer.c" --header-file="$work/lexer.h" "$src/lang/lexer.l" 2> "$work/flex.log" \
    || { cat "$work/flex.log"; fail "flex failed on lang/lexer.l"; }

# ---- build --------------------------------------------------------------------
# the same feature macros as CMakeLists.txt; an implicit declaration would truncate pointers
flags=(-std=c11 -g -O1 -D_POSIX_C_SOURCE=200809L -D_XOPEN_SOURCE=700 -DEIC_VERSION=\"fuzz\"
       -Werror=implicit-function-declaration -Werror=int-conversion
       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$src/lang" -I"$work")
lang=("$src"/lang/*.c "$work/parser.c" "$work/lexer.c")

# True if the file, or a compiler/ header it includes (transitively), uses LLVM.
uses_llvm() {
    local f=$1 depth=${2:-0} h
    grep -q 'llvm-c/' "$f" && return 0
    [ "$depth" -gt 4 ] && return 1
    for h in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
        [ -f "$src/compiler/$h" ] && uses_llvm "$src/compiler/$h" $((depth + 1)) && return 0
    done
    return 1
}

# The checking front end: compiler sources that use neither LLVM nor the driver.
compiler=()
if [ -f "$src/compiler/sema.h" ] && [ -f "$src/compiler/frontend.c" ]; then
    for f in "$src"/compiler/*.c; do
        case $(basename "$f") in main.c | driver.c) continue ;; esac
        uses_llvm "$f" && continue
        compiler+=("$f")
    done
fi
mode=parser
if [ ${#compiler[@]} -gt 0 ]; then
    if "$cc" "${flags[@]}" -DEIC_FUZZ_SEMA -I"$src/compiler" -I"$src/runtime" \
        -DEIC_STDLIB_DIR=\""$src/stdlib"\" -DEIC_INSTALLED_STDLIB_DIR=\""$src/stdlib"\" \
        "${lang[@]}" "${compiler[@]}" "$src/tests/fuzz/fuzz_frontend.c" -lm \
        -o "$work/fuzz_frontend" 2> "$work/build.log"; then
        mode="parser + sema"
    else
        echo "fuzz.sh: NOTE: the front end with sema does not build yet; fuzzing the parser only:"
        grep -E 'error|undefined reference' "$work/build.log" | head -5 | sed 's/^/    /'
    fi
fi
if [ "$mode" = parser ]; then
    "$cc" "${flags[@]}" "${lang[@]}" "$src/tests/fuzz/fuzz_frontend.c" -lm -o "$work/fuzz_frontend" \
        2> "$work/build.log" || { cat "$work/build.log"; fail "cannot build the fuzzer"; }
fi
echo "fuzz.sh: built fuzz_frontend ($mode) with $cc"

# libFuzzer writes crash-*/leak-*/timeout-* files to the artifact prefix.
opts=(-timeout=10 -rss_limit_mb=2048 -max_len=8192 -artifact_prefix="$work/"
      -dict="$src/tests/fuzz/eic.dict" -print_final_stats=1)
keepdir=${FUZZ_ARTIFACTS:-$PWD/fuzz-artifacts}   # ctest runs in the build dir
report_artifacts() {
    local found=0
    for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* "$work"/slow-unit-*; do
        [ -e "$a" ] || continue
        found=1
        mkdir -p "$keepdir"
        local keep="$keepdir/$(basename "$a")"
        cp "$a" "$keep" 2> /dev/null || keep=$a
        echo "fuzz.sh: failing input saved as $keep ($(wc -c < "$a") bytes):"
        head -c 600 "$a" | od -c | head -20
    done
    return $found
}

# ---- 1. regressions: every past crash once -------------------------------------
shopt -s nullglob
regressions=("$src"/tests/fuzz/regressions/*)
if [ ${#regressions[@]} -gt 0 ]; then
    if ! "$work/fuzz_frontend" "${opts[@]}" "${regressions[@]}" > "$work/regress.log" 2>&1; then
        tail -40 "$work/regress.log"
        report_artifacts
        fail "a regression input of tests/fuzz/regressions/ fails again"
    fi
    echo "fuzz.sh: ${#regressions[@]} regression inputs pass"
fi

# ---- 2. fuzz from the seed corpus -------------------------------------------------
mkdir -p "$work/corpus"
if ! "$work/fuzz_frontend" "${opts[@]}" -max_total_time="$seconds" \
    "$work/corpus" "$src/tests/fuzz/corpus" > "$work/fuzz.log" 2>&1; then
    tail -40 "$work/fuzz.log"
    report_artifacts
    fail "the fuzzer found a crash, leak or timeout (see above)"
fi
grep -E '^stat::number_of_executed_units|^stat::new_units_added' "$work/fuzz.log" | sed 's/^/fuzz.sh: /'
echo "fuzz.sh: ok: ${seconds}s of fuzzing ($mode), no crash, leak or timeout"
exit 0
