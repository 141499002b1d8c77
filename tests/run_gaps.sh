#!/usr/bin/env bash
# run_gaps.sh - end-to-end tests of the language gaps closed for issues 4 and 5
# (run by ctest as: bash run_gaps.sh EIC_BINARY SOURCE_DIR), on real numbers:
#   - receptor state recordings [S-net-4]: `record AMPA.g of E` equals the
#     closed form of the exact decay after known input spikes
#   - random initial values declared in a body [S-neuron-1a]: range and
#     moments of the draws, overrides win, identical for 1/2/3 threads
#   - connections between neuron ranges [S-net-2]: connectivity stays inside
#     the ranges with the rule's degree statistics; a tiny network's delivery
#     is exact (replica of every arrival); identical for 1 and 3 threads
#   - spike-time inputs onto a neuron range [S-net-3]: file neuron k reaches
#     neuron a + k, an index beyond the range is a runtime error
#   - Poisson input delays [S-net-3b]: no input before the delay, the rate
#     event acts `delay` later, per-step counts match the rates
#   - JIT and AOT give bit-identical files for all of the above
. "$(dirname "$0")/lib/e2e.sh" "$@"

cd "$src"

# --- 1. receptor states: AMPA.g after known spikes ------------------------------------
printf 'time_s,neuron\n0.001,0\n0.0035,1\n0.0035,0\n' > "$work/kick.csv"
cat > "$work/recg.ei" <<EOF
import std.neurons
import std.receptors
receptor Slow {
    parameter tau = 3 ms, E_rev = 0 mV
    state g = 0 nS
    dg/dt = -g/tau
    on spike(w) { g += w }
    current g*(E_rev - V)
}
network Net {
    population E = 3 of LIF
    input kick = spikes from "$work/kick.csv" -> E via AMPA weight 2 nS delay 0.5 ms
    input kick2 = spikes from "$work/kick.csv" -> E via Slow weight 3 nS
    record AMPA.g, Slow.g, V of E every 0.1 ms
}
simulate Net for 10 ms dt 0.1 ms seed 1
EOF
"$eic" run "$work/recg.ei" -o "$work/recg" --quiet || fail "receptor state: run"
check "receptor state: AMPA.g and Slow.g equal the closed-form decay after each arrival (rtol 1e-12); manifest names them" \
    "$py" - "$work/recg" <<'PY'
import json, math, sys
import numpy as np
d, dt = sys.argv[1], 1e-4
spikes = [(10, 0), (35, 1), (35, 0)]          # (emission step, neuron)
def want(w, tau, delay_steps, n_rows):
    g = np.zeros((n_rows, 3))
    for s, i in spikes:
        a = s + delay_steps                   # arrival step; row k holds the state after step k-1
        for k in range(a + 1, n_rows):
            g[k, i] += w * math.exp(-(k - a) * dt / tau)
    return g
ampa, slow = np.load(d + "/E_AMPA.g.npy"), np.load(d + "/E_Slow.g.npy")
assert ampa.shape == slow.shape == (101, 3), ampa.shape
for got, ref in ((ampa, want(2e-9, 5e-3, 5, 101)), (slow, want(3e-9, 3e-3, 1, 101))):
    assert (got[ref == 0] == 0).all()
    assert np.allclose(got, ref, rtol=1e-12, atol=0), np.max(np.abs(got - ref))
assert ampa[16, 0] == 2e-9 * math.exp(-dt / 5e-3)                  # one exact propagator step
m = json.load(open(d + "/manifest.json"))
recs = {r["file"]: r for r in m["recordings"]}
assert recs["E_AMPA.g.npy"]["variables"] == ["AMPA.g"] and recs["E_AMPA.g.npy"]["units"] == ["S"], recs
assert recs["E_Slow.g.npy"]["kind"] == "state"
PY

# --- 2. random initial values declared in the neuron body -----------------------------
cat > "$work/init.ei" <<'EOF'
neuron Noisy {
    parameter E_L = -60 mV, V_th = -50 mV, tau = 20 ms
    state V = uniform(E_L, V_th)
    state r = uniform(0, 1)
    state n = normal(2 mV, 0.5 mV)
    dV/dt = (E_L - V)/tau
    dr/dt = -r/tau
    spike when V > 0 mV { V = E_L }
}
network Net {
    population E = 20000 of Noisy
    population F = 20000 of Noisy(E_L = -65 mV, n = normal(0 mV, 1 mV))
    population G = 10 of Noisy(V = -70 mV)
    record V, r, n of E every 1 ms
    record V, n of F every 1 ms
    record V of G every 1 ms
}
simulate Net for 1 ms dt 0.1 ms seed 3
EOF
for t in 1 2 3; do "$eic" run "$work/init.ei" -o "$work/init$t" --threads $t --quiet || fail "init: run, $t threads"; done
check "init: uniform/normal draws in range with the right moments (5 sigma); overrides win; V and r independent" \
    "$py" - "$work/init1" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
