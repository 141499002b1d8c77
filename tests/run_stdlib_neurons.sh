#!/usr/bin/env bash
# run_stdlib_neurons.sh - every neuron type of stdlib/neurons.ei simulates for 300 ms at
# dt = 0.1 ms under a current step without a runtime error (NaN, overflow) and fires
# (run by ctest as: bash run_stdlib_neurons.sh EIC_BINARY SOURCE_DIR).
. "$(dirname "$0")/lib/e2e.sh" "$@"
# type, and a current that makes it fire (the types differ in size and input resistance)
while read -r type amp unit; do
  printf 'import std.neurons\nnetwork N {\n    population P = 10 of %s\n    input step = current %s %s -> P\n    record spikes of P\n}\nsimulate N for 300 ms dt 0.1 ms seed 1\n' \
    "$type" "$amp" "$unit" > "$work/$type.ei"
  if out=$("$eic" run "$work/$type.ei" -o "$work/out_$type" --quiet 2>&1) &&
     n=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['populations']['P']['spikes'])" "$work/out_$type/manifest.json") &&
     [ "$n" -gt 0 ]; then
    echo "ok   - $type fires ($n spikes in 300 ms at $amp $unit)"
  else
    echo "FAIL - $type: $out"; fails=$((fails + 1))
  fi
done <<'LIST'
LIF 300 pA
CubaLIF 20 mV
AdEx 800 pA
PVCell 400 pA
SSTCell 300 pA
VIPCell 100 pA
Pyramidal 400 pA
Izhikevich 10 pA
IzhikevichR 10 pA
DeltaLIF 300 pA
PerfectIF 300 pA
AdaptiveThresholdLIF 400 pA
AdaptiveGainLIF 300 pA
LIST
exit $((fails > 0))
