// Bootstrap resampling (src/analysis/bootstrap.hpp): the error of a mean matches the analytic
// standard error σ/√n in both schemes; multiplicities have the right totals; replicates are
// reproducible from the seed and independent of one another.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "analysis/bootstrap.hpp"

namespace boltzmap {
namespace {

TEST(Bootstrap, ErrorOfAMeanMatchesTheStandardError) {
  const int n = 2000, R = 400;
  std::mt19937_64 g(11);
  std::normal_distribution<double> z(3.0, 2.0);
  std::vector<double> x(n);
  for (auto& v : x) v = z(g);
  const double mean = std::accumulate(x.begin(), x.end(), 0.0) / n;
  double var = 0;
  for (double v : x) var += (v - mean) * (v - mean);
  const double se = std::sqrt(var / (n - 1) / n);
  for (auto scheme : {BootstrapScheme::multinomial, BootstrapScheme::poisson}) {
    const auto c = bootstrap_counts(scheme, R, n, 99);
    std::vector<double> means;
    for (int r = 0; r <= R; ++r) {
      double s = 0, k = 0;
      for (int i = 0; i < n; ++i) s += c.row(r)[i] * x[i], k += c.row(r)[i];
      means.push_back(s / k);
    }
    const Estimate e = summarise(means);
    EXPECT_DOUBLE_EQ(e.value, mean);
    // The bootstrap's standard deviation estimates se with relative error ≈ 1/√(2R) = 3.5%
    // (plus (n−1)/n bias, negligible): 4 of those.
    EXPECT_NEAR(e.error / se, 1.0, 4 / std::sqrt(2.0 * R)) << (scheme == BootstrapScheme::poisson ? "poisson" : "multinomial");
  }
}

TEST(Bootstrap, MultiplicitiesHaveTheRightTotalsAndAreReproducible) {
  const std::size_t n = 5000;
  const auto m = bootstrap_counts(BootstrapScheme::multinomial, 20, n, 7);
  const auto p = bootstrap_counts(BootstrapScheme::poisson, 20, n, 7);
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_EQ(m.row(0)[i], 1);
    ASSERT_EQ(p.row(0)[i], 1);
  }
  double ptotal = 0;
  for (int r = 1; r <= 20; ++r) {
    EXPECT_EQ(std::accumulate(m.row(r).begin(), m.row(r).end(), 0.0), static_cast<double>(n));
    ptotal += std::accumulate(p.row(r).begin(), p.row(r).end(), 0.0);
  }
  // Σ of 20·n Poisson(1) counts: mean 20n, sd √(20n).
  EXPECT_NEAR(ptotal, 20.0 * n, 5 * std::sqrt(20.0 * n));
  EXPECT_EQ(bootstrap_counts(BootstrapScheme::multinomial, 20, n, 7).data, m.data);
  EXPECT_NE(bootstrap_counts(BootstrapScheme::multinomial, 20, n, 8).data, m.data);
  EXPECT_FALSE(std::equal(m.row(1).begin(), m.row(1).end(), m.row(2).begin()));
  // The share of configurations left out of a replicate: (1 − 1/n)ⁿ ≈ e⁻¹.
  double zeros = 0;
  for (int r = 1; r <= 20; ++r)
    for (auto c : m.row(r)) zeros += c == 0;
  EXPECT_NEAR(zeros / (20.0 * n), std::exp(-1.0), 4 * std::sqrt(0.23 / (20.0 * n)));
}

TEST(Bootstrap, SummariseSkipsNonFiniteReplicates) {
  const Estimate e = summarise(std::vector<double>{5.0, 1.0, NAN, 3.0});
  EXPECT_EQ(e.value, 5.0);
  EXPECT_NEAR(e.error, std::sqrt(2.0), 1e-15);
  EXPECT_TRUE(std::isnan(summarise(std::vector<double>{1.0, 2.0}).error));
  EXPECT_THROW(parse_bootstrap_scheme("jackknife"), std::exception);
}

}  // namespace
}  // namespace boltzmap
