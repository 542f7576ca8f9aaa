// The key physics test of the sampler: two particles in a 2D periodic square box of side L, where
// the stationary distribution is known exactly. The minimum-image separation vector s is uniform
// over the square [−L/2, L/2]² weighted by exp(−βu(|s|)), so for r = |s| < L/2 the pair distance
// has density p(r) ∝ 2πr·exp(−βu(r)), and the region of the square outside the disk r < L/2 has
// total weight L² − π(L/2)² (u = 0 there, since r_c < L/2). WalkerSet chains (fast kernel, fixed
// seed) are histogrammed and compared with these probabilities by a chi-square test at p = 1e-4,
// and ⟨U⟩ is compared within 4 standard errors with an independent 2D quadrature over the square.
//   case A: LJ ε = 1, r_c = 1.25, no linearisation, T = 1 (non-trivial p(r), float fast path);
//   case B: the same with r_in = 0.95 at T = 5, so the linear branch (and the kernel's double
//           fallback below r_fast = r_in) is visited often.
// 4000 walkers, 1000 equilibration moves, 100 saves every 50 moves (4e5 samples per case, ~2 s on
// 2 cores; τ_int of the saves is checked ≈ 1). Power, measured once: running the chains at a β 5 %
// too high fails both checks (chi-square p ~ 1e-9 and 1e-18, ⟨U⟩ off by 8σ and 12σ).
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "physics/energy.hpp"
#include "sampling/autocorr.hpp"
#include "sampling/walkers.hpp"
#include "support/configs.hpp"
#include "support/stats.hpp"

