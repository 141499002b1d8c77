#!/usr/bin/env python3
"""brian2_song.py - the Brian2 side of bench/plastic_compare.py: Song, Miller
& Abbott (2000) in Brian2's cpp_standalone device, one thread: Brian2's
example examples/frompapers/Song_et_al_2000.py (1000 Poisson inputs at
15 Hz, all-to-all additive STDP onto one LIF neuron, A_plus = 0.01,
dt = 0.1 ms, forward Euler) with the timeline and recordings of the
full-size eic model that bench/models_full.sh derives from
examples/song2000.ei: 100 s of learning, then 10 s of inputs at 0.5 Hz (the
weight probe), spikes of the inputs and of the neuron, and the conductance
of the neuron every step (eic: `record x of Post every 0.1 ms`). The rate
change is a rate expression in t, so the whole 110 s is one run.
eic's inputs are relay cells driven by a Poisson input (the probe reads
weights from their isolated spikes); Brian2's are a PoissonGroup.

    brian2_song.py DURATION_S SEED WORKDIR [REPEAT=1] [LEARN_S=100]

Prints one JSON line: spike counts and rates, the fraction of weights within
10 % of 0 or of w_max at the end (the bimodality of Fig. 2), Brian2's
timings (sim_s: Network::_last_run_time, the run loop alone; compile_s,
binary_s) and, with REPEAT > 1, the minimum of REPEAT runs of the binary.
"""
import json
import sys
import time

from brian2_timing import build_and_time

T_START = time.time()
from brian2 import (NeuronGroup, PoissonGroup, Synapses, SpikeMonitor, StateMonitor,  # noqa: E402
                    Network, set_device, device, defaultclock, seed, ms, mV, Hz, second, prefs)


def build(n, learn_s):
    """The network of Brian2's example, inputs at 0.5 Hz after learn_s."""
    taum, taupre, taupost, taue = 10 * ms, 20 * ms, 20 * ms, 5 * ms
    Ee, vt, vr, El = 0 * mV, -54 * mV, -60 * mV, -74 * mV
    gmax, dApre = 0.01, 0.01
    dApost = -dApre * taupre / taupost * 1.05 * gmax
    dApre *= gmax
    eqs = '''
    dv/dt = (ge * (Ee-v) + El - v) / taum : volt
    dge/dt = -ge / taue : 1
    '''
    inputs = PoissonGroup(n, rates='15*Hz*(t < learn) + 0.5*Hz*(t >= learn)',
                          namespace=dict(learn=learn_s * second))
    neuron = NeuronGroup(1, eqs, threshold='v>vt', reset='v = vr', method='euler',
                         namespace=dict(Ee=Ee, vt=vt, vr=vr, El=El, taum=taum, taue=taue))
    neuron.v = El
    syn = Synapses(inputs, neuron,
                   '''w : 1
                      dApre/dt = -Apre / taupre : 1 (event-driven)
                      dApost/dt = -Apost / taupost : 1 (event-driven)''',
                   on_pre='''ge += w
                          Apre += dApre
                          w = clip(w + Apost, 0, gmax)''',
                   on_post='''Apost += dApost
                           w = clip(w + Apre, 0, gmax)''',
                   namespace=dict(taupre=taupre, taupost=taupost, dApre=dApre, dApost=dApost,
                                  gmax=gmax))
    syn.connect()
    syn.w = 'rand() * gmax'
    mons = [SpikeMonitor(inputs), SpikeMonitor(neuron), StateMonitor(neuron, 'ge', record=0)]
    return inputs, neuron, syn, mons, gmax


def main():
    duration, sd, workdir = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    repeat = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    learn_s = float(sys.argv[5]) if len(sys.argv) > 5 else 100.0
    set_device('cpp_standalone', directory=workdir, build_on_run=False)
    prefs.devices.cpp_standalone.openmp_threads = 0   # one thread
    defaultclock.dt = 0.1 * ms
    seed(sd)
    n = 1000
    inputs, neuron, syn, mons, gmax = build(n, learn_s)
    Network(inputs, neuron, syn, *mons).run(duration * second)
    timing = build_and_time(device, workdir, repeat, T_START)
    w = syn.w[:] / gmax
    print(json.dumps({
        'model': 'song', 'duration_s': duration, 'seed': sd, 'plastic_synapses': int(len(syn)),
        'spikes_in': int(mons[0].num_spikes), 'spikes_post': int(mons[1].num_spikes),
        'rate_in': mons[0].num_spikes / (n * duration), 'rate_post': mons[1].num_spikes / duration,
        'frac_bimodal': float(((w < 0.1) | (w > 0.9)).mean()),
        'frac_high': float((w > 0.9).mean()),
        **timing,
    }))


if __name__ == '__main__':
    main()
