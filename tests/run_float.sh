#!/usr/bin/env bash
# run_float.sh - `simulate ... precision float` end to end ([S-cg-7]; run by
# ctest as: bash run_float.sh EIC_BINARY SOURCE_DIR).
#   - a LIF neuron with a constant current fires with the closed-form period
#     (to within one step) and its V trace follows the exact solution to
#     float accuracy; the V recording is float32 and the manifest says so
#   - COBA in float: rates within Brian2's seed-to-seed spread, initial V the
#     double run's rounded to float, recordings bit-identical for 1, 2 and 3
#     threads and between JIT and AOT
#   - the optimised IR of the update loop works on <16 x float> or <8 x float>
#   - a plastic projection with precision float is an [unsupported] error
. "$(dirname "$0")/lib/e2e.sh" "$@"

cd "$src"

# --- LIF with a constant current: closed-form period ---------------------------
"$eic" run tests/run/float_lif.ei -o "$work/lif" --quiet || fail "lif: run"
check "lif: float period within one step of the closed form, V trace exact to float accuracy" \
  "$py" - "$work/lif" <<'PY'
import json, math, sys
import numpy as np
d = sys.argv[1]
a, v = np.load(d + "/A_spikes.npy"), np.load(d + "/A_V.npy")
assert v.dtype == np.float32, v.dtype
m = json.load(open(d + "/manifest.json"))
rec = [r for r in m["recordings"] if r["file"] == "A_V.npy"][0]
assert rec["dtype"] == "float32", rec
dt, tau, EL, Vr, Vth = 1e-4, 0.02, -0.060, -0.060, -0.050
Vinf = EL + 300e-12 / 10e-9
T = tau * math.log((Vinf - Vr) / (Vinf - Vth))         # 8.109 ms from reset to threshold
period = 2e-3 + T                                       # t_ref + T (continuous time)
steps = np.rint(a["t"] / dt).astype(int)
assert len(steps) >= 15, steps
gaps = np.diff(steps) * dt
assert np.all(np.abs(gaps - period) <= dt), (gaps, period)
first = steps[0]
t = np.arange(first + 1) * dt
exact = Vinf + (EL - Vinf) * np.exp(-t / tau)
err = np.max(np.abs(v[: first + 1, 0].astype(float) - exact))
assert 0 < err < 1e-6, err                              # float, not double (< 1e-12 there)
PY

# --- COBA in float -----------------------------------------------------------------
sed 's/^simulate COBA .*method euler$/& precision float/' examples/coba.ei > "$work/coba_float.ei"
grep -q 'precision float$' "$work/coba_float.ei" || fail "coba: could not make the float model"
for t in 1 2 3; do
  "$eic" run "$work/coba_float.ei" -o "$work/f$t" --threads $t --quiet || fail "coba float: run --threads $t"
done
"$eic" run examples/coba.ei -o "$work/d1" --threads 1 --quiet || fail "coba double: run"
rates() { "$py" -c "
import json,sys; m=json.load(open(sys.argv[1]+'/manifest.json'))
print(' '.join('%.3f' % m['populations'][p]['rate_hz'] for p in ('E','I')))" "$1"; }
in_range() { "$py" -c "import sys; v=float(sys.argv[1]); sys.exit(not (float(sys.argv[2]) <= v <= float(sys.argv[3])))" "$@"; }
read -r fE fI < <(rates "$work/f1")
# Brian2: E 19.5 +- 1.1 Hz, I 19.4 +- 0.5 Hz over seeds; the double run's check in run_e2e.sh
check "coba float: E rate $fE Hz within Brian2's 19.5 +- 3.3 Hz" in_range "$fE" 16.2 22.8
check "coba float: I rate $fI Hz within Brian2's 19.4 +- 3.3 Hz" in_range "$fI" 16.1 22.7
for t in 2 3; do
  for f in E_spikes.npy I_spikes.npy E_V.npy; do
    check "coba float: $f bit-identical for 1 and $t threads" cmp -s "$work/f1/$f" "$work/f$t/$f"
  done
done
check "coba float: V is float32, starts at the double run's V rounded, stays close" \
  "$py" - "$work/f1" "$work/d1" <<'PY'
import sys
import numpy as np
f, d = np.load(sys.argv[1] + "/E_V.npy"), np.load(sys.argv[2] + "/E_V.npy")
assert f.dtype == np.float32 and d.dtype == np.float64, (f.dtype, d.dtype)
assert f.shape == d.shape, (f.shape, d.shape)
assert np.array_equal(f[0], d[0].astype(np.float32))     # initial values: one rounding
assert not np.array_equal(f.astype(float), d)             # it ran in float
# the first 5 ms, before any spike timing can differ, agree to float accuracy
assert np.max(np.abs(f[:6].astype(float) - d[:6])) < 1e-6
PY

if "$eic" build "$work/coba_float.ei" -o "$work/coba_float_exe"; then
  "$work/coba_float_exe" -o "$work/aot" --threads 2 --quiet || fail "coba float: aot run"
  for f in E_spikes.npy I_spikes.npy E_V.npy; do
    check "coba float: $f bit-identical between JIT and AOT" cmp -s "$work/f1/$f" "$work/aot/$f"
  done
else
  fail "coba float: eic build"
fi

# --- IR: the update loop works on float vectors --------------------------------
"$eic" emit-llvm "$work/coba_float.ei" > "$work/coba_float.ll" 2>&1 || fail "coba float: emit-llvm"
check "coba float: IR has <16 x float> or <8 x float> vectors" grep -qE '<(16|8) x float>' "$work/coba_float.ll"
check "coba float: IR has no double vectors" bash -c "! grep -q 'x double>' '$work/coba_float.ll'"

# --- plastic projections are rejected -------------------------------------------
"$eic" run tests/golden/unsupported/invalid_precision_float_plastic.ei -o "$work/pl" --quiet 2> "$work/pl.err"
rc=$?
check "plastic + precision float: exit 1 with [unsupported]" \
  test "$rc" -eq 1 -a -n "$(grep -F "'precision float' with a plastic projection" "$work/pl.err" | grep -F '[unsupported]')"

if [ $fails -ne 0 ]; then
  echo "run_float.sh: $fails FAILED"
  exit 1
fi
echo "run_float.sh: all passed"
