// Configurations in HDF5 with the H5MD 1.1 layout (https://www.nongnu.org/h5md/h5md.html), readable
// by h5py, MDAnalysis (3D files) and OVITO; tools/h5md-check checks a file against the specification:
//   /h5md                                  version = [1, 1]; author/name (input key `author`, else the
//                                          environment); creator/name = "boltzmap", creator/version =
//                                          the project version (build::version), the same in every file
//   /h5md/modules/units                    version = [1, 0], system = "LJ" (reduced Lennard-Jones units)
//   /particles/all/box                     dimension = D, boundary = "periodic" ×D
//   /particles/all/box/edges/value         [frame][D][D] float64 = L·I, unit "sigma"; edges/{step,time}
//                                          are hard links to position's (a time-dependent box: the
//                                          form MDAnalysis 2.4.2 reads; the matrix form gives it the box)
//   /particles/all/position/value          [frame][particle][D] float32, coordinates in [0, L); no unit
//                                          attribute: MDAnalysis refuses any length unit it does not
//                                          know (σ is none of Å, nm, pm, fm), even with convert_units=False
//   /particles/all/position/step           [frame] int64 = the frame index 0, 1, 2, … (strictly increasing)
//   /particles/all/position/time           [frame] float64 = step, no unit: not a physical time (H5MD 1.1
//                                          lets MC data leave time out; MDAnalysis 2.4.2 needs it)
//   /observables/potential_energy/value    [frame] float64, total U of the configuration, unit "epsilon"
//   /observables/walker/value              [frame] int32, the walker that produced the frame (-1: unknown)
//   /observables/mc_moves/value            [frame] int64, that walker's trial moves when it was saved
//   /observables/<name>/value              [frame] float64, FrameMeta::observables (unit if declared)
//   every /observables/<name>/step         a hard link to /particles/all/position/step
//   root attributes: boltzmap_input (the resolved TOML), boltzmap_system ("A"/"B"),
//                    boltzmap_set ("train"…), boltzmap_version
// The file has superblock version 2 (HDF5 file format 1.8, which H5MD recommends; create_file_access).
// Written collectively with MPI-IO (each rank its hyperslab of frames) to <path>.partial and
// renamed when closed; a write, flush or close that fails on any rank (a full disk) is an io_error
// naming the file on every rank, and the .partial is never renamed. Tests: tests/io/test_h5md.cpp,
// tests/mpi/ (np 1 vs np 2 files equal), tests/app/full_disk.sh, tests/app/h5md_conformance.sh
// (tools/h5md-check on sample and map files, MDAnalysis on a 3D file).
#pragma once
#include <hdf5.h>

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "parallel/comm.hpp"

namespace boltzmap {

struct FrameMeta {
  std::int64_t frames = 0;
  int particles = 0;
  int dimension = 0;
  double box_length = 0.0;
  std::map<std::string, std::string> attributes;  // root string attributes
  std::string author;  // /h5md/author/name (Experiment::author); empty: author_from_environment()
  // Extra per-frame float64 observables, written as /observables/<name>/{value,step}
  // (mapped configurations: source energy, log-Jacobian, log-weight, ...).
  std::vector<std::string> observables;
  std::map<std::string, std::string> observable_units;  // unit attribute of an extra observable (absent: none)
};

inline constexpr const char* kLengthUnit = "sigma";    // reduced LJ length (the input's unit of length)
inline constexpr const char* kEnergyUnit = "epsilon";  // reduced LJ energy (the input's unit of energy)

class H5mdWriter {
 public:
  // Collective over comm: creates <path>.partial with datasets sized for meta.frames.
  H5mdWriter(const std::string& path, const FrameMeta& meta, const Comm& comm);
  ~H5mdWriter();  // closes without renaming if close() was not called (the .partial stays)
  H5mdWriter(const H5mdWriter&) = delete;
  H5mdWriter& operator=(const H5mdWriter&) = delete;

