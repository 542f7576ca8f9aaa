#!/usr/bin/env bash
# cli_analysis_pipeline: `boltzmap run FILE` samples, trains, maps and analyses a tiny experiment;
# writes the mapped files, analysis.h5 and summary.json's analyze.* keys (DESIGN.md names, issue 6's
# additions, the identity baseline); a second run skips every stage; a change of [analysis] re-runs
# only map and analyze; map and analyze without their inputs fail with exit 4 naming what to run;
# a bad [analysis] key fails with exit 3; 1 and 2 ranks map to the same weights, and `run` on 2 ranks
# gives the same βΔF.
set -u
boltzmap=$1 tmp=$2 mpiexec=${3:-}
source "$(dirname "$0")/common.sh"
rm -rf "$tmp" && mkdir -p "$tmp" && cd "$tmp" || exit 1
tiny_input name=pipe walkers=300 eq=2000 between=500 train=600 evaluation=900 blocks=4 batch=200 pool_steps=50 checkpoint_every=2 \
  phases="$(tiny_phase 3 0.0 1e-3)
$(tiny_phase 2 1.0 1e-4)" extra="$(tiny_analysis 30)" > in.toml

# Stage inputs missing: clear errors, exit 4.
"$boltzmap" map in.toml > map_early.log 2>&1; rc=$?
[[ $rc -eq 4 ]] && grep -q "boltzmap train" map_early.log && ok "map before train: exit 4, says to train" || bad "map before train (rc $rc)" map_early.log
"$boltzmap" analyze in.toml > an_early.log 2>&1; rc=$?
[[ $rc -eq 4 ]] && grep -q "boltzmap sample" an_early.log && ok "analyze before sample: exit 4, says to sample" || bad "analyze before sample (rc $rc)" an_early.log
"$boltzmap" run in.toml --set analysis.bootstrap_scheme=jackknife > bad_key.log 2>&1; rc=$?
[[ $rc -eq 3 ]] && grep -q "bootstrap_scheme" bad_key.log && grep -q "poisson" bad_key.log && ok "bad bootstrap_scheme: exit 3 naming the key and the choices" || bad "bad bootstrap_scheme (rc $rc)" bad_key.log

# The whole pipeline.
"$boltzmap" run in.toml --no-progress > run1.log 2>&1; rc=$?
[[ $rc -eq 0 ]] && ok "run completes" || bad "run (rc $rc)" run1.log
# One log sink per process: each line once in log.txt, though run opens every stage (and each
# stage asks for the log file).
[[ $(grep -c "run: done" out/pipe/log.txt) -eq 1 && $(grep -c "βΔF = β_B F_B" out/pipe/log.txt) -eq 2 ]] \
  && ok "log.txt has each line once (the results table by analyze and by run)" || bad "log.txt repeats lines" out/pipe/log.txt
# Phase 1 trains L_dir only: its L_inv (training) is "n/a", never "nan", in the CSV and the log;
# phase 2 trains both, so its value is a number; tools/plot reads the CSV.
$py - out/pipe/train_log.csv <<'PY' > csv_check.log 2>&1 && ok "train_log.csv: an untrained loss is n/a, a trained one a number" || bad "n/a in train_log.csv" csv_check.log
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 5, len(rows)
for r in rows:
    assert "nan" not in ",".join(r.values()).lower(), r
    if r["phase"] == "1":
        assert r["loss_inv_train"] == "n/a", r
    else:
        assert math.isfinite(float(r["loss_inv_train"])), r
    assert math.isfinite(float(r["loss_dir_train"])) and math.isfinite(float(r["loss_inv_validation"])), r
PY
! grep -qi "nan" out/pipe/log.txt && grep -q "L_inv n/a" out/pipe/log.txt && ok "log.txt: an untrained loss reads n/a" || bad "log.txt nan/n-a" out/pipe/log.txt
if $py -c "import matplotlib" 2>/dev/null; then
  "$(dirname "$0")/../../tools/plot" analysis out/pipe/analysis.h5 --train-log out/pipe/train_log.csv --out figs > plot.log 2>&1 \
    && [[ -s figs/training.png ]] && ok "tools/plot draws the training figure from a log with n/a" || bad "tools/plot with n/a" plot.log
