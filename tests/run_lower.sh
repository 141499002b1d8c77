#!/usr/bin/env bash
# run_lower.sh - end-to-end tests of what the lowering (compiler/lower*.c)
# gives the runtime beyond neurons and projections, on real numbers
# (run by ctest as: bash run_lower.sh EIC_BINARY SOURCE_DIR):
#   - weight recordings [S-net-4b]: a plastic projection's recorded weights
#     equal pair STDP's closed form and an independent replica, sample by
#     sample; static weights stay; every = end-of-run sample; numpy loads all
#   - spike-time inputs [S-net-3] (CSV and .npy): each spike of neuron i at t
#     jumps neuron i of the target in step round(t/dt) + delay steps, exactly
#   - Poisson populations [S-net-1a]: spike count and Fano factor within
#     statistical tolerance; their spikes reach a target after the delay
#   - current schedules [S-net-3a]: `set I.amplitude` switches a LIF's
#     period to the closed form of each amplitude, at the step it says
#   - a three-factor rule (std DopamineSTDP): the weight changes only when
#     dopamine is released while the eligibility trace is nonzero, by the
#     closed-form amount at every `every` tick
#   - JIT and AOT give bit-identical files for all of the above
. "$(dirname "$0")/lib/e2e.sh" "$@"

cd "$src"

# --- weight recordings: pair STDP, sample by sample ----------------------------
sed 's/^    record Q of Plus, Minus$/&\n    record weights of Pre -> Plus every 1 ms\n    record weights of Pre -> Minus/' \
    tests/run/stdp_pairs.ei > "$work/stdp_w.ei"
grep -q 'record weights of Pre -> Plus every 1 ms' "$work/stdp_w.ei" || fail "weights: test model not made"
"$eic" run "$work/stdp_w.ei" -o "$work/w" --quiet || fail "weights: run"
check "weights: STDP weights every 1 ms equal the replica (rtol 1e-12), first pair +A_plus w_max e^-1/2; static 100 nS stays; end sample" \
    "$py" - "$work/w" <<'PY'
import json, math, sys
import numpy as np
d, dt = sys.argv[1], 1e-4
A_plus, A_minus, w_max, tau = 0.01, 0.0105, 10e-9, 0.020
pre = np.rint(np.load(d + "/Pre_spikes.npy")["t"] / dt).astype(int)

def replica(arrivals, posts, upto, w=5e-9):
    """Pair STDP, all-to-all, exact trace decay; the weight at t = upto*dt
    includes every event of the steps before `upto`."""
    for s in sorted(set(arrivals) | set(posts)):
        if s >= upto:
            break
        if s in arrivals:
            x_post = sum(math.exp(-(s - p) * dt / tau) for p in posts if p < s)
            w = min(max(w - A_minus * w_max * x_post, 0.0), w_max)
        if s in posts:
            x_pre = sum(math.exp(-(s - a) * dt / tau) for a in arrivals if a <= s)
            w = min(max(w + A_plus * w_max * x_pre, 0.0), w_max)
    return w

# Pre -> Plus: Kick (static) is the first connection, Count (STDP) the second
kick, stdp = np.load(d + "/Pre_Plus_weights.npy"), np.load(d + "/Pre_Plus_weights_2.npy")
assert kick.shape == stdp.shape == (2001, 1), (kick.shape, stdp.shape)   # rows at 0, 1, ..., 2000 ms
assert (kick == kick[0, 0]).all() and abs(kick[0, 0] / 100e-9 - 1) < 1e-15   # 100 nS, as folded
idx = np.load(d + "/Pre_Plus_weights_2_syn.npy")
assert idx.dtype.names == ("pre", "post") and idx.tolist() == [(0, 0)], idx
posts = np.rint(np.load(d + "/Plus_spikes.npy")["t"] / dt).astype(int)
arrivals = set((pre + 10).tolist())
want = np.array([replica(arrivals, set(posts.tolist()), 10 * k) for k in range(len(stdp))])
assert stdp[0, 0] == 5e-9
assert np.allclose(stdp[:, 0], want, rtol=1e-12, atol=0), np.max(np.abs(stdp[:, 0] / want - 1))
first = int(np.nonzero(np.diff(stdp[:, 0]))[0][0])
one = A_plus * w_max * math.exp(-0.010 / tau)
assert abs((stdp[first + 1, 0] - 5e-9) / one - 1) < 1e-9, (stdp[first + 1, 0] - 5e-9, one)
assert first == posts[0] // 10, (first, posts[0])   # the change shows in the first sample after the post spike
# Pre -> Minus without `every`: one sample at the end of the run
end = np.load(d + "/Pre_Minus_weights_2.npy")
posts_m = np.rint(np.load(d + "/Minus_spikes.npy")["t"] / dt).astype(int)
want_end = replica(set((pre + 110).tolist()), set(posts_m.tolist()), 20000)
assert end.shape == (1, 1) and abs(end[0, 0] / want_end - 1) < 1e-12, (end, want_end)
assert end[0, 0] < 5e-9                                   # post before pre: depressed
m = json.load(open(d + "/manifest.json"))
kinds = {r["file"]: r["kind"] for r in m["recordings"]}
assert kinds["Pre_Plus_weights_2.npy"] == "weights" and kinds["Pre_Minus_weights.npy"] == "weights", kinds
PY

