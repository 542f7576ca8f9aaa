// See preprocess.cuh. Each kernel maps the row functions of src/transforms/preprocess_row.hpp (the
// CPU's own) onto threads, a thread per configuration with its scratch in global memory (per row
// the relabelling's cost matrix, (N − 1)² doubles, and the solver's state). Built with --fmad=false, so a row's y
// is the CPU's bit for bit. A first version, correct before fast: a warp per row (lanes over the
// cost matrix's columns) is the next step if the relabelling shows in a profile.
// Tests: tests/gpu/test_preprocess_parity.cpp.
#include <algorithm>

#include "cuda_check.cuh"
#include "preprocess.cuh"

namespace boltzmap::cuda {
namespace {

constexpr int kRowThreads = 32;  // a batch of 2048 rows is 64 blocks: spread over the SMs
constexpr int kElementThreads = 256;

unsigned blocks_for(std::size_t items, int threads) {
  return static_cast<unsigned>(std::max<std::size_t>(1, (items + threads - 1) / threads));
}

__device__ PreprocessRowScratch row_scratch(const PreprocessRowParams& p, PreprocessScratch s, int r) {
  const std::size_t rr = static_cast<std::size_t>(r);
  return preprocess_row_scratch(s.f + rr * preprocess_row_floats(p.n, p.dim), s.d + rr * preprocess_row_doubles(p.n),
                                s.i + rr * preprocess_row_ints(p.n), p.n, p.dim);
}

__global__ void canonical_kernel(PreprocessRowParams p, const float* __restrict__ x, const int* __restrict__ centre,
                                 const int* __restrict__ element, int rows, float* __restrict__ y, PreprocessScratch s,
                                 int* error) {
  const int r = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (r >= rows) return;
  const std::size_t nd = static_cast<std::size_t>(p.n) * p.dim, m = static_cast<std::size_t>(p.n - 1) * p.dim;
  const int c = centre ? centre[r] : 0, g = element ? element[r] : 0;
  if (canonical_row(p, x + r * nd, c, g, y + r * m, row_scratch(p, s, r)) >= 0) atomicMin(error, r);
}

__global__ void in_domain_kernel(PreprocessRowParams p, const float* __restrict__ y, int rows, PreprocessScratch s,
                                 std::uint8_t* __restrict__ inside) {
  const int r = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (r >= rows) return;
  const std::size_t m = static_cast<std::size_t>(p.n - 1) * p.dim;
  inside[r] = in_domain_row(p, y + r * m, row_scratch(p, s, r));
}

__global__ void uncanonical_kernel(PreprocessRowParams p, float* __restrict__ y, int rows, float* __restrict__ x) {
  const int r = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (r >= rows) return;
  const std::size_t nd = static_cast<std::size_t>(p.n) * p.dim, m = static_cast<std::size_t>(p.n - 1) * p.dim;
  uncanonical_row(p, y + r * m, x + r * nd);
}

__global__ void add_row_vector_kernel(float* __restrict__ a, std::size_t n, int m, const float* __restrict__ mean,
                                      float sign) {
  for (std::size_t k = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; k < n;
       k += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    a[k] += sign * mean[k % static_cast<std::size_t>(m)];
}

__global__ void scale_kernel(float* __restrict__ x, std::size_t n, double factor, double L_new) {
  for (std::size_t k = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; k < n;
       k += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    x[k] = scale_coordinate(x[k], factor, L_new);
}

unsigned element_blocks(std::size_t n) { return std::min(blocks_for(n, kElementThreads), 65535u); }

}  // namespace

void canonical_rows(const PreprocessRowParams& p, const float* x, const int* centre, const int* element, int rows,
                    float* y, PreprocessScratch s, int* error, cudaStream_t stream) {
  if (rows <= 0) return;
  canonical_kernel<<<blocks_for(rows, kRowThreads), kRowThreads, 0, stream>>>(p, x, centre, element, rows, y, s, error);
  CUDA_LAUNCH_CHECK("canonical_kernel", stream);
}

void in_domain_rows(const PreprocessRowParams& p, const float* y, int rows, PreprocessScratch s, std::uint8_t* inside,
                    cudaStream_t stream) {
  if (rows <= 0) return;
  in_domain_kernel<<<blocks_for(rows, kRowThreads), kRowThreads, 0, stream>>>(p, y, rows, s, inside);
  CUDA_LAUNCH_CHECK("in_domain_kernel", stream);
}

void uncanonical_rows(const PreprocessRowParams& p, float* y, int rows, float* x, cudaStream_t stream) {
  if (rows <= 0) return;
  uncanonical_kernel<<<blocks_for(rows, kRowThreads), kRowThreads, 0, stream>>>(p, y, rows, x);
  CUDA_LAUNCH_CHECK("uncanonical_kernel", stream);
}

void add_row_vector(float* a, int rows, int m, const float* mean, float sign, cudaStream_t stream) {
  const std::size_t n = static_cast<std::size_t>(rows) * m;
  if (n == 0) return;
  add_row_vector_kernel<<<element_blocks(n), kElementThreads, 0, stream>>>(a, n, m, mean, sign);
  CUDA_LAUNCH_CHECK("add_row_vector_kernel", stream);
}

void scale_coordinates(float* x, std::size_t n, double factor, double L_new, cudaStream_t stream) {
  if (n == 0 || factor == 1.0) return;
  scale_kernel<<<element_blocks(n), kElementThreads, 0, stream>>>(x, n, factor, L_new);
  CUDA_LAUNCH_CHECK("scale_kernel", stream);
}

}  // namespace boltzmap::cuda
