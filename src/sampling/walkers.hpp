// A set of independent Metropolis walkers (this rank's share of all walkers), advanced in lock
// step on the CPU with OpenMP threads over walkers. Walker w's chain depends only on (seed, w,
// move number), so results are identical for any number of threads or ranks.
// Tests: tests/sampling/test_walkers.cpp.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "sampling/mc_kernel.hpp"

namespace boltzmap {

class WalkerSet {
 public:
  // first_walker: global index of this set's first walker; start: one configuration
  // [particle][dim] copied to every walker (the lattice).
  WalkerSet(const System& system, std::uint64_t seed, std::uint32_t first_walker, int count,
            std::span<const float> start);

  // Advances every walker by `moves` trial moves with displacement half-width `step`.
  // Returns the number of accepted moves (summed over this set's walkers).
  std::uint64_t run(std::uint64_t moves, float step, MoveKernel kernel = MoveKernel::fast);

  // Recomputes every walker's energy from scratch (double) and returns the largest
  // |tracked − recomputed| before the reset: the round-off the incremental ΔU accumulated.
  double recompute_energies();

  int count() const { return count_; }
  std::uint32_t first_walker() const { return first_; }
  std::uint64_t moves_done() const { return moves_done_; }
  const System& system() const { return params_.system; }
  std::span<const double> energies() const { return energy_; }

  // Walker w's configuration in file layout [particle][dim] written to out (n·D floats).
  void configuration(int w, std::span<float> out) const;
  // Sets walker w's configuration from file layout and recomputes its energy.
  void set_configuration(int w, std::span<const float> in);
  // A checkpoint's state: every walker's configuration (file layout, [walker][particle][dim]) and
  // tracked energy, set exactly, and the move counter (the RNG counter) of all walkers.
  void restore(std::span<const float> configs, std::span<const double> energies, std::uint64_t moves_done);

 private:
  MoveParams params_;
  std::uint32_t first_;
  int count_;
  int stride_;                     // floats per walker = N·D
  std::vector<float> x_;           // [walker][dim][particle], float32
  std::vector<double> energy_;     // [walker] tracked potential energy U
  std::uint64_t moves_done_ = 0;   // moves per walker so far (the RNG counter)
};

}  // namespace boltzmap