# --- spike-time inputs: exact arrival steps ------------------------------------
cat > "$work/acc.ei" <<'EI'
import std.receptors
# Acc integrates nothing: V only jumps by the delta synapse's weight.
neuron Acc {
    state V = 0 mV
    dV/dt = 0 mV/s
    spike when V > 1 V { V = 0 mV }
}
network Net {
    population A = 3 of Acc
    input replay = spikes from "SPIKES" -> A via Delta weight 1 mV delay 2 ms
    record V of A
}
simulate Net for 20 ms dt 0.1 ms seed 3
EI
printf 'time_s,neuron\n0.0012,0\n0.00337,1\n0.0051,2\n0.0061,0\n0.00612,0\n0.0149,2\n' > "$work/spikes.csv"
"$py" -c "
import numpy as np
np.save('$work/spikes.npy', np.array([[0.0012, 0], [0.00337, 1], [0.0051, 2], [0.0061, 0], [0.00612, 0], [0.0149, 2]]))"
for ext in csv npy; do
  sed "s#SPIKES#$work/spikes.$ext#" "$work/acc.ei" > "$work/acc_$ext.ei"
  "$eic" run "$work/acc_$ext.ei" -o "$work/acc_$ext" --quiet || fail "spikes: run ($ext)"
  check "spikes ($ext): neuron i jumps 1 mV in step round(t/dt) + 20 for each of its spikes (two in one step count once)" \
      "$py" - "$work/acc_$ext" <<'PY'
import sys
import numpy as np
V = np.load(sys.argv[1] + "/A_V.npy")          # row r + 1: after step r
want = {0: [12 + 20, 61 + 20], 1: [34 + 20], 2: [51 + 20, 149 + 20]}
for i in range(3):
    d = np.diff(V[:, i])
    hit = np.nonzero(d)[0]
    assert hit.tolist() == want[i], (i, hit, want[i])
    assert (d[hit] == 1e-3).all(), d[hit]
PY
done
check "spikes: the .npy and CSV files give identical recordings" cmp -s "$work/acc_csv/A_V.npy" "$work/acc_npy/A_V.npy"
sed "s#SPIKES#$work/missing.csv#" "$work/acc.ei" > "$work/acc_missing.ei"
"$eic" run "$work/acc_missing.ei" -o "$work/acc_missing" --quiet 2> "$work/missing.err"; rc=$?
check "spikes: a missing spike file is a runtime error (exit 3) naming the file (exit $rc)" \
    sh -c "[ $rc -eq 3 ] && grep -q 'missing.csv' '$work/missing.err'"

# --- Poisson populations ---------------------------------------------------------
cat > "$work/poisson.ei" <<'EI'
import std.receptors
neuron Acc {
    state V = 0 mV
    dV/dt = 0 mV/s
    spike when V > 1 V { V = 0 mV }
}
network Net {
    population P = 1000 of poisson(rate = 5 Hz)
    population B = 1000 of Acc
    connect P -> B via Delta one_to_one weight 1 mV delay 1 ms
    record spikes of P
    record V of B[0..19]
}
simulate Net for 2 s dt 0.1 ms seed 7
EI
"$eic" run "$work/poisson.ei" -o "$work/poisson" --quiet || fail "poisson: run"
check "poisson: 1000 sources at 5 Hz for 2 s: count within 4 sd of 10000, Fano factor of the counts 1 +- 0.2, spikes reach B 10 steps later" \
    "$py" - "$work/poisson" <<'PY'
import sys
import numpy as np
d, dt, N, T, rate = sys.argv[1], 1e-4, 1000, 2.0, 5.0
s = np.load(d + "/P_spikes.npy")
p = rate * dt                                   # a spike with probability rate*dt per step
mean, sd = N * T / dt * p, np.sqrt(N * T / dt * p * (1 - p))
assert abs(len(s) - mean) < 4 * sd, (len(s), mean, sd)
counts = np.bincount(s["i"], minlength=N)
fano = counts.var(ddof=1) / counts.mean()
assert abs(fano - 1) < 0.2, fano
V = np.load(d + "/B_V.npy")
steps = np.rint(s["t"] / dt).astype(int)
for i in range(20):
    hit = np.nonzero(np.diff(V[:, i]))[0]
    want = steps[s["i"] == i] + 10
    assert hit.tolist() == want[want < 20000].tolist(), (i, hit, want)
