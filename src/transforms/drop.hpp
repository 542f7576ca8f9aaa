// Preprocessing layer 3 (METHOD.md): drop the central particle's D coordinates (after centring it
// sits exactly at the box centre, so they carry no information): N·D → (N − 1)·D numbers, the
// other particles in their original order. The inverse re-inserts a particle at the centre (as
// particle 0: labels need not be restored, U is permutation invariant). Log-det 0; the constant
// that the removed translation contributes to free energies is accounted where ΔF is computed.
// Tests: tests/transforms/test_layers.cpp.
#pragma once
#include <span>

#include "core/hd.hpp"

#include "transforms/batch.hpp"

namespace boltzmap {

// One configuration: x [particles][dim] → y [particles − 1][dim] without particle c. Host and
// device code.
BOLTZMAP_HD void drop_row(const float* x, int particles, int dim, int c, float* y) {
  for (int i = 0, k = 0; i < particles; ++i) {
    if (i == c) continue;
    for (int d = 0; d < dim; ++d) y[k * dim + d] = x[i * dim + d];
    ++k;
  }
}

// One configuration: y [particles][dim] (N − 1 of them) → x [particles + 1][dim] with particle 0
// at the centre (L/2, …). Host and device code.
BOLTZMAP_HD void drop_inverse_row(const float* y, int particles, int dim, float half, float* x) {
  for (int d = 0; d < dim; ++d) x[d] = half;
  for (int k = 0; k < particles * dim; ++k) x[dim + k] = y[k];
}

// in: N particles; out: rows × (N − 1) × D.
inline void drop_forward(BatchView in, std::span<const int> centre, BatchView out) {
  for (int r = 0; r < in.rows; ++r) drop_row(in.row(r), in.particles, in.dim, centre[r], out.row(r));
}

// in: N − 1 particles; out: N particles with particle 0 at the centre (L/2, …).
inline void drop_inverse(BatchView in, double L, BatchView out) {
  const float half = static_cast<float>(0.5 * L);
  for (int r = 0; r < in.rows; ++r) drop_inverse_row(in.row(r), in.particles, in.dim, half, out.row(r));
}

}  // namespace boltzmap
