// The element-wise kernels of the GPU real-NVP (see realnvp.cuh): each a grid-stride loop over
// the elements (or rows) calling its element function from src/flow/realnvp_elements.hpp — the
// code the CPU model of the passes runs too (tests/flow/test_realnvp_gpu_model.cpp). Element
// kernels are coalesced over [row][D] or [row][width]; the couplings run one thread per row
// (each forms its row's log-det sum in index order, as RealNvp does).
#include "realnvp.cuh"

#include "cuda_check.cuh"

namespace boltzmap::cuda {

namespace {

constexpr int threads_per_block = 256;
constexpr std::size_t max_blocks = 65535u * 16u;  // the grid-stride loops cover the rest

unsigned blocks_for(std::size_t n) {
  const std::size_t b = (n + threads_per_block - 1) / threads_per_block;
  return static_cast<unsigned>(b < max_blocks ? b : max_blocks);
}

__device__ std::size_t first_index() { return static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ std::size_t grid_stride() { return static_cast<std::size_t>(gridDim.x) * blockDim.x; }

__global__ void bias_activation_kernel(float* __restrict__ z, const float* __restrict__ b, std::size_t n, int width,
                                       LayerActivation act, float a) {
  for (std::size_t i = first_index(); i < n; i += grid_stride()) nvp::bias_activation_element(z, b, width, act, a, i);
}

__global__ void gather_kernel(const float* __restrict__ src, std::size_t n, int dim, int first, int count,
                              float* __restrict__ dst) {
  for (std::size_t i = first_index(); i < n; i += grid_stride()) nvp::gather_element(src, dim, first, count, dst, i);
}

template <bool Forward>
__global__ void coupling_kernel(float* __restrict__ y, CouplingColumns c, const float* __restrict__ s,
                                const float* __restrict__ t, float* __restrict__ xt_saved, float* __restrict__ logdet,
                                std::size_t rows) {
  for (std::size_t r = first_index(); r < rows; r += grid_stride())
    nvp::coupling_row<Forward>(y, c, s, t, xt_saved, logdet, r);
}

__global__ void tanh_backward_kernel(float* __restrict__ d, const float* __restrict__ h, std::size_t n) {
  for (std::size_t i = first_index(); i < n; i += grid_stride()) nvp::tanh_backward_element(d, h, i);
}

__global__ void backward_forward_split_kernel(const float* __restrict__ g, CouplingColumns c,
                                              const float* __restrict__ xt, const float* __restrict__ s,
                                              const float* __restrict__ gld, float a, float* __restrict__ g_trans,
                                              float* __restrict__ g_keep, float* __restrict__ gs, std::size_t n) {
  for (std::size_t i = first_index(); i < n; i += grid_stride())
    nvp::backward_forward_split_element(g, c, xt, s, gld, a, g_trans, g_keep, gs, i);
}

__global__ void backward_forward_merge_kernel(float* __restrict__ g, CouplingColumns c,
                                              const float* __restrict__ g_trans, const float* __restrict__ g_keep,
                                              const float* __restrict__ s, std::size_t n) {
  for (std::size_t i = first_index(); i < n; i += grid_stride())
    nvp::backward_forward_merge_element(g, c, g_trans, g_keep, s, i);
}

__global__ void backward_inverse_split_kernel(const float* __restrict__ g, CouplingColumns c,
                                              const float* __restrict__ xt, const float* __restrict__ s,
                                              const float* __restrict__ gld, float a, float* __restrict__ g_keep,
                                              float* __restrict__ gs, float* __restrict__ gt, std::size_t n) {
  for (std::size_t i = first_index(); i < n; i += grid_stride())
    nvp::backward_inverse_split_element(g, c, xt, s, gld, a, g_keep, gs, gt, i);
}

__global__ void backward_inverse_merge_kernel(float* __restrict__ g, CouplingColumns c, const float* __restrict__ gt,
                                              const float* __restrict__ g_keep, std::size_t n) {
  for (std::size_t i = first_index(); i < n; i += grid_stride()) nvp::backward_inverse_merge_element(g, c, gt, g_keep, i);
}

__global__ void fill_kernel(float* __restrict__ p, std::size_t n, float value) {
  for (std::size_t i = first_index(); i < n; i += grid_stride()) p[i] = value;
}

std::size_t elements(int rows, int width) { return static_cast<std::size_t>(rows > 0 ? rows : 0) * (width > 0 ? width : 0); }

}  // namespace

void realnvp_bias_activation(float* z, const float* b, int rows, int width, LayerActivation act, float a,
                             cudaStream_t stream) {
  const std::size_t n = elements(rows, width);
  if (n == 0) return;
  bias_activation_kernel<<<blocks_for(n), threads_per_block, 0, stream>>>(z, b, n, width, act, a);
  CUDA_LAUNCH_CHECK("bias_activation_kernel", stream);
}

void realnvp_gather(const float* src, int rows, int dim, int first, int count, float* dst, cudaStream_t stream) {
  const std::size_t n = elements(rows, count);
  if (n == 0) return;
  gather_kernel<<<blocks_for(n), threads_per_block, 0, stream>>>(src, n, dim, first, count, dst);
  CUDA_LAUNCH_CHECK("gather_kernel", stream);
}

void realnvp_coupling(bool forward, float* y, const CouplingColumns& c, const float* s, const float* t, float* xt_saved,
                      float* logdet, int rows, cudaStream_t stream) {
  const std::size_t R = elements(rows, 1);
  if (R == 0) return;
  if (forward) {
    coupling_kernel<true><<<blocks_for(R), threads_per_block, 0, stream>>>(y, c, s, t, xt_saved, logdet, R);
    CUDA_LAUNCH_CHECK("coupling_kernel<true>", stream);
  } else {
    coupling_kernel<false><<<blocks_for(R), threads_per_block, 0, stream>>>(y, c, s, t, xt_saved, logdet, R);
    CUDA_LAUNCH_CHECK("coupling_kernel<false>", stream);
  }
}

void realnvp_tanh_backward(float* d, const float* h, std::size_t n, cudaStream_t stream) {
  if (n == 0) return;
  tanh_backward_kernel<<<blocks_for(n), threads_per_block, 0, stream>>>(d, h, n);
  CUDA_LAUNCH_CHECK("tanh_backward_kernel", stream);
}

void realnvp_backward_forward_split(const float* g, const CouplingColumns& c, const float* xt, const float* s,
                                    const float* gld, float a, float* g_trans, float* g_keep, float* gs, int rows,
                                    cudaStream_t stream) {
  const std::size_t n = elements(rows, c.dim);
  if (n == 0) return;
  backward_forward_split_kernel<<<blocks_for(n), threads_per_block, 0, stream>>>(g, c, xt, s, gld, a, g_trans, g_keep,
                                                                                 gs, n);
  CUDA_LAUNCH_CHECK("backward_forward_split_kernel", stream);
}

void realnvp_backward_forward_merge(float* g, const CouplingColumns& c, const float* g_trans, const float* g_keep,
                                    const float* s, int rows, cudaStream_t stream) {
  const std::size_t n = elements(rows, c.dim);
  if (n == 0) return;
  backward_forward_merge_kernel<<<blocks_for(n), threads_per_block, 0, stream>>>(g, c, g_trans, g_keep, s, n);
  CUDA_LAUNCH_CHECK("backward_forward_merge_kernel", stream);
}

void realnvp_backward_inverse_split(const float* g, const CouplingColumns& c, const float* xt, const float* s,
                                    const float* gld, float a, float* g_keep, float* gs, float* gt, int rows,
                                    cudaStream_t stream) {
  const std::size_t n = elements(rows, c.dim);
  if (n == 0) return;
  backward_inverse_split_kernel<<<blocks_for(n), threads_per_block, 0, stream>>>(g, c, xt, s, gld, a, g_keep, gs, gt,
                                                                                 n);
  CUDA_LAUNCH_CHECK("backward_inverse_split_kernel", stream);
}

void realnvp_backward_inverse_merge(float* g, const CouplingColumns& c, const float* gt, const float* g_keep, int rows,
                                    cudaStream_t stream) {
  const std::size_t n = elements(rows, c.dim);
  if (n == 0) return;
  backward_inverse_merge_kernel<<<blocks_for(n), threads_per_block, 0, stream>>>(g, c, gt, g_keep, n);
  CUDA_LAUNCH_CHECK("backward_inverse_merge_kernel", stream);
}

void realnvp_fill(float* p, std::size_t n, float value, cudaStream_t stream) {
  if (n == 0) return;
  fill_kernel<<<blocks_for(n), threads_per_block, 0, stream>>>(p, n, value);
  CUDA_LAUNCH_CHECK("fill_kernel", stream);
}

}  // namespace boltzmap::cuda
