#!/usr/bin/env bash
# run_plastic.sh - end-to-end tests of plastic projections (synapse models and
# plasticity rules; lower.c, cg_syn.c, runtime ABI v2) on real numbers
# (run by ctest as: bash run_plastic.sh EIC_BINARY SOURCE_DIR).
#   - Tsodyks & Markram (1997): EPSC amplitudes of a depressing and of a
#     facilitating synapse under a regular train equal the model's recursion
#   - pair STDP: one pre/post pair at +10 ms / -10 ms changes w by
#     +A_plus*w_max*exp(-10/20) / -A_minus*w_max*exp(-10/20); every delivered
#     weight equals an independent replica of the rule with all pairs
#   - a network with every kind of plastic projection: recordings
#     bit-identical for 1, 2 and 3 threads and between JIT and AOT
#   - unsupported constructs are model errors (exit 1, [unsupported])
. "$(dirname "$0")/lib/e2e.sh" "$@"

cd "$src"

# --- Tsodyks & Markram: amplitudes against the closed-form recursion --------
"$eic" run examples/tsodyks_markram.ei -o "$work/tm" --quiet || fail "tm: run"
check "tm: depressing (per synapse and per pre) and facilitating EPSC amplitudes match the TM recursion (rtol 1e-8)" "$py" - "$work/tm" <<'PY'
import sys
import numpy as np
from e2e_ref import tm_recursion
d, dt, delay = sys.argv[1], 1e-4, 10
k = 1e-4 * 1e-3 / 100e-9                  # volts of Q per siemens of g and step
arrive = np.rint(np.load(d + "/Pre_spikes.npy")["t"] / dt).astype(int) + delay
arrive = arrive[arrive < 3000]
assert len(arrive) >= 20, arrive

def measured(name, col=0):
    V = np.load(d + "/%s_V.npy" % name)[:, col]   # row r+1: after step r
    g = np.diff(V) / k                           # the receptor's running sum after each step
    amp = np.diff(np.concatenate([[0.0], g]))
    hit = np.nonzero(np.abs(amp) > 1e-14)[0]
    assert (hit == arrive).all(), (hit, arrive)
    return amp[hit]

def recursion(U, tau_rec, tau_fac):
    return tm_recursion(arrive, dt, U, tau_rec, tau_fac)

dep, fac = measured("Dep"), measured("Fac")
want_dep, want_fac = recursion(0.5, 0.8, None), recursion(0.1, 0.1, 1.0)
assert np.allclose(dep, want_dep, rtol=1e-8, atol=0), np.max(np.abs(dep / want_dep - 1))
assert np.allclose(fac, want_fac, rtol=1e-8, atol=0), np.max(np.abs(fac / want_fac - 1))
assert dep[-1] < 0.1 * dep[0]               # depression: the train drains the resources
for col in (0, 1):                          # per-pre state: both targets see Dep's amplitudes
    shared = measured("Shared", col)
    assert np.allclose(shared, want_dep, rtol=1e-8, atol=0), np.max(np.abs(shared / want_dep - 1))
assert fac[1] > fac[0]                      # facilitation: the second EPSC is larger
PY

# --- pair STDP: one pair per 308 ms, at +10 ms and -10 ms ---------------------
"$eic" run tests/run/stdp_pairs.ei -o "$work/stdp" --quiet || fail "stdp: run"
check "stdp: dw = +A_plus w_max e^-1/2 at +10 ms, -A_minus w_max e^-1/2 at -10 ms; replica of all pairs" "$py" - "$work/stdp" <<'PY'
import math, sys
import numpy as np
from e2e_ref import stdp_pair_replica
d, dt = sys.argv[1], 1e-4
k = 1e-4 * 1e-3 / 100e-9
A_plus, A_minus, w_max, tau = 0.01, 0.0105, 10e-9, 0.020
pre = np.rint(np.load(d + "/Pre_spikes.npy")["t"] / dt).astype(int)

def delivered(name):
    Q = np.load(d + "/%s_Q.npy" % name)[:, 0]
    g = np.diff(Q) / k
    amp = np.diff(np.concatenate([[0.0], g]))
    hit = np.nonzero(np.abs(amp) > 1e-14)[0]
    return hit, amp[hit]

def replica(arrivals, posts):
    return stdp_pair_replica(arrivals, posts, dt, tau, A_plus, A_minus, w_max)

for name, d_plastic, d_kick, sign in (("Plus", 10, 110, 1), ("Minus", 110, 10, -1)):
    posts = np.rint(np.load(d + "/%s_spikes.npy" % name)["t"] / dt).astype(int)
    assert (posts == pre + d_kick).all(), (posts, pre)
    hit, w = delivered(name)
    assert (hit == pre + d_plastic).all(), (hit, pre)
    assert len(w) >= 6
    one = (A_plus if sign > 0 else -A_minus) * w_max * math.exp(-0.010 / tau)
    # on Plus nothing else reaches the first pair; on Minus the post spike of the
    # next pair sees this arrival's trace at e^-14.9 (3e-7 of the change)
    assert abs((w[1] - w[0]) / one - 1) < (1e-9 if sign > 0 else 1e-6), (w[1] - w[0], one)
    assert np.allclose(np.diff(w), one, rtol=1e-6, atol=0), np.diff(w) / one - 1   # later pairs: +- e^-15 neighbours
    want = replica(set((pre + d_plastic).tolist()), set(posts.tolist()))
    assert np.allclose(w, want, rtol=1e-9, atol=0), np.max(np.abs(w / want - 1))
PY

# --- every kind of plastic projection: threads and AOT -----------------------
for t in 1 2 3; do
  "$eic" run tests/run/plastic_net.ei -o "$work/net$t" --threads $t --quiet || fail "net: run --threads $t"
done
for f in E_spikes.npy I_spikes.npy E_V.npy I_V.npy; do
  check "net: $f bit-identical for 1, 2 and 3 threads" \
    sh -c "cmp -s '$work/net1/$f' '$work/net2/$f' && cmp -s '$work/net1/$f' '$work/net3/$f'"
done
check "net: plasticity acts (E fires > 1000 spikes in 1 s here; 765 with the same static weights)" "$py" -c "
import numpy as np, sys; sys.exit(not len(np.load('$work/net1/E_spikes.npy')) > 1000)"
aot_check "net" tests/run/plastic_net.ei "$work/net1" "E_spikes.npy I_spikes.npy E_V.npy I_V.npy" --threads 2
aot_check "tm" examples/tsodyks_markram.ei "$work/tm" "Dep_V.npy Fac_V.npy Shared_V.npy"

# --- a three-factor rule: a modulator read in a plasticity rule ----------------
cat > "$work/dopa.ei" <<'EI'
import std.plasticity
import std.receptors
neuron N {
    parameter tau = 10 ms
    state V = 0 mV
    dV/dt = -V/tau + I_syn/(1 nF)
}
network Net {
    population A = 2 of N
    connect A -> A via AMPA all_to_all weight 1 nS delay 1 ms with DopamineSTDP
}
simulate Net for 10 ms
EI
"$eic" run "$work/dopa.ei" -o "$work/dopa" --quiet 2>"$work/dopa.err"; rc=$?
# (modulator reads compile since ABI v3: run_ei.sh tests their values)
check "three-factor: DopamineSTDP (reads Dopamine.DA) compiles and runs (exit $rc)" test $rc -eq 0

echo "$fails failure(s)"
exit $((fails > 0))
