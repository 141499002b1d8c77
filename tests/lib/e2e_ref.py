"""e2e_ref.py - reference models and the check reporter shared by the end-to-end
scripts' Python checks (tests/run_*.sh put tests/lib on PYTHONPATH through
tests/lib/e2e.sh)."""
import math

import numpy as np

_fails = 0


def check(name, ok, detail):
    """Prints `ok   - NAME (DETAIL)` or `FAIL - ...`, as e2e.sh's reporters do, and
    counts the failures for failed()."""
    global _fails
    print(("ok   - " if ok else "FAIL - ") + name + f" ({detail})")
    _fails += not ok


def failed():
    """Whether any check failed: the script's exit status (sys.exit(failed()))."""
    return _fails > 0


def tm_recursion(arrive, dt, U, tau_rec, tau_fac, w=1e-9):
    """EPSC amplitudes of a Tsodyks-Markram synapse at the arrival steps `arrive`:
    u relaxes to U with tau_fac (None: u = U, depression only), x to 1 with tau_rec,
    exactly, between arrivals (the first since t = 0); at an arrival A = w u x, then
    x -= u x and u += U(1-u) (std.synapses: the first EPSC after a pause is w U)."""
    u, x, last, out = U, 1.0, 0, []
    for a in arrive:
        D = (a - last) * dt
        u = U + (u - U) * np.exp(-D / tau_fac) if tau_fac is not None else U
        x = 1 - (1 - x) * np.exp(-D / tau_rec)
        out.append(w * u * x)
        x = x - u * x
        if tau_fac is not None:
            u = u + U * (1 - u)
        last = a
    return np.array(out)


def stdp_pair_replica(arrivals, posts, dt, tau, A_plus, A_minus, w_max, w=5e-9):
    """Weights delivered at the arrival steps `arrivals` (a set) by all-to-all pair
    STDP with exactly decaying traces, post spikes at the steps `posts` (a set):
    arrivals of step s act before the post spikes of step s; a handler sees the
    other side's trace from strictly earlier events (post) or up to and including
    s (pre); w stays in [0, w_max]."""
    out = []
    for s in sorted(set(arrivals) | set(posts)):
        if s in arrivals:
            out.append(w)
            x_post = sum(math.exp(-(s - p) * dt / tau) for p in posts if p < s)
            w = min(max(w - A_minus * w_max * x_post, 0.0), w_max)
        if s in posts:
            x_pre = sum(math.exp(-(s - a) * dt / tau) for a in arrivals if a <= s)
            w = min(max(w + A_plus * w_max * x_pre, 0.0), w_max)
    return np.array(out)
