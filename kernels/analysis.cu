// See analysis.cuh. The maths of a pair (pair_distance2, pair_bin), of an energy bin (Bins::index)
// and of a row's terms (row_weight, ScalarSums::add) are the BOLTZMAP_HD functions the CPU calls
// (observables.hpp, set_terms.hpp); this file only maps them onto threads. Built with
// --fmad=false (as the CPU with -ffp-contract=off), so the distances and bins are the CPU's bit for
// bit. Tests: tests/gpu/test_analysis_parity.cpp.
#include <algorithm>

#include "analysis.cuh"
#include "analysis/set_terms.hpp"
#include "cuda_check.cuh"

namespace boltzmap::cuda {

namespace {

constexpr int kPairThreads = 128;
constexpr int kRowThreads = 256;
constexpr int kReplicateThreads = 256;
constexpr std::size_t kMaxShared = 48 * 1024;
constexpr unsigned kMaxGrid = 1u << 20;  // blocks per launch; larger counts loop (grid stride)

unsigned grid_for(std::size_t items, int threads) {
  const std::size_t b = (items + threads - 1) / threads;
  return static_cast<unsigned>(std::min<std::size_t>(std::max<std::size_t>(b, 1), kMaxGrid));
}

// One block per configuration (grid stride over configurations): positions and integer counts in
// shared memory, a thread per ordered pair (i, j) of the N² (those with j > i count).
__global__ void pair_histogram_kernel(const float* x, std::size_t m, int n, int dim, double L, double inv_l,
                                      PairBins bins, double* out, std::size_t ld) {
  extern __shared__ unsigned int shared[];
  unsigned int* hist = shared;                                    // [bins.count]
  float* xs = reinterpret_cast<float*>(shared + bins.count);      // [N][D]
  const int nd = n * dim, nn = n * n;
  for (std::size_t c = blockIdx.x; c < m; c += gridDim.x) {
    for (int b = threadIdx.x; b < bins.count; b += blockDim.x) hist[b] = 0;
    for (int k = threadIdx.x; k < nd; k += blockDim.x) xs[k] = x[c * nd + k];
    __syncthreads();
    for (int q = threadIdx.x; q < nn; q += blockDim.x) {
      const int i = q / n, j = q - i * n;
      if (j <= i) continue;
      const int b = pair_bin(pair_distance2(xs, i, j, dim, L, inv_l), bins);
      if (b >= 0) atomicAdd(&hist[b], 1u);
    }
    __syncthreads();
    for (int b = threadIdx.x; b < bins.count; b += blockDim.x) out[c * ld + b] = static_cast<double>(hist[b]);
    __syncthreads();  // before the next configuration clears hist
  }
}

__global__ void energy_one_hot_kernel(const double* energy, std::size_t m, Bins bins, double* out, std::size_t ld) {
  const std::size_t total = m * static_cast<std::size_t>(bins.count);
  for (std::size_t t = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; t < total;
       t += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const std::size_t j = t / bins.count;
    const int e = static_cast<int>(t - j * bins.count);
    out[j * ld + e] = bins.index(energy[j]) == e ? 1.0 : 0.0;
  }
}

__global__ void row_weights_kernel(const double* log_w, const std::uint8_t* inside, std::size_t m, double shift,
                                   double shift_raw, double* w, double* wraw, std::uint8_t* in) {
  for (std::size_t j = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; j < m;
       j += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const RowWeight r = row_weight(log_w, inside, j, shift, shift_raw);
    w[j] = r.w;
    wraw[j] = r.wraw;
    in[j] = r.in ? 1 : 0;
  }
}

// The block's sum of v (every thread gets no result; thread 0 returns it). kReplicateThreads
// threads: warp shuffles, then one warp over the warps' partial sums.
__device__ double block_sum(double v, double* scratch) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();  // scratch may still be read by the previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = threadIdx.x < kReplicateThreads / 32 ? scratch[threadIdx.x] : 0.0;
  if (warp == 0)
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  return v;
}

__global__ void __launch_bounds__(kReplicateThreads)
    replicate_sums_kernel(const std::uint8_t* counts, int R1, std::size_t m, const double* w, const double* wraw,
                          const std::uint8_t* in, const double* energy, double* scalars, double* a) {
  __shared__ double scratch[kReplicateThreads / 32];
  for (int r = blockIdx.x; r < R1; r += gridDim.x) {
    const std::uint8_t* c = counts + static_cast<std::size_t>(r) * m;
    double* ar = a + static_cast<std::size_t>(r) * m;
    ScalarSums s;
    for (std::size_t j = threadIdx.x; j < m; j += blockDim.x) {
      const unsigned cj = c[j];
      ar[j] = cj == 0 ? 0.0 : s.add(static_cast<double>(cj), w[j], wraw[j], in[j] != 0, energy[j]);
    }
    for (int q = 0; q < kSetScalars; ++q) {
      const double total = block_sum(s.get(q), scratch);
      if (threadIdx.x == 0) scalars[static_cast<std::size_t>(q) * R1 + r] += total;
    }
  }
}

}  // namespace

