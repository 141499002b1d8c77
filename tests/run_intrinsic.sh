#!/usr/bin/env bash
# run_intrinsic.sh - intrinsic plasticity in std.neurons (SPEC [S-neuron-5]), on real numbers
# (run by ctest as: bash run_intrinsic.sh EIC_BINARY SOURCE_DIR):
#  - AdaptiveThresholdLIF: the recorded threshold equals theta_0 + d_theta * sum over past spikes
#    of exp(-(t - t_k)/tau_theta), and the firing slows down as the threshold adapts;
#  - AdaptiveGainLIF (tests/run/adaptive_gain.ei): a step-by-step numpy replica of its equations
#    at the same dt gives the same spikes and gain; the gain follows the reduced rate model
#    (analytic LIF rate, RK4) and the rate converges to rho_0 from above and from below, twice as
#    slowly with twice tau_gain; with the gain fixed the interspike intervals are the LIF closed
#    form at gain*I in whole steps and the rate is 1/(t_ref + tau ln(RI/(RI - (V_th - E_L)))).
. "$(dirname "$0")/lib/e2e.sh" "$@"
cd "$src"

"$eic" run tests/run/adaptive_threshold.ei -o "$work/thr" --quiet || fail "adaptive threshold: eic run"
check "adaptive threshold follows its closed form" "$py" - "$work/thr" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
dt, theta0, dth, tau = 1e-4, -0.050, 0.002, 0.1
spk = np.rint(np.load(d + "/N_spikes.npy")["t"] / dt).astype(int)
theta = np.load(d + "/N_theta.npy")[:, 0]
# Sample k holds theta at the start of step k; a spike found in step s raises theta at the end
# of step s, after the exact decay of that step.
k = np.arange(len(theta))
expect = np.full(len(theta), theta0)
for s in spk:
    later = k > s
    expect[later] += dth * np.exp(-(k[later] - (s + 1)) * dt / tau)
err = np.max(np.abs(theta - expect))
isi = np.diff(spk) * dt * 1e3
ok = err < 1e-12 and len(spk) > 20 and isi[-5:].mean() > 1.3 * isi[0]
print(f"  threshold max error {err:.2e} V; ISI {isi[0]:.1f} -> {isi[-5:].mean():.1f} ms")
sys.exit(not ok)
PY

"$eic" run tests/run/adaptive_gain.ei -o "$work/gain" --quiet || fail "adaptive gain: eic run"
cat > "$work/gain.py" <<'PY'
import math, sys
import numpy as np
d, what = sys.argv[1], sys.argv[2]
dt, every = 1e-4, 10                              # step; recordings every 1 ms = 10 steps
C, gL, EL, Vth, Vr, t_ref = 200e-12, 10e-9, -0.060, -0.050, -0.060, 2e-3
tau_m, R, n_ref = C / gL, 1 / gL, round(t_ref / dt)
runs = {"Hi": (300e-12, 2.0), "Lo": (80e-12, 2.0), "Slow": (300e-12, 4.0)}   # I, tau_gain
rho0, tau_r = 20.0, 0.2

def load(pop, var):
    return np.load(f"{d}/{pop}_{var}.npy")[:, 0]

def spikes(pop):
    return np.rint(np.load(f"{d}/{pop}_spikes.npy")["t"] / dt).astype(int)

def lif_T(x):
    """Time from reset (= E_L) to threshold under current x: tau ln(RI/(RI - (V_th - E_L)))."""
    RI = R * x
    return math.inf if RI <= Vth - EL else tau_m * math.log(RI / (RI - (Vth - EL)))

def lif_rate(x):
    return 1 / (t_ref + lif_T(x))

def replica(I, tau_g, nsteps):
    """The neuron's equations stepped as eic integrates them (SPEC [S-ode-2], [S-ode-3],
    [S-rt-1] step order): V by exponential Euler given gain*I, r_avg by its exact decay, gain
    by exponential Euler given r_avg, all from start-of-step values; then the threshold, the
    reset and the refractory clamp of V."""
    a = -gL / C
    P, phi = math.exp(a * dt), math.expm1(a * dt) / (a * dt)
    Pr = math.exp(-dt / tau_r)
    V, r, g, ref_until = EL, rho0, 1.0, -1
    rs, gs, spk = [], [], []
    for s in range(nsteps):
        if s % every == 0:
            rs.append(r); gs.append(g)
        ref = s < ref_until
        Vn = V if ref else P * V + dt * phi * (gL * EL + g * I) / C
        rn = r * Pr
        gn = g * math.exp(dt * (rho0 - r) / (rho0 * tau_g))
        if not ref and Vn > Vth:
            Vn, rn, ref_until = Vr, rn + 1 / tau_r, s + n_ref
            spk.append(s)
        V, r, g = Vn, rn, gn
    rs.append(r); gs.append(g)
    return np.array(spk), np.array(rs), np.array(gs)

