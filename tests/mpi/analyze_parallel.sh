#!/usr/bin/env bash
# mpi_analyze_np1_2_4: distributed map and analysis. One tiny run (sampled, trained 1 epoch) is
# mapped on 1, 2 and 4 ranks, and the 1-rank mapped files are analysed on 1, 2 and 4 ranks with the
# Poisson bootstrap (100 replicates); then 3 ranks map and analyse in chunks of 37 rows (several
# chunks per rank, of uneven sizes).
#
# What must agree, and how well:
# * mapped files: every frame in place (walker, move count, set, frame count exact), coordinates
#   within 1e-4 and log-weights within 1e-5 relative — each configuration is mapped alone, but
#   the flow's float32 matrix products round differently for another number of rows in a block
#   (README, "Mapping"); a frame written to the wrong row is off by O(1);
# * analysis.h5 of the same mapped files on 1, 2 and 4 ranks: the energy and r bin edges bitwise
#   (the subsample for the bins is keyed by global row), every other number within 1e-10 relative.
#   The sums are the same terms added in another order (per chunk and rank, then the allreduce):
#   with ~10³ double terms the reordering changes a sum by ~1e-16·n relative, while a replicate
#   drawn differently on another rank count, or a row counted twice or dropped, changes a bootstrap
#   error by ~1/√n ≈ 3%;
# * the multinomial scheme asked for on 2 ranks is exit 3, said once.
# Usage: analyze_parallel.sh BOLTZMAP MPIEXEC TMPDIR
set -u
boltzmap=$1 mpiexec=$2 tmp=$3
source "$(dirname "$0")/../app/common.sh"
rm -rf "$tmp" && mkdir -p "$tmp" && cd "$tmp" || exit 1
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1} OMP_NUM_THREADS=1
tiny_input name=an seed=4 walkers=100 eq=500 between=50 train=300 validation=100 evaluation=501 batch=100 \
  phases="$(tiny_phase 1 0.0 1e-3)" extra="$(tiny_analysis 100)
bootstrap_scheme = \"poisson\"" > in.toml
timeout 120 "$boltzmap" sample in.toml --no-progress -o base > sample.log 2>&1 || { bad "sample" sample.log; finish; exit 1; }
timeout 120 "$boltzmap" train in.toml --no-progress -o base > train.log 2>&1 || { bad "train" train.log; finish; exit 1; }

run_np() {  # run_np NP subcommand DIR [args]
  local np=$1 cmd=$2 dir=$3; shift 3
  if [[ $np -eq 1 ]]; then timeout 180 "$boltzmap" "$cmd" in.toml --no-progress -o "$dir" "$@"
  else timeout 180 "$mpiexec" -n "$np" "$boltzmap" "$cmd" in.toml --no-progress -o "$dir" "$@"; fi
}
for np in 1 2 4; do
  rm -rf "np$np" && cp -r base "np$np"
  run_np $np map "np$np" > "map$np.log" 2>&1 && ok "$np rank(s) map" || bad "map on $np ranks" "map$np.log"
done
$py - <<'PY' > compare_map.log 2>&1 && ok "mapped files of 1, 2, 4 ranks agree frame by frame" || bad "mapped files, 1 vs 2 vs 4 ranks" compare_map.log
import h5py, numpy as np
for d in ("A_to_B", "B_to_A"):
    a = h5py.File(f"np1/mapped/{d}.h5", "r")
    for np_ in (2, 4):
        b = h5py.File(f"np{np_}/mapped/{d}.h5", "r")
        assert a.attrs["boltzmap_set"] == b.attrs["boltzmap_set"]
        for k in ("observables/walker/value", "observables/mc_moves/value", "particles/all/position/step",
                  "observables/in_domain/value"):
            assert np.array_equal(a[k][()], b[k][()]), (d, np_, k)
        assert np.allclose(a["particles/all/position/value"][()], b["particles/all/position/value"][()], atol=1e-4), (d, np_)
        for k in ("log_weight_unrestricted", "identity_log_weight", "source_energy", "identity_energy"):
            assert np.allclose(a[f"observables/{k}/value"][()], b[f"observables/{k}/value"][()], rtol=1e-5, atol=1e-4), (d, np_, k)
