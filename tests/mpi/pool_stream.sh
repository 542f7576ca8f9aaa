#!/usr/bin/env bash
# mpi_train_pool_stream_np1_2_4: training with the streamed source pool (src/flow/pool_stream.hpp).
# The same tiny training (a phase without L_inv, then two with it; 600 rows in batches of 250, so
# every epoch ends with a 100-row batch) on 1 rank (local pool), on 2 ranks with 1 sampler rank
# (1 trainer) and on 4 ranks with 2 sampler ranks (2 trainers). The pool after training is bitwise
# the 1-rank pool (every MC move is keyed by (seed, step, row), whoever makes it, and a step's rows
# replace their members only on commit); with 1 trainer the parameters are bitwise the 1-rank ones
# too (the same batch, the same arithmetic); with 2 trainers within 1e-5 (the gradient summed in
# another order: a few float32 roundings per step, bounded by Adam's step ≈ lr = 1e-3 per step
# after S = 9 steps; a wrong or missing pool row changes L_inv's gradient by O(1) and the
# parameters by ≈ lr per step, 100× the tolerance; tests/mpi/train_parallel.sh derives it alike).
# Then: SIGUSR1 to the sampler rank stops every rank after one checkpoint, exit 0, and the resumed
# run's flow.h5 is bitwise the uninterrupted 1-rank one; and a diverging run with a sampler rank
# stops with exit 5 and one message, its failed-step checkpoint holding the 1-rank run's pool (the
# rejected step's rows were not committed). Every MPI command runs under `timeout`.
# Usage: pool_stream.sh BOLTZMAP MPIEXEC TMPDIR
set -u
boltzmap=$1 mpiexec=$2 tmp=$3
source "$(dirname "$0")/../app/common.sh"
rm -rf "$tmp" && mkdir -p "$tmp" && cd "$tmp" || exit 1
set -m  # background jobs keep their signals
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1} OMP_NUM_THREADS=1
tiny_input name=ps seed=11 walkers=200 eq=500 between=100 train=600 validation=200 evaluation=0 blocks=2 batch=250 \
  pool_steps=30 phases="$(tiny_phase 1 0.0 1e-3)
$(tiny_phase 2 1.0 1e-3)" > in.toml
timeout 120 "$boltzmap" sample in.toml --no-progress -o base > sample.log 2>&1 || { bad "sample" sample.log; finish; exit 1; }

train() {  # train NAME NP SAMPLERS INPUT: trains a copy of base in NAME (output_dir last: rank_pid finds it)
  local name=$1 np=$2 k=$3 input=$4
  rm -rf "$name" && cp -r base "$name"
  if [[ $np -eq 1 ]]; then timeout 120 "$boltzmap" train "$input" --no-progress --set output_dir="$tmp/$name" > "$name.log" 2>&1
  else timeout 120 "$mpiexec" -n "$np" "$boltzmap" train "$input" --no-progress --sampler-ranks "$k" --set output_dir="$tmp/$name" > "$name.log" 2>&1; fi
}
train one 1 0 in.toml && ok "1 rank trains (local pool)" || bad "1 rank" one.log
train s1 2 1 in.toml && grep -qE " 1  .* sampler +cpu" s1.log && grep -q "1 sampler rank(s) served 6 batches" s1.log \
  && ok "1 trainer + 1 sampler rank: the sampler serves the 6 batches of the 2 L_inv epochs" || bad "1 trainer + 1 sampler" s1.log
train s2 4 2 in.toml && grep -q "split over 2 trainer ranks" s2.log && grep -qE " 3  .* sampler +cpu" s2.log \
  && grep -q "2 sampler rank(s) served 12 batches" s2.log \
  && ok "2 trainers + 2 sampler ranks: each sampler answers the 6 requests" || bad "2 trainers + 2 samplers" s2.log
grep -h "source pool:" one.log s1.log s2.log

$py - <<'PY' > compare.log 2>&1 && ok "pools bitwise equal; parameters bitwise (1 trainer) and within 1e-5 (2 trainers); stall share in summary.json" || bad "streamed vs local" compare.log
import json, h5py, numpy as np
def state(d):
    with h5py.File(f"{d}/model/checkpoints/checkpoint.h5", "r") as f:
        return f["flow/parameters"][:], f["checkpoint/pool"][:], int(f["checkpoint"].attrs["global_step"])
