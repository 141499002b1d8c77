# e2e.sh - the common preamble of the end-to-end scripts (tests/run_*.sh), sourced as
#   . "$(dirname "$0")/lib/e2e.sh" "$@"
# with the script's arguments EIC_BINARY SOURCE_DIR. Sets eic, src, py, a temporary work
# directory (removed on exit) that also holds the object cache, the failure count `fails`
# and the reporters pass/fail/check. Lives outside tests/*.sh so that ctest does not run it.
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
