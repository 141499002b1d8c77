#!/usr/bin/env bash
# run_expeuler.sh - the exponential Euler step end to end (SPEC [S-ode-3a]; run by ctest as:
# bash run_expeuler.sh EIC_BINARY SOURCE_DIR).
#   - tests/run/expeuler_leak.ei: 1003 leaky membranes with per-neuron leak conductances, about
#     one in eight beyond |a*dt| = 0.35 (the closed forms; vectors of neurons both all-polynomial
#     and mixed): every neuron follows its closed form V_inf + (V(0) - V_inf) exp(-t g_L/C_m)
#     to 1e-15 V over 50 steps; recordings bit-identical for 1, 2 and 3 threads and eic build
#   - examples/coba.ei with `method exponential_euler`: rates within Brian2's ranges
#     (BENCHMARKS.md), recordings bit-identical for 1 and 3 threads and eic build
#   - `eic check --explain` says how phi1 is computed
. "$(dirname "$0")/lib/e2e.sh" "$@"

cd "$src"

# --- per-neuron exact decay through both code paths -------------------------------------------
leak=tests/run/expeuler_leak.ei
for t in 1 2 3; do "$eic" run $leak -o "$work/leak$t" --threads $t --quiet || fail "leak: run --threads $t"; done
check "leak: every neuron on its closed form within 1e-15 V, both paths used" "$py" - "$work/leak1" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
v, gl = np.load(d + "/P_V.npy"), np.load(d + "/P_gl.npy")[0]
dt, C, EL, Ie = 1e-4, 200e-12, -0.060, 100e-12
z = -gl * dt / C
slow = np.abs(z) > 0.35
assert 0.05 < slow.mean() < 0.25, slow.mean()
lanes = [slow[i:i + 8] for i in range(0, len(slow), 8)]
assert any(l.any() for l in lanes) and any(not l.any() for l in lanes)
k = np.arange(v.shape[0])[:, None]
vinf = EL + Ie / gl
exact = vinf + (0.0 - vinf) * np.exp(-k * dt * gl / C)
err = np.abs(v - exact)
assert err[:, slow].max() < 1e-15 and err[:, ~slow].max() < 1e-15, (err[:, slow].max(), err[:, ~slow].max())
PY
for t in 2 3; do
  check "leak: V bit-identical for 1 and $t threads" cmp -s "$work/leak1/P_V.npy" "$work/leak$t/P_V.npy"
done
aot_check "leak" $leak "$work/leak1" P_V.npy --threads 2
check "leak: --explain says how phi1 is computed" \
  bash -c "'$eic' check --explain $leak | grep -q 'V: exact - .*phi1(a\*dt) = (exp(a\*dt) - 1)/(a\*dt) by a degree-10 polynomial.*closed forms beyond'"

# --- COBA by exponential Euler ----------------------------------------------------------------
sed 's/ method euler$/ method exponential_euler/' examples/coba.ei > "$work/coba_ee.ei"
grep -q 'method exponential_euler$' "$work/coba_ee.ei" || fail "coba: the example no longer ends in 'method euler'"
for t in 1 3; do "$eic" run "$work/coba_ee.ei" -o "$work/coba$t" --threads $t --quiet || fail "coba: run --threads $t"; done
check "coba: E and I rates within Brian2's 19.5 +- 3.3 Hz" "$py" - "$work/coba1" <<'PY'
import json, sys
m = json.load(open(sys.argv[1] + "/manifest.json"))
r = [m["populations"][p]["rate_hz"] for p in ("E", "I")]
assert all(16.1 <= x <= 22.8 for x in r), r
PY
for f in E_spikes.npy I_spikes.npy E_V.npy; do
  check "coba: $f bit-identical for 1 and 3 threads" cmp -s "$work/coba1/$f" "$work/coba3/$f"
done
aot_check "coba" "$work/coba_ee.ei" "$work/coba1" "E_spikes.npy I_spikes.npy E_V.npy" --threads 2

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
