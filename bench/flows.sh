#!/usr/bin/env bash
# bench/flows.sh: README's "Two flows" comparison — the identity map, the real-NVP and the
# equivariant flow side by side on experiments I and II (N = 32, 2D; 3000 walkers, 9000 training,
# 1000 validation and 20 000 evaluation configurations of each system; seeds 7 and 2022).
# Per experiment: the real-NVP with the demo's protocol (900 steps of 512), the real-NVP for about
# the equivariant flow's training time (600 epochs of batch 512), and the equivariant flow at its
# default size (80 epochs of batch 256: 40 of L_dir at lr 1e-4, 40 of L_dir + L_inv at 5e-5).
# Then tools/flow-table prints one markdown table per experiment. About 2 h on 2 cores (the runs
# of one experiment go one after the other; set JOBS=2 to run the two experiments side by side,
# one thread each). Not part of `make bench` (too long).
# Usage: bench/flows.sh [WORK_DIR]   (default: a fresh folder under /tmp)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
boltzmap=${BOLTZMAP:-$here/build/src/boltzmap}
work=${1:-$(mktemp -d /tmp/boltzmap_flows.XXXXXX)}
jobs=${JOBS:-1}
[[ -x $boltzmap ]] || { echo "bench/flows.sh: build first (make), or set BOLTZMAP"; exit 1; }
mkdir -p "$work" && cd "$work"
echo "bench/flows.sh: working in $work"

# The experiment's systems with the demo's sampling sizes, and a [training] table.
make_input() {  # SOURCE NAME TRAINING_TOML > file
  /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import re, sys
src, name, training = sys.argv[1], sys.argv[2], sys.argv[3]
s = open(src).read()
s = re.sub(r'^name = ".*"', f'name = "{name}"', s, count=1, flags=re.M)
s = s.replace("walkers = 25000", "walkers = 3000").replace("moves_between_saves = 10000", "moves_between_saves = 5000")
s = s.replace("evaluation = 500000", "evaluation = 20000")
i = s.index("[training]")
m = re.search(r"^\[(?!\[)(?!training)", s[i + 1:], re.M)
end = i + 1 + m.start() if m else len(s)
print(s[:i] + training + "\n" + s[end:])
PY
}
phase() { printf '[[training.phases]]\nepochs = %s\nlambda_dir = 1.0\nlambda_inv = %s\nlearning_rate = [[0, %s]]\n' "$@"; }
# training BATCH CHECKPOINT_EVERY EPOCHS_1 LR_1 EPOCHS_2 LR_2: phase 1 L_dir, phase 2 L_dir + L_inv.
training() {
  printf '[training]\nbatch_size = %s\npool_mc_steps = 500\ncheckpoint_every = %s\n' "$1" "$2"
  phase "$3" 0.0 "$4"
  phase "$5" 1.0 "$6"
}
demo_training=$(training 512 10 25 3e-4 25 1e-4)
long_training=$(training 512 50 100 3e-4 500 1e-4)
eq_training=$(training 256 10 40 1e-4 40 5e-5)

experiment() {  # NAME SOURCE
  local name=$1 src=$2
  make_input "$src" "$name" "$demo_training" > "$name.toml"
  make_input "$src" "$name" "$long_training" > "${name}_long.toml"
  make_input "$src" "$name" "$eq_training" > "${name}_eq.toml"
  "$boltzmap" sample "$name.toml" --no-progress --set output_dir="$name/data_only" > "$name.sample.log" 2>&1
  for run in realnvp realnvp_long equivariant; do
    rm -rf "$name/$run" && mkdir -p "$name/$run" && cp -r "$name/data_only/data" "$name/$run/"
  done
  "$boltzmap" train "$name.toml" --no-progress --set output_dir="$name/realnvp" > "$name.realnvp.log" 2>&1
  "$boltzmap" train "${name}_long.toml" --no-progress --set output_dir="$name/realnvp_long" > "$name.realnvp_long.log" 2>&1
  "$boltzmap" train "${name}_eq.toml" --no-progress --set flow.kind=equivariant --set output_dir="$name/equivariant" \
    > "$name.equivariant.log" 2>&1
  for pair in "$name.toml realnvp" "${name}_long.toml realnvp_long" "${name}_eq.toml equivariant"; do
    set -- $pair
    local kind=()
    [[ $2 == equivariant ]] && kind=(--set flow.kind=equivariant)
    "$boltzmap" map "$1" --no-progress "${kind[@]}" --set output_dir="$name/$2" > "$name.$2.map.log" 2>&1
    "$boltzmap" analyze "$1" --no-progress --no-plot "${kind[@]}" --set output_dir="$name/$2" > "$name.$2.analyze.log" 2>&1
  done
  echo "== $name"
  "$here/tools/flow-table" "real-NVP, demo protocol=$name/realnvp" "real-NVP, long=$name/realnvp_long" \
    "equivariant flow=$name/equivariant"
}

if [[ $jobs -ge 2 ]]; then
  export OMP_NUM_THREADS=1
  experiment exp1 "$here/inputs/demo.toml" > exp1.table 2>&1 &
  experiment exp2 "$here/inputs/experiment_II_short.toml" > exp2.table 2>&1 &
  wait
  cat exp1.table exp2.table
else
  experiment exp1 "$here/inputs/demo.toml"
  experiment exp2 "$here/inputs/experiment_II_short.toml"
fi
