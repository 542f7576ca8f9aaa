#!/usr/bin/env bash
# Large-sample map and analysis (issue 11): experiment I's systems, network and protocol with
# N_EVAL configurations per evaluation set, made by `boltzmap sample` with few moves between saves
# (MOVES, default 100: the configurations are correlated, which does not change the cost of
# mapping or analysing them), a model trained for one epoch (its quality does not change the cost
# either), then `map` and `analyze` with each number of replicates in REPLICATES, on each rank
# count in RANKS. Prints one JSON object per map/analyze run: wall time, the peak resident memory of
# the largest rank (GNU time's maxresident, per process), and the cost per configuration.
# Each rank count shares the machine's cores (CORES, default nproc): OMP_NUM_THREADS = CORES / ranks.
# Usage: bench/large_sample.sh [BUILD_DIR]   with N_EVAL, REPLICATES ("100 1000"), RANKS ("1 2"),
#        MOVES, WORK (scratch folder, default a temporary one, removed at the end; KEEP=1 keeps it).
# `make bench` runs it at N_EVAL = 2×10⁵; README's "Mapping and analysis" table came from
# N_EVAL=5000000 REPLICATES="100 1000" RANKS="1 2" bench/large_sample.sh.
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
boltzmap=$(cd "$build" && pwd)/src/boltzmap
n_eval=${N_EVAL:-200000} replicates=${REPLICATES:-100 1000} ranks=${RANKS:-1 2} moves=${MOVES:-100}
work=${WORK:-$(mktemp -d)}
mkdir -p "$work"
[[ -n ${KEEP:-} || -n ${WORK:-} ]] || trap 'rm -rf "$work"' EXIT
mpiexec=${MPIEXEC:-$root/tests/tools/mpiexec.sh}
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1}
cores=${CORES:-$(nproc)}
gnu_time=/usr/bin/time
[[ -x $gnu_time ]] || { echo '{"benchmark": "large_sample", "skipped": "needs GNU time (apt-get install time)"}'; exit 0; }

# The input: experiment_I_short with the evaluation sets enlarged and the saves close together.
sed -e "s/^evaluation = .*/evaluation = $n_eval/" -e "s/^moves_between_saves = .*/moves_between_saves = $moves/" \
    -e "s/^epochs = .*/epochs = 1/" -e "s/, \[40, 1e-4\]//" \
    -e "s/^name = .*/name = \"large_sample\"/" "$root/inputs/experiment_I_short.toml" > "$work/in.toml"
common=(--no-progress -o "$work/run" --set analysis.plot=false)
"$boltzmap" sample "$work/in.toml" "${common[@]}" > "$work/sample.log" 2>&1
"$boltzmap" train "$work/in.toml" "${common[@]}" > "$work/train.log" 2>&1

# time_run NAME NP CMD...: runs under GNU time (per rank), prints the JSON line.
time_run() {
  local name=$1 np=$2 reps=$3; shift 3
  rm -f "$work"/rss.*
  export OMP_NUM_THREADS=$(( cores / np > 0 ? cores / np : 1 ))  # the machine's cores shared by the ranks
  local t0 t1
  t0=$(date +%s.%N)
  if [[ $np -eq 1 ]]; then "$gnu_time" -f %M -o "$work/rss.0" "$boltzmap" "$@" > "$work/$name.log" 2>&1
  else "$mpiexec" -n "$np" bash -c "exec $gnu_time -f %M -o $work/rss.\$OMPI_COMM_WORLD_RANK $boltzmap $*" > "$work/$name.log" 2>&1; fi
  t1=$(date +%s.%N)
  local rss
  rss=$(cat "$work"/rss.* | sort -n | tail -1)
  python3 -c "
import json, sys
wall = $t1 - $t0
print(json.dumps({'benchmark': 'large_sample_$name', 'configurations_per_direction': $n_eval, 'ranks': $np,
                  'threads_per_rank': $OMP_NUM_THREADS, 'replicates': $reps,
                  'wall_seconds': round(wall, 2), 'peak_rss_mb_largest_rank': round($rss / 1024.0, 1),
                  'microseconds_per_configuration': round(1e6 * wall / (2 * $n_eval), 2)}))"
}
for np in $ranks; do
  time_run "map" "$np" 0 map "$work/in.toml" "${common[@]}"
  for r in $replicates; do
    scheme=poisson
    time_run "analyze" "$np" "$r" analyze "$work/in.toml" "${common[@]}" --no-plot \
      --set analysis.bootstrap_replicates="$r" --set analysis.bootstrap_scheme=$scheme
  done
done
