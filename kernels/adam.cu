// Adam's element-wise step (see adam.cuh): one thread per parameter, adam_update() in double.
#include "adam.cuh"

#include <algorithm>

#include "cuda_check.cuh"

namespace boltzmap::cuda {

namespace {

__global__ void adam_step_kernel(float* __restrict__ params, const float* __restrict__ grad, double* __restrict__ m,
                                 double* __restrict__ v, std::size_t n, AdamCoefficients k) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    adam_update<float>(params[i], m[i], v[i], static_cast<double>(grad[i]), k);
}

}  // namespace

void adam_step(float* params, const float* grad, double* m, double* v, std::size_t n, const AdamCoefficients& k,
               cudaStream_t stream) {
  if (n == 0) return;
  constexpr int threads = 256;
  const std::size_t blocks = std::min<std::size_t>((n + threads - 1) / threads, 65535 * 16);
  adam_step_kernel<<<static_cast<unsigned>(blocks), threads, 0, stream>>>(params, grad, m, v, n, k);
  CUDA_LAUNCH_CHECK("adam_step_kernel", stream);
}

}  // namespace boltzmap::cuda
