// The element-wise kernels of the GPU real-NVP (see realnvp.cuh); every formula is a call into
// src/flow/coupling_math.hpp, the functions RealNvp<T> uses on the CPU. One thread per element
// (bias/activation, gathers, the split/merge of gradients: coalesced over [row][D]), or one per
// row where a row sum is formed (the couplings with their log-det term: the sum over the row's
// transformed components in index order, then added to logdet, as RealNvp does).
// Column j of a part of one parity is component first + 2j, and first is the parity, so the
// component c of the D-vector is column c / 2 of the part of parity c % 2.
#include "realnvp.cuh"

#include "cuda_check.cuh"
#include "flow/coupling_math.hpp"

namespace boltzmap::cuda {

namespace {

constexpr int threads_per_block = 256;

unsigned blocks_for(std::size_t n) {
  const std::size_t b = (n + threads_per_block - 1) / threads_per_block;
  return static_cast<unsigned>(b < 65535 * 16 ? b : 65535 * 16);  // grid-stride loops cover the rest
}

__device__ std::size_t first_index() { return static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ std::size_t grid_stride() { return static_cast<std::size_t>(gridDim.x) * blockDim.x; }

__global__ void bias_activation_kernel(float* __restrict__ z, const float* __restrict__ b, int rows, int width,
                                       LayerActivation act, float a) {
  const std::size_t n = static_cast<std::size_t>(rows) * width;
  for (std::size_t i = first_index(); i < n; i += grid_stride()) {
    const float u = z[i] + b[i % width];
    if (act == LayerActivation::tanh)
      z[i] = tanhf(u);
    else if (act == LayerActivation::bound && a > 0.0f)
      z[i] = coupling::bound(u, a);
    else
      z[i] = u;
  }
}

__global__ void gather_kernel(const float* __restrict__ src, int rows, int dim, int first, int count,
                              float* __restrict__ dst) {
  const std::size_t n = static_cast<std::size_t>(rows) * count;
  for (std::size_t i = first_index(); i < n; i += grid_stride()) {
    const std::size_t r = i / count, j = i % count;
    dst[i] = src[r * dim + first + 2 * j];
  }
}

template <bool Forward>
__global__ void coupling_kernel(float* __restrict__ y, CouplingColumns c, const float* __restrict__ s,
                                const float* __restrict__ t, float* __restrict__ xt_saved, float* __restrict__ logdet,
                                int rows) {
  for (std::size_t r = first_index(); r < static_cast<std::size_t>(rows); r += grid_stride()) {
    float* row = y + r * c.dim + c.trans_first;
    const std::size_t o = r * c.trans_count;
    float sum = 0.0f;
    for (int j = 0; j < c.trans_count; ++j) {
      const float sj = s[o + j], tj = t[o + j];
      if (Forward) {
        xt_saved[o + j] = row[2 * j];
        row[2 * j] = coupling::forward(row[2 * j], sj, tj);
      } else {
        const float xt = coupling::inverse(row[2 * j], sj, tj);
        xt_saved[o + j] = xt;
        row[2 * j] = xt;
      }
      sum += sj;
    }
    if (Forward)
      logdet[r] += sum;
    else
      logdet[r] -= sum;
  }
}

__global__ void tanh_backward_kernel(float* __restrict__ d, const float* __restrict__ h, std::size_t n) {
  for (std::size_t i = first_index(); i < n; i += grid_stride()) d[i] *= coupling::tanh_grad<float>(h[i]);
}

__device__ float bounded_grad(float gs, float s, float a) { return a > 0.0f ? gs * coupling::bound_grad<float>(s, a) : gs; }

__global__ void backward_forward_split_kernel(const float* __restrict__ g, CouplingColumns c,
                                              const float* __restrict__ xt, const float* __restrict__ s,
                                              const float* __restrict__ gld, float a, float* __restrict__ g_trans,
                                              float* __restrict__ g_keep, float* __restrict__ gs, int rows) {
  const std::size_t n = static_cast<std::size_t>(rows) * c.dim;
  for (std::size_t i = first_index(); i < n; i += grid_stride()) {
    const std::size_t r = i / c.dim;
    const int col = static_cast<int>(i % c.dim);
    const int j = col / 2;
    if (col % 2 == c.keep_first) {
      g_keep[r * c.keep_count + j] = g[i];
    } else {
      const std::size_t k = r * c.trans_count + j;
      g_trans[k] = g[i];
      float v = coupling::forward_grad_s(g[i], xt[k], s[k]);
      if (gld) v = v + gld[r];
      gs[k] = bounded_grad(v, s[k], a);
    }
  }
}

__global__ void backward_forward_merge_kernel(float* __restrict__ g, CouplingColumns c,
                                              const float* __restrict__ g_trans, const float* __restrict__ g_keep,
                                              const float* __restrict__ s, int rows) {
  const std::size_t n = static_cast<std::size_t>(rows) * c.dim;
  for (std::size_t i = first_index(); i < n; i += grid_stride()) {
    const std::size_t r = i / c.dim;
    const int col = static_cast<int>(i % c.dim);
    const int j = col / 2;
    if (col % 2 == c.keep_first) {
      g[i] = g_keep[r * c.keep_count + j];
    } else {
      const std::size_t k = r * c.trans_count + j;
      g[i] = coupling::forward_grad_x(g_trans[k], s[k]);
    }
  }
}

__global__ void backward_inverse_split_kernel(const float* __restrict__ g, CouplingColumns c,
                                              const float* __restrict__ xt, const float* __restrict__ s,
                                              const float* __restrict__ gld, float a, float* __restrict__ g_keep,
                                              float* __restrict__ gs, float* __restrict__ gt, int rows) {
  const std::size_t n = static_cast<std::size_t>(rows) * c.dim;
  for (std::size_t i = first_index(); i < n; i += grid_stride()) {
    const std::size_t r = i / c.dim;
    const int col = static_cast<int>(i % c.dim);
    const int j = col / 2;
    if (col % 2 == c.keep_first) {
      g_keep[r * c.keep_count + j] = g[i];
    } else {
      const std::size_t k = r * c.trans_count + j;
      float v = coupling::inverse_grad_s(g[i], xt[k]);
      if (gld) v = v - gld[r];
      gs[k] = bounded_grad(v, s[k], a);
      gt[k] = coupling::inverse_grad_t(g[i], s[k]);
    }
  }
}

__global__ void backward_inverse_merge_kernel(float* __restrict__ g, CouplingColumns c, const float* __restrict__ gt,
                                              const float* __restrict__ g_keep, int rows) {
  const std::size_t n = static_cast<std::size_t>(rows) * c.dim;
  for (std::size_t i = first_index(); i < n; i += grid_stride()) {
    const std::size_t r = i / c.dim;
    const int col = static_cast<int>(i % c.dim);
    const int j = col / 2;
    if (col % 2 == c.keep_first)
      g[i] = g_keep[r * c.keep_count + j];
    else
      g[i] = -gt[r * c.trans_count + j];
  }
}

__global__ void fill_kernel(float* __restrict__ p, std::size_t n, float value) {
  for (std::size_t i = first_index(); i < n; i += grid_stride()) p[i] = value;
}

}  // namespace

void realnvp_bias_activation(float* z, const float* b, int rows, int width, LayerActivation act, float a,
                             cudaStream_t stream) {
  const std::size_t n = static_cast<std::size_t>(rows) * width;
  if (n == 0) return;
  bias_activation_kernel<<<blocks_for(n), threads_per_block, 0, stream>>>(z, b, rows, width, act, a);
  CUDA_LAUNCH_CHECK("bias_activation_kernel", stream);
}

void realnvp_gather(const float* src, int rows, int dim, int first, int count, float* dst, cudaStream_t stream) {
  const std::size_t n = static_cast<std::size_t>(rows) * count;
  if (n == 0) return;
  gather_kernel<<<blocks_for(n), threads_per_block, 0, stream>>>(src, rows, dim, first, count, dst);
  CUDA_LAUNCH_CHECK("gather_kernel", stream);
}

void realnvp_coupling_forward(float* y, const CouplingColumns& c, const float* s, const float* t, float* xt_saved,
                              float* logdet, int rows, cudaStream_t stream) {
  if (rows <= 0) return;
  coupling_kernel<true><<<blocks_for(rows), threads_per_block, 0, stream>>>(y, c, s, t, xt_saved, logdet, rows);
  CUDA_LAUNCH_CHECK("coupling_kernel<true>", stream);
}

void realnvp_coupling_inverse(float* x, const CouplingColumns& c, const float* s, const float* t, float* xt_saved,
                              float* logdet, int rows, cudaStream_t stream) {
  if (rows <= 0) return;
  coupling_kernel<false><<<blocks_for(rows), threads_per_block, 0, stream>>>(x, c, s, t, xt_saved, logdet, rows);
  CUDA_LAUNCH_CHECK("coupling_kernel<false>", stream);
}

void realnvp_tanh_backward(float* d, const float* h, std::size_t n, cudaStream_t stream) {
  if (n == 0) return;
  tanh_backward_kernel<<<blocks_for(n), threads_per_block, 0, stream>>>(d, h, n);
  CUDA_LAUNCH_CHECK("tanh_backward_kernel", stream);
}

void realnvp_backward_forward_split(const float* g, const CouplingColumns& c, const float* xt, const float* s,
                                    const float* gld, float a, float* g_trans, float* g_keep, float* gs, int rows,
                                    cudaStream_t stream) {
  const std::size_t n = static_cast<std::size_t>(rows) * c.dim;
  if (n == 0) return;
  backward_forward_split_kernel<<<blocks_for(n), threads_per_block, 0, stream>>>(g, c, xt, s, gld, a, g_trans, g_keep,
                                                                                 gs, rows);
  CUDA_LAUNCH_CHECK("backward_forward_split_kernel", stream);
}

void realnvp_backward_forward_merge(float* g, const CouplingColumns& c, const float* g_trans, const float* g_keep,
                                    const float* s, int rows, cudaStream_t stream) {
  const std::size_t n = static_cast<std::size_t>(rows) * c.dim;
  if (n == 0) return;
  backward_forward_merge_kernel<<<blocks_for(n), threads_per_block, 0, stream>>>(g, c, g_trans, g_keep, s, rows);
  CUDA_LAUNCH_CHECK("backward_forward_merge_kernel", stream);
}

void realnvp_backward_inverse_split(const float* g, const CouplingColumns& c, const float* xt, const float* s,
                                    const float* gld, float a, float* g_keep, float* gs, float* gt, int rows,
                                    cudaStream_t stream) {
  const std::size_t n = static_cast<std::size_t>(rows) * c.dim;
  if (n == 0) return;
  backward_inverse_split_kernel<<<blocks_for(n), threads_per_block, 0, stream>>>(g, c, xt, s, gld, a, g_keep, gs, gt,
                                                                                 rows);
  CUDA_LAUNCH_CHECK("backward_inverse_split_kernel", stream);
}

void realnvp_backward_inverse_merge(float* g, const CouplingColumns& c, const float* gt, const float* g_keep, int rows,
                                    cudaStream_t stream) {
  const std::size_t n = static_cast<std::size_t>(rows) * c.dim;
  if (n == 0) return;
  backward_inverse_merge_kernel<<<blocks_for(n), threads_per_block, 0, stream>>>(g, c, gt, g_keep, rows);
  CUDA_LAUNCH_CHECK("backward_inverse_merge_kernel", stream);
}

void realnvp_fill(float* p, std::size_t n, float value, cudaStream_t stream) {
  if (n == 0) return;
  fill_kernel<<<blocks_for(n), threads_per_block, 0, stream>>>(p, n, value);
  CUDA_LAUNCH_CHECK("fill_kernel", stream);
}

}  // namespace boltzmap::cuda
