#!/usr/bin/env bash
# run_balance.sh - end-to-end tests of issue 5's balance monitor with sliding
# windows and of recorded definitions and port currents (probe kernels, ABI
# v5; run by ctest as: bash run_balance.sh EIC_BINARY SOURCE_DIR):
#   - tests/run/balance_sliding.ei: `record balance of E[2..9] window 25 ms
#     every 5 ms`; numpy recomputes every step's I_E and I_I from a state
#     recording of the same neurons (the inputs add exactly nothing, so the
#     currents are functions of the recorded states), then the sliding means,
#     ratio and correlation (two-pass): equal to 1e-12; rows from the first
#     complete window on, one every 5 ms; the manifest's window, every, rows
#   - population level (E_balance_pop.npy, float64 [windows, 4]): numpy
#     averages the same I_E, I_I over the 8 neurons per step, then the
#     window means, ratio and correlation of the averages: equal to 1e-12;
#     the mean columns equal the neuron average of E_balance.npy's means
#     (1e-13), the correlation differs from the neurons' average one; the
#     manifest names the file and its columns
#   - window 25 ms without every (H = W) gives rows equal to every 5th row
#     of the sliding run to 1e-13, and equal byte for byte to the same model
#     with `every 25 ms`
#   - `record I_syn, I_leak of E`: the port current g_E (E_E - V) +
#     g_I (E_I - V) + the injected current and the definition g_L (E_L - V)
#     from the recorded g and V, to 1e-15; `every 0.7 ms` samples steps 0, 7, ...
#   - 1 == 3 threads and JIT == AOT (eic build), byte for byte (the
#     population file too: the threads' samples are summed in neuron order)
#   - the monitored population E and its unmonitored twin F share one update
#     kernel (an alias); E alone has a probe kernel
#   - `window 25 ms every 10 ms` is [invalid-value] naming both values
. "$(dirname "$0")/lib/e2e.sh" "$@"

cd "$src"
model=tests/run/balance_sliding.ei
"$eic" run $model -o "$work/b1" --quiet --threads 1 || fail "balance: run"
sed 's/window 25 ms every 5 ms/window 25 ms/' $model > "$work/tumbling.ei"
sed 's/window 25 ms every 5 ms/window 25 ms every 25 ms/' $model > "$work/tumbling2.ei"
"$eic" run "$work/tumbling.ei" -o "$work/bt" --quiet || fail "balance: run, window only"
"$eic" run "$work/tumbling2.ei" -o "$work/bt2" --quiet || fail "balance: run, every = window"

check "balance: sliding windows (25 ms every 5 ms) == numpy from the state recording (1e-12); H = W == every 5th row" \
    "$py" - "$work/b1" "$work/bt" <<'PY'
import json, sys
import numpy as np
d, dt = sys.argv[1], 1e-4
V, gE, gI = (np.load(f"{d}/E_{n}.npy") for n in ("V", "Ex.g", "In.g"))
nsteps = 2000
V, gE, gI = V[:nsteps], gE[:nsteps], gI[:nsteps]          # row s: the state as step s starts
cE, cI = gE * (0.0 - V), gI * (-75e-3 - V)
IE = np.maximum(cE, 0) + np.maximum(cI, 0)
II = np.minimum(cE, 0) + np.minimum(cI, 0)
assert (IE > 0).all() and (II < 0).all()
W, H = 250, 50
rows = (nsteps - W) // H + 1
b = np.load(f"{d}/E_balance.npy")
assert b.shape == (rows, 8) and b.dtype.names == ("I_E", "I_I", "ratio", "corr"), b.shape
for r in range(rows):
    e, i = IE[r * H:r * H + W], II[r * H:r * H + W]
    me, mi = e.mean(0), i.mean(0)
    corr = -((e - me) * (i - mi)).sum(0) / np.sqrt(((e - me) ** 2).sum(0) * ((i - mi) ** 2).sum(0))
    for name, ref in (("I_E", me), ("I_I", mi), ("ratio", -mi / me)):
        err = np.abs(b[name][r] - ref).max() / np.abs(ref).max()
        assert err <= 1e-12, (r, name, err)
    assert np.abs(b["corr"][r] - corr).max() <= 1e-12, (r, np.abs(b["corr"][r] - corr).max())
