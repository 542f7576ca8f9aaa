// Configurations in HDF5 with the H5MD 1.1 layout, readable by h5py, MDAnalysis and OVITO:
//   /h5md                                  version = [1, 1]; author/, creator/ (name, version)
//   /particles/all/box                     dimension, boundary = "periodic"…; edges [dim] float64
//   /particles/all/position/value          [frame][particle][dim] float32, coordinates in [0, L)
//   /particles/all/position/{step,time}    [frame] int64 (trial moves per walker) / float64 (= step)
//   /observables/potential_energy/value    [frame] float64, total U of the configuration
//   /observables/walker/value              [frame] int32, the walker that produced the frame
//   root attributes: boltzmap_input (the resolved TOML), boltzmap_system ("A"/"B"),
//                    boltzmap_set ("train"…), boltzmap_version
// Written collectively with MPI-IO (each rank its hyperslab of frames) to <path>.partial and
// renamed when closed; a write, flush or close that fails on any rank (a full disk) is an io_error
// naming the file on every rank, and the .partial is never renamed. Tests: tests/io/test_h5md.cpp,
// tests/mpi/ (np 1 vs np 2 files equal), tests/app/full_disk.sh.
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
  // Extra per-frame float64 observables, written as /observables/<name>/{value,step,time}
  // (mapped configurations: source energy, log-Jacobian, log-weight, ...).
  std::vector<std::string> observables;
};

class H5mdWriter {
 public:
  // Collective over comm: creates <path>.partial with datasets sized for meta.frames.
  H5mdWriter(const std::string& path, const FrameMeta& meta, const Comm& comm);
  ~H5mdWriter();  // closes without renaming if close() was not called (the .partial stays)
  H5mdWriter(const H5mdWriter&) = delete;
  H5mdWriter& operator=(const H5mdWriter&) = delete;

  // Collective: every rank calls it, with count = 0 if it has nothing. Frames
  // [first, first + count) get positions [count][N][D], energies, steps and walker ids.
  void write(std::int64_t first, std::int64_t count, std::span<const float> positions, std::span<const double> energies,
             std::span<const std::int64_t> steps, std::span<const std::int32_t> walkers);

  // Collective: rows [first, first + count) of the extra observable `name` (one of meta.observables);
  // call after write() of the same frames (which writes their steps).
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
  hid_t file_ = -1, pos_ = -1, energy_ = -1, step_ = -1, time_ = -1, walker_ = -1, energy_step_ = -1, energy_time_ = -1,
        walker_step_ = -1, walker_time_ = -1;
  std::map<std::string, std::array<hid_t, 3>> extra_;  // value, step, time of each extra observable
  bool failed_ = false;  // a write failed on this rank: the .partial is garbage
};

struct Frames {
  FrameMeta meta;
  std::vector<float> positions;     // [frame][particle][dim]
  std::vector<double> energies;     // [frame]
  std::vector<std::int64_t> steps;  // [frame]
  std::vector<std::int32_t> walkers;  // [frame] (empty if the file has none)
};

// Serial read of a whole H5MD configuration file (as written above, or any H5MD file with
// particles/all/position and, optionally, observables/potential_energy).
Frames read_h5md(const std::string& path);

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
