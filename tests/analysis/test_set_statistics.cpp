// set_statistics (src/analysis/set_statistics.hpp) against direct formulas: weighted ⟨U⟩, Kish
// ESS, log mean weight, the domain shares, the histogram density and g(r), for the full sample
// and for a replicate (which must equal the same formulas on the explicitly resampled set); and
// reweighting with an imperfect map between Gaussians converges to the exact average while the
// raw average does not.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "stats/estimators.hpp"
#include "analysis/set_statistics.hpp"

namespace boltzmap {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Direct {
  double mean, ess, log_mean_w, inside, outside_w;
  std::vector<double> hist, rdf;
};

// The textbook formulas on an explicit list of configurations (indices may repeat).
Direct direct(const std::vector<int>& idx, const std::vector<float>& x, const std::vector<double>& u,
              const std::vector<double>& lw, const std::vector<std::uint8_t>& in, int N, int D, double L, const Bins& eb,
              const Bins& rb) {
  Direct d{};
  double s0 = 0, s1 = 0, s2 = 0, su = 0, sin = 0, sraw = 0, sout = 0;
  d.hist.assign(eb.count, 0.0);
  d.rdf.assign(rb.count, 0.0);
  for (int i : idx) {
    const double w = in[i] ? std::exp(lw[i] - 500) : 0.0, wr = std::exp(lw[i] - 500);  // e^500 would square to inf
    s0 += 1, s1 += w, s2 += w * w, su += w * u[i], sin += in[i], sraw += wr, sout += in[i] ? 0 : wr;
    if (eb.index(u[i]) >= 0) d.hist[eb.index(u[i])] += w;
    std::vector<double> h(rb.count, 0.0);
    add_pair_histogram(x.data() + static_cast<std::size_t>(i) * N * D, N, D, L, rb, h.data());
    for (int b = 0; b < rb.count; ++b) d.rdf[b] += w * h[b];
  }
  const auto norm = rdf_normalisation(rb, N, D, L);
  d.mean = su / s1, d.ess = s1 * s1 / s2, d.log_mean_w = std::log(s1 / s0) + 500, d.inside = sin / s0, d.outside_w = sout / sraw;
  for (auto& h : d.hist) h /= s1 * eb.width();
  for (int b = 0; b < rb.count; ++b) d.rdf[b] *= norm[b] / s1;
  return d;
}

TEST(SetStatistics, MatchesTheDirectFormulasForTheSampleAndAReplicate) {
  const int n = 700, N = 6, D = 2;
  const double L = 4.0;
  std::mt19937_64 g(31);
  std::uniform_real_distribution<float> pos(0.0f, 4.0f);
  std::normal_distribution<double> z(0, 1);
  std::vector<float> x(static_cast<std::size_t>(n) * N * D);
  for (auto& v : x) v = pos(g);
  std::vector<double> u(n), lw(n);
  std::vector<std::uint8_t> in(n);
  for (int i = 0; i < n; ++i) u[i] = 3 * z(g), lw[i] = 500.0 + 1.5 * z(g), in[i] = (i % 7) != 3;
  const Bins eb{-6, 6, 12}, rb{0, 2, 20};
  const auto counts = bootstrap_counts(BootstrapScheme::multinomial, 3, n, 5);
  const auto s = set_statistics(x, u, N, D, L, {Weighting{lw, in}}, counts, eb, rb)[0];
  for (int r : {0, 2}) {
    std::vector<int> idx;
    for (int i = 0; i < n; ++i)
      for (int k = 0; k < counts.row(r)[i]; ++k) idx.push_back(i);
    const Direct d = direct(idx, x, u, lw, in, N, D, L, eb, rb);
    EXPECT_NEAR(s.mean_energy[r], d.mean, 1e-12 * (1 + std::abs(d.mean))) << r;
    EXPECT_NEAR(s.ess[r], d.ess, 1e-9 * d.ess) << r;
    EXPECT_NEAR(s.ess_fraction[r], d.ess / idx.size(), 1e-9) << r;
    EXPECT_NEAR(s.log_mean_weight[r], d.log_mean_w, 1e-9) << r;  // exp(500) needs the shift
    EXPECT_NEAR(s.inside_fraction[r], d.inside, 1e-12) << r;
    EXPECT_NEAR(s.outside_weight_fraction[r], d.outside_w, 1e-12) << r;
    for (int b = 0; b < eb.count; ++b) EXPECT_NEAR(s.histogram_row(r)[b], d.hist[b], 1e-12) << r << " " << b;
    for (int b = 0; b < rb.count; ++b) EXPECT_NEAR(s.rdf_row(r)[b], d.rdf[b], 1e-10 * (1 + d.rdf[b])) << r << " " << b;
  }
  // The log mean weight agrees with the estimator module (weights −∞ outside the domain).
  std::vector<double> restricted(lw);
  for (int i = 0; i < n; ++i)
    if (!in[i]) restricted[i] = -kInf;
  EXPECT_NEAR(s.log_mean_weight[0], log_mean_weight(restricted), 1e-10);
  EXPECT_NEAR(s.ess[0], kish_ess(restricted), 1e-9 * s.ess[0]);
}

// A = N(0, 1) mapped by the imperfect F(x) = 2.5·x (log-Jacobian ln 2.5; wider than B, so the weights have finite variance) onto B = N(0, 2²):
// the raw mapped ⟨y²⟩ is 6.25, the exact one 4; reweighting with w_B = p_B(F x)·2.5 / p_A(x)
// (normalised) recovers 4 within its bootstrap error.
TEST(SetStatistics, ReweightingAnImperfectMapConvergesWhileTheRawAverageDoesNot) {
  const int n = 100000, N = 2, D = 2;
  std::mt19937_64 g(41);
  std::normal_distribution<double> z(0, 1);
  std::vector<double> obs(n), lw(n);
  for (int i = 0; i < n; ++i) {
    const double xa = z(g), y = 2.5 * xa;
    obs[i] = y * y;
    lw[i] = -y * y / 8.0 + 0.5 * xa * xa + std::log(2.5);
  }
  const std::vector<float> dummy(static_cast<std::size_t>(n) * N * D, 0.5f);
  const auto counts = bootstrap_counts(BootstrapScheme::multinomial, 100, n, 9);
  const auto s = set_statistics(dummy, obs, N, D, 4.0, {Weighting{}, Weighting{lw, {}}}, counts, Bins{0, 20, 40},
                                Bins{0, 2, 4});
  const Estimate raw = summarise(s[0].mean_energy), rew = summarise(s[1].mean_energy);
  EXPECT_LT(std::abs(rew.value - 4.0), 4 * rew.error) << rew.value << " ± " << rew.error;
  EXPECT_GT(std::abs(raw.value - 4.0), 50 * raw.error) << raw.value << " ± " << raw.error;
  EXPECT_NEAR(raw.value, 6.25, 4 * raw.error);
  // ΔF from these weights: −ln(Z_B/Z_A) = −ln 2.
  EXPECT_LT(std::abs(-summarise(s[1].log_mean_weight).value + std::log(2.0)), 4 * summarise(s[1].log_mean_weight).error);
}

}  // namespace
}  // namespace boltzmap
