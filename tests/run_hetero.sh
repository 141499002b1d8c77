#!/usr/bin/env bash
# run_hetero.sh - per-neuron heterogeneity end to end ([S-neuron-1a],
# [S-neuron-4]; run by ctest as: bash run_hetero.sh EIC_BINARY SOURCE_DIR):
#   - a refractory period drawn per neuron (tests/run/hetero_tref.ei): under a
#     constant current every inter-spike interval of every neuron is, in steps,
#     round(t_ref/dt) + m - 1 for its own t_ref (recorded through `let tr =
#     t_ref`), m = the steps from reset to threshold of the closed form
#     (81.09 steps here, so m = 82); a per-neuron t_ref equal to a constant
#     one (1.25 ms = 12.5 steps exactly: rounded half away from zero, 13)
#     spikes exactly as the constant
#   - precision float: the same with each neuron's float t_ref (B's 1.25 ms
#     is 12.4999997 steps as a float: 12, C's double constant 13)
#   - the same with T = t_ref*k_ref and k_ref set from 1 to 2 at 100 ms
#     (tests/run/hetero_tref_event.ei, steps computed by the update kernel):
#     intervals starting before step 1000 use round(t_ref/dt), later ones
#     round(2 t_ref/dt)
#   - refractory periods far beyond 2^63 steps (tests/run/hetero_tref_huge.ei:
#     drawn per neuron, recomputed every step, constant; double and float,
#     where the drawn 1e300 s is an infinite float): every neuron spikes once
#     and stays refractory (the step count was INT64_MIN: never refractory)
#   - initial values computed per neuron (tests/run/hetero_init.ei), state
#     recording row 0 (t = 0): W == 2*V and X == E_L (drawn) exactly, Z == W + U
#     exactly although Z is declared first; U = normal(E_L, 2 mV) with E_L
#     drawn per neuron: z = (U - E_L)/2 mV has mean 0 and sd 1 and U follows
#     E_L with slope 1; Y = uniform(E_L - 1 mV, E_L + 1 mV): within its own
#     bounds, mean of (Y - E_L + 1 mV)/2 mV is 1/2 (bounds in the script)
#   - precision float: W == 2*V in float32 exactly
#   - 1 == 2 threads and JIT == AOT, byte for byte, for both models
. "$(dirname "$0")/lib/e2e.sh" "$@"

cd "$src"

# --- 1. refractory period per neuron ---------------------------------------------
"$eic" run tests/run/hetero_tref.ei -o "$work/t1" --quiet || fail "tref: run"
check "tref: every ISI = round(t_ref/dt) + 81 steps for the neuron's own t_ref; per-neuron 1.25 ms == constant 1.25 ms" \
  "$py" - "$work/t1" <<'PY'
import math, sys
import numpy as np
d = sys.argv[1]
dt, tau, EL, Vr, Vth = 1e-4, 0.02, -0.060, -0.060, -0.050
Vinf = EL + 300e-12 / 10e-9
m = 1
while not (Vinf + (Vr - Vinf) * math.exp(-m * dt / tau) > Vth):   # steps from reset to the spike
    m += 1
assert m == 82, m
s, tr = np.load(d + "/A_spikes.npy"), np.load(d + "/A_tr.npy")[0]
assert tr.shape == (40,) and tr.min() >= 0.5e-3 and tr.max() < 6e-3, tr
assert tr.min() < 1.5e-3 and tr.max() > 5e-3, (tr.min(), tr.max())   # the draws do differ
nref = np.floor(tr / dt + 0.5).astype(int)                            # round half away (tr > 0)
seen = set()
for i in range(40):
    st = np.rint(s["t"][s["i"] == i] / dt).astype(int)
    assert len(st) >= 10, (i, st)
    isi = np.diff(st)
    assert np.all(isi == nref[i] + m - 1), (i, tr[i], nref[i], isi)
    seen.add(nref[i])
assert len(seen) >= 20, sorted(seen)                                  # many different periods
b, c = np.load(d + "/B_spikes.npy"), np.load(d + "/C_spikes.npy")
assert len(c) > 40 and np.array_equal(b["t"], c["t"]) and np.array_equal(b["i"], c["i"])
assert 1.25 * 1e-3 / dt == 12.5                                     # a tie: round() gives 13
gaps = np.diff(np.rint(c["t"][c["i"] == 0] / dt).astype(int))
assert np.all(gaps == 13 + m - 1), gaps                               # the constant's steps
PY

sed 's/seed 3$/seed 3 precision float/' tests/run/hetero_tref.ei > "$work/tref_float.ei"
grep -q 'precision float$' "$work/tref_float.ei" || fail "tref float: could not make the model"
"$eic" run "$work/tref_float.ei" -o "$work/tf" --quiet || fail "tref float: run"
check "tref float: ISI = round(t_ref/dt) + 81 for the float t_ref; 1.25 ms as a float is 12.4999997 steps: 12, not the double constant's 13" \
  "$py" - "$work/tf" <<'PY'
import sys
import numpy as np
d, dt = sys.argv[1], 1e-4
s, tr = np.load(d + "/A_spikes.npy"), np.load(d + "/A_tr.npy")[0]
assert np.array_equal(tr, tr.astype(np.float32).astype(float))      # the float values, widened
for i in range(40):
    st = np.rint(s["t"][s["i"] == i] / dt).astype(int)
    assert np.all(np.diff(st) == np.floor(tr[i] / dt + 0.5) + 81), (i, tr[i])
