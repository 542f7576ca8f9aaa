// The MC engine seam: a set of independent Metropolis walkers behind one interface, whatever
// runs them. The CPU engine wraps WalkerSet (walkers.hpp: blocks of walkers in SIMD lanes,
// mc_block.hpp) unchanged; the CUDA engine (kernels/mcmc.cu, built with CUDA only) keeps every
// walker in device memory, one warp per walker, and makes the same moves: the same Philox draws
// (mc_kernel.hpp draw_move), the same per-pair float32 terms summed in the same order as the CPU
// block kernel (partner 0, 1, …), the same double fallback near overlaps, so walker w's
// trajectory is the same move for move. Only the Metropolis exponential is computed by another
// libm (CUDA's exp vs glibc's, each within 1 ulp), so a decision may differ when u lies within
// an ulp of exp(−βΔU) (tests/gpu count such near-ties).
// Walker w of an engine is global walker first_walker + w; its RNG counter is moves_done().
// A run is start() + finish(), so a caller (the sample stage) can do its host work on a save
// while the next moves run on the GPU.
// Tests: tests/sampling/test_mc_engine.cpp (CPU engine = WalkerSet; the partner-ordered replay
// the GPU twin follows = the CPU engine; start/finish = run, the in-flight errors),
// tests/gpu/test_mcmc_parity.cpp (CUDA = CPU, by run() and by start/finish).
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "sampling/mc_kernel.hpp"

namespace boltzmap {

enum class McEngineKind { cpu, cuda };

class McEngine {
 public:
  virtual ~McEngine() = default;
  virtual McEngineKind kind() const = 0;
  virtual std::string description() const = 0;  // "cpu (16-lane blocks)", "cuda:0 NVIDIA H200 (warp per walker)"

  // A run of `moves` trial moves of half-width `step` for every walker, in two halves so the host
  // can work while the walkers move: start() launches it and finish() waits for it and returns the
  // accepted moves summed over this engine's walkers. The CUDA engine's start() enqueues the
  // kernel and the copy of the accepted count on its stream and returns at once; the CPU engine
  // makes the moves inside start() (its OpenMP threads are the host) and finish() returns the
  // stored count. Between the two the run is "in flight": a second start(), energies(),
  // configurations(), recompute_energies() and restore() are errors (ExitCode::failure), so no
  // caller reads a state from an unknown moment; finish() without a start() is one too.
  void start(std::uint64_t moves, float step);
  std::uint64_t finish();
  bool in_flight() const { return in_flight_; }
  // start + finish: a run that returns when the walkers have moved.
  std::uint64_t run(std::uint64_t moves, float step) {
    start(moves, step);
    return finish();
  }
  // Recomputes every walker's energy from scratch (double, pairs i < j in order) and returns the
  // largest |tracked − recomputed| before the reset.
  double recompute_energies();

  virtual int count() const = 0;
  virtual std::uint32_t first_walker() const = 0;
  // Moves per walker in the state energies() and configurations() report: a started run counts
  // only once finish() has returned (while it is in flight, moves_done() is still the count
  // before it). It is also the RNG counter of the next run's first move.
  std::uint64_t moves_done() const { return moves_done_; }
  virtual const System& system() const = 0;
  // The tracked energies U [walker] (a host copy; the CUDA engine copies them back on demand).
  // The span stays valid until the next start(), recompute_energies() or restore().
  std::span<const double> energies();
  // Every walker's configuration, [walker][particle][dim] float32 (count·N·D floats): the frames
  // of a save (the CUDA engine copies them back only when asked).
  void configurations(std::span<float> out);
  // A checkpoint's state: configurations [walker][particle][dim], tracked energies set exactly,
  // the move counter of all walkers.
  void restore(std::span<const float> configs, std::span<const double> energies, std::uint64_t moves_done);
  // Every walker starts over as global walker first_walker + w from configs
  // [walker][particle][dim], its energy computed as at construction, moves_done() 0: the engine
  // a new one with these walkers would be, without allocating one (the source pool's refreshes,
  // flow/source_pool.hpp). An error while a run is in flight, as restore().
  void reset(std::uint32_t first_walker, std::span<const float> configs);

 protected:
  // What each engine implements; the public calls above check the in-flight state around them.
  // start_moves: counter0 = moves_done(), the RNG counter of the run's first move.
  virtual void start_moves(std::uint64_t counter0, std::uint64_t moves, float step) = 0;
  virtual std::uint64_t finish_moves() = 0;
  virtual double recompute_energies_now() = 0;
  virtual std::span<const double> energies_now() = 0;
  virtual void configurations_now(std::span<float> out) = 0;
  virtual void restore_now(std::span<const float> configs, std::span<const double> energies, std::uint64_t moves_done) = 0;
  virtual void reset_now(std::uint32_t first_walker, std::span<const float> configs) = 0;

 private:
  void require_idle(const char* call) const;
  std::uint64_t moves_done_ = 0;
  std::uint64_t started_moves_ = 0;  // the run in flight
  bool in_flight_ = false;
};

// The CPU engine (WalkerSet with the given kernel). start: one configuration [particle][dim]
// copied to every walker.
std::unique_ptr<McEngine> make_cpu_engine(const System& system, std::uint64_t seed, std::uint32_t first_walker,
                                          int count, std::span<const float> start,
                                          MoveKernel kernel = MoveKernel::fast);
// The CUDA engine on the current device; throws Error(ExitCode::backend) in a build without CUDA
// or where no device is usable.
std::unique_ptr<McEngine> make_cuda_engine(const System& system, std::uint64_t seed, std::uint32_t first_walker,
                                           int count, std::span<const float> start);
// Whether make_cuda_engine exists in this build (BOLTZMAP_HAVE_CUDA).
bool cuda_engine_compiled();

}  // namespace boltzmap
