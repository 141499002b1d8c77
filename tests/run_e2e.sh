#!/usr/bin/env bash
# run_e2e.sh - end-to-end tests of `eic run` and `eic build` on real numbers
# (run by ctest as: bash run_e2e.sh EIC_BINARY SOURCE_DIR).
#   - a tiny network whose spike raster and membrane trace are computed by hand
#   - the CUBA and COBA benchmarks against Brian2's rates (BENCHMARKS.md)
#   - recordings bit-identical for 1, 2 and 3 threads, and between JIT and AOT
#   - an interrupted run leaves loadable files and an incomplete manifest
#   - exit codes: 3 for a blown-up state, 2 for usage errors, 1 for model errors
. "$(dirname "$0")/lib/e2e.sh" "$@"

cd "$src"

# --- the tiny network: closed-form raster and trace --------------------------
"$eic" run tests/run/tiny.ei -o "$work/tiny" --quiet || fail "tiny: run"
check "tiny: spike raster and membrane trace match the closed form" "$py" - "$work/tiny" <<'PY'
import json, math, sys
import numpy as np
d = sys.argv[1]
a, b, v = np.load(d + "/A_spikes.npy"), np.load(d + "/B_spikes.npy"), np.load(d + "/A_V.npy")
dt, tau, EL, Vr, Vth, Vinf = 1e-4, 0.02, -0.060, -0.060, -0.050, -0.060 + 300e-12 / 10e-9
T = tau * math.log((Vinf - Vr) / (Vinf - Vth))          # time to threshold from reset: 8.109 ms
charge = math.ceil(T / dt)                               # steps until V > V_th after an update
ref = round(2e-3 / dt)                                   # refractory: V held in steps s+1 .. s+ref-1
first = charge - 1                                       # spike recorded at the start of its step
period = ref + charge - 1                                # integration resumes in step s+ref (as Brian2)
steps = [first + k * period for k in range(20) if first + k * period < 1000]
got = np.rint(a["t"] / dt).astype(int).tolist()
assert got == steps, (got, steps)
assert (a["i"] == 0).all()
gotb = np.rint(b["t"] / dt).astype(int).tolist()
assert gotb == [s + 10 for s in steps if s + 10 < 1000], gotb      # 1 ms delay = 10 steps
# between reset and the first spike V follows Vinf + (Vr - Vinf) exp(-t/tau) exactly
t = np.arange(first + 1) * dt
exact = Vinf + (EL - Vinf) * np.exp(-t / tau)
err = np.max(np.abs(v[: first + 1, 0] - exact))
assert err < 1e-12, err
m = json.load(open(d + "/manifest.json"))
assert m["complete"] is True and m["populations"]["A"]["spikes"] == len(steps)
PY