PY
for np in 1 2 4; do
  [[ $np -eq 1 ]] || cp np1/mapped/*.h5 "np$np/mapped/"
  run_np $np analyze "np$np" --no-plot > "an$np.log" 2>&1 && grep -q "$np rank(s))" "an$np.log" \
    && ok "$np rank(s) analyse" || bad "analyze on $np ranks" "an$np.log"
done

$py - <<'PY' > compare.log 2>&1 && ok "analysis.h5 on 1, 2, 4 ranks: bins bitwise, all else within 1e-10" || bad "analysis, 1 vs 2 vs 4 ranks" compare.log
import h5py, numpy as np
def items(f):
    out = {}
    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            out[name] = obj[()]
        for k, v in obj.attrs.items():
            out[f"{name}@{k}"] = v
    f.visititems(visit)
    for k, v in f.attrs.items():
        out[f"@{k}"] = v
    return out
ref = items(h5py.File("np1/analysis.h5", "r"))
assert ref["@bootstrap_scheme"] in (b"poisson", "poisson"), ref["@bootstrap_scheme"]
checked = 0
for np_ in (2, 4):
    other = items(h5py.File(f"np{np_}/analysis.h5", "r"))
    assert ref.keys() == other.keys()
    for k, v in ref.items():
        if "boltzmap_input" in k:  # names the run folder, which differs
            continue
        a, b = np.asarray(v), np.asarray(other[k])
        if a.dtype.kind not in "fiub":
            assert str(v) == str(other[k]), (np_, k)
            continue
        if "bin_edges" in k or "centres" in k:
            assert np.array_equal(a, b), (np_, k)
        else:
            assert np.allclose(a, b, rtol=1e-10, atol=1e-300, equal_nan=True), (np_, k, a, b)
        checked += 1
assert checked > 200, checked
print("compared", checked, "numbers")
PY

# Several chunks per rank, of uneven sizes (chunks of 37 rows; 501 rows over 3 ranks): map gives the
# same frames (first saved aside: compared before the 1-rank files are copied in), analyze the same
# analysis of the same mapped files.
rm -rf np3 np3_mapped && cp -r base np3
run_np 3 map np3 --set analysis.chunk_configurations=37 > map3.log 2>&1 \
  && mv np3/mapped np3_mapped && cp -r np1/mapped np3/mapped && run_np 3 analyze np3 --no-plot --set analysis.chunk_configurations=37 > an3.log 2>&1 \
  && $py - <<'PY' > compare3.log 2>&1 && ok "3 ranks in chunks of 37 rows: the same mapped files and analysis" || bad "chunks of 37 on 3 ranks" compare3.log
import h5py, numpy as np
for d in ("A_to_B", "B_to_A"):
    a, b = h5py.File(f"np1/mapped/{d}.h5", "r"), h5py.File(f"np3_mapped/{d}.h5", "r")
    for k in ("observables/walker/value", "observables/mc_moves/value", "observables/in_domain/value"):
        assert np.array_equal(a[k][()], b[k][()]), (d, k)
    assert np.allclose(a["particles/all/position/value"][()], b["particles/all/position/value"][()], atol=1e-4), d
a, b = h5py.File("np1/analysis.h5", "r"), h5py.File("np3/analysis.h5", "r")
for k in ("free_energy/delta_f_bar", "A_to_B/delta_f", "B_to_A/reweighted/rdf", "A_to_B/identity/energy_histogram_err"):
    assert np.allclose(a[k][()], b[k][()], rtol=1e-10, equal_nan=True), k
for k in ("value", "error"):
    assert np.isclose(a["free_energy/delta_f_bar"].attrs[k], b["free_energy/delta_f_bar"].attrs[k], rtol=1e-10), k
PY
# 501 rows on 2 ranks are 250 + 251: in chunks of 25 rank 1 needs one round more than rank 0 (every
# rank must take part in every collective write, and none may stop before its last row).
rm -rf np2c && cp -r base np2c
run_np 2 map np2c --set analysis.chunk_configurations=25 > map2c.log 2>&1 \
  && $py - <<'PY' > compare2c.log 2>&1 && ok "2 ranks in chunks of 25 rows (250 + 251): every frame mapped" || bad "chunks of 25 on 2 ranks" compare2c.log
import h5py, numpy as np
for d in ("A_to_B", "B_to_A"):
    a, b = h5py.File(f"np1/mapped/{d}.h5", "r"), h5py.File(f"np2c/mapped/{d}.h5", "r")
    for k in ("observables/walker/value", "observables/mc_moves/value", "observables/in_domain/value"):
        assert np.array_equal(a[k][()], b[k][()]), (d, k)
    assert np.allclose(a["particles/all/position/value"][()], b["particles/all/position/value"][()], atol=1e-4), d
    assert np.allclose(a["observables/source_energy/value"][()], b["observables/source_energy/value"][()], rtol=1e-6), d
PY
run_np 2 analyze np2 --no-plot --set analysis.bootstrap_scheme=multinomial > multi.log 2>&1; rc=$?
[[ $rc -eq 3 && $(grep -c 'needs the whole evaluation set on one process' multi.log) -eq 1 ]] \
  && ok "the multinomial bootstrap asked for on 2 ranks: exit 3, said once" || bad "multinomial on 2 ranks (rc $rc)" multi.log
finish
