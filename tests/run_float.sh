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
#   - plastic projections and synapse models in float (synapse state double,
#     neurons float, [S-cg-7]):
#     - Tsodyks-Markram (examples/tsodyks_markram.ei, float): the EPSC
#       amplitudes, read as the steps of the float receptor state Count.g,
#       match the closed-form recursion to within float's rounding of the
#       running sum (|err| <= 2^-24 (|g_before| + |g_after|) + 2^-23 amp, about
#       3e-6 relative at worst here, 5e-7 for the facilitating synapse); the
#       synapse state itself is double, so there is no other error
#     - Vogels et al. 2011 (examples/vogels2011.ei, 2 s, float): E starts fast
#       (> 10 Hz in 0-0.5 s) and its rate over 1-2 s is within 15 % of the
#       double run's (the network is chaotic: float follows another
#       trajectory; seeds 1-4 in double give 3.10-3.96 Hz, float minus double
#       per seed -4 % .. +8 %); the mean learned I->E weight at 2 s within
#       3 % of double's (seeds 1-4: 2.17-2.32 nS in double, float minus
#       double -0.2 % .. +0.9 %); weight recordings float64; recordings
#       bit-identical for 1 and 2 threads and between JIT and AOT
#     - Song et al. 2000 (examples/song2000.ei, 30 s of learning, float):
#       the weight distribution is bimodal as in double (middle density < 0.7x
#       both ends; seed 1: double 0.51x/0.60x, float 0.53x/0.60x); weight
#       recordings stay float64 ('<f8', manifest dtype float64)
#     - a rule reading post.V and pre.V (tests/run/float_prepost.ei): every
#       new weight equals k*(post.V - pre.V) computed in double from the
#       float32 V recordings at the start of the arrival step, bit for bit;
#       1 == 2 threads, JIT == AOT
#     - the manifest gives each population's precision
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

aot_check "coba float" "$work/coba_float.ei" "$work/f1" "E_spikes.npy I_spikes.npy E_V.npy" --threads 2

# --- IR: the update loop works on float vectors --------------------------------
"$eic" emit-llvm "$work/coba_float.ei" > "$work/coba_float.ll" 2>&1 || fail "coba float: emit-llvm"
check "coba float: IR has <16 x float> or <8 x float> vectors" grep -qE '<(16|8) x float>' "$work/coba_float.ll"
check "coba float: IR has no double vectors" bash -c "! grep -q 'x double>' '$work/coba_float.ll'"

# --- plastic projections in float: Tsodyks-Markram --------------------------------
sed -e 's/^simulate .*seed 1$/& precision float/' \
    -e 's/^    record V of Dep, Fac, Shared$/    record V, Count.g of Dep, Fac, Shared/' \
    examples/tsodyks_markram.ei > "$work/tm_float.ei"
grep -q 'precision float$' "$work/tm_float.ei" && grep -q 'Count.g of' "$work/tm_float.ei" \
  || fail "tm: could not make the float model"
"$eic" run "$work/tm_float.ei" -o "$work/tm" --quiet || fail "tm float: run"
check "tm float: EPSC amplitudes (steps of the float Count.g) match the TM recursion within float rounding" \
  "$py" - "$work/tm" <<'PY'
import json, sys
import numpy as np
from e2e_ref import tm_recursion
d, dt, delay = sys.argv[1], 1e-4, 10
m = json.load(open(d + "/manifest.json"))
assert all(p["precision"] == "float32" for p in m["populations"].values()), m["populations"]
arrive = np.rint(np.load(d + "/Pre_spikes.npy")["t"] / dt).astype(int) + delay
arrive = arrive[arrive < 3000]
assert len(arrive) >= 20, arrive

def recursion(U, tau_rec, tau_fac):
    return tm_recursion(arrive, dt, U, tau_rec, tau_fac)

worst = {}
for name, col, want in (("Dep", 0, recursion(0.5, 0.8, None)), ("Fac", 0, recursion(0.1, 0.1, 1.0)),
                        ("Shared", 0, recursion(0.5, 0.8, None)), ("Shared", 1, recursion(0.5, 0.8, None))):
    g32 = np.load(d + "/%s_Count.g.npy" % name)
    assert g32.dtype == np.float32, g32.dtype
    g = g32[:, col].astype(float)          # row r+1: after step r
    amp = np.diff(g)
    hit = np.nonzero(amp != 0)[0]
    assert (hit == arrive).all(), (name, hit, arrive)
    err = np.abs(amp[hit] - want)
    bound = 2.0**-24 * (np.abs(g[hit]) + np.abs(g[hit + 1])) + 2.0**-23 * want
    assert (err <= bound).all(), (name, err / bound)
    worst[name + str(col)] = np.max(err / want)
