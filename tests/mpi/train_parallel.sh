#!/usr/bin/env bash
# mpi_train_parallel: data-parallel training. The same tiny training on 1 rank, on 2 and on 3
# trainer ranks, and on 3 ranks of which 1 is a sampler rank (2 trainers, the pool streamed from it): the source pool after
# training is bitwise the 1-rank pool (the pool's MC draws are keyed by the row, not by the rank
# that makes them), and the parameters, every logged loss and the validation metrics (each trainer
# rank evaluates its block of the validation sets) agree to float tolerance.
#
# Tolerance. The k-rank gradient is the 1-rank gradient summed in another order (each rank's GEMMs
# over its rows, then the allreduce), so it differs by a few float32 roundings, ~1e-7 relative.
# Adam's step is lr·m̂/(√v̂ + ε), bounded by ≈ lr per step and insensitive to a tiny relative change
# of g, so after S = 12 steps at lr = 1e-3 the parameters differ by a few ulps of |θ| ≤ 1 (ulp ≈
# 6e-8); we allow 1e-5. A wrong split (a share dropped or counted twice) changes the gradient by
# O(1) and the parameters by ≈ lr = 1e-3 per step: 100× the tolerance. Losses in train_log.csv are
# printed to 8 digits: they must agree to 1e-6 relative.
# Usage: train_parallel.sh BOLTZMAP MPIEXEC TMPDIR
set -u
boltzmap=$1 mpiexec=$2 tmp=$3
source "$(dirname "$0")/../app/common.sh"
rm -rf "$tmp" && mkdir -p "$tmp" && cd "$tmp" || exit 1
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1} OMP_NUM_THREADS=1
tiny_input name=dp seed=11 walkers=200 eq=500 between=100 train=600 validation=200 evaluation=0 blocks=2 batch=200 \
  pool_steps=30 phases="$(tiny_phase 2 0.0 1e-3)
$(tiny_phase 2 1.0 1e-3)" > in.toml
timeout 120 "$boltzmap" sample in.toml --no-progress -o base > sample.log 2>&1 || { bad "sample" sample.log; finish; exit 1; }

train() {  # train NAME NP [extra args]: trains a copy of base in NAME
  local name=$1 np=$2; shift 2
  rm -rf "$name" && cp -r base "$name"
  if [[ $np -eq 1 ]]; then timeout 120 "$boltzmap" train in.toml --no-progress -o "$name" "$@" > "$name.log" 2>&1
  else timeout 120 "$mpiexec" -n "$np" "$boltzmap" train in.toml --no-progress -o "$name" "$@" > "$name.log" 2>&1; fi
}
train one 1 && ok "1 rank trains" || bad "1 rank" one.log
train two 2 && grep -q "split over 2 trainer ranks" two.log && ok "2 ranks train, the batch split over 2 trainer ranks" || bad "2 ranks" two.log
train three 3 && grep -q "split over 3 trainer ranks" three.log && ok "3 ranks train, split over 3 trainer ranks" || bad "3 ranks" three.log
train split 3 --sampler-ranks 1 && grep -q "split over 2 trainer ranks" split.log && grep -qE " 2  .* sampler +cpu" split.log \
  && ok "3 ranks with 1 sampler rank: 2 trainer ranks train" || bad "3 ranks, 1 sampler" split.log

$py - <<'PY' > compare.log 2>&1 && ok "pools bitwise equal; parameters within 1e-5, losses within 1e-6, validation metrics within rounding of 1 rank's" || bad "k ranks vs 1" compare.log
import csv, h5py, numpy as np
def state(d):
    with h5py.File(f"{d}/model/checkpoints/checkpoint.h5", "r") as f:
        return f["flow/parameters"][:], f["checkpoint/pool"][:], int(f["checkpoint"].attrs["global_step"])
def losses(d):
    rows = list(csv.DictReader(open(f"{d}/train_log.csv")))
    return np.array([[float(r[k]) if r[k] != "n/a" else np.nan for k in
                      ("loss_dir_train", "loss_inv_train", "loss_dir_validation", "loss_inv_validation")] for r in rows])
def metrics(d):
    rows = list(csv.DictReader(open(f"{d}/train_log.csv")))
    keys = ("fraction_in_range", "ress_validation", "out_of_domain_a_to_b", "out_of_domain_b_to_a",
            "fraction_in_range_train", "ress_train")
    return np.array([[float(r[k]) if r[k] != "n/a" else np.nan for k in keys] for r in rows])
p1, pool1, steps = state("one")
l1 = losses("one")
assert steps == 12, steps
for d in ("two", "three", "split"):
    p, pool, s = state(d)
    assert s == steps, (d, s)
    assert np.array_equal(pool, pool1), f"{d}: pool differs from 1 rank's"
    dp = np.abs(p - p1).max()
    print(d, "max |Δθ| =", dp, "| max |θ| =", np.abs(p1).max())
    assert dp <= 1e-5, (d, dp)
    l = losses(d)
    ok = np.isfinite(l1)
    assert np.array_equal(ok, np.isfinite(l)), d
    rel = np.abs(l[ok] - l1[ok]) / np.abs(l1[ok])
    print(d, "max relative loss difference", rel.max())
    assert rel.max() <= 1e-6, (d, rel.max())
    # The validation metrics each trainer rank computes on its block of the sets and sums
    # (Trainer::validate): the same as 1 rank's to float roundings; printed to 6 digits, so
    # |Δ| ≤ 2e-5·|x| + 1e-6 allows the last digit's rounding. A block dropped or counted twice
    # moves a share by ≥ 1/3 of its rows' contribution: far beyond that.
    m1, m = metrics("one"), metrics(d)
    assert np.array_equal(np.isfinite(m1), np.isfinite(m)), d
    ok = np.isfinite(m1)
    dm = np.abs(m[ok] - m1[ok]) - (2e-5 * np.abs(m1[ok]) + 1e-6)
    print(d, "validation metrics: worst margin", dm.max())
    assert dm.max() <= 0, (d, dm.max())
# The pool did move: training with λ_inv > 0 advanced its members.
with h5py.File("base/data/A_train.h5", "r") as f:
    a = f["particles/all/position/value"][:]
assert not np.array_equal(pool1, a[: len(pool1)]), "the pool never changed"
PY

# A failure every trainer meets alike (a diverging learning rate) is reported once, exit 5, no hang.
rm -rf nan && cp -r base nan
sed 's/learning_rate = \[\[0, 1e-3\]\]/learning_rate = [[0, 1e6]]/' in.toml > nan.toml
timeout 120 "$mpiexec" -n 2 "$boltzmap" train nan.toml --no-progress -o nan > nan.log 2>&1; rc=$?
[[ $rc -eq 5 && $(grep -c "error:" nan.log) -eq 1 ]] && ok "a divergence on 2 trainer ranks: exit 5, one message" \
  || bad "divergence on 2 ranks (rc $rc, $(grep -c "error:" nan.log) messages)" nan.log
finish