  // Collective: every rank calls it, with count = 0 if it has nothing. Frames
  // [first, first + count) get positions [count][N][D], energies, walker ids and the walkers' trial
  // move counts; their step is their index (written here, with the box).
  void write(std::int64_t first, std::int64_t count, std::span<const float> positions, std::span<const double> energies,
             std::span<const std::int32_t> walkers, std::span<const std::int64_t> mc_moves);

  // Collective: rows [first, first + count) of the extra observable `name` (one of meta.observables).
  void write_observable(const std::string& name, std::int64_t first, std::int64_t count, std::span<const double> values);
  // Collective: flushes and closes the file; if that succeeded on every rank, rank 0 renames it
  // into place, else every rank throws io_error and rank 0 removes the .partial.
  void close();

 private:
  void create_layout();
  void reserve_space();
  // Closes the datasets and the file (the flush is collective); returns why it failed ("" if not).
  std::string release();
  std::string path_;
  FrameMeta meta_;
  const Comm& comm_;
  hid_t file_ = -1, pos_ = -1, step_ = -1, time_ = -1, edges_ = -1, energy_ = -1, walker_ = -1, mc_moves_ = -1;
  std::map<std::string, hid_t> extra_;  // the value dataset of each extra observable
  bool failed_ = false;  // a write failed on this rank: the .partial is garbage
};

struct Frames {
  FrameMeta meta;
  std::vector<float> positions;     // [frame][particle][dim]
  std::vector<double> energies;     // [frame]
  std::vector<std::int32_t> walkers;   // [frame] (empty if the file has none)
  std::vector<std::int64_t> mc_moves;  // [frame] (empty if the file has none)
};

// Serial read of a whole H5MD configuration file (as written above, or any H5MD file with
// particles/all/position and, optionally, observables/potential_energy; a box given by a fixed
// edges dataset, as boltzmap wrote before, or by edges/value).
Frames read_h5md(const std::string& path);

// Rows of an H5MD configuration file read by hyperslab: each rank opens the file read-only and
// reads only the frames it asks for (its slice, in chunks), so memory is bounded by the chunk and
// not by the file. Independent reads need no collective call: ranks may read different numbers of
// chunks. Checks the shape once; a failed read is an io_error naming the file, dataset and rows.
// Tests: tests/io/test_h5md.cpp (rows = the whole-file read's rows, for every split).
class H5mdRows {
 public:
  explicit H5mdRows(const std::string& path);
  ~H5mdRows();
  H5mdRows(const H5mdRows&) = delete;
  H5mdRows& operator=(const H5mdRows&) = delete;
  std::int64_t frames() const { return frames_; }
  int particles() const { return particles_; }
  int dimension() const { return dimension_; }
  const std::string& path() const { return path_; }
  // frames, particles, dimension, box_length and the root attributes (not author or observables).
  const FrameMeta& meta() const { return meta_; }
  bool has_observable(const std::string& name) const;
  // Frames [first, first + count): positions [count][N][D] and /observables/<name>/value as float64.
  void positions(std::int64_t first, std::int64_t count, std::vector<float>& out) const;
  void observable(const std::string& name, std::int64_t first, std::int64_t count, std::vector<double>& out) const;

 private:
  void read(const std::string& dataset, hid_t memtype, std::int64_t first, std::int64_t count, std::size_t row,
            void* out) const;
  std::string path_;
  hid_t file_ = -1;
  std::int64_t frames_ = 0;
  int particles_ = 0, dimension_ = 0;
  FrameMeta meta_;
};

// /observables/<name>/value of an H5MD file as float64 (throws io_error if absent).
std::vector<double> read_observable(const std::string& path, const std::string& name);

// The names under /observables of an H5MD file that have a value dataset, in name order
// (potential_energy, walker and, for mapped files, log_weight, ...): what `boltzmap export` writes.
std::vector<std::string> list_observables(const std::string& path);

// A string attribute of the root group ("" if absent), without reading the datasets.
std::string read_root_attribute(const std::string& path, const std::string& name);

// A human-readable description of any HDF5 file: groups, datasets (type, shape), attributes,
// and for H5MD configuration files a summary of frames, box and energies (boltzmap info).
std::string describe_h5(const std::string& path);

}  // namespace boltzmap
