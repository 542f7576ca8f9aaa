// Autocorrelation diagnostics (src/sampling/autocorr.hpp): the window rule on an exact ρ(k),
// τ_int of AR(1) series x_{t+1} = φ x_t + √(1 − φ²) ξ_t with known τ_int = (1 + φ)/(1 − φ) within a
// stated number of standard errors, ρ(1), ρ(2) against Bartlett's variance, and the exact
// additivity of the partial sums over walker blocks that the MPI reduction relies on.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <span>
#include <vector>

#include "core/rng.hpp"
#include "sampling/autocorr.hpp"

namespace boltzmap {
namespace {

constexpr std::uint64_t kSeed = 31337;

// Standard normal from two Philox words (Box–Muller with u1 in (0, 1]).
double normal(std::uint32_t id, std::uint64_t c) {
  const Random4 r = philox(kSeed, RngStream::Test, id, c);
  const double u1 = 1.0 - uniform_double(r.v[0], r.v[1]), u2 = uniform_double(r.v[2], r.v[3]);
  return std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
}

// W stationary AR(1) series of length S, layout [walker][save].
std::vector<double> ar1(double phi, int W, int S) {
  std::vector<double> x(static_cast<size_t>(W) * S);
  const double a = std::sqrt(1 - phi * phi);
  for (int w = 0; w < W; ++w) {
    double v = normal(w, 0);  // stationary start: N(0, 1)
    for (int t = 0; t < S; ++t) {
      x[static_cast<size_t>(w) * S + t] = v;
      v = phi * v + a * normal(w, t + 1);
    }
  }
  return x;
}

TEST(Autocorr, WindowRuleOnExactCorrelations) {
  // ρ(k) = φ^k: τ(M) = 1 + 2 Σ_{k≤M} φ^k, stopping at the first M ≥ 5 τ(M). For φ = ½ that is
  // M = 15 (τ(15) = 3 − 2^{-14} ≈ 2.99994, 5τ = 14.9997); for φ = 0, M = 5 and τ = 1.
  for (double phi : {0.0, 0.5, 0.8}) {
    std::vector<double> rho(200);
    for (size_t k = 0; k < rho.size(); ++k) rho[k] = std::pow(phi, static_cast<double>(k));
    double tau = 1;
    for (size_t m = 1; m < rho.size(); ++m) {
      tau += 2 * rho[m];
      if (static_cast<double>(m) >= 5 * tau) break;
    }
    EXPECT_NEAR(integrated_time(rho), tau, 1e-12) << "phi " << phi;
    EXPECT_NEAR(integrated_time(rho), (1 + phi) / (1 - phi), 2 * std::pow(phi, 5 * (1 + phi) / (1 - phi)) / (1 - phi) + 1e-12)
        << "phi " << phi << ": truncation bias 2φ^{M+1}/(1−φ)";
  }
  EXPECT_NEAR(integrated_time(std::vector<double>{1.0, 0.5, 0.25, 0.125}), 1 + 2 * 0.875, 1e-15);  // window never closes
  EXPECT_NEAR(integrated_time(std::vector<double>{1.0}), 1.0, 0.0);
}

TEST(Autocorr, Ar1IntegratedTime) {
  // N = W·S = 2e5 samples. Statistical error of τ̂ with window M (Madras & Sokal 1988):
  // var(τ̂) ≈ 2(2M + 1)/N · τ², so σ ≈ 0.011 (φ = 0, M = 5) and ≈ 0.053 (φ = ½, M ≈ 15). The
  // bias (window truncation 2φ^{M+1}/(1−φ) ≈ 6e-5, mean estimation ~τ/N) is negligible. Assert
  // within 4σ (seed fixed).
  const int W = 1000, S = 200, max_lag = 60;
  for (double phi : {0.0, 0.5}) {
    const std::vector<double> x = ar1(phi, W, S);
    double mean = 0;
    for (double v : x) mean += v;
    mean /= x.size();
    std::vector<double> sums, counts;
    autocorrelation_sums(x, W, S, mean, max_lag, sums, counts);
    const std::vector<double> rho = autocorrelation_from_sums(sums, counts);
    ASSERT_EQ(rho.size(), static_cast<size_t>(max_lag + 1));
    EXPECT_EQ(rho[0], 1.0);
    const double tau_true = (1 + phi) / (1 - phi), tau = integrated_time(rho);
    const double M = 5 * tau_true, N = static_cast<double>(W) * S;
    const double sigma = std::sqrt(2 * (2 * M + 1) / N) * tau_true;
    EXPECT_NEAR(tau, tau_true, 4 * sigma) << "phi " << phi << " seed " << kSeed << " (sigma " << sigma << ")";
    // ρ(k) vs φ^k with Bartlett's variance for AR(1):
    // var ρ̂(k) ≈ [(1 + φ²)(1 − φ^{2k})/(1 − φ²) − 2kφ^{2k}] / N (→ 1/N for φ = 0); 4σ.
    for (int k : {1, 2}) {
      const double p2k = std::pow(phi, 2 * k);
      const double var = ((1 + phi * phi) * (1 - p2k) / (1 - phi * phi) - 2 * k * p2k) / N;
      EXPECT_NEAR(rho[k], std::pow(phi, k), 4 * std::sqrt(var)) << "phi " << phi << " k " << k << " seed " << kSeed;
    }
    // Counts: S − k terms per walker.
    for (int k = 0; k <= max_lag; ++k) EXPECT_EQ(counts[k], static_cast<double>(W) * (S - k));
  }
}

TEST(Autocorr, PartialSumsAddUpOverWalkerBlocks) {
  // Integer-valued series with an integer mean: every product and partial sum is an integer below
  // 2^53, so the block sums must add up exactly (STYLE.md rule 14), for any split point.
  const int W = 37, S = 50, max_lag = 20;
  std::vector<double> x(W * S);
  for (int k = 0; k < W * S; ++k)
    x[k] = static_cast<double>(static_cast<int>(uniform_index(philox(kSeed, RngStream::Test, 7, k).v[0], 101)) - 50);
  const double mean = 3.0;
  std::vector<double> s_all, c_all;
  autocorrelation_sums(x, W, S, mean, max_lag, s_all, c_all);
  for (int split : {1, 18, 36}) {
    std::vector<double> s1, c1, s2, c2;
    const std::span<const double> xs(x);
    autocorrelation_sums(xs.subspan(0, split * S), split, S, mean, max_lag, s1, c1);
    autocorrelation_sums(xs.subspan(split * S), W - split, S, mean, max_lag, s2, c2);
    for (int k = 0; k <= max_lag; ++k) {
      EXPECT_EQ(s1[k] + s2[k], s_all[k]) << "split " << split << " lag " << k;
      EXPECT_EQ(c1[k] + c2[k], c_all[k]) << "split " << split << " lag " << k;
    }
  }
  // Real-valued series: equal to round-off (relative 1e-12 of Σ|terms|).
  const std::vector<double> y = ar1(0.3, W, S);
  std::vector<double> sy, cy, sy1, cy1, sy2, cy2;
  autocorrelation_sums(y, W, S, 0.0, max_lag, sy, cy);
  autocorrelation_sums(std::span<const double>(y).subspan(0, 20 * S), 20, S, 0.0, max_lag, sy1, cy1);
  autocorrelation_sums(std::span<const double>(y).subspan(20 * S), W - 20, S, 0.0, max_lag, sy2, cy2);
  for (int k = 0; k <= max_lag; ++k) EXPECT_NEAR(sy1[k] + sy2[k], sy[k], 1e-12 * sy[0]) << "lag " << k;
  // ρ is unchanged when computed from the added block sums.
  std::vector<double> s_add(max_lag + 1), c_add(max_lag + 1);
  for (int k = 0; k <= max_lag; ++k) {
    s_add[k] = sy1[k] + sy2[k];
    c_add[k] = cy1[k] + cy2[k];
  }
  const std::vector<double> r_all = autocorrelation_from_sums(sy, cy), r_add = autocorrelation_from_sums(s_add, c_add);
  for (int k = 0; k <= max_lag; ++k) EXPECT_NEAR(r_add[k], r_all[k], 1e-12) << "lag " << k;
}

}  // namespace
}  // namespace boltzmap