std::size_t pair_histogram_shared_bytes(int n_particles, int dim, int bins) {
  return sizeof(unsigned int) * static_cast<std::size_t>(bins) + sizeof(float) * static_cast<std::size_t>(n_particles) * dim;
}

void pair_histograms(const float* x, std::size_t m, int n_particles, int dim, double L, const PairBins& bins,
                     double* out, std::size_t ld, cudaStream_t stream) {
  if (m == 0) return;
  const std::size_t shared = pair_histogram_shared_bytes(n_particles, dim, bins.count);
  if (shared > kMaxShared || n_particles < 2 || bins.count < 1 || static_cast<std::size_t>(bins.count) > ld)
    throw Error(ExitCode::failure, "cuda::pair_histograms: " + std::to_string(bins.count) + " bins and " +
                                       std::to_string(n_particles) + "×" + std::to_string(dim) +
                                       " coordinates need more than 48 KiB of shared memory, or a bad layout");
  const unsigned grid = static_cast<unsigned>(std::min<std::size_t>(m, kMaxGrid));
  pair_histogram_kernel<<<grid, kPairThreads, shared, stream>>>(x, m, n_particles, dim, L, 1.0 / L, bins, out, ld);
  CUDA_LAUNCH_CHECK("pair_histogram_kernel", stream);
}

void energy_one_hot(const double* energy, std::size_t m, const Bins& bins, double* out, std::size_t ld,
                    cudaStream_t stream) {
  if (m == 0) return;
  energy_one_hot_kernel<<<grid_for(m * bins.count, kRowThreads), kRowThreads, 0, stream>>>(energy, m, bins, out, ld);
  CUDA_LAUNCH_CHECK("energy_one_hot_kernel", stream);
}

void row_weights(const double* log_w, const std::uint8_t* inside, std::size_t m, double shift, double shift_raw,
                 double* w, double* wraw, std::uint8_t* in, cudaStream_t stream) {
  if (m == 0) return;
  row_weights_kernel<<<grid_for(m, kRowThreads), kRowThreads, 0, stream>>>(log_w, inside, m, shift, shift_raw, w, wraw, in);
  CUDA_LAUNCH_CHECK("row_weights_kernel", stream);
}

void replicate_sums(const std::uint8_t* counts, int R1, std::size_t m, const double* w, const double* wraw,
                    const std::uint8_t* in, const double* energy, double* scalars, double* a, cudaStream_t stream) {
  if (m == 0 || R1 < 1) return;
  const unsigned grid = static_cast<unsigned>(std::min<int>(R1, static_cast<int>(kMaxGrid)));
  replicate_sums_kernel<<<grid, kReplicateThreads, 0, stream>>>(counts, R1, m, w, wraw, in, energy, scalars, a);
  CUDA_LAUNCH_CHECK("replicate_sums_kernel", stream);
}

}  // namespace boltzmap::cuda
