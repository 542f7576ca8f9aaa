// The GPU real-NVP's passes as one algorithm over an abstract set of operations ("Ops"), so that
// the code CudaRealNvp runs (src/flow/realnvp_cuda.cpp: Ops = cuBLAS + kernels/realnvp.cu) is
// also run on the CPU by the host model in tests/flow/test_realnvp_gpu_model.cpp (Ops = loops
// over the same element functions, src/flow/realnvp_elements.hpp, and a reference column-major
// GEMM with cuBLAS's argument convention), there checked against RealNvp<double> — the only
// untested parts on a machine without a GPU are then cuBLAS itself and the kernel launches.
// The steps follow RealNvp<T> (src/flow/realnvp.cpp) one for one.
//
// Products, in cuBLAS's column-major convention (GemmCall): a row-major [rows][n] matrix is, to
// it, the column-major n × rows matrix with leading dimension n. With W [out][in] row-major (to
// cuBLAS: in × out, ld in):
//   Y = X·Wᵀ      → Yᵀ (out × rows) = op_T(W) · Xᵀ      layer_forward_gemm      A = W, B = X, C = Y
//   dW += δᵀ·X    → dWᵀ (in × out) += Xᵀ · op_T(δᵀ)     layer_weight_grad_gemm  A = X, B = δ, C = dW
//   dX (+)= δ·W   → dXᵀ (in × rows) = W · δᵀ            layer_input_grad_gemm   A = W, B = δ, C = dX
//   db += δᵀ·1    → gemv(N) of δ (out × rows, ld out) with the ones vector
//
// Ops provides (T = float on the GPU; all pointers into Ops's memory, all sizes in elements):
//   copy(dst, src, n), zero(p, n), gemm(GemmCall, A, B, beta, C) [alpha = 1],
//   bias_grad(out, rows, delta, ones, gb) [gb += δᵀ·1], bias_activation(z, b, rows, width, act, a),
//   gather(src, rows, dim, first, count, dst), coupling<Forward>(y, cols, s, t, xt, logdet, rows),
//   tanh_backward(d, h, n), backward_forward_split(g, cols, xt, s, gld, a, g_trans, g_keep, gs, rows),
//   backward_forward_merge(g, cols, g_trans, g_keep, s, rows),
//   backward_inverse_split(g, cols, xt, s, gld, a, g_keep, gs, gt, rows),
//   backward_inverse_merge(g, cols, gt, g_keep, rows)
// — each the element function of realnvp_elements.hpp of the same name over all elements (rows).
#pragma once
#include <cstddef>
#include <vector>

#include "flow/realnvp_elements.hpp"
#include "flow/realnvp_layout.hpp"

