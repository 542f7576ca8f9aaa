// Reference data generation for one system (boltzmap sample): walkers from the lattice,
// equilibration (with optional step-size tuning), production with a save every
// moves_between_saves moves, the saves streamed in (save, walker) order into the train,
// validation and evaluation sets (each configuration used once), diagnostics.
// Walkers are spread over MPI ranks in contiguous blocks and over threads within a rank.
// Tests: tests/sampling/test_sample.cpp, tests/mpi/, validation in tests/validation/.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "parallel/comm.hpp"
#include "sampling/mc_kernel.hpp"

namespace boltzmap {

struct SampleStats {
  double acceptance = 0;                  // production
  double equilibration_acceptance = 0;
  double mean_energy_per_particle = 0;    // ⟨U⟩/N over all saves of all walkers
  double mean_energy_per_particle_err = 0;  // standard error from independent walkers
  double mean_excess_pressure = 0;        // ⟨P_ex⟩, the virial (physics/energy.hpp), over all saves
  double mean_excess_pressure_err = 0;    // standard error from independent walkers
  double tau_int = 0;                     // integrated autocorrelation time, in saves
  double ess_per_sample = 0;              // 1/τ_int
  double step_size = 0;                   // Δ used in production (tuned if "auto")
  double trial_moves_per_second = 0;
  double seconds = 0;
  double max_energy_drift = 0;            // largest |tracked − recomputed U| seen
  int saves = 0;
  std::vector<double> rho;                // energy autocorrelation ρ(k), k in saves
  std::vector<std::string> files;         // data sets written
};

struct SampleOptions {
  std::string run_dir;                    // the run folder: its data/{A,B}_{train,validation,evaluation}.h5 (io/run_folder.hpp)
  bool progress = true;
  MoveKernel kernel = MoveKernel::fast;
};

// Collective over comm. `label` is 'A' or 'B'.
SampleStats sample_system(const Experiment& e, char label, const Comm& comm, const SampleOptions& opt);

// The seed of a system's MCMC stream, derived from the experiment's seed.
std::uint64_t sampling_seed(std::uint64_t seed, char label);

}  // namespace boltzmap
