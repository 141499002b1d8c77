#!/bin/bash
# golden.sh - golden diagnostic tests (run by ctest as: bash golden.sh EIC_BINARY SOURCE_DIR).
#
# First checks the runner itself against a fake eic (tests/golden-selftest/),
# then runs every case under tests/golden/<diag-id>/ through `eic check`; see
# tools/golden for the conventions. Exits non-zero if either part fails.
set -u
eic=${1:?usage: golden.sh EIC_BINARY SOURCE_DIR}
src=${2:?usage: golden.sh EIC_BINARY SOURCE_DIR}
py=${PYTHON:-python3}

status=0
"$py" "$src/tools/golden" --selftest || status=1
"$py" "$src/tools/golden" --eic "$eic" --root "$src/tests/golden" || status=1
if [ $status -ne 0 ]; then
    echo "golden.sh: FAILED (rerun one case: tools/golden --eic $eic tests/golden/<id>)"
fi
exit $status
