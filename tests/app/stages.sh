#!/usr/bin/env bash
# cli_stages: what every subcommand resolves and says at start (src/app/stage_start.hpp). The
# backend: backend = "cuda" is refused by every stage but sample with exit 6 naming the stage,
# before it writes anything (only sample has a CUDA implementation in this version), by sample
# likewise where no GPU is usable (saying so), and by `run` before its first stage, naming every
# stage without one; backend = "auto" runs each stage on the CPU and says why. (On a machine with
# a GPU, sample takes it: those two sample cases are then left to tools/gpu-check.) The
# rank table: every stage prints rank → host → role → backend/device, one row per rank (2 ranks).
# The role split ([parallel] sampler_ranks, --sampler-ranks): validated against the rank count at
# the start of train and run (exit 3, naming where k came from), printed, not used yet.
# Usage: stages.sh BOLTZMAP TMPDIR MPIEXEC
set -u
boltzmap=$1 tmp=$2 mpiexec=$3
source "$(dirname "$0")/common.sh"
rm -rf "$tmp" && mkdir -p "$tmp" && cd "$tmp" || exit 1
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1}
tiny_input name=st walkers=40 train=80 validation=40 evaluation=200 batch=40 \
  phases="$(tiny_phase 1 1.0 1e-3)" extra="$(tiny_analysis 4)" > in.toml

gpu_visible() { command -v nvidia-smi > /dev/null && nvidia-smi -L 2> /dev/null | grep -q '^GPU'; }

# ---- backend = "cuda": refused, exit 6, naming the stage, nothing written. The stages with a
# CUDA implementation (core/backend.cpp) refuse it only for want of a GPU; the others always.
cuda_stages=" sample train map analyze "
has_cuda() { [[ $cuda_stages == *" $1 "* ]]; }
for cmd in sample preprocess train map analyze; do
  if has_cuda $cmd; then
    if gpu_visible; then
      ok "$cmd with backend = \"cuda\" on this GPU machine: left to tools/gpu-check"
      continue
    fi
    timeout 60 "$boltzmap" $cmd in.toml --set backend=cuda > cuda_$cmd.log 2>&1; rc=$?
    [[ $rc -eq 6 ]] && grep -qE "in.toml: backend = \"cuda\" for the $cmd stage, but (no CUDA device is visible|this binary was built without CUDA)" cuda_$cmd.log \
      && [[ ! -e out/st ]] && ok "$cmd refuses backend = \"cuda\" without a usable GPU (exit 6, says why, writes nothing)" \
      || bad "$cmd with backend = cuda (rc $rc)" cuda_$cmd.log
    continue
  fi
  timeout 60 "$boltzmap" $cmd in.toml --set backend=cuda > cuda_$cmd.log 2>&1; rc=$?
  [[ $rc -eq 6 ]] && grep -qF "in.toml: backend = \"cuda\", but the $cmd stage has no CUDA implementation in this version" cuda_$cmd.log \
    && [[ ! -e out/st ]] && ok "$cmd refuses backend = \"cuda\" (exit 6, names the stage, writes nothing)" \
    || bad "$cmd with backend = cuda (rc $rc)" cuda_$cmd.log
done
# The equivariant flow has no CUDA training steps: refused by name, or run on the CPU under auto.
timeout 60 "$boltzmap" train in.toml --set backend=cuda --set flow.kind=equivariant > cuda_equivariant.log 2>&1; rc=$?
[[ $rc -eq 6 ]] && grep -qF 'backend = "cuda" for the train stage, but flow.kind = "equivariant" has no CUDA implementation' cuda_equivariant.log \
  && [[ ! -e out/st ]] && ok "train refuses backend = \"cuda\" for the equivariant flow (exit 6, says why)" \
  || bad "train, equivariant flow, backend = cuda (rc $rc)" cuda_equivariant.log
timeout 60 "$boltzmap" map in.toml --set backend=cuda --set flow.kind=equivariant > cuda_equivariant_map.log 2>&1; rc=$?
[[ $rc -eq 6 ]] && grep -qF 'backend = "cuda" for the map stage, but flow.kind = "equivariant" has no CUDA implementation' cuda_equivariant_map.log \
  && [[ ! -e out/st ]] && ok "map refuses backend = \"cuda\" for the equivariant flow (exit 6, says why)" \
  || bad "map, equivariant flow, backend = cuda (rc $rc)" cuda_equivariant_map.log
if ! gpu_visible; then
  # Every stage of run has a CUDA implementation: without a GPU the first one is refused, before it starts.
  timeout 60 "$boltzmap" run in.toml --set backend=cuda > cuda_run.log 2>&1; rc=$?
  [[ $rc -eq 6 ]] && grep -qE "backend = \"cuda\" for the sample stage, but (no CUDA device is visible|this binary was built without CUDA)" cuda_run.log \
    && ! grep -q "run: stage" cuda_run.log && [[ ! -e out/st ]] && ok "run refuses backend = \"cuda\" before its first stage" \
    || bad "run with backend = cuda (rc $rc)" cuda_run.log
fi
if ! gpu_visible; then
  timeout 60 "$mpiexec" -n 2 "$boltzmap" train in.toml --set backend=cuda > cuda_np2.log 2>&1; rc=$?
  [[ $rc -eq 6 ]] && grep -qE "backend = \"cuda\" for the train stage, but (no CUDA device is visible|this binary was built without CUDA)" cuda_np2.log \
    && [[ ! -e out/st ]] && ok "2 ranks: train refuses backend = \"cuda\" without a GPU (exit 6)" || bad "2 ranks, backend = cuda (rc $rc)" cuda_np2.log
