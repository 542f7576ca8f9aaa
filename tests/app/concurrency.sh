#!/usr/bin/env bash
# cli_concurrency: one writer per run folder. A second `sample` or `train` into a folder that a
# running one holds exits 4 at once naming the holder (pid, host), and the first finishes with its
# own data; a stale lock (a dead pid on this host) is taken over with a warning; a lock from another
# host is refused naming the file to remove; `boltzmap run` (stages that take the lock again in the
# same process) completes. Issue 10, item 2.
set -u
boltzmap=$1 tmp=$2 mpiexec=${3:-}
source "$(dirname "$0")/common.sh"
rm -rf "$tmp" && mkdir -p "$tmp" && cd "$tmp" || exit 1
tiny_input name=lock eq=2000 between=500 train=600 evaluation=200 checkpoint_every=5 \
  phases="$(tiny_phase 20 1.0 1e-3)" extra="$(tiny_analysis 20)" > in.toml
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1} OMP_NUM_THREADS=1
host=$(hostname)
wait_for_lock() {  # wait_for_lock DIR PID: until DIR/.boltzmap.lock names PID (at most 30 s)
  for _ in $(seq 300); do grep -qs "^pid = $2\$" "$1/.boltzmap.lock" && return 0; sleep 0.1; done
  return 1
}
same_file() {  # every dataset of two HDF5 files equal
  "$py" - "$1" "$2" <<'PY'
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1]), h5py.File(sys.argv[2])
names = []
a.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
sys.exit(0 if names and all(n in b and np.array_equal(a[n][()], b[n][()]) for n in names) else 1)
PY
}

"$boltzmap" sample in.toml --no-progress --set output_dir=ref > ref.log 2>&1 || { bad "reference sample" ref.log; finish; exit 1; }

# sample vs sample, different seeds: the second is refused, the first keeps its own data.
"$boltzmap" sample in.toml --no-progress --set output_dir=shared > first.log 2>&1 &
pid=$!
if wait_for_lock shared $pid; then ok "a running sample holds shared/.boltzmap.lock"; else bad "the lock file of a running sample" first.log; fi
# The holder is paused while the others try, so the outcome does not depend on how fast the
# machine is (it holds the lock, and its pid lives, as a slow run would).
kill -STOP $pid
t0=$SECONDS
timeout 60 "$boltzmap" sample in.toml --no-progress --set output_dir=shared --set seed=6 > second.log 2>&1; rc=$?
[[ $rc -eq 4 && $((SECONDS - t0)) -le 5 ]] && grep -q "pid $pid on host $host" second.log && grep -q "boltzmap sample in.toml" second.log \
  && ok "a second sample exits 4 at once naming the holder (pid, host, command line)" || bad "second sample (rc $rc)" second.log
kill -CONT $pid
wait $pid; rc=$?
[[ $rc -eq 0 ]] && ok "the first sample exits 0" || bad "the first sample (rc $rc)" first.log
[[ $("$boltzmap" info --input shared/data/A_train.h5 | grep '^seed') == "seed = 5" ]] && same_file ref/data/A_train.h5 shared/data/A_train.h5 \
  && same_file ref/data/B_evaluation.h5 shared/data/B_evaluation.h5 && ok "its data sets are its own (equal to a clean run)" || bad "the first sample's data"
[[ ! -e shared/.boltzmap.lock ]] && ok "the lock is removed at the end" || bad "the lock is removed at the end"

# train vs train and train vs sample.
cp -r ref tr && rm -f tr/log.txt
"$boltzmap" train in.toml --no-progress --set output_dir=tr > train1.log 2>&1 &
pid=$!
wait_for_lock tr $pid || bad "the lock file of a running train" train1.log
kill -STOP $pid
timeout 60 "$boltzmap" train in.toml --no-progress --set output_dir=tr > train2.log 2>&1; rc=$?
[[ $rc -eq 4 ]] && grep -q "pid $pid on host $host" train2.log && ok "a second train exits 4 naming the holder" || bad "second train (rc $rc)" train2.log
timeout 60 "$boltzmap" sample in.toml --no-progress --set output_dir=tr --set seed=7 > train3.log 2>&1; rc=$?
[[ $rc -eq 4 ]] && grep -q "pid $pid on host $host" train3.log && grep -q "boltzmap train" train3.log \
  && ok "a sample during a train exits 4 naming it" || bad "sample during train (rc $rc)" train3.log
