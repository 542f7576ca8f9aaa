// GPU MC walkers: host launchers only (the kernels stay private to mcmc.cu). The twin of the
// CPU block kernel src/sampling/mc_block.hpp (run_block) and its one-walker form mc_move()
// (src/sampling/mc_kernel.hpp); the engine around them is src/sampling/mc_engine_cuda.cpp.
// Tests: tests/gpu/test_mcmc_parity.cpp.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "sampling/mc_kernel.hpp"

namespace boltzmap::cuda {

// Runs `moves` trial moves (RNG counters counter0 …) on every walker, one warp per walker.
// x: [walker][dim][particle] float32 in device memory (count walkers); energy: [walker] double,
// tracked; *accepted (device) is increased by the accepted moves. Walker w is global walker
// first_walker + w (its Philox stream).
void mcmc_run(const MoveParams& mp, float* x, double* energy, unsigned long long* accepted, int count,
              std::uint32_t first_walker, std::uint64_t counter0, std::uint64_t moves, float step,
              cudaStream_t stream);

// Recomputes every walker's energy in double (one thread per walker, pairs i < j in the CPU's
// order: total_energy_soa) and raises *max_drift_bits (device; the bits of a non-negative double,
// which order as integers; +inf for a NaN) to the largest |tracked − recomputed|.
void mcmc_recompute(const MoveParams& mp, const float* x, double* energy, unsigned long long* max_drift_bits,
                    int count, cudaStream_t stream);

// Shared memory one walker's warp needs (bytes), and the largest N·D the kernel takes.
std::size_t mcmc_shared_bytes_per_walker(int n_particles, int dimension);

}  // namespace boltzmap::cuda
