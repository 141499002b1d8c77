"""models_song_weights.py - reads the synaptic weights of examples/song2000.ei from a run's output.

Usage: python3 models_song_weights.py OUT_DIR PROBE_START_S   (prints a histogram; exit 1 if the
readout is inconsistent). Imported by tests/run_models_song.sh and bench/models_full.sh.

From PROBE_START_S on, the inputs fire rarely and the neuron is silent, so STDP no longer changes
weights, and an input spike that arrives alone in its step (emission step + delay) adds exactly its
synapse's weight to the recorded state x (row k = value at t = k*dt; within a step the arrivals are
added, then x decays by exp(-dt/tau_e)): weight = x[s+1]/exp(-dt/tau_e) - x[s].
"""
import json
import sys

import numpy as np


def read_weights(d, t_probe, tau_e=5e-3, n_inputs=1000):
    """Returns (weights in nS, NaN where no isolated arrival was seen; max deviation between
    repeated readings of one synapse in nS)."""
    m = json.load(open(d + "/manifest.json"))
    dt = m["dt_s"]
    x = np.load(d + "/Post_x.npy")[:, 0] * 1e3             # mV standing for nS
    delay = 1                                               # steps (delay = dt in the model)
    inp = x[1:] / np.exp(-dt / tau_e) - x[:-1]              # what arrived in each step
    s = np.load(d + "/In_spikes.npy")
    arr = np.rint(s["t"] / dt).astype(int) + delay
    keep = (arr >= int(round((t_probe + 0.5) / dt))) & (arr < len(inp))   # 0.5 s: post trace gone
    arr, who = arr[keep], s["i"][keep]
    alone = np.bincount(arr, minlength=len(inp))[arr] == 1
    arr, who = arr[alone], who[alone]
    w = np.full(n_inputs, np.nan)
    w[who] = inp[arr]
    dev = max((np.abs(inp[arr][who == i] - w[i]).max() for i in np.unique(who)), default=np.inf)
    return w, dev


if __name__ == "__main__":
    w, dev = read_weights(sys.argv[1], float(sys.argv[2]))
    ok = np.isfinite(w)
    h = np.histogram(w[ok] / 0.1, bins=10, range=(0, 1))[0]
    print(f"song: {ok.sum()} weights read (max deviation between readings {dev:.1e} nS); "
          f"histogram of w/w_max in tenths: {h.tolist()}; within 10% of 0 or w_max: {(h[0] + h[-1]) / ok.sum():.2f}")
    sys.exit(0 if dev < 1e-9 else 1)
