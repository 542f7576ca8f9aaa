// Configurations as other codes' formats see them (GSD, extended XYZ, LAMMPS), the common form
// the writers take and the readers return (io/gsd.hpp, io/xyz.hpp, io/lammps.hpp), and the
// conversions to and from boltzmap's own configuration files (io/h5md.hpp) on both sides:
//   export: H5MD file → Trajectory (every observable of the file as per-frame data) → a writer;
//   import: a reader → Trajectory → checked against a system of the input → Frames.
// Conventions (README "Export and import"): reduced LJ units; one particle type, named after the
// system ("A" or "B"); cubic (square) orthorhombic boxes only. Positions here are always three
// components relative to the box's lower corner, [0, L) for boltzmap's configurations; each writer
// shifts them to its format's origin (GSD: the box centred at 0). 2D systems have z = 0 and
// box[2] = 0; each writer states its z-length convention. Tests: tests/io/test_interchange.cpp,
// tests/app/export_import.sh.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "io/h5md.hpp"

namespace boltzmap {

struct Trajectory {
  int particles = 0;
  int dimension = 0;  // 2 or 3 as the file states it; 0 = the file does not say (a LAMMPS dump)
  std::string species = "A";                // the one particle type's name
  std::vector<std::array<double, 3>> box;   // [frame] edges Lx, Ly, Lz (Lz = 0 for 2D here)
  std::vector<float> positions;             // [frame][particle][3] float32, from the lower corner
  std::vector<std::int64_t> steps;          // [frame]
  // Per-frame numbers [name][frame] ("potential_energy", "log_weight", ...), in file order.
  std::vector<std::pair<std::string, std::vector<double>>> data;

  std::int64_t frames() const { return static_cast<std::int64_t>(steps.size()); }
  // The values of `name` (nullptr if absent).
  const std::vector<double>* find(const std::string& name) const;
};

// The file formats, and the one a file name's suffix implies (.gsd; .xyz, .extxyz; .data, .lmp;
// .dump, .lammpstrj): `what` names the option in the usage error when there is none.
enum class Format { gsd, xyz, lammps_data, lammps_dump };
Format format_named(const std::string& name);  // "gsd" | "xyz" | "lammps-data" | "lammps-dump"
Format format_of_path(const std::string& path, const std::string& what);
const char* format_name(Format f);

// Frames [first, first + count) (count < 0: to the end) of a boltzmap H5MD file as a Trajectory: its positions (z = 0 in
// 2D), box, steps, the potential energy and every other observable of the file.
Trajectory trajectory_of_h5md(const std::string& path, std::int64_t first, std::int64_t count);

// Writes frames of t to `path` in format f (LAMMPS data: exactly one frame). Atomic: written to
// <path>.partial with every call checked, renamed when complete (io/files.hpp).
void write_trajectory(const std::string& path, Format f, const Trajectory& t, const std::string& title);
Trajectory read_trajectory(const std::string& path, Format f);

}  // namespace boltzmap
