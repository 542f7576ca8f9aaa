// Real-NVP on the GPU, the element-wise part: host launchers only (the kernels stay private to
// realnvp.cu). Each launcher runs the element function of the same name in
// src/flow/realnvp_elements.hpp over every element (or row), one thread each; the products are
// cuBLAS calls, and the order of it all is src/flow/realnvp_passes.hpp, run by CudaRealNvp
// (src/flow/realnvp_cuda.cpp), the twin of RealNvp<float> (src/flow/realnvp.cpp).
// Layouts: see realnvp_elements.hpp. All float32, device pointers, asynchronous on `stream`.
// Tests: tests/gpu/test_realnvp_parity.cpp (and the same element functions on the CPU:
// tests/flow/test_realnvp_gpu_model.cpp).
#pragma once
#include <cuda_runtime.h>

#include <cstddef>

#include "flow/realnvp_elements.hpp"

namespace boltzmap::cuda {

using nvp::CouplingColumns;
using nvp::LayerActivation;

// z[r][o] ← act(z[r][o] + b[o]) (bias_activation_element).
void realnvp_bias_activation(float* z, const float* b, int rows, int width, LayerActivation act, float a,
                             cudaStream_t stream);
// dst[r][j] ← src[r][first + 2j] (gather_element).
void realnvp_gather(const float* src, int rows, int dim, int first, int count, float* dst, cudaStream_t stream);
// One coupling block in place on y [row][D], x_T saved, logdet updated (coupling_row, one thread per row).
void realnvp_coupling(bool forward, float* y, const CouplingColumns& c, const float* s, const float* t, float* xt_saved,
                      float* logdet, int rows, cudaStream_t stream);
// d[i] ← d[i]·(1 − h[i]²), n elements (tanh_backward_element).
void realnvp_tanh_backward(float* d, const float* h, std::size_t n, cudaStream_t stream);
// The reverse passes' element-wise steps around the networks (…_split_element, …_merge_element).
void realnvp_backward_forward_split(const float* g, const CouplingColumns& c, const float* xt, const float* s,
                                    const float* gld, float a, float* g_trans, float* g_keep, float* gs, int rows,
                                    cudaStream_t stream);
void realnvp_backward_forward_merge(float* g, const CouplingColumns& c, const float* g_trans, const float* g_keep,
                                    const float* s, int rows, cudaStream_t stream);
void realnvp_backward_inverse_split(const float* g, const CouplingColumns& c, const float* xt, const float* s,
                                    const float* gld, float a, float* g_keep, float* gs, float* gt, int rows,
                                    cudaStream_t stream);
void realnvp_backward_inverse_merge(float* g, const CouplingColumns& c, const float* gt, const float* g_keep, int rows,
                                    cudaStream_t stream);
// p[i] ← value, n elements.
void realnvp_fill(float* p, std::size_t n, float value, cudaStream_t stream);

}  // namespace boltzmap::cuda
