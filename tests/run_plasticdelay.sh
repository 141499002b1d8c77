#!/usr/bin/env bash
# run_plasticdelay.sh - end-to-end test of per-synapse delays in a plastic
# projection (SPEC [S-plastic-1]; run by ctest as: bash run_plasticdelay.sh
# EIC_BINARY SOURCE_DIR), on real numbers: one LIF fires about every 308 ms
# and reaches 40 targets through a static Kick (6 ms: each target fires 60
# steps after the pre spike) and through an STDP synapse with `delay
# uniform(1 ms, 11 ms)`, one synapse per target, so about 35 different
# delays. From each target's recording (Q integrates the delivered weights)
# the test reads the synapse's arrival step d_j (constant across pairs, in
# 10..110) and its weight at every arrival, and checks them against an
# independent replica of pair STDP whose pre events are the DELAYED arrivals
# pre + d_j (rtol 1e-9), and the change of the first pair against the
# closed form +A_plus w_max e^-(60-d_j) dt/tau (pre before post) or
# -A_minus w_max e^-(d_j-60) dt/tau (rtol 1e-6); the delays read back and
# written as a connection file (4th column) give the same bits; 1 == 2 == 3
# threads and eic run == eic build, bit for bit, also on
# tests/run/plastic_net.ei with every delay drawn.
. "$(dirname "$0")/lib/e2e.sh" "$@"

cd "$src"
sed -e '/^network Pairs/,$d' tests/run/stdp_pairs.ei | grep -v '^#' > "$work/pd.ei"
cat >> "$work/pd.ei" <<'EOF2'
network Pairs {
    population Pre = 1 of LIF
    population T = 40 of Target
    input drive = current 300 pA -> Pre
    connect Pre -> T via Kick all_to_all weight 100 nS delay 6 ms
    connect Pre -> T via Count all_to_all weight 5 nS delay uniform(1 ms, 11 ms) with STDP
    record spikes of Pre, T
    record Q of T
}

simulate Pairs for 2 s dt 0.1 ms seed 1
EOF2
for t in 1 2 3; do
  "$eic" run "$work/pd.ei" -o "$work/pd$t" --quiet --threads $t || fail "plastic delays: run --threads $t"
done
check "plastic delays: each synapse's weights equal pair STDP with its own delayed arrivals (rtol 1e-9); first change on the closed form (1e-6)" \
    "$py" - "$work/pd1" "$work/pd_conn.csv" <<'PY'
import math, sys
import numpy as np
d, dt = sys.argv[1], 1e-4
k = 1e-4 * 1e-3 / 100e-9
A_plus, A_minus, w_max, tau = 0.01, 0.0105, 10e-9, 0.020
pre = np.rint(np.load(d + "/Pre_spikes.npy")["t"] / dt).astype(int)
sp = np.load(d + "/T_spikes.npy")
Q = np.load(d + "/T_Q.npy")

from e2e_ref import stdp_pair_replica

def replica(arrivals, posts):
    return stdp_pair_replica(arrivals, posts, dt, tau, A_plus, A_minus, w_max)

delays = []
for j in range(Q.shape[1]):
    posts = np.rint(sp["t"][sp["i"] == j] / dt).astype(int)
    assert (posts == pre + 60).all(), (j, posts, pre)
    g = np.diff(Q[:, j]) / k
    amp = np.diff(np.concatenate([[0.0], g]))
    hit = np.nonzero(np.abs(amp) > 1e-14)[0]
    w = amp[hit]
    dj = hit - pre[:len(hit)]
    assert len(hit) == len(pre) and (dj == dj[0]).all(), (j, hit, pre)
    dj = int(dj[0])
    assert 10 <= dj <= 110, dj
    delays.append(dj)
    want = replica(set((pre + dj).tolist()), set(posts.tolist()))
    assert np.allclose(w, want, rtol=1e-9, atol=0), (j, dj, np.max(np.abs(w / want - 1)))
    if dj != 60:
        one = (A_plus * math.exp(-(60 - dj) * dt / tau) if dj < 60 else -A_minus * math.exp(-(dj - 60) * dt / tau)) * w_max
        assert abs((w[1] - w[0]) / one - 1) < 1e-6, (j, dj, (w[1] - w[0]) / one - 1)
