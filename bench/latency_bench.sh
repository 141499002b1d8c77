#!/bin/sh
# latency_bench.sh - JIT latency of `eic run` from parsed AST to callable
# kernels, cold (empty object cache) against a cache hit, in one run.
# Usage: bench/latency_bench.sh EIC_BINARY [MODEL] [RUNS]
#   MODEL defaults to examples/coba.ei, RUNS to 11. Each run is a fresh
#   process with EIC_TIMING=1 (per-phase ms on stderr, see compiler/run.c) and
#   --duration 1ms, so simulation time does not matter. Cold runs get a new,
#   empty XDG_CACHE_HOME; each is followed by a run that hits its cache.
# Prints the median of every phase, cold and hit, and their ratio. Wall
# times: on a loaded machine expect outliers; the medians are what count.
set -e
eic=${1:?usage: latency_bench.sh EIC_BINARY [MODEL] [RUNS]}
src=$(cd "$(dirname "$0")/.." && pwd)
model=${2:-$src/examples/coba.ei}
runs=${3:-11}
work=$(mktemp -d /tmp/eic_latency.XXXXXX)
trap 'rm -rf "$work"' EXIT
i=0
while [ $i -lt "$runs" ]; do
    mkdir "$work/c$i"
    for kind in cold hit; do
        XDG_CACHE_HOME="$work/c$i" EIC_TIMING=1 "$eic" run "$model" --quiet --duration 1ms \
            -o "$work/out" 2>>"$work/$kind.txt" >/dev/null
    done
    i=$((i + 1))
done
/usr/bin/python3 - "$work" "$model" "$runs" <<'EOF'
import re, statistics, sys
work, model, runs = sys.argv[1], sys.argv[2], sys.argv[3]
def parse(kind):
    rows = []
    for line in open(f"{work}/{kind}.txt"):
        if not line.startswith("eic: timing ms:"):
            continue
        body = line.split(":", 2)[2].replace("|", " ")
        rows.append({k: float(v) for k, v in re.findall(r"([a-z-]+) ([0-9.]+)", body)})
    return rows
cold, hit = parse("cold"), parse("hit")
if not cold or not hit:
    sys.exit("latency_bench: no timing lines (is EIC_TIMING supported by this eic?)")
print(f"eic run {model}: JIT latency, ms, median of {runs} processes each")
print(f"  {'phase':16s} {'cold':>8s} {'cache hit':>10s}")
for k in cold[0]:
    print(f"  {k:16s} {statistics.median(r[k] for r in cold):8.2f} {statistics.median(r[k] for r in hit):10.2f}")
c = statistics.median(r["ast-to-kernels"] for r in cold)
h = statistics.median(r["ast-to-kernels"] for r in hit)
print(f"  AST -> kernels: cold {c:.2f} ms (target < 30), cache hit {h:.2f} ms (target < 3), ratio {c / h:.1f}")
EOF
