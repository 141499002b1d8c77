#!/bin/sh
# cg_bench.sh - builds and runs the code generation benchmarks (bench/cg_bench.c).
# Usage: bench/cg_bench.sh [BUILD_DIR]   (object files go to BUILD_DIR, default /tmp)
set -e
src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-/tmp}
llvm=/usr/lib/llvm-19
# the hand-written ceiling: exactly the flags the issue names
gcc -std=c11 -O3 -march=native -ffast-math -I"$src/runtime" -c "$src/bench/coba_c_ref.c" -o "$out/coba_c_ref.o"
gcc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -DEIC_VERSION='"bench"' \
    -I"$src/lang" -I"$src/compiler" -I"$src/runtime" -I$llvm/include \
    "$src/bench/cg_bench.c" "$src/compiler/cg_llvm.c" "$src/compiler/cg_math.c" "$src/compiler/jit.c" \
    "$src/compiler/mir.c" "$src/lang/arena.c" "$src/lang/source.c" "$out/coba_c_ref.o" \
    -o "$out/cg_bench" -L$llvm/lib -lLLVM -Wl,-rpath,$llvm/lib -lm
"$out/cg_bench"