namespace boltzmap::nvp {

// C ← op(A)·op(B) + beta·C, column-major: op(A) m × k, op(B) k × n, C m × n (cublasSgemm's
// arguments, alpha = 1).
struct GemmCall {
  bool trans_a, trans_b;
  int m, n, k, lda, ldb, ldc;
};

inline GemmCall layer_forward_gemm(const NvpLayer& ly, int rows) {
  return {true, false, ly.out, rows, ly.in, ly.in, ly.in, ly.out};
}
inline GemmCall layer_weight_grad_gemm(const NvpLayer& ly, int rows) {
  return {false, true, ly.in, ly.out, rows, ly.in, ly.out, ly.in};
}
inline GemmCall layer_input_grad_gemm(const NvpLayer& ly, int rows) {
  return {false, false, ly.in, rows, ly.out, ly.in, ly.out, ly.in};
}

inline CouplingColumns columns(const NvpBlockLayout& b, int dim) {
  return {dim, b.keep.first, b.keep.count, b.trans.first, b.trans.count};
}

// The buffers of one pass and its backward pass (pointers into the Ops's memory).
template <class T>
struct BlockView {
  T* keep;                   // [row][keep count]: x_K, the networks' input
  T* xt;                     // [row][trans count]: x_T (forward: the input; inverse: the output)
  T* s;                      // [row][trans count]: S after the bound
  std::vector<T*> hid_s, hid_t;  // [row][hidden[l]]: the tanh outputs of S's and T's hidden layers
};
template <class T>
struct WorkView {
  std::vector<BlockView<T>> block;
  T* t;                    // [row][(D+1)/2]: T's output
  T* g_trans;              // [row][(D+1)/2]: dL/d(transformed part)
  T* g_keep;               // [row][(D+1)/2]: dL/d(kept part)
  T* gs;                   // [row][(D+1)/2]: dL/dS before the bound
  T* gt;                   // [row][(D+1)/2]: dL/dT (inverse pass)
  std::vector<T*> delta;   // [row][hidden[l]]: dL/d(pre-activation of hidden layer l)
  const T* ones;           // [row]: 1
};

template <class T, class Ops>
void mlp_forward(Ops& ops, const std::vector<NvpLayer>& m, const T* params, const T* h, const std::vector<T*>& hid,
                 T* out, bool bounded, T a, int rows) {
  const T* x = h;
  for (std::size_t l = 0; l < m.size(); ++l) {
    const NvpLayer& ly = m[l];
    const bool last = l + 1 == m.size();
    T* dst = last ? out : hid[l];
    ops.gemm(layer_forward_gemm(ly, rows), params + ly.w, x, T(0), dst);
    const LayerActivation act = !last ? LayerActivation::tanh : bounded ? LayerActivation::bound : LayerActivation::linear;
    ops.bias_activation(dst, params + ly.b, rows, ly.out, act, a);
    x = dst;
  }
}

// g_out = dL/d(the MLP's output before the bound) [row][out]; adds dL/dθ into grad and dL/dh into gh.
template <class T, class Ops>
void mlp_backward(Ops& ops, const std::vector<NvpLayer>& m, const T* params, const T* h, const std::vector<T*>& hid,
                  const T* g_out, T* grad, T* gh, const WorkView<T>& w, int rows) {
  const T* g = g_out;  // dL/d(layer l's output before its activation)
  for (std::size_t l = m.size(); l-- > 0;) {
    const NvpLayer& ly = m[l];
    const T* x = l == 0 ? h : hid[l - 1];  // the layer's input [row][in]
    ops.gemm(layer_weight_grad_gemm(ly, rows), x, g, T(1), grad + ly.w);
    ops.bias_grad(ly.out, rows, g, w.ones, grad + ly.b);
    if (l > 0) {
      T* d = w.delta[l - 1];  // dL/d(tanh output of layer l − 1), then through the tanh
      ops.gemm(layer_input_grad_gemm(ly, rows), params + ly.w, g, T(0), d);
      ops.tanh_backward(d, hid[l - 1], static_cast<std::size_t>(rows) * ly.in);
      g = d;
    } else {
      ops.gemm(layer_input_grad_gemm(ly, rows), params + ly.w, g, T(1), gh);
    }
  }
}

// Forward (F: in = x, out = y) or inverse (F⁻¹: in = y, out = x) pass; logdet written. in == out allowed.
template <class T, class Ops>
void run_pass(Ops& ops, const NvpLayout& L, int dim, T a, const T* params, bool forward, const T* in, T* out, T* logdet,
              int rows, const WorkView<T>& w) {
  const std::size_t R = static_cast<std::size_t>(rows);
  if (out != in) ops.copy(out, in, R * dim);
  ops.zero(logdet, R);
  const std::size_t B = L.blocks.size();
  for (std::size_t k = 0; k < B; ++k) {
    const std::size_t b = forward ? k : B - 1 - k;
    const NvpBlockLayout& blk = L.blocks[b];
    const BlockView<T>& v = w.block[b];
    ops.gather(out, rows, dim, blk.keep.first, blk.keep.count, v.keep);
    mlp_forward(ops, blk.s, params, v.keep, v.hid_s, v.s, true, a, rows);
    mlp_forward(ops, blk.t, params, v.keep, v.hid_t, w.t, false, a, rows);
    if (forward)
      ops.template coupling<true>(out, columns(blk, dim), v.s, w.t, v.xt, logdet, rows);
    else
      ops.template coupling<false>(out, columns(blk, dim), v.s, w.t, v.xt, logdet, rows);
  }
}

// Reverse pass of the last run_pass on w: from gin = dL/d(out) [row][D] and gld = dL/dlogdet
// (null: 0), adds dL/dθ into grad and writes gout = dL/d(in). gin == gout allowed.
template <class T, class Ops>
void run_backward(Ops& ops, const NvpLayout& L, int dim, T a, const T* params, bool forward, const T* gin,
                  const T* gld, T* grad, T* gout, int rows, const WorkView<T>& w) {
  if (gout != gin) ops.copy(gout, gin, static_cast<std::size_t>(rows) * dim);
  const std::size_t B = L.blocks.size();
  for (std::size_t k = 0; k < B; ++k) {
    const std::size_t b = forward ? B - 1 - k : k;  // the pass's blocks in reverse order
    const NvpBlockLayout& blk = L.blocks[b];
    const BlockView<T>& v = w.block[b];
    const CouplingColumns c = columns(blk, dim);
    if (forward) {
      // y_T = x_T e^s + t: dL/ds = g x_T e^s + gld (through the bound), dL/dt = g, dL/dx_T = g e^s.
      ops.backward_forward_split(gout, c, v.xt, v.s, gld, a, w.g_trans, w.g_keep, w.gs, rows);
      mlp_backward(ops, blk.s, params, v.keep, v.hid_s, w.gs, grad, w.g_keep, w, rows);
      mlp_backward(ops, blk.t, params, v.keep, v.hid_t, w.g_trans, grad, w.g_keep, w, rows);
      ops.backward_forward_merge(gout, c, w.g_trans, w.g_keep, v.s, rows);
    } else {
      // x_T = (y_T − t) e^(−s): dL/ds = −g x_T − gld (through the bound), dL/dt = −g e^(−s), dL/dy_T = −dL/dt.
      ops.backward_inverse_split(gout, c, v.xt, v.s, gld, a, w.g_keep, w.gs, w.gt, rows);
      mlp_backward(ops, blk.s, params, v.keep, v.hid_s, w.gs, grad, w.g_keep, w, rows);
      mlp_backward(ops, blk.t, params, v.keep, v.hid_t, w.gt, grad, w.g_keep, w, rows);
      ops.backward_inverse_merge(gout, c, w.gt, w.g_keep, rows);
    }
  }
}

}  // namespace boltzmap::nvp
