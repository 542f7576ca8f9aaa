// Extended XYZ (the ASE / OVITO / QUIP convention), written and read natively. One block per frame:
//   N
//   Lattice="Lx 0 0 0 Ly 0 0 0 Lz" Properties=species:S:1:pos:R:3 energy=U <name>=v ... step=S system=A pbc="T T T"
//   X x y z            (N lines)
// The species is X, ASE's dummy element (a LJ particle is no element; ASE refuses names it does not
// know, OVITO takes any), and the system label is the key `system` (ASE: atoms.info['system']).
// Coordinates in [0, L) (the lattice's origin at 0, as ASE and OVITO place it). `energy` is the
// potential energy (ASE reads it as the calculator's energy); every other per-frame datum is a
// key=value of the comment line (ASE: atoms.info[name]), printed to round-trip a double (%.17g;
// "-inf" for a zero weight). 2D: z = 0, pbc="T T F" and Lz = 1 (a unit slab, so the cell stays
// invertible for OVITO and ASE; the reader ignores Lz in 2D). The reader takes any Properties
// list holding species:S:1 and pos:R:3 (other columns skipped), OVITO's Origin="x y z" key,
// and says the file's dimension from pbc (2 for "T T F", 3 for "T T T", else unknown); a
// non-diagonal Lattice is rejected. Tests: tests/io/test_interchange.cpp,
// tests/app/export_import.sh (read back with ase.io.read(..., format='extxyz')).
#pragma once
#include <string>

#include "io/trajectory.hpp"

namespace boltzmap {

std::string xyz_text(const Trajectory& t);
void write_xyz(const std::string& path, const Trajectory& t);
Trajectory read_xyz(const std::string& path);

}  // namespace boltzmap
