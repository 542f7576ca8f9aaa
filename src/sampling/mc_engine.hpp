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
// Tests: tests/sampling/test_mc_engine.cpp (CPU engine = WalkerSet; the partner-ordered replay
// the GPU twin follows = the CPU engine), tests/gpu/test_mcmc_parity.cpp (CUDA = CPU).
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

  // Advances every walker by `moves` trial moves of half-width `step`; returns the accepted moves
  // summed over this engine's walkers.
  virtual std::uint64_t run(std::uint64_t moves, float step) = 0;
  // Recomputes every walker's energy from scratch (double, pairs i < j in order) and returns the
  // largest |tracked − recomputed| before the reset.
  virtual double recompute_energies() = 0;

  virtual int count() const = 0;
  virtual std::uint32_t first_walker() const = 0;
  virtual std::uint64_t moves_done() const = 0;
  virtual const System& system() const = 0;
  // The tracked energies U [walker] (a host copy; the CUDA engine copies them back on demand).
  virtual std::span<const double> energies() = 0;
  // Every walker's configuration, [walker][particle][dim] float32 (count·N·D floats): the frames
  // of a save (the CUDA engine copies them back only when asked).
  virtual void configurations(std::span<float> out) = 0;
  // A checkpoint's state: configurations [walker][particle][dim], tracked energies set exactly,
  // the move counter of all walkers.
  virtual void restore(std::span<const float> configs, std::span<const double> energies, std::uint64_t moves_done) = 0;
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
