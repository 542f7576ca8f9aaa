#!/usr/bin/env bash
# cli_h5md_conformance (issue 12): the configuration files of `boltzmap sample` and `boltzmap map`
# conform to H5MD 1.1 (tools/h5md-check: strictly increasing steps, units, author, creator,
# superblock version 2, …); the checker fails on files that do not (a repeated step, a missing
# unit, a version-0 superblock, no author); MDAnalysis' H5MDReader (Debian python3-mdanalysis,
# 2.4.2: 3D only) opens a 3D file of `boltzmap sample` with the positions, box and frame count
# boltzmap wrote; the author comes from the input key, else $BOLTZMAP_AUTHOR.
# Usage: h5md_conformance.sh BOLTZMAP TMPDIR CHECKER
set -u
boltzmap=$1 tmp=$2 check=$3
source "$(dirname "$0")/common.sh"
[[ $boltzmap == /* ]] || boltzmap=$PWD/$boltzmap
[[ $check == /* ]] || check=$PWD/$check
rm -rf "$tmp" && mkdir -p "$tmp" && cd "$tmp" || exit 1
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} OMPI_MCA_pml=${OMPI_MCA_pml:-ob1}
# expect_check NAME FILE: the checker accepts FILE.
expect_check() {
  if "$py" "$check" "$2" > check.log 2>&1; then ok "$1"; else bad "$1" check.log; fi
}
# expect_violation NAME FILE NEEDLE: the checker rejects FILE (exit 1) and says NEEDLE.
expect_violation() {
  "$py" "$check" "$2" > violation.log 2>&1
  local rc=$?
  if [[ $rc -eq 1 ]] && grep -qF -- "$3" violation.log; then ok "$1"; else bad "$1 (exit $rc, expected '$3')" violation.log; fi
}

# ---- 2D: sample, train and map a tiny experiment; every file it writes conforms
{ echo 'author = "Input Author"'
  tiny_input name=conf walkers=40 eq=200 between=50 train=120 validation=40 evaluation=80 batch=40 pool_steps=5 \
    phases="$(tiny_phase 1 1.0 1e-3)"; } > in.toml
"$boltzmap" sample in.toml --no-progress > sample.log 2>&1 && ok "sample exits 0" || bad "sample exits 0" sample.log
for s in A B; do
  for set in train validation evaluation; do expect_check "sample's ${s}_$set.h5 conforms" "out/conf/data/${s}_$set.h5"; done
done
"$boltzmap" train in.toml --no-progress > train.log 2>&1 && "$boltzmap" map in.toml --no-progress > map.log 2>&1 \
  && ok "train and map exit 0" || bad "train and map exit 0" map.log
for d in A_to_B B_to_A; do expect_check "map's $d.h5 conforms" "out/conf/mapped/$d.h5"; done
"$py" - out/conf/data/A_train.h5 out/conf/data/A_evaluation.h5 out/conf/mapped/A_to_B.h5 > layout.log 2>&1 <<'PY' \
  && ok "layout: step = frame index, walker and mc_moves observables, author, one creator version, units" \
  || bad "layout" layout.log
import sys, h5py, numpy as np
train, evaluation, mapped = (h5py.File(p, "r") for p in sys.argv[1:4])
for f in (train, evaluation, mapped):
    n = f["particles/all/position/value"].shape[0]
    assert np.array_equal(f["particles/all/position/step"][:], np.arange(n)), f.filename
    assert f["h5md/author"].attrs["name"] == b"Input Author", f["h5md/author"].attrs["name"]
    assert f["h5md/creator"].attrs["name"] == b"boltzmap"
    assert f["h5md/modules/units"].attrs["system"] == b"LJ"
    assert f["particles/all/box/edges/value"].attrs["unit"] == b"sigma"
    assert f["observables/potential_energy/value"].attrs["unit"] == b"epsilon"
assert len({f["h5md/creator"].attrs["version"] for f in (train, evaluation, mapped)}) == 1, "creator/version differs"
# 40 walkers, 3 saves in train: each walker once per save, in save order; its move count per save.
w, m = train["observables/walker/value"][:], train["observables/mc_moves/value"][:]
assert np.array_equal(w, np.tile(np.arange(40), 3)), w
assert np.array_equal(m, np.repeat([250, 300, 350], 40)), m
# A mapped frame keeps its source frame's walker and move count.
assert np.array_equal(mapped["observables/walker/value"][:], evaluation["observables/walker/value"][:])
assert np.array_equal(mapped["observables/mc_moves/value"][:], evaluation["observables/mc_moves/value"][:])
assert mapped["observables/source_energy/value"].attrs["unit"] == b"epsilon"
assert "unit" not in mapped["observables/log_weight/value"].attrs
PY

# ---- the checker fails where it should
cp out/conf/data/A_train.h5 repeated.h5 && cp out/conf/data/A_train.h5 no_unit.h5 && cp out/conf/data/A_train.h5 no_author.h5
"$py" -c "import h5py, sys; f = h5py.File('repeated.h5', 'r+'); s = f['particles/all/position/step']; s[:] = s[:] // 40" &&
  expect_violation "checker: a repeated step" repeated.h5 "/particles/all/position/step: not strictly increasing"
"$py" -c "import h5py; f = h5py.File('no_unit.h5', 'r+'); del f['observables/potential_energy/value'].attrs['unit']" &&
  expect_violation "checker: a missing unit" no_unit.h5 "/observables/potential_energy/value: no unit attribute"
"$py" -c "import h5py; f = h5py.File('no_author.h5', 'r+'); del f['h5md/author'].attrs['name']" &&
  expect_violation "checker: no author name" no_author.h5 "/h5md/author: missing attribute name"
"$py" - <<'PY' && expect_violation "checker: superblock version 0" v0.h5 "superblock: version 0"
import h5py, numpy as np
with h5py.File("v0.h5", "w", libver="earliest") as f:
    f.create_group("h5md").attrs["version"] = np.array([1, 1])
    f["h5md"].create_group("author").attrs["name"] = np.bytes_("x")
    f["h5md"].create_group("creator").attrs.update({"name": np.bytes_("x"), "version": np.bytes_("1")})
PY
expect_violation "checker: not HDF5" in.toml "not an HDF5 file"

# ---- the author from the environment when the input names none
grep -v '^author = ' in.toml > env.toml
BOLTZMAP_AUTHOR="Env Author" "$boltzmap" sample env.toml --no-progress --system A -o env > env.log 2>&1
if "$py" -c "import h5py, sys; sys.exit(h5py.File('env/data/A_train.h5', 'r')['h5md/author'].attrs['name'] != b'Env Author')" \
  && grep -q '^author = "Env Author"$' env/input.toml; then
  ok "author from \$BOLTZMAP_AUTHOR (file and resolved input)"
else bad "author from \$BOLTZMAP_AUTHOR" env.log; fi

# ---- 3D: MDAnalysis reads positions, box and frames (bcc: N = 2n³ = 16; L = 2.99 at ρ = 0.6, so r_c < L/2)
sed -e 's/^n_particles = 18$/dimension = 3\nn_particles = 16\nlattice = "bcc"/' -e 's/^cutoff = 2.5$/cutoff = 1.4/' env.toml > in3d.toml
"$boltzmap" sample in3d.toml --no-progress --system A -o run3d > sample3d.log 2>&1 && ok "3D sample exits 0" || bad "3D sample exits 0" sample3d.log
expect_check "3D file conforms" run3d/data/A_train.h5
"$py" - run3d/data/A_train.h5 > mda.log 2>&1 <<'PY' && ok "MDAnalysis reads the 3D file: frames, positions, box" || bad "MDAnalysis reads the 3D file" mda.log
import sys, warnings
import h5py, numpy as np
warnings.simplefilter("ignore")
import MDAnalysis as mda
path = sys.argv[1]
with h5py.File(path, "r") as f:
    x = f["particles/all/position/value"][:]
    L = f["particles/all/box/edges/value"][0, 0, 0]
    dim = f["particles/all/box"].attrs["dimension"]
assert x.shape == (120, 16, 3) and dim == 3, (x.shape, dim)
# Reduced LJ lengths are no unit MDAnalysis converts (Å, nm, pm, fm): read as they are. (With
# convert_units=True, MDAnalysis 2.4.2 refuses any H5MD file without such units.)
u = mda.Universe.empty(16, trajectory=False)
u.load_new(path, format="H5MD", convert_units=False)
assert u.trajectory.n_frames == 120, u.trajectory.n_frames
for ts in u.trajectory:
    assert np.array_equal(ts.positions, x[ts.frame]), ts.frame  # float32 both: exact
    assert np.allclose(ts.dimensions, [L, L, L, 90, 90, 90], rtol=1e-6, atol=0), ts.dimensions
    assert ts.data["step"] == ts.frame
print("MDAnalysis", mda.__version__, ": frames", u.trajectory.n_frames, "box", u.trajectory.ts.dimensions)
PY
finish