fi
for f in data/A_evaluation.h5 data/B_evaluation.h5 model/flow.h5 mapped/A_to_B.h5 mapped/B_to_A.h5 analysis.h5 stages.json; do
  [[ -f out/pipe/$f ]] && ok "wrote $f" || bad "missing $f"
done
"$boltzmap" info out/pipe/mapped/A_to_B.h5 > info.log 2>&1
for obs in log_weight log_weight_unrestricted in_domain log_jacobian source_energy identity_energy identity_log_weight; do
  grep -q "observables/$obs/value" info.log && ok "mapped file has $obs" || bad "mapped file lacks $obs" info.log
done
$py - out/pipe/summary.json <<'PY' > summary_check.log 2>&1 && ok "summary.json has DESIGN's analyze.* keys with sane values" || bad "summary analyze.* keys" summary_check.log
import json, math, sys
a = json.load(open(sys.argv[1]))["analyze"]
need = ["mean_energy_reference", "mean_energy_reference_err", "mean_energy_untransformed", "mean_energy_raw",
        "mean_energy_reweighted", "mean_energy_reweighted_err", "ess", "ess_fraction", "delta_f", "delta_f_err",
        "delta_f_uncorrected", "coverage", "out_of_domain_fraction", "out_of_domain_weight_fraction"]
for d in ("A_to_B", "B_to_A"):
    for k in need:
        assert k in a[d], (d, k)
    assert 0 < a[d]["ess_fraction"] <= 1, a[d]
    assert 0 <= a[d]["coverage"] <= 1 and abs(a[d]["coverage"] + a[d]["out_of_domain_fraction"] - 1) < 1e-12
    assert a[d]["mean_energy_reference_err"] > 0
for k in ("delta_f_bar", "delta_f_bar_err"):
    assert k in a and math.isfinite(a[k]), k
for d in ("A_to_B", "B_to_A"):
    for k in ("ess", "ess_fraction", "mean_energy_reweighted", "delta_f", "delta_f_err"):
        assert k in a["identity"][d], ("identity", d, k)
assert "delta_f_bar" in a["identity"]
# B has half of A's attraction at the same T: Z_B < Z_A, so βΔF = β_B F_B − β_A F_A > 0.
print("delta_f_bar", a["delta_f_bar"], "identity", a["identity"]["delta_f_bar"])
assert a["delta_f_bar"] > 0 and a["identity"]["delta_f_bar"] > 0
# Every estimate of the same ΔF agrees within 6 combined bootstrap errors.
bar, e = a["delta_f_bar"], a["delta_f_bar_err"]
for name, v, ve in [("identity BAR", a["identity"]["delta_f_bar"], a["identity"]["delta_f_bar_err"]),
                    ("A_to_B", a["A_to_B"]["delta_f"], a["A_to_B"]["delta_f_err"]),
                    ("B_to_A", a["B_to_A"]["delta_f"], a["B_to_A"]["delta_f_err"]),
                    ("identity A_to_B", a["identity"]["A_to_B"]["delta_f"], a["identity"]["A_to_B"]["delta_f_err"])]:
    assert abs(v - bar) < 6 * math.hypot(e, ve), (name, v, ve, bar, e)
# The reweighted reference agrees with the target's own samples over the part the map covers.
for d in ("A_to_B", "B_to_A"):
    x = a[d]
    assert abs(x["mean_energy_reweighted"] - x["mean_energy_reference_covered"]) < 6 * math.hypot(
        x["mean_energy_reweighted_err"], x["mean_energy_reference_covered_err"]), (d, x)
