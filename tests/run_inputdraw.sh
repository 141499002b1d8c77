#!/usr/bin/env bash
# run_inputdraw.sh - end-to-end tests of Poisson inputs whose weight or delay
# is drawn per target neuron (SPEC [S-net-3], [S-net-3b]; run by ctest as:
# bash run_inputdraw.sh EIC_BINARY SOURCE_DIR), on real numbers:
#   - `weight uniform(0.1 mV, 0.3 mV)` onto a Delta receptor of a neuron
#     without dynamics: every jump of a neuron's V is a whole multiple of one
#     weight of its own (its first jump, rtol 1e-9), inside [0.1, 0.3) mV,
#     weights differ between neurons, mean and sd within 5 standard errors
#   - `delay uniform(1 ms, 3 ms)` at dt = 0.1 ms with ~100 arrivals per step:
#     each neuron's first arrival is in a step d_i in 10..30 with the
#     rounded-uniform histogram (5 sigma), and `at 4 ms set drive.rate = 0 Hz`
#     stops it after step 40 + d_i - 1 (the event reaches it d_i late)
#   - a constant delay of 1e300 s delivers nothing, as the drawn
#     uniform(1e300 s, 1e300 s) does (it overflowed to a negative shift:
#     the trains started at once)
#   - 1 == 2 threads and eic run == eic build, bit for bit
# The draws' exact keys are checked in tests/unit/test_rt_input_draw.c.
. "$(dirname "$0")/lib/e2e.sh" "$@"

cd "$src"

# --- 1. a weight drawn per neuron -----------------------------------------------------
cat > "$work/wdraw.ei" <<'EOF'
import std.receptors
neuron Acc {
    state V = 0 mV
    dV/dt = 0 mV/s
    spike when V > 1 V { V = 0 mV }
}
network Net {
    population A = 2000 of Acc
    input drive = poisson 2 rate 100 Hz -> A via Delta weight uniform(0.1 mV, 0.3 mV)
    record V of A
}
simulate Net for 20 ms dt 0.1 ms seed 3
EOF
"$eic" run "$work/wdraw.ei" -o "$work/wdraw1" --quiet --threads 1 || fail "drawn weight: run"
"$eic" run "$work/wdraw.ei" -o "$work/wdraw2" --quiet --threads 2 || fail "drawn weight: run, 2 threads"
check "drawn weight: each neuron's jumps are multiples of its own weight in [0.1, 0.3) mV; mean 0.2 mV, sd 0.0577 mV (5 se)" \
    "$py" - "$work/wdraw1" <<'PY'
import sys
import numpy as np
v = np.load(sys.argv[1] + "/A_V.npy")            # [steps, 2000], volts
jumps = np.diff(v, axis=0)
assert (jumps >= 0).all()
ws = []
for i in range(v.shape[1]):
    j = jumps[:, i][jumps[:, i] > 0]
    if len(j) == 0:
        continue
    w = j[0]                                     # first arrival: almost always one spike
    c = j / w
    if not np.allclose(c, np.rint(c), rtol=0, atol=1e-9) or np.rint(c).min() != 1:
        w = j.min()                              # first arrival held two spikes
        c = j / w
    assert np.allclose(c, np.rint(c), rtol=0, atol=1e-9), (i, j)
    ws.append(w)
ws = np.array(ws)
n = len(ws)
assert n > 1900, n                               # P(no arrival in 200 steps) = e^-4
assert (ws >= 0.1e-3 * (1 - 1e-9)).all() and (ws < 0.3e-3 * (1 + 1e-9)).all(), (ws.min(), ws.max())
sd = 0.2e-3 / np.sqrt(12)
assert abs(ws.mean() - 0.2e-3) < 5 * sd / np.sqrt(n), ws.mean()
assert abs(ws.std(ddof=1) / sd - 1) < 5 / np.sqrt(2 * n), ws.std(ddof=1)
assert len(np.unique(np.round(ws / 1e-12))) > 0.99 * n  # one weight per neuron, not one per input
PY
check "drawn weight: 1 == 2 threads" cmp -s "$work/wdraw1/A_V.npy" "$work/wdraw2/A_V.npy"

# precision float: the same draws (V within float rounding of the double run), 1 == 2 threads
sed 's/seed 3$/seed 3 precision float/' "$work/wdraw.ei" > "$work/wdrawf.ei"
"$eic" run "$work/wdrawf.ei" -o "$work/wdrawf1" --quiet --threads 1 || fail "drawn weight, float: run"
"$eic" run "$work/wdrawf.ei" -o "$work/wdrawf2" --quiet --threads 2 || fail "drawn weight, float: run, 2 threads"
check "drawn weight, float: V within 1e-6 (relative) of the double run; 1 == 2 threads" \
    "$py" - "$work/wdraw1" "$work/wdrawf1" "$work/wdrawf2" <<'PY'
