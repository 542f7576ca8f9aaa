// Start lattices (src/physics/lattice.cpp): which N each lattice accepts, the exact positions of
// the centred-square lattice of METHOD.md ((i, j)·a and (i + ½, j + ½)·a, N = 2n²) and of bcc,
// all in [0, L), and the minimum pair distance (a/√2 in 2D, a√3/2 in 3D).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <vector>

#include "core/error.hpp"
#include "physics/energy.hpp"
#include "physics/lattice.hpp"

namespace boltzmap {
namespace {

TEST(Lattice, CellsPerSide) {
  EXPECT_EQ(lattice_cells("centered-square", 2, 32), 4);
  EXPECT_EQ(lattice_cells("centered-square", 2, 2), 1);
  EXPECT_EQ(lattice_cells("centered-square", 2, 8), 2);
  EXPECT_EQ(lattice_cells("centered-square", 2, 50), 5);
  for (int n : {0, 1, 3, 30, 31, 33, 16})
    EXPECT_FALSE(lattice_cells("centered-square", 2, n).has_value()) << "N " << n;
  EXPECT_EQ(lattice_cells("bcc", 3, 16), 2);
  EXPECT_EQ(lattice_cells("bcc", 3, 54), 3);
  EXPECT_EQ(lattice_cells("bcc", 3, 128), 4);
  for (int n : {0, 15, 17, 32, 53}) EXPECT_FALSE(lattice_cells("bcc", 3, n).has_value()) << "N " << n;
  // Wrong dimension or unknown name.
  EXPECT_FALSE(lattice_cells("bcc", 2, 32).has_value());
  EXPECT_FALSE(lattice_cells("bcc", 2, 16).has_value());
  EXPECT_FALSE(lattice_cells("centered-square", 3, 16).has_value());
  EXPECT_FALSE(lattice_cells("square", 2, 32).has_value());
  EXPECT_THROW(make_lattice("centered-square", 2, 30, 6.0), Error);
  EXPECT_THROW(make_lattice("bcc", 2, 16, 6.0), Error);
  try {
    make_lattice("centered-square", 2, 30, 6.0);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::input);
  }
}

// Checks that `x` holds exactly the points (c + ½h)·a, c ∈ {0..n−1}^D, h ∈ {0, 1}, each once, as the
// correctly rounded floats of the exact values (|x − exact| ≤ ½ ulp_float(exact)); all in [0, L).
void check_lattice(const std::vector<float>& x, int D, int n, double L) {
  const double a = L / n;
  const int cells = D == 2 ? n * n : n * n * n;
  ASSERT_EQ(static_cast<int>(x.size()), 2 * cells * D);
  std::map<std::vector<int>, int> seen;  // key: doubled cell coordinates 2c + h
  for (int p = 0; p < 2 * cells; ++p) {
    std::vector<int> key(D);
    for (int d = 0; d < D; ++d) {
      const float v = x[p * D + d];
      ASSERT_TRUE(v >= 0.0f && v < static_cast<float>(L)) << "particle " << p << " dim " << d << " = " << v;
      key[d] = static_cast<int>(std::lround(2.0 * v / a));
      const double exact = 0.5 * key[d] * a;
      const double half_ulp = 0.5 * (std::nextafter(static_cast<float>(exact), INFINITY) - static_cast<float>(exact));
      EXPECT_LE(std::abs(v - exact), half_ulp) << "particle " << p << " dim " << d;
    }
    // Either all doubled coordinates even (corner site) or all odd (centre site).
    int odd = 0;
    for (int d = 0; d < D; ++d) odd += key[d] % 2;
    EXPECT_TRUE(odd == 0 || odd == D) << "particle " << p << " is neither a corner nor a centre site";
    EXPECT_EQ(++seen[key], 1) << "particle " << p << " duplicates a site";
  }
  EXPECT_EQ(static_cast<int>(seen.size()), 2 * cells);
}

double min_pair_distance(const std::vector<float>& x, int D, int N, double L) {
  System s;
  s.box = Box{D, L};
  double best = INFINITY;
  for (int i = 0; i < N; ++i)
    for (int j = i + 1; j < N; ++j) best = std::min(best, squared_distance(s, &x[i * D], &x[j * D]));
  return std::sqrt(best);
}

TEST(Lattice, CenteredSquareN32) {
  const double L = box_length(32, 0.735, 2);
  const std::vector<float> x = make_lattice("centered-square", 2, 32, L);
  check_lattice(x, 2, 4, L);
  // Nearest neighbours are corner–centre pairs at a/√2; float storage perturbs coordinates by
  // ≤ ½ ulp(L) ≈ 2.4e-7, so distances by ≤ 1e-6.
  EXPECT_NEAR(min_pair_distance(x, 2, 32, L), L / 4 / std::sqrt(2.0), 1e-6);
  for (int n : {1, 2, 5}) check_lattice(make_lattice("centered-square", 2, 2 * n * n, 3.3 * n), 2, n, 3.3 * n);
}

TEST(Lattice, Bcc3D) {
  for (int n : {2, 3}) {
    const double L = 1.7 * n;
    const std::vector<float> x = make_lattice("bcc", 3, 2 * n * n * n, L);
    check_lattice(x, 3, n, L);
    EXPECT_NEAR(min_pair_distance(x, 3, 2 * n * n * n, L), L / n * std::sqrt(3.0) / 2, 1e-6) << "n " << n;
  }
}

}  // namespace
}  // namespace boltzmap
