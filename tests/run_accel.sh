#!/usr/bin/env bash
# run_accel.sh - declared acceleration of slow plasticity ([S-net-2b]) and
# contexts that scale plasticity rates ([S-ctx-3]), on real numbers
# (run by ctest as: bash run_accel.sh EIC_BINARY SOURCE_DIR).
#   - acceleration: examples/synaptic_scaling.ei rewritten with slow time
#     constants (period 5 s, tau_rate 10 s) and `accelerated by 100` gives
#     recordings bit-identical to the hand-accelerated example (50 ms, 100 ms);
#     manifest.json states {"In->E SynapticScalingCurrent": 100} (and {} for
#     the example); without the factor the same file does not recover within
#     the run (so the factor is what makes the difference); JIT == AOT
#   - contexts: tests/run/accel_context.ei (pair STDP, Boost scales A_plus and
#     A_minus by 1 + NE, entered with NE = 1 from 0.7 s to 1.4 s): the weight
#     change of each pair is 2x the change of the same pair in
#     tests/run/stdp_pairs.ei (no context) inside the window and 1x outside
#     (rtol 1e-9; 1e-6 for the -10 ms pairs, whose neighbours add e^-15 terms); 1 == 2 threads; JIT == AOT
. "$(dirname "$0")/lib/e2e.sh" "$@"

cd "$src"

# --- acceleration: slow constants + declared factor == hand-accelerated ----------
hand='tau_rate = 100 ms, gamma = 0.05, period = 50 ms, w_max = 1 nA)'
slow='tau_rate = 10 s, gamma = 0.05, period = 5 s, w_max = 1 nA)'
grep -qF "$hand" examples/synaptic_scaling.ei || fail "accel: the example's rule call changed (update this test)"
mkdir -p "$work/m"
sed "s/$hand/$slow accelerated by 100/" examples/synaptic_scaling.ei > "$work/m/accel.ei"
sed "s/$hand/$slow/" examples/synaptic_scaling.ei > "$work/m/slow.ei"
grep -q "accelerated by 100" "$work/m/accel.ei" || fail "accel: sed"
"$eic" run examples/synaptic_scaling.ei -o "$work/hand" --quiet || fail "accel: run hand-accelerated"
"$eic" run "$work/m/accel.ei" -o "$work/accel" --quiet || fail "accel: run declared"
"$eic" run "$work/m/slow.ei" -o "$work/slow" --quiet || fail "accel: run slow"
for f in E_rate In_rate; do
    check "accel: $f.npy bit-identical to the hand-accelerated example" cmp -s "$work/hand/$f.npy" "$work/accel/$f.npy"
done
check "accel: manifest states the factor per projection and rule ({} without)" "$py" - "$work" <<'PY'
import json, sys
d = sys.argv[1]
a = json.load(open(d + "/accel/manifest.json"))["acceleration"]
h = json.load(open(d + "/hand/manifest.json"))["acceleration"]
assert a == {"In->E SynapticScalingCurrent": 100}, a
assert h == {}, h
PY
check "accel: without the factor the slow rule does not recover in 10 s (< 80% of the target)" "$py" - "$work" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
for run, recovers in (("accel", True), ("slow", False)):
    E = np.load(d + "/%s/E_rate.npy" % run)
    late = E[140:200].mean()              # 7-10 s, 50-ms bins
    assert (abs(late / 5 - 1) < 0.1) == recovers and (late < 4) != recovers, (run, late)
PY
if "$eic" build "$work/m/accel.ei" -o "$work/accel_exe"; then
    "$work/accel_exe" -o "$work/accel_aot" --quiet || fail "accel: aot run"
    check "accel: AOT E_rate.npy bit-identical to JIT" cmp -s "$work/accel/E_rate.npy" "$work/accel_aot/E_rate.npy"
    check "accel: AOT manifest states the factor" grep -qF '"acceleration": {"In->E SynapticScalingCurrent": 100}' \
        "$work/accel_aot/manifest.json"
else
    fail "accel: eic build"
fi

# --- contexts scaling plasticity rates ----------------------------------------------
"$eic" run tests/run/stdp_pairs.ei -o "$work/pairs" --quiet || fail "ctx: run without context"
"$eic" run tests/run/accel_context.ei -o "$work/ctx" --quiet || fail "ctx: run"
"$eic" run tests/run/accel_context.ei -o "$work/ctx2" --quiet --threads 2 || fail "ctx: run 2 threads"
check "ctx: pair changes 2x inside the context (0.7-1.4 s), 1x before and after" "$py" - "$work" <<'PY'
import sys
import numpy as np
d, k = sys.argv[1], 1e-4 * 1e-3 / 100e-9
def changes(run, name):
    Q = np.load(d + "/%s/%s_Q.npy" % (run, name))[:, 0]
    g = np.diff(Q) / k
    amp = np.diff(np.concatenate([[0.0], g]))
    return np.diff(amp[np.abs(amp) > 1e-14])   # weight change of each pair
pre = np.load(d + "/ctx/Pre_spikes.npy")["t"]
assert (pre == np.load(d + "/pairs/Pre_spikes.npy")["t"]).all()
upd = pre[:-1] + 0.011                          # each pair's update: pre + 11 ms
want = np.where((upd >= 0.7) & (upd < 1.4), 2.0, 1.0)
assert 1 <= (want == 2).sum() < len(want) - 1, want   # pairs inside and after the window
# on Minus each post spike also potentiates through the previous arrival's
# trace at e^-14.9 (3e-7 of a change), scaled by the factor in effect then
for name, rtol in (("Plus", 1e-9), ("Minus", 1e-6)):
    base, got = changes("pairs", name), changes("ctx", name)
    assert len(got) == len(base) == len(want), (len(got), len(base), len(want))
    assert np.allclose(got / base, want, rtol=rtol, atol=0), (name, got / base)
PY
for f in Plus_Q Minus_Q; do
    check "ctx: $f.npy 1 thread == 2 threads" cmp -s "$work/ctx/$f.npy" "$work/ctx2/$f.npy"
done
if "$eic" build tests/run/accel_context.ei -o "$work/ctx_exe"; then
    "$work/ctx_exe" -o "$work/ctx_aot" --quiet || fail "ctx: aot run"
    check "ctx: AOT Plus_Q.npy / Minus_Q.npy bit-identical to JIT" \
        sh -c "cmp -s '$work/ctx/Plus_Q.npy' '$work/ctx_aot/Plus_Q.npy' && cmp -s '$work/ctx/Minus_Q.npy' '$work/ctx_aot/Minus_Q.npy'"
else
    fail "ctx: eic build"
fi

[ "$fails" -eq 0 ] || { echo "run_accel.sh: $fails failed"; exit 1; }
echo "run_accel.sh: all passed"
