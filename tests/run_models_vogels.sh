#!/usr/bin/env bash
# run_models_vogels.sh - Vogels et al. (2011): inhibitory STDP drives the excitatory rate to the
# target rho0 (examples/vogels2011.ei, scaled, learning rate accelerated 30x; run by ctest as:
# bash run_models_vogels.sh EIC_BINARY SOURCE_DIR).
#   - without learned inhibition E fires fast (first 0.5 s: > 10 Hz; I -> E starts at 0 nS)
#   - after 6 s of learning the E rate (mean of 6-10 s) is within 35% of rho0 = 3 Hz
#   - the same network with rho0 = 8 Hz settles within 35% of 8 Hz, and the two converged rates
#     differ by 8/3 within 30%: the rule, not the network, sets the rate
#   - balance monitor (E[0..199], 250-ms windows): the inhibitory/excitatory current ratio
#     -I_I/I_E starts below 1 (0.8: I -> E weights start at 0) and ends above 2 (about 4), steady
#     (sd/mean < 0.2 over 6-10 s); the E/I current correlation within a window rises from
#     0.25-1.25 s to 6-10 s (seeds 1, 2, 3: 0.14 -> 0.20, 0.12 -> 0.20, 0.18 -> 0.20: a weak
#     effect in this network, where the co-tuning of the paper is across input channels)
#   (measured here: 3.7 Hz and 8.5 Hz; the fixed point of the rule lies slightly above rho0
#   because an inhibitory spike makes a following post spike less likely)
. "$(dirname "$0")/lib/e2e.sh" "$@"
cd "$src"
sed 's/eta = 300 pS)/eta = 300 pS, rho0 = 8 Hz)/' examples/vogels2011.ei > "$work/rho8.ei"
grep -q "rho0 = 8 Hz" "$work/rho8.ei" || { echo "FAIL: could not derive the rho0 = 8 Hz model"; exit 1; }
"$eic" run examples/vogels2011.ei -o "$work/r3" --quiet || { echo "FAIL: eic run"; exit 1; }
"$eic" run "$work/rho8.ei" -I "$src/examples" -o "$work/r8" --quiet || { echo "FAIL: eic run rho0 = 8 Hz"; exit 1; }
/usr/bin/python3 - "$work" <<'PY'
import sys
import numpy as np
w = sys.argv[1]
from e2e_ref import check, failed
r3, r8 = np.load(w + "/r3/E_rate.npy"), np.load(w + "/r8/E_rate.npy")   # 100-ms bins
early, late3, late8 = r3[:5].mean(), r3[60:100].mean(), r8[60:100].mean()
check("before learning E fires fast", early > 10, f"{early:.1f} Hz in the first 0.5 s")
check("rho0 = 3 Hz: converged E rate within 35%", abs(late3 / 3 - 1) < 0.35, f"{late3:.2f} Hz over 6-10 s")
check("rho0 = 8 Hz: converged E rate within 35%", abs(late8 / 8 - 1) < 0.35, f"{late8:.2f} Hz over 6-10 s")
check("the converged rates scale with rho0", abs((late8 / late3) / (8 / 3) - 1) < 0.3, f"ratio {late8 / late3:.2f}, 8/3 = 2.67")
b = np.load(w + "/r3/E_balance.npy")
q, c = np.nanmean(b["ratio"], 1), np.nanmean(b["corr"], 1)
late = q[24:40]
check("balance: inhibition grows until it balances excitation", q[0] < 1 and late.mean() > 2 and late.std() / late.mean() < 0.2,
      f"-I_I/I_E {q[0]:.2f} -> {late.mean():.2f} (sd/mean {late.std() / late.mean():.2f})")
check("balance: E/I current correlation rises", c[24:40].mean() > c[1:5].mean(),
      f"{c[1:5].mean():.3f} at 0.25-1.25 s -> {c[24:40].mean():.3f} at 6-10 s")
sys.exit(failed())
PY
