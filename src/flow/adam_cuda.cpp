// See adam_cuda.hpp.
#include "flow/adam_cuda.hpp"

#include <string>
#include <vector>

#include "adam.cuh"
#include "core/error.hpp"

namespace boltzmap {

CudaAdam::CudaAdam(std::size_t n, cudaStream_t stream) : stream_(stream), m_(n), v_(n) {
  m_.fill_bytes(0, stream_);  // all-zero bytes: +0.0
  v_.fill_bytes(0, stream_);
  CUDA_CHECK(cudaStreamSynchronize(stream_));
}

void CudaAdam::step(float* params, const float* grad, double lr) {
  ++steps;
  AdamCoefficients k{beta1, beta2, eps, lr, 0.0, 0.0};
  adam_corrections(k, steps);
  cuda::adam_step(params, grad, m_.data(), v_.data(), m_.size(), k, stream_);
}

void CudaAdam::upload_moments(std::span<const double> m, std::span<const double> v, std::int64_t step_count) {
  if (m.size() != size() || v.size() != size())
    throw Error(ExitCode::failure, "CudaAdam::upload_moments: moments of " + std::to_string(m.size()) + " and " +
                                       std::to_string(v.size()) + " for " + std::to_string(size()) + " parameters");
  cuda::copy_to_device(m_, m, stream_);
  cuda::copy_to_device(v_, v, stream_);
  CUDA_CHECK(cudaStreamSynchronize(stream_));
  steps = step_count;
}

void CudaAdam::download_moments(std::span<double> m, std::span<double> v) const {
  if (m.size() != size() || v.size() != size())
    throw Error(ExitCode::failure, "CudaAdam::download_moments: room for " + std::to_string(m.size()) + " and " +
                                       std::to_string(v.size()) + ", the optimiser has " + std::to_string(size()));
  cuda::copy_to_host(m, m_, stream_);
  cuda::copy_to_host(v, v_, stream_);
  CUDA_CHECK(cudaStreamSynchronize(stream_));
}

void CudaAdam::load(const Adam& cpu) {
  beta1 = cpu.beta1;
  beta2 = cpu.beta2;
  eps = cpu.eps;
  if (cpu.m.empty() && cpu.v.empty()) {
    m_.fill_bytes(0, stream_);
    v_.fill_bytes(0, stream_);
    CUDA_CHECK(cudaStreamSynchronize(stream_));
    steps = cpu.steps;
    return;
  }
  upload_moments(cpu.m, cpu.v, cpu.steps);
}

void CudaAdam::store(Adam& cpu) const {
  cpu.beta1 = beta1;
  cpu.beta2 = beta2;
  cpu.eps = eps;
  cpu.steps = steps;
  cpu.m.resize(size());
  cpu.v.resize(size());
  download_moments(cpu.m, cpu.v);
}

}  // namespace boltzmap
