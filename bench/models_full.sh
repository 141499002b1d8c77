#!/usr/bin/env bash
# models_full.sh - the published models of issue 5 at the papers' full size (the tests in
# tests/run_models_*.sh run scaled versions). Derives each full-size model from its example by
# substitution, runs it, and prints the paper's measure next to eic's, with simulate time.
# Usage: bench/models_full.sh EIC_BINARY [brunel|vogels|song|izhikevich ...]   (default: all)
#   brunel:     N_E = 10000, N_I = 2500, C_E = 1000, J = 0.1 mV, the four regimes, 1 s each
#               (rate, CV of ISIs, population peak frequency; AI rate vs mean-field theory)
#   vogels:     10000 neurons (8000 E, 2000 I), p = 0.02, eta = 10 pS (Brian2's example), 10 s
#               (E rate in the last 2 s; the issue's performance target compares this run with
#               Brian2 cpp_standalone, about 5.6 s for 10 s)
#   song:       1000 inputs, A_plus = 0.01, dt = 0.1 ms (Brian2's example), 100 s of learning, then the probe
#               (fraction of weights within 10% of 0 or w_max)
#   izhikevich: the example is full size already; 10 s
set -u
eic=$(readlink -f "${1:?usage: models_full.sh EIC_BINARY [model ...]}"); shift
src=$(cd "$(dirname "$0")/.." && pwd)
which=${*:-brunel vogels song izhikevich}
work=$(mktemp -d /tmp/eic_models.XXXXXX); trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME=$work/cache
py=/usr/bin/python3
simtime() { $py -c "import json,sys; m=json.load(open(sys.argv[1]+'/manifest.json')); print('%.2f s simulate (%.1f s simulated, %d threads)' % (m['timings']['simulate_s'], m['simulated_s'], m['threads']))" "$1"; }
run() { "$eic" run "$1" -I "$src/examples" -o "$2" --quiet || { echo "FAIL: eic run $1"; return 1; }; }

for m in $which; do case $m in
brunel)
  for r in sr si_fast ai si_slow; do
    sed 's/4000 of/10000 of/; s/1000 of/2500 of/; s/C_E = 400, J = 0.25 mV/C_E = 1000, J = 0.1 mV/' \
      "$src/examples/brunel2000_$r.ei" > "$work/b_$r.ei"
    run "$work/b_$r.ei" "$work/b_$r" && echo "brunel $r: $(simtime "$work/b_$r")"
  done
  $py - "$work" <<'PY'
import json, math, sys
import numpy as np
w = sys.argv[1]
def siegert(mu, s, tau=0.02, tr=0.002, th=20.0, vr=10.0):
    u = np.linspace((vr - mu) / s, (th - mu) / s, 20001)
    return 1 / (tr + tau * math.sqrt(math.pi) * np.trapz(np.exp(u * u) * np.array([math.erfc(-x) for x in u]), u))
def mf(g, nu, J=0.1, CE=1000, tau=0.02):
    ext, r = nu * 20 / (J * CE * tau), 10.0
    for _ in range(1000):
        r = 0.9 * r + 0.1 * siegert(CE * J * tau * (ext + r * (1 - g / 4)), J * math.sqrt(CE * tau * (ext + r * (1 + g * g / 4))))
    return r
for r, g, nu in (("sr", 3, 2), ("si_fast", 6, 4), ("ai", 5, 2), ("si_slow", 4.5, 0.9)):
    d = f"{w}/b_{r}"; m = json.load(open(d + "/manifest.json")); T = m["duration_s"]
    s = np.load(d + "/E_spikes.npy"); s = s[s["t"] >= 0.2]
    o = np.lexsort((s["t"], s["i"])); t, i = s["t"][o], s["i"][o]; same = np.diff(i) == 0
    isi, who = np.diff(t)[same], i[1:][same]
    n = np.bincount(who, minlength=10000); sm = np.bincount(who, isi, 10000); sq = np.bincount(who, isi**2, 10000)
    k = n >= 3; mean = sm[k] / n[k]; cv = np.mean(np.sqrt(np.maximum(sq[k] / n[k] - mean**2, 0)) / mean)
    c = np.histogram(s["t"][s["i"] < 1000], np.arange(0.2, T + 1e-9, 1e-3))[0].astype(float)
    P = np.abs(np.fft.rfft(c - c.mean()))**2; f = np.fft.rfftfreq(len(c), 1e-3); P[f < 5] = 0
    print(f"brunel {r:8s} rate {len(s) / 10000 / (T - 0.2):6.1f} Hz (mean field {mf(g, nu):6.1f})  CV {cv:.2f}  "
          f"peak {f[np.argmax(P)]:.0f} Hz  pop CV {c.std() / c.mean():.2f}")
PY
  ;;
vogels)
  sed 's/1600 of/8000 of/; s/400 of/2000 of/; s/probability 0.1/probability 0.02/; s/eta = 300 pS/eta = 10 pS/' \
    "$src/examples/vogels2011.ei" > "$work/v.ei"
  run "$work/v.ei" "$work/v" && echo "vogels: $(simtime "$work/v")" && $py -c "
import numpy as np, sys; r = np.load(sys.argv[1] + '/E_rate.npy'); print('vogels: E rate %.2f Hz in the first 0.5 s, %.2f Hz over 8-10 s (rho0 = 3 Hz)' % (r[:5].mean(), r[80:100].mean()))" "$work/v"
  ;;
song)
  sed 's/A_plus = 0.02, A_minus = 0.021/A_plus = 0.01, A_minus = 0.0105/; s/at 60 s set drive.rate = 0.3 Hz/at 100 s set drive.rate = 0.5 Hz/;
       s/for 70 s dt 0.25 ms/for 110 s dt 0.1 ms/; s/delay 0.25 ms/delay 0.1 ms/; s/every 0.25 ms/every 0.1 ms/' \
    "$src/examples/song2000.ei" > "$work/s.ei"
  run "$work/s.ei" "$work/s" && echo "song: $(simtime "$work/s")" && $py "$src/tests/models_song_weights.py" "$work/s" 100
  ;;
izhikevich)
  run "$src/examples/izhikevich_network.ei" "$work/iz" && echo "izhikevich: $(simtime "$work/iz")"
  ;;
*) echo "unknown model $m"; exit 2 ;;
esac; done
