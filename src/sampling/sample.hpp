// Reference data generation for one system (boltzmap sample): walkers from the lattice,
// equilibration (with optional step-size tuning), production with a save every
// moves_between_saves moves, the saves streamed in (save, walker) order into the train,
// validation and evaluation sets (each configuration used once), diagnostics.
// Walkers are spread over MPI ranks in contiguous blocks and over threads within a rank.
// Interruptible: the state is checkpointed (sampling/sample_checkpoint.hpp) at the end of the
// equilibration, every checkpoint_every_saves saves and the last save, and when a signal
// (core/signals.hpp) reaches any rank — polled after every chunk of ≤ 1000 moves per walker, all
// ranks agreeing in one allreduce — after which sample_system returns with `stopped` set. The saves
// go to the checkpoint's saves files as they are made; the data sets are written from them at the
// end (each rank its walkers, save by save), so an interrupted and resumed run writes the same files
// as an uninterrupted one, whatever the ranks of each part. Memory: rank 0 gathers every walker's
// configuration for each checkpoint and holds up to checkpoint_every_saves saves of all walkers
// (W·N·D·4 + 8·W bytes each) until it writes them.
// Tests: tests/sampling/test_sample.cpp, tests/mpi/, tests/app/sample_resume.sh, validation in tests/validation/.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "parallel/comm.hpp"
#include "sampling/mc_engine.hpp"

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
  int stopped = 0;                        // the signal that stopped it part-way (checkpoint written; nothing else set)
  bool resumed = false;                   // continued from a checkpoint
};

struct SampleOptions {
  std::string run_dir;                    // the run folder: its data/{A,B}_{train,validation,evaluation}.h5 (io/run_folder.hpp)
  bool progress = true;
  MoveKernel kernel = MoveKernel::fast;  // the CPU engine's kernel
  McEngineKind engine = McEngineKind::cpu;  // the stage's backend (cmd_sample: resolve_backend)
};

// Collective over comm. `label` is 'A' or 'B'.
SampleStats sample_system(const Experiment& e, char label, const Comm& comm, const SampleOptions& opt);

// The resolved input's lines a system's sampling depends on (the top-level keys, [box],
// [systems.X] but its checkpoint_every_saves): a checkpoint of another input is not resumed.
std::string sampling_input(const std::string& resolved, char label);
// Whether the sampling checkpoint `path` was written for this input's system `label`.
bool sample_checkpoint_fits(const std::string& path, const Experiment& e, char label);
// The first line where they differ: "it has `…` where FILE now gives `…`".
std::string sample_checkpoint_difference(const std::string& path, const Experiment& e, char label);

// The seed of a system's MCMC stream, derived from the experiment's seed.
std::uint64_t sampling_seed(std::uint64_t seed, char label);

}  // namespace boltzmap
