// Shared by the tests of the equivariant flow's pieces (spline, coupling, stack): a counter-keyed
// uniform draw and the signed difference of two points on a circle of length L.
#pragma once
#include <cmath>
#include <cstdint>

#include "core/rng.hpp"

namespace boltzmap::test {

// U(−1, 1), keyed by (seed, id, k) on the Test stream.
inline double uniform_pm1(std::uint64_t seed, std::uint32_t id, std::uint64_t k) {
  const Random4 r = philox(seed, RngStream::Test, id, k);
  return 2.0 * uniform_double(r.v[0], r.v[1]) - 1.0;
}

// a − b folded onto [−L/2, L/2].
inline double circle_diff(double a, double b, double L) { return a - b - L * std::round((a - b) / L); }

}  // namespace boltzmap::test