PY
$py - out/pipe/analysis.h5 out/pipe/summary.json <<'PY' > h5_check.log 2>&1 && ok "analysis.h5 holds the documented layout and the summary's numbers" || bad "analysis.h5 layout/values" h5_check.log
import sys, json, h5py, numpy as np
f, a = h5py.File(sys.argv[1], "r"), json.load(open(sys.argv[2]))["analyze"]
R = int(f.attrs["bootstrap_replicates"])
assert R == 30
for d in ("A_to_B", "B_to_A"):
    g = f[d]
    for s in ("reference", "reference_covered", "untransformed", "raw", "reweighted", "identity"):
        for k in ("energy_histogram", "energy_histogram_err", "rdf", "rdf_err"):
            assert k in g[s], (d, s, k)
        assert len(g[s]["rdf"]) == 100 and len(g[s]["energy_histogram"]) == 80
    assert len(g["delta_f"]) == R + 1 and g["delta_f"].attrs["value"] == g["delta_f"][0]
    assert np.isclose(g["reweighted"].attrs["mean_energy"], a[d]["mean_energy_reweighted"])
    assert np.isclose(g["delta_f"].attrs["value"], a[d]["delta_f"])
    # The reference energy histogram is a density: it integrates to the share inside the bins (≈ 1).
    w = np.diff(g["energy_bin_edges"][:])
    assert 0.99 < (g["reference/energy_histogram"][:] * w).sum() <= 1 + 1e-9
    assert g.attrs["n_source"] == 900 and g.attrs["n_reference"] == 900
assert np.isclose(f["free_energy/delta_f_bar"].attrs["value"], a["delta_f_bar"])
PY

# A second run: every stage up to date.
"$boltzmap" run in.toml --no-progress > run2.log 2>&1; rc=$?
n=$(grep -c "up to date" run2.log)
[[ $rc -eq 0 && $n -eq 5 ]] && ok "second run skips all 5 stages" || bad "second run skipped $n stages (rc $rc)" run2.log
# Only the bootstrap changed: sampling, training and mapping are skipped, analyze runs.
"$boltzmap" run in.toml --no-progress --set analysis.bootstrap_replicates=20 > run3.log 2>&1; rc=$?
[[ $rc -eq 0 ]] && grep -q "sample_A is up to date" run3.log && grep -q "train is up to date" run3.log \
  && grep -q "map is up to date" run3.log && grep -q "run: stage analyze" run3.log && grep -q "20 bootstrap replicates" run3.log \
  && ok "a changed bootstrap re-runs analyze only" || bad "partial re-run (rc $rc)" run3.log
# A missing output makes its stage (and the later ones) run again.
rm out/pipe/mapped/B_to_A.h5
"$boltzmap" run in.toml --no-progress --set analysis.bootstrap_replicates=20 > run4.log 2>&1; rc=$?
[[ $rc -eq 0 ]] && grep -q "train is up to date" run4.log && grep -q "run: stage map" run4.log && grep -q "run: stage analyze" run4.log \
  && [[ -f out/pipe/mapped/B_to_A.h5 ]] && ok "a deleted mapped file is made again, and the analysis after it" || bad "re-run after deletion (rc $rc)" run4.log
# An upstream change ([training]) re-runs training and everything after it, not the sampling.
"$boltzmap" run in.toml --no-progress --set analysis.bootstrap_replicates=20 --set training.checkpoint_every=1 > run5.log 2>&1; rc=$?
[[ $rc -eq 0 ]] && grep -q "sample_B is up to date" run5.log && grep -q "run: stage train" run5.log && grep -q "run: stage map" run5.log \
  && grep -q "run: stage analyze" run5.log && grep -q "moved to" run5.log \
  && ok "a changed [training] re-runs train, map and analyze (the old checkpoint moved aside)" || bad "upstream change (rc $rc)" run5.log
# An output made by hand from another input is not mistaken for current.
"$boltzmap" map in.toml --no-progress --set analysis.max_configurations=100 > map_other.log 2>&1
"$boltzmap" run in.toml --no-progress --set analysis.bootstrap_replicates=20 --set training.checkpoint_every=1 > run6.log 2>&1; rc=$?
[[ $rc -eq 0 ]] && grep -q "train is up to date" run6.log && grep -q "run: stage map" run6.log \
  && ok "a mapped file from another input is made again" || bad "stale output detection (rc $rc)" run6.log
