#!/usr/bin/env bash
# Scaling on this machine, 1 rank against 2 (one thread per rank, so the two runs use 1 and 2
# cores): sampling throughput, the training step (1 and 2 trainer ranks, data-parallel, the same
# batch), and map and analyze time, on the demo input (inputs/demo.toml: N = 32, 2D, 2×10⁴
# evaluation configurations per system) with a short training (2 epochs of each phase) and the
# Poisson bootstrap (the scheme that splits over ranks). Prints one JSON object per figure and one
# with the speedups. Usage: bench/scaling.sh [BUILD_DIR]  (WORK, KEEP as in large_sample.sh).
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
boltzmap=$(cd "$build" && pwd)/src/boltzmap
work=${WORK:-$(mktemp -d)}
mkdir -p "$work"
[[ -n ${KEEP:-} || -n ${WORK:-} ]] || trap 'rm -rf "$work"' EXIT
mpiexec=${MPIEXEC:-$root/tests/tools/mpiexec.sh}
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1} OMP_NUM_THREADS=1
sed -e "s/^epochs = .*/epochs = 2/" -e "s/^name = .*/name = \"scaling\"/" "$root/inputs/demo.toml" |
  sed -E 's/\[\[([0-9]+), ([0-9.e-]+)\], \[[0-9]+, [0-9.e-]+\]\]/[[\1, \2]]/' > "$work/in.toml"

run() {  # run NP DIR subcommand [args]
  local np=$1 dir=$2; shift 2
  if [[ $np -eq 1 ]]; then "$boltzmap" "$@" "$work/in.toml" --no-progress -o "$work/$dir" --set analysis.plot=false
  else "$mpiexec" -n "$np" "$boltzmap" "$@" "$work/in.toml" --no-progress -o "$work/$dir" --set analysis.plot=false; fi
}
for np in 1 2; do
  run "$np" "np$np" sample > "$work/sample$np.log" 2>&1
  run "$np" "np$np" train > "$work/train$np.log" 2>&1
  run "$np" "np$np" map > "$work/map$np.log" 2>&1
  run "$np" "np$np" analyze --no-plot --set analysis.bootstrap_scheme=poisson > "$work/analyze$np.log" 2>&1
done
python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
s = {np: json.load(open(f"{w}/np{np}/summary.json")) for np in (1, 2)}
fig = {}
for np in (1, 2):
    x = s[np]
    f = {"sample_trial_moves_per_second": 0.5 * (x["sample"]["A"]["trial_moves_per_second"] + x["sample"]["B"]["trial_moves_per_second"]),
         "train_seconds_per_step": x["train"]["seconds_per_step"],
         "map_seconds": x["map"]["A_to_B"]["seconds"] + x["map"]["B_to_A"]["seconds"],
         "analyze_seconds": x["analyze"]["seconds"]}
    fig[np] = f
    print(json.dumps({"benchmark": "scaling_demo", "ranks": np, "threads_per_rank": 1, **{k: round(v, 4) for k, v in f.items()}}))
sp = {"sample": fig[2]["sample_trial_moves_per_second"] / fig[1]["sample_trial_moves_per_second"],
      "train_step": fig[1]["train_seconds_per_step"] / fig[2]["train_seconds_per_step"],
      "map": fig[1]["map_seconds"] / fig[2]["map_seconds"], "analyze": fig[1]["analyze_seconds"] / fig[2]["analyze_seconds"]}
print(json.dumps({"benchmark": "scaling_demo_speedup_2_over_1_rank", **{k: round(v, 3) for k, v in sp.items()}}))
PY
