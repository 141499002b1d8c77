#!/usr/bin/env bash
# run_intrinsic.sh - intrinsic plasticity (stdlib AdaptiveThresholdLIF): the recorded threshold
# equals theta_0 + d_theta * sum over past spikes of exp(-(t - t_k)/tau_theta), and the firing
# slows down as the threshold adapts (run by ctest as: bash run_intrinsic.sh EIC_BINARY SOURCE_DIR).
set -u
eic=$(readlink -f "${1:?}"); src=$(readlink -f "${2:?}")
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME=$work/cache
cd "$src"
"$eic" run tests/run/adaptive_threshold.ei -o "$work/out" --quiet || { echo "FAIL: eic run"; exit 1; }
/usr/bin/python3 - "$work/out" <<'PY'
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
print(("ok   - " if ok else "FAIL - ") +
      f"threshold follows the closed form (max error {err:.2e} V); ISI {isi[0]:.1f} -> {isi[-5:].mean():.1f} ms")
sys.exit(not ok)
PY
