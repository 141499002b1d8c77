#!/usr/bin/env python3
"""plastic_compare.py - eic against Brian2 cpp_standalone on plastic networks
(issue 5, "Performance"), side by side in one run. Not a test: it prints
measurements and ratios.

Models (the full-size versions bench/models_full.sh derives from examples/):
  vogels  Vogels et al. (2011): 8000 E + 2000 I conductance-based LIF,
          p = 0.02, plastic I -> E iSTDP (eta = 10 pS), 10 s;
          Brian2: bench/brian2_vogels.py.
  song    Song, Miller & Abbott (2000): 1000 Poisson inputs, all-to-all
          additive STDP onto one neuron, dt = 0.1 ms, 100 s of learning and
          10 s of probe; Brian2: bench/brian2_song.py.
For each model: eic cold (`eic run`, empty kernel cache) with each thread
count of --threads, R times (--repeat, minimum reported), and Brian2 built
once in a fresh directory and its binary run R times (minimum). Columns:
eic `timings.simulate_s` from the manifest, Brian2's Network::_last_run_time
(its run loop alone), their ratio, the rates each simulator produced.

Memory per plastic synapse (--memory): the resident size (/proc/PID/status
VmRSS, median over the second half of the run, i.e. while simulating) of
`eic run` of the Vogels model for 1 s at I -> E probability 0.02 and 0.10,
with the plastic rule and with I -> E static; the RSS difference divided by
the difference in I -> E synapses (counted from a weight recording) is the
marginal cost of one synapse, everything the runtime keeps for it included.
The same from the peak RSS (VmHWM) includes the connectivity build's
transient buffers. One thread.

    bench/plastic_compare.py [--eic build/eic] [--models vogels,song]
        [--threads 1,2] [--song-threads 1] [--repeat R] [--song-duration S]
        [--vogels-duration S] [--vogels-methods default,euler]
        [--brian-methods euler[,exponential_euler]] [--memory] [--json FILE]

--vogels-methods adds rows where the eic model names an integration method
in `simulate` (`euler`: the scheme of Brian2's example, so both integrate
the same equations the same way; `default`: the example file as it is,
exponential Euler for V). --brian-methods runs Brian2 with other methods
too (printed; the ratio is against the first).

Needs Brian2 (bench/install-peers.sh) and /usr/bin/python3 with numpy.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = '/usr/bin/python3'


def vogels_model(path, p_ie=0.02, plastic=True, extra='', method=None):
    """examples/vogels2011.ei at full size (as models_full.sh), optionally
    with another I -> E probability, I -> E static, extra lines, and an
    integration method named in `simulate` (default: eic's choice)."""
    src = open(os.path.join(ROOT, 'examples', 'vogels2011.ei')).read()
    if method:
        src, n = re.subn(r'(simulate Vogels2011 .*seed 1)$', r'\1 method ' + method, src, flags=re.M)
        assert n == 1, 'examples/vogels2011.ei changed: update plastic_compare.py'
    src = src.replace('1600 of', '8000 of').replace('400 of', '2000 of')
    src = src.replace('probability 0.1', 'probability 0.02').replace('eta = 300 pS', 'eta = 10 pS')
    ie = re.compile(r'connect I -> E via GABA_A probability 0.02 weight 0 nS( with VogelsISTDP\(eta = 10 pS\))')
    assert ie.search(src), 'examples/vogels2011.ei changed: update plastic_compare.py'
    src = ie.sub(lambda m: 'connect I -> E via GABA_A probability %g weight %s%s'
                 % (p_ie, '0 nS' if plastic else '1 nS', m.group(1) if plastic else ''), src)
    src = src.replace('    record spikes of E, I\n', '    record spikes of E, I\n' + extra)
    with open(path, 'w') as f:
        f.write(src)


def song_model(path):
    """examples/song2000.ei with Brian2's parameters (as models_full.sh)."""
    src = open(os.path.join(ROOT, 'examples', 'song2000.ei')).read()
    for a, b in (('A_plus = 0.02, A_minus = 0.021', 'A_plus = 0.01, A_minus = 0.0105'),
                 ('at 60 s set drive.rate = 0.3 Hz', 'at 100 s set drive.rate = 0.5 Hz'),
                 ('for 70 s dt 0.25 ms', 'for 110 s dt 0.1 ms'), ('delay 0.25 ms', 'delay 0.1 ms'),
                 ('every 0.25 ms', 'every 0.1 ms')):
        assert a in src, 'examples/song2000.ei changed: update plastic_compare.py'
        src = src.replace(a, b)
    with open(path, 'w') as f:
        f.write(src)


def run_eic(eic, model, work, threads, duration=None):
    """Cold `eic run`: (manifest, output directory)."""
    cache = tempfile.mkdtemp(prefix='cache', dir=work)
    out = tempfile.mkdtemp(prefix='out', dir=work)
    cmd = [eic, 'run', model, '-I', os.path.join(ROOT, 'examples'), '-o', out, '--quiet',
           '--threads', str(threads)]
    if duration:
        cmd += ['--duration', duration]
    subprocess.run(cmd, check=True, env=dict(os.environ, XDG_CACHE_HOME=cache))
    shutil.rmtree(cache)
    with open(os.path.join(out, 'manifest.json')) as f:
        man = json.load(f)
    return man, out


def run_brian(script, args, work, repeat):
    d = tempfile.mkdtemp(prefix='brian', dir=work)
    p = subprocess.run([PY, os.path.join(HERE, script)] + [str(x) for x in args[:2]] + [d, str(repeat)]
                       + [str(a) for a in args[2:]], check=True, stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    shutil.rmtree(d)
    return json.loads(p.stdout.strip().splitlines()[-1])


def eic_best(eic, model, work, threads, repeat, duration=None):
    """Minimum simulate_s over `repeat` cold runs: (manifest of it, its output dir)."""
    best = None
    for _ in range(repeat):
        man, out = run_eic(eic, model, work, threads, duration)
        if best is None or man['timings']['simulate_s'] < best[0]['timings']['simulate_s']:
            if best:
                shutil.rmtree(best[1])
            best = (man, out)
        else:
            shutil.rmtree(out)
    return best


def vogels_rows(a, eic, work):
    """One row per eic method in --vogels-methods; Brian2 once per method of
    --brian-methods (the first is the reference of the ratio)."""
    dur = '%gs' % a.vogels_duration
    brian = {m: run_brian('brian2_vogels.py', [a.vogels_duration, a.seed, m], work, a.repeat)
             for m in a.brian_methods}
    rows = []
    for method in a.vogels_methods:
        mf = os.path.join(work, 'vogels.ei')
        vogels_model(mf, method=None if method == 'default' else method)
        row = {'model': 'vogels', 'method': method, 'duration_s': a.vogels_duration, 'eic': {},
               'brian': brian[a.brian_methods[0]], 'brian_all': brian}
        for t in a.threads:
            man, out = eic_best(eic, mf, work, t, a.repeat, dur)
            r = np.load(os.path.join(out, 'E_rate.npy'))
            row['eic'][t] = dict(sim_s=man['timings']['simulate_s'], threads=man['threads'],
                                 rate_E=man['populations']['E']['rate_hz'],
                                 rate_I=man['populations']['I']['rate_hz'],
                                 rate_E_last2s=float(r[-20:].mean()), timings=man['timings'])
            shutil.rmtree(out)
        rows.append(row)
    return rows


def song_rows(a, eic, work):
    mf = os.path.join(work, 'song.ei')
    song_model(mf)
    dur = '%gs' % a.song_duration
    row = {'model': 'song', 'method': 'default', 'duration_s': a.song_duration, 'eic': {}}
    for t in a.song_threads:
        man, out = eic_best(eic, mf, work, t, a.repeat, dur)
        row['eic'][t] = dict(sim_s=man['timings']['simulate_s'], threads=man['threads'],
                             rate_in=man['populations']['In']['rate_hz'],
                             rate_post=man['populations']['Post']['rate_hz'],
                             timings=man['timings'])
        shutil.rmtree(out)
    row['brian'] = run_brian('brian2_song.py', [a.song_duration, a.seed], work, a.repeat)
    return [row]


def rss_during(cmd, env):
    """Runs cmd, reading /proc/PID/status every 10 ms: (steady RSS, peak RSS)
    in bytes, steady = median VmRSS over the second half of the samples
    (the simulation, after the build's transient buffers are freed)."""
    import time
    p = subprocess.Popen(cmd, env=env)
    rss, hwm = [], 0
    while p.poll() is None:
        try:
            with open('/proc/%d/status' % p.pid) as f:
                st = dict(l.split(':', 1) for l in f if ':' in l)
            rss.append(int(st['VmRSS'].split()[0]) * 1024)
            hwm = max(hwm, int(st['VmHWM'].split()[0]) * 1024)
        except (OSError, KeyError, ValueError):
            pass
        time.sleep(0.01)
    assert p.returncode == 0 and len(rss) >= 10, 'eic run failed or ended too soon'
    return float(np.median(rss[len(rss) // 2:])), hwm


def memory(eic, work):
    """Marginal bytes per I -> E synapse, plastic and static: the difference
    of the process's RSS between I -> E at p = 0.02 and p = 0.10, divided by
    the difference in synapses (counted from the weight recording)."""
    res = {}
    for plastic in (True, False):
        pts = []
        for p in (0.02, 0.10):
            mf = os.path.join(work, 'mem.ei')
            vogels_model(mf, p, plastic, '    record weights of I -> E\n')
            out = tempfile.mkdtemp(prefix='mem', dir=work)
            cache = tempfile.mkdtemp(prefix='cache', dir=work)
            steady, peak = rss_during([eic, 'run', mf, '-I', os.path.join(ROOT, 'examples'), '-o', out,
                                       '--quiet', '--threads', '1', '--duration', '1s'],
                                      dict(os.environ, XDG_CACHE_HOME=cache))
            nsyn = np.load(os.path.join(out, 'I_E_weights_syn.npy'), mmap_mode='r').shape[0]
            pts.append((nsyn, steady, peak))
            shutil.rmtree(out)
            shutil.rmtree(cache)
        (n0, s0, h0), (n1, s1, h1) = pts
        res['plastic' if plastic else 'static'] = dict(
            synapses=[n0, n1], rss=[s0, s1], peak_rss=[h0, h1],
            bytes_per_synapse=(s1 - s0) / (n1 - n0), peak_bytes_per_synapse=(h1 - h0) / (n1 - n0))
    return res


def print_row(m, row):
    """The lines of one model row, one per eic thread count."""
    b = row['brian']
    for e in row['eic'].values():
        if m == 'vogels':
            rates = 'E %.2f I %.2f, E last 2 s %.2f | E %.2f I %.2f, E last 2 s %.2f' % (
                e['rate_E'], e['rate_I'], e['rate_E_last2s'], b['rate_E'], b['rate_I'],
                b['rate_E_last2s'])
        else:
            rates = 'in %.2f post %.2f | in %.2f post %.2f' % (
                e['rate_in'], e['rate_post'], b['rate_in'], b['rate_post'])
        print('%-7s %-7s %5g | %3d %8.3f %8.3f %6.3f | %s' % (
            m, row['method'][:7], row['duration_s'], e['threads'], e['sim_s'], b['sim_s'],
            e['sim_s'] / b['sim_s'], rates))
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--eic', default=os.path.join(ROOT, 'build', 'eic'))
    ap.add_argument('--models', default='vogels,song')
    ap.add_argument('--threads', default='1,2', help='eic thread counts (vogels), comma separated')
    ap.add_argument('--song-threads', default='1', help='eic thread counts (song)')
    ap.add_argument('--vogels-methods', default='default,euler',
                    help="eic integration methods for vogels ('default': eic's choice)")
    ap.add_argument('--brian-methods', default='euler',
                    help='Brian2 methods for vogels; the first is the ratio reference')
    ap.add_argument('--repeat', type=int, default=1)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--vogels-duration', type=float, default=10.0)
    ap.add_argument('--song-duration', type=float, default=110.0)
    ap.add_argument('--memory', action='store_true', help='measure bytes per plastic synapse')
    ap.add_argument('--json')
    a = ap.parse_args()
    a.threads = [int(x) for x in a.threads.split(',')]
    a.song_threads = [int(x) for x in a.song_threads.split(',')]
    a.vogels_methods = a.vogels_methods.split(',')
    a.brian_methods = a.brian_methods.split(',')
    eic = os.path.abspath(a.eic)
    rows = []
    with tempfile.TemporaryDirectory(prefix='eic_plbench_') as work:
        hdr = '%-7s %-7s %5s | %3s %8s %8s %6s | %s' % ('model', 'method', 'T', 'thr', 'eic_sim',
                                                        'b2_sim', 'ratio', 'rates (eic | Brian2), Hz')
        print(hdr)
        print('-' * 110)
        for m in a.models.split(','):
            for row in (vogels_rows if m == 'vogels' else song_rows)(a, eic, work):
                rows.append(row)
                print_row(m, row)
            if m == 'vogels':
                for bm, b in rows[-1]['brian_all'].items():
                    print('Brian2 vogels, method %s: %.3f s (E %.2f Hz, I %.2f Hz, E last 2 s '
                          '%.2f Hz)' % (bm, b['sim_s'], b['rate_E'], b['rate_I'], b['rate_E_last2s']))
        print('eic_sim: manifest simulate_s; b2_sim: Brian2 Network::_last_run_time (1 thread); '
              'ratio = eic / Brian2; minimum of %d' % a.repeat)
        if a.memory:
            mem = memory(eic, work)
            rows.append({'memory': mem})
            for k, v in mem.items():
                print('memory, I -> E %-7s: %.2f bytes per synapse while simulating (RSS %.1f -> '
                      '%.1f MiB for %d -> %d synapses); peak RSS (build included): %.2f'
                      % (k, v['bytes_per_synapse'], v['rss'][0] / 2**20, v['rss'][1] / 2**20,
                         *v['synapses'], v['peak_bytes_per_synapse']))
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(rows, f, indent=1)


if __name__ == '__main__':
    main()
