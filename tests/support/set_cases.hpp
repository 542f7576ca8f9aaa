// Random inputs for the analysis' per-chunk work (src/analysis/set_kernels.hpp), shared by the CPU
// tests (tests/analysis/test_set_kernels.cpp) and the GPU parity tests
// (tests/gpu/test_analysis_parity.cpp). Configurations of three kinds, in turn: uniform in the
// box; on a grid of spacing 1/4 (the r bins' width, a power of two), so that pair distances along
// an axis are exactly bin edges (and 0 and L/2, the first bin's lower and the last bin's excluded
// upper edge, occur); and the grid with coordinates moved by one float ulp, so distances fall just
// either side of an edge. Energies: normal, every fifth on a multiple of the energy bins' width
// 1/4 (an edge), some beyond the bins. Two weightings: every weight 1, and log-weights
// 300 + 2·z (the shift matters) restricted to a random ~85 % inside. Bootstrap counts from the
// multinomial scheme. Everything keyed by one seed (printed by the tests).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "analysis/bootstrap.hpp"
#include "analysis/observables.hpp"
#include "analysis/set_statistics.hpp"

namespace boltzmap::test {

struct SetCase {
  int N = 32, D = 2;
  double L = 8.0;
  Bins eb{-3.0, 3.0, 24}, rb{0.0, 4.0, 16};
  std::size_t n = 0;
  int R = 0;
  std::vector<float> x;       // [n][N][D]
  std::vector<double> u, lw;  // [n]
  std::vector<std::uint8_t> in;
  BootstrapCounts counts;     // [R + 1][n]

  std::vector<Weighting> weightings(std::size_t first, std::size_t m) const {
    return {Weighting{}, Weighting{std::span<const double>(lw).subspan(first, m), std::span<const std::uint8_t>(in).subspan(first, m)}};
  }
  std::vector<double> shift() const { return {0.0, max_log_weight(lw, in)}; }
  std::vector<double> shift_raw() const { return {0.0, max_log_weight(lw, {})}; }
  SetAccumulator accumulator() const { return SetAccumulator(R, eb, rb, shift(), shift_raw()); }
  std::span<const float> positions(std::size_t first, std::size_t m) const {
    const std::size_t row = static_cast<std::size_t>(N) * D;
    return std::span<const float>(x).subspan(first * row, m * row);
  }
  // Rows [first, first + m) of every replicate: [R + 1][m].
  std::vector<std::uint8_t> chunk_counts(std::size_t first, std::size_t m) const {
    std::vector<std::uint8_t> c(static_cast<std::size_t>(R + 1) * m);
    for (int r = 0; r <= R; ++r)
      std::copy_n(counts.row(r).begin() + static_cast<std::ptrdiff_t>(first), m, c.begin() + static_cast<std::ptrdiff_t>(r * m));
    return c;
  }
};

// D = 2: N = 32, L = 8, r bins [0, 4) × 16; D = 3: N = 16, L = 4, r bins [0, 2) × 8.
inline SetCase make_set_case(int D, int R, std::size_t n, std::uint64_t seed) {
  SetCase c;
  c.D = D;
  c.N = D == 2 ? 32 : 16;
  c.L = D == 2 ? 8.0 : 4.0;
  c.rb = Bins{0.0, c.L / 2, D == 2 ? 16 : 8};
  c.n = n;
  c.R = R;
  std::mt19937_64 g(seed);
  const int cells = static_cast<int>(c.L * 4);  // grid points per axis (spacing 1/4)
  std::uniform_real_distribution<float> pos(0.0f, static_cast<float>(c.L));
  std::uniform_int_distribution<int> cell(0, cells - 1), coin(0, 2);
  std::normal_distribution<double> z(0, 1);
  const std::size_t row = static_cast<std::size_t>(c.N) * D;
  c.x.resize(n * row);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t k = 0; k < row; ++k) {
      float& v = c.x[i * row + k];
      if (i % 3 == 0) {
        v = pos(g);
      } else {
        v = 0.25f * static_cast<float>(cell(g));
        if (i % 3 == 2) {
          const int t = coin(g);
          if (t == 0 && v > 0.0f) v = std::nextafter(v, 0.0f);
          if (t == 1) v = std::nextafter(v, static_cast<float>(c.L));
        }
      }
    }
  c.u.resize(n);
  c.lw.resize(n);
  c.in.resize(n);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (std::size_t i = 0; i < n; ++i) {
    c.u[i] = i % 5 == 0 ? 0.25 * std::round(4 * 1.5 * z(g)) : 1.5 * z(g);
    c.lw[i] = 300.0 + 2.0 * z(g);
    c.in[i] = unit(g) < 0.85;
  }
  c.counts = bootstrap_counts(BootstrapScheme::multinomial, R, n, seed ^ 0x5bd1e995u);
  return c;
}

}  // namespace boltzmap::test
