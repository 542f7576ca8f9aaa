// The state of an interrupted `boltzmap sample`, one folder per system (RunFolder::sample_state):
//   checkpoint.h5        the walkers and counters at a chunk boundary (written atomically, serial
//                        HDF5 on rank 0 after a gather): root @boltzmap_input, @boltzmap_system,
//                        @boltzmap_version; /sample @moves (trial moves per walker: the RNG counter),
//                        @step_size (float32, exact), @equilibration_accepted, @production_accepted
//                        (sums over all walkers), @max_energy_drift, @seconds, @saves_done, @walkers;
//                        /sample/positions [walker][particle][dim] float32, /sample/energies [walker]
//                        float64 (tracked U, exact), /sample/pressure_sums [walker] float64 (Σ P_ex so far)
//   saves_<first>.h5     the saves [first, first + @saves) of all walkers: /positions
//                        [save][walker][particle][dim] float32, /energies [save][walker] float64;
//                        written atomically with each checkpoint, from first = 0 on, each file
//                        starting where the previous one ends (a chain up to @saves_done)
// The state is global (every walker, in walker order), so a resume may use another number of
// ranks; each rank reads its own block of walkers. Tests: tests/app/sample_resume.sh.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "parallel/comm.hpp"

namespace boltzmap {

struct SampleCheckpoint {
  std::uint64_t moves = 0;  // trial moves per walker done
  float step = 0;
  std::uint64_t equilibration_accepted = 0, production_accepted = 0;  // over all walkers
  double max_energy_drift = 0;
  double seconds = 0;        // wall time of the runs before
  std::int64_t saves_done = 0;
  // This rank's walkers (block_of(W, rank, size)): [local][particle][dim], [local], [local].
  std::vector<float> positions;
  std::vector<double> energies, pressure_sums;
};

// Collective; rank 0 writes `path` (positions etc. of this rank's walkers gathered). The scalar
// fields must already be the same on every rank (reduced by the caller).
void write_sample_checkpoint(const std::string& path, const SampleCheckpoint& c, std::int64_t walkers, int stride,
                             const std::string& resolved_input, char label, const Comm& comm);
// Every rank reads its block of walkers; io_error if the file does not hold `walkers` walkers.
SampleCheckpoint read_sample_checkpoint(const std::string& path, std::int64_t walkers, int particles, int dim,
                                        const Comm& comm);

// Rank 0: writes saves [first, first + count) of all walkers, positions [count][W][N][D] and
// energies [count][W], atomically.
void write_saves_file(const std::string& path, std::int64_t first, std::int64_t count, std::int64_t walkers,
                      int particles, int dim, std::span<const float> positions, std::span<const double> energies);
// Any rank: the number of saves in a saves file and, for save j of it, this rank's walkers
// [begin, begin + count) (positions [count][N][D], energies [count]).
std::int64_t saves_in_file(const std::string& path, std::int64_t first);
void read_saves_block(const std::string& path, std::int64_t j, std::int64_t begin, std::int64_t count, int stride,
                      std::span<float> positions, std::span<double> energies);

}  // namespace boltzmap
