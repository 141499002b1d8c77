#!/usr/bin/env bash
# check_bench.sh - time `eic check` on a generated 10,000-line model (issue 2:
# under 100 ms). Usage: bench/check_bench.sh [EIC_BINARY] [LINES]
set -euo pipefail
eic=${1:-build/eic}
lines=${2:-10000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 "$(dirname "$0")/gen_big_model.py" "$lines" > "$dir/big.ei"
echo "model: $(wc -l < "$dir/big.ei") lines, $(wc -c < "$dir/big.ei") bytes"
"$eic" check "$dir/big.ei"
best=999
for i in 1 2 3 4 5; do
  t0=$(date +%s.%N); "$eic" check "$dir/big.ei"; t1=$(date +%s.%N)
  best=$(python3 -c "print(min($best, $t1 - $t0))")
done
echo "eic check: best of 5 = $(python3 -c "print('%.1f ms' % ($best * 1000))")"
