#!/usr/bin/env bash
# validation_train_experiment_I: experiment I (LJ ε = 1 → ½, N = 32, 2D, the paper's state point
# and step sizes) at reduced size — 2000 walkers, 4000 training and 1000 validation configurations
# per system, the demo's smaller network, 15 + 15 epochs — must show that training works:
#   * phase 1 (L_dir only) lowers the validation L_dir below the identity map's by more than
#     0.3 k_BT. Both are means over the same 1000 validation configurations, so their difference is
#     far less noisy than either mean (whose standard error is 0.21 here, from the spread of βU_A);
#     the paired standard error is measured in tests/flow/test_trainer.cpp on a tiny system, not
#     here;
#   * after phase 2 the fraction of A→B-mapped validation configurations inside B's 1st–99th
#     percentile energy range exceeds the identity map's by more than 0.05 (standard error of a
#     fraction over 1000 configurations ≤ 0.016: > 3σ).
set -u
boltzmap=$1 tmp=$2 src=$3
py=/usr/bin/python3; [[ -x $py ]] || py=python3
rm -rf "$tmp" && mkdir -p "$tmp" || exit 1
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1}
sets=(--set output_dir="$tmp/run" --set systems.A.sampler.walkers=2000 --set systems.B.sampler.walkers=2000
      --set systems.A.datasets.train=4000 --set systems.A.datasets.validation=1000 --set systems.A.datasets.evaluation=0
      --set systems.B.datasets.train=4000 --set systems.B.datasets.validation=1000 --set systems.B.datasets.evaluation=0
      --set systems.A.sampler.moves_between_saves=5000 --set systems.B.sampler.moves_between_saves=5000)
train=(--set flow.hidden=[64,64] --set training.batch_size=512 --set training.pool_mc_steps=500
       --set 'training.phases=[{epochs=15, lambda_dir=1.0, lambda_inv=0.0, learning_rate=[[0, 3e-4]]}, {epochs=15, lambda_dir=1.0, lambda_inv=1.0, learning_rate=[[0, 1e-4]]}]')
"$boltzmap" sample "$src/inputs/experiment_I.toml" --no-progress "${sets[@]}" > "$tmp/sample.log" 2>&1 || { tail "$tmp/sample.log"; echo "FAIL sample"; exit 1; }
"$boltzmap" train "$src/inputs/experiment_I.toml" --no-progress "${sets[@]}" "${train[@]}" > "$tmp/train.log" 2>&1 || { tail "$tmp/train.log"; echo "FAIL train"; exit 1; }
"$py" - "$tmp/run" <<'PY'
import csv, json, sys
run = sys.argv[1]
t = json.load(open(f"{run}/summary.json"))["train"]
rows = list(csv.DictReader(open(f"{run}/train_log.csv")))
end1 = next(r for r in rows if int(r["epoch"]) == 15)  # the last epoch of phase 1 (epochs counted from 1)
passed = failed = 0
def check(ok, text):
    global passed, failed
    print(("PASS " if ok else "FAIL ") + text)
    passed += ok; failed += not ok
d = t["loss_dir_identity"] - float(end1["loss_dir_validation"])
check(d > 0.3, f"phase 1 lowers validation L_dir: {t['loss_dir_identity']:.3f} (identity) -> {float(end1['loss_dir_validation']):.3f} (end of phase 1)")
f = t["fraction_in_range"] - t["fraction_in_range_identity"]
check(f > 0.05, f"phase 2 raises the fraction in B's energy range: {t['fraction_in_range_identity']:.3f} (identity) -> {t['fraction_in_range']:.3f}")
print(f"  (RESS A->B on validation: identity {t['ress_validation_identity']:.4f}, trained {t['ress_validation']:.4f}; L_inv {t['loss_inv_identity']:.3f} -> {t['final_loss_inv']:.3f})")
print(f"train_experiment_I: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
