#!/usr/bin/env bash
# mpi_sample_resume_np2: `boltzmap sample` interrupted resumes to the same data sets, bit for bit,
# as an uninterrupted run (issue 11): SIGTERM after ≥ 1 save checkpoints and exits 0 leaving no
# data file, and the rerun resumes; a SIGKILL resumes from the last periodic checkpoint
# (checkpoint_every_saves = 2); with one chunk of moves per save, so that a signal is noticed at
# a save while the next save's moves run (the overlap), SIGTERM checkpoints that save's state and
# the rerun gives the same bits; on 2 ranks SIGUSR1 to rank 1 stops both ranks, and the rerun on 2
# ranks (and one on 1 rank of a 2-rank checkpoint) resumes; summary.json's sample.A keys equal the
# uninterrupted run's (but the timings); a checkpoint of another input is refused with exit 3
# naming the file and the differing line; `boltzmap run` stops after a signal in its sample stage and
# its rerun resumes that stage. Every command runs under `timeout`.
# Usage: sample_resume.sh BOLTZMAP MPIEXEC TMPDIR
set -u
boltzmap=$1 mpiexec=$2 tmp=$3
source "$(dirname "$0")/common.sh"
rm -rf "$tmp" && mkdir -p "$tmp" && cd "$tmp" || exit 1
set -m  # background jobs keep their signals
# 8 saves of 200 walkers, each save 1.2×10⁴ moves per walker: long enough to be stopped part-way.
tiny_input name=sr seed=11 eq=2000 between=12000 train=400 validation=200 evaluation=1000 \
  extra="$(tiny_analysis 10)" > in.toml
sed -i 's/^moves_between_saves = 12000$/moves_between_saves = 12000\ncheckpoint_every_saves = 2/' in.toml
# 26 saves of 200 walkers, 1000 moves (one chunk) apart.
sed 's/^moves_between_saves = 12000$/moves_between_saves = 1000/; s/^train = 400$/train = 4000/' in.toml > in1k.toml
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1} OMP_NUM_THREADS=1
sample() {  # sample DIR LOG NP [more args]
  local dir=$1 log=$2 np=$3
  shift 3
  if [[ $np -eq 2 ]]; then
    timeout 200 "$mpiexec" -n 2 "$boltzmap" sample "$tmp/${input:-in.toml}" --system A --no-progress "$@" --set output_dir="$tmp/$dir" > "$log" 2>&1
  else
    timeout 200 "$boltzmap" sample "$tmp/${input:-in.toml}" --system A --no-progress "$@" --set output_dir="$tmp/$dir" > "$log" 2>&1
  fi
}
wait_for() {  # wait_for FILE: up to 60 s
  for _ in $(seq 3000); do [[ -e $1 ]] && return 0; sleep 0.02; done
  return 1
}
# Every dataset and root attribute of the three data sets of A equal (numpy array_equal; the
# resolved input's output_dir line names each run's own folder); `same_data A B datasets-only`
# leaves the root attributes out.
same_data() {
  "$py" - "$1" "$2" "${3:-}" <<'EOF'
import sys, h5py, numpy as np
for s in ("train", "validation", "evaluation"):
    with h5py.File(f"{sys.argv[1]}/data/A_{s}.h5") as a, h5py.File(f"{sys.argv[2]}/data/A_{s}.h5") as b:
        names = []
        a.visit(lambda n: names.append(n) if isinstance(a[n], h5py.Dataset) else None)
        for n in names:
            if n not in b or not np.array_equal(a[n][()], b[n][()]):
                sys.exit(f"{s}: {n} differs")
        strip = lambda v: b"\n".join(l for l in v.split(b"\n") if not l.startswith(b"output_dir =")) if isinstance(v, bytes) else v
        if sys.argv[3] != "datasets-only" and {k: strip(v) for k, v in a.attrs.items()} != {k: strip(v) for k, v in b.attrs.items()}:
            sys.exit(f"{s}: root attributes differ")
        if len(names) < 7:
            sys.exit(f"{s}: only {len(names)} datasets")
EOF
}
same_summary() {
  "$py" - "$1" "$2" <<'EOF'
import sys, json
a = json.load(open(f"{sys.argv[1]}/summary.json"))["sample"]["A"]
b = json.load(open(f"{sys.argv[2]}/summary.json"))["sample"]["A"]
timing = {"seconds", "trial_moves_per_second"}
diff = [k for k in set(a) | set(b) if k not in timing and a.get(k) != b.get(k)]
sys.exit(f"differ: {diff}" if diff else 0)
EOF
}
no_data() { [[ -z $(ls "$1"/data/A_*.h5${2-*} 2>/dev/null) ]]; }  # no_data DIR [""]: no data file (nor .partial)

