#!/usr/bin/env bash
# check_models.sh - every model in stdlib/ and examples/ passes `eic check`
# without errors or warnings (run by ctest as: bash check_models.sh EIC_BINARY SOURCE_DIR).
set -u
eic=${1:?}; src=${2:?}
cd "$src"
fails=0
for f in stdlib/*.ei examples/*.ei tests/run/*.ei; do
  out=$("$eic" check "$f" 2>&1); rc=$?
  if [ $rc -ne 0 ] || [ -n "$out" ]; then
    echo "FAIL $f (exit $rc)"; echo "$out"; fails=$((fails + 1))
  else
    echo "ok   $f"
  fi
done
exit $((fails > 0))
