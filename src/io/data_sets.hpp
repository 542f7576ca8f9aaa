// The run folder's data sets (data/<X>_<set>.h5, written by `boltzmap sample`) as the later
// stages read them, and the provenance checks every stage applies to the files it reads: a file
// must have been made from the same physics as the input that reads it — the system's potential
// and state point, the box (dimension, N, edges), the system label and the set name — and its
// coordinates must be finite. A mismatch names the key and both values and says what to re-run.
// Tests: tests/io/test_data_sets.cpp, tests/app/provenance.sh.
#pragma once
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "io/h5md.hpp"

namespace boltzmap {

// <run>/data/<label>_<set>.h5 (RunFolder::data_set, io/run_folder.hpp)
std::string data_set_path(const std::string& run, char label, const std::string& set);

// The dotted keys of the resolved input that system `label`'s configurations depend on.
std::vector<std::string> physics_keys(const Experiment& e, char label);

// Throws io_error when `stored_input` (a file's @boltzmap_input) differs from e's resolved input
// in a physics key of any of `systems`; `path` and `what` ("sampled", "trained") word the message.
void check_same_physics(const std::string& path, const std::string& stored_input, const Experiment& e,
                        const std::string& systems, const std::string& what);

// Checks a configuration file read from `path` against system `label`'s set `set` of e: the
// physics (above), @boltzmap_system, @boltzmap_set, N, dimension and the box edges; then that
// every coordinate is finite (else io_error naming the frame and particle). Coordinates outside
// [0, L) are wrapped into the box (periodic images: energies unchanged), with a warning when any
// lay more than round-off outside.
void check_data_set(const std::string& path, Frames& f, const Experiment& e, char label, const std::string& set);
// The two halves of check_data_set: the file's metadata, and coordinates of frames
// [first_frame, first_frame + positions.size() / (N·D)) of a file of `frames` frames.
void check_data_set_meta(const std::string& path, const FrameMeta& meta, const Experiment& e, char label,
                         const std::string& set);
void check_coordinates(const std::string& path, std::span<float> positions, std::int64_t first_frame,
                       std::int64_t frames, int N, int D, double L);

// Reads and checks data/<label>_<set>.h5 of e's run folder; throws io_error naming the command
// to run when it is missing.
Frames read_data_set(const Experiment& e, char label, const std::string& set);

// data/<label>_<set>.h5 read by rows (each rank its slice, a chunk at a time): the metadata is
// checked when it is opened (as read_data_set), the coordinates of every chunk as it is read.
class DataSetReader {
 public:
  DataSetReader(const Experiment& e, char label, const std::string& set);
  const std::string& path() const { return path_; }
  std::int64_t frames() const { return rows_->frames(); }
  const H5mdRows& rows() const { return *rows_; }
  void positions(std::int64_t first, std::int64_t count, std::vector<float>& out) const;

 private:
  std::string path_;
  std::unique_ptr<H5mdRows> rows_;
  int n_ = 0, d_ = 0;
  double L_ = 0;
};

}  // namespace boltzmap