sample straight straight.log 1 && [[ -s straight/data/A_evaluation.h5 && ! -e straight/data/checkpoints ]] \
  && ok "uninterrupted sample: data sets written, no checkpoint left" || { bad "uninterrupted sample" straight.log; finish; exit 1; }

# stop DIR SIGNAL NP RANK: start sampling, send SIGNAL to RANK once a saves file exists; sets rc.
stop() {
  rm -rf "$1"
  sample "$1" "$1.log" "$3" &
  local job=$! pid
  if [[ $3 -eq 2 ]]; then pid=$(rank_pid "$1" "$4"); else pid=$(rank_pid "$1" ""); fi
  wait_for "$1/data/checkpoints/A/saves_00000000.h5"
  [[ -n $pid ]] && kill -"$2" "$pid"
  wait $job; rc=$?
}

# SIGTERM after ≥ 1 save: checkpoint, exit 0, no data file; the rerun resumes to the same bits.
stop term TERM 1
[[ $rc -eq 0 && -s term/data/checkpoints/A/checkpoint.h5 ]] && grep -q "run the same command to resume" term.log && no_data term \
  && ok "SIGTERM: checkpoint, exit 0, no data file" || bad "SIGTERM: checkpoint, exit 0 (rc $rc)" term.log
sample term term.resumed.log 1 && grep -q "resuming from .*checkpoint.h5" term.resumed.log \
  && ok "SIGTERM: the rerun resumes" || bad "SIGTERM: the rerun resumes" term.resumed.log
same_data straight term && ok "SIGTERM: resumed data sets equal the uninterrupted ones bitwise" || bad "SIGTERM: same data"
same_summary straight term && ok "SIGTERM: summary sample.A equals the uninterrupted one (but timings)" || bad "SIGTERM: same summary"
[[ ! -e term/data/checkpoints ]] && ok "SIGTERM: the checkpoint is gone once the data sets are in place" || bad "SIGTERM: checkpoint left"

# One chunk per save: SIGTERM is noticed at a save with the next chunk in flight; the checkpoint
# holds that save's state (moves = equilibration + saves done × 1000) and the rerun the same bits.
input=in1k.toml sample straight1k straight1k.log 1 || bad "uninterrupted sample, one chunk per save" straight1k.log
input=in1k.toml stop term1k TERM 1
at=$(grep -o "saved after [0-9]* of 26 saves ([0-9]* trial moves" term1k.log | grep -o "[0-9]*" | sed -n '1p;3p' | tr '\n' ' ')
read -r k m <<< "$at"
[[ $rc -eq 0 && -n ${k:-} && ${m:-0} -eq $((2000 + k * 1000)) ]] && no_data term1k \
  && ok "one chunk per save, SIGTERM: the checkpoint is save $k's state ($m moves), exit 0" || bad "one chunk per save, SIGTERM (rc $rc, '$at')" term1k.log
input=in1k.toml sample term1k term1k.resumed.log 1 && grep -q "resuming from" term1k.resumed.log && same_data straight1k term1k \
  && same_summary straight1k term1k && ok "one chunk per save: resumed to the same data sets and summary" || bad "one chunk per save: resume" term1k.resumed.log

