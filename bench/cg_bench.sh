#!/bin/sh
# cg_bench.sh - builds and runs the code generation benchmarks (bench/cg_bench.c).
# Usage: bench/cg_bench.sh [BUILD_DIR] [cg_bench options]
#   BUILD_DIR: a CMake build directory of eic (default build-bench; configured
#   and its libraries built here). Options go to cg_bench: --pipeline STR,
#   --level N, --model FILE, --quick.
set -e
src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$src/build-bench}
[ $# -gt 0 ] && shift
llvm=/usr/lib/llvm-19
[ -f "$out/CMakeCache.txt" ] || cmake -S "$src" -B "$out" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$out" -j2 --target eiccomp >/dev/null
# the hand-written ceiling: exactly the flags the issue names
gcc -std=c11 -O3 -march=native -ffast-math -I"$src/runtime" -c "$src/bench/coba_c_ref.c" -o "$out/coba_c_ref.o"
gcc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -DEIC_SOURCE_DIR="\"$src\"" \
    -I"$src/lang" -I"$src/compiler" -I"$src/runtime" -I"$out" -I$llvm/include \
    "$src/bench/cg_bench.c" "$out/coba_c_ref.o" \
    "$out/libeiccomp.a" "$out/libeiclang.a" "$out/libeicrt.a" \
    -o "$out/cg_bench" -L$llvm/lib -lLLVM -Wl,-rpath,$llvm/lib -lm -lpthread
"$out/cg_bench" "$@"
