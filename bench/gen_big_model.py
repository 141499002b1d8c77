#!/usr/bin/env python3
"""Writes a syntactically and semantically valid model of about N lines
(default 10,000) to stdout: many neuron and receptor types and one network
that uses them all. Used by bench/check_bench.sh."""
import sys

lines = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
out = []
k = 0
while len(out) < lines - 40:
    out += [
        f"neuron N{k} {{",
        f"    parameter C_m = {200 + k % 50} pF, g_L = 10 nS, E_L = -60 mV",
        f"    parameter V_th = -50 mV, V_reset = -60 mV, t_ref = 2 ms, a = 4 nS, tau_w = 100 ms",
        f"    state V = E_L, w_a = 0 pA",
        f"    let I_leak = g_L*(E_L - V)",
        f"    dV/dt = (I_leak - w_a + I_syn) / C_m",
        f"    dw_a/dt = (a*(V - E_L) - w_a) / tau_w",
        f"    spike when V > V_th {{ V = V_reset; w_a += 10 pA }}",
        f"    refractory t_ref clamp V",
        f"}}",
        f"receptor R{k} {{",
        f"    parameter tau = {1 + k % 9} ms, E_rev = 0 mV",
        f"    state g = 0 nS",
        f"    dg/dt = -g/tau",
        f"    on spike(w) {{ g += w }}",
        f"    current g*(E_rev - V)",
        f"}}",
    ]
    k += 1
out.append("network Big {")
for i in range(k):
    out.append(f"    population P{i} = 10 of N{i}(V = uniform(-60 mV, -50 mV))")
for i in range(k):
    out.append(f"    connect P{i} -> P{(i + 1) % k} via R{(i + 1) % k} probability 0.1 weight 1 nS delay 1 ms")
out.append("}")
out.append("simulate Big for 10 ms dt 0.1 ms seed 1")
print("\n".join(out))
