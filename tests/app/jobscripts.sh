#!/usr/bin/env bash
# cli_jobscripts: the SLURM scripts of jobscripts/ without SLURM. `bash -n` (and shellcheck when
# installed) on each; the dry run (DRY_RUN=1) of each on the tiny input with the real binary for
# the check: srun gets `-c N` and SRUN_CPUS_PER_TASK = OMP_NUM_THREADS = N = the script's
# --cpus-per-task (Slurm >= 22.05 no longer passes it on), the estimate is `boltzmap check`'s for
# THIS input (its trial-move line, not experiment I's), a bad input fails the job with check's exit
# 3 before any srun, the placeholders and --mem are there; chain.sh prints three sbatch lines
# linked by afterok. Then the requeue path for real, with stand-ins for srun and scontrol on PATH:
# USR1 to the batch shell reaches the step, which exits 0 (or dies of it), and the job requeues
# itself; TERM is passed on without a requeue; a failing step fails the job with its code.
# Usage: jobscripts.sh BOLTZMAP TMPDIR
set -u
boltzmap=$(realpath "$1") tmp=$2
source "$(dirname "$0")/common.sh"
jobs=$(cd "$(dirname "$0")/../../jobscripts" && pwd)
inputs=$(cd "$(dirname "$0")/../../inputs" && pwd)
rm -rf "$tmp" && mkdir -p "$tmp" && cd "$tmp" || exit 1
tiny_input name=js > tiny.toml
sed 's/^cutoff = 2.5/cutoff = 9/' tiny.toml > bad.toml
scripts=(sample train analyze single_node)

for f in "$jobs"/*.slurm "$jobs"/chain.sh "$jobs"/common.sh; do
  bash -n "$f" 2> syntax.log && ok "bash -n $(basename "$f")" || bad "bash -n $(basename "$f")" syntax.log
done
if command -v shellcheck > /dev/null; then
  # SC2119: bm_check is called without arguments on purpose (its arguments are extra check options).
  (cd "$jobs/.." && shellcheck -x -e SC2119 jobscripts/*.slurm jobscripts/chain.sh jobscripts/common.sh) > sc.log 2>&1 \
    && ok "shellcheck" || bad "shellcheck" sc.log
else
  echo "SKIP shellcheck (not installed)"
fi

# The trial-move line check prints for the tiny input, and for experiment I (they must differ).
"$boltzmap" check tiny.toml --no-input > tiny_check.log 2>&1
tiny_moves=$(grep -m1 -o '= [0-9]* trial moves' tiny_check.log)
"$boltzmap" check "$inputs/experiment_I.toml" --no-input > exp1_check.log 2>&1
exp1_moves=$(grep -m1 -o '= [0-9]* trial moves' exp1_check.log)
[[ -n $tiny_moves && -n $exp1_moves && $tiny_moves != "$exp1_moves" ]] \
  && ok "check's trial moves: tiny ($tiny_moves) differs from experiment I ($exp1_moves)" || bad "trial moves" tiny_check.log

dry() { env DRY_RUN=1 INPUT="$1" BOLTZMAP="$boltzmap" OUTPUT="$tmp/out" "${@:3}" bash "$jobs/$2"; }
for s in "${scripts[@]}"; do
  f=$jobs/$s.slurm log=$s.dry.log
  n=$(sed -n 's/^#SBATCH --cpus-per-task=\([0-9]*\).*/\1/p' "$f")
  dry tiny.toml "$s.slurm" > "$log" 2>&1; rc=$?
  [[ $rc -eq 0 ]] && ok "$s: dry run exit 0" || bad "$s: dry run (rc $rc)" "$log"
  grep -q "^+ srun -c $n --cpu-bind=cores .*$boltzmap" "$log" && ok "$s: srun -c $n --cpu-bind=cores" || bad "$s: srun line (-c $n)" "$log"
  grep -q "^+ export OMP_NUM_THREADS=$n SRUN_CPUS_PER_TASK=$n OMP_PROC_BIND=close OMP_PLACES=cores" "$log" \
    && ok "$s: OMP_NUM_THREADS = SRUN_CPUS_PER_TASK = $n" || bad "$s: exports" "$log"
  grep -q "^+ .*$boltzmap check tiny.toml --no-input --ranks [0-9]" "$log" && grep -qF -- "$tiny_moves" "$log" \
    && ! grep -qF -- "$exp1_moves" "$log" && ok "$s: the estimate is check's for this input" || bad "$s: estimate" "$log"
  grep -q "a job of [0-9]* rank(s) × $n thread(s)" "$log" && grep -q "^boltzmap job: memory per node ≈ " "$log" \
    && ok "$s: check plans $n threads per rank; memory per node from it" || bad "$s: check's threads or memory per node" "$log"
  grep -q "^+ .* -o $tmp/out" "$log" && ok "$s: OUTPUT becomes -o" || bad "$s: -o OUTPUT" "$log"
  grep -q '^#SBATCH --partition=CHANGE_ME' "$f" && grep -q '^#SBATCH --account=CHANGE_ME' "$f" && grep -q '^#SBATCH --mem=' "$f" \
    && ok "$s: partition/account placeholders and --mem" || bad "$s: placeholders or --mem"
  if [[ $s != analyze ]]; then
    grep -q '^#SBATCH --requeue' "$f" && grep -q '^#SBATCH --signal=B:USR1@' "$f" && grep -q '^+ scontrol requeue' "$log" \
      && ok "$s: requeues on the time-limit signal" || bad "$s: requeue" "$log"
  fi
  dry bad.toml "$s.slurm" > "$s.bad.log" 2>&1; rc=$?
  [[ $rc -eq 3 ]] && ! grep -q '^+ srun' "$s.bad.log" && ok "$s: a bad input fails the job with check's exit 3, no srun" \
    || bad "$s: bad input (rc $rc)" "$s.bad.log"
