#!/usr/bin/env bash
# `make run`: checks every stdlib and example model, then runs the flagship
# example (examples/coba.ei) and says where its results are.
set -euo pipefail
eic=$(readlink -f "${1:-build/eic}")
cd "$(dirname "$0")/.."
for f in stdlib/*.ei examples/*.ei; do
  "$eic" check "$f"
done
echo "eic: all stdlib and example models check cleanly"
out=${EIC_OUT:-out/coba}
"$eic" run examples/coba.ei -o "$out"
echo "eic: results of examples/coba.ei are in $out/ (manifest.json and .npy recordings; see README)"
