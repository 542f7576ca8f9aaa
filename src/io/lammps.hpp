// LAMMPS files, written and read natively.
// Data file (write_lammps_data, one frame; `read_data` in LAMMPS with `atom_style atomic`):
//   a title line (the source, frame, step and energies), "N atoms", "1 atom types",
//   "0 L xlo xhi" (and y, z), "Masses" (1 1.0), "Atoms # atomic" with "id type x y z" rows, id
//   from 1 in boltzmap's particle order, coordinates in [0, L). 2D (`dimension 2` in LAMMPS): z = 0
//   and "-0.5 0.5 zlo zhi", LAMMPS's own convention for a 2D box. Per-frame numbers other than the
//   box and positions (energies, log-weights) have no place in a data file: the title names them.
// Dump file (read_lammps_dump; write_lammps_dump writes the same for tests and users):
//   "ITEM: TIMESTEP", "ITEM: NUMBER OF ATOMS", "ITEM: BOX BOUNDS pp pp pp" (three "lo hi" lines;
//   a tilted box, "xy xz yz", is rejected), "ITEM: ATOMS id type x y z" with the coordinates as
//   x y z, wrapped or unwrapped xu yu zu, or scaled xs ys zs / xsu ysu zsu; rows are sorted by id.
//   A dump does not say its dimension (Trajectory::dimension = 0); in 2D the z column may be absent.
// Coordinates come back relative to (xlo, ylo, zlo). Tests: tests/io/test_interchange.cpp,
// tests/app/export_import.sh (the data file read back in Python, a dump written there imported).
#pragma once
#include <string>

#include "io/trajectory.hpp"

namespace boltzmap {

// Frame `frame` of t.
void write_lammps_data(const std::string& path, const Trajectory& t, std::int64_t frame, const std::string& title);
Trajectory read_lammps_data(const std::string& path);

void write_lammps_dump(const std::string& path, const Trajectory& t);
Trajectory read_lammps_dump(const std::string& path);

}  // namespace boltzmap
