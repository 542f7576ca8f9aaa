#!/usr/bin/env bash
# mpi_determinism_np2: the same input sampled with 1 rank × 1 thread, 1 rank × 2 threads and
# 2 ranks × 1 thread must give bitwise identical data files (counter-based RNG keyed by walker).
set -euo pipefail
boltzmap=$1 compare=$2 mpiexec=$3 tmp=$4
rm -rf "$tmp" && mkdir -p "$tmp"
cat > "$tmp/in.toml" <<'TOML'
name = "det"
seed = 11
[box]
n_particles = 18
[systems.A]
potential = "lj"
epsilon = 1.0
cutoff = 2.5
inner_cutoff = 0.8
temperature = 1.0
density = 0.6
[systems.A.sampler]
walkers = 37            # odd, so the ranks' blocks differ in size
step_size = "auto"
equilibration_moves = 600
moves_between_saves = 300
[systems.A.datasets]
train = 50
validation = 20
evaluation = 41
[systems.B]
potential = "wca"
epsilon = 0.5
inner_cutoff = 0.8
temperature = 1.0
density = 0.6
[systems.B.sampler]
walkers = 37
step_size = 0.2
equilibration_moves = 600
moves_between_saves = 300
[systems.B.datasets]
train = 30
validation = 0
evaluation = 44
TOML
run() {  # run NAME [launcher...]
  local name=$1; shift
  "$@" "$boltzmap" sample "$tmp/in.toml" --no-progress --set output_dir="$tmp/$name" > "$tmp/$name.log" 2>&1 ||
    { cat "$tmp/$name.log"; echo "FAIL: run $name"; exit 1; }
}
OMP_NUM_THREADS=1 run t1
OMP_NUM_THREADS=2 run t2
OMP_NUM_THREADS=1 run np2 "$mpiexec" -n 2
for f in A_train A_validation A_evaluation B_train B_evaluation; do
  "$compare" "$tmp/t1/data/$f.h5" "$tmp/t2/data/$f.h5"
  "$compare" "$tmp/t1/data/$f.h5" "$tmp/np2/data/$f.h5"
done
[[ ! -e "$tmp/t1/data/B_validation.h5" ]] || { echo "FAIL: a data set of size 0 was written"; exit 1; }
grep -q "rank  host" "$tmp/np2.log" && [[ $(grep -cE " sampler +cpu" "$tmp/np2.log") -eq 2 ]] || { echo "FAIL: rank table"; cat "$tmp/np2.log"; exit 1; }
echo "mpi_determinism_np2: 1 passed, 0 failed"