import sys
import numpy as np
d, f1, f2 = (np.load(x + "/A_V.npy") for x in sys.argv[1:])
assert f1.dtype == np.float32 and (f1.view(np.uint32) == f2.view(np.uint32)).all()
assert d.max() > 0 and np.allclose(f1, d, rtol=1e-6, atol=0), np.max(np.abs(f1 / np.where(d == 0, 1, d) - 1))
PY

# --- 2. a delay drawn per neuron ------------------------------------------------------
cat > "$work/ddraw.ei" <<'EOF'
import std.receptors
neuron Acc {
    state V = 0 mV
    dV/dt = 0 mV/s
    spike when V > 1 V { V = 0 mV }
}
network Net {
    population A = 1000 of Acc
    input drive = poisson 1000 rate 1000 Hz -> A via Delta weight 1 uV delay uniform(1 ms, 3 ms)
    record V of A
    at 4 ms set drive.rate = 0 Hz
}
simulate Net for 8 ms dt 0.1 ms seed 4
EOF
"$eic" run "$work/ddraw.ei" -o "$work/ddraw1" --quiet --threads 1 || fail "drawn delay: run"
"$eic" run "$work/ddraw.ei" -o "$work/ddraw2" --quiet --threads 2 || fail "drawn delay: run, 2 threads"
check "drawn delay: first arrival in step d_i (10..30, rounded-uniform histogram), last in step 40 + d_i - 1" \
    "$py" - "$work/ddraw1" <<'PY'
import sys
import numpy as np
v = np.load(sys.argv[1] + "/A_V.npy")            # row k: V after step k - 1
arr = np.diff(v, axis=0) > 0                     # [k, i]: arrivals in step k (row k+1 - row k)
arr = np.vstack([v[:1] > 0, arr])                # row 0 holds the initial value (0)
steps = np.arange(arr.shape[0]) - 1              # arr row r: step r - 1
first = np.array([steps[np.argmax(arr[:, i])] for i in range(arr.shape[1])])
last = np.array([steps[len(arr) - 1 - np.argmax(arr[::-1, i])] for i in range(arr.shape[1])])
assert arr.any(axis=0).all()
assert first.min() >= 10 and first.max() <= 30, (first.min(), first.max())
assert (last == 40 + first - 1).all(), np.nonzero(last != 40 + first - 1)
for i in range(arr.shape[1]):                    # every step in between has arrivals (P(none) = e^-100)
    assert arr[first[i] + 1:last[i] + 2, i].all(), i
h = np.bincount(first, minlength=31)
for d in range(10, 31):
    lam = 1000 / 20 * (0.5 if d in (10, 30) else 1)
    assert abs(h[d] - lam) < 5 * np.sqrt(lam), (d, h[d], lam)
PY
check "drawn delay: 1 == 2 threads" cmp -s "$work/ddraw1/A_V.npy" "$work/ddraw2/A_V.npy"

# --- a delay beyond any run: constant as drawn ---------------------------------------
for dly in "1e300 s" "uniform(1e300 s, 1e300 s)"; do
  sed -e "s/ delay uniform(1 ms, 3 ms)/ delay $dly/" -e "/set drive.rate/d" "$work/ddraw.ei" > "$work/dhuge.ei"
  grep -q "delay $dly" "$work/dhuge.ei" || fail "huge delay $dly: could not make the model"
  "$eic" run "$work/dhuge.ei" -o "$work/dhuge" --quiet || fail "huge delay $dly: run"
  check "delay $dly: no arrival in the run" "$py" -c "
import sys, numpy as np
V = np.load(sys.argv[1])
assert np.all(V == 0), np.count_nonzero(V)" "$work/dhuge/A_V.npy"
done

# --- JIT == AOT -----------------------------------------------------------------------
for m in wdraw ddraw; do
  if "$eic" build "$work/$m.ei" -o "$work/${m}_exe" && "$work/${m}_exe" -o "$work/${m}_aot" --quiet --threads 2; then
    check "aot: $m bit-identical to eic run" cmp -s "$work/${m}1/A_V.npy" "$work/${m}_aot/A_V.npy"
  else
    fail "aot: $m: eic build or run"
  fi
done

echo "$fails failure(s)"
exit $((fails > 0))
