// Adam on the GPU: host launcher only. The twin of Adam::step (src/flow/adam.hpp); both call
// adam_update() (src/flow/adam_math.hpp), so a step is bitwise the CPU's. The class around it is
// CudaAdam (src/flow/adam_cuda.hpp). Tests: tests/gpu/test_realnvp_parity.cpp.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>

#include "flow/adam_math.hpp"

namespace boltzmap::cuda {

// One step on n parameters: params float32 [n], grad float32 [n], m and v double [n] (device).
void adam_step(float* params, const float* grad, double* m, double* v, std::size_t n, const AdamCoefficients& k,
               cudaStream_t stream);

}  // namespace boltzmap::cuda
