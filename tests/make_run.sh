#!/usr/bin/env bash
# make_run.sh - the README's first command does what it says: tools/run-flagship.sh (what
# `make run` calls) checks every model and simulates examples/coba.ei into a directory whose
# parents do not exist yet (run by ctest as: bash make_run.sh EIC_BINARY SOURCE_DIR).
. "$(dirname "$0")/lib/e2e.sh" "$@"
EIC_OUT=$work/out/coba bash "$src/tools/run-flagship.sh" "$eic" > "$work/log" 2>&1 || { cat "$work/log"; echo "FAIL: make run"; exit 1; }
/usr/bin/python3 -c "
import json, sys
m = json.load(open(sys.argv[1]))
assert m['complete'] is True and m['populations']['E']['spikes'] > 0
" "$work/out/coba/manifest.json" || { echo "FAIL: manifest"; exit 1; }
echo "ok   - make run checks every model and simulates COBA ($(grep -c 'rate' "$work/log") summary line)"
