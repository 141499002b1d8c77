#!/usr/bin/env bash
# run_perturb.sh - perturbations of the protocol language on real numbers (run by ctest as:
# bash run_perturb.sh EIC_BINARY SOURCE_DIR):
#   - `at T [for D] set P.rate = R` of a Poisson population (SPEC [S-net-1a]): before step
#     round(T/dt) the raster is bit for bit that of the run without the event (same draws), from
#     that step on a higher rate adds spikes to it (a superset) and a lower one removes some (a
#     subset), `for D` gives the run without the event back from round((T + D)/dt) on; the rate in
#     each interval is within 4 standard deviations of its expectation; 1 == 2 == 3 threads and
#     JIT == AOT, byte for byte.
. "$(dirname "$0")/lib/e2e.sh" "$@"
cd "$src"

# --- set P.rate of a Poisson population ------------------------------------------------
grep -v 'set S.rate' tests/run/perturb_poisson.ei > "$work/poisson_base.ei"
"$eic" run tests/run/perturb_poisson.ei -o "$work/prate" --quiet --threads 1 || fail "poisson rate: run"
"$eic" run "$work/poisson_base.ei" -o "$work/pbase" --quiet --threads 1 || fail "poisson rate: run without events"
check "poisson rate: the raster changes at the event steps only, rates within 4 sigma" \
    "$py" - "$work/prate" "$work/pbase" <<'PY'
import sys
import numpy as np
dt, n = 1e-4, 2000
def raster(d):
    s = np.load(d + "/S_spikes.npy")
    return set(zip(np.rint(s["t"] / dt).astype(int).tolist(), s["i"].tolist()))
a, b = raster(sys.argv[1]), raster(sys.argv[2])
def part(r, lo, hi):
    return {x for x in r if lo <= x[0] < hi}
ok = True
def report(cond, text):
    global ok
    ok &= bool(cond)
    print(("  ok   " if cond else "  FAIL ") + text)
report(part(a, 0, 2000) == part(b, 0, 2000), f"steps 0-1999 (10 Hz): identical to the run without events ({len(part(b, 0, 2000))} spikes)")
e = [np.load(d + "/E_spikes.npy") for d in sys.argv[1:3]]
e = [x[np.rint(x["t"] / dt) <= 2000] for x in e]   # S's spikes of step 2000 reach E in step 2001
report(len(e[0]) > 0 and e[0].tobytes() == e[1].tobytes(), f"E, driven by S: identical up to step 2000 ({len(e[0])} spikes)")
up = part(a, 2000, 5000) - part(b, 2000, 5000)
report(part(b, 2000, 5000) <= part(a, 2000, 5000) and min(x[0] for x in up) == 2000,
       f"steps 2000-4999 (40 Hz): a superset of the 10 Hz raster, {len(up)} added spikes, the first in step {min(x[0] for x in up)}")
report(part(a, 5000, 7000) == part(b, 5000, 7000), "steps 5000-6999 (`for 300 ms` over: 10 Hz): identical again")
down = part(b, 7000, 10000) - part(a, 7000, 10000)
report(part(a, 7000, 10000) <= part(b, 7000, 10000) and min(x[0] for x in down) == 7000,
       f"steps 7000-9999 (2 Hz): a subset of the 10 Hz raster, {len(down)} removed spikes, the first in step {min(x[0] for x in down)}")
for lo, hi, rate in ((0, 2000, 10), (2000, 5000, 40), (5000, 7000, 10), (7000, 10000, 2)):
    k = len(part(a, lo, hi))
    p = rate * dt                                # a spike per neuron and step with probability p
    mean, sd = n * (hi - lo) * p, np.sqrt(n * (hi - lo) * p * (1 - p))
    report(abs(k - mean) < 4 * sd, f"steps {lo}-{hi - 1}: {k / (n * (hi - lo) * dt):.3f} Hz for {rate} Hz "
           f"({k} spikes, expected {mean:.0f} +- {sd:.0f})")
sys.exit(not ok)
PY
for t in 2 3; do
  "$eic" run tests/run/perturb_poisson.ei -o "$work/prate_t$t" --quiet --threads $t || fail "poisson rate: run, $t threads"
  for f in S_spikes E_spikes S_rate; do
    check "poisson rate: $f.npy with $t threads == 1 thread" cmp -s "$work/prate/$f.npy" "$work/prate_t$t/$f.npy"
  done
done
"$eic" build tests/run/perturb_poisson.ei -o "$work/prate_exe" || fail "poisson rate: eic build"
"$work/prate_exe" -o "$work/prate_aot" --quiet || fail "poisson rate: AOT run"
for f in S_spikes E_spikes S_rate; do
  check "poisson rate: $f.npy AOT == JIT" cmp -s "$work/prate/$f.npy" "$work/prate_aot/$f.npy"
done

echo "run_perturb.sh: $fails failure(s)"
[ $fails -eq 0 ]
