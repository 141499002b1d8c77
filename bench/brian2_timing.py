"""brian2_timing.py - what every Brian2 script of bench/ does after setting up its
network: build and run the cpp_standalone project, run the same binary again
REPEAT - 1 times (same network, same spikes), and report the timing fields of its
JSON line (sim_s: the minimum of Network::_last_run_time over the runs)."""
import os
import subprocess
import time


def build_and_time(device, workdir, repeat, t_start):
    """Builds and runs the project in `workdir`; returns the timing fields."""
    t_build = time.time()
    device.build(directory=workdir, compile=True, run=True, debug=False)
    t_end = time.time()
    runs = [device._last_run_time]
    t_rep = time.time()
    for _ in range(repeat - 1):
        subprocess.run(['./main'], cwd=workdir, check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(workdir, 'results', 'last_run_info.txt')) as f:
            runs.append(float(f.read().split()[0]))
    t_rep = time.time() - t_rep
    return {
        'sim_s': min(runs), 'sim_runs': runs,
        'compile_s': device.timers['compile']['make'],
        'binary_s': device.timers['run_binary'],
        'codegen_s': t_build - t_start,
        'build_call_s': t_end - t_build,
        'repeat_s': t_rep,   # the repeated binary runs (not part of a cold process)
    }
