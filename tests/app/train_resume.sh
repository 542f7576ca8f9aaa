#!/usr/bin/env bash
# cli_train_resume: `boltzmap train` stopped by SIGTERM resumes to bitwise the same flow as an
# uninterrupted run; a SIGKILL at any moment leaves a checkpoint that loads (atomic writes); the
# run writes flow.h5, train_log.csv (one row per epoch) and summary.json's train.* keys.
set -u
boltzmap=$1 tmp=$2
source "$(dirname "$0")/common.sh"
rm -rf "$tmp" && mkdir -p "$tmp" && cd "$tmp" || exit 1
tiny_input name=tr seed=3 eq=2000 between=500 train=600 evaluation=0 blocks=4 'hidden=[32, 32]' pool_steps=50 checkpoint_every=2 \
  phases="$(tiny_phase 6 0.0 2e-3)
$(tiny_phase 80 1.0 5e-4)" > in.toml
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1}
"$boltzmap" sample in.toml --no-progress --set output_dir=straight > sample.log 2>&1 || { bad "sample" sample.log; exit 1; }
cp -r straight stopped && cp -r straight killed
if "$boltzmap" train in.toml --no-progress --set output_dir=straight > straight.log 2>&1; then ok "train exits 0"; else bad "train exits 0" straight.log; fi
[[ -s straight/model/flow.h5 ]] && ok "flow.h5 written" || bad "flow.h5 written"
[[ $(wc -l < straight/train_log.csv) -eq 87 ]] && ok "train_log.csv has a header and 86 epochs" || bad "train_log.csv rows" straight/train_log.csv
"$py" -c "import json,sys; t=json.load(open('straight/summary.json'))['train']; sys.exit(0 if t['parameters']>0 and t['epochs']==86 and t['fraction_in_range']>t['fraction_in_range_identity'] else 1)" \
  && ok "summary train.* (fraction in range above the identity's)" || bad "summary train.*" straight/summary.json

# SIGTERM once a few epochs are logged: checkpoint, exit 0, resume to the same bits.
"$boltzmap" train in.toml --no-progress --set output_dir=stopped > stopped.log 2>&1 &
pid=$!
for _ in $(seq 200); do [[ -f stopped/train_log.csv && $(wc -l < stopped/train_log.csv) -ge 5 ]] && break; sleep 0.1; done
kill -TERM "$pid"; wait "$pid"; code=$?
[[ $code -eq 0 ]] && grep -q "checkpoint saved" stopped.log && ok "SIGTERM: checkpoint and exit 0" || bad "SIGTERM: checkpoint and exit 0 (exit $code)" stopped.log
"$boltzmap" train in.toml --no-progress --set output_dir=stopped > resumed.log 2>&1 && grep -q "resuming from" resumed.log \
  && ok "rerun resumes from the checkpoint" || bad "rerun resumes from the checkpoint" resumed.log
same_flow() {
  "$py" -c "import h5py,numpy as np,sys; a=h5py.File('$1')['flow/parameters'][:]; b=h5py.File('$2')['flow/parameters'][:]; sys.exit(0 if np.array_equal(a,b) else 1)"
}
same_flow straight/model/flow.h5 stopped/model/flow.h5 && ok "resumed flow equals the uninterrupted one bitwise" || bad "resumed flow equals the uninterrupted one"
cmp -s <(cut -d, -f1-9,11- straight/train_log.csv) <(cut -d, -f1-9,11- stopped/train_log.csv) && ok "resumed log equals the uninterrupted one (but timings)" \
  || bad "resumed log equals the uninterrupted one" stopped/train_log.csv
"$py" -c "import json,sys; a=json.load(open('straight/summary.json'))['train']; b=json.load(open('stopped/summary.json'))['train']; k=['fraction_in_range_identity','loss_dir_identity','ress_validation_identity']; sys.exit(0 if all(a[x]==b[x] for x in k) and b['ress_train']==a['ress_train'] else 1)" \
  && ok "the resumed run keeps the identity map's metrics; training-set metrics equal" || bad "identity metrics across resume" stopped/summary.json

# SIGKILL at an arbitrary moment: whatever checkpoint exists loads, and the run completes.
"$boltzmap" train in.toml --no-progress --set output_dir=killed > killed.log 2>&1 &
pid=$!
for _ in $(seq 200); do [[ -f killed/train_log.csv && $(wc -l < killed/train_log.csv) -ge 8 ]] && break; sleep 0.1; done
kill -KILL "$pid"; wait "$pid" 2>/dev/null
"$boltzmap" train in.toml --no-progress --set output_dir=killed > killed2.log 2>&1 && ok "after SIGKILL the run resumes and completes" \
  || bad "after SIGKILL the run resumes and completes" killed2.log
same_flow straight/model/flow.h5 killed/model/flow.h5 && ok "after SIGKILL the flow equals the uninterrupted one" || bad "after SIGKILL the flow equals the uninterrupted one"

# A finished run rerun: nothing to train, the summary keeps its numbers.
cp straight/summary.json summary_before.json
"$boltzmap" train in.toml --no-progress --set output_dir=straight > again.log 2>&1 && grep -q "already complete" again.log \
  && ok "rerunning a finished training says so and exits 0" || bad "rerunning a finished training" again.log
"$py" -c "import json,sys; a=json.load(open('summary_before.json'))['train']; b=json.load(open('straight/summary.json'))['train']; sys.exit(0 if a['fraction_in_range']==b['fraction_in_range'] and a['final_loss_dir']==b['final_loss_dir'] else 1)" \
  && ok "the rerun keeps train.* (no zeros)" || bad "the rerun keeps train.*" straight/summary.json
# A checkpoint is not resumed with a different input.
"$boltzmap" train in.toml --no-progress --set output_dir=straight --set training.batch_size=50 > changed.log 2>&1
code=$?
[[ $code -eq 3 ]] && grep -q "written for a different input" changed.log && grep -q "batch_size = 100" changed.log \
  && ok "a changed input is refused (exit 3, names the differing line)" || bad "a changed input is refused (exit $code)" changed.log

echo "cli_train_resume: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
