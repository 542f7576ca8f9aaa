// Host launchers of the losses' element-wise steps on the device (twin: loss_term in
// src/flow/loss.cpp; driver: cuda_losses in src/flow/loss_cuda.cpp). Device pointers,
// asynchronous on `stream`.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>

namespace boltzmap::cuda {

// out[i] = double(in[i]), n elements (the flow's float32 output → the energies' double input).
void loss_to_double(const float* in, double* out, std::size_t n, cudaStream_t stream);

// One loss term's value and the seeds of its backward pass, as loss_term does on the CPU:
//   *value = (Σ_r (e[r] − double(logdet[r])) − box·rows) / n          (one block; a fixed order)
//   g_mapped[r][k] = float((λ/n)·g_e[r][k]),  g_logdet[r] = float(−λ/n)   (when g_e is non-null)
// e [rows], logdet [rows], g_e [rows][width] double, g_mapped [rows][width], g_logdet [rows].
void loss_term_finish(const double* e, const float* logdet, int rows, double box, double n, double* value,
                      const double* g_e, int width, double lambda, float* g_mapped, float* g_logdet,
                      cudaStream_t stream);

// *flag = 1 when every one of the n floats at p is finite, else 0 (a step's gradient check,
// without copying the gradient to the host).
void all_finite(const float* p, std::size_t n, int* flag, cudaStream_t stream);

}  // namespace boltzmap::cuda