# --- benchmarks against Brian2 (8 seeds, 1 s: BENCHMARKS.md) -----------------
rates() { "$py" -c "
import json,sys; m=json.load(open(sys.argv[1]+'/manifest.json'))
print(' '.join('%.3f' % m['populations'][p]['rate_hz'] for p in ('E','I')))" "$1"; }
in_range() { "$py" -c "import sys; v=float(sys.argv[1]); sys.exit(not (float(sys.argv[2]) <= v <= float(sys.argv[3])))" "$@"; }

for t in 1 2 3; do "$eic" run examples/cuba.ei -o "$work/cuba$t" --threads $t --quiet || fail "cuba: run --threads $t"; done
read -r cE cI < <(rates "$work/cuba1")
# Brian2: 5.6 +- 0.2 Hz (seed-to-seed); accept 3 standard deviations
check "cuba: E rate $cE Hz within Brian2's 5.6 +- 0.6 Hz" in_range "$cE" 5.0 6.2
check "cuba: I rate $cI Hz within Brian2's 5.6 +- 0.6 Hz" in_range "$cI" 5.0 6.2
for t in 2 3; do
  check "cuba: recordings bit-identical for 1 and $t threads" \
    cmp -s "$work/cuba1/E_spikes.npy" "$work/cuba$t/E_spikes.npy"
done

"$eic" run examples/coba.ei -o "$work/coba1" --threads 1 --quiet || fail "coba: run"
"$eic" run examples/coba.ei -o "$work/coba3" --threads 3 --quiet || fail "coba: run --threads 3"
read -r oE oI < <(rates "$work/coba1")
# Brian2: E 19.5 +- 1.1 Hz, I 19.4 +- 0.5 Hz; accept 3 standard deviations
check "coba: E rate $oE Hz within Brian2's 19.5 +- 3.3 Hz" in_range "$oE" 16.2 22.8
check "coba: I rate $oI Hz within Brian2's 19.4 +- 3.3 Hz" in_range "$oI" 16.1 22.7
for f in E_spikes.npy I_spikes.npy E_V.npy; do
  check "coba: $f bit-identical for 1 and 3 threads" cmp -s "$work/coba1/$f" "$work/coba3/$f"
done

# --- AOT ----------------------------------------------------------------------
if "$eic" build examples/coba.ei -o "$work/coba_exe"; then
  "$work/coba_exe" -o "$work/coba_aot" --threads 2 --quiet || fail "aot: run"
  for f in E_spikes.npy I_spikes.npy E_V.npy; do
    check "aot: $f bit-identical to eic run" cmp -s "$work/coba1/$f" "$work/coba_aot/$f"
  done
else
  fail "aot: eic build"
fi

# --- an interrupted run keeps what it recorded -------------------------------
"$eic" run examples/coba.ei -o "$work/intr" --duration 1000s --quiet &
pid=$!
sleep 2
kill -INT $pid
wait $pid
rc=$?
check "interrupt: exit code 3 after Ctrl-C (got $rc)" test $rc -eq 3
check "interrupt: files load, manifest says incomplete" "$py" - "$work/intr" <<'PY'
import json, sys
import numpy as np
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
assert m["complete"] is False, m["complete"]
for r in m["recordings"]:
    x = np.load(d + "/" + r["file"])
    assert len(x) > 0, r["file"]
PY

# --- output directories are created with their parents (make run writes out/coba) ------
"$eic" run tests/run/tiny.ei -o "$work/deep/er/dir" --quiet
check "outputs: -o creates missing parent directories" test -f "$work/deep/er/dir/manifest.json"

# --- periods beyond any run: no row after step 0, not one row per step ------------
sed 's/    record V of A every 0.1 ms/    record V of A every 1e300 s\n    record rate of A every 1e300 s/' \
    tests/run/tiny.ei > "$work/tiny_huge.ei"
"$eic" run "$work/tiny_huge.ei" -o "$work/tiny_huge" --quiet || fail "huge periods: run"
check "a recording period of 1e300 s gives step 0 only (V) and no rate bin" "$py" - "$work/tiny_huge" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
assert np.load(d + "/A_V.npy").shape == (1, 1), np.load(d + "/A_V.npy").shape
assert np.load(d + "/A_rate.npy").shape[0] == 0, np.load(d + "/A_rate.npy").shape
PY

# --- -D overrides -------------------------------------------------------------
"$eic" run examples/cuba.ei -o "$work/cuba_d" --threads 1 --quiet -D E.tau_m=10ms -D I.tau_m=20ms || fail "define: run"
read -r dE dI < <(rates "$work/cuba_d")
check "define: -D E.tau_m=10ms changes E's rate ($cE -> $dE Hz) and not the model file" \
  "$py" -c "import sys; sys.exit(not float(sys.argv[1]) > float(sys.argv[2]) + 5)" "$dE" "$cE"
out=$("$eic" run examples/cuba.ei -D E.tau_m=10mV 2>&1); rc=$?
check "define: a unit mismatch is a model error at the command line (exit $rc)" \
  test $rc -eq 1 -a -n "$(grep -F "<command line>:1:9: error: the override of 'tau_m' has unit 'mV', but 'ms' is expected" <<<"$out")"
"$eic" run examples/cuba.ei -D nonsense >/dev/null 2>&1; rc=$?
check "define: a malformed define exits 2 (got $rc)" test $rc -eq 2

# --- exit codes -----------------------------------------------------------------
out=$("$eic" run tests/run/nan.ei -o "$work/nan" --quiet 2>&1); rc=$?
check "nan: exit code 3 (got $rc)" test $rc -eq 3
check "nan: message names population, neuron, variable and time" \
  grep -q "population 'P' neuron 0: state 'x' is infinite .*t = " <<<"$out"
"$eic" run --threads 0 examples/cuba.ei >/dev/null 2>&1; rc=$?
check "usage: --threads 0 exits 2 (got $rc)" test $rc -eq 2
"$eic" frobnicate examples/cuba.ei >/dev/null 2>&1; rc=$?
check "usage: unknown command exits 2 (got $rc)" test $rc -eq 2
"$eic" run "$work/missing.ei" >/dev/null 2>&1; rc=$?
check "model: a missing file exits 1 (got $rc)" test $rc -eq 1

echo "run_e2e: $fails failure(s)"
exit $((fails > 0))
