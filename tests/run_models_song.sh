#!/usr/bin/env bash
# run_models_song.sh - Song, Miller & Abbott (2000): additive STDP from 1000 Poisson inputs onto
# one neuron drives the weights bimodal (examples/song2000.ei: A_plus 2x Brian2's, 60 s, dt 0.25 ms).
# Run by ctest as: bash run_models_song.sh EIC_BINARY SOURCE_DIR. Weights are read exactly from
# isolated arrivals after 60 s (tests/models_song_weights.py).
#   - the readout is exact: >= 850 of 1000 synapses read, repeated readings agree to 1e-9 nS,
#     every weight within the bounds [0, w_max]
#   - bimodal: the density in the middle of the range (0.3-0.7 w_max) is below 0.7x the density
#     near 0 (0-0.2 w_max) and below 0.7x the density near w_max (0.8-1 w_max); the initial
#     uniform weights give 1x (seed 1 measures 0.45x and 0.54x; with Brian2's A_plus and 200 s
#     of learning 0.24x and 0.29x)
#   - the postsynaptic neuron keeps firing through learning (last 10 s of learning: 5-100 Hz)
. "$(dirname "$0")/lib/e2e.sh" "$@"
cd "$src"
"$eic" run examples/song2000.ei -o "$work/out" --quiet || { echo "FAIL: eic run"; exit 1; }
PYTHONPATH="$src/tests:$PYTHONPATH" /usr/bin/python3 - "$work/out" <<'PY'
import sys
import numpy as np
from models_song_weights import read_weights
d = sys.argv[1]
from e2e_ref import check, failed
w, dev = read_weights(d, 60.0)
ok = np.isfinite(w)
x = w[ok] / 0.1
check("weights read exactly", ok.sum() >= 850 and dev < 1e-9 and x.min() >= -1e-9 and x.max() <= 1 + 1e-9,
      f"{ok.sum()} read, deviation {dev:.1e} nS, range [{x.min():.3f}, {x.max():.3f}] w_max")
def density(lo, hi): return ((x >= lo) & (x < hi)).sum() / (hi - lo)
low, mid, high = density(0, 0.2), density(0.3, 0.7), density(0.8, 1.0001)
h = np.histogram(x, bins=10, range=(0, 1))[0]
check("bimodal: the middle is depleted against both ends", mid < 0.7 * low and mid < 0.7 * high,
      f"middle/low {mid / low:.2f}, middle/high {mid / high:.2f}; histogram {h.tolist()}")
r = np.load(d + "/Post_rate.npy")       # 10-s bins
check("the neuron keeps firing", 5 < r[5] < 100, f"{r[5]:.1f} Hz over 50-60 s")
sys.exit(failed())
PY
