#!/usr/bin/env bash
# cli_bad_inputs: the real executable on bad inputs and command lines. Each case asserts the exit
# code (src/core/error.hpp: 2 usage, 3 input, 4 io, 6 backend) and a message substring that says
# what is wrong and where. Usage: bad_inputs.sh BOLTZMAP TMPDIR
set -u
boltzmap=$1 tmp=$2
[[ -x $boltzmap ]] || { echo "cli_bad_inputs: $boltzmap is not an executable"; exit 1; }
[[ $boltzmap == /* ]] || boltzmap=$PWD/$boltzmap  # we cd into $tmp below
if ! { rm -rf "$tmp" && mkdir -p "$tmp" && cd "$tmp"; }; then echo "cannot use $tmp"; exit 1; fi
# Open MPI's UCX transport takes ~0.2 s to start per process; these single-rank runs never
# communicate, so the plain one does (other MPIs ignore the variable).
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1}
pass=0 fail=0

# check NAME EXPECTED_EXIT NEEDLE... -- COMMAND...: runs COMMAND, asserts its exit code and that
# its output (stdout + stderr) contains every NEEDLE (fixed strings).
check() {
  local name=$1 want=$2
  shift 2
  local needles=()
  while [[ $# -gt 0 && $1 != -- ]]; do needles+=("$1"); shift; done
  shift
  "$@" > "$tmp/out.txt" 2>&1
  local rc=$? why=""
  [[ $rc -eq $want ]] || why="exit $rc, expected $want"
  local n
  for n in "${needles[@]}"; do
    grep -qF -- "$n" "$tmp/out.txt" || why+="${why:+; }no '$n' in the output"
  done
  if [[ -z $why ]]; then
    pass=$((pass + 1))
    echo "PASS $name (exit $rc)"
  else
    fail=$((fail + 1))
    echo "FAIL $name: $why"
    head -n 20 "$tmp/out.txt" | sed 's/^/    | /'
  fi
}

# expect NAME COMMAND...: the command (a test, not boltzmap) must succeed.
expect() {
  local name=$1
  shift
  if "$@"; then
    pass=$((pass + 1))
    echo "PASS $name"
  else
    fail=$((fail + 1))
    echo "FAIL $name"
  fi
}

# A small valid input; the bad ones are edits of it.
cat > good.toml <<'TOML'
name = "bad_inputs"
seed = 1

[box]
n_particles = 32

[systems.A]
potential = "lj"
epsilon = 1.0
temperature = 1.0
density = 0.735

[systems.A.sampler]
walkers = 8
step_size = 0.175
equilibration_moves = 10
moves_between_saves = 10

[systems.A.datasets]
train = 4
validation = 0
evaluation = 0

[systems.B]
potential = "wca"
epsilon = 0.5
temperature = 1.0
density = 0.735

[systems.B.sampler]
walkers = 8
step_size = 0.2
equilibration_moves = 10
moves_between_saves = 10

[systems.B.datasets]
train = 4
validation = 0
evaluation = 0
TOML
line_of() { grep -nxF -- "$1" "$2" | head -n 1 | cut -d: -f1; }  # line number of an exact line
run_dir=(--set "output_dir=$tmp/run")  # never write into the current folder's out/

# --- input files (exit 4 unreadable, 3 invalid)
check "missing input file" 4 "nope.toml" "cannot open input file" -- "$boltzmap" sample "$tmp/nope.toml" "${run_dir[@]}"
mkdir -p folder.toml
check "input is a folder" 4 "folder.toml" "folder" -- "$boltzmap" sample folder.toml "${run_dir[@]}"

sed 's/^epsilon = 1.0$/epsilon = = 1.0/' good.toml > syntax.toml
check "TOML syntax error" 3 "syntax.toml:$(line_of 'epsilon = = 1.0' syntax.toml):" "TOML syntax error" \
  -- "$boltzmap" sample syntax.toml "${run_dir[@]}"

sed 's/^step_size = 0.175$/stepsize = 0.175/' good.toml > unknown.toml
check "misspelt required key" 3 "unknown.toml:$(line_of 'stepsize = 0.175' unknown.toml):" \
  "systems.A.sampler.stepsize" "unknown key" "did you mean step_size?" -- "$boltzmap" sample unknown.toml "${run_dir[@]}"

sed 's/^equilibration_moves = 10$/equilibraton_moves = 10/' good.toml > unknown2.toml
check "unknown key" 3 "unknown2.toml:$(line_of 'equilibraton_moves = 10' unknown2.toml):" \
  "systems.A.sampler.equilibraton_moves" "unknown key" "allowed here" "equilibration_moves" \
  -- "$boltzmap" sample unknown2.toml "${run_dir[@]}"

{ cat good.toml; printf '\n[parallel]\nsampler_ranks = -1\n'; } > parallel.toml
check "negative sampler_ranks" 3 "parallel.toml:$(line_of 'sampler_ranks = -1' parallel.toml):" "parallel.sampler_ranks" \
  "[0, " -- "$boltzmap" sample parallel.toml "${run_dir[@]}"

sed 's/^epsilon = 1.0$/epsilon = 1.0\ncutoff = 3.5/' good.toml > cutoff.toml
check "cutoff > L/2" 3 "cutoff.toml:$(line_of 'cutoff = 3.5' cutoff.toml):" "systems.A.cutoff" "L/2" \
  -- "$boltzmap" sample cutoff.toml "${run_dir[@]}"

sed 's/^n_particles = 32$/n_particles = 30/' good.toml > n30.toml
check "N not 2n^2" 3 "n30.toml:$(line_of 'n_particles = 30' n30.toml):" "box.n_particles" "2n²" \
  -- "$boltzmap" sample n30.toml "${run_dir[@]}"

sed 's/^walkers = 8$/walkers = 0/' good.toml > walkers0.toml
check "walkers 0" 3 "walkers0.toml:$(line_of 'walkers = 0' walkers0.toml):" "systems.A.sampler.walkers" "[1, " \
  -- "$boltzmap" sample walkers0.toml "${run_dir[@]}"

# --- --set overrides (exit 3, the override named instead of a file line)
check "--set bad value" 3 "--set systems.A.density" "must be > 0" \
  -- "$boltzmap" sample good.toml "${run_dir[@]}" --set systems.A.density=-1
check "--set unknown key" 3 "--set systems.B.sampler.stepsize" "unknown key" \
  -- "$boltzmap" sample good.toml "${run_dir[@]}" --set systems.B.sampler.stepsize=0.1
check "--set without =" 3 "--set walkers" "key=value" -- "$boltzmap" sample good.toml "${run_dir[@]}" --set walkers
check "--set bad backend" 3 "--set backend" '"auto" "cpu" "cuda"' \
  -- "$boltzmap" sample good.toml "${run_dir[@]}" --set backend=gpu
check "--set bad flow kind" 3 "--set flow.kind" '"realnvp" "equivariant"' \
  -- "$boltzmap" sample good.toml "${run_dir[@]}" --set flow.kind=transformer
check "--set bad spline bins" 3 "--set flow.bins" "[2, 256]" \
  -- "$boltzmap" sample good.toml "${run_dir[@]}" --set flow.kind=equivariant --set flow.bins=1

# --- command line (exit 2)
check "unknown subcommand" 2 "unknown subcommand 'frob'" "choose one of: sample, preprocess, train, map, analyze, run, check" -- "$boltzmap" frob good.toml
check "no subcommand" 2 "subcommand is required" -- "$boltzmap"
check "sample without FILE" 2 "FILE is required" -- "$boltzmap" sample
check "info without FILE" 2 "FILE is required" -- "$boltzmap" info
check "--system C" 2 "--system" "C not in {A,B}" -- "$boltzmap" sample good.toml --system C
check "--set without a value" 2 "--set" -- "$boltzmap" sample good.toml --set
check "two input files" 2 "not expected" -- "$boltzmap" sample good.toml good.toml
check "--threads 0" 2 "--threads" -- "$boltzmap" --threads 0 sample good.toml

# --- backend (exit 6): no usable GPU for the sampler here (a build without CUDA, or no device)
if ! { command -v nvidia-smi > /dev/null && nvidia-smi -L 2> /dev/null | grep -q '^GPU'; }; then  # with a GPU it samples (tools/gpu-check)
  check "backend cuda" 6 'backend = "cuda"' "cpu" -- "$boltzmap" sample good.toml "${run_dir[@]}" --set backend=cuda
  expect "backend cuda wrote no data" test ! -e "$tmp/run/data"
fi

# --- info (exit 4)
check "info on a missing file" 4 "missing.h5" "no such file" -- "$boltzmap" info missing.h5
echo "plain text, not HDF5" > text.h5
check "info on a non-HDF5 file" 4 "text.h5" "not a readable HDF5 file" -- "$boltzmap" info text.h5
check "info --input on a non-HDF5 file" 4 "text.h5" -- "$boltzmap" info --input text.h5

# --- version and help (exit 0)
check "--version" 0 "boltzmap" "CUDA" -- "$boltzmap" --version
check "--help" 0 "sample" "info" "Exit codes" "2 bad command line" "3 bad input file" "6 backend" \
  -- "$boltzmap" --help
check "sample --help" 0 "--set" "--system" "Exit codes" -- "$boltzmap" sample --help
check "info --help" 0 "--input" "--threads" -- "$boltzmap" info --help
# Every subcommand's help lists the global options and -o (issue 12).
for sub in sample preprocess train map analyze run check; do
  check "$sub --help lists the global options and -o" 0 "Global options" "--threads" "--verbose" "--output-dir" -- "$boltzmap" $sub --help
done
# Each stage takes --no-progress; run and analyze --no-plot; each --set example is a key of its stage.
for sub in sample preprocess train map analyze run; do
  check "$sub --help has --no-progress" 0 "--no-progress" -- "$boltzmap" $sub --help
done
for sub in analyze run; do check "$sub --help has --no-plot" 0 "--no-plot" -- "$boltzmap" $sub --help; done
check "train's --set example" 0 "--set training.batch_size=1024" -- "$boltzmap" train --help
check "analyze's --set example" 0 "--set analysis.bootstrap_replicates=1000" -- "$boltzmap" analyze --help
check "preprocess's --set example" 0 "--set preprocess.whiten=false" -- "$boltzmap" preprocess --help

# Nothing above may have written into the current folder.
expect "no stray out/ folder" test ! -e out

echo "cli_bad_inputs: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
