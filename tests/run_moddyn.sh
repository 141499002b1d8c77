#!/usr/bin/env bash
# run_moddyn.sh - issue 5 (2026-11-28): modulators with their own dynamics
# ([S-net-10], [S-modulator-1]; lower_globals.c, cg_globals.c, the runtime's
# globals_update). tests/run/mod_dynamics.ei is checked against:
#   - a coupled linear two-pool release (dR/dt = -R/tau_r, dD/dt = R/tau_r -
#     D/tau_d) and a modulator reading another (dY/dt = (Driver.X - Y)/tau):
#     their matrix-exponential closed forms, within 1e-12
#   - Michaelis-Menten uptake dDA/dt = -Vmax DA/(Km + DA) (rk4): the implicit
#     closed form Km ln(DA/DA0) + DA - DA0 = -Vmax t solved by Newton, with a
#     release of 1 at 150 ms restarting it; order of convergence 4 (dt 8, 4,
#     2 ms)
#   - a schedule dACh/dt = (t/1 s - ACh)/tau (exponential Euler): its closed
#     form t - tau + tau exp(-t/tau); order of convergence 1
#   - std.modulators' DopaminePools against a fine-step rk4 reference
#   - --explain names each scheme; a pure decay (std Dopamine) stays the
#     runtime's exact decay (no kernel)
#   - 1 == 2 threads and JIT == AOT, bit for bit
. "$(dirname "$0")/lib/e2e.sh" "$@"

cd "$src"
model=tests/run/mod_dynamics.ei

"$eic" run $model -o "$work/a" --quiet --threads 1 || fail "run"
check "closed forms: two pools and a modulator reading another within 1e-12; MM uptake within 1e-12 at dt 0.1 ms; schedule within 1e-4" \
    "$py" - "$work/a" <<'PY'
import sys
import numpy as np
d, dt = sys.argv[1], 1e-4
L = lambda n: np.load(d + "/P_%s.npy" % n)[:, 0]     # row k: the value of step k
r, D = L("r"), L("d")
k = np.arange(len(r))
assert len(r) == 3000
t = (k - 100) * dt                                   # release Pool 2 at 10 ms
R = np.where(k >= 100, 2 * np.exp(-t / 0.05), 0)
DD = np.where(k >= 100, 2 * 0.2 / (0.2 - 0.05) * (np.exp(-t / 0.2) - np.exp(-t / 0.05)), 0)
assert np.abs(r - R).max() <= 1e-12, np.abs(r - R).max()
assert np.abs(D - DD).max() <= 1e-12, np.abs(D - DD).max()
assert DD.max() > 0.5
x, y = L("x"), L("y")
t = (k - 200) * dt                                   # release Driver 3 at 20 ms
X = np.where(k >= 200, 3 * np.exp(-t / 0.02), 0)
Y = np.where(k >= 200, 3 * 0.02 / (0.02 - 0.1) * (np.exp(-t / 0.02) - np.exp(-t / 0.1)), 0)
assert np.abs(x - X).max() <= 1e-12, np.abs(x - X).max()
assert np.abs(y - Y).max() <= 1e-12, np.abs(y - Y).max()
assert Y.max() > 0.3
def mm(x0, t, Vmax=5.0, Km=0.5):                     # Km ln(x/x0) + x - x0 = -Vmax t
    x = np.full_like(t, x0)
    for _ in range(60):
        f = Km * np.log(x / x0) + x - x0 + Vmax * t
        x = x - f / (Km / x + 1)
    return x
da = L("da")
ref = mm(2.0, k[:1500] * dt)
ref = np.concatenate([ref, mm(mm(2.0, np.array([0.15]))[0] + 1, (k[1500:] - 1500) * dt)])
err = np.abs(da - ref).max()
assert err <= 1e-12, err
assert abs(da[1500] - da[1499]) > 0.9                # the release's jump
ach = L("ach")
tt = k * dt
err = np.abs(ach - (tt - 0.05 + 0.05 * np.exp(-tt / 0.05))).max()
assert 1e-6 < err <= 1e-4, err
PY

# orders of convergence: the same model at dt 8, 4 and 2 ms
for h in 8 4 2; do
    sed "s/dt 0.1 ms/dt $h ms/" $model > "$work/m_$h.ei"
    "$eic" run "$work/m_$h.ei" -o "$work/o_$h" --quiet || fail "run at dt $h ms"
done
check "orders: Michaelis-Menten by rk4 ~4, the schedule by exponential Euler ~1 (error at 144 ms, dt 8 -> 4 -> 2 ms)" \
    "$py" - "$work" <<'PY'