done
dry tiny.toml train.slurm THREADS=3 NODES=2 RANKS_PER_NODE=2 > over.log 2>&1
grep -q '^+ srun -c 3 ' over.log && grep -q 'OMP_NUM_THREADS=3 SRUN_CPUS_PER_TASK=3' over.log && grep -q -- '--ranks 4' over.log \
  && ok "dry run: THREADS, NODES, RANKS_PER_NODE override the #SBATCH lines" || bad "overrides" over.log
grep -q '^+ srun -c 16 --cpu-bind=cores .* analyze ' analyze.dry.log \
  && ok "analyze: on every rank, 16 cores each" || bad "analyze step" analyze.dry.log
dry tiny.toml analyze.slurm ANALYZE_ONE_RANK=1 > analyze1.dry.log 2>&1
grep -q '^+ srun --nodes=1 --ntasks=1 -c 64 .* analyze .* --threads 64' analyze1.dry.log \
  && ok "analyze with ANALYZE_ONE_RANK=1: one task with the node's 4 × 16 cores" || bad "analyze one-rank step" analyze1.dry.log
env -u SLURM_JOB_ID INPUT=tiny.toml BOLTZMAP="$boltzmap" bash "$jobs/train.slurm" > nojob.log 2>&1; rc=$?
[[ $rc -eq 2 ]] && grep -q "not inside a SLURM job" nojob.log && ok "outside SLURM without DRY_RUN: exit 2" || bad "outside SLURM (rc $rc)" nojob.log