PY

# --- current schedules: a LIF's period follows the amplitude ----------------------
cat > "$work/current.ei" <<'EI'
neuron LIF {
    parameter C_m = 200 pF, g_L = 10 nS, E_L = -70 mV
    parameter V_th = -50 mV, V_reset = -70 mV, t_ref = 2 ms
    state V = E_L
    dV/dt = (g_L*(E_L - V) + I_syn) / C_m
    spike when V > V_th { V = V_reset }
    refractory t_ref clamp V
}
network Net {
    population N = 1 of LIF
    input I = current 300 pA -> N
    record spikes of N
    at 500 ms set I.amplitude = 500 pA for 500 ms
    at 1200 ms set I.amplitude = 100 pA
}
simulate Net for 1.5 s dt 0.1 ms seed 1
EI
"$eic" run "$work/current.ei" -o "$work/current" --quiet || fail "current: run"
check "current: periods 300 pA -> 500 pA (at 500 ms) -> 300 pA (at 1 s) -> 100 pA (1.2 s, below rheobase) match the LIF closed form in steps" \
    "$py" - "$work/current" <<'PY'
import math, sys
import numpy as np
dt, tau, R, dV, n_ref = 1e-4, 0.020, 1e8, 0.020, 20
def period(I):
    """Steps between spikes: refractory steps, then the first step whose end
    is past the threshold: V(t) = E_L + I R (1 - exp(-t/tau))."""
    T = tau * math.log(I * R / (I * R - dV))
    return n_ref + math.ceil(T / dt - 1e-9) - 1
s = np.rint(np.load(sys.argv[1] + "/N_spikes.npy")["t"] / dt).astype(int)
isi = np.diff(s)
p300, p500 = period(300e-12), period(500e-12)
assert (p300, p500) == (239, 122), (p300, p500)
def isis(lo, hi):                                # intervals that start after lo and end before hi
    k = (s[:-1] >= lo) & (s[1:] < hi)
    return isi[k]
assert s[0] == p300 - n_ref, s[0]                # from rest: the first spike needs no refractory period
assert (isis(0, 5000) == p300).all() and len(isis(0, 5000)) == 20
assert (isis(5000 + p300, 10000) == p500).all() and len(isis(5000 + p300, 10000)) >= 38
assert (isis(10000 + p500, 12000) == p300).all() and len(isis(10000 + p500, 12000)) >= 7
assert s[-1] < 12000, s[-1]                      # 100 pA: I R = 10 mV < 20 mV, silent
PY

# --- three-factor rule: DopamineSTDP ---------------------------------------------
cat > "$work/da.ei" <<'EI'
import std.plasticity
import std.modulators
# Pre fires once (8.1 ms, then its drive is switched off). Its spike reaches
# Post through Count (the plastic synapse, arrival 9.1 ms) and through Kick
# (static, 11 ms: Post fires at 19.1 ms): one pre-before-post pair, +10 ms.
neuron LIF {
    parameter C_m = 200 pF, g_L = 10 nS, E_L = -60 mV
    parameter V_th = -50 mV, V_reset = -60 mV, t_ref = 2 ms
    state V = E_L
    dV/dt = (g_L*(E_L - V) + I_syn) / C_m
    spike when V > V_th { V = V_reset }
    refractory t_ref clamp V
}
neuron Target {
    parameter C_m = 200 pF, g_L = 10 nS
    state V = 0 mV, Q = 0 mV
    port soma(I_kick, V)
    port sum(I_sum, Q)
    dV/dt = (I_kick - g_L*V) / C_m
    dQ/dt = I_sum / (100 nF)
    spike when V > 1 mV { V = 0 mV }
    refractory 2 ms clamp V
}
receptor Kick onto soma {
    parameter tau = 0.2 ms
    state g = 0 nS
    dg/dt = -g/tau
    on spike(w) { g += w }
    current g*(1 V)
}
receptor Count onto sum {
    state g = 0 nS
    on spike(w) { g += w }
    current g*(1 mV)
}
network Three {
    population Pre = 1 of LIF
    population Post = 1 of Target
    input drive = current 300 pA -> Pre
    at 9 ms set drive.amplitude = 0 pA
    connect Pre -> Post via Count all_to_all weight 5 nS delay 1 ms with DopamineSTDP(eta = 100)
    connect Pre -> Post via Kick all_to_all weight 100 nS delay 11 ms   # KICK
    record spikes of Pre, Post
    record weights of Pre -> Post every 0.1 ms
    at 100 ms release Dopamine 1   # RELEASE
}
simulate Three for 1.5 s dt 0.1 ms seed 1
EI
grep -v '# RELEASE' "$work/da.ei" > "$work/da_norelease.ei"
grep -v '# KICK' "$work/da.ei" > "$work/da_nopair.ei"
for v in da da_norelease da_nopair; do
  "$eic" run "$work/$v.ei" -o "$work/$v" --quiet || fail "three-factor: run $v"
