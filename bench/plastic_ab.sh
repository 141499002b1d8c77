#!/usr/bin/env bash
# plastic_ab.sh - two eic binaries (e.g. before and after a performance change) on the full-size
# plastic models of issue 5, in one run: simulate time of each (minimum of R cold runs, one
# thread) and whether their recordings are bit-identical (cmp of every .npy file).
# Usage: bench/plastic_ab.sh EIC_A EIC_B [R=2] [vogels|song ...]   (default: vogels song)
#   vogels: examples/vogels2011.ei at full size (as bench/models_full.sh), 10 s
#   song:   examples/song2000.ei with Brian2's parameters (as bench/models_full.sh), 110 s
# Build an older commit without touching the checkout:
#   git archive COMMIT | tar -x -C /tmp/old && cmake -S /tmp/old -B /tmp/old/b && cmake --build /tmp/old/b --target eic
set -u
a=$(readlink -f "${1:?usage: plastic_ab.sh EIC_A EIC_B [R] [model ...]}")
b=$(readlink -f "${2:?usage: plastic_ab.sh EIC_A EIC_B [R] [model ...]}")
reps=${3:-2}; shift 3 2>/dev/null || shift $#
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/eic_plab.XXXXXX); trap 'rm -rf "$work"' EXIT
py=/usr/bin/python3

sed 's/1600 of/8000 of/; s/400 of/2000 of/; s/probability 0.1/probability 0.02/; s/eta = 300 pS/eta = 10 pS/' \
  "$src/examples/vogels2011.ei" > "$work/vogels.ei"
sed 's/A_plus = 0.02, A_minus = 0.021/A_plus = 0.01, A_minus = 0.0105/; s/at 60 s set drive.rate = 0.3 Hz/at 100 s set drive.rate = 0.5 Hz/;
     s/for 70 s dt 0.25 ms/for 110 s dt 0.1 ms/; s/delay 0.25 ms/delay 0.1 ms/; s/every 0.25 ms/every 0.1 ms/' \
  "$src/examples/song2000.ei" > "$work/song.ei"

# best EIC MODEL OUT: the smallest simulate_s of $reps cold runs; OUT keeps the last run's files
best() {
  local t m=""
  for _ in $(seq "$reps"); do
    rm -rf "$3" "$work/cache"
    XDG_CACHE_HOME=$work/cache "$1" run "$2" -I "$src/examples" -o "$3" --quiet --threads 1 || { echo FAIL; return; }
    t=$($py -c "import json,sys; print(json.load(open(sys.argv[1]+'/manifest.json'))['timings']['simulate_s'])" "$3")
    m=$($py -c "import sys; print(min(float(x) for x in sys.argv[1:]))" $t $m)
  done
  echo "$m"
}

for model in ${*:-vogels song}; do
  ta=$(best "$a" "$work/$model.ei" "$work/a_$model")
  tb=$(best "$b" "$work/$model.ei" "$work/b_$model")
  same=identical
  for f in "$work/a_$model"/*.npy; do
    cmp -s "$f" "$work/b_$model/$(basename "$f")" || same="DIFFERENT ($(basename "$f"))"
  done
  $py -c "import sys; a, b = float(sys.argv[2]), float(sys.argv[3]); print('%-7s A %7.3f s  B %7.3f s  B/A %.3f  recordings %s' % (sys.argv[1], a, b, b / a, sys.argv[4]))" \
    "$model" "$ta" "$tb" "$same"
done
echo "A: $a"; echo "B: $b"; echo "simulate_s, minimum of $reps cold runs, 1 thread"
