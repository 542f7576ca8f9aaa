// Preprocessing layer 1 (METHOD.md): translate each configuration so that its particle c sits at
// the box centre, and wrap into [0, L). Volume preserving (log-det 0). The translation is
// returned per row so that inverse() restores the original coordinates exactly up to float
// round-off (U is translation invariant, so the inverse of generated configurations may use any
// translation — zero by default). Tests: tests/transforms/test_layers.cpp.
#pragma once
#include <cstddef>
#include <span>

#include "core/hd.hpp"

#include "physics/box.hpp"
#include "transforms/batch.hpp"

namespace boltzmap {

// One configuration x [particles][dim]: x ← wrap(x − x_c + L/2); shift[d] receives L/2 − x_c
// (the translation applied). Host and device code (the CUDA preprocessing runs it too).
BOLTZMAP_HD void centre_row(float* x, int particles, int dim, int c, float L, float* shift) {
  const float inv = 1.0f / L, half = 0.5f * L;
  for (int d = 0; d < dim; ++d) {
    const float t = half - x[c * dim + d];
    if (shift) shift[d] = t;
    for (int i = 0; i < particles; ++i) x[i * dim + d] = wrap_into_box(x[i * dim + d] + t, L, inv);
    x[c * dim + d] = half;  // exactly the centre, whatever the round-off
  }
}

// Every row: x ← wrap(x − x_c + L/2); shift[r·D + d] receives L/2 − x_c.
inline void centre_forward(BatchView b, std::span<const int> centre, double L, std::span<float> shift) {
  for (int r = 0; r < b.rows; ++r)
    centre_row(b.row(r), b.particles, b.dim, centre[r], static_cast<float>(L), shift.data() + static_cast<std::size_t>(r) * b.dim);
}

// x ← wrap(x − shift): undoes centre_forward.
inline void centre_inverse(BatchView b, std::span<const float> shift, double L) {
  const float Lf = static_cast<float>(L), inv = 1.0f / Lf;
  for (int r = 0; r < b.rows; ++r) {
    float* x = b.row(r);
    for (int d = 0; d < b.dim; ++d)
      for (int i = 0; i < b.particles; ++i) x[i * b.dim + d] = wrap_into_box(x[i * b.dim + d] - shift[r * b.dim + d], Lf, inv);
  }
}

}  // namespace boltzmap
