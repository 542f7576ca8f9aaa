# jobscripts/common.sh: what every boltzmap job script shares; sourced, never run or submitted.
# It sets up the job's shape (nodes, ranks, threads per rank) from SLURM's variables, exports the
# OpenMP and srun settings, runs `boltzmap check` for the resource estimate, and runs each step
# through bm_run / bm_requeueable, which print the command first. With DRY_RUN=1 (outside SLURM)
# the SLURM_* variables default to the calling script's own #SBATCH lines (NODES, RANKS_PER_NODE,
# THREADS override them) and srun, sbatch and scontrol are printed instead of run; the check runs
# for real either way (it writes nothing), so a bad input fails the dry run with its exit code.
#
# Finding this file: sbatch copies the script into a spool folder, so the scripts look for it in
# $BOLTZMAP_JOBSCRIPTS, then next to themselves, then in $SLURM_SUBMIT_DIR/jobscripts: submit from
# the repository root, or export BOLTZMAP_JOBSCRIPTS=/path/to/boltzmap/jobscripts (chain.sh does).
# Covered by tests/app/jobscripts.sh (bash -n, shellcheck, the dry run of every script, and the
# requeue path with stand-ins for srun and scontrol).
# shellcheck shell=bash

DRY_RUN=${DRY_RUN:-0}

# bm_show CMD...: print CMD as a shell line ("+ srun -c 16 ..."), quoted so it can be pasted.
bm_show() { printf '+'; printf ' %q' "$@"; printf '\n'; }
bm_dry() { [[ $DRY_RUN == 1 ]]; }
bm_die() { local code=$1; shift; echo "boltzmap job: $*" >&2; exit "$code"; }

# bm_run CMD...: print CMD, then run it (not in a dry run); a failure ends the job with its code,
# so a failing step fails the job and an afterok chain stops there.
bm_run() {
  bm_show "$@"
  bm_dry && return 0
  "$@" || { local code=$?; bm_die "$code" "step failed with exit code $code: $*"; }
}

# bm_sbatch_option SCRIPT NAME: the value of the last `#SBATCH --NAME=VALUE` line of SCRIPT.
bm_sbatch_option() { sed -n "s/^#SBATCH --$2=\([^ ]*\).*/\1/p" "$1" | tail -n 1; }

# bm_mem: the memory per node asked for, for the log ("32G" in a dry run, SLURM's MB in a job).
bm_mem() {
  case ${SLURM_MEM_PER_NODE:-} in
    "") echo "not set (--mem-per-cpu or the partition's default)" ;;
    *[0-9]) echo "$SLURM_MEM_PER_NODE MB" ;;
    *) echo "$SLURM_MEM_PER_NODE" ;;
  esac
}