# chain.sh: three sbatch lines, each after the previous one's id.
DRY_RUN=1 INPUT=tiny.toml BOLTZMAP="$boltzmap" SBATCH_OPTS="-p cpu -A proj" bash "$jobs/chain.sh" > chain.log 2>&1; rc=$?
mapfile -t sb < <(grep '^+ sbatch --parsable' chain.log)
ids=$(sed -n 's/.*: sample \([0-9]*\) → train \([0-9]*\) → analyze \([0-9]*\)$/\1 \2 \3/p' chain.log)
read -r id1 id2 _ <<< "$ids"
[[ $rc -eq 0 && ${#sb[@]} -eq 3 && ${sb[0]} == *"-p cpu -A proj "*sample.slurm && ${sb[0]} != *dependency* \
   && ${sb[1]} == *"--dependency=afterok:$id1 "*train.slurm && ${sb[2]} == *"--dependency=afterok:$id2 "*analyze.slurm ]] \
  && ok "chain.sh: sample → train → analyze linked by afterok ($ids)" || bad "chain.sh (rc $rc)" chain.log
DRY_RUN=1 INPUT=bad.toml BOLTZMAP="$boltzmap" bash "$jobs/chain.sh" > chain_bad.log 2>&1; rc=$?
[[ $rc -eq 3 ]] && ! grep -q '^+ sbatch' chain_bad.log && ok "chain.sh: a bad input submits nothing (exit 3)" || bad "chain bad (rc $rc)" chain_bad.log

# The requeue path for real: stand-ins for srun (records its options, runs until signalled) and
# scontrol (records its arguments) on PATH, SLURM's variables set as in a job.
mkdir -p bin
cat > bin/srun <<'SH'
#!/bin/bash
echo "$@" > srun.args; : > srun.started
[[ -n ${FAKE_NO_CHECKPOINT:-} ]] || trap 'echo USR1 > srun.signal; exit 0' USR1
trap 'echo TERM > srun.signal; exit 0' TERM
[[ -n ${FAKE_EXIT:-} ]] && exit "$FAKE_EXIT"
for ((i = 0; i < 600; i++)); do sleep 0.1; done; exit 9   # never left behind
SH
printf '#!/bin/bash\necho "$@" > scontrol.args\n' > bin/scontrol
chmod +x bin/srun bin/scontrol
job() {  # job SIGNAL [VAR=VALUE...]: train.slurm "in a job", SIGNAL sent to the batch shell once srun runs
  rm -f srun.* scontrol.args
  env PATH="$tmp/bin:$PATH" SLURM_JOB_ID=42 SLURM_NNODES=1 SLURM_NTASKS=2 SLURM_NTASKS_PER_NODE=2 SLURM_CPUS_PER_TASK=2 \
    INPUT=tiny.toml BOLTZMAP="$boltzmap" "${@:2}" bash "$jobs/train.slurm" > job.log 2>&1 &
  local pid=$! i
  if [[ $1 != none ]]; then
    for ((i = 0; i < 300; i++)); do [[ -e srun.started ]] && break; sleep 0.1; done
    kill "-$1" "$pid"
  fi
  wait "$pid"
}
job USR1; rc=$?
[[ $rc -eq 0 && $(cat srun.signal 2>/dev/null) == USR1 && $(cat scontrol.args 2>/dev/null) == "requeue 42" ]] \
  && grep -q -- '^-c 2 --cpu-bind=cores ' srun.args && ok "USR1: forwarded to srun, the job requeues itself (scontrol requeue 42)" \
  || bad "USR1 requeue (rc $rc)" job.log
job USR1 FAKE_NO_CHECKPOINT=1; rc=$?
[[ $rc -eq 0 && $(cat scontrol.args 2>/dev/null) == "requeue 42" ]] \
  && ok "USR1 kills a step without a checkpoint: the job requeues, the rerun starts it over" || bad "USR1, no checkpoint (rc $rc)" job.log
job TERM; rc=$?
[[ $rc -eq 0 && $(cat srun.signal 2>/dev/null) == TERM && ! -e scontrol.args ]] \
  && ok "TERM: forwarded to srun, no requeue of our own" || bad "TERM (rc $rc)" job.log
job none FAKE_EXIT=5; rc=$?
[[ $rc -eq 5 && ! -e scontrol.args ]] && ok "a failing step fails the job with its code (5)" || bad "failing step (rc $rc)" job.log
finish