load = lambda p, v: np.load("%s/%s_%s.npy" % (d, p, v))[0]
def moments(x, mean, var, lo=None, hi=None):
    n = len(x)
    assert abs(x.mean() - mean) < 5 * np.sqrt(var / n), (x.mean(), mean)
    assert abs(x.var() / var - 1) < 5 * np.sqrt(2.0 / n), (x.var(), var)   # generous for uniform
    if lo is not None:
        assert x.min() >= lo and x.max() < hi, (x.min(), x.max())
    assert len(np.unique(x)) > 0.99 * n                    # one draw per neuron
V, r, n = load("E", "V"), load("E", "r"), load("E", "n")
moments(V, -55e-3, (10e-3) ** 2 / 12, -60e-3, -50e-3)
moments(r, 0.5, 1 / 12, 0, 1)
moments(n, 2e-3, (0.5e-3) ** 2)
moments(load("F", "V"), -57.5e-3, (15e-3) ** 2 / 12, -65e-3, -50e-3)   # E_L override reaches the bounds
moments(load("F", "n"), 0, (1e-3) ** 2)                                 # the population's override wins
assert (load("G", "V") == -70e-3).all()
assert abs(np.corrcoef(V, r)[0, 1]) < 5 / np.sqrt(len(V))             # separate streams per variable
PY
for t in 2 3; do
  for f in E_V E_r E_n F_V F_n; do
    check "init: $f identical for 1 and $t threads" cmp -s "$work/init1/$f.npy" "$work/init$t/$f.npy"
  done
done

# --- 3. connections between neuron ranges ---------------------------------------------
cat > "$work/ranges.ei" <<'EOF'
import std.neurons
import std.receptors
network Net {
    population E = 1000 of LIF(V_th = 100 mV)
    population I = 40 of LIF(V_th = 100 mV)
    population P = 8 of poisson(rate = 200 Hz)
    connect E[100..599] -> E[400..899] via AMPA probability 0.1 weight 1 nS no autapses
    connect E[0..299] -> I[10..29] via AMPA indegree 7 weight 1 nS
    connect I[0..19] -> E[500..999] via GABA_A outdegree 12 weight 1 nS
    connect E[0..9] -> I[10..19] via GABA_A one_to_one weight 1 nS
    connect P[2..5] -> I[30..35] via AMPA all_to_all weight 1 nS delay 1 ms
    connect P[7] -> I[39] via AMPA all_to_all weight 2 nS
    record weights of E -> E
    record weights of E -> I
    record weights of I -> E
    record weights of P -> I
    record spikes of P
    record AMPA.g of I every 0.1 ms
}
simulate Net for 60 ms dt 0.1 ms seed 5
EOF
for t in 1 3; do "$eic" run "$work/ranges.ei" -o "$work/ranges$t" --threads $t --quiet || fail "ranges: run, $t threads"; done
check "ranges: every synapse inside its ranges (population indices), no autapse, degree statistics of each rule" \
    "$py" - "$work/ranges1" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
syn = lambda name: np.load("%s/%s_syn.npy" % (d, name))
ee = syn("E_E_weights")
pre, post = ee["pre"].astype(int), ee["post"].astype(int)
assert ((pre >= 100) & (pre < 600) & (post >= 400) & (post < 900)).all()
assert (pre != post).all()
deg = np.bincount(post, minlength=1000)
full = deg[600:900]                         # 500 candidates each: Binomial(500, 0.1)
assert abs(full.mean() - 50) < 5 * np.sqrt(45 / 300), full.mean()
assert abs(full.var() / 45 - 1) < 5 * np.sqrt(2 / 300), full.var()
shared = deg[400:600]                       # 499 candidates (not themselves)
assert abs(shared.mean() - 49.9) < 5 * np.sqrt(44.91 / 200), shared.mean()
assert (deg[:400] == 0).all() and (deg[900:] == 0).all()
assert abs(len(ee) - (300 * 500 + 200 * 499) * 0.1) < 5 * np.sqrt(24980 * 0.9)
ei, ei2 = syn("E_I_weights"), syn("E_I_weights_2")          # indegree 7, then one_to_one
indeg = np.bincount(ei["post"].astype(int), minlength=40)
assert (indeg[10:30] == 7).all() and indeg[:10].sum() == 0 and indeg[30:].sum() == 0, indeg
assert (ei["pre"] < 300).all()
assert ei2.tolist() == [(i, i + 10) for i in range(10)], ei2
ie = syn("I_E_weights")                             # outdegree 12 from I[0..19] into E[500..999]
outdeg = np.bincount(ie["pre"].astype(int), minlength=40)
assert (outdeg[:20] == 12).all() and outdeg[20:].sum() == 0, outdeg
assert ((ie["post"] >= 500) & (ie["post"] < 1000)).all()
pi = syn("P_I_weights")
assert sorted(pi.tolist()) == [(i, j) for i in range(2, 6) for j in range(30, 36)], pi
assert syn("P_I_weights_2").tolist() == [(7, 39)]
PY
check "ranges: delivery is exact: AMPA.g of I equals a replica of every Poisson arrival (rtol 1e-12), zero outside the ranges" \
    "$py" - "$work/ranges1" <<'PY'
