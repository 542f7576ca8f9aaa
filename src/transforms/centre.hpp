// Preprocessing layer 1 (METHOD.md): translate each configuration so that its particle c sits at
// the box centre, and wrap into [0, L). Volume preserving (log-det 0). The translation is
// returned per row so that inverse() restores the original coordinates exactly up to float
// round-off (U is translation invariant, so the inverse of generated configurations may use any
// translation — zero by default). Tests: tests/transforms/test_layers.cpp.
#pragma once
#include <span>

#include "physics/box.hpp"
#include "transforms/batch.hpp"

namespace boltzmap {

// x ← wrap(x − x_c + L/2); shift[r·D + d] receives L/2 − x_c (the translation applied).
inline void centre_forward(BatchView b, std::span<const int> centre, double L, std::span<float> shift) {
  const float Lf = static_cast<float>(L), inv = 1.0f / Lf, half = 0.5f * Lf;
  for (int r = 0; r < b.rows; ++r) {
    float* x = b.row(r);
    const int c = centre[r];
    for (int d = 0; d < b.dim; ++d) {
      const float t = half - x[c * b.dim + d];
      shift[r * b.dim + d] = t;
      for (int i = 0; i < b.particles; ++i) x[i * b.dim + d] = wrap_into_box(x[i * b.dim + d] + t, Lf, inv);
      x[c * b.dim + d] = half;  // exactly the centre, whatever the round-off
    }
  }
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
