// Real-NVP on the GPU, the element-wise part: host launchers only (the kernels stay private to
// realnvp.cu). The matrix products are cuBLAS calls in the class around them, CudaRealNvp
// (src/flow/realnvp_cuda.cpp), the twin of RealNvp<float> (src/flow/realnvp.cpp); the maths of
// each element is src/flow/coupling_math.hpp, shared with the CPU.
// Layouts: x, y, gx, gy [row][D] (D = dim, the parities interleaved); a part of one parity
// [row][count] (component first + 2j in column j); layer activations [row][width]; logdet, gld
// [row]. All float32, device pointers, asynchronous on `stream`.
// Tests: tests/gpu/test_realnvp_parity.cpp.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>

namespace boltzmap::cuda {

// The split of one coupling block: the kept and transformed components of the D-vector.
struct CouplingColumns {
  int dim;                      // D
  int keep_first, keep_count;   // kept: keep_first, keep_first + 2, …
  int trans_first, trans_count;  // transformed
};

enum class LayerActivation { linear, tanh, bound };

// z[r][o] ← act(z[r][o] + b[o]); bound: a·tanh(·/a) (a > 0; linear for a = 0).
void realnvp_bias_activation(float* z, const float* b, int rows, int width, LayerActivation act, float a,
                             cudaStream_t stream);

// dst[r][j] ← src[r][first + 2j] (src [row][dim]).
void realnvp_gather(const float* src, int rows, int dim, int first, int count, float* dst, cudaStream_t stream);

// Forward coupling, in place on y [row][D]: x_T ← y[trans], xt_saved ← x_T, y[trans] ← x_T e^s + t,
// logdet[r] += Σ_j s[r][j].
void realnvp_coupling_forward(float* y, const CouplingColumns& c, const float* s, const float* t, float* xt_saved,
                              float* logdet, int rows, cudaStream_t stream);

// Inverse coupling, in place on x [row][D]: x[trans] ← (x[trans] − t) e^(−s), xt_saved ← that,
// logdet[r] −= Σ_j s[r][j].
void realnvp_coupling_inverse(float* x, const CouplingColumns& c, const float* s, const float* t, float* xt_saved,
                              float* logdet, int rows, cudaStream_t stream);

// d[i] ← d[i] · (1 − h[i]²) (the tanh's derivative from its output), n elements.
void realnvp_tanh_backward(float* d, const float* h, std::size_t n, cudaStream_t stream);

// Reverse pass of one forward block, the part before the networks. From g [row][D] (dL/dy):
// g_trans = g[trans], g_keep = g[keep], gs = (g_trans x_T e^s + gld) · bound'(s) (bound' = 1 for
// a = 0; gld may be null: 0).
void realnvp_backward_forward_split(const float* g, const CouplingColumns& c, const float* xt, const float* s,
                                    const float* gld, float a, float* g_trans, float* g_keep, float* gs, int rows,
                                    cudaStream_t stream);
// ... and after them: g[trans] ← g_trans e^s, g[keep] ← g_keep (now holding the networks' share).
void realnvp_backward_forward_merge(float* g, const CouplingColumns& c, const float* g_trans, const float* g_keep,
                                    const float* s, int rows, cudaStream_t stream);

// Reverse pass of one inverse block, before the networks. From g [row][D] (dL/dx): g_keep = g[keep],
// gs = (−g[trans] x_T − gld) · bound'(s), gt = −g[trans] e^(−s).
void realnvp_backward_inverse_split(const float* g, const CouplingColumns& c, const float* xt, const float* s,
                                    const float* gld, float a, float* g_keep, float* gs, float* gt, int rows,
                                    cudaStream_t stream);
// ... and after them: g[trans] ← −gt, g[keep] ← g_keep.
void realnvp_backward_inverse_merge(float* g, const CouplingColumns& c, const float* gt, const float* g_keep, int rows,
                                    cudaStream_t stream);

// p[i] ← value, n elements.
void realnvp_fill(float* p, std::size_t n, float value, cudaStream_t stream);

}  // namespace boltzmap::cuda
