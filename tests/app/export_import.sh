#!/usr/bin/env bash
# cli_export_import: `boltzmap export` writes a sampled set and a mapped set as GSD, extended XYZ,
# a LAMMPS data file and a LAMMPS dump that the other codes' own readers — gsd.hoomd, ase.io
# (extxyz), MDAnalysis (LAMMPS DATAParser) and a plain parser — read back with the positions, box,
# N, step, energies and every observable of the H5MD file (log-weights of the mapped set) equal to
# what h5py reads there; `boltzmap import` takes the GSD, XYZ and dump files (and a dump written
# here by hand, scaled and unsorted, as LAMMPS writes them, and GSD / XYZ files written by
# gsd.hoomd's and ASE's own writers) into a fresh run folder, with energies
# recomputed equal to the sampled ones, files `boltzmap info` names the origin of, and that
# `boltzmap preprocess` accepts; a wrong N, box or dimension, an overlap, an unknown suffix and a
# frame out of range are refused with their exit codes and messages naming the file and what was
# expected. Usage: export_import.sh BOLTZMAP TMPDIR
set -u
boltzmap=$1 tmp=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
[[ -x $boltzmap ]] || { echo "cli_export_import: $boltzmap is not an executable"; exit 1; }
[[ $boltzmap == /* ]] || boltzmap=$PWD/$boltzmap
if ! { rm -rf "$tmp" && mkdir -p "$tmp" && cd "$tmp"; }; then echo "cannot use $tmp"; exit 1; fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} OMPI_MCA_pml=${OMPI_MCA_pml:-ob1}

# expect_fail NAME CODE NEEDLE COMMAND...: exits with CODE and says NEEDLE (a fixed string).
expect_fail() {
  local name=$1 code=$2 needle=$3 rc
  shift 3
  "$@" > fail.log 2>&1
  rc=$?
  if [[ $rc -eq $code ]] && grep -qF -- "$needle" fail.log; then ok "$name"; else bad "$name (exit $rc, want $code and '$needle')" fail.log; fi
}
run() { local name=$1; shift; if "$@" > "$name.log" 2>&1; then ok "$name"; else bad "$name" "$name.log"; fi; }

# N = 18 in 2D at ρ = 0.6 (tiny_input); a flow trained for 2 epochs is enough to make a mapped set.
tiny_input train=60 validation=20 evaluation=40 walkers=20 > in.toml
run sample "$boltzmap" sample in.toml -o run --no-progress
run train "$boltzmap" train in.toml -o run --no-progress
run map "$boltzmap" map in.toml -o run --no-progress
mkdir -p ex
run export_gsd "$boltzmap" export run/data/A_train.h5 -o ex/A_train.gsd
run export_xyz "$boltzmap" export run/data/A_train.h5 -o ex/A_train.xyz
run export_data "$boltzmap" export run/data/A_train.h5 -o ex/A_train.data --frame 3
run export_dump "$boltzmap" export run/data/A_train.h5 -o ex/A_train.dump
run export_frames "$boltzmap" export run/data/B_train.h5 -o ex/B_part.extxyz --frames 10:5
run export_mapped_gsd "$boltzmap" export run/mapped/A_to_B.h5 -o ex/A_to_B.gsd
run export_mapped_xyz "$boltzmap" export run/mapped/A_to_B.h5 --format xyz -o ex/A_to_B.txt
for s in train validation; do run "export_B_$s" "$boltzmap" export run/data/B_$s.h5 -o ex/B_$s.gsd; done
if ls ex/*.partial > /dev/null 2>&1; then bad "no .partial left"; else ok "no .partial left"; fi

# Read back with the other codes' readers; compare with h5py's view of the H5MD files.
cat > check_exports.py <<'PY'
import sys, warnings
warnings.filterwarnings("ignore")
import h5py, numpy as np
import gsd.hoomd, ase.io
eps = np.finfo(np.float32).eps
failures = []
def check(name, cond):
    print(("PASS " if cond else "FAIL ") + name)
    if not cond: failures.append(name)

def h5(path):
    f = h5py.File(path, "r")
    obs = {k: f["observables"][k]["value"][:].astype(float) for k in f["observables"]}
    return (f["particles/all/position/value"][:], f["particles/all/position/step"][:], f["particles/all/box/edges/value"][0, 0, 0], obs)

for src, out in [("run/data/A_train.h5", "ex/A_train.gsd"), ("run/mapped/A_to_B.h5", "ex/A_to_B.gsd")]:
    x, step, L, obs = h5(src)
    t = gsd.hoomd.open(out, "rb")
    check(f"{out}: {len(x)} frames", len(t) == len(x))
    fr = [t[k] for k in range(len(t))]
    check(f"{out}: N, types, dimensions 2, box [L, L, 0, 0, 0, 0]",
          all(f.particles.N == x.shape[1] and list(f.particles.types) == [t[0].particles.types[0]]
              and f.configuration.dimensions == 2 and np.array_equal(f.configuration.box, np.float32([L, L, 0, 0, 0, 0])) for f in fr))
    p = np.stack([f.particles.position for f in fr])
    check(f"{out}: positions in [-L/2, L/2), z = 0", (p[..., :2] >= -L / 2).all() and (p[..., :2] < L / 2).all() and (p[..., 2] == 0).all())
    # back to [0, L): within the two float32 roundings of the shift by L/2 (modulo L at the edges)
    d = (p[..., :2].astype(float) + L / 2) - x
    d -= L * np.round(d / L)
    check(f"{out}: positions + L/2 = the H5MD positions (max {np.abs(d).max():.2g} <= 2 eps L)", np.abs(d).max() <= 2 * eps * L)
    check(f"{out}: configuration/step = position/step", np.array_equal([f.configuration.step for f in fr], step))
    for k, v in obs.items():
        got = np.array([f.log["boltzmap/" + k][0] for f in fr])
        check(f"{out}: log boltzmap/{k} = /observables/{k}", np.array_equal(got, v))
    if "mapped" in src:
        check(f"{out}: a mapped set's log-weights are there", "log_weight" in obs and "source_energy" in obs)

for src, out, first in [("run/data/A_train.h5", "ex/A_train.xyz", 0), ("run/mapped/A_to_B.h5", "ex/A_to_B.txt", 0),
                        ("run/data/B_train.h5", "ex/B_part.extxyz", 10)]:
    x, step, L, obs = h5(src)
    a = ase.io.read(out, index=":", format="extxyz")
    n = len(a)
    sl = slice(first, first + n)
    check(f"{out}: {n} frames", n == (len(x) if first == 0 else 5))
    check(f"{out}: cell diag(L, L, 1), pbc T T F, N",
          all(np.allclose(b.cell[:], np.diag([L, L, 1.0]), rtol=0, atol=1e-15) and list(b.pbc) == [True, True, False]
              and len(b) == x.shape[1] for b in a))
    pos = np.stack([b.positions for b in a])
    check(f"{out}: positions = the H5MD positions (float32-exact), z = 0",
          np.array_equal(pos[..., :2].astype(np.float32), x[sl]) and (pos[..., 2] == 0).all())
    check(f"{out}: ASE energy = potential_energy", np.array_equal([b.get_potential_energy() for b in a], obs["potential_energy"][sl]))
    for k, v in obs.items():
        if k == "potential_energy": continue
        check(f"{out}: info[{k}] = /observables/{k}", np.array_equal([float(b.info[k]) for b in a], v[sl]))
    check(f"{out}: info[step]", np.array_equal([b.info["step"] for b in a], step[sl]))

# The LAMMPS data file: a plain parser, and MDAnalysis'.
x, step, L, obs = h5("run/data/A_train.h5")
lines = open("ex/A_train.data").read().splitlines()
nat = int([l for l in lines if l.endswith(" atoms")][0].split()[0])
bounds = {l.split()[2]: (float(l.split()[0]), float(l.split()[1])) for l in lines if l.endswith("hi")}
i = lines.index("Atoms # atomic")
rows = np.array([[float(v) for v in l.split()] for l in lines[i + 2:i + 2 + nat]])
check("A_train.data: N, 1 atom type, bounds 0 L, 0 L, -0.5 0.5",
      nat == x.shape[1] and "1 atom types" in lines and bounds == {"xlo": (0, L), "ylo": (0, L), "zlo": (-0.5, 0.5)})
check("A_train.data: frame 3's positions, ids 1..N, type 1",
      np.array_equal(rows[:, 2:4].astype(np.float32), x[3]) and (rows[:, 4] == 0).all()
      and np.array_equal(rows[:, 0], np.arange(1, nat + 1)) and (rows[:, 1] == 1).all())
check("A_train.data: the title names frame 3's energy", f"potential_energy = {obs['potential_energy'][3]:.17g}" in lines[0])
import MDAnalysis as mda
u = mda.Universe("ex/A_train.data", atom_style="id type x y z")
check("MDAnalysis reads A_train.data: N, box, positions",
      u.atoms.n_atoms == nat and np.allclose(u.dimensions[:3], [L, L, 1.0], rtol=1e-6)
      and np.allclose(u.atoms.positions[:, :2], x[3], atol=1e-5))
sys.exit(1 if failures else 0)
PY
if "$py" check_exports.py > check_exports.log 2>&1; then ok "exports read back by gsd.hoomd, ase, MDAnalysis"; else bad "exports read back" check_exports.log; fi
grep '^FAIL' check_exports.log || true

# A dump as LAMMPS writes one (`dump_modify sort` off, scaled coordinates, box from −L/2), from frame
# 0..399 of A's validation set.
"$py" - > mkdump.log 2>&1 <<'PY' || bad "write a LAMMPS dump by hand" mkdump.log
import h5py, numpy as np
f = h5py.File("run/data/A_validation.h5", "r")
x, L = f["particles/all/position/value"][:], f["particles/all/box/edges/value"][0, 0, 0]
with open("ex/A_validation.lammpstrj", "w") as o:
    for k, p in enumerate(x):
        o.write(f"ITEM: TIMESTEP\n{1000 * k}\nITEM: NUMBER OF ATOMS\n{len(p)}\nITEM: BOX BOUNDS pp pp pp\n")
        o.write(f"{-L / 2:.17g} {L / 2:.17g}\n{-L / 2:.17g} {L / 2:.17g}\n-0.5 0.5\nITEM: ATOMS id type xs ys zs\n")
        for i in reversed(range(len(p))):
            o.write(f"{i + 1} 1 {p[i, 0] / L!r} {p[i, 1] / L!r} 0.5\n")
PY

# Files the other codes wrote themselves (gsd.hoomd's writer, ASE's extxyz writer) from A's training set.
"$py" - > mkforeign.log 2>&1 <<'PY' || bad "write GSD and XYZ with gsd.hoomd and ASE" mkforeign.log
import warnings; warnings.filterwarnings("ignore")
import h5py, numpy as np, gsd.hoomd, ase, ase.io
f = h5py.File("run/data/A_train.h5", "r")
x, L = f["particles/all/position/value"][:], f["particles/all/box/edges/value"][0, 0, 0]
with gsd.hoomd.open("ex/foreign.gsd", "wb") as t:
    for k, p in enumerate(x):
        s = gsd.hoomd.Snapshot()
        s.configuration.step, s.configuration.box, s.configuration.dimensions = k, [L, L, 0, 0, 0, 0], 2
        s.particles.N, s.particles.types = len(p), ["A"]
        s.particles.typeid = np.zeros(len(p), dtype=np.uint32)
        s.particles.position = np.c_[p - L / 2, np.zeros(len(p))].astype(np.float32)
        t.append(s)
frames = [ase.Atoms("Ar" * len(p), positions=np.c_[p, np.zeros(len(p))], cell=[L, L, 1.0], pbc=[True, True, False]) for p in x]
ase.io.write("ex/foreign.xyz", frames, format="extxyz")
PY
run import_foreign_gsd "$boltzmap" import in.toml ex/foreign.gsd --system A --set-name train -o run4
run import_foreign_xyz "$boltzmap" import in.toml ex/foreign.xyz --system A --set-name validation -o run4

# Import into a fresh run folder: every set of both systems, from four formats.
run import_gsd "$boltzmap" import in.toml ex/A_train.gsd --system A --set-name train -o run2
run import_dump "$boltzmap" import in.toml ex/A_validation.lammpstrj --system A --set-name validation -o run2
run import_xyz "$boltzmap" import in.toml ex/A_train.xyz --system A --set-name evaluation -o run2
run import_B_train "$boltzmap" import in.toml ex/B_train.gsd --system B --set-name train -o run2
run import_B_validation "$boltzmap" import in.toml ex/B_validation.gsd --system B --set-name validation --format gsd -o run2
run import_own_dump "$boltzmap" import in.toml ex/A_train.dump --system B --set-name evaluation -o run3
cat > check_imports.py <<'PY'
import sys, h5py, numpy as np
def rd(p):
    f = h5py.File(p, "r")
    a = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in f.attrs.items()}
    return f["particles/all/position/value"][:], f["observables/potential_energy/value"][:], a
bad = 0
# (imported, sampled, exact?): GSD coordinates went through a float32 shift by L/2 and back, so
# they differ by up to 2 eps_32 L ~ 1e-6; |dU/dx| is O(10-100) over 36 coordinates: |dU| < 1e-3.
# XYZ and the dumps hold the float32 coordinates exactly: the same energies up to round-off.
for imp, ref, atol in [("run2/data/A_train.h5", "run/data/A_train.h5", 1e-3),
                       ("run2/data/A_validation.h5", "run/data/A_validation.h5", 1e-9),
                       ("run2/data/A_evaluation.h5", "run/data/A_train.h5", 1e-9),
                       ("run2/data/B_train.h5", "run/data/B_train.h5", 1e-3),
                       # written by gsd.hoomd (the same float32 shift) and ASE (%16.8f: 1e-8 rounding)
                       ("run4/data/A_train.h5", "run/data/A_train.h5", 1e-3),
                       ("run4/data/A_validation.h5", "run/data/A_train.h5", 1e-3)]:
    x, u, a = rd(imp)
    x0, u0, a0 = rd(ref)
    L = h5py.File(imp, "r")["particles/all/box/edges/value"][0, 0, 0]
    d = np.abs(u - u0).max()
    ok = x.shape == x0.shape and d <= atol + 1e-12 * np.abs(u0).max() and (x >= 0).all() and (x < L).all()
    # the resolved input of the run folder it went into: the sampled one's but for output_dir
    strip = lambda t: [l for l in t.splitlines() if not l.startswith("output_dir")]
    ok = ok and strip(a["boltzmap_input"]) == strip(rd(ref)[2]["boltzmap_input"])
    ok = ok and open(imp.split("/")[0] + "/input.toml").read() == a["boltzmap_input"]
    ok = ok and "imported by `boltzmap import`" in a["boltzmap_origin"]
    print(("PASS " if ok else "FAIL ") + f"{imp}: energies = {ref}'s (max |dU| {d:.2g} <= {atol}), in [0, L), provenance")
    bad += not ok
sys.exit(bad)
PY
if "$py" check_imports.py > check_imports.log 2>&1; then ok "imported energies = sampled energies"; else bad "imported energies" check_imports.log; fi
cat check_imports.log
"$boltzmap" info run2/data/A_validation.h5 > info.log 2>&1
if grep -qF 'boltzmap_origin = "imported by `boltzmap import` from' info.log && grep -qF "boltzmap_set: validation" info.log; then
  ok "info names the origin"; else bad "info names the origin" info.log; fi
run preprocess_accepts_imports "$boltzmap" preprocess in.toml -o run2

# Refusals: a file that does not fit the input (exit 4), a bad command line (exit 2).
tiny_input > in8.toml && sed -i 's/^n_particles = 18/n_particles = 8/' in8.toml
expect_fail wrong_N 4 "ex/A_train.gsd: frame 0 has 18 particles; system A of in8.toml (N = 8" \
  "$boltzmap" import in8.toml ex/A_train.gsd --system A --set-name train -o bad1 --set systems.A.cutoff=1.8 \
  --set systems.B.cutoff=1.8
expect_fail wrong_box 4 "ex/A_train.xyz: frame 0: box Lx = 5.477225575; system A of in.toml" \
  "$boltzmap" import in.toml ex/A_train.xyz --system A --set-name train -o bad2 --set systems.A.density=0.65
expect_fail wrong_dimension 4 "ex/A_train.gsd: a 2D file" \
  "$boltzmap" import in.toml ex/A_train.gsd --system A --set-name train -o bad3 --set box.dimension=3 \
  --set box.n_particles=16 --set systems.A.cutoff=1.4 --set systems.B.cutoff=1.4
"$py" -c "
s = open('ex/A_train.xyz').read().split('\n')
a = s[2].split(); s[3] = ' '.join(a[:1] + [str(float(a[1]) + 0.01)] + a[2:])
open('ex/overlap.xyz', 'w').write('\n'.join(s))"
expect_fail overlap 4 "ex/overlap.xyz: frame 0: two particles 0.01 apart" \
  "$boltzmap" import in.toml ex/overlap.xyz --system A --set-name train -o bad4
expect_fail unknown_suffix 2 "cannot tell the format from the suffix '.foo'" \
  "$boltzmap" export run/data/A_train.h5 -o ex/A.foo
expect_fail frame_out_of_range 2 "frames 60..60 asked for, the file has 60" \
  "$boltzmap" export run/data/A_train.h5 -o ex/A60.data --frame 60
expect_fail data_one_frame 2 "a LAMMPS data file holds one frame" \
  "$boltzmap" export run/data/A_train.h5 -o ex/A2.data --frames 0:2
expect_fail no_system 2 "--system is required" \
  "$boltzmap" import in.toml ex/A_train.gsd --set-name train -o bad5
if [[ ! -e bad1/data/A_train.h5 && ! -e bad2/data/A_train.h5 && ! -e bad4/data/A_train.h5 ]]; then ok "a refused import writes no data set"; else bad "a refused import writes no data set"; fi
finish
