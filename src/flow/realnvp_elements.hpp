// The GPU real-NVP's element-wise steps, one element (or one row) per call, written once for the
// CUDA kernels (kernels/realnvp.cu: one thread per element) and for the host model of the GPU
// passes that tests them on the CPU (tests/flow/test_realnvp_gpu_model.cpp: a loop). The maths
// inside is src/flow/coupling_math.hpp, the functions RealNvp<T> uses; this file adds only the
// indexing of the GPU's buffers.
// Layouts: x, y, g [row][D] (D = dim, the parities interleaved); a part of one parity [row][count]
// (component first + 2j in column j; first is the parity, so component c of the D-vector is
// column c / 2 of the part of parity c % 2); layer activations [row][width]; logdet, gld [row].
// Tests: tests/flow/test_realnvp_gpu_model.cpp (on the CPU), tests/gpu/test_realnvp_parity.cpp.
#pragma once
#include <cstddef>

#include "core/hd.hpp"
#include "flow/coupling_math.hpp"

namespace boltzmap::nvp {

// The split of one coupling block: the kept and transformed components of the D-vector.
struct CouplingColumns {
  int dim;                       // D
  int keep_first, keep_count;    // kept: keep_first, keep_first + 2, …
  int trans_first, trans_count;  // transformed
};

enum class LayerActivation { linear, tanh, bound };

// z[i] ← act(z[i] + b[i % width]); bound: a·tanh(·/a) for a > 0 (linear for a = 0).
template <class T>
BOLTZMAP_HD void bias_activation_element(T* z, const T* b, int width, LayerActivation act, T a, std::size_t i) {
  using std::tanh;
  const T u = z[i] + b[i % static_cast<std::size_t>(width)];
  if (act == LayerActivation::tanh)
    z[i] = tanh(u);
  else if (act == LayerActivation::bound && a > T(0))
    z[i] = coupling::bound(u, a);
  else
    z[i] = u;
}

// dst[i] = dst[r][j] ← src[r][first + 2j].
template <class T>
BOLTZMAP_HD void gather_element(const T* src, int dim, int first, int count, T* dst, std::size_t i) {
  const std::size_t r = i / count, j = i % count;
  dst[i] = src[r * dim + first + 2 * j];
}

// Row r of one coupling block, in place on y [row][D]. Forward: x_T = y[trans] is saved, then
// y[trans] ← x_T e^s + t, logdet[r] += Σ_j s. Inverse: y[trans] ← x_T = (y[trans] − t) e^(−s) is
// saved, logdet[r] −= Σ_j s. The sum runs over j in order, then meets logdet (as RealNvp does).
template <bool Forward, class T>
BOLTZMAP_HD void coupling_row(T* y, const CouplingColumns& c, const T* s, const T* t, T* xt_saved, T* logdet,
                              std::size_t r) {
  T* row = y + r * c.dim + c.trans_first;
  const std::size_t o = r * c.trans_count;
  T sum = T(0);
  for (int j = 0; j < c.trans_count; ++j) {
    const T sj = s[o + j], tj = t[o + j];
    if (Forward) {
      xt_saved[o + j] = row[2 * j];
      row[2 * j] = coupling::forward(row[2 * j], sj, tj);
    } else {
      const T xt = coupling::inverse(row[2 * j], sj, tj);
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

// d[i] ← d[i] · (1 − h[i]²): through the tanh, from its output h.
template <class T>
BOLTZMAP_HD void tanh_backward_element(T* d, const T* h, std::size_t i) {
  d[i] *= coupling::tanh_grad<T>(h[i]);
}

template <class T>
BOLTZMAP_HD T through_bound(T gs, T s, T a) {
  return a > T(0) ? gs * coupling::bound_grad<T>(s, a) : gs;
}

// Reverse pass of a forward block, before its networks; element i of g [row][D] = dL/dy:
// kept → g_keep; transformed → g_trans = g, gs = (g x_T e^s + gld[r]) · bound'(s) (gld null: 0).
template <class T>
BOLTZMAP_HD void backward_forward_split_element(const T* g, const CouplingColumns& c, const T* xt, const T* s,
                                                const T* gld, T a, T* g_trans, T* g_keep, T* gs, std::size_t i) {
  const std::size_t r = i / c.dim;
  const int col = static_cast<int>(i % c.dim), j = col / 2;
  if (col % 2 == c.keep_first) {
    g_keep[r * c.keep_count + j] = g[i];
  } else {
    const std::size_t k = r * c.trans_count + j;
    g_trans[k] = g[i];
    T v = coupling::forward_grad_s(g[i], xt[k], s[k]);
    if (gld) v = v + gld[r];
    gs[k] = through_bound(v, s[k], a);
  }
}

// ... and after them (g_keep now holds the networks' share too): g[trans] ← g_trans e^s, g[keep] ← g_keep.
template <class T>
BOLTZMAP_HD void backward_forward_merge_element(T* g, const CouplingColumns& c, const T* g_trans, const T* g_keep,
                                                const T* s, std::size_t i) {
  const std::size_t r = i / c.dim;
  const int col = static_cast<int>(i % c.dim), j = col / 2;
  if (col % 2 == c.keep_first) {
    g[i] = g_keep[r * c.keep_count + j];
  } else {
    const std::size_t k = r * c.trans_count + j;
    g[i] = coupling::forward_grad_x(g_trans[k], s[k]);
  }
}

// Reverse pass of an inverse block, before its networks; element i of g = dL/dx: kept → g_keep;
// transformed → gs = (−g x_T − gld[r]) · bound'(s), gt = −g e^(−s).
template <class T>
BOLTZMAP_HD void backward_inverse_split_element(const T* g, const CouplingColumns& c, const T* xt, const T* s,
                                                const T* gld, T a, T* g_keep, T* gs, T* gt, std::size_t i) {
  const std::size_t r = i / c.dim;
  const int col = static_cast<int>(i % c.dim), j = col / 2;
  if (col % 2 == c.keep_first) {
    g_keep[r * c.keep_count + j] = g[i];
  } else {
    const std::size_t k = r * c.trans_count + j;
    T v = coupling::inverse_grad_s(g[i], xt[k]);
    if (gld) v = v - gld[r];
    gs[k] = through_bound(v, s[k], a);
    gt[k] = coupling::inverse_grad_t(g[i], s[k]);
  }
}

// ... and after them: g[trans] ← −gt (dL/dy_T = −dL/dt), g[keep] ← g_keep.
template <class T>
BOLTZMAP_HD void backward_inverse_merge_element(T* g, const CouplingColumns& c, const T* gt, const T* g_keep,
                                                std::size_t i) {
  const std::size_t r = i / c.dim;
  const int col = static_cast<int>(i % c.dim), j = col / 2;
  if (col % 2 == c.keep_first)
    g[i] = g_keep[r * c.keep_count + j];
  else
    g[i] = -gt[r * c.trans_count + j];
}

}  // namespace boltzmap::nvp
