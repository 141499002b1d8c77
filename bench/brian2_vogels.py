#!/usr/bin/env python3
"""brian2_vogels.py - the Brian2 side of bench/plastic_compare.py: the
Vogels et al. (2011) network with inhibitory STDP in Brian2's cpp_standalone
device, one thread, with the parameters of examples/vogels2011.ei at full
size (as bench/models_full.sh derives it: 8000 E, 2000 I, p = 0.02,
eta = 10 pS). The model follows Brian2's example
examples/frompapers/Vogels_et_al_2011.py, with these differences, all to
match the eic file:
  - plasticity is on from t = 0 (the example first runs 1 s with eta = 0);
  - V starts uniform in [-60, -50] mV (the example leaves it at 0 V, so
    every neuron fires in the first step);
  - the I -> E weights start at 0 nS (the example: 1e-10 nS);
  - the membrane is integrated by `--method` (default euler as in the
    example; eic uses exponential Euler, which costs an exp per neuron).
Monitors: spikes of E and I (eic records the same; eic's rate and balance
monitors have no counterpart here).

    brian2_vogels.py DURATION_S SEED WORKDIR [REPEAT=1] [METHOD=euler]

Prints one JSON line: rates, the E rate over the last 2 s, the number of
plastic synapses, Brian2's timings (sim_s: Network::_last_run_time, the run
loop alone; compile_s: make; binary_s: the whole binary, including the
synapse creation) and, with REPEAT > 1, the minimum of REPEAT runs of the
built binary as sim_s (all in sim_runs).
"""
import json
import sys
import time

from brian2_timing import build_and_time

T_START = time.time()
from brian2 import (NeuronGroup, Synapses, SpikeMonitor, Network, set_device, device,  # noqa: E402
                    defaultclock, seed, ms, mV, nS, pF, pA, Hz, second, prefs)


def build(ne, ni, p, eta_ns, method):
    """The network: (neurons, [synapse objects], plastic I->E, E and I monitors)."""
    gl, el, er, vt, memc = 10 * nS, -60 * mV, -80 * mV, -50 * mV, 200 * pF
    bgcurrent, tau_ampa, tau_gaba, tau_stdp = 200 * pA, 5 * ms, 10 * ms, 20 * ms
    eqs = '''
    dv/dt = (gl*(el - v) + g_ampa*(0*mV - v) + g_gaba*(er - v) + bgcurrent)/memc : volt (unless refractory)
    dg_ampa/dt = -g_ampa/tau_ampa : siemens
    dg_gaba/dt = -g_gaba/tau_gaba : siemens
    '''
    ns = dict(gl=gl, el=el, er=er, vt=vt, memc=memc, bgcurrent=bgcurrent,
              tau_ampa=tau_ampa, tau_gaba=tau_gaba)
    neurons = NeuronGroup(ne + ni, eqs, threshold='v > vt', reset='v = el', refractory=5 * ms,
                          method=method, namespace=ns)
    neurons.v = 'el + rand()*10*mV'
    pe, pi = neurons[:ne], neurons[ne:]
    con_e = Synapses(pe, neurons, on_pre='g_ampa += 0.3*nS')     # E -> E and E -> I
    con_e.connect(p=p)
    con_ii = Synapses(pi, pi, on_pre='g_gaba += 3*nS')
    con_ii.connect(p=p)
    stdp = '''
    w : 1
    dApre/dt = -Apre/tau_stdp : 1 (event-driven)
    dApost/dt = -Apost/tau_stdp : 1 (event-driven)
    '''
    alpha, gmax = 3 * Hz * tau_stdp * 2, 100       # rho0 = 3 Hz; w_max = 100 nS
    con_ie = Synapses(pi, pe, model=stdp,
                      on_pre='''Apre += 1.
                             w = clip(w + (Apost - alpha)*eta, 0, gmax)
                             g_gaba += w*nS''',
                      on_post='''Apost += 1.
                              w = clip(w + Apre*eta, 0, gmax)''',
                      namespace=dict(tau_stdp=tau_stdp, alpha=alpha, gmax=gmax, eta=eta_ns))
    con_ie.connect(p=p)
    con_ie.w = 0
    return neurons, [con_e, con_ii, con_ie], con_ie, SpikeMonitor(pe), SpikeMonitor(pi)


def main():
    duration, sd, workdir = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    repeat = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    method = sys.argv[5] if len(sys.argv) > 5 else 'euler'
    set_device('cpp_standalone', directory=workdir, build_on_run=False)
    prefs.devices.cpp_standalone.openmp_threads = 0   # one thread
    defaultclock.dt = 0.1 * ms
    seed(sd)
    ne, ni = 8000, 2000
    neurons, syns, con_ie, me, mi = build(ne, ni, 0.02, 0.01, method)   # eta = 0.01 nS = 10 pS
    Network(neurons, *syns, me, mi).run(duration * second)
    timing = build_and_time(device, workdir, repeat, T_START)
    te = me.t[:] / second
    late = float((te >= duration - 2).sum()) / (ne * min(2.0, duration))
    print(json.dumps({
        'model': 'vogels', 'duration_s': duration, 'seed': sd, 'method': method,
        'synapses': int(sum(len(s) for s in syns)), 'plastic_synapses': int(len(con_ie)),
        'spikes_E': int(len(te)), 'spikes_I': int(mi.num_spikes),
        'rate_E': len(te) / (ne * duration), 'rate_I': mi.num_spikes / (ni * duration),
        'rate_E_last2s': late, 'mean_w_ie_nS': float(con_ie.w[:].mean()),
        **timing,
    }))


if __name__ == '__main__':
    main()