done
check "three-factor: pair + release: every tick after the release changes w by eta w_max (1 ms/tau_e) e(t) DA(t) (rtol 1e-8); nothing before" \
    "$py" - "$work/da" <<'PY'
import math, sys
import numpy as np
d, dt = sys.argv[1], 1e-4
A_plus, tau_plus, tau_e, eta, w_max, tau_da = 0.01, 0.020, 1.0, 100, 10e-9, 0.200
pre = np.rint(np.load(d + "/Pre_spikes.npy")["t"] / dt).astype(int)
post = np.rint(np.load(d + "/Post_spikes.npy")["t"] / dt).astype(int)
assert pre.tolist() == [81] and post.tolist() == [191], (pre, post)
w = np.load(d + "/Pre_Post_weights.npy")[:, 0]   # row r: after step r - 1
e0 = A_plus * math.exp(-(post[0] - (pre[0] + 10)) * dt / tau_plus)   # eligibility at the post spike
release = 1000
want = np.full(len(w) - 1, 0.0)
for s in range(9, len(want), 10):                # `every 1 ms`: after step s with (s+1) % 10 == 0
    if s >= release:                             # e and DA as of t = s*dt
        e = e0 * math.exp(-(s - post[0]) * dt / tau_e)
        da = math.exp(-(s - release) * dt / tau_da)
        want[s] = eta * w_max * e * da * 1e-3 / tau_e
dw = np.diff(w)
assert (dw[:release] == 0).all(), np.nonzero(dw[:release])
hit = np.nonzero(want)[0]
assert (np.nonzero(dw)[0] == hit).all()
assert np.allclose(dw[hit], want[hit], rtol=1e-8, atol=0), np.max(np.abs(dw[hit] / want[hit] - 1))
total = w[-1] - w[0]
r = math.exp(-1e-3 * (1 / tau_e + 1 / tau_da))      # geometric series of the ticks
first = want[hit[0]]
closed = first * (1 - r ** len(hit)) / (1 - r)
assert abs(total / closed - 1) < 1e-8, (total, closed)
assert total > 0.15e-9, total                      # a visible potentiation (about 0.93 nS)
PY
check "three-factor: without the release, or with the release but no pair (e = 0), w never changes" \
    "$py" -c "
import numpy as np
for v in ('da_norelease', 'da_nopair'):
    w = np.load('$work/' + v + '/Pre_Post_weights.npy')
    assert w.shape[0] == 15001 and (w == 5e-9).all(), (v, np.unique(w))
"

# --- JIT == AOT for the new descriptor parts ----------------------------------------
if "$eic" build "$work/acc_npy.ei" -o "$work/acc_exe" && "$eic" build "$work/poisson.ei" -o "$work/poisson_exe" &&
   "$eic" build "$work/current.ei" -o "$work/current_exe" && "$eic" build "$work/da.ei" -o "$work/da_exe" &&
   "$eic" build "$work/stdp_w.ei" -o "$work/w_exe"; then
  "$work/acc_exe" -o "$work/acc_aot" --quiet || fail "aot: run spikes"
  "$work/poisson_exe" -o "$work/poisson_aot" --quiet --threads 2 || fail "aot: run poisson"
  "$work/current_exe" -o "$work/current_aot" --quiet || fail "aot: run current"
  "$work/da_exe" -o "$work/da_aot" --quiet || fail "aot: run three-factor"
  "$work/w_exe" -o "$work/w_aot" --quiet || fail "aot: run weights"
  for f in acc_npy/A_V.npy:acc_aot/A_V.npy poisson/P_spikes.npy:poisson_aot/P_spikes.npy \
           poisson/B_V.npy:poisson_aot/B_V.npy current/N_spikes.npy:current_aot/N_spikes.npy \
           da/Pre_Post_weights.npy:da_aot/Pre_Post_weights.npy w/Pre_Plus_weights_2.npy:w_aot/Pre_Plus_weights_2.npy \
           w/Pre_Minus_weights_2.npy:w_aot/Pre_Minus_weights_2.npy; do
    check "aot: ${f%%:*} bit-identical to eic run" cmp -s "$work/${f%%:*}" "$work/${f##*:}"
  done
else
  fail "aot: eic build"
fi

echo "$fails failure(s)"
exit $((fails > 0))