import sys
import numpy as np
w = sys.argv[1]
def mm(x0, t, Vmax=5.0, Km=0.5):
    x = x0
    for _ in range(60):
        x = x - (Km * np.log(x / x0) + x - x0 + Vmax * t) / (Km / x + 1)
    return x
T = 0.144
e_mm, e_s = [], []
for h in ("8", "4", "2"):
    dt = float(h) * 1e-3
    k = int(round(T / dt))
    da = np.load("%s/o_%s/P_da.npy" % (w, h))[k, 0]
    ach = np.load("%s/o_%s/P_ach.npy" % (w, h))[k, 0]
    e_mm.append(abs(da - mm(2.0, T)))
    e_s.append(abs(ach - (T - 0.05 + 0.05 * np.exp(-T / 0.05))))
o_mm = np.log2(np.array(e_mm[:-1]) / np.array(e_mm[1:]))
o_s = np.log2(np.array(e_s[:-1]) / np.array(e_s[1:]))
print("    MM errors", e_mm, "orders", o_mm, "; schedule errors", e_s, "orders", o_s)
assert all(3.7 < o < 4.3 for o in o_mm), o_mm
assert all(0.9 < o < 1.1 for o in o_s), o_s
PY

"$eic" check --explain $model > "$work/explain.txt" || fail "explain"
check "--explain: rk4 for the uptake, one 2x2 propagator per coupled pair, exponential Euler for the schedule" \
    bash -c "grep -q '^Uptake.DA: rk4' '$work/explain.txt' &&
             grep -q '^Pool.D: exact - .*2x2 propagator of {Pool.R, Pool.D}' '$work/explain.txt' &&
             grep -q '^Driver.X: exact - .*2x2 propagator' '$work/explain.txt' &&
             grep -q '^Schedule.ACh: exponential_euler' '$work/explain.txt'"
"$eic" check --explain tests/run/ei_protocol.ei > "$work/explain_decay.txt" || fail "explain (decay)"
check "a pure decay (std Dopamine) has no kernel: the runtime's exact decay as before" \
    bash -c "! grep -q '^modulators:' '$work/explain_decay.txt'"

# std.modulators' DopaminePools (exact release pool, rk4 uptake) against a
# fine-step rk4 of the same two ODEs in plain Python (dt/20)
cat > "$work/pools.ei" <<'EOF'
import std.modulators
neuron Reader {
    state W = 0 mV
    let da = DopaminePools.DA
    dW/dt = DopaminePools.DA*(1 V/s)
}
network N {
    population P = 1 of Reader
    at 10 ms release DopaminePools 2
    record da of P
}
simulate N for 300 ms dt 0.1 ms
EOF
"$eic" run "$work/pools.ei" -o "$work/pools" --quiet || fail "DopaminePools: run"
check "std DopaminePools: DA within 1e-9 of a fine-step rk4 reference (peak ~1.74 near 80 ms)" \
    "$py" - "$work/pools" <<'PY'
import sys
import numpy as np
da = np.load(sys.argv[1] + "/P_da.npy")[:, 0]
tau_r, Vmax, Km, dt, sub = 0.02, 4.0, 0.5, 1e-4, 20
def f(R, D):
    return -R / tau_r, R / tau_r - Vmax * D / (Km + D)
R, D, ref, h = 0.0, 0.0, [], dt / sub
for k in range(len(da)):
    if k == 100:
        R += 2.0                                 # release at step round(10 ms/dt)
    ref.append(D)
    for _ in range(sub):
        a = f(R, D); b = f(R + h / 2 * a[0], D + h / 2 * a[1])
        c = f(R + h / 2 * b[0], D + h / 2 * b[1]); d = f(R + h * c[0], D + h * c[1])
        R += h / 6 * (a[0] + 2 * b[0] + 2 * c[0] + d[0]); D += h / 6 * (a[1] + 2 * b[1] + 2 * c[1] + d[1])
err = np.abs(da - np.array(ref)).max()
print("    max |DA - reference| =", err, "peak", da.max())
assert err <= 1e-9 and 1.6 < da.max() < 1.9, err
PY

"$eic" run $model -o "$work/b" --quiet --threads 2 || fail "run, 2 threads"
"$eic" build $model -o "$work/exe" || fail "build"
"$work/exe" -o "$work/c" --quiet || fail "aot run"
for f in P_r P_d P_da P_ach P_x P_y P_W; do
    check "$f.npy: 1 thread == 2 threads" cmp -s "$work/a/$f.npy" "$work/b/$f.npy"
    check "$f.npy: JIT == AOT" cmp -s "$work/a/$f.npy" "$work/c/$f.npy"
done

echo "run_moddyn.sh: $fails failure(s)"
[ $fails -eq 0 ]
