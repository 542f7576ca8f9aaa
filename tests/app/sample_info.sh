#!/usr/bin/env bash
# cli_sample_info: `boltzmap sample` on a tiny input writes the run folder of DESIGN.md
# ("Interfaces": data/{A,B}_{train,validation,evaluation}.h5, input.toml, log.txt, summary.json),
# leaves no *.partial, its resolved input.toml runs again, `boltzmap info` describes the files,
# and sampling one system merges into summary.json without dropping the other.
# Usage: sample_info.sh BOLTZMAP TMPDIR
set -u
boltzmap=$1 tmp=$2
[[ -x $boltzmap ]] || { echo "cli_sample_info: $boltzmap is not an executable"; exit 1; }
[[ $boltzmap == /* ]] || boltzmap=$PWD/$boltzmap  # we cd into $tmp below
python=/usr/bin/python3
[[ -x $python ]] || python=python3
if ! { rm -rf "$tmp" && mkdir -p "$tmp" && cd "$tmp"; }; then echo "cannot use $tmp"; exit 1; fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
# Open MPI's UCX transport takes ~0.2 s to start per process; these single-rank runs never
# communicate, so the plain one does (other MPIs ignore the variable).
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1}
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "PASS $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [[ -z ${2:-} || ! -f $2 ]] || head -n 30 "$2" | sed 's/^/    | /'; }
# expect NAME COMMAND...: the command must succeed.
expect() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
# contains NAME FILE NEEDLE...: FILE contains every NEEDLE (fixed strings).
contains() {
  local name=$1 file=$2 n missing=""
  shift 2
  for n in "$@"; do grep -qsF -- "$n" "$file" || missing+=" '$n'"; done
  if [[ -z $missing ]]; then ok "$name"; else bad "$name: missing$missing" "$file"; fi
}
# summary_has NAME FILE PYTHON-EXPRESSION: evaluates the expression with s = the parsed JSON.
summary_has() {
  if "$python" -c 'import json, math, sys
s = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2])
sys.exit(0 if ok else 1)' "$2" "$3" > py.txt 2>&1; then ok "$1"; else bad "$1: $3" py.txt; fi
}

# Tiny: 32 walkers, 6 saves of 32 frames (≥ 4 saves, so τ_int and the ESS are defined).
cat > in.toml <<'TOML'
name = "sample_info"
seed = 3

[box]
n_particles = 32

[systems.A]
potential = "lj"
epsilon = 1.0
inner_cutoff = 0.8
temperature = 1.0
density = 0.735

[systems.A.sampler]
walkers = 32
step_size = 0.175
equilibration_moves = 200
moves_between_saves = 50

[systems.A.datasets]
train = 64
validation = 32
evaluation = 96

[systems.B]
potential = "wca"
epsilon = 0.5
inner_cutoff = 0.8
temperature = 1.0
density = 0.735

[systems.B.sampler]
walkers = 32
step_size = "auto"
equilibration_moves = 500
moves_between_saves = 50

[systems.B.datasets]
train = 64
validation = 32
evaluation = 96
TOML

# ---- one run, both systems
run=$tmp/run
if "$boltzmap" sample in.toml --no-progress --set "output_dir=$run" > sample.txt 2>&1; then
  ok "sample exits 0"
else
  bad "sample exits 0 (exit $?)" sample.txt
fi
for s in A B; do
  for set in train validation evaluation; do
    f=$run/data/${s}_$set.h5
    expect "data file ${s}_$set.h5" test -s "$f"
  done
done
partials=$(find "$run" -name '*.partial' | head -n 5)
expect "no *.partial left${partials:+ (found: $partials)}" test -z "$partials"
expect "log.txt written" test -s "$run/log.txt"
contains "log.txt records the run" "$run/log.txt" "sample in.toml" "system A" "system B"
contains "input.toml is the resolved input" "$run/input.toml" 'name = "sample_info"' "output_dir = \"$run\"" \
  "target_acceptance = 0.5" 'step_size = "auto"' "moves_between_saves = 50"
expect "summary.json written" test -s "$run/summary.json"
keys="acceptance mean_energy_per_particle mean_energy_per_particle_err tau_int ess_per_sample step_size trial_moves_per_second seconds"
for s in A B; do
  for k in $keys; do
    summary_has "summary sample.$s.$k is a finite number" "$run/summary.json" \
      "isinstance(s['sample']['$s']['$k'], (int, float)) and math.isfinite(s['sample']['$s']['$k'])"
  done
  summary_has "summary sample.$s.acceptance in (0, 1)" "$run/summary.json" "0 < s['sample']['$s']['acceptance'] < 1"
  summary_has "summary sample.$s.mean_energy_per_particle_err > 0" "$run/summary.json" \
    "s['sample']['$s']['mean_energy_per_particle_err'] > 0"
done
# A's fixed step size is reported as given (to float precision), B's was tuned.
summary_has "summary sample.A.step_size = 0.175" "$run/summary.json" "abs(s['sample']['A']['step_size'] - 0.175) < 1e-6"
# LJ (ε = 1) at ρ = 0.735 is bound (U/N < 0); WCA is purely repulsive (U/N > 0).
summary_has "summary energies have the physical sign" "$run/summary.json" \
  "s['sample']['A']['mean_energy_per_particle'] < 0 < s['sample']['B']['mean_energy_per_particle']"

# ---- boltzmap info
if "$boltzmap" info "$run/data/A_train.h5" > info.txt 2>&1; then ok "info exits 0"; else bad "info exits 0" info.txt; fi
contains "info describes the H5MD file" info.txt "H5MD" "64 frames" "32 particles" "potential energy" \
  "/particles/all/position/value" "boltzmap_set: train" "boltzmap_system: A"
"$boltzmap" info "$run/data/B_evaluation.h5" > info_b.txt 2>&1
contains "info counts the frames of another set" info_b.txt "96 frames" "boltzmap_system: B" "boltzmap_set: evaluation"
if "$boltzmap" info --input "$run/data/B_validation.h5" > info_input.txt 2>&1; then
  ok "info --input exits 0"
else
  bad "info --input exits 0" info_input.txt
fi
contains "info --input prints the resolved input" info_input.txt "name =" "[systems.B.sampler]"
expect "info --input equals input.toml" cmp info_input.txt "$run/input.toml"

# ---- the resolved input runs again and gives the same data (same seed, same settings)
if "$boltzmap" sample "$run/input.toml" --no-progress --set "output_dir=$tmp/rerun" > rerun.txt 2>&1; then
  ok "sample on the resolved input.toml exits 0"
else
  bad "sample on the resolved input.toml exits 0" rerun.txt
fi
for f in A_train B_evaluation; do
  "$boltzmap" info "$tmp/rerun/data/$f.h5" 2>&1 | grep "potential energy" > e_rerun.txt
  "$boltzmap" info "$run/data/$f.h5" 2>&1 | grep "potential energy" > e_run.txt
  expect "info of $f shows the energies" test -s e_run.txt
  expect "rerun reproduces $f energies" cmp e_run.txt e_rerun.txt
done

# ---- one system at a time: summary.json is merged, not replaced
one=$tmp/one
"$boltzmap" sample in.toml --no-progress --system A --set "output_dir=$one" > one_a.txt 2>&1 ||
  bad "sample --system A (exit $?)" one_a.txt
summary_has "--system A writes only sample.A" "$one/summary.json" "set(s['sample']) == {'A'}"
expect "--system A writes no B data" test ! -e "$one/data/B_train.h5"
cp "$one/summary.json" summary_a.json
"$boltzmap" sample in.toml --no-progress --system B --set "output_dir=$one" > one_b.txt 2>&1 ||
  bad "sample --system B (exit $?)" one_b.txt
summary_has "--system B adds sample.B and keeps sample.A" "$one/summary.json" "set(s['sample']) == {'A', 'B'}"
summary_has "sample.A is unchanged by --system B" "$one/summary.json" \
  "s['sample']['A'] == json.load(open('summary_a.json'))['sample']['A']"
expect "both systems' data after two runs" test -s "$one/data/B_train.h5" -a -s "$one/data/A_train.h5"
# The same seed gives the same B whether sampled alone or together with A.
summary_has "sample.B alone equals sample.B together" "$one/summary.json" \
  "s['sample']['B']['mean_energy_per_particle'] == json.load(open('$run/summary.json'))['sample']['B']['mean_energy_per_particle']"

# ---- preprocess: fits on the sampled training sets, writes the model and every set through it
if "$boltzmap" preprocess in.toml --set "output_dir=$run" > prep.txt 2>&1; then
  ok "preprocess exits 0"
else
  bad "preprocess exits 0 (exit $?)" prep.txt
fi
expect "preprocess writes model/preprocess.h5" test -s "$run/model/preprocess.h5"
for f in A_train A_validation A_evaluation B_train B_validation B_evaluation; do
  expect "preprocess writes preprocessed/$f.h5" test -s "$run/preprocessed/$f.h5"
done
summary_has "summary keeps sample.* and adds preprocess.*" "$run/summary.json" \
  "'sample' in s and s['preprocess']['round_trip_max_distance_error'] < 1e-4"
"$boltzmap" info "$run/preprocessed/A_train.h5" > prep_info.txt 2>&1
contains "info shows the preprocessed datasets" prep_info.txt "/latent" "/wrapped" "/relabelled"
"$boltzmap" preprocess in.toml --set "output_dir=$tmp/nodata" > nodata.txt 2>&1
code=$?
if [[ $code -eq 4 ]] && grep -q "boltzmap sample" nodata.txt; then ok "preprocess without data: exit 4, says to sample first"
else bad "preprocess without data: exit 4, says to sample first (exit $code)" nodata.txt; fi

# -o DIR is output_dir (issue 12): the run folder goes there.
"$boltzmap" sample in.toml --no-progress --system A -o "$tmp/short_o" > short_o.txt 2>&1
code=$?
if [[ $code -eq 0 && -s $tmp/short_o/data/A_train.h5 ]] && grep -q "^output_dir = \"$tmp/short_o\"" "$tmp/short_o/input.toml"; then
  ok "-o DIR puts the run folder in DIR"
else bad "-o DIR puts the run folder in DIR (exit $code)" short_o.txt; fi
# run without FILE says it runs the demo before it starts (stopped once it has said so).
"$boltzmap" run --no-progress -o "$tmp/demo_o" > demo_o.txt 2>&1 &
demo=$!
for _ in $(seq 100); do grep -q "no FILE given: running the demo" demo_o.txt && break; sleep 0.1; done
kill -KILL $demo 2>/dev/null; wait $demo 2>/dev/null
if grep -q "no FILE given: running the demo, .*inputs/demo.toml" demo_o.txt; then ok "run without FILE says it runs the demo"
else bad "run without FILE says it runs the demo" demo_o.txt; fi

echo "cli_sample_info: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
