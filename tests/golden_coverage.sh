#!/bin/bash
# golden_coverage.sh - every diagnostic id has golden cases and a SPEC.md entry
# (run by ctest as: bash golden_coverage.sh EIC_BINARY SOURCE_DIR).
#
# For each id of lang/diag_ids.h: tests/golden/<id>/ must hold at least one
# invalid*.ei and one valid*.ei, and SPEC.md must mention it as `[id]`. A
# directory under tests/golden/ that is no id is an error too (a typo there
# would silently test nothing). Prints every gap and a summary.
set -u
src=${2:?usage: golden_coverage.sh EIC_BINARY SOURCE_DIR}
ids_file=$src/lang/diag_ids.h
golden=$src/tests/golden
spec=$src/SPEC.md

ids=$(sed -n 's/^DIAG([A-Z_0-9]*, *"\([a-z0-9-]*\)".*/\1/p' "$ids_file")
if [ -z "$ids" ]; then
    echo "golden_coverage: no ids found in $ids_file"
    exit 1
fi

n=0 no_invalid=() no_valid=() no_spec=() strays=()
for id in $ids; do
    n=$((n + 1))
    compgen -G "$golden/$id/invalid*.ei" > /dev/null || no_invalid+=("$id")
    compgen -G "$golden/$id/valid*.ei" > /dev/null || no_valid+=("$id")
    grep -qF "[$id]" "$spec" 2> /dev/null || no_spec+=("$id")
done
for dir in "$golden"/*/; do
    [ -d "$dir" ] || continue
    name=$(basename "$dir")
    grep -qx -- "$name" <<< "$ids" || strays+=("$name")
done

report() { # title, items...
    local title=$1
    shift
    [ $# -eq 0 ] && return
    echo "$title ($#):"
    printf '    %s\n' "$@"
}
report "ids without an invalid case (tests/golden/<id>/invalid*.ei)" "${no_invalid[@]+"${no_invalid[@]}"}"
report "ids without a valid case (tests/golden/<id>/valid*.ei)" "${no_valid[@]+"${no_valid[@]}"}"
report "ids SPEC.md does not mention as [id]" "${no_spec[@]+"${no_spec[@]}"}"
report "directories of tests/golden/ that are not ids of lang/diag_ids.h" "${strays[@]+"${strays[@]}"}"

gaps=$((${#no_invalid[@]} + ${#no_valid[@]} + ${#no_spec[@]} + ${#strays[@]}))
echo "golden_coverage: $n ids: ${#no_invalid[@]} without invalid case, ${#no_valid[@]} without valid case," \
     "${#no_spec[@]} missing from SPEC.md, ${#strays[@]} stray directories"
[ $gaps -eq 0 ]
