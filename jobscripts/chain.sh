#!/bin/bash
# Submit an experiment as a chain of three jobs from the login node: sample → train → analyze
# (map + analyze), each starting only when the previous one ended with exit 0
# (`--dependency=afterok:<id>`, and `--kill-on-invalid-dep=yes` so that a failed job cancels the
# rest instead of leaving them pending). A job that requeues itself (time limit, pre-emption) keeps
# its id, so the chain waits for its rerun. It first runs `boltzmap check` here, so a bad input
# fails before anything is queued (CHAIN_CHECK=0 skips it), then prints the three job ids.
#   INPUT=inputs/experiment_II.toml jobscripts/chain.sh
#   SBATCH_OPTS="-p cpu -A proj123" TRAIN_OPTS="--time=08:00:00" jobscripts/chain.sh
#   DRY_RUN=1 jobscripts/chain.sh          # print the sbatch commands, submit nothing
# The jobs see INPUT, BOLTZMAP, OUTPUT and BOLTZMAP_JOBSCRIPTS (exported, sbatch --export=ALL)
# and run in the folder chain.sh was started from. Shared code: common.sh.

INPUT=${INPUT:-inputs/experiment_I.toml}
BOLTZMAP=${BOLTZMAP:-$(command -v boltzmap || echo build/src/boltzmap)}   # default: the one on PATH
OUTPUT=${OUTPUT:-}                     # run folder; empty: the input's (out/<name>/)
SBATCH_OPTS=${SBATCH_OPTS:-}           # for every job, e.g. "-p cpu -A proj123" (replaces CHANGE_ME)
SAMPLE_OPTS=${SAMPLE_OPTS:-}           # per job, e.g. "-N 8 --time=02:00:00"; empty: the script's #SBATCH lines
TRAIN_OPTS=${TRAIN_OPTS:-}
ANALYZE_OPTS=${ANALYZE_OPTS:-}
CHAIN_CHECK=${CHAIN_CHECK:-1}          # 0: no check here (a binary built for the compute nodes may not run on the login node)

set -uo pipefail
BOLTZMAP_JOBSCRIPTS=${BOLTZMAP_JOBSCRIPTS:-$(cd "$(dirname "$0")" && pwd)}
# shellcheck source=jobscripts/common.sh
source "$BOLTZMAP_JOBSCRIPTS/common.sh" || exit 1
export INPUT BOLTZMAP OUTPUT BOLTZMAP_JOBSCRIPTS

# submit NAME OPTS DEPENDENCY: sbatch --parsable ...; sets JOB_ID (a made-up one in a dry run).
JOB_ID=100000
submit() {
  local opts=() cmd out
  read -r -a opts <<< "$SBATCH_OPTS $2"
  cmd=(sbatch --parsable --export=ALL "${opts[@]}")   # ALL: the jobs need INPUT, BOLTZMAP, OUTPUT
  [[ -z $3 ]] || cmd+=(--dependency="afterok:$3" --kill-on-invalid-dep=yes)
  cmd+=("$BOLTZMAP_JOBSCRIPTS/$1.slurm")
  bm_show "${cmd[@]}"
  if bm_dry; then JOB_ID=$((JOB_ID + 1)); return 0; fi
  out=$("${cmd[@]}") || bm_die "$?" "sbatch of $1.slurm failed${out:+: $out}"
  JOB_ID=${out%%;*}                    # --parsable prints "id" or "id;cluster"
}

bm_show export INPUT="$INPUT" BOLTZMAP="$BOLTZMAP" OUTPUT="$OUTPUT" BOLTZMAP_JOBSCRIPTS="$BOLTZMAP_JOBSCRIPTS"
out_args=()
[[ -z $OUTPUT ]] || out_args=(-o "$OUTPUT")
if [[ $CHAIN_CHECK != 0 ]]; then   # 1 rank × 1 thread here; each job checks its own shape again
  bm_show "$BOLTZMAP" check "$INPUT" --no-input "${out_args[@]}"
  "$BOLTZMAP" check "$INPUT" --no-input "${out_args[@]}" || bm_die "$?" "boltzmap check failed: nothing submitted"
fi

submit sample "$SAMPLE_OPTS" ""; sample=$JOB_ID
submit train "$TRAIN_OPTS" "$sample"; train=$JOB_ID
submit analyze "$ANALYZE_OPTS" "$train"; analyze=$JOB_ID
echo "boltzmap chain$(bm_dry && echo ' (dry run, made-up ids)'): sample $sample → train $train → analyze $analyze"
