# e2e.sh - the common preamble and helpers of the end-to-end scripts (tests/run_*.sh), sourced as
#   . "$(dirname "$0")/lib/e2e.sh" "$@"
# with the script's arguments EIC_BINARY SOURCE_DIR. Sets eic, src, py, a temporary work
# directory (removed on exit) that also holds the object cache, the failure count `fails`,
# the reporters pass/fail/check, aot_check (JIT == AOT) and PYTHONPATH for tests/lib/e2e_ref.py.
# Lives outside tests/*.sh so that ctest does not run it.
set -u
if [ $# -lt 2 ]; then
  echo "usage: $(basename "$0") EIC_BINARY SOURCE_DIR" >&2
  exit 2
fi
eic=$(readlink -f "$1")
src=$(readlink -f "$2")
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME=$work/cache
fails=0
pass() { echo "ok   - $1"; }
fail() { echo "FAIL - $1"; fails=$((fails + 1)); }
check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }

# Python helpers shared by the scripts' checks (tests/lib/e2e_ref.py: import e2e_ref).
export PYTHONPATH=$src/tests/lib${PYTHONPATH:+:$PYTHONPATH}

# aot_check LABEL MODEL JIT_DIR "FILE..." [RUN OPTION...]: builds MODEL with `eic build`
# (a model importing from examples/ is built with EIC_PATH=examples set by the caller),
# runs the executable with the RUN OPTIONs and checks that each FILE it writes equals
# JIT_DIR's (what `eic run` wrote) byte for byte: JIT == AOT.
aot_check() {
  local label=$1 model=$2 ref=$3 files=$4 out f
  shift 4
  out=$(mktemp -d "$work/aot.XXXXXX")
  if "$eic" build "$model" -o "$out/exe" && "$out/exe" -o "$out/out" --quiet "$@"; then
    for f in $files; do
      check "$label: $f of eic build bit-identical to eic run" cmp -s "$ref/$f" "$out/out/$f"
    done
  else
    fail "$label: eic build / run"
  fi
}
