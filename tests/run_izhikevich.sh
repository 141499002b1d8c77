#!/usr/bin/env bash
# run_izhikevich.sh - Izhikevich (2003) firing patterns from examples/izhikevich_patterns.ei
# (run by ctest as: bash run_izhikevich.sh EIC_BINARY SOURCE_DIR). Each neuron class must show
# the pattern of the paper's Fig. 2 under a constant current step, judged from interspike intervals.
. "$(dirname "$0")/lib/e2e.sh" "$@"
cd "$src"
"$eic" run examples/izhikevich_patterns.ei -o "$work/out" --quiet || { echo "FAIL: eic run"; exit 1; }
/usr/bin/python3 - "$work/out" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
isi = {p: np.diff(np.load(f"{d}/{p}_spikes.npy")["t"]) * 1e3 for p in ["RS", "IB", "CH", "FS", "LTS"]}
from e2e_ref import check, failed
rs, ib, ch, fs, lts = isi["RS"], isi["IB"], isi["CH"], isi["FS"], isi["LTS"]
check("RS: regular spiking, adapting, no bursts",
      rs.min() > 10 and rs[-1] > 1.5 * rs[0] and np.std(rs[3:]) / np.mean(rs[3:]) < 0.05, f"ISIs {rs[:4].round(1)}...")
check("IB: an initial burst, then tonic spiking",
      ib[0] < 5 and ib[1:].min() > 20 and np.std(ib[2:]) / np.mean(ib[2:]) < 0.05, f"ISIs {ib[:4].round(1)}...")
short, long_ = (ch < 6).sum(), (ch > 20).sum()
check("CH: repetitive bursts (many short ISIs within bursts, long ones between)",
      long_ >= 5 and short >= 3 * long_ and np.std(ch) / np.mean(ch) > 1, f"{short} short, {long_} long ISIs")
check("FS: fast tonic spiking without much adaptation",
      1e3 / fs[-5:].mean() > 100 and fs[-1] < 2 * fs[0], f"{1e3 / fs[-5:].mean():.0f} Hz, ISIs {fs[:3].round(1)}")
check("LTS: fast spiking with strong adaptation",
      1e3 / lts[-5:].mean() > 50 and lts[-1] > 3 * lts[0] and lts.max() < 20, f"ISIs {lts[:3].round(1)} -> {lts[-1]:.1f}")
sys.exit(failed())
PY
