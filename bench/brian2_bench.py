#!/usr/bin/env python3
"""brian2_bench.py - the Brette et al. (2007) COBA and CUBA benchmarks in
Brian2's cpp_standalone device, exactly as ../shared/BENCHMARKS.md defines
them (Brian2's own example scripts, scaled to N neurons with p = 80/N when
N != 4000). One thread (Brian2's default: no OpenMP). Used by
bench/brian_compare.py, which runs eic on the same networks in the same run.

    brian2_bench.py coba|cuba N DURATION_S SEED WORKDIR [REPEAT=1]

With REPEAT > 1 the compiled binary is run REPEAT-1 more times and `sim_s`
is the smallest run-loop time (`sim_runs` lists all): on a shared machine
the minimum is the estimate least disturbed by other processes.

Prints one JSON line: rates of E and I, spike counts, Brian2's own timings
(`sim_s`: the network's run loop as measured inside the generated binary,
i.e. Network::_last_run_time; `compile_s`: the `make` of the generated C++;
`binary_s`: the whole binary, which also builds the synapses; `codegen_s`:
Python-side code generation before the build), and `python_s`: the process
from import to exit minus nothing (the caller measures the whole process).
"""
import json
import sys
import time

from brian2_timing import build_and_time

T_START = time.time()
from brian2 import (NeuronGroup, Synapses, SpikeMonitor, Network, set_device, device,  # noqa: E402
                    defaultclock, seed, ms, mV, nS, pF, second, prefs)


def coba(n, p):
    """Benchmark 1: conductance-based LIF, forward Euler as Brian's example."""
    Cm, gL, EL = 200 * pF, 10 * nS, -60 * mV
    Vt, Vr, Ee, Ei = -50 * mV, -60 * mV, 0 * mV, -80 * mV
    taue, taui = 5 * ms, 10 * ms
    eqs = '''
    dv/dt = (gL*(EL-v) + ge*(Ee-v) + gi*(Ei-v))/Cm : volt (unless refractory)
    dge/dt = -ge/taue : siemens
    dgi/dt = -gi/taui : siemens
    '''
    P = NeuronGroup(n, eqs, threshold='v>Vt', reset='v = Vr', refractory=5 * ms,
                    method='euler', namespace=locals())
    P.v = '-65*mV + 5*mV*randn()'
    P.ge = '40*nS + 15*nS*randn()'
    P.gi = '200*nS + 120*nS*randn()'
    ne = n * 4 // 5
    Ce = Synapses(P, P, on_pre='ge += 6*nS')
    Ci = Synapses(P, P, on_pre='gi += 67*nS')
    Ce.connect('i < ne', p=p, namespace={'ne': ne})
    Ci.connect('i >= ne', p=p, namespace={'ne': ne})
    return P, ne, [Ce, Ci]


def cuba(n, p):
    """Benchmark 2: current-based LIF, integrated exactly (Brian2's CUBA.py)."""
    taum, taue, taui = 20 * ms, 5 * ms, 10 * ms
    Vt, Vr, El = -50 * mV, -60 * mV, -49 * mV
    eqs = '''
    dv/dt = (ge + gi - (v - El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : volt
    dgi/dt = -gi/taui : volt
    '''
    P = NeuronGroup(n, eqs, threshold='v>Vt', reset='v = Vr', refractory=5 * ms,
                    method='exact', namespace=locals())
    P.v = 'Vr + rand()*(Vt - Vr)'
    P.ge = 0 * mV
    P.gi = 0 * mV
    ne = n * 4 // 5
    Ce = Synapses(P, P, on_pre='ge += 1.62*mV')
    Ci = Synapses(P, P, on_pre='gi += -9*mV')
    Ce.connect('i < ne', p=p, namespace={'ne': ne})
    Ci.connect('i >= ne', p=p, namespace={'ne': ne})
    return P, ne, [Ce, Ci]


def main():
    model, n, duration, sd, workdir = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), \
        int(sys.argv[4]), sys.argv[5]
    repeat = int(sys.argv[6]) if len(sys.argv) > 6 else 1
    set_device('cpp_standalone', directory=workdir, build_on_run=False)
    prefs.devices.cpp_standalone.openmp_threads = 0   # one thread
    defaultclock.dt = 0.1 * ms
    seed(sd)
    p = 0.02 if n == 4000 else 80.0 / n
    P, ne, syns = (coba if model == 'coba' else cuba)(n, p)
    mon = SpikeMonitor(P)
    # an explicit Network: run() would collect only objects bound to names in
    # this frame and silently leave out the synapses in the list
    Network(P, *syns, mon).run(duration * second)
    timing = build_and_time(device, workdir, repeat, T_START)
    i = mon.i[:]
    spikes_e, spikes_i = int((i < ne).sum()), int((i >= ne).sum())
    print(json.dumps({
        'model': model, 'n': n, 'duration_s': duration, 'seed': sd,
        'synapses': int(sum(len(s) for s in syns)),
        'spikes_E': spikes_e, 'spikes_I': spikes_i,
        'rate_E': spikes_e / (ne * duration), 'rate_I': spikes_i / ((n - ne) * duration),
        **timing,
    }))


if __name__ == '__main__':
    main()