p1, pool1, steps = state("one")
assert steps == 9, steps
for d in ("s1", "s2"):
    p, pool, s = state(d)
    assert s == steps, (d, s)
    assert np.array_equal(pool, pool1), f"{d}: pool differs from 1 rank's"
    dp = np.abs(p - p1).max()
    print(d, "max |Δθ| =", dp)
    if d == "s1": assert np.array_equal(p, p1), f"{d}: 1 trainer, parameters differ by {dp}"
    assert dp <= 1e-5, (d, dp)
with h5py.File("base/data/A_train.h5", "r") as f:
    a = f["particles/all/position/value"][:]
assert not np.array_equal(pool1, a[: len(pool1)]), "the pool never changed"
for d in ("one", "s1", "s2"):
    x = json.load(open(f"{d}/summary.json"))["train"]["pool_stall_fraction"]
    print(d, "pool_stall_fraction", x)
    assert 0 < x < 1, (d, x)
PY

# SIGUSR1 to the sampler rank (rank 1 of 2): every rank stops at the epoch's end, one checkpoint,
# exit 0; the resumed run equals the uninterrupted 1-rank run bitwise.
tiny_input name=ps seed=11 walkers=200 eq=500 between=100 train=600 validation=200 evaluation=0 blocks=2 batch=100 \
  pool_steps=30 checkpoint_every=1000 phases="$(tiny_phase 60 1.0 1e-3)" > sig.toml  # the same data sets as in.toml
train sig_one 1 0 sig.toml || bad "1-rank run of sig.toml" sig_one.log
train sig 2 1 sig.toml &
job=$!
pid=$(rank_pid sig 1)
for _ in $(seq 300); do [[ -f sig/train_log.csv && $(wc -l < sig/train_log.csv) -ge 4 ]] && break; sleep 0.05; done
[[ -n $pid ]] && kill -USR1 "$pid"
wait $job; rc=$?
rows=$(($(wc -l < sig/train_log.csv) - 1))
[[ -n $pid && $rc -eq 0 && $rows -lt 60 && -s sig/model/checkpoints/checkpoint.h5 && ! -e sig/model/flow.h5 ]] && grep -q "signal .* received" sig.log \
  && ok "SIGUSR1 to the sampler rank: checkpoint after $rows epochs, exit 0" || bad "SIGUSR1 to the sampler rank (rc $rc, pid '$pid', $rows epochs)" sig.log
timeout 120 "$mpiexec" -n 2 "$boltzmap" train sig.toml --no-progress --sampler-ranks 1 --set output_dir="$tmp/sig" > sig.resumed.log 2>&1 \
  && grep -q "resuming from" sig.resumed.log \
  && "$py" -c "import h5py,numpy as np,sys; a=h5py.File('sig_one/model/flow.h5')['flow/parameters'][:]; b=h5py.File('sig/model/flow.h5')['flow/parameters'][:]; sys.exit(0 if np.array_equal(a,b) else 1)" \
  && ok "the resumed run (1 trainer + 1 sampler) equals the uninterrupted 1-rank flow bitwise" || bad "resume with a sampler rank" sig.resumed.log

# A diverging run (every trainer meets the non-finite loss alike) with a sampler rank: exit 5, one
# message, no hang; the failed step's state holds the pool before that step, as on 1 rank.
sed 's/learning_rate = \[\[0, 1e-3\]\]/learning_rate = [[0, 1e6]]/' sig.toml > nan.toml
train nan_one 1 0 nan.toml; rc1=$?
train nan 2 1 nan.toml; rc=$?
[[ $rc1 -eq 5 && $rc -eq 5 && $(grep -c "error:" nan.log) -eq 1 ]] && ok "a divergence with a sampler rank: exit 5, one message" \
  || bad "divergence with a sampler rank (rc $rc, 1 rank: $rc1, $(grep -c "error:" nan.log) messages)" nan.log
"$py" -c "
import h5py, numpy as np, sys
f = lambda d: h5py.File(d + '/model/checkpoints/checkpoint_failed.h5')
a, b = f('nan_one'), f('nan')
sys.exit(0 if np.array_equal(a['checkpoint/pool'][:], b['checkpoint/pool'][:]) and a['checkpoint'].attrs['global_step'] == b['checkpoint'].attrs['global_step'] else 1)" \
  && ok "the failed step's checkpoint holds the 1-rank pool (the rejected rows were not committed)" || bad "failed checkpoint's pool"
finish
