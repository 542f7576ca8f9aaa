#!/usr/bin/env bash
# cli_check: `boltzmap check FILE` validates the input, prints it resolved, says what each stage
# will do with numbers that follow from the input (the trial moves, the flow's parameter count as
# train then reports it), which stages `run` would run or skip, and writes nothing; it fails with
# the codes the run would give (3 bad input or role split, 6 backend, 4 not enough disk).
# Usage: check.sh BOLTZMAP TMPDIR
set -u
boltzmap=$1 tmp=$2
source "$(dirname "$0")/common.sh"
rm -rf "$tmp" && mkdir -p "$tmp" && cd "$tmp" || exit 1
tiny_input name=ck walkers=100 eq=300 between=50 train=300 validation=100 evaluation=200 \
  phases="$(tiny_phase 2 1.0 1e-3)" extra="$(tiny_analysis 10)" > in.toml

"$boltzmap" check in.toml > check1.log 2>&1; rc=$?
[[ $rc -eq 0 ]] && grep -q "in.toml: valid" check1.log && ok "check of a good input: exit 0, valid" || bad "check (rc $rc)" check1.log
[[ ! -e out/ck ]] && ok "check writes nothing (no run folder, no lock)" || bad "check wrote out/ck"
grep -q '^\[systems.B.sampler\]' check1.log && grep -q "target_acceptance = 0.5" check1.log \
  && ok "check prints the resolved input with its defaults" || bad "resolved input missing" check1.log
missing=""
for st in "sample A" "sample B" train map analyze preprocess; do grep -q "^$st (" check1.log || missing+=" $st"; done
[[ -z $missing ]] && ok "check describes every stage" || bad "check lacks:$missing" check1.log
[[ $(grep -c "(\`run\` runs it)" check1.log) -eq 5 ]] && ok "before any run, every stage of run is to be run" || bad "stages to run" check1.log
# 100 walkers × (300 + ceil(600/100) = 6 saves × 50) = 60000 trial moves per system.
[[ $(grep -c "100 walkers × (300 equilibration + 6 saves × 50 moves) = 60000 trial moves" check1.log) -eq 2 ]] \
  && ok "the trial moves follow from the input" || bad "trial-move count" check1.log
grep -q "time ≈ .*, memory ≈ .* per rank, disk ≈ " check1.log && grep -q "^\`boltzmap run\` from here: time ≈" check1.log \
  && ok "time, memory and disk estimates per stage and in total" || bad "estimates" check1.log
"$boltzmap" check in.toml --no-input > noin.log 2>&1 && ! grep -q "target_acceptance" noin.log \
  && ok "--no-input leaves the input out" || bad "--no-input" noin.log
"$boltzmap" check in.toml --no-input --ranks 8 > r8.log 2>&1 && grep -q "a job of 8 rank(s)" r8.log \
  && grep -q "13 walkers each" r8.log && ok "--ranks 8 plans 8 ranks (13 walkers each)" || bad "--ranks" r8.log

# After a run every stage is up to date; the parameter count is the one train reports.
"$boltzmap" run in.toml --no-progress > run.log 2>&1 || bad "run" run.log
"$boltzmap" check in.toml --no-input > check2.log 2>&1
[[ $(grep -c "up to date: \`run\` skips it" check2.log) -eq 5 ]] && ok "after run, check says every stage is up to date" \
  || bad "up to date after run" check2.log
params=$($py -c "import json; print(json.load(open('out/ck/summary.json'))['train']['parameters'])")
grep -q "real-NVP of $params parameters" check2.log && ok "check's parameter count is train's ($params)" || bad "parameters ($params)" check2.log
"$boltzmap" check in.toml --no-input --set analysis.bootstrap_replicates=20 > check3.log 2>&1
grep -q "^analyze (\`run\` runs it)" check3.log && grep -q "^map (up to date" check3.log \
  && ok "a changed [analysis] key: check says only analyze runs again" || bad "changed analysis" check3.log

# Failures with the run's exit codes.
"$boltzmap" check in.toml --set systems.A.cutoff=9 > bad.log 2>&1; rc=$?
[[ $rc -eq 3 ]] && grep -q "systems.A.cutoff" bad.log && ok "bad key: exit 3 naming it" || bad "bad key (rc $rc)" bad.log
"$boltzmap" check in.toml --set backend=cuda > cuda.log 2>&1; rc=$?
if ! { command -v nvidia-smi > /dev/null && nvidia-smi -L 2> /dev/null | grep -q '^GPU'; }; then
  [[ $rc -eq 6 ]] && grep -qE "backend = \"cuda\" for the sample stage, but (no CUDA device is visible|this binary was built without CUDA)" cuda.log \
    && ok "backend = cuda without a GPU: exit 6 saying why" || bad "backend cuda (rc $rc)" cuda.log
fi
"$boltzmap" check in.toml --sampler-ranks 2 > split.log 2>&1; rc=$?
[[ $rc -eq 3 ]] && grep -q -- "--sampler-ranks" split.log && ok "impossible role split: exit 3" || bad "role split (rc $rc)" split.log
"$boltzmap" check in.toml --no-input --set systems.A.sampler.walkers=1000000 --set systems.A.datasets.evaluation=1000000000000 > disk.log 2>&1; rc=$?
[[ $rc -eq 4 ]] && grep -q "of disk, but the file system of" disk.log && ok "an output larger than the free disk: exit 4" \
  || bad "disk (rc $rc)" disk.log
finish
