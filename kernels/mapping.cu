// See mapping.cuh. A thread per configuration, three energies of N(N − 1)/2 pairs each: a first
// version, correct before fast (a warp per configuration, a lane per particle, as the MC engine,
// is the next step if the energies show in the mapping's profile). Built with --fmad=false.
// Tests: tests/gpu/test_mapping_parity.cpp.
#include <algorithm>
#include <limits>

#include "cuda_check.cuh"
#include "mapping.cuh"

namespace boltzmap::cuda {
namespace {

constexpr int kThreads = 32;  // 2.5×10⁴ rows: 782 blocks over the SMs

__global__ void mapped_row_weights_kernel(System source, System target, const float* __restrict__ x,
                                          const float* __restrict__ x_mapped, const float* __restrict__ x_identity,
                                          const float* __restrict__ logdet, const std::uint8_t* __restrict__ inside,
                                          int rows, double box_log_det, MappedRows out) {
  const int r = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (r >= rows) return;
  const std::size_t row = static_cast<std::size_t>(source.n_particles) * source.box.dimension;
  const double us = total_energy_of(source, x + r * row), ut = total_energy_of(target, x_mapped + r * row),
               ui = total_energy_of(target, x_identity + r * row);
  out.source_energy[r] = us;
  out.mapped_energy[r] = ut;
  out.identity_energy[r] = ui;
  // The CPU's formulas and order (analysis/mapping.cpp).
  const double lj = static_cast<double>(logdet[r]) + box_log_det;
  out.log_jacobian[r] = lj;
  const double lwu = -target.beta * ut + source.beta * us + lj;
  out.log_weight_unrestricted[r] = lwu;
  out.log_weight[r] = inside[r] ? lwu : -std::numeric_limits<double>::infinity();
  out.identity_log_weight[r] = -target.beta * ui + source.beta * us + box_log_det;
}

}  // namespace

void mapped_row_weights(const System& source, const System& target, const float* x, const float* x_mapped,
                        const float* x_identity, const float* logdet, const std::uint8_t* inside, int rows,
                        double box_log_det, MappedRows out, cudaStream_t stream) {
  if (rows <= 0) return;
  const unsigned blocks = static_cast<unsigned>((rows + kThreads - 1) / kThreads);
  mapped_row_weights_kernel<<<blocks, kThreads, 0, stream>>>(source, target, x, x_mapped, x_identity, logdet, inside,
                                                              rows, box_log_det, out);
  CUDA_LAUNCH_CHECK("mapped_row_weights_kernel", stream);
}

}  // namespace boltzmap::cuda