assert 0 < worst["Dep0"] < 1e-5 and 0 < worst["Fac0"] < 1e-5, worst   # float, not double (1e-15)
print(" ".join("%s %.1e" % kv for kv in worst.items()))
PY

# --- plastic projections in float: Vogels et al. 2011, 2 s --------------------------
sed 's/^simulate Vogels2011 for 10 s/simulate Vogels2011 for 2 s/' examples/vogels2011.ei > "$work/vog_d.ei"
sed 's/^simulate Vogels2011 for 10 s\(.*\)$/simulate Vogels2011 for 2 s\1 precision float/' \
  examples/vogels2011.ei > "$work/vog_f.ei"
grep -q 'for 2 s.*precision float$' "$work/vog_f.ei" || fail "vogels: could not make the float model"
for w in weights; do   # add a weight recording of the plastic I -> E projection
  sed -i "s/^    record spikes of E, I$/&\n    record $w of I -> E every 1 s/" "$work/vog_d.ei" "$work/vog_f.ei"
done
"$eic" run "$work/vog_d.ei" -I examples -o "$work/vd" --quiet || fail "vogels double: run"
for t in 1 2; do
  "$eic" run "$work/vog_f.ei" -I examples -o "$work/vf$t" --threads $t --quiet || fail "vogels float: run --threads $t"
done
check "vogels float: E fast before learning, rate over 1-2 s within 15% and mean I->E weight within 3% of double" \
  "$py" - "$work/vf1" "$work/vd" <<'PY'
import json, sys
import numpy as np
f, d = sys.argv[1], sys.argv[2]
rf, rd = np.load(f + "/E_rate.npy"), np.load(d + "/E_rate.npy")
print("E rate 0-0.5 s: float %.2f, double %.2f Hz; 1-2 s: float %.3f, double %.3f Hz"
      % (rf[:5].mean(), rd[:5].mean(), rf[10:20].mean(), rd[10:20].mean()))
assert rf[:5].mean() > 10 and rd[:5].mean() > 10
assert abs(rf[10:20].mean() / rd[10:20].mean() - 1) < 0.15
assert 2 < rf[10:20].mean() < 5
m = json.load(open(f + "/manifest.json"))
assert m["populations"]["E"]["precision"] == "float32", m["populations"]
rec = [r for r in m["recordings"] if r["kind"] == "weights"][0]
assert rec["dtype"] == "float64", rec
w, wd = np.load(f + "/" + rec["file"]), np.load(d + "/" + rec["file"])
assert w.dtype == np.float64 and w.shape == wd.shape, (w.dtype, w.shape, wd.shape)
assert w[0].max() == 0 and w[-1].mean() > 0, (w[0].max(), w[-1].mean())   # from 0 nS
# learned inhibition: the mean I->E weight after 2 s agrees with double's within 3 %
print("mean I->E weight at 2 s: float %.4g, double %.4g nS" % (w[-1].mean() * 1e9, wd[-1].mean() * 1e9))
assert abs(w[-1].mean() / wd[-1].mean() - 1) < 0.03
PY
for f in E_spikes.npy I_spikes.npy E_balance.npy I_E_weights.npy; do
  check "vogels float: $f bit-identical for 1 and 2 threads" cmp -s "$work/vf1/$f" "$work/vf2/$f"
done
EIC_PATH=examples aot_check "vogels float" "$work/vog_f.ei" "$work/vf1" \
  "E_spikes.npy I_spikes.npy E_balance.npy I_E_weights.npy" --threads 2
aot_check "tm float" "$work/tm_float.ei" "$work/tm" "Dep_Count.g.npy Fac_Count.g.npy Shared_Count.g.npy Shared_V.npy"

# --- plastic projections in float: a rule reading post.V and pre.V -----------------
for t in 1 2; do
  "$eic" run tests/run/float_prepost.ei -o "$work/pp$t" --threads $t --quiet || fail "prepost float: run --threads $t"
