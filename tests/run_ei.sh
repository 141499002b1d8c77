#!/usr/bin/env bash
# run_ei.sh - end-to-end tests of the E/I mechanisms of issue 5 on the
# compiler side (lower.c, sema, cg_llvm.c; run by ctest as: bash run_ei.sh
# EIC_BINARY SOURCE_DIR), each against a closed form:
#   - delta synapses: V jumps by w in the arrival step and decays exactly;
#     jumps during refractoriness are dropped
#   - `set POP.param` for D and a context scaling POP.param: the firing steps
#     of a perfect integrator change exactly at the event step and back; the
#     context run is bit-identical to the `set` run; a context's projection
#     gain scales delta jumps exactly in its interval
#   - modulators: a release of A gives A*exp(-k dt/tau) k steps later, read by
#     a neuron kernel
#   - silence F for D and lesion: round(F*N) neurons emit nothing, exactly
#     in the interval; their membranes keep the same phase
#   - balance monitor: window means of the positive and negative receptor
#     currents of constant conductances
#   - JIT and AOT give bit-identical recordings
. "$(dirname "$0")/lib/e2e.sh" "$@"

cd "$src"

# --- delta synapses ---------------------------------------------------------
"$eic" run tests/run/ei_delta.ei -o "$work/delta" --quiet || fail "delta: run"
check "delta: P's V is the sum of exactly decaying 0.5 mV jumps (rtol 1e-12); R drops jumps while refractory" \
    "$py" - "$work/delta" <<'PY'
import sys
import numpy as np
d, dt, delay = sys.argv[1], 1e-4, 10
emit = np.rint(np.load(d + "/D_spikes.npy")["t"] / dt).astype(int)
arrive = emit + delay
assert len(arrive) > 20
P = np.load(d + "/P_V.npy")[:, 0]            # row r+1: after step r
ref = np.zeros(len(P))
for a in arrive[arrive < len(P) - 1]:
    s = np.arange(a, len(P) - 1)
    ref[s + 1] += 0.5e-3 * np.exp(-(s - a + 1) * dt / 20e-3)   # jump, then the step's decay
assert np.allclose(P, ref, rtol=1e-12, atol=1e-18), np.max(np.abs(P - ref))
# R: a 1 mV jump crosses 0.9 mV at once; refractory 30 ms = 300 steps, so of
# arrivals every 70 steps only those at least 301 steps after R's last spike count
r = np.rint(np.load(d + "/R_spikes.npy")["t"] / dt).astype(int)
want, last = [], -10**9
for a in arrive[arrive < 2000]:
    if a >= last + 301:
        want.append(a)
        last = a
assert list(r) == want, (r, want)
R = np.load(d + "/R_V.npy")[:, 0]
for s in r:                                  # clamped at V_reset = 0 while refractory
    assert (R[s + 1:min(s + 301, len(R))] == 0.0).all()
PY

# --- parameter events, contexts, gains, modulators -----------------------------
"$eic" run tests/run/ei_protocol.ei -o "$work/proto" --quiet || fail "protocol: run"
check "protocol: set/context change the firing steps exactly in [200, 500); context == set bit for bit; gain x2; DA decay" \
    "$py" - "$work/proto" <<'PY'
import sys
import numpy as np
d, dt = sys.argv[1], 1e-4
steps = lambda n: list(np.rint(np.load(d + "/%s_spikes.npy" % n)["t"] / dt).astype(int))
def integer_model(inc):          # V in units of 0.1 mV; spike when V > 10.5
    V, out = 0, []
    for s in range(800):
        V += inc(s)
        if V > 10.5:
            out.append(s)
            V = 0
    return out
stepped = integer_model(lambda s: 2 if 200 <= s < 500 else 1)
assert steps("Sset") == stepped, (steps("Sset"), stepped)
assert steps("Sctx") == stepped
assert steps("Sfix") == integer_model(lambda s: 2)
assert (np.load(d + "/Sset_V.npy") == np.load(d + "/Sctx_V.npy")).all()
arrive = np.array(steps("D")) + 10
G = np.load(d + "/G_V.npy")[:, 0]
ref = np.zeros(len(G))
for a in arrive[arrive < len(G) - 1]:
    ref[a + 1:] += 0.5e-3 * (2.0 if 200 <= a < 500 else 1.0)
assert np.allclose(G, ref, rtol=1e-12, atol=1e-18), np.abs(G - ref).max()
M = np.load(d + "/M_V.npy")[:, 0]     # dV/dt = DA * 1 V/s; release 2 at step 100
DA = np.array([2 * np.exp(-(s - 100) * dt / 0.2) if s >= 100 else 0.0 for s in range(len(M) - 1)])
ref = np.concatenate([[0.0], np.cumsum(dt * DA)])
assert np.allclose(M, ref, rtol=1e-12, atol=1e-18), np.abs(M - ref).max()
# Q: 10 integrators firing together every 11 steps; 5 silent in [200, 400),
# 3 lesioned from step 600 (their membranes keep evolving: same phase after)
q = np.load(d + "/Q_spikes.npy")
qs = np.rint(q["t"] / dt).astype(int)
for s in integer_model(lambda s: 1):
    want = 5 if 200 <= s < 400 else 7 if s >= 600 else 10
    assert (qs == s).sum() == want, (s, (qs == s).sum(), want)
assert len(set(q["i"][qs >= 600])) == 7
PY
"$eic" build tests/run/ei_protocol.ei -o "$work/proto_exe" || fail "aot: build"
"$work/proto_exe" -o "$work/proto_aot" --quiet || fail "aot: run"
for f in Sset_spikes Sctx_V G_V M_V Q_spikes; do
    check "aot: $f.npy bit-identical to eic run" cmp -s "$work/proto/$f.npy" "$work/proto_aot/$f.npy"
done

# --- balance monitor -------------------------------------------------------------
"$eic" run tests/run/ei_balance.ei -o "$work/bal" --quiet || fail "balance: run"
check "balance: window means of I_E = g_E (0 - V), I_I = g_I (-80 mV - V), ratio 1/6, corr -1" \
    "$py" - "$work/bal" <<'PY'
import sys
import numpy as np
b = np.load(sys.argv[1] + "/N_balance.npy")
assert b.shape == (4, 2), b.shape            # 20 ms in 5 ms windows, neurons 0 and 1
assert np.allclose(b["I_E"], 2e-9 * 60e-3, rtol=1e-9)
assert np.allclose(b["I_I"], -1e-9 * 20e-3, rtol=1e-9)
assert np.allclose(b["ratio"], 1 / 6, rtol=1e-9)
assert np.allclose(b["corr"], -1, atol=1e-3)   # V creeps up: I_E falls, -I_I falls
PY

echo "run_ei.sh: $fails failure(s)"
[ $fails -eq 0 ]
