// Preprocessing layer 3 (METHOD.md): drop the central particle's D coordinates (after centring it
// sits exactly at the box centre, so they carry no information): N·D → (N − 1)·D numbers, the
// other particles in their original order. The inverse re-inserts a particle at the centre (as
// particle 0: labels need not be restored, U is permutation invariant). Log-det 0; the constant
// that the removed translation contributes to free energies is accounted where ΔF is computed.
// Tests: tests/transforms/test_layers.cpp.
#pragma once
#include <span>

#include "transforms/batch.hpp"

namespace boltzmap {

// in: N particles; out: rows × (N − 1) × D.
inline void drop_forward(BatchView in, std::span<const int> centre, BatchView out) {
  for (int r = 0; r < in.rows; ++r) {
    const float* x = in.row(r);
    float* y = out.row(r);
    for (int i = 0, k = 0; i < in.particles; ++i) {
      if (i == centre[r]) continue;
      for (int d = 0; d < in.dim; ++d) y[k * in.dim + d] = x[i * in.dim + d];
      ++k;
    }
  }
}

// in: N − 1 particles; out: N particles with particle 0 at the centre (L/2, …).
inline void drop_inverse(BatchView in, double L, BatchView out) {
  const float half = static_cast<float>(0.5 * L);
  for (int r = 0; r < in.rows; ++r) {
    const float* y = in.row(r);
    float* x = out.row(r);
    for (int d = 0; d < in.dim; ++d) x[d] = half;
    for (int k = 0; k < in.particles * in.dim; ++k) x[in.dim + k] = y[k];
  }
}

}  // namespace boltzmap