# map refuses data of other physics (here B's ε) before it maps anything (exit 4, naming the key).
"$boltzmap" map in.toml --no-progress --set systems.B.epsilon=0.4 > map_eps.log 2>&1; rc=$?
[[ $rc -eq 4 ]] && grep -q "systems.B.epsilon = 0.5 in the file, 0.4 in the input" map_eps.log \
  && ok "map refuses evaluation data of other physics (exit 4, names the key)" || bad "map with another ε (rc $rc)" map_eps.log
# A mapped file made with another [training] (the model is only warned about) is refused by analyze.
"$boltzmap" map in.toml --no-progress --set training.checkpoint_every=3 > /dev/null 2>&1
"$boltzmap" analyze in.toml --no-plot --set analysis.bootstrap_replicates=20 --set training.checkpoint_every=1 > an_stale.log 2>&1; rc=$?
[[ $rc -eq 4 ]] && grep -q "different input" an_stale.log && ok "analyze refuses mapped files of another input (exit 4)" || bad "analyze stale (rc $rc)" an_stale.log

# 1 and 2 ranks: the same log-weights (mapping is per configuration; rows may round differently in
# a different chunk, so compare to 1e-5).
if [[ -n $mpiexec ]]; then
  "$boltzmap" map in.toml --no-progress > np1.log 2>&1
  cp out/pipe/mapped/A_to_B.h5 np1.h5
  "$mpiexec" -n 2 "$boltzmap" map in.toml --no-progress > np2.log 2>&1; rc=$?
  $py - np1.h5 out/pipe/mapped/A_to_B.h5 <<'PY' > np2_check.log 2>&1 && [[ $rc -eq 0 ]] && ok "mpi: 2 ranks map like 1" || bad "mpi map np2 (rc $rc)" np2_check.log
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
for k in ("log_weight_unrestricted", "in_domain", "identity_log_weight"):
    x, y = a[f"observables/{k}/value"][:], b[f"observables/{k}/value"][:]
    assert x.shape == y.shape and np.allclose(x, y, rtol=1e-5, atol=1e-4), k
assert np.allclose(a["particles/all/position/value"][:], b["particles/all/position/value"][:], atol=1e-4)
PY
  # The whole pipeline under 2 ranks (sampling, training, mapping and analysis split): same
  # full-sample βΔF as the 1-rank run of the same input; the default bootstrap becomes Poisson there.
  "$mpiexec" -n 2 "$boltzmap" run in.toml --no-progress --set output_dir=out_np2 --set analysis.bootstrap_replicates=20 \
    --set training.checkpoint_every=1 > np2run.log 2>&1; rc=$?
  $py - out_np2/summary.json out/pipe/summary.json <<'PY' > np2run_check.log 2>&1 && [[ $rc -eq 0 ]] && ok "mpi: \`run\` on 2 ranks gives the 1-rank βΔF" || bad "mpi run np2 (rc $rc)" np2run.log
import sys, json
a, b = (json.load(open(p))["analyze"] for p in sys.argv[1:3])
assert abs(a["delta_f_bar"] - b["delta_f_bar"]) < 1e-6 * abs(b["delta_f_bar"]), (a["delta_f_bar"], b["delta_f_bar"])
assert a["bootstrap_scheme"] == "poisson" and b["bootstrap_scheme"] == "multinomial", (a["bootstrap_scheme"], b["bootstrap_scheme"])
PY
  "$mpiexec" -n 2 "$boltzmap" analyze in.toml --no-plot --set output_dir=out_np2 --set analysis.bootstrap_scheme=multinomial \
    --set training.checkpoint_every=1 > np2multi.log 2>&1; rc=$?
  [[ $rc -eq 3 && $(grep -c 'bootstrap_scheme = "multinomial" needs the whole evaluation set on one process' np2multi.log) -eq 1 ]] \
    && ok "mpi: the multinomial bootstrap asked for on 2 ranks is refused once (exit 3)" || bad "np2 multinomial (rc $rc)" np2multi.log
fi
finish
