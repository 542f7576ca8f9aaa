// See loss.cuh. The value's sum runs in one block of 256 threads (strided partial sums, then a
// tree), so it is the same on every run; it is not the CPU's order (Eigen's vectorised sum), so the
// tests compare it within a stated tolerance. The gradient seeds are the CPU's bits given the same
// g_e (one multiplication and a conversion each).
#include <algorithm>

#include "cuda_check.cuh"
#include "loss.cuh"

namespace boltzmap::cuda {
namespace {

constexpr int kSumThreads = 256;

__global__ void to_double_kernel(const float* __restrict__ in, double* __restrict__ out, std::size_t n) {
  const std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) out[i] = static_cast<double>(in[i]);
}

__global__ void term_value_kernel(const double* __restrict__ e, const float* __restrict__ logdet, int rows, double box,
                                  double n, double* __restrict__ value) {
  __shared__ double part[kSumThreads];
  double s = 0.0;
  for (int r = static_cast<int>(threadIdx.x); r < rows; r += kSumThreads) s += e[r] - static_cast<double>(logdet[r]);
  part[threadIdx.x] = s;
  __syncthreads();
  for (int half = kSumThreads / 2; half > 0; half /= 2) {
    if (static_cast<int>(threadIdx.x) < half) part[threadIdx.x] += part[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) *value = (part[0] - box * static_cast<double>(rows)) / n;
}

__global__ void term_seeds_kernel(const double* __restrict__ g_e, std::size_t total, int width, double scale,
                                  float* __restrict__ g_mapped, float* __restrict__ g_logdet) {
  const std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= total) return;
  g_mapped[i] = static_cast<float>(scale * g_e[i]);
  if (i % static_cast<std::size_t>(width) == 0) g_logdet[i / static_cast<std::size_t>(width)] = static_cast<float>(-scale);
}

__global__ void set_flag_kernel(int* flag, int value) { *flag = value; }

__global__ void all_finite_kernel(const float* __restrict__ p, std::size_t n, int* flag) {
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    if (!isfinite(p[i])) *flag = 0;  // a benign race: every writer writes 0
}

unsigned blocks_for(std::size_t n, int threads) { return static_cast<unsigned>((n + threads - 1) / threads); }

}  // namespace

void loss_to_double(const float* in, double* out, std::size_t n, cudaStream_t stream) {
  if (n == 0) return;
  to_double_kernel<<<blocks_for(n, 256), 256, 0, stream>>>(in, out, n);
  CUDA_LAUNCH_CHECK("to_double_kernel", stream);
}

void loss_term_finish(const double* e, const float* logdet, int rows, double box, double n, double* value,
                      const double* g_e, int width, double lambda, float* g_mapped, float* g_logdet,
                      cudaStream_t stream) {
  term_value_kernel<<<1, kSumThreads, 0, stream>>>(e, logdet, rows, box, n, value);
  CUDA_LAUNCH_CHECK("term_value_kernel", stream);
  if (!g_e || rows == 0) return;
  const std::size_t total = static_cast<std::size_t>(rows) * width;
  // The CPU's (λ/n)·g then the conversion: (lambda / n) is formed once, as Eigen's scalar factor.
  term_seeds_kernel<<<blocks_for(total, 256), 256, 0, stream>>>(g_e, total, width, lambda / n, g_mapped, g_logdet);
  CUDA_LAUNCH_CHECK("term_seeds_kernel", stream);
}

void all_finite(const float* p, std::size_t n, int* flag, cudaStream_t stream) {
  set_flag_kernel<<<1, 1, 0, stream>>>(flag, 1);
  CUDA_LAUNCH_CHECK("set_flag_kernel", stream);
  if (n == 0) return;
  const unsigned blocks = std::min(blocks_for(n, 256), 1024u);
  all_finite_kernel<<<blocks, 256, 0, stream>>>(p, n, flag);
  CUDA_LAUNCH_CHECK("all_finite_kernel", stream);
}

}  // namespace boltzmap::cuda