def reduced(I, tau_g, T, h=1e-3):
    """Rate model of the same neuron: dr/dt = (f(gain*I) - r)/tau_r,
    dgain/dt = gain*(rho_0 - r)/(rho_0*tau_gain), f the analytic LIF rate; RK4, gain every h."""
    def F(r, g):
        return (lif_rate(g * I) - r) / tau_r, g * (rho0 - r) / (rho0 * tau_g)
    r, g, out = rho0, 1.0, [1.0]
    for _ in range(int(round(T / h))):
        k1 = F(r, g); k2 = F(r + h / 2 * k1[0], g + h / 2 * k1[1])
        k3 = F(r + h / 2 * k2[0], g + h / 2 * k2[1]); k4 = F(r + h * k3[0], g + h * k3[1])
        r += h / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
        g += h / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
        out.append(g)
    return np.array(out)

ok = True
def report(cond, text):
    global ok
    ok &= bool(cond)
    print(("  ok   " if cond else "  FAIL ") + text)

if what == "replica":
    for pop, (I, tau_g) in runs.items():
        g, r, spk = load(pop, "gain"), load(pop, "r_avg"), spikes(pop)
        s2, r2, g2 = replica(I, tau_g, (len(g) - 1) * every)
        eg, er = np.max(np.abs(g - g2) / g2), np.max(np.abs(r - r2))
        report(np.array_equal(spk, s2) and eg < 1e-12 and er < 1e-9,
               f"{pop}: {len(spk)} spikes identical to the replica's; gain rel. error {eg:.1e}, r_avg {er:.1e} Hz")
elif what == "converge":
    T = 15.0
    for pop, (I, tau_g) in runs.items():
        g, spk = load(pop, "gain"), spikes(pop)
        gr = reduced(I, tau_g, T)
        err = np.abs(g - gr) / gr
        late = np.count_nonzero(spk * dt >= T - 3) / 3
        first = np.count_nonzero(spk * dt < 0.1) / 0.1
        side = "above" if first > rho0 else "below"
        report(err.max() < 0.015 and err[5000:].max() < 0.002 and abs(late - rho0) < 0.02 * rho0,
               f"{pop} (tau_gain {tau_g} s, from {side}: {first:.0f} Hz in the first 100 ms): gain "
               f"{g[0]:.3f} -> {g[-1]:.4f}, reduced model {gr[-1]:.4f}, max rel. deviation {err.max():.4f} "
               f"(after 5 s {err[5000:].max():.4f}); rate in the last 3 s {late:.2f} Hz (rho_0 {rho0:.0f})")
    # From above and from below, and the declared time scale: the fixed point g* (f(g*I) = rho_0)
    # is approached with tau_gain/(d ln f/d ln I) near it; with 2*tau_gain the gain is still far
    # from g* when the faster one is there.
    hi, lo, slow = load("Hi", "gain"), load("Lo", "gain"), load("Slow", "gain")
    report(np.count_nonzero(spikes("Hi") * dt < 0.1) >= 4 * rho0 * 0.1 and np.count_nonzero(spikes("Lo") * dt < 0.5) == 0
           and hi[-1] < 0.5 < 1 < lo[-1],
           f"Hi starts at 4x rho_0 or more and lowers its gain ({hi[-1]:.3f}), Lo starts silent and raises it ({lo[-1]:.3f})")
    k = int(round(0.5 / (every * dt)))
    report((slow[k] - hi[-1]) > 1.5 * (hi[k] - hi[-1]) > 0,
           f"at 0.5 s the gain's distance to g* is {hi[k] - hi[-1]:.3f} with tau_gain 2 s and {slow[k] - slow[-1]:.3f} with 4 s")
elif what == "fixed":
    for pop, g0 in (("F08", 0.8), ("F10", 1.0), ("F15", 1.5)):
        I = g0 * 300e-12
        T = lif_T(I)
        period = n_ref + math.ceil(T / dt - 1e-9) - 1   # steps: refractory, then the first step ending past V_th
        spk, gain = spikes(pop), load(pop, "gain")
        isi = np.diff(spk)
        rate = (len(spk) - 1) / ((spk[-1] - spk[0]) * dt)
        ana = lif_rate(I)
        report(spk[0] == math.ceil(T / dt - 1e-9) - 1 and (isi == period).all() and (gain == g0).all()
               and abs(rate - ana) <= dt * rate * ana,
               f"{pop}: gain {g0} stays exactly fixed; all {len(isi)} ISIs = {period} steps (closed form {(t_ref + T) / dt:.2f}); "
               f"rate {rate:.3f} Hz vs analytic {ana:.3f} Hz (within one step: {dt * rate * ana:.3f} Hz)")
sys.exit(not ok)
PY
check "adaptive gain: spikes and gain equal a numpy replica at the same dt" "$py" "$work/gain.py" "$work/gain" replica
check "adaptive gain: converges to rho_0 from above and below along the reduced rate model" "$py" "$work/gain.py" "$work/gain" converge
check "adaptive gain fixed: LIF closed-form rate at gain*I" "$py" "$work/gain.py" "$work/gain" fixed
exit $((fails > 0))
