// Preprocessing layer 5 (METHOD.md): per particle index k and axis d, y = c_kd + wrap(x − c_kd)
// with wrap(u) = u − L·round(u/L), so each relabelled particle's cloud sits in the window
// [c_kd − L/2, c_kd + L/2) around its centre instead of being cut by the box edge. The centres are
// fitted once as the circular mean of that coordinate over the fitting data. Volume preserving
// (log-det 0); the inverse wraps back into [0, L). Tests: tests/transforms/test_layers.cpp.
#pragma once
#include <cmath>
#include <numbers>
#include <span>
#include <vector>

#include "core/hd.hpp"
#include "physics/box.hpp"
#include "transforms/batch.hpp"

namespace boltzmap {

// Circular mean of each (particle, axis) column over the rows, in [0, L): L/2π · atan2(⟨sin θ⟩, ⟨cos θ⟩)
// with θ = 2πx/L; double accumulation. centres has particles·dim entries.
inline std::vector<double> fit_wrap_centres(BatchView b, double L) {
  const int m = b.row_size();
  std::vector<double> s(m, 0.0), c(m, 0.0), centres(m);
  const double k = 2.0 * std::numbers::pi / L;
  for (int r = 0; r < b.rows; ++r) {
    const float* x = b.row(r);
    for (int j = 0; j < m; ++j) {
      s[j] += std::sin(k * x[j]);
      c[j] += std::cos(k * x[j]);
    }
  }
  for (int j = 0; j < m; ++j) centres[j] = wrap_into_box(std::atan2(s[j], c[j]) / k, L, 1.0 / L);
  return centres;
}

// One row of m = particles·dim coordinates: y_j = c_j + minimum_image(y_j − c_j) (in double).
// Host and device code.
BOLTZMAP_HD void wrap_row(float* x, int m, const double* centres, double L) {
  for (int j = 0; j < m; ++j) {
    const double u = static_cast<double>(x[j]) - centres[j];
    x[j] = static_cast<float>(centres[j] + minimum_image(u, L, 1.0 / L));
  }
}

// One row of m coordinates back into [0, L) (float). Host and device code.
BOLTZMAP_HD void wrap_inverse_row(float* x, int m, float L) {
  const float inv = 1.0f / L;
  for (int j = 0; j < m; ++j) x[j] = wrap_into_box(x[j], L, inv);
}

inline void wrap_forward(BatchView b, std::span<const double> centres, double L) {
  for (int r = 0; r < b.rows; ++r) wrap_row(b.row(r), b.row_size(), centres.data(), L);
}

inline void wrap_inverse(BatchView b, double L) {
  for (int r = 0; r < b.rows; ++r) wrap_inverse_row(b.row(r), b.row_size(), static_cast<float>(L));
}

}  // namespace boltzmap
