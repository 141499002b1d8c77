#!/usr/bin/env bash
# scale.sh - 10^6 neurons with 100 inputs each (10^8 synapses): COBA of
# examples/coba.ei scaled to N neurons (80 % E), connection probability
# K/N, weights scaled by 80/K to keep the balance of the 80-input network.
# Builds, simulates 1 s, and reports build and simulation time (manifest),
# peak RSS (/usr/bin/time -v) and bytes per synapse (peak RSS / synapses,
# i.e. everything the process holds, divided by the synapse count). Not a test.
#   usage: bench/scale.sh [EIC=build/eic] [N=1000000] [K=100] [T=1s] [extra eic args...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
eic=$(readlink -f "${1:-$here/../build/eic}")
n=${2:-1000000}
k=${3:-100}
dur=${4:-1s}
shift $(( $# < 4 ? $# : 4 ))
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
/usr/bin/python3 - "$here/../examples/coba.ei" "$w/scale.ei" "$n" "$k" <<'PY'
import re, sys
src, dst, n, k = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = open(src).read()
ne = n * 4 // 5
s = re.sub(r'population E = \d+', 'population E = %d' % ne, s)
s = re.sub(r'population I = \d+', 'population I = %d' % (n - ne), s)
s = re.sub(r'probability [0-9.eE+-]+', 'probability %.10g' % (k / n), s)
s = s.replace('weight 6 nS', 'weight %.10g nS' % (6 * 80 / k))
s = s.replace('weight 67 nS', 'weight %.10g nS' % (67 * 80 / k))
open(dst, 'w').write(s)
PY
XDG_CACHE_HOME=$w/cache /usr/bin/time -v "$eic" run "$w/scale.ei" -o "$w/out" --duration "$dur" --quiet "$@" \
  2> "$w/time.txt"
/usr/bin/python3 - "$w/out/manifest.json" "$w/time.txt" "$n" "$k" <<'PY'
import json, re, sys
m = json.load(open(sys.argv[1]))
t = open(sys.argv[2]).read()
rss_kb = int(re.search(r'Maximum resident set size \(kbytes\): (\d+)', t).group(1))
wall = re.search(r'Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)', t).group(1)
n, k = int(sys.argv[3]), int(sys.argv[4])
syn = n * k   # expected; the exact count is Binomial(N*N, K/N)
tm = m['timings']
print('N=%d, %d inputs each (~%.3g synapses), %g s simulated, %d threads' % (n, k, syn, m['simulated_s'], m['threads']))
print('  compile %.3f s, build %.2f s, simulate %.2f s, total %.2f s, wall %s' % (
    tm['compile_s'], tm['build_s'], tm['simulate_s'], tm['total_s'], wall))
print('  peak RSS %.2f GiB = %.2f bytes per synapse (whole process)' % (rss_kb / 2**20, rss_kb * 1024 / syn))
print('  rates: ' + ', '.join('%s %.2f Hz' % (p, v['rate_hz']) for p, v in m['populations'].items()))
PY
