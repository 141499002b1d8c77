#!/usr/bin/env bash
# kernel_cost.sh - what the COBA update kernel costs, and what its parts cost.
# Compiles `eic emit-llvm` output of examples/coba.ei with llc for the host
# CPU (the JIT's target), in variants, and times each on 4000 neurons x
# 10,000 steps (bench/kernel_harness.c, thread CPU time, best of 5):
#   exp-euler      the kernel as eic generates it (exponential Euler for V:
#                  one inline polynomial exp and one division for phi1, plus
#                  two divisions by the constant C_m)
#   exp-euler/c*r  divisions by constants replaced by multiplications with
#                  the reciprocal (what -ffast-math does for Brian2; changes
#                  the last bit, so eic does not do it)
#   exp-euler/nodiv every division replaced by a multiplication (timing only:
#                  wrong numbers), the cost of the exp alone
#   euler          the same model with `method euler` (Brian2's scheme)
#   euler/c*r      and without its divisions by constants
# Not a test.   usage: bench/kernel_cost.sh [EIC=build/eic]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
eic=$(readlink -f "${1:-$here/../build/eic}")
llc=/usr/lib/llvm-19/bin/llc
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
sed 's/^simulate COBA for 1 s dt 0.1 ms seed 42$/& method euler/' "$here/../examples/coba.ei" > "$w/euler.ei"
"$eic" emit-llvm "$here/../examples/coba.ei" > "$w/exp-euler.ll"
"$eic" emit-llvm "$w/euler.ei" > "$w/euler.ll"
# fdiv by a splatted or scalar constant -> fmul by its reciprocal
/usr/bin/python3 - "$w" <<'PY'
import re, sys
w = sys.argv[1]
num = r'[-+0-9.eE]+'
def recip(src):
    src = re.sub(r'fdiv (<(\d+) x double>) (%[\w.]+), <double (NUM)(?:, double NUM)*>'.replace('NUM', num),
                 lambda m: 'fmul %s %s, <%s>' % (m.group(1), m.group(3),
                     ', '.join(['double %r' % (1 / float(m.group(4)))] * int(m.group(2)))), src)
    return re.sub(r'fdiv double (%[\w.]+), (NUM)\n'.replace('NUM', num),
                  lambda m: 'fmul double %s, %r\n' % (m.group(1), 1 / float(m.group(2))), src)
for base in ('exp-euler', 'euler'):
    src = open('%s/%s.ll' % (w, base)).read()
    r = recip(src)
    open('%s/%s.c*r.ll' % (w, base), 'w').write(r)
    if base == 'exp-euler':
        open('%s/exp-euler.nodiv.ll' % w, 'w').write(r.replace('fdiv', 'fmul'))
PY
for v in exp-euler 'exp-euler.c*r' exp-euler.nodiv euler 'euler.c*r'; do
  "$llc" -O3 -mcpu=native -relocation-model=pic -filetype=obj "$w/$v.ll" -o "$w/k.o"
  cc -O2 -I"$here/../runtime" "$here/kernel_harness.c" "$w/k.o" -o "$w/h"
  printf '%s: %s vector fdiv in the loop; ' "$v" "$(grep -c 'fdiv <' "$w/$v.ll" || true)"
  "$w/h" 4000 10000 "$v"
done
