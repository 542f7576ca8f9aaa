# Shared by the command-line test scripts (sourced): the Python with h5py/numpy (Debian's first),
# and PASS/FAIL bookkeeping — ok NAME, bad NAME [LOG] (prints the log's tail), finish (exit status).
py=/usr/bin/python3; [[ -x $py ]] || py=python3
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "PASS $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [[ -z ${2:-} || ! -f $2 ]] || tail -n 20 "$2" | sed 's/^/    | /'; }
finish() { echo "$pass passed, $fail failed"; [[ $fail -eq 0 ]]; }

# tiny_input KEY=VALUE ...: the small two-system input the CLI and MPI tests share, on stdout:
# N = 18 in 2D at ρ = 0.6, LJ with r_c = 2.5, A at ε = 1 (Δ = 0.25) and B at ε = 1/2 (Δ = 0.3),
# T = 1, both sampled alike. Each KEY=VALUE replaces a default below; `phases` is the raw
# [[training.phases]] text and `extra` raw TOML appended at the end (an [analysis] table, …).
tiny_input() {
  local name=tiny seed=5 walkers=200 eq=1000 between=200 train=400 validation=200 evaluation=400 \
    blocks=2 hidden="[16]" batch=100 pool_steps=20 checkpoint_every=1 extra=""
  local phases='[[training.phases]]
epochs = 2
lambda_dir = 1.0
lambda_inv = 1.0
learning_rate = [[0, 1e-3]]'
  local kv
  for kv in "$@"; do local "${kv%%=*}=${kv#*=}"; done
  cat <<TOML
name = "$name"
seed = $seed
[box]
n_particles = 18
[systems.A]
potential = "lj"
epsilon = 1.0
cutoff = 2.5
temperature = 1.0
density = 0.6
[systems.A.sampler]
walkers = $walkers
step_size = 0.25
equilibration_moves = $eq
moves_between_saves = $between
[systems.A.datasets]
train = $train
validation = $validation
evaluation = $evaluation
[systems.B]
potential = "lj"
epsilon = 0.5
cutoff = 2.5
temperature = 1.0
density = 0.6
[systems.B.sampler]
walkers = $walkers
step_size = 0.3
equilibration_moves = $eq
moves_between_saves = $between
[systems.B.datasets]
train = $train
validation = $validation
evaluation = $evaluation
[flow]
blocks = $blocks
hidden = $hidden
[training]
batch_size = $batch
pool_mc_steps = $pool_steps
checkpoint_every = $checkpoint_every
$phases
$extra
TOML
}
# tiny_phase EPOCHS LAMBDA_INV LR: one [[training.phases]] table (λ_dir = 1, one learning rate).
tiny_phase() { printf '[[training.phases]]\nepochs = %s\nlambda_dir = 1.0\nlambda_inv = %s\nlearning_rate = [[0, %s]]\n' "$1" "$2" "$3"; }
# tiny_analysis REPLICATES: an [analysis] table without figures.
tiny_analysis() { printf '[analysis]\nbootstrap_replicates = %s\nplot = false\n' "$1"; }
# rank_pid DIR RANK: the pid of the boltzmap process (of MPI rank RANK; RANK "" without mpiexec)
# started with --set output_dir=$tmp/DIR, waiting up to 30 s for it (the signal tests).
rank_pid() {
  for _ in $(seq 300); do
    for p in $(pgrep -f -- "output_dir=$tmp/$1\$"); do
      [[ $(cat /proc/$p/comm 2>/dev/null) == boltzmap ]] || continue
      [[ -z $2 ]] && { echo $p; return 0; }
      tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2" && { echo $p; return 0; }
    done
    sleep 0.1
  done
  return 1
}
