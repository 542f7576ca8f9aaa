#!/usr/bin/env bash
# cli_full_disk: a write that fails (full disk, unwritable log) is exit 4 naming the file and the
# system's reason, never a committed corrupt file or a crash. Each stage (sample, preprocess, train,
# map, analyze) runs with its run folder on a small tmpfs filled to within a few kB (the earlier
# stages ran on the normal disk and were copied in); sample also under 2 MPI ranks (collective
# writer: no hang). The tmpfs parts need root (mount); without it they are skipped with a message.
# Usage: full_disk.sh BOLTZMAP TMPDIR MPIEXEC
set -u
boltzmap=$1 tmp=$2 mpiexec=${3:-}
source "$(dirname "$0")/common.sh"
rm -rf "$tmp" && mkdir -p "$tmp" && cd "$tmp" || exit 1
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1}
tiny_input name=fd seed=7 \
  phases="$(tiny_phase 2 1.0 1e-3)" extra="$(tiny_analysis 10)" > in.toml

# ---- without root: an unopenable log.txt (a folder of that name) is exit 4 naming it.
mkdir -p logdir/log.txt
"$boltzmap" sample in.toml --no-progress --set output_dir=logdir > logdir.log 2>&1; rc=$?
[[ $rc -eq 4 ]] && grep -q "logdir/log.txt" logdir.log && ! grep -q "acceptance" logdir.log \
  && ok "unopenable log.txt: exit 4 naming it, before sampling" || bad "unopenable log.txt (rc $rc)" logdir.log

# ---- the stages on the normal disk, a copy of the run folder after each.
"$boltzmap" sample in.toml --no-progress --set output_dir=run > sample.log 2>&1 || { bad "sample" sample.log; finish; exit; }
cp -r run after_sample
"$boltzmap" preprocess in.toml --set output_dir=run > preprocess.log 2>&1 || { bad "preprocess" preprocess.log; finish; exit; }
"$boltzmap" train in.toml --no-progress --set output_dir=run > train.log 2>&1 || { bad "train" train.log; finish; exit; }
cp -r run after_train
"$boltzmap" map in.toml --no-progress --set output_dir=run > map.log 2>&1 || { bad "map" map.log; finish; exit; }
cp -r run after_map
"$boltzmap" analyze in.toml --set output_dir=run > analyze.log 2>&1 || { bad "analyze" analyze.log; finish; exit; }

mnt=$tmp/mnt
mkdir -p "$mnt"
if [[ $(id -u) -ne 0 ]] || ! mount -t tmpfs -o size=4m tmpfs "$mnt" 2>/dev/null; then
  echo "SKIP: needs root to mount a tmpfs (the full-disk cases)"
  finish
  exit
fi
trap 'umount "$mnt" 2>/dev/null' EXIT

# stage FROM FREE_KB: the tmpfs holds a copy of FROM (or nothing) and FREE_KB kB more.
stage() {
  rm -rf "${mnt:?}"/*
  [[ -n $1 ]] && cp -r "$1" "$mnt/run"
  local avail
  avail=$(df -k --output=avail "$mnt" | tail -1)
  dd if=/dev/zero of="$mnt/fill" bs=1k count=$((avail - $2)) status=none 2>/dev/null
}
# Every .h5 in place under the run folder opens (boltzmap info), none of the names in $@ is in place.
committed_ok() {
  local f
  for f in $(find "$mnt/run" -name '*.h5'); do "$boltzmap" info "$f" > /dev/null 2>&1 || { echo "unreadable: $f"; return 1; }; done
  for f in "$@"; do [[ ! -e $mnt/run/$f ]] || { echo "in place: $f"; return 1; }; done
  [[ ! -f $mnt/run/summary.json ]] || "$py" -c "import json,sys; json.load(open(sys.argv[1]))" "$mnt/run/summary.json" || { echo "summary.json unreadable"; return 1; }
}
# check NAME RC LOG OUTPUTS...: exit 4, "FILE: write failed: No space left on device", outputs not in place.
check() {
  local name=$1 rc=$2 log=$3
  : > committed.log
  shift 3
  if [[ $rc -eq 4 ]] && grep -Eq "[^ ]+\.(h5|json|csv|toml)(\.partial)?: write failed: No space left on device" "$log" \
    && committed_ok "$@" > committed.log 2>&1; then
    ok "$name: exit 4 naming the file and ENOSPC, nothing corrupt in place"
  else
    cat committed.log >> "$log"
    bad "$name (rc $rc)" "$log"
  fi
}

stage "" 8
"$boltzmap" sample in.toml --no-progress --set output_dir="$mnt/run" > fd_sample0.log 2>&1; rc=$?
check "sample, nearly full from the start" $rc fd_sample0.log data/A_train.h5
stage "" 300
"$boltzmap" sample in.toml --no-progress --set output_dir="$mnt/run" > fd_sample.log 2>&1; rc=$?
check "sample, full part-way through A's files" $rc fd_sample.log data/A_validation.h5 data/A_evaluation.h5 data/B_train.h5

stage after_sample 8
"$boltzmap" preprocess in.toml --set output_dir="$mnt/run" > fd_preprocess.log 2>&1; rc=$?
check "preprocess" $rc fd_preprocess.log model/preprocess.h5 preprocessed/A_train.h5

stage after_sample 8
"$boltzmap" train in.toml --no-progress --set output_dir="$mnt/run" > fd_train0.log 2>&1; rc=$?
check "train, nearly full from the start" $rc fd_train0.log model/flow.h5 model/checkpoints/checkpoint.h5
stage after_sample 40
"$boltzmap" train in.toml --no-progress --set output_dir="$mnt/run" > fd_train.log 2>&1; rc=$?
check "train, full at a checkpoint" $rc fd_train.log model/flow.h5

stage after_train 8
"$boltzmap" map in.toml --no-progress --set output_dir="$mnt/run" > fd_map.log 2>&1; rc=$?
check "map" $rc fd_map.log mapped/A_to_B.h5 mapped/B_to_A.h5

stage after_map 8
"$boltzmap" analyze in.toml --set output_dir="$mnt/run" > fd_analyze.log 2>&1; rc=$?
check "analyze" $rc fd_analyze.log analysis.h5

# Two ranks, collective writer: a failure, no hang, nothing corrupt committed.
if [[ -n $mpiexec ]]; then
  stage "" 300
  : > committed.log
  timeout 120 "$mpiexec" -n 2 "$boltzmap" sample in.toml --no-progress --set output_dir="$mnt/run" > fd_mpi.log 2>&1; rc=$?
  [[ $rc -eq 4 ]] && grep -Eq "\.h5\.partial: write failed: No space left on device" fd_mpi.log && committed_ok data/B_train.h5 > committed.log 2>&1 \
    && ok "sample on 2 ranks: exit 4 naming the file and ENOSPC, no hang, nothing corrupt in place" || { cat committed.log >> fd_mpi.log; bad "sample on 2 ranks (rc $rc)" fd_mpi.log; }
fi

# A read-only run folder is found before any walker moves.
umount "$mnt" && mount -t tmpfs -o size=1m,ro tmpfs "$mnt"
"$boltzmap" sample in.toml --no-progress --set output_dir="$mnt" > ro.log 2>&1; rc=$?
[[ $rc -eq 4 ]] && grep -q "Read-only file system\|not writable" ro.log && ! grep -q "acceptance" ro.log \
  && ok "read-only run folder: exit 4 before sampling" || bad "read-only run folder (rc $rc)" ro.log

echo "cli_full_disk: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
