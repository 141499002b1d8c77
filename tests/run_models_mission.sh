#!/usr/bin/env bash
# run_models_mission.sh - the mission scenario (issue 5, model 7; examples/mission_circuit.ei, the
# README tutorial). Run by ctest as: bash run_models_mission.sh EIC_BINARY SOURCE_DIR.
# One run, rates in 10-ms bins, balance of E[0..99] in 50-ms windows. Baseline = 0.5-1.0 s.
#   stable with PV:   during the burst (1.0-1.1 s) E stays below 10 Hz and below 8x its baseline
#                     while PV fires > 2.5x its baseline; 1.2-1.5 s E is back within 50% of baseline
#   arousal (NE):     1.6-2.0 s E fires >= 1.5x its baseline; 2.1-2.5 s back within 50%
#   PV silenced:      2.6-3.0 s without a burst E stays below 20 Hz (silencing alone is no runaway);
#                     the same burst (3.0-3.1 s) drives E above 100 Hz, > 20x its first burst, and
#                     E stays above 50 Hz after the burst (3.2-3.5 s): it ran away
#   balance monitor:  in the first burst inhibition tracks excitation (mean I_I at least doubles,
#                     the ratio -I_I/I_E rises, I_E and -I_I correlate > 0.3 within the window);
#                     with PV silenced the ratio falls below 85% of baseline, and in the runaway
#                     below 40% of it while I_E exceeds 3x its baseline
#   JIT and AOT give the same rate recordings bit for bit
. "$(dirname "$0")/lib/e2e.sh" "$@"
cd "$src"
"$eic" run examples/mission_circuit.ei -o "$work/out" --quiet || { echo "FAIL: eic run"; exit 1; }
aot=1
if "$eic" build examples/mission_circuit.ei -o "$work/exe" && "$work/exe" -o "$work/aot" --quiet; then
  cmp -s "$work/out/E_rate.npy" "$work/aot/E_rate.npy" && cmp -s "$work/out/E_balance.npy" "$work/aot/E_balance.npy" && aot=0
fi
/usr/bin/python3 - "$work/out" "$aot" <<'PY'
import sys
import numpy as np
d, aot = sys.argv[1], int(sys.argv[2])
from e2e_ref import check, failed
R = {p: np.load(f"{d}/{p}_rate.npy") for p in ("E", "PV")}
def rate(p, a, b): return R[p][int(round(a * 100)):int(round(b * 100))].mean()
B = np.load(f"{d}/E_balance.npy")          # [window, neuron]: I_E, I_I, ratio, corr
def bal(k, a, b): return B[k][int(round(a * 20)):int(round(b * 20))].mean()
E0, P0 = rate("E", .5, 1), rate("PV", .5, 1)
E1, P1, Epost = rate("E", 1, 1.1), rate("PV", 1, 1.1), rate("E", 1.2, 1.5)
Ene, Eexit = rate("E", 1.6, 2), rate("E", 2.1, 2.5)
Esil, E2, Eafter = rate("E", 2.6, 3), rate("E", 3, 3.1), rate("E", 3.2, 3.5)
print(f"# E Hz: baseline {E0:.2f}, burst {E1:.2f}, after {Epost:.2f}, arousal {Ene:.2f}, after {Eexit:.2f}, "
      f"PV silenced {Esil:.2f}, burst {E2:.1f}, after {Eafter:.1f}; PV Hz: baseline {P0:.1f}, burst {P1:.1f}")
check("with PV the burst stays bounded", E1 < 10 and E1 < 8 * E0 and P1 > 2.5 * P0,
      f"E {E0:.2f} -> {E1:.2f} Hz, PV {P0:.1f} -> {P1:.1f} Hz")
check("E returns to baseline after the burst", abs(Epost / E0 - 1) < 0.5, f"{Epost:.2f} vs {E0:.2f} Hz")
check("arousal raises E's gain", Ene >= 1.5 * E0, f"{Ene:.2f} vs {E0:.2f} Hz")
check("leaving arousal restores it", abs(Eexit / E0 - 1) < 0.5, f"{Eexit:.2f} vs {E0:.2f} Hz")
check("silencing PV alone is no runaway", Esil < 20, f"{Esil:.2f} Hz")
check("the burst without PV runs away", E2 > 100 and E2 > 20 * E1 and Eafter > 50,
      f"burst {E2:.1f} Hz (with PV {E1:.2f}), after {Eafter:.1f} Hz")
IE0, II0, Q0 = bal("I_E", .5, 1), bal("I_I", .5, 1), bal("ratio", .5, 1)
II1, Q1, C1 = bal("I_I", 1, 1.1), bal("ratio", 1, 1.1), bal("corr", 1, 1.1)
Qsil, Qrun, IErun = bal("ratio", 2.6, 3), bal("ratio", 3.1, 3.5), bal("I_E", 3.1, 3.5)
print(f"# balance: ratio baseline {Q0:.2f}, burst {Q1:.2f}, PV silenced {Qsil:.2f}, runaway {Qrun:.2f}; "
      f"I_I {II0 * 1e12:.0f} -> {II1 * 1e12:.0f} pA; corr in burst {C1:.2f}; I_E runaway {IErun / IE0:.1f}x")
check("balance: inhibition tracks excitation in the burst", II1 <= 2 * II0 and Q1 > Q0 and C1 > 0.3,
      f"I_I {II0 * 1e12:.0f} -> {II1 * 1e12:.0f} pA, ratio {Q0:.2f} -> {Q1:.2f}, corr {C1:.2f}")
check("balance: the ratio collapses without PV", Qsil < 0.85 * Q0 and Qrun < 0.4 * Q0 and IErun > 3 * IE0,
      f"ratio {Q0:.2f} -> {Qsil:.2f} -> {Qrun:.2f}, I_E x{IErun / IE0:.1f}")
check("eic build executable: rate and balance recordings bit-identical to eic run", aot == 0, "cmp")
sys.exit(failed())
PY