# bm_setup: the job's shape and environment. Sets NODES, RANKS, RANKS_PER_NODE, THREADS and the
# output options OUT_ARGS (-o OUTPUT when OUTPUT is set); exports OMP_* and SRUN_CPUS_PER_TASK.
bm_setup() {
  local script=$0
  : "${INPUT:?set INPUT to the input TOML file}" "${BOLTZMAP:?set BOLTZMAP to the boltzmap binary}"
  if [[ -z ${SLURM_JOB_ID:-} ]]; then
    bm_dry || bm_die 2 "not inside a SLURM job: submit with \`sbatch $script\`, or see its commands with \`DRY_RUN=1 bash $script\`"
    local n t c
    n=$(bm_sbatch_option "$script" nodes) t=$(bm_sbatch_option "$script" ntasks-per-node)
    c=$(bm_sbatch_option "$script" cpus-per-task)
    SLURM_JOB_ID=DRYRUN
    SLURM_NNODES=${NODES:-${SLURM_NNODES:-${n:-1}}}
    SLURM_NTASKS_PER_NODE=${RANKS_PER_NODE:-${SLURM_NTASKS_PER_NODE:-${t:-1}}}
    SLURM_CPUS_PER_TASK=${THREADS:-${SLURM_CPUS_PER_TASK:-${c:-1}}}
    SLURM_NTASKS=$(( SLURM_NNODES * SLURM_NTASKS_PER_NODE ))
    SLURM_MEM_PER_NODE=${SLURM_MEM_PER_NODE:-$(bm_sbatch_option "$script" mem)}
    echo "boltzmap job: DRY RUN of $script (SLURM_* from its #SBATCH lines; srun, sbatch and scontrol are printed, not run)"
  else
    # Inside a job the allocation decides; NODES/RANKS_PER_NODE/THREADS only shape a dry run.
    local pair name slurm
    for pair in NODES:SLURM_NNODES RANKS_PER_NODE:SLURM_NTASKS_PER_NODE THREADS:SLURM_CPUS_PER_TASK; do
      name=${pair%%:*} slurm=${pair#*:}
      [[ -z ${!name:-} || ${!name} == "${!slurm:-}" ]] ||
        echo "boltzmap job: warning: $name=${!name} is ignored inside a job ($slurm=${!slurm:-unset}); pass it to sbatch (-N, --ntasks-per-node, -c)" >&2
    done
  fi
  NODES=${SLURM_NNODES:-1}
  THREADS=${SLURM_CPUS_PER_TASK:-1}       # unset when sbatch had no -c: one core per rank
  RANKS=${SLURM_NTASKS:-$NODES}
  RANKS_PER_NODE=${SLURM_NTASKS_PER_NODE:-$(( (RANKS + NODES - 1) / NODES ))}
  RANKS_PER_NODE=${RANKS_PER_NODE%%(*}    # SLURM writes "4(x2)" for uneven layouts
  OUT_ARGS=()
  [[ -z ${OUTPUT:-} ]] || OUT_ARGS=(-o "$OUTPUT")
  # Slurm >= 22.05: srun no longer inherits --cpus-per-task from sbatch; without this (or srun -c)
  # every rank is bound to one core and its THREADS OpenMP threads share it.
  export OMP_NUM_THREADS=$THREADS SRUN_CPUS_PER_TASK=$THREADS
  export OMP_PROC_BIND=${OMP_PROC_BIND:-close} OMP_PLACES=${OMP_PLACES:-cores}
  bm_show export OMP_NUM_THREADS="$OMP_NUM_THREADS" SRUN_CPUS_PER_TASK="$SRUN_CPUS_PER_TASK" \
    OMP_PROC_BIND="$OMP_PROC_BIND" OMP_PLACES="$OMP_PLACES"
  echo "boltzmap job ${SLURM_JOB_ID}${SLURM_RESTART_COUNT:+ (requeued $SLURM_RESTART_COUNT time(s))}: $INPUT," \
    "$NODES node(s) × $RANKS_PER_NODE rank(s) × $THREADS thread(s) = $RANKS rank(s), memory per node $(bm_mem)"
  if grep -q '^#SBATCH --\(partition\|account\)=CHANGE_ME' "$script" && bm_dry; then
    echo "boltzmap job: note: $script still has --partition/--account=CHANGE_ME: edit them, or submit with -p/-A (or SBATCH_PARTITION/SBATCH_ACCOUNT)"
  fi
}

# bm_check [ARGS...]: the resource estimate for this input and this job's ranks × threads
# (`boltzmap check`: per stage the work, time, memory per rank, disk). It runs on the batch host,
# before any srun (CHECK_LAUNCHER="srun -N1 -n1" runs it as a step instead, for MPIs that refuse
# a singleton start). A failing check ends the job with its code: 3 bad input, 6 backend, 4 disk.
bm_check() {
  local cmd=() out code
  read -r -a cmd <<< "${CHECK_LAUNCHER:-}"
  cmd+=("$BOLTZMAP" check "$INPUT" --no-input --ranks "$RANKS" "${OUT_ARGS[@]}" "$@")
  bm_show "${cmd[@]}"
  out=$("${cmd[@]}" 2>&1); code=$?
  printf '%s\n' "$out"
  (( code == 0 )) || bm_die "$code" "boltzmap check failed (exit $code): nothing started"
  # Memory per node: ranks per node × the largest memory per rank of any stage (the total line
  # counts only the stages still to run: 0 B once they are done).
  sed -n 's/^  time ≈ .*, memory ≈ \([0-9.e+]*\) \([kMGT]*B\) per rank, .*/\1 \2/p' <<< "$out" |
    awk -v r="$RANKS_PER_NODE" -v asked="$(bm_mem)" '
      BEGIN { split("B kB MB GB TB", u, " ") }
      { for (k in u) if (u[k] == $2) { v = $1 * 1000 ^ (k - 3); if (v > max) { max = v; per = $1 " " $2 } } }
      END { if (per == "") exit; mb = max * r
        est = mb >= 1000 ? sprintf("%.1f GB", mb / 1000) : sprintf("%.3g MB", mb)
        printf "boltzmap job: memory per node ≈ %s (%d rank(s) × %s, the largest stage); asked for: %s\n", est, r, per, asked
        if (asked ~ /^[0-9]+ MB$/ && asked + 0 < mb) print "boltzmap job: warning: less memory than the estimate: raise --mem" }'
}

# bm_forward SIGNAL: pass a signal the batch shell got to the running step, srun, which passes it
# to every rank.
bm_forward() { [[ -z $BM_PID ]] || kill "-$1" "$BM_PID" 2>/dev/null || true; }

# bm_requeueable CMD...: run CMD (an srun line) so that the job survives its time limit and
# pre-emption. `#SBATCH --signal=B:USR1@300` sends USR1 to this batch shell 300 s before the end;
# the trap forwards it to srun, which forwards it to every rank; boltzmap checkpoints and exits 0;
# then the job requeues itself (`scontrol requeue`) and the rerun of the same command resumes.
# SIGTERM (pre-emption, scancel) is forwarded too, but not followed by a requeue: Slurm requeues a
# pre-empted `--requeue` job itself, and a cancelled job must stay cancelled. A step that was
# killed by the signal (a stage without a checkpoint) is requeued as well: it reruns from its start.
bm_requeueable() {
  bm_show "$@"
  if bm_dry; then
    echo "+ # on SIGUSR1 (the time-limit warning): kill -USR1 <srun>, wait, then:"
    bm_show scontrol requeue "$SLURM_JOB_ID"
    return 0
  fi
  # The traps go in before srun starts (a signal in between is passed on once its pid is known).
  BM_USR1="" BM_TERM="" BM_TRAPPED=0 BM_PID=""
  trap 'BM_USR1=1 BM_TRAPPED=1; echo "boltzmap job: SIGUSR1 (time limit near): forwarding to the ranks"; bm_forward USR1' USR1
  trap 'BM_TERM=1 BM_TRAPPED=1; echo "boltzmap job: SIGTERM: forwarding to the ranks"; bm_forward TERM' TERM
  "$@" &
  BM_PID=$!
  [[ -z $BM_USR1 ]] || bm_forward USR1
  [[ -z $BM_TERM ]] || bm_forward TERM
  local code
  while :; do  # wait returns early (> 128) when a trap fires; then wait again for srun itself
    BM_TRAPPED=0
    wait "$BM_PID"; code=$?
    [[ $BM_TRAPPED == 1 ]] || break
  done
  trap - USR1 TERM
  if [[ -n $BM_USR1 && -z $BM_TERM ]] && (( code == 0 || code > 128 )); then
    echo "boltzmap job: stopped before the time limit (exit $code): requeueing; the rerun resumes"
    bm_show scontrol requeue "$SLURM_JOB_ID"
    scontrol requeue "$SLURM_JOB_ID" || bm_die 1 "scontrol requeue $SLURM_JOB_ID failed: resubmit by hand"
    exit 0
  fi
  [[ -z $BM_TERM ]] || echo "boltzmap job: stopped by SIGTERM (exit $code); a pre-empted --requeue job is requeued by Slurm"
  (( code == 0 )) || bm_die "$code" "step failed with exit code $code: $*"
}
