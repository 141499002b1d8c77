#!/usr/bin/env bash
# run_perturb.sh - perturbations of the protocol language on real numbers (run by ctest as:
# bash run_perturb.sh EIC_BINARY SOURCE_DIR):
#   - `at T [for D] set P.rate = R` of a Poisson population (SPEC [S-net-1a]): before step
#     round(T/dt) the raster is bit for bit that of the run without the event (same draws), from
#     that step on a higher rate adds spikes to it (a superset) and a lower one removes some (a
#     subset), `for D` gives the run without the event back from round((T + D)/dt) on; the rate in
#     each interval is within 4 standard deviations of its expectation; 1 == 2 == 3 threads and
#     JIT == AOT, byte for byte.
#   - `silence POP[a..b] fraction F [for D]` and `lesion POP[a..b] fraction F` (SPEC [S-net-10]):
#     exactly round(F*(b - a + 1)) neurons of the range emit nothing while the event holds, every
#     other spike is that of the run without the events, bit for bit (so none outside the range
#     is touched and the silenced ones fire again after D at their former rate); the choice of a
#     smaller fraction is a subset of a larger one's; 1 == 2 == 3 threads; JIT == AOT.
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

# --- silence and lesion neuron ranges ----------------------------------------------------
grep -v 'silence\|lesion' tests/run/perturb_silence.ei > "$work/silence_base.ei"
sed 's/E\[50..149\] fraction 0.5/E[50..149] fraction 0.3/' tests/run/perturb_silence.ei > "$work/silence_03.ei"
"$eic" run tests/run/perturb_silence.ei -o "$work/sil" --quiet --threads 1 || fail "silence: run"
"$eic" run "$work/silence_base.ei" -o "$work/silbase" --quiet --threads 1 || fail "silence: run without events"
"$eic" run "$work/silence_03.ei" -o "$work/sil03" --quiet --threads 1 || fail "silence: run with fraction 0.3"
check "silence/lesion of ranges: exactly round(F*n) neurons of the range silent, nothing else changes" \
    "$py" - "$work/sil" "$work/silbase" "$work/sil03" <<'PY'
import sys
import numpy as np
dt = 1e-4
ok = True
def report(cond, text):
    global ok
    ok &= bool(cond)
    print(("  ok   " if cond else "  FAIL ") + text)
def trains(d, pop, n):
    s = np.load(f"{d}/{pop}_spikes.npy")
    st = np.rint(s["t"] / dt).astype(int)
    return [st[s["i"] == i] for i in range(n)]
# E: both events at once. The silence of E[50..149] (steps 1000-2999) and the lesion of
# E[200..249] (from step 4000) touch disjoint neurons, so check each on its own neurons.
a, b = trains(sys.argv[1], "E", 300), trains(sys.argv[2], "E", 300)
def lost_in(lo, hi, t0, t1):
    out = set()
    for i in range(lo, hi + 1):
        inside = (b[i] >= t0) & (b[i] < t1)
        if len(a[i]) == len(b[i][~inside]) and (a[i] == b[i][~inside]).all() and inside.any() and len(a[i]) < len(b[i]):
            out.add(i)
    return out
changed = {i for i in range(300) if len(a[i]) != len(b[i]) or not (a[i] == b[i]).all()}
s1, s2 = lost_in(50, 149, 1000, 3000), lost_in(200, 249, 4000, 6000)
report(changed == s1 | s2 and len(s1) == 50 and len(s2) == 10,
       f"E: {len(s1)} of E[50..149] silent in steps 1000-2999 (expected 50), {len(s2)} of E[200..249] lesioned "
       f"from step 4000 (expected 10); the {300 - len(changed)} other neurons' trains are identical to the run without events")
rate = lambda tr, t0, t1: sum(((x >= t0) & (x < t1)).sum() for x in tr) / (len(tr) * (t1 - t0) * dt)
before, during, after = (rate([a[i] for i in sorted(s1)], t0, t1) for t0, t1 in ((0, 1000), (1000, 3000), (3000, 6000)))
report(before > 10 and during == 0 and abs(after - before) < 0.05 * before,
       f"E's silenced neurons: {before:.1f} Hz before, {during:.1f} Hz while silenced, {after:.1f} Hz after `for 200 ms`")
# S: Poisson, 100 Hz; 90 of S[100..399] silent in steps 2000-2999
a, b = trains(sys.argv[1], "S", 1000), trains(sys.argv[2], "S", 1000)
changed = {i for i in range(1000) if len(a[i]) != len(b[i]) or not (a[i] == b[i]).all()}
s3 = lost_in(100, 399, 2000, 3000)
report(changed == s3 and len(s3) == 90,
       f"S (Poisson): {len(s3)} of S[100..399] silent in steps 2000-2999 (expected 90), every other train identical")
# fraction 0.3 of the same range and key: a subset of fraction 0.5's choice
a, b = trains(sys.argv[3], "E", 300), trains(sys.argv[2], "E", 300)
s03 = lost_in(50, 149, 1000, 3000)
report(len(s03) == 30 and s03 <= s1, f"fraction 0.3 of E[50..149]: {len(s03)} neurons, a subset of fraction 0.5's 50")
sys.exit(not ok)
PY
for t in 2 3; do
  "$eic" run tests/run/perturb_silence.ei -o "$work/sil_t$t" --quiet --threads $t || fail "silence: run, $t threads"
  for f in E_spikes S_spikes; do
    check "silence: $f.npy with $t threads == 1 thread" cmp -s "$work/sil/$f.npy" "$work/sil_t$t/$f.npy"
  done
done
"$eic" build tests/run/perturb_silence.ei -o "$work/sil_exe" || fail "silence: eic build"
"$work/sil_exe" -o "$work/sil_aot" --quiet || fail "silence: AOT run"
for f in E_spikes S_spikes; do
  check "silence: $f.npy AOT == JIT" cmp -s "$work/sil/$f.npy" "$work/sil_aot/$f.npy"
done

echo "run_perturb.sh: $fails failure(s)"
[ $fails -eq 0 ]
