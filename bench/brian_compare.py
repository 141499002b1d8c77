#!/usr/bin/env python3
"""brian_compare.py - eic against Brian2 cpp_standalone, side by side in one
run, on the Brette et al. (2007) COBA and CUBA benchmarks (../shared/
BENCHMARKS.md). Not a test: it prints measurements and ratios.

For every model, size N and duration T it runs, one after the other:
  - `eic run` of examples/<model>.ei scaled to N neurons (80 % E, p = 80/N
    unless N = 4000, where p = 0.02), cold: XDG_CACHE_HOME is an empty
    directory, so the kernels are compiled from scratch;
  - bench/brian2_bench.py, Brian2's cpp_standalone (one thread), in a fresh
    directory, so its C++ is compiled from scratch.
and reports
  - simulation time: eic's manifest `simulate_s` against Brian2's
    Network::_last_run_time (its run loop alone; compilation excluded);
  - whole process wall time, both cold;
With --repeat R each is measured R times (eic: R cold runs; Brian2: its
binary run R times after one build) and the minimum is reported: on a shared
machine the minimum is the figure least disturbed by other processes.
  - mean rates of E and I (each simulator draws its own network).

    bench/brian_compare.py [--models coba,cuba] [--sizes 4000,16000,64000]
                           [--durations 1,10] [--seed 1] [--eic build/eic]
                           [--threads N] [--repeat R] [--json FILE]

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
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def scaled_model(model, n, duration, out_path):
    """Writes examples/<model>.ei with N neurons, p = 80/N and `duration` s."""
    src = open(os.path.join(ROOT, 'examples', model + '.ei')).read()
    ne = n * 4 // 5
    p = 0.02 if n == 4000 else 80.0 / n
    src = re.sub(r'population E = \d+', 'population E = %d' % ne, src)
    src = re.sub(r'population I = \d+', 'population I = %d' % (n - ne), src)
    src = re.sub(r'probability [0-9.eE+-]+', 'probability %.10g' % p, src)
    src = re.sub(r'simulate (\w+) for [0-9.]+ s', r'simulate \1 for %g s' % duration, src)
    with open(out_path, 'w') as f:
        f.write(src)


def run_eic(eic, model_file, seed, threads, work):
    """Cold `eic run`: returns (wall seconds, manifest dict)."""
    cache = tempfile.mkdtemp(prefix='cache', dir=work)
    out = os.path.join(work, 'eic_out')
    env = dict(os.environ, XDG_CACHE_HOME=cache)
    cmd = [eic, 'run', model_file, '-o', out, '--seed', str(seed), '--quiet']
    if threads:
        cmd += ['--threads', str(threads)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env)
    wall = time.perf_counter() - t0
    with open(os.path.join(out, 'manifest.json')) as f:
        man = json.load(f)
    shutil.rmtree(out)
    shutil.rmtree(cache)
    return wall, man


def run_brian(model, n, duration, seed, work, repeat):
    """Brian2 cpp_standalone in a fresh directory: (wall seconds, result).
    The wall time is the first (cold) process's; repeats only rerun the binary."""
    d = tempfile.mkdtemp(prefix='brian', dir=work)
    t0 = time.perf_counter()
    p = subprocess.run(['/usr/bin/python3', os.path.join(HERE, 'brian2_bench.py'), model,
                        str(n), str(duration), str(seed), d, str(repeat)],
                       check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    wall = time.perf_counter() - t0
    shutil.rmtree(d)
    res = json.loads(p.stdout.strip().splitlines()[-1])
    return wall - res['repeat_s'], res   # the cold process, without the repeats


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--models', default='coba,cuba')
    ap.add_argument('--sizes', default='4000,16000,64000')
    ap.add_argument('--durations', default='1,10')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--eic', default=os.path.join(ROOT, 'build', 'eic'))
    ap.add_argument('--threads', type=int, default=0, help='eic --threads (0: its default)')
    ap.add_argument('--repeat', type=int, default=1, help='measure R times, report minima')
    ap.add_argument('--json', help='also write all rows to this file')
    a = ap.parse_args()
    eic = os.path.abspath(a.eic)
    rows = []
    hdr = ('%-5s %6s %4s | %8s %8s %6s | %7s %7s %6s | %5s %5s %5s %5s | %3s'
           % ('model', 'N', 'T', 'eic_sim', 'b2_sim', 'ratio', 'eic_wal', 'b2_wall', 'ratio',
              'eicE', 'eicI', 'b2E', 'b2I', 'thr'))
    print(hdr)
    print('-' * len(hdr))
    with tempfile.TemporaryDirectory(prefix='eic_bench_') as work:
        for model in a.models.split(','):
            for n in (int(x) for x in a.sizes.split(',')):
                for dur in (float(x) for x in a.durations.split(',')):
                    mf = os.path.join(work, '%s_%d.ei' % (model, n))
                    scaled_model(model, n, dur, mf)
                    eic_runs = [run_eic(eic, mf, a.seed, a.threads, work) for _ in range(a.repeat)]
                    ew = min(r[0] for r in eic_runs)
                    man = min(eic_runs, key=lambda r: r[1]['timings']['simulate_s'])[1]
                    bw, br = run_brian(model, n, dur, a.seed, work, a.repeat)
                    es = man['timings']['simulate_s']
                    row = dict(model=model, n=n, duration_s=dur, eic_simulate_s=es,
                               brian_sim_s=br['sim_s'], sim_ratio=es / br['sim_s'],
                               eic_wall_s=ew, brian_wall_s=bw, wall_ratio=ew / bw,
                               eic_rate_E=man['populations']['E']['rate_hz'],
                               eic_rate_I=man['populations']['I']['rate_hz'],
                               brian_rate_E=br['rate_E'], brian_rate_I=br['rate_I'],
                               eic_threads=man['threads'], eic_timings=man['timings'],
                               brian_compile_s=br['compile_s'], brian_binary_s=br['binary_s'])
                    rows.append(row)
                    print('%-5s %6d %4g | %8.4f %8.4f %6.3f | %7.3f %7.2f %6.4f | %5.1f %5.1f '
                          '%5.1f %5.1f | %3d' % (model, n, dur, es, br['sim_s'], row['sim_ratio'],
                                                 ew, bw, row['wall_ratio'], row['eic_rate_E'],
                                                 row['eic_rate_I'], br['rate_E'], br['rate_I'],
                                                 man['threads']))
                    sys.stdout.flush()
    print('sim: eic simulate_s vs Brian2 run loop (s); wall: whole process, cold (s); '
          'ratio = eic / Brian2; rates in Hz')
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(rows, f, indent=1)


if __name__ == '__main__':
    main()