if [[ -n $mpiexec ]]; then  # an MPI job is one writer: rank 0 asks, and every rank fails together (no hang)
  timeout 60 "$mpiexec" -n 2 "$boltzmap" sample in.toml --no-progress --set output_dir=tr > train4.log 2>&1; rc=$?
  [[ $rc -eq 4 ]] && grep -q "pid $pid on host $host" train4.log && ok "a 2-rank sample during a train exits 4 (no hang)" \
    || bad "2-rank sample during train (rc $rc)" train4.log
fi
kill -CONT $pid
wait $pid; rc=$?
[[ $rc -eq 0 ]] && ok "the first train exits 0" || bad "the first train (rc $rc)" train1.log
[[ $(wc -l < tr/train_log.csv) -eq 21 && $(cut -d, -f1 tr/train_log.csv | tail -n +2 | sort -n | uniq | wc -l) -eq 20 ]] \
  && ok "train_log.csv has the rows of one run only" || bad "train_log.csv rows" tr/train_log.csv
[[ $("$boltzmap" info --input tr/data/A_train.h5 | grep '^seed') == "seed = 5" ]] && ok "the data were not resampled" || bad "the data were resampled"

# A stale lock: a pid of this host that no longer exists is taken over, with a warning.
dead=$(bash -c 'echo $$')
mkdir -p stale
printf 'host = %s\npid = %s\nstarted = 2026-01-01T00:00:00Z\ncommand = sample\ncommand_line = boltzmap sample x.toml\n' "$host" "$dead" > stale/.boltzmap.lock
timeout 120 "$boltzmap" sample in.toml --no-progress --system A --set output_dir=stale > stale.log 2>&1; rc=$?
[[ $rc -eq 0 ]] && grep -q "stale lock" stale.log && grep -q "pid $dead" stale.log && [[ -s stale/data/A_train.h5 && ! -e stale/.boltzmap.lock ]] \
  && ok "a stale lock (dead pid on this host) is taken over with a warning" || bad "stale lock (rc $rc)" stale.log

# A lock whose pid now belongs to another live process — here one whose command line even says
# "boltzmap" — that does not hold the file open is stale too (pids are reused).
(exec -a boltzmap-impostor sleep 60) &
impostor=$!
mkdir -p reused
printf 'host = %s\npid = %s\nstarted = 2026-01-01T00:00:00Z\ncommand = sample\ncommand_line = boltzmap sample x.toml\n' "$host" "$impostor" > reused/.boltzmap.lock
timeout 120 "$boltzmap" sample in.toml --no-progress --system A --set output_dir=reused > reused.log 2>&1; rc=$?
kill $impostor 2>/dev/null; wait $impostor 2>/dev/null
[[ $rc -eq 0 ]] && grep -q "stale lock" reused.log && [[ -s reused/data/A_train.h5 ]] \
  && ok "a lock naming a reused pid (a live process that does not hold it) is taken over" || bad "reused pid (rc $rc)" reused.log

# A lock from another host is never taken over: exit 4 naming the file to remove.
mkdir -p other
printf 'host = elsewhere.invalid\npid = 1\nstarted = 2026-01-01T00:00:00Z\ncommand = train\ncommand_line = boltzmap train x.toml\n' > other/.boltzmap.lock
timeout 60 "$boltzmap" sample in.toml --no-progress --set output_dir=other > other.log 2>&1; rc=$?
[[ $rc -eq 4 ]] && grep -q "another host" other.log && grep -q "remove other/.boltzmap.lock" other.log && [[ ! -e other/data && -e other/.boltzmap.lock ]] \
  && ok "a lock of another host: exit 4, names the file to remove, nothing written" || bad "lock of another host (rc $rc)" other.log

# `boltzmap run`: sample, train, map, analyze in one process take the lock again (re-entrant).
tiny_input name=lock eq=2000 between=500 train=600 evaluation=200 checkpoint_every=5 \
  phases="$(tiny_phase 3 1.0 1e-3)" extra="$(tiny_analysis 20)" > run.toml
timeout 240 "$boltzmap" run run.toml --no-progress --set output_dir=pipe > run.log 2>&1; rc=$?
[[ $rc -eq 0 && -s pipe/analysis.h5 && ! -e pipe/.boltzmap.lock ]] && ok "boltzmap run completes (the lock is re-entrant)" || bad "boltzmap run (rc $rc)" run.log

finish
