#!/usr/bin/env bash
# mpi_signals_np2: `boltzmap train` on 2 ranks, sent SIGUSR1, SIGINT or SIGHUP on ONE rank (the
# non-root one, as a scheduler or a user may do), stops on every rank with a checkpoint and exit 0,
# and the same command resumes to bitwise the uninterrupted flow.h5 of the same rank count (2 trainer ranks: data-parallel); SIGINT stops a 1-rank
# run alike, and `boltzmap run` on 2 ranks stops after its train stage; an unwritable
# model/checkpoints is refused with exit 4 before any epoch. Every MPI command runs under
# `timeout`, so a hang fails instead of blocking. Issue 10, item 10.
set -u
boltzmap=$1 mpiexec=$2 tmp=$3
source "$(dirname "$0")/../app/common.sh"
rm -rf "$tmp" && mkdir -p "$tmp" && cd "$tmp" || exit 1
set -m  # background jobs keep SIGINT (a script's `cmd &` would otherwise start with it ignored)
tiny_input name=sig seed=3 between=300 train=600 validation=100 evaluation=0 blocks=4 'hidden=[32, 32]' batch=50 checkpoint_every=1000 \
  phases="$(tiny_phase 100 1.0 1e-3)" > in.toml
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1} OMP_NUM_THREADS=1
train() {  # train DIR LOG [timeout-wrapped mpiexec -n 2 when NP=2]
  if [[ ${NP:-2} -eq 2 ]]; then
    timeout 120 "$mpiexec" -n 2 "$boltzmap" train "$tmp/in.toml" --no-progress --set output_dir="$tmp/$1" > "$2" 2>&1
  else
    timeout 120 "$boltzmap" train "$tmp/in.toml" --no-progress --set output_dir="$tmp/$1" > "$2" 2>&1
  fi
}
same_flow() {
  "$py" -c "import h5py,numpy as np,sys; a=h5py.File('$1')['flow/parameters'][:]; b=h5py.File('$2')['flow/parameters'][:]; sys.exit(0 if np.array_equal(a,b) else 1)"
}

timeout 120 "$boltzmap" sample in.toml --no-progress --set output_dir=base > sample.log 2>&1 || { bad "sample" sample.log; finish; exit 1; }
# The uninterrupted runs on 2 ranks (data-parallel: 2 trainer ranks) and on 1; a resumed run must
# equal the uninterrupted one of its own rank count bitwise.
cp -r base straight_np2 && cp -r base straight_np1
train straight_np2 straight_np2.log && [[ -s straight_np2/model/flow.h5 ]] && ok "2-rank training completes" || { bad "2-rank training" straight_np2.log; finish; exit 1; }
NP=1 train straight_np1 straight_np1.log && [[ -s straight_np1/model/flow.h5 ]] && ok "1-rank training completes" || { bad "1-rank training" straight_np1.log; finish; exit 1; }

# A signal to one rank: every rank stops at the epoch's end, one checkpoint, exit 0; resume = straight.
stop_one_rank() {  # stop_one_rank SIGNAL RANK NP
  local sig=$1 rank=$2 dir=stop_$1_np$3
  rm -rf $dir && cp -r base $dir
  NP=$3 train $dir $dir.log &
  local job=$! pid
  if [[ $3 -eq 2 ]]; then pid=$(rank_pid $dir $rank); else pid=$(rank_pid $dir ""); fi
  for _ in $(seq 300); do [[ -f $dir/train_log.csv && $(wc -l < $dir/train_log.csv) -ge 4 ]] && break; sleep 0.05; done
  [[ -n $pid ]] && kill -$sig $pid
  wait $job; local rc=$?
  local rows=$(($(wc -l < $dir/train_log.csv) - 1))
  [[ -n $pid && $rc -eq 0 && $rows -lt 100 && -s $dir/model/checkpoints/checkpoint.h5 && ! -e $dir/model/flow.h5 ]] && grep -q "signal .* received" $dir.log \
    && ok "SIG$sig to rank $rank of $3: checkpoint after $rows epochs, exit 0" || bad "SIG$sig to rank $rank of $3 (rc $rc, pid '$pid', $rows epochs)" $dir.log
  "$py" -c "import h5py,sys; h5py.File('$dir/model/checkpoints/checkpoint.h5')['flow/parameters'][:]" 2>/dev/null \
    && ok "SIG$sig: the checkpoint loads" || bad "SIG$sig: the checkpoint loads"
  NP=$3 train $dir $dir.resumed.log && grep -q "resuming from" $dir.resumed.log && same_flow straight_np$3/model/flow.h5 $dir/model/flow.h5 \
    && ok "SIG$sig: the resumed run's flow.h5 equals the uninterrupted one bitwise" || bad "SIG$sig: resume to the same flow" $dir.resumed.log
}
stop_one_rank USR1 1 2
stop_one_rank INT 1 2
stop_one_rank HUP 1 2
stop_one_rank INT 0 1

# `boltzmap run` on 2 ranks: a signal during its training stage stops the run after train, exit 0.
rm -rf piped && cp -r base piped
timeout 120 "$mpiexec" -n 2 "$boltzmap" run "$tmp/in.toml" --no-progress --set output_dir="$tmp/piped" > piped.log 2>&1 &
job=$!
pid=$(rank_pid piped 1)
for _ in $(seq 300); do [[ -f piped/train_log.csv && $(wc -l < piped/train_log.csv) -ge 4 ]] && break; sleep 0.05; done
[[ -n $pid ]] && kill -USR1 $pid
wait $job; rc=$?
[[ $rc -eq 0 ]] && grep -q "training was interrupted" piped.log && [[ -s piped/model/checkpoints/checkpoint.h5 && ! -e piped/mapped ]] \
  && ok "run on 2 ranks, SIGUSR1 to rank 1 in training: stops after train, exit 0" || bad "run on 2 ranks interrupted (rc $rc)" piped.log

# model/checkpoints unwritable (a regular file in its place; chmod would not stop root): exit 4 at once.
rm -rf ro && cp -r base ro && mkdir -p ro/model && : > ro/model/checkpoints
train ro ro.log; rc=$?
[[ $rc -eq 4 ]] && grep -q "ro/model/checkpoints" ro.log && ! grep -q "epoch 1 " ro.log && [[ ! -s ro/train_log.csv ]] \
  && ok "a file in place of model/checkpoints: exit 4 before any epoch" || bad "model/checkpoints a file (rc $rc)" ro.log
# ... and a folder there that cannot be written (a read-only /proc folder behind a symlink).
rm -rf ro2 && cp -r base ro2 && mkdir -p ro2/model && ln -s /proc/self/fdinfo ro2/model/checkpoints
train ro2 ro2.log; rc=$?
[[ $rc -eq 4 ]] && grep -q "ro2/model/checkpoints: cannot write" ro2.log && [[ ! -s ro2/train_log.csv ]] \
  && ok "an unwritable model/checkpoints folder: exit 4 naming it before any epoch" || bad "unwritable model/checkpoints (rc $rc)" ro2.log

finish
