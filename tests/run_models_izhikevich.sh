#!/usr/bin/env bash
# run_models_izhikevich.sh - the 1000-neuron network of Izhikevich (2003), Fig. 3
# (examples/izhikevich_network.ei; run by ctest as: bash run_models_izhikevich.sh EIC_BINARY SOURCE_DIR).
# The published property: the network's population activity oscillates in the alpha (8-13 Hz)
# and gamma (30-50 Hz) bands. Checked on the spectrum of the population spike count (1 ms bins,
# after a 0.5 s transient), in units of the flat spectral floor at 150-450 Hz (a Poisson
# population without rhythm gives 1 in every band):
#   - mean rates of E and I within 35% of a numpy port of the paper's MATLAB code (same
#     parameters, 1-ms Euler scheme), which gives E 7.5 Hz, I 6.9 Hz
#   - alpha and gamma band power >= 5x the floor, in eic and in the port alike
#   - the measure is not trivially met: jittering every spike by +-150 ms (same rates) drops both
#     bands below 3x the floor
. "$(dirname "$0")/lib/e2e.sh" "$@"
cd "$src"
"$eic" run examples/izhikevich_network.ei -o "$work/out" --quiet || { echo "FAIL: eic run"; exit 1; }
/usr/bin/python3 - "$work/out" <<'PY'
import json, sys
import numpy as np
d = sys.argv[1]
from e2e_ref import check, failed

def bands(counts):
    """Mean power per band over the mean power at 150-450 Hz (counts: spikes per 1-ms bin)."""
    x = counts - counts.mean()
    P = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1e-3)
    floor = P[(f >= 150) & (f < 450)].mean()
    return {b: P[(f >= lo) & (f < hi)].mean() / floor
            for b, (lo, hi) in {"alpha": (8, 13), "gamma": (30, 50)}.items()}

def reference(T=3000, seed=0):
    """The paper's MATLAB code, line by line (1-ms steps, two Euler half-steps for v)."""
    rng = np.random.default_rng(seed)
    Ne, Ni = 800, 200
    re, ri = rng.random(Ne), rng.random(Ni)
    a = np.r_[0.02 * np.ones(Ne), 0.02 + 0.08 * ri]; b = np.r_[0.2 * np.ones(Ne), 0.25 - 0.05 * ri]
    c = np.r_[-65 + 15 * re**2, -65 * np.ones(Ni)]; dd = np.r_[8 - 6 * re**2, 2 * np.ones(Ni)]
    S = np.c_[0.5 * rng.random((Ne + Ni, Ne)), -rng.random((Ne + Ni, Ni))]
    v = -65 * np.ones(Ne + Ni); u = b * v
    nE, nI = np.zeros(T), np.zeros(T)
    for t in range(T):
        I = np.r_[5 * rng.standard_normal(Ne), 2 * rng.standard_normal(Ni)]
        f = np.nonzero(v >= 30)[0]
        nE[t], nI[t] = (f < Ne).sum(), (f >= Ne).sum()
        v[f] = c[f]; u[f] += dd[f]
        I += S[:, f].sum(1)
        v += 0.5 * (0.04 * v**2 + 5 * v + 140 - u + I)
        v += 0.5 * (0.04 * v**2 + 5 * v + 140 - u + I)
        u += a * (b * v - u)
    return nE.sum() / Ne / (T / 1e3), nI.sum() / Ni / (T / 1e3), nE + nI

m = json.load(open(d + "/manifest.json"))
T = int(round(m["duration_s"] * 1e3))
times = np.concatenate([np.load(f"{d}/{p}_spikes.npy")["t"] for p in ("E", "I")])
counts = np.bincount((times * 1e3).astype(int), minlength=T)[:T].astype(float)
rE, rI = m["populations"]["E"]["rate_hz"], m["populations"]["I"]["rate_hz"]
refE, refI, refc = reference(T)
check("E rate within 35% of the paper's code", abs(rE / refE - 1) < 0.35, f"eic {rE:.2f} Hz, paper's code {refE:.2f} Hz")
check("I rate within 35% of the paper's code", abs(rI / refI - 1) < 0.35, f"eic {rI:.2f} Hz, paper's code {refI:.2f} Hz")
be, br = bands(counts[500:]), bands(refc[500:])
for b in ("alpha", "gamma"):
    check(f"{b} band power >= 5x the floor", be[b] >= 5 and br[b] >= 5, f"eic {be[b]:.1f}x, paper's code {br[b]:.1f}x")
rng = np.random.default_rng(1)
jit = times + rng.uniform(-0.15, 0.15, len(times))
jit = jit[(jit >= 0) & (jit < T / 1e3)]
bj = bands(np.bincount((jit * 1e3).astype(int), minlength=T)[:T][500:].astype(float))
check("control: jittered spikes lose both rhythms", bj["alpha"] < 3 and bj["gamma"] < 3,
      f"alpha {bj['alpha']:.1f}x, gamma {bj['gamma']:.1f}x")
sys.exit(failed())
PY