fi

# ---- backend = "auto": every stage runs, on the CPU, and says so (2 ranks); each prints the table
# rank → host → role → backend/device, one row per rank, with the role the rank has in that stage
declare -A role0=([sample]=sampler [preprocess]=preprocessor [train]=trainer [map]=mapper [analyze]=analyst)
declare -A role1=([sample]=sampler [preprocess]="idle (waits for rank 0)" [train]=trainer
                  [map]=mapper [analyze]=analyst)
host=$(hostname)
for cmd in sample preprocess train map analyze; do
  timeout 120 "$mpiexec" -n 2 "$boltzmap" $cmd in.toml --set backend=auto > auto_$cmd.log 2>&1; rc=$?
  if has_cuda $cmd; then
    # a stage with a CUDA implementation: on the CPU here because no GPU is usable, and it says that
    why="backend auto: the $cmd stage runs on the CPU \\((CUDA compiled in, no GPU visible|built without CUDA)\\)"
    gpu_visible && why="backend auto: the $cmd stage runs on CUDA \\("
  else
    why="backend auto: the $cmd stage runs on the CPU \(it has no CUDA implementation in this version; "
  fi
  [[ $rc -eq 0 ]] && grep -qE "$why" auto_$cmd.log \
    && ok "$cmd with backend = \"auto\" runs where it says, and says why" || bad "$cmd with backend = auto (rc $rc)" auto_$cmd.log
  has_cuda $cmd && gpu_visible && continue  # the rank table's device column names the GPU there
  rows=$(grep -cE "^.* +[01]  $host +.* cpu \([0-9]+ threads\)$" auto_$cmd.log)
  grep -qE "rank  host +role +backend/device$" auto_$cmd.log && [[ $rows -eq 2 ]] \
    && grep -qE " 0  $host +${role0[$cmd]} +cpu \(" auto_$cmd.log && grep -qF " 1  $host" auto_$cmd.log \
    && grep -E " 1  $host " auto_$cmd.log | grep -qF "${role1[$cmd]}" \
    && grep -qE "rank  host +role +backend/device$" out/st/log.txt \
    && ok "$cmd prints the rank table (header, one row per rank: ${role0[$cmd]}, ${role1[$cmd]})" \
    || bad "$cmd rank table ($rows rows)" auto_$cmd.log
done
# ---- the role split: [parallel] sampler_ranks / --sampler-ranks, checked against the rank count
timeout 120 "$mpiexec" -n 2 "$boltzmap" train in.toml --no-progress --sampler-ranks 1 > split_np2.log 2>&1; rc=$?
[[ $rc -eq 0 ]] && grep -qF "role split (sampler_ranks = 1 of 2 rank(s)): rank 0 trainer, rank 1 sampler;" split_np2.log \
  && grep -qF "the sampler ranks hold the source pool and stream each step's batch to them" split_np2.log \
  && grep -qE " 1  $host +sampler +cpu" split_np2.log \
  && ok "2 ranks, --sampler-ranks 1: rank 0 trains, rank 1 is a sampler rank that serves the pool (said so)" || bad "--sampler-ranks 1 (rc $rc)" split_np2.log
timeout 60 "$boltzmap" train in.toml --no-progress --sampler-ranks 1 > split_np1.log 2>&1; rc=$?
[[ $rc -eq 0 ]] && grep -qF "rank 0 trainer and sampler" split_np1.log && ok "1 rank, --sampler-ranks 1: one process plays both roles" \
  || bad "1 rank, --sampler-ranks 1 (rc $rc)" split_np1.log
timeout 60 "$mpiexec" -n 2 "$boltzmap" train in.toml --no-progress --sampler-ranks 2 > notrainer.log 2>&1; rc=$?
[[ $rc -eq 3 ]] && grep -qF -- "--sampler-ranks = 2: with 2 ranks that leaves no trainer rank; use at most 1" notrainer.log \
  && ! grep -q "rank  host" notrainer.log && ok "2 ranks, --sampler-ranks 2: no trainer is an input error (exit 3) before training" \
  || bad "--sampler-ranks 2 on 2 ranks (rc $rc)" notrainer.log
{ cat in.toml; printf '[parallel]\nsampler_ranks = 3\n'; } > split3.toml
line=$(grep -n '^sampler_ranks = 3$' split3.toml | cut -d: -f1)
timeout 60 "$mpiexec" -n 2 "$boltzmap" run split3.toml --no-progress > toomany.log 2>&1; rc=$?
[[ $rc -eq 3 ]] && grep -qF "split3.toml:$line: parallel.sampler_ranks = 3: more sampler ranks than the job's 2 rank(s)" toomany.log \
  && ! grep -q "run: stage" toomany.log && ok "run: more sampler ranks than ranks is an input error naming file:line, before its first stage" \
  || bad "run with sampler_ranks = 3 on 2 ranks (rc $rc)" toomany.log
timeout 60 "$boltzmap" train in.toml --sampler-ranks -1 > negative.log 2>&1; rc=$?
[[ $rc -eq 2 ]] && grep -q "sampler-ranks" negative.log && ok "--sampler-ranks -1 is a bad command line (exit 2)" || bad "--sampler-ranks -1 (rc $rc)" negative.log
finish
