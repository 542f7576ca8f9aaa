#!/usr/bin/env bash
# cli_large_input: a resolved input over 64 kB (a learning-rate schedule of 5000 steps), too big
# for a compact HDF5 attribute, goes into every file boltzmap writes (dense attribute storage):
# sample and train (to its first checkpoint, then SIGTERM) exit 0, and `boltzmap info --input`
# prints it back byte for byte from the data and checkpoint files.
set -u
boltzmap=$1 tmp=$2
source "$(dirname "$0")/common.sh"
rm -rf "$tmp" && mkdir -p "$tmp" && cd "$tmp" || exit 1
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1}
steps=5000
schedule=$(awk -v n=$steps 'BEGIN { for (i = 0; i < n; ++i) printf "%s[%d, %.9g]", (i ? ", " : ""), i, 1e-3 * (1 - i / (2 * n)) }')
tiny_input name=big seed=11 eq=500 evaluation=0 phases="[[training.phases]]
epochs = $steps
lambda_dir = 1.0
lambda_inv = 1.0
learning_rate = [$schedule]" > in.toml

"$boltzmap" sample in.toml --no-progress --set output_dir=run > sample.log 2>&1; rc=$?
[[ $rc -eq 0 ]] && ok "sample exits 0" || bad "sample (rc $rc)" sample.log
size=$(wc -c < run/input.toml 2>/dev/null || echo 0)
[[ $size -gt 65536 ]] && ok "the resolved input is over 64 kB ($size bytes)" || bad "the resolved input is only $size bytes"
for f in A_train B_validation; do
  "$boltzmap" info --input run/data/$f.h5 > $f.input 2> $f.err && cmp -s $f.input run/input.toml \
    && ok "info --input $f.h5 prints the resolved input back" || bad "info --input $f.h5" $f.err
done

# Train until the first checkpoint is in place, then SIGTERM (checkpoint and exit 0).
"$boltzmap" train in.toml --no-progress --set output_dir=run > train.log 2>&1 &
pid=$!
ckpt=run/model/checkpoints/checkpoint.h5
for _ in $(seq 300); do [[ -f $ckpt ]] && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -TERM "$pid" 2>/dev/null; wait "$pid"; rc=$?
[[ $rc -eq 0 && -f $ckpt ]] && ok "train writes checkpoints and exits 0 on SIGTERM" || bad "train (rc $rc)" train.log
"$boltzmap" info --input $ckpt > ckpt.input 2> ckpt.err && cmp -s ckpt.input run/input.toml \
  && ok "info --input checkpoint.h5 prints the resolved input back" || bad "info --input checkpoint.h5" ckpt.err
"$boltzmap" info $ckpt > ckpt.info 2>&1 && ok "info describes the checkpoint" || bad "info checkpoint.h5" ckpt.info
# A rerun resumes from that checkpoint: the stored input compares equal to the input's.
"$boltzmap" train in.toml --no-progress --set output_dir=run > resume.log 2>&1 &
pid=$!
for _ in $(seq 300); do grep -q "resuming from" resume.log && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -TERM "$pid" 2>/dev/null; wait "$pid"; rc=$?
[[ $rc -eq 0 ]] && grep -q "resuming from" resume.log && ok "the rerun resumes from the checkpoint" || bad "resume (rc $rc)" resume.log

echo "cli_large_input: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