namespace boltzmap {
namespace {

constexpr std::uint64_t kSeed = 8675309;
constexpr double kPi = std::numbers::pi;

struct Case {
  std::string name;
  double rin, T;
};

double boltzmann(const System& s, double r) {
  const double u = pair_energy(s.potential, r * r);
  return std::exp(-s.beta * u);  // exp(−inf) = 0 at r = 0 without linearisation
}

// ∫_a^b 2πr·f(r) dr by composite Simpson with `m` (even) intervals; the bins' edges include the
// kinks r_in and r_c, so the integrand is smooth inside each bin (error ~1e-12 relative here).
template <class F>
double simpson(F f, double a, double b, int m = 2000) {
  const double h = (b - a) / m;
  double s = f(a) + f(b);
  for (int k = 1; k < m; ++k) s += (k % 2 ? 4 : 2) * f(a + k * h);
  return s * h / 3;
}

// Exact ⟨U⟩ by midpoint quadrature over the quadrant [0, L/2]² of the separation square (the
// integrand is symmetric in each coordinate), independent of the radial reduction. The kinks on
// the circles r = r_in, r_c limit it to O(h²) ≈ 1e-6 relative with 1500² points.
double exact_mean_energy_2d(const System& s) {
  const int m = 1500;
  const double h = 0.5 * s.box.length / m;
  double z = 0, zu = 0;
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < m; ++j) {
      const double x = (i + 0.5) * h, y = (j + 0.5) * h;
      const double u = pair_energy(s.potential, x * x + y * y);
      const double w = std::exp(-s.beta * u);
      z += w;
      if (w > 0) zu += u * w;
    }
  return zu / z;
}

TEST(DetailedBalance, TwoParticlesPairDistanceAndEnergy) {
  const double L = 2.6, rc = 1.25;
  const int W = 4000, equilibration = 1000, saves = 100, every = 50;
  const float step = 0.5f;
  for (const Case& c : {Case{"A: lj rc=1.25 T=1", 0.0, 1.0}, Case{"B: lj rc=1.25 rin=0.95 T=5", 0.95, 5.0}}) {
    const System s = test::make_system(PotentialKind::lj, 1.0, rc, c.rin, 2, 2, L, 1.0 / c.T);
    ASSERT_LT(rc, L / 2);

    // ---- exact bin probabilities ----
    // Fine edges every 0.025 up to L/2 = 1.3 (0.95 and 1.25 are edges), then bins merged from the
    // low end until each expects ≥ 20 counts; the last bin is r ≥ L/2 (weight L² − πL²/4).
    std::vector<double> fine_edges;
    for (int k = 0; k <= 52; ++k) fine_edges.push_back(0.025 * k);
    fine_edges.back() = L / 2;
    auto radial = [&](double r) { return 2 * kPi * r * boltzmann(s, r); };
    std::vector<double> fine_w;
    for (size_t b = 0; b + 1 < fine_edges.size(); ++b) fine_w.push_back(simpson(radial, fine_edges[b], fine_edges[b + 1]));
    const double outside = L * L - kPi * L * L / 4;
    double z = outside;
    for (double w : fine_w) z += w;
    const double n_samples = static_cast<double>(W) * saves;
    std::vector<double> edges{0.0}, prob;  // merged bins [edges[b], edges[b + 1])
    double acc = 0;
    for (size_t b = 0; b < fine_w.size(); ++b) {
      acc += fine_w[b] / z;
      if (acc * n_samples >= 20 || b + 1 == fine_w.size()) {
        edges.push_back(fine_edges[b + 1]);
        prob.push_back(acc);
        acc = 0;
      }
    }
    prob.push_back(outside / z);  // r ≥ L/2
    const int bins = static_cast<int>(prob.size());

    // Independent check of the reference: ⟨U⟩ from the radial Simpson sums against the 2D grid.
    auto radial_u = [&](double r) {
      const double w = boltzmann(s, r);
      return w > 0 ? 2 * kPi * r * pair_energy(s.potential, r * r) * w : 0.0;  // u = inf where w = 0
    };
    const double mean_u_1d =
        (c.rin > 0 ? simpson(radial_u, 0.0, c.rin, 20000) + simpson(radial_u, c.rin, rc, 20000)
                   : simpson(radial_u, 0.0, rc, 20000)) / z;
    const double mean_u = exact_mean_energy_2d(s);
    ASSERT_NEAR(mean_u, mean_u_1d, 1e-5 * std::abs(mean_u_1d)) << c.name << ": the two quadratures disagree";

    // ---- Monte Carlo ----
    WalkerSet ws(s, kSeed, 0, W, make_lattice("centered-square", 2, 2, L));
    ws.run(equilibration, step);
    std::vector<double> r_series(static_cast<size_t>(W) * saves), u_series(r_series.size());
    std::vector<float> cfg(4);
    std::vector<double> counts(bins, 0.0);
    double linear_branch = 0;
    for (int t = 0; t < saves; ++t) {
      ws.run(every, step);
      for (int w = 0; w < W; ++w) {
        ws.configuration(w, cfg);
        const double r = std::sqrt(squared_distance(s, &cfg[0], &cfg[2]));
        r_series[static_cast<size_t>(w) * saves + t] = r;
        u_series[static_cast<size_t>(w) * saves + t] = ws.energies()[w];
        int b = bins - 1;  // r ≥ L/2
        if (r < L / 2)
          for (b = 0; b + 1 < static_cast<int>(edges.size()) && r >= edges[b + 1]; ++b) {
          }
        counts[b] += 1;
        linear_branch += r < c.rin;
      }
    }

    // Saves are decorrelated: τ_int of the saved pair distances ≈ 1. Its standard error for a
    // window M = 5 over N = W·saves samples is √(2(2M+1)/N) ≈ 0.015 (Madras–Sokal); allow 4σ.
    double r_mean = 0;
    for (double r : r_series) r_mean += r;
    r_mean /= r_series.size();
    std::vector<double> sums, cnts;
    autocorrelation_sums(r_series, W, saves, r_mean, 10, sums, cnts);
    const double tau = integrated_time(autocorrelation_from_sums(sums, cnts));
    EXPECT_LT(tau, 1 + 4 * std::sqrt(2 * 11 / n_samples)) << c.name << ": saves are correlated, tau " << tau;

    // Chi-square over `bins` bins with fully specified probabilities: dof = bins − 1.
    std::vector<double> expected(bins);
    for (int b = 0; b < bins; ++b) expected[b] = prob[b] * n_samples;
    const double chi2 = test::chi_square_statistic(counts, expected);
    const double p_value = test::chi_square_p_value(chi2, bins - 1);
    std::string table;
    for (int b = 0; b < bins; ++b)
      table += "\n  [" + std::to_string(b < bins - 1 ? edges[b] : L / 2) + ", " +
               (b < bins - 1 ? std::to_string(edges[b + 1]) : std::string("inf")) + "): observed " +
               std::to_string(counts[b]) + " expected " + std::to_string(expected[b]);
    EXPECT_GT(p_value, 1e-4) << c.name << " seed " << kSeed << ": chi2 " << chi2 << " dof " << bins - 1 << table;
    EXPECT_GE(bins, 15) << c.name << ": the histogram should resolve p(r)";

    // ⟨U⟩ within 4 standard errors; the standard error from the W independent walkers' means.
    double mc = 0, m2 = 0;
    for (int w = 0; w < W; ++w) {
      double m = 0;
      for (int t = 0; t < saves; ++t) m += u_series[static_cast<size_t>(w) * saves + t];
      m /= saves;
      mc += m;
      m2 += m * m;
    }
    mc /= W;
    const double se = std::sqrt((m2 / W - mc * mc) / (W - 1));
    EXPECT_NEAR(mc, mean_u, 4 * se) << c.name << " seed " << kSeed << " (se " << se << ")";

    // The tracked energies equal u(r) of the saved configurations (float fast-path error only).
    ws.configuration(0, cfg);
    EXPECT_NEAR(ws.energies()[0], pair_energy(s.potential, squared_distance(s, &cfg[0], &cfg[2])), 1e-4) << c.name;
    if (c.rin > 0) {
      // The linear branch was visited (expected fraction: ∫_0^{r_in} p(r) dr).
      double p_lin = 0;
      for (size_t b = 0; b + 1 < fine_edges.size() && fine_edges[b + 1] <= c.rin + 1e-12; ++b) p_lin += fine_w[b] / z;
      EXPECT_GT(linear_branch, 1000) << c.name;
      // Binomial standard error √(p(1 − p)/N) ≤ √(p/N) (saves decorrelated, checked above); 5σ.
      EXPECT_NEAR(linear_branch / n_samples, p_lin, 5 * std::sqrt(p_lin / n_samples)) << c.name;
    }
  }
}

}  // namespace
}  // namespace boltzmap