import math, sys
import numpy as np
d, dt, tau = sys.argv[1], 1e-4, 5e-3
sp = np.load(d + "/P_spikes.npy")
steps, who = np.rint(sp["t"] / dt).astype(int), sp["i"]
g = np.load(d + "/I_AMPA.g.npy")            # [601, 40], row k: after step k-1
ref = np.zeros_like(g)
k = np.arange(g.shape[0])
for s, i in zip(steps, who):
    for lo, hi, w, delay in ((30, 36, 1e-9, 10), (39, 40, 2e-9, 1)):
        if (lo, hi) == (30, 36) and not 2 <= i <= 5 or (lo, hi) == (39, 40) and i != 7:
            continue
        a = s + delay
        ref[k > a, lo:hi] += (w * np.exp(-(k[k > a] - a) * dt / tau))[:, None]
ampa_from_e = g[:, 10:30]                   # E does not fire: nothing from E -> I
assert (ampa_from_e == 0).all() and (g[:, :10] == 0).all() and (g[:, 36:39] == 0).all()
assert (ref[:, 30:36] > 0).any() and (ref[:, 39] > 0).any(), "no Poisson spike reached I"
assert np.allclose(g, ref, rtol=1e-12, atol=1e-24), np.max(np.abs(g - ref))
assert set(who.tolist()) - {2, 3, 4, 5, 7}, "P neurons outside the ranges fire too (and reach nothing)"
PY
for f in E_E_weights_syn E_I_weights_syn I_E_weights_syn I_AMPA.g P_spikes; do
  check "ranges: $f identical for 1 and 3 threads" cmp -s "$work/ranges1/$f.npy" "$work/ranges3/$f.npy"
done

# plastic projections (STDP, Tsodyks-Markram) between ranges: weights change, stay in the ranges
cat > "$work/rplastic.ei" <<'EOF'
import std.neurons
import std.receptors
import std.plasticity
import std.synapses
network Net {
    population P = 20 of poisson(rate = 50 Hz)
    population E = 30 of LIF
    connect P[0..9] -> E[10..19] via AMPA probability 0.5 weight 2 nS with STDP
    connect P[5..14] -> E[0..4] via AMPA all_to_all weight 1 nS synapse TsodyksMarkram
    record weights of P -> E every 10 ms
    record spikes of E
}
simulate Net for 200 ms dt 0.1 ms seed 2
EOF
for t in 1 2; do "$eic" run "$work/rplastic.ei" -o "$work/rplastic$t" --threads $t --quiet || fail "ranges: plastic run, $t threads"; done
check "ranges: STDP weights between ranges change and their synapses stay inside the ranges" \
    "$py" - "$work/rplastic1" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
w, syn = np.load(d + "/P_E_weights.npy"), np.load(d + "/P_E_weights_syn.npy")
assert set(syn["pre"].tolist()) <= set(range(10)) and set(syn["post"].tolist()) <= set(range(10, 20))
assert w.shape == (21, len(syn)) and (w[0] == 2e-9).all() and (w[-1] != 2e-9).any()
syn2 = np.load(d + "/P_E_weights_2_syn.npy")
assert sorted(syn2.tolist()) == [(i, j) for i in range(5, 15) for j in range(5)]
assert len(np.load(d + "/E_spikes.npy")) > 0
PY
for f in P_E_weights P_E_weights_2 E_spikes; do
  check "ranges: plastic $f identical for 1 and 2 threads" cmp -s "$work/rplastic1/$f.npy" "$work/rplastic2/$f.npy"
done