# SIGKILL: the rerun resumes from the last periodic checkpoint.
stop kill KILL 1
[[ $rc -ne 0 && -s kill/data/checkpoints/A/checkpoint.h5 ]] && no_data kill "" && ok "SIGKILL: a checkpoint, no data file" \
  || bad "SIGKILL: a checkpoint, no data file (rc $rc)" kill.log
sample kill kill.resumed.log 1 && grep -q "resuming from .*checkpoint.h5" kill.resumed.log && same_data straight kill \
  && ok "SIGKILL: the rerun resumes to the same data sets" || bad "SIGKILL: resume to the same data" kill.resumed.log

# 2 ranks, SIGUSR1 to rank 1 only (the summary's sums over ranks round differently on 2 ranks:
# it is compared with an uninterrupted 2-rank run's): both stop, exit 0; resumed on 2 ranks, and on 1, the same bits.
sample straight_np2 straight_np2.log 2 || bad "uninterrupted sample on 2 ranks" straight_np2.log
stop usr1 USR1 2 1
cp -r usr1 usr1_np1
[[ $rc -eq 0 && -s usr1/data/checkpoints/A/checkpoint.h5 ]] && grep -q "by one of the ranks" usr1.log && no_data usr1 \
  && ok "2 ranks, SIGUSR1 to rank 1: checkpoint, exit 0" || bad "2 ranks, SIGUSR1 to rank 1 (rc $rc)" usr1.log
sample usr1 usr1.resumed.log 2 && grep -q "resuming from" usr1.resumed.log && same_data straight usr1 && same_summary straight_np2 usr1 \
  && ok "2 ranks: resumed on 2 ranks to the same data sets and summary" || bad "2 ranks: resume" usr1.resumed.log
sample usr1_np1 usr1_np1.resumed.log 1 && grep -q "resuming from" usr1_np1.resumed.log && same_data straight usr1_np1 \
  && ok "a 2-rank checkpoint resumed on 1 rank: the same data sets" || bad "2-rank checkpoint on 1 rank" usr1_np1.resumed.log

# A checkpoint of another input: refused, exit 3, naming the file and the line.
stop other TERM 1
sample other other.log 1 --set systems.A.sampler.moves_between_saves=3000; rc=$?
[[ $rc -eq 3 ]] && grep -q "other/data/checkpoints/A/checkpoint.h5: written for a different input" other.log \
  && grep -q "moves_between_saves = 12000" other.log && ok "a checkpoint of another input: exit 3 naming it and the line" \
  || bad "a checkpoint of another input (rc $rc)" other.log
sample other other2.log 1 --set systems.A.sampler.checkpoint_every_saves=3 && grep -q "resuming from" other2.log && same_data straight other datasets-only \
  && ok "checkpoint_every_saves may change between the parts" || bad "checkpoint_every_saves changed" other2.log

# `boltzmap run` stops after a signal in its sample stage (exit 0) and its rerun resumes that stage.
rm -rf piped
timeout 200 "$boltzmap" run "$tmp/in.toml" --no-progress --set output_dir="$tmp/piped" > piped.log 2>&1 &
job=$!
pid=$(rank_pid piped "")
wait_for piped/data/checkpoints/A/saves_00000000.h5
[[ -n $pid ]] && kill -TERM "$pid"
wait $job; rc=$?
[[ $rc -eq 0 ]] && grep -q "run: sampling A was interrupted" piped.log && [[ -s piped/data/checkpoints/A/checkpoint.h5 && ! -e piped/data/B_train.h5 ]] \
  && ok "run, SIGTERM in sample A: stops there, exit 0" || bad "run interrupted in sample A (rc $rc)" piped.log
timeout 200 "$boltzmap" run "$tmp/in.toml" --no-progress --set output_dir="$tmp/piped" > piped2.log 2>&1 && grep -q "resuming from" piped2.log \
  && same_data straight piped && [[ -s piped/analysis.h5 ]] && ok "run resumes the sample stage to the same data and completes" \
  || bad "run resumes the sample stage" piped2.log

finish
