// Periodic box (src/physics/box.hpp): minimum image against brute force over periodic images,
// wrap_into_box on random and edge-case inputs in float and double (this test found
// wrap_into_box returning −ulp for x just below L or 2L in float, fixed in box.hpp), and
// box_length. Random inputs come from Philox (RngStream::Test) with fixed seeds.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/rng.hpp"
#include "physics/box.hpp"
#include "physics/energy.hpp"

namespace boltzmap {
namespace {

constexpr std::uint64_t kSeed = 20240611;

double rand01(std::uint32_t id, std::uint64_t c, int k) {
  const Random4 r = philox(kSeed, RngStream::Test, id, c);
  return uniform_double(r.v[k % 2 * 2], r.v[k % 2 * 2 + 1]);
}

// Circular distance between two coordinates modulo L.
double circular(double a, double b, double L) {
  double d = std::fmod(std::abs(a - b), L);
  return std::min(d, L - d);
}

template <class T>
void check_minimum_image(T L, std::uint32_t id) {
  const T inv_L = T(1) / L;
  const double eps = std::numeric_limits<T>::epsilon();
  for (std::uint64_t c = 0; c < 20000; ++c) {
    // Displacements in (−3L, 3L), plus differences of two in-box coordinates (the MC case).
    const T u = c % 2 ? static_cast<T>((rand01(id, c, 0) * 6 - 3) * L)
                      : static_cast<T>(rand01(id, c, 0) * L) - static_cast<T>(rand01(id, c, 1) * L);
    const T m = minimum_image(u, L, inv_L);
    // Brute force over images k = −4..4 (|u| < 3L needs k up to ±3), in double.
    double best = std::abs(static_cast<double>(u));
    for (int k = -4; k <= 4; ++k) best = std::min(best, std::abs(static_cast<double>(u) + k * static_cast<double>(L)));
    // Rounding: u·inv_L and u − L·k in type T, each ≤ ½ ulp of numbers ≤ |u| + L: 4ε_T(|u| + L).
    const double tol = 4 * eps * (std::abs(static_cast<double>(u)) + L);
    ASSERT_LE(std::abs(static_cast<double>(m)), 0.5 * L + tol) << "L " << L << " u " << u << " case " << c;
    ASSERT_NEAR(std::abs(static_cast<double>(m)), best, tol) << "L " << L << " u " << u << " case " << c;
    // m is u shifted by a whole number of periods.
    ASSERT_LE(circular(m, u, L), tol) << "L " << L << " u " << u << " case " << c;
  }
}

TEST(Box, MinimumImageIsTheShortestImage) {
  std::uint32_t id = 0;
  for (double L : {1.0, 2.6, 6.5983, 6.6, 10.0}) {
    check_minimum_image<double>(L, id++);
    check_minimum_image<float>(static_cast<float>(L), id++);
  }
}

TEST(Box, SquaredDistanceIsTheShortestPeriodicVector) {
  // squared_distance (energy.hpp) in 2D and 3D against a brute force over all images −2..2 per
  // dimension. Both in double from the same float coordinates; tolerance 16 ε_d·L².
  for (int D : {2, 3}) {
    System s;
    s.box = Box{D, 6.5983};
    const double L = s.box.length;
    for (std::uint64_t c = 0; c < 5000; ++c) {
      float a[3], b[3];
      for (int d = 0; d < D; ++d) {
        a[d] = static_cast<float>(rand01(40 + D, c, 0) * L);
        b[d] = static_cast<float>(rand01(50 + D, c, 1) * L);
      }
      double best = INFINITY;
      const int kz = D == 3 ? 2 : 0;
      for (int kx = -2; kx <= 2; ++kx)
        for (int ky = -2; ky <= 2; ++ky)
          for (int k3 = -kz; k3 <= kz; ++k3) {
            const int k[3] = {kx, ky, k3};
            double r2 = 0;
            for (int d = 0; d < D; ++d) {
              const double u = static_cast<double>(a[d]) - b[d] + k[d] * L;
              r2 += u * u;
            }
            best = std::min(best, r2);
          }
      ASSERT_NEAR(squared_distance(s, a, b), best, 16 * std::numeric_limits<double>::epsilon() * L * L)
          << "D " << D << " case " << c;
    }
  }
}

template <class T>
void check_wrap(T L, T x, const char* what) {
  const T inv_L = T(1) / L;
  const T y = wrap_into_box(x, L, inv_L);
  ASSERT_TRUE(y >= T(0) && y < L) << what << ": L " << L << " x " << x << " -> " << y;
  // Congruent to x mod L: exact remainder in double (fmod is exact), error ≤ ulp(x) + ulp(L)
  // from x·inv_L → floor → x − L·k in type T.
  const double eps = std::numeric_limits<T>::epsilon();
  const double tol = 2 * eps * (std::abs(static_cast<double>(x)) + L);
  EXPECT_LE(circular(y, std::fmod(static_cast<double>(x), static_cast<double>(L)), L), tol)
      << what << ": L " << L << " x " << x << " -> " << y;
}

template <class T>
void check_wrap_edges(T L) {
  const T tiny_values[] = {std::numeric_limits<T>::denorm_min(), std::numeric_limits<T>::min(), T(1e-30), T(1e-7)};
  for (T t : tiny_values) {
    check_wrap<T>(L, -t, "-tiny");
    check_wrap<T>(L, t, "+tiny");
    check_wrap<T>(L, L - t, "L - tiny");
    check_wrap<T>(L, L + t, "L + tiny");
  }
  const T inf = std::numeric_limits<T>::infinity();
  const T edges[] = {T(0), -T(0), L, -L, 2 * L, -2 * L, std::nextafter(L, T(0)), std::nextafter(L, inf),
                     std::nextafter(-L, T(0)), std::nextafter(-L, -inf), std::nextafter(2 * L, T(0)),
                     std::nextafter(2 * L, inf), std::nextafter(T(0), -inf), L / 2, T(1000) * L + L / 3,
                     -T(1000) * L - L / 3, T(12345.678), T(-12345.678)};
  for (T x : edges) check_wrap<T>(L, x, "edge");
}

TEST(Box, WrapIntoBoxEdgeCases) {
  for (double L : {1.0, 2.6, 6.5983, 6.6, 13.5741158}) {
    check_wrap_edges<double>(L);
    check_wrap_edges<float>(static_cast<float>(L));
  }
}

TEST(Box, WrapIntoBoxManyBoxSizes) {
  // Before the fix, x = prevfloat(L) gave y = x − L < 0 for about 10 % of random float L (x·inv_L
  // rounds up to 1). Scan 20000 box sizes in [0.5, 20) with the MC's typical inputs x ∈ (−Δ, L + Δ)
  // and the near-L / near-0 edges.
  for (std::uint64_t c = 0; c < 20000; ++c) {
    const float L = static_cast<float>(0.5 + 19.5 * rand01(7, c, 0));
    check_wrap<float>(L, std::nextafter(L, 0.0f), "prev(L)");
    check_wrap<float>(L, std::nextafter(2 * L, 0.0f), "prev(2L)");
    check_wrap<float>(L, -std::numeric_limits<float>::denorm_min(), "-denorm");
    check_wrap<float>(L, static_cast<float>((rand01(8, c, 1) * 1.4 - 0.2) * L), "random");
    const double Ld = 0.5 + 19.5 * rand01(9, c, 0);
    check_wrap<double>(Ld, std::nextafter(Ld, 0.0), "prev(L)");
    check_wrap<double>(Ld, (rand01(10, c, 1) * 1.4 - 0.2) * Ld, "random");
    if (HasFatalFailure()) return;
  }
}

TEST(Box, BoxLengthAndVolume) {
  // METHOD.md: N = 32, ρ = 0.735, 2D: L = √(32/0.735) ≈ 6.5983.
  EXPECT_NEAR(box_length(32, 0.735, 2), std::sqrt(32 / 0.735), 1e-14);
  EXPECT_NEAR(box_length(32, 0.735, 2), 6.5983, 5e-5);
  EXPECT_NEAR(box_length(54, 0.5, 3), std::cbrt(108.0), 1e-13);
  EXPECT_NEAR((Box{2, 6.5}.volume()), 42.25, 1e-13);
  EXPECT_NEAR((Box{3, 2.0}.volume()), 8.0, 1e-14);
}

}  // namespace
}  // namespace boltzmap