# --- 4. spike-time input onto a neuron range ------------------------------------------
printf 'time_s,neuron\n0.001,0\n0.002,3\n' > "$work/rkick.csv"
cat > "$work/srange.ei" <<EOF
import std.neurons
import std.receptors
network Net {
    population E = 10 of LIF
    input kick = spikes from "$work/rkick.csv" -> E[4..7] via AMPA weight 2 nS
    record AMPA.g of E every 0.1 ms
}
simulate Net for 5 ms dt 0.1 ms seed 1
EOF
"$eic" run "$work/srange.ei" -o "$work/srange" --quiet || fail "spike range: run"
check "spike range: file neuron k reaches neuron 4 + k one step after its spike" \
    "$py" - "$work/srange" <<'PY'
import sys
import numpy as np
g = np.load(sys.argv[1] + "/E_AMPA.g.npy")
hit = {j: int(np.nonzero(g[:, j])[0][0]) for j in range(10) if g[:, j].any()}
assert hit == {4: 12, 7: 22}, hit           # arrival in step 11 (21): first nonzero row 12 (22)
PY
printf 'time_s,neuron\n0.001,4\n' > "$work/rkick.csv"
"$eic" run "$work/srange.ei" -o "$work/srange_bad" --quiet 2> "$work/srange_bad.err"
rc=$?
check "spike range: a file neuron beyond the range's 4 neurons is a runtime error (exit 3)" \
    bash -c "[ $rc -eq 3 ] && grep -q 'neuron 4 outside 0..3' '$work/srange_bad.err'"

# --- 5. Poisson input delay -----------------------------------------------------------
cat > "$work/pdelay.ei" <<'EOF'
import std.neurons
import std.receptors
network Net {
    population E = 2000 of LIF(V_th = 100 mV)
    input drive = poisson 10 rate 100 Hz -> E via AMPA weight 1 nS delay 2 ms
    record AMPA.g of E every 0.1 ms
    at 5 ms set drive.rate = 300 Hz for 3 ms
}
simulate Net for 12 ms dt 0.1 ms seed 5
EOF
"$eic" run "$work/pdelay.ei" -o "$work/pdelay" --quiet || fail "poisson delay: run"
sed 's/ delay 2 ms//' "$work/pdelay.ei" > "$work/pnodelay.ei"
"$eic" run "$work/pnodelay.ei" -o "$work/pnodelay" --quiet || fail "poisson delay: run without delay"
check "poisson delay: no arrivals in the first 20 steps; each step's count matches its rate (6 sigma), the rate event acts 20 steps later" \
    "$py" - "$work/pdelay" "$work/pnodelay" <<'PY'
import math, sys
import numpy as np
dec = math.exp(-1e-4 / 5e-3)
def counts(d):
    g = np.load(d + "/E_AMPA.g.npy")
    c = (g[1:] / dec - g[:-1]) / 1e-9       # arrivals in step k (row k+1 = (row k + c w) dec)
    assert np.allclose(c, np.rint(c), atol=1e-6), np.max(np.abs(c - np.rint(c)))
    return np.rint(c).sum(axis=1)           # over the 2000 neurons, per step
def expect(shift, steps):
    lam = np.zeros(steps)
    for k in range(shift, steps):
        lam[k] = 2000 * 10 * 1e-4 * (300 if 50 + shift <= k < 80 + shift else 100)
    return lam
for d, shift in ((sys.argv[1], 20), (sys.argv[2], 0)):
    c = counts(d)
    lam = expect(shift, len(c))
    assert (c[:shift] == 0).all()
    bad = np.abs(c - lam) > 6 * np.sqrt(np.maximum(lam, 1))
    assert not bad.any(), (d, np.nonzero(bad)[0], c[bad], lam[bad])
PY

# --- JIT == AOT -----------------------------------------------------------------------
printf 'time_s,neuron\n0.001,0\n0.002,3\n' > "$work/rkick.csv"
ok=1
for m in recg init ranges srange pdelay; do
  "$eic" build "$work/$m.ei" -o "$work/${m}_exe" && "$work/${m}_exe" -o "$work/${m}_aot" --quiet --threads 2 || ok=0
done
if [ $ok = 1 ]; then
  for f in recg/E_AMPA.g recg/E_Slow.g init1/E_V init1/E_r init1/F_n ranges1/E_E_weights_syn ranges1/I_AMPA.g \
           srange/E_AMPA.g pdelay/E_AMPA.g; do
    aot="${f%%/*}"; aot="${aot%1}_aot/${f#*/}"
    check "aot: $f bit-identical to eic run" cmp -s "$work/$f.npy" "$work/$aot.npy"
  done
else
  fail "aot: eic build or run"
fi

echo "$fails failure(s)"
exit $((fails > 0))
