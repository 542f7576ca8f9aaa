#!/usr/bin/env bash
# cli_equivariant_flow (issue 13): `--set flow.kind=equivariant` switches the whole pipeline to the
# equivariant flow with one key, whatever real-NVP keys the input sets (the log names them as
# unused); flow.h5 records the kind and the torus preprocessing; map and analyze say that coverage
# is 1 by construction and report it so; a SIGTERM-stopped training resumes to bitwise the same
# flow; 2 trainer ranks give the parameters of 1 rank to float rounding.
set -u
boltzmap=$1 tmp=$2 mpiexec=${3:-}
source "$(dirname "$0")/common.sh"
rm -rf "$tmp" && mkdir -p "$tmp" && cd "$tmp" || exit 1
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1}
# The tiny input sets blocks and hidden (real-NVP keys); the equivariant flow at a small size.
tiny_input name=eq seed=4 train=300 validation=100 evaluation=300 batch=100 pool_steps=10 checkpoint_every=1 \
  phases="$(tiny_phase 3 0.0 2e-3)
$(tiny_phase 3 1.0 1e-3)" extra="$(tiny_analysis 20)" > in.toml
eq=(--set flow.kind=equivariant --set flow.layers=2 --set flow.width=8 --set flow.bins=4 --set flow.frequencies=2)
"$boltzmap" sample in.toml --no-progress --set output_dir=base > sample.log 2>&1 || { bad "sample" sample.log; finish; exit 1; }
cp -r base run && cp -r base stopped && cp -r base two

if "$boltzmap" run in.toml --no-progress "${eq[@]}" --set output_dir=run > run.log 2>&1; then ok "run with flow.kind=equivariant exits 0"; else bad "run exits 0" run.log; fi
grep -q 'flow.kind = "equivariant" does not use flow.blocks' run.log && grep -q 'flow.hidden' run.log \
  && ok "the log names the real-NVP keys the equivariant flow does not use" || bad "unused keys logged" run.log
grep -q "equivariant flow: 2 circular couplings" run.log && ok "the log names the flow and its size" || bad "flow logged" run.log
[[ $(grep -c "coverage 1 by construction" run.log) -ge 3 ]] && ok "map (both directions) and analyze say coverage is 1 by construction" \
  || bad "coverage by construction said" run.log
grep -q "B→A, no coverage corr\." run.log && bad "the results table shows no coverage-uncorrected line" run.log || ok "no coverage-uncorrected line in the results"
"$py" - <<'PY' && ok "flow.h5: @kind equivariant, @torus 1, the shape; summary: flow_kind, coverage 1, finite ΔF" || bad "files and summary"
import h5py, json, math, sys
f = h5py.File("run/model/flow.h5")
g, p = f["flow"], f["preprocess"]
kind = g.attrs["kind"]; kind = kind.decode() if isinstance(kind, bytes) else str(kind)
ok = kind == "equivariant" and int(p.attrs["torus"]) == 1 and int(g.attrs["layers"]) == 2 and int(g.attrs["width"]) == 8
ok &= int(g.attrs["parameter_count"]) == g["parameters"].shape[0] and int(g.attrs["particles"]) == 17
s = json.load(open("run/summary.json"))
a = s["analyze"]
ok &= s["train"]["flow_kind"] == "equivariant" and a["flow_kind"] == "equivariant" and a["coverage_by_construction"] is True
for d in ("A_to_B", "B_to_A"):
    ok &= a[d]["coverage"] == 1.0 and a[d]["out_of_domain_fraction"] == 0.0 and 0 < a[d]["ess_fraction"] <= 1
ok &= math.isfinite(a["delta_f_bar"]) and a["delta_f_bar_err"] > 0
sys.exit(0 if ok else 1)
PY

# SIGTERM after a few epochs: a checkpoint, exit 0; the rerun resumes to the uninterrupted flow.
"$boltzmap" train in.toml --no-progress "${eq[@]}" --set output_dir=stopped > stopped.log 2>&1 &
pid=$!
for _ in $(seq 300); do [[ -f stopped/train_log.csv && $(wc -l < stopped/train_log.csv) -ge 3 ]] && break; sleep 0.1; done
kill -TERM "$pid"; wait "$pid"; code=$?
[[ $code -eq 0 ]] && grep -q "checkpoint saved" stopped.log && ok "SIGTERM: checkpoint and exit 0" || bad "SIGTERM: checkpoint and exit 0 (exit $code)" stopped.log
"$boltzmap" train in.toml --no-progress "${eq[@]}" --set output_dir=stopped > resumed.log 2>&1 && grep -q "resuming from" resumed.log \
  && ok "rerun resumes from the checkpoint" || bad "rerun resumes" resumed.log
"$py" -c "import h5py,numpy as np,sys; a=h5py.File('run/model/flow.h5')['flow/parameters'][:]; b=h5py.File('stopped/model/flow.h5')['flow/parameters'][:]; sys.exit(0 if np.array_equal(a,b) else 1)" \
  && ok "the resumed equivariant flow equals the uninterrupted one bitwise" || bad "resumed flow equals the uninterrupted one"

# Data-parallel: 2 trainer ranks split each batch; the parameters agree with 1 rank's to float rounding.
if [[ -n $mpiexec ]]; then
  if timeout 240 "$mpiexec" -n 2 "$boltzmap" train in.toml --no-progress "${eq[@]}" --set output_dir=two > two.log 2>&1; then
    "$py" -c "import h5py,numpy as np,sys; a=h5py.File('run/model/flow.h5')['flow/parameters'][:]; b=h5py.File('two/model/flow.h5')['flow/parameters'][:]; d=np.max(np.abs(a-b)); print('max |Δθ|', d); sys.exit(0 if a.shape==b.shape and d < 1e-5 and np.any(a != 0) else 1)" \
      && ok "2 trainer ranks: the parameters of 1 rank (|Δθ| < 1e-5)" || bad "2 trainer ranks' parameters" two.log
  else
    bad "mpiexec -n 2 train" two.log
  fi
fi
finish