b, c = np.load(d + "/B_spikes.npy"), np.load(d + "/C_spikes.npy")
assert np.all(np.diff(np.rint(b["t"][b["i"] == 0] / dt)) == 12 + 81)
assert np.all(np.diff(np.rint(c["t"][c["i"] == 0] / dt)) == 13 + 81)
PY

"$eic" run tests/run/hetero_tref_event.ei -o "$work/e1" --quiet || fail "tref event: run"
check "tref event: ISI = round(k t_ref/dt) + 81 with k = 1 before step 1000, 2 from it" \
  "$py" - "$work/e1" <<'PY'
import sys
import numpy as np
d, dt = sys.argv[1], 1e-4
s, tr = np.load(d + "/A_spikes.npy"), np.load(d + "/A_tr.npy")[0]
n_after = 0
for i in range(10):
    st = np.rint(s["t"][s["i"] == i] / dt).astype(int)
    for a, b in zip(st[:-1], st[1:]):
        k = 2 if a >= 1000 else 1
        assert b - a == np.floor(k * tr[i] / dt + 0.5) + 81, (i, tr[i], a, b)
        n_after += k == 2
assert n_after >= 30, n_after
PY

for prec in double float; do
  sed "s/seed 3\$/seed 3 precision $prec/" tests/run/hetero_tref_huge.ei > "$work/huge_$prec.ei"
  grep -q "precision $prec\$" "$work/huge_$prec.ei" || fail "tref huge $prec: could not make the model"
  "$eic" run "$work/huge_$prec.ei" -o "$work/h_$prec" --quiet || fail "tref huge $prec: run"
  check "tref huge ($prec): a period beyond 2^63 steps outlasts the run: one spike per neuron (init kernel, every step, constant)" \
    "$py" - "$work/h_$prec" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
for p in "ABC":
    s = np.load(d + "/%s_spikes.npy" % p)
    assert len(s) == 8 and sorted(s["i"]) == list(range(8)), (p, len(s), s["i"])
    assert np.all(np.rint(s["t"] / 1e-4) == 81), (p, s["t"])     # the first spike, step 81
PY
done

# --- 2. initial values per neuron -------------------------------------------------
"$eic" run tests/run/hetero_init.ei -o "$work/i1" --quiet || fail "init: run"
check "init: W == 2V, X == E_L, Z == W + U exactly at t = 0; per-neuron normal and uniform parameters" \
  "$py" - "$work/i1" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
ld = lambda n: np.load(d + "/A_%s.npy" % n)[0]
V, W, U, X, Y, Z, el = (ld(n) for n in "V W U X Y Z el".split())
N = 4000
assert V.shape == (N,) and V.min() >= -0.070 and V.max() < -0.055
assert np.array_equal(W, 2 * V)
assert np.array_equal(X, el) and el.min() >= -0.065 and el.max() < -0.055 and el.std() > 2e-3
assert np.array_equal(Z, W + U)
z = (U - el) / 2e-3                              # normal(E_L, 2 mV): standard normal draws
assert abs(z.mean()) < 4 / np.sqrt(N), z.mean()                      # 4 sd of the mean: 0.063
assert abs(z.std() - 1) < 4 * np.sqrt(0.5 / N), z.std()              # 4 sd of the sd: 0.045
slope = np.polyfit(el, U, 1)[0]                  # U follows its own E_L (se 0.011)
assert abs(slope - 1) < 0.05, slope
u = (Y - el + 1e-3) / 2e-3                       # uniform(E_L - 1 mV, E_L + 1 mV)
assert u.min() >= -1e-9 and u.max() < 1 + 1e-9, (u.min(), u.max())
assert abs(u.mean() - 0.5) < 4 * np.sqrt(1 / 12 / N), u.mean()       # 0.018
assert abs(np.polyfit(el, Y, 1)[0] - 1) < 0.02
PY

sed 's/seed 5$/seed 5 precision float/' tests/run/hetero_init.ei > "$work/init_float.ei"
grep -q 'precision float$' "$work/init_float.ei" || fail "init float: could not make the model"
"$eic" run "$work/init_float.ei" -o "$work/if" --quiet || fail "init float: run"
check "init float: float32 recordings, W == 2V exactly, X == E_L" "$py" - "$work/if" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
V, W, X, el = (np.load(d + "/A_%s.npy" % n)[0] for n in ("V", "W", "X", "el"))
assert V.dtype == np.float32 and W.dtype == np.float32, (V.dtype, W.dtype)
assert np.array_equal(W, 2 * V) and np.array_equal(X.astype(float), el)
PY

# --- 3. threads and AOT -----------------------------------------------------------
same_dir() { # a b: every .npy of a equals b's
  local f
  for f in "$1"/*.npy; do cmp -s "$f" "$2/$(basename "$f")" || return 1; done
}
for m in tref tref_event init; do
  "$eic" run tests/run/hetero_$m.ei -o "$work/${m}2" --threads 2 --quiet || fail "$m: run --threads 2"
  "$eic" build tests/run/hetero_$m.ei -o "$work/${m}_aot" || fail "$m: build"
  "$work/${m}_aot" -o "$work/${m}a" --quiet || fail "$m: AOT run"
done
check "tref: 1 == 2 threads" same_dir "$work/t1" "$work/tref2"
check "tref: JIT == AOT" same_dir "$work/t1" "$work/trefa"
check "tref event: 1 == 2 threads" same_dir "$work/e1" "$work/tref_event2"
check "tref event: JIT == AOT" same_dir "$work/e1" "$work/tref_eventa"
check "init: 1 == 2 threads" same_dir "$work/i1" "$work/init2"
check "init: JIT == AOT" same_dir "$work/i1" "$work/inita"

exit $((fails > 0))