done
check "prepost float: each new w == k*(post.V - pre.V) of the float states at its arrival step, exactly" \
  "$py" - "$work/pp1" <<'PY'
import sys
import numpy as np
d, delay = sys.argv[1], 10
w, syn = np.load(d + "/Pre_Post_weights.npy"), np.load(d + "/Pre_Post_weights_syn.npy")
vpre, vpost = np.load(d + "/Pre_V.npy"), np.load(d + "/Post_V.npy")
assert vpre.dtype == np.float32 and vpost.dtype == np.float32 and w.dtype == np.float64
vpre, vpost = vpre.astype(float), vpost.astype(float)    # exact
k = 0.1 * 1e-9 / 1e-3                 # 0.1 nS/mV in SI, folded as the compiler does
spk = np.load(d + "/Pre_spikes.npy")
arrive = {(int(round(t / 1e-4)) + delay, int(i)) for t, i in spk}
n = 0
for s in range(len(w) - 1):           # sample s+1: after step s; V row s: start of step s
    for q in np.nonzero(w[s + 1] != w[s])[0]:
        i, j = int(syn[q]["pre"]), int(syn[q]["post"])
        assert (s, i) in arrive, (s, i)
        assert w[s + 1, q] == k * (vpost[s, j] - vpre[s, i]), (s, i, j, w[s + 1, q], k * (vpost[s, j] - vpre[s, i]))
        n += 1
assert n >= 30, n
PY
check "prepost float: weights and V bit-identical for 1 and 2 threads" \
  bash -c "cmp -s '$work/pp1/Pre_Post_weights.npy' '$work/pp2/Pre_Post_weights.npy' && cmp -s '$work/pp1/Post_V.npy' '$work/pp2/Post_V.npy'"
aot_check "prepost float" tests/run/float_prepost.ei "$work/pp1" "Pre_Post_weights.npy Post_V.npy"

# --- plastic projections in float: Song et al. 2000, 30 s of learning --------------
for p in d f; do
  sed -e '/record x of Post/d; /at 60 s set/d' \
      -e 's/^    record rate of Post every 10 s$/&\n    record weights of In -> Post every 10 s/' \
      -e "s/^simulate Song2000 for 70 s\(.*\)$/simulate Song2000 for 30 s\1$([ $p = f ] && echo ' precision float')/" \
      examples/song2000.ei > "$work/song_$p.ei"
  "$eic" run "$work/song_$p.ei" -o "$work/song_$p" --quiet || fail "song $p: run"
done
grep -q 'for 30 s.*precision float$' "$work/song_f.ei" || fail "song: could not make the float model"
check "song float: the weight distribution turns bimodal as in double; weights float64 within bounds" \
  "$py" - "$work/song_f" "$work/song_d" <<'PY'
import json, sys
import numpy as np
out = []
for d in sys.argv[1:]:
    m = json.load(open(d + "/manifest.json"))
    rec = [r for r in m["recordings"] if r["kind"] == "weights"][0]
    assert rec["dtype"] == "float64", rec
    w = np.load(d + "/" + rec["file"])
    assert w.dtype == np.float64 and w.shape == (4, 1000), (w.dtype, w.shape)   # 0, 10, 20, 30 s
    x = w[-1] / 1e-4                       # in units of w_max = 0.1 mV
    assert x.min() >= 0 and x.max() <= 1, (x.min(), x.max())
    dens = lambda lo, hi: ((x >= lo) & (x < hi)).sum() / (hi - lo)
    low, mid, high = dens(0, 0.2), dens(0.3, 0.7), dens(0.8, 1.0001)
    out.append((mid / low, mid / high))
    r = np.load(d + "/Post_rate.npy")
    assert 5 < r[-1] < 100, r
print("middle/low, middle/high: float %.2f %.2f, double %.2f %.2f" % (out[0] + out[1]))
assert max(out[0]) < 0.7 and max(out[1]) < 0.7, out
assert json.load(open(sys.argv[1] + "/manifest.json"))["populations"]["Post"]["precision"] == "float32"
PY

if [ $fails -ne 0 ]; then
  echo "run_float.sh: $fails FAILED"
  exit 1
fi
echo "run_float.sh: all passed"
