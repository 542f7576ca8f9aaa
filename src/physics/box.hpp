// Periodic cubic box (square in 2D) of side L with coordinates stored in [0, L) and the minimum
// image convention. Shared by CPU and GPU (BOLTZMAP_HD). Tests: tests/physics/test_box.cpp.
#pragma once
#include <cmath>

#include "core/hd.hpp"

namespace boltzmap {

// Minimum-image displacement: u - L·round(u/L), valid for any u (not only |u| < L).
template <class T>
BOLTZMAP_HD T minimum_image(T u, T L, T inv_L) {
  return u - L * std::nearbyint(u * inv_L);
}

// Wrap a coordinate into [0, L). x - L·floor(x·inv_L) can land just outside [0, L) in floating
// point, so it is corrected once each way: y < 0 when x·inv_L rounds up to an integer (x just
// below L or 2L: found by tests/physics/test_box.cpp; x = -denormal, where x·inv_L underflows to
// -0), and y = L when x = -tiny, where x + L rounds to exactly L (also after the first
// correction). Exact in [0, L) whenever the first step is off by at most one period, i.e. for
// |x| up to about 2^22·L in float.
template <class T>
BOLTZMAP_HD T wrap_into_box(T x, T L, T inv_L) {
  T y = x - L * std::floor(x * inv_L);
  if (y < T(0)) y += L;
  return y >= L ? y - L : y;
}

struct Box {
  int dimension = 2;
  double length = 1.0;  // side L (reduced units)
  double volume() const { return std::pow(length, dimension); }
};

// Side of the box holding n particles at number density rho in d dimensions: L = (n/rho)^(1/d).
inline double box_length(int n_particles, double density, int dimension) {
  return std::pow(static_cast<double>(n_particles) / density, 1.0 / dimension);
}

}  // namespace boltzmap