assert len(set(delays)) >= 25, sorted(delays)   # many delay groups
with open(sys.argv[2], "w") as f:               # the same synapses as a file, posts descending
    f.write("pre,post,weight,delay\n")
    for j in reversed(range(len(delays))):
        f.write("0,%d,5e-9,%r\n" % (j, delays[j] * dt))
PY
# the delays read back from the recording, given as a connection file: the same bits
sed "s|delay uniform(1 ms, 11 ms) with STDP|from \"$work/pd_conn.csv\" with STDP|; s|Count all_to_all|Count|" \
    "$work/pd.ei" > "$work/pdfile.ei"
if "$eic" run "$work/pdfile.ei" -o "$work/pdfile" --quiet --threads 2; then
  check "plastic delays: a connection file with the same delays gives the same bits" \
    cmp -s "$work/pd1/T_Q.npy" "$work/pdfile/T_Q.npy"
else
  fail "plastic delays: run with a connection file"
fi
for f in T_Q T_spikes; do
  check "plastic delays: $f bit-identical for 1, 2 and 3 threads" \
    sh -c "cmp -s '$work/pd1/$f.npy' '$work/pd2/$f.npy' && cmp -s '$work/pd1/$f.npy' '$work/pd3/$f.npy'"
done
if "$eic" build "$work/pd.ei" -o "$work/pd_exe" && "$work/pd_exe" -o "$work/pd_aot" --quiet --threads 2; then
  check "plastic delays: eic build == eic run" cmp -s "$work/pd1/T_Q.npy" "$work/pd_aot/T_Q.npy"
else
  fail "plastic delays: eic build or run"
fi

# precision float: 1 == 2 threads, eic build == eic run
sed 's/seed 1$/seed 1 precision float/' "$work/pd.ei" > "$work/pdf.ei"
ok=1
"$eic" run "$work/pdf.ei" -o "$work/pdf1" --quiet --threads 1 || ok=0
"$eic" run "$work/pdf.ei" -o "$work/pdf2" --quiet --threads 2 || ok=0
"$eic" build "$work/pdf.ei" -o "$work/pdf_exe" && "$work/pdf_exe" -o "$work/pdf_aot" --quiet --threads 2 || ok=0
check "plastic delays, float: runs; 1 == 2 threads == eic build" \
    sh -c "[ $ok = 1 ] && cmp -s '$work/pdf1/T_Q.npy' '$work/pdf2/T_Q.npy' && cmp -s '$work/pdf1/T_Q.npy' '$work/pdf_aot/T_Q.npy'"

# --- every kind of plastic projection with drawn delays: threads and AOT ----------------
# tests/run/plastic_net.ei with every delay drawn (TsodyksMarkram per synapse,
# STDP, SoftSTDP, Vogels, triplet, eligibility, scaling; the `every` kernel and
# on_pre with several delay groups per row split between threads)
sed -e 's/delay 1.5 ms/delay uniform(0.5 ms, 3 ms)/; s/delay 2 ms/delay uniform(1 ms, 4 ms)/; s/delay 1 ms/delay normal(2 ms, 0.5 ms)/' \
    tests/run/plastic_net.ei > "$work/net.ei"
check "net: every delay is drawn" bash -c "! grep -q 'delay [0-9]' '$work/net.ei'"
for t in 1 2 3; do
  "$eic" run "$work/net.ei" -o "$work/net$t" --threads $t --quiet || fail "net: run --threads $t"
done
for f in E_spikes.npy I_spikes.npy E_V.npy I_V.npy; do
  check "net: $f bit-identical for 1, 2 and 3 threads" \
    sh -c "cmp -s '$work/net1/$f' '$work/net2/$f' && cmp -s '$work/net1/$f' '$work/net3/$f'"
done
if "$eic" build "$work/net.ei" -o "$work/net_exe" && "$work/net_exe" -o "$work/net_aot" --quiet --threads 2; then
  check "net: eic build == eic run" sh -c "cmp -s '$work/net1/E_spikes.npy' '$work/net_aot/E_spikes.npy' && cmp -s '$work/net1/E_V.npy' '$work/net_aot/E_V.npy'"
else
  fail "net: eic build or run"
fi

echo "$fails failure(s)"
exit $((fails > 0))