assert np.abs(b["corr"]).max() > 0.1
rec = [x for x in json.load(open(f"{d}/manifest.json"))["recordings"] if x["kind"] == "balance"][0]
assert rec["windows"] == rows and abs(rec["window_s"] - 0.025) < 1e-15 and abs(rec["every_s"] - 0.005) < 1e-15, rec
t = np.load(f"{sys.argv[2]}/E_balance.npy")                # consecutive windows: rows 0, 5, 10, ...
assert t.shape == (nsteps // W, 8)
for name in ("I_E", "I_I", "ratio", "corr"):
    err = np.abs(t[name] - b[name][::W // H]).max() / np.abs(t[name]).max()
    assert err <= 1e-13, (name, err)
print(f"  {rows} rows of 8 neurons, corr in [{b['corr'].min():.3f}, {b['corr'].max():.3f}]")
PY
check "balance: window W == window W every W, byte for byte" cmp -s "$work/bt/E_balance.npy" "$work/bt2/E_balance.npy"

check "balance: population averages (E_balance_pop.npy) == numpy from the state recording (1e-12)" \
    "$py" - "$work/b1" "$work/bt" <<'PY'
import json, sys
import numpy as np
d, nsteps = sys.argv[1], 2000
V, gE, gI = (np.load(f"{d}/E_{n}.npy")[:nsteps] for n in ("V", "Ex.g", "In.g"))
cE, cI = gE * (0.0 - V), gI * (-75e-3 - V)
IE = (np.maximum(cE, 0) + np.maximum(cI, 0)).mean(1)       # the population averages per step
II = (np.minimum(cE, 0) + np.minimum(cI, 0)).mean(1)
W, H = 250, 50
rows = (nsteps - W) // H + 1
p = np.load(f"{d}/E_balance_pop.npy")
assert p.dtype == np.float64 and p.shape == (rows, 4), (p.dtype, p.shape)
for r in range(rows):
    e, i = IE[r * H:r * H + W], II[r * H:r * H + W]
    me, mi = e.mean(), i.mean()
    corr = -((e - me) * (i - mi)).sum() / np.sqrt(((e - me) ** 2).sum() * ((i - mi) ** 2).sum())
    for c, ref in ((0, me), (1, mi), (2, -mi / me)):
        assert abs(p[r, c] - ref) <= 1e-12 * abs(ref), (r, c, p[r, c], ref)
    assert abs(p[r, 3] - corr) <= 1e-12, (r, p[r, 3], corr)
b = np.load(f"{d}/E_balance.npy")                           # linear: the neurons' means average
for c, name in ((0, "I_E"), (1, "I_I")):
    err = np.abs(p[:, c] - b[name].mean(1)).max() / np.abs(p[:, c]).max()
    assert err <= 1e-13, (name, err)
assert np.abs(p[:, 3] - b["corr"].mean(1)).max() > 0.05    # global != mean of detailed balance
rec = [x for x in json.load(open(f"{d}/manifest.json"))["recordings"] if x["kind"] == "balance"][0]
assert rec["population_file"] == "E_balance_pop.npy", rec
assert rec["population_columns"] == ["I_E", "I_I", "ratio", "corr"] and rec["population_shape"] == "[windows, 4]", rec
t = np.load(f"{sys.argv[2]}/E_balance_pop.npy")             # H = W: rows 0, 5, 10, ... of the sliding run
assert t.shape == (nsteps // W, 4)
err = np.abs(t - p[::W // H]).max(0) / np.abs(t).max(0)
assert (err <= 1e-13).all(), err
print(f"  {rows} rows; ratio in [{p[:, 2].min():.3f}, {p[:, 2].max():.3f}], corr in [{p[:, 3].min():.3f}, {p[:, 3].max():.3f}]"
      f" (neurons' mean corr [{b['corr'].mean(1).min():.3f}, {b['corr'].mean(1).max():.3f}])")
PY
check "balance: population file, window W == window W every W, byte for byte" cmp -s "$work/bt/E_balance_pop.npy" "$work/bt2/E_balance_pop.npy"

check "probes: I_syn = g_E (E_E - V) + g_I (E_I - V) + 260 pA and I_leak = g_L (E_L - V) (1e-15); every 0.7 ms" \
    "$py" - "$work/b1" <<'PY'
import json, sys
import numpy as np
d = sys.argv[1]
V, gE, gI = (np.load(f"{d}/E_{n}.npy") for n in ("V", "Ex.g", "In.g"))
Isyn, Ileak, Isyn7 = (np.load(f"{d}/E_{n}.npy") for n in ("I_syn", "I_leak", "I_syn_2"))
n = 2000
assert Isyn.shape == (n, 8) and Ileak.shape == (n, 8) and Isyn7.shape == ((n + 6) // 7, 12), (Isyn.shape, Isyn7.shape)
ref = (260e-12 + gE[:n] * (0.0 - V[:n])) + gI[:n] * (-75e-3 - V[:n])
err = np.abs(Isyn - ref).max() / np.abs(ref).max()
assert err <= 1e-15, err
leak = 10e-9 * (-60e-3 - V[:n])
err2 = np.abs(Ileak - leak).max() / np.abs(leak).max()
assert err2 <= 1e-15, err2
assert (Isyn7[:, 2:10] == Isyn[::7]).all()                  # row k: step 7k, the same values
recs = {x["file"]: x for x in json.load(open(f"{d}/manifest.json"))["recordings"]}
assert recs["E_I_syn.npy"]["kind"] == "probe" and recs["E_I_syn.npy"]["units"] == ["A"]
assert recs["E_I_leak.npy"]["variables"] == ["I_leak"]
print(f"  I_syn max rel err {err:.1e}, I_leak {err2:.1e}")
PY

"$eic" run $model -o "$work/b3" --quiet --threads 3 || fail "balance: run, 3 threads"
"$eic" build $model -o "$work/exe" || fail "balance: eic build"
"$work/exe" -o "$work/aot" --quiet --threads 2 || fail "balance: AOT run"
for f in E_balance E_balance_pop E_I_syn E_I_leak E_I_syn_2 E_V E_spikes; do
  check "$f.npy: 3 threads == 1 thread" cmp -s "$work/b1/$f.npy" "$work/b3/$f.npy"
  check "$f.npy: AOT == JIT" cmp -s "$work/b1/$f.npy" "$work/aot/$f.npy"
done

ir=$("$eic" emit-llvm $model 2>/dev/null)
check "kernels: E and its twin F share eic_update_0; eic_probe_0 exists, no eic_probe_1" \
    bash -c '[[ "$1" == *"@eic_update_1 = alias"*"@eic_update_0"* && "$1" == *"define void @eic_probe_0("* && "$1" != *"eic_probe_1"* ]]' _ "$ir"

sed 's/window 25 ms every 5 ms/window 25 ms every 10 ms/' $model > "$work/bad.ei"
out=$("$eic" check "$work/bad.ei" 2>&1)
check "balance: 'every 10 ms' with 'window 25 ms' is [invalid-value] naming both" \
    bash -c '[[ "$1" == *"every"*"10 ms"*"25 ms"*"[invalid-value]"* ]]' _ "$out"

echo "run_balance.sh: $fails failure(s)"
[ "$fails" -eq 0 ]
