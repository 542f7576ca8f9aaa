// Adam on the current CUDA device (built only with CUDA): the twin of Adam (src/flow/adam.hpp),
// with its moments m, v (double) in device memory. step() is kernels/adam.cu, which calls the
// same adam_update() as Adam::step with c1, c2 computed on the host in the same way
// (adam_corrections), so one step is bitwise the CPU's on the same inputs.
// Moments copy both ways for checkpoints (upload_moments / download_moments, or load / store
// from and to a CPU Adam). Every operation runs on the stream given at construction (e.g. the
// flow's, CudaRealNvp::stream()); step() only enqueues.
// Tests: tests/gpu/test_realnvp_parity.cpp (Parity.AdamStepBitwise).
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "cuda_check.cuh"
#include "flow/adam.hpp"

namespace boltzmap {

class CudaAdam {
 public:
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // as Adam
  std::int64_t steps = 0;                         // steps taken (the bias corrections' t)

  // n parameters, moments zero.
  CudaAdam(std::size_t n, cudaStream_t stream);

  std::size_t size() const { return m_.size(); }
  // θ ← Adam(θ, g) on n device floats each (params, grad: device pointers), ++steps.
  void step(float* params, const float* grad, double lr);

  // Moments and counter from / to the host (n doubles each; wrong sizes throw); synchronise.
  void upload_moments(std::span<const double> m, std::span<const double> v, std::int64_t step_count);
  void download_moments(std::span<double> m, std::span<double> v) const;
  // From / to a CPU Adam (hyper-parameters, steps, moments; a CPU Adam that has not stepped yet,
  // with empty moments, loads as zeros).
  void load(const Adam& cpu);
  void store(Adam& cpu) const;

  double* m_device() { return m_.data(); }
  double* v_device() { return v_.data(); }

 private:
  cudaStream_t stream_;
  cuda::DeviceBuffer<double> m_, v_;  // [n]
};

}  // namespace boltzmap
