// g(r) and pair histograms (src/analysis/observables.hpp, through set_statistics): an ideal gas
// has g = 1 within its bootstrap errors in 2D and 3D; a perfect centred-square lattice has pairs
// only at its lattice distances, with the right multiplicities.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>
#include <vector>

#include "analysis/observables.hpp"
#include "analysis/set_statistics.hpp"
#include "physics/box.hpp"
#include "physics/lattice.hpp"

namespace boltzmap {
namespace {

TEST(Observables, IdealGasHasGOfROneWithinNoise) {
  for (int dim : {2, 3}) {
    const int N = dim == 2 ? 32 : 16, n = 4000, bins = 50;
    const double L = dim == 2 ? 6.6 : 3.0;
    std::mt19937_64 g(21 + dim);
    std::uniform_real_distribution<float> u(0.0f, static_cast<float>(L));
    std::vector<float> x(static_cast<std::size_t>(n) * N * dim);
    for (auto& v : x) v = u(g);
    const std::vector<double> energy(n, 0.0);
    const auto counts = bootstrap_counts(BootstrapScheme::multinomial, 60, n, 3);
    const auto s = set_statistics(x, energy, N, dim, L, {Weighting{}}, counts, Bins{-1, 1, 2}, Bins{0, L / 2, bins})[0];
    double worst = 0, mean = 0, volume = 0;
    for (int b = 0; b < bins; ++b) {
      std::vector<double> col;
      for (int r = 0; r <= 60; ++r) col.push_back(s.rdf_row(r)[b]);
      const Estimate e = summarise(col);
      worst = std::max(worst, std::abs(e.value - 1.0) / e.error);
      // Shell-volume weighted mean of g = (pairs within L/2) / (ideal-gas expectation): precise.
      const double r0 = b * L / 2 / bins, r1 = r0 + L / 2 / bins;
      const double shell = dim == 2 ? r1 * r1 - r0 * r0 : r1 * r1 * r1 - r0 * r0 * r0;
      mean += e.value * shell;
      volume += shell;
    }
    mean /= volume;
    // 50 bins: the largest of 50 |z| stays below 4.5 with probability > 0.9997.
    EXPECT_LT(worst, 4.5) << dim << "D";
    // About 2·10⁵ pairs: relative noise ≈ 0.3%.
    EXPECT_NEAR(mean, 1.0, 0.01) << dim << "D";
  }
}

TEST(Observables, LatticeHasPairsOnlyAtItsDistances) {
  const int N = 32, n = 4;  // centred square, n×n cells of side a
  const double L = 6.6, a = L / n;
  const auto lat = make_lattice("centered-square", 2, N, L);
  const std::vector<float> x(lat.begin(), lat.end());
  const Bins bins{0, L / 2, 330};  // width 0.01
  std::vector<double> h(bins.count, 0.0);
  add_pair_histogram(x.data(), N, 2, L, bins, h.data());
  // Distances of the lattice below L/2 (minimum image): a/√2, a, a√(5/2), a√2 (the cell's diagonal
  // = 2.33 < 3.3), … — every occupied bin must hold one, within a bin width.
  std::set<double> dist;
  for (int i = -4; i <= 4; ++i)
    for (int j = -4; j <= 4; ++j)
      for (double off : {0.0, 0.5}) {
        const double r = a * std::hypot(i + off, j + off);
        if (r > 0 && r <= L / 2 + 1e-6) dist.insert(r);  // 2a = L/2 exactly: float rounding may count it
      }
  double total = 0;
  for (int b = 0; b < bins.count; ++b) {
    if (h[b] == 0) continue;
    total += h[b];
    bool near = false;
    for (double d : dist) near |= std::abs(bins.centre(b) - d) <= bins.width();
    EXPECT_TRUE(near) << "pairs at r = " << bins.centre(b) << " where the lattice has none";
  }
  // Nearest neighbours: each particle has 4 at a/√2, so 64 unordered pairs in that bin.
  EXPECT_EQ(h[bins.index(a / std::sqrt(2.0))], 64.0);
  // Every pair closer than L/2 is counted once; the rest lie beyond L/2.
  EXPECT_LE(total, N * (N - 1) / 2.0);
  // Normalisation: N(N−1)/2 pairs spread uniformly would give g = 1.
  const auto norm = rdf_normalisation(bins, N, 2, L);
  const double r0 = 1.0, shell = M_PI * ((r0 + bins.width()) * (r0 + bins.width()) - r0 * r0);
  EXPECT_NEAR(norm[bins.index(r0 + 1e-9)] * (N * (N - 1) / 2.0) * shell / (L * L), 1.0, 1e-9);
}

}  // namespace
}  // namespace boltzmap
