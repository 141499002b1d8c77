"""e2e_ref.py - reference models shared by the end-to-end scripts' Python checks
(tests/run_*.sh put tests/lib on PYTHONPATH through tests/lib/e2e.sh)."""
import numpy as np


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
