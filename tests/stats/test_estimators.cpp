// Estimators on log-weights (src/stats/estimators.hpp) on cases with exact answers:
// logsumexp at magnitudes 10⁴, Kish ESS, Gaussians joined by an exact affine map (constant
// weights, exact ΔF from any sample), BAR against exponential averaging, and the canonical-domain
// rules of METHOD.md on a model with a known answer. Statistical checks use fixed seeds and
// tolerances in bootstrap standard errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "analysis/bootstrap.hpp"
#include "stats/estimators.hpp"

namespace boltzmap {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(Estimators, LogSumExpIsStableForLogWeightsOfMagnitude1e4) {
  EXPECT_NEAR(logsumexp(std::vector<double>{1e4, 1e4}), 1e4 + std::log(2.0), 1e-9);
  EXPECT_NEAR(logsumexp(std::vector<double>{-1e4, -1e4 + std::log(3.0)}), -1e4 + std::log(4.0), 1e-9);
  EXPECT_NEAR(logsumexp(std::vector<double>{1e4, -1e4}), 1e4, 1e-12);
  EXPECT_EQ(logsumexp(std::vector<double>{-kInf, -kInf}), -kInf);
  EXPECT_EQ(logsumexp(std::vector<double>{}), -kInf);
  EXPECT_NEAR(logsumexp(std::vector<double>{-kInf, 2.0}), 2.0, 1e-15);
  // Multiplicities: counts {2, 0, 1} on {a, b, c} = ln(2eᵃ + eᶜ).
  const std::vector<std::uint8_t> c{2, 0, 1};
  EXPECT_NEAR(logsumexp(std::vector<double>{1.0, 50.0, 3.0}, c), std::log(2 * std::exp(1.0) + std::exp(3.0)), 1e-12);
  // Against a direct sum where that is safe.
  std::mt19937_64 g(1);
  std::normal_distribution<double> n(0, 3);
  std::vector<double> v(1000);
  long double s = 0;
  for (auto& x : v) s += std::exp(static_cast<long double>(x = n(g)));
  EXPECT_NEAR(logsumexp(v), static_cast<double>(std::log(s)), 1e-12);
  // A shift of 10⁴ moves the result by exactly 10⁴ (up to rounding of the shift itself).
  std::vector<double> shifted(v);
  for (auto& x : shifted) x += 1e4;
  EXPECT_NEAR(logsumexp(shifted) - 1e4, logsumexp(v), 1e-9);
}

TEST(Estimators, KishEffectiveSampleSize) {
  EXPECT_NEAR(kish_ess(std::vector<double>(100, -7e3)), 100.0, 1e-9);  // equal weights: n
  EXPECT_NEAR(kish_ess(std::vector<double>{0.0, std::log(2.0), std::log(3.0)}), 36.0 / 14.0, 1e-12);
  EXPECT_NEAR(kish_ess(std::vector<double>{1e4, 0.0, 0.0}), 1.0, 1e-12);  // one weight dominates
  EXPECT_EQ(kish_ess(std::vector<double>{-kInf, -kInf}), 0.0);
  EXPECT_NEAR(kish_ess(std::vector<double>{0.0, -kInf, 0.0}), 2.0, 1e-12);  // zero weights do not count
}

// A = N(0, σ_A² I_d), B = N(μ, σ_B² I_d); F(x) = μ + (σ_B/σ_A) x maps A onto B exactly. Then
// log w_B = −u_B(F x) + u_A(x) + d ln(σ_B/σ_A) = d ln(σ_B/σ_A) for every x, and
// ΔF = β_B F_B − β_A F_A = −ln(Z_B/Z_A) = −d ln(σ_B/σ_A).
TEST(Estimators, ExactAffineMapGivesConstantWeightsAndTheExactFreeEnergy) {
  const int d = 5, n = 200, n_b = 2000;  // unequal sizes: BAR's M = ln(n_F/n_R) ≠ 0 matters
  const double sa = 0.7, sb = 1.9, mu = 0.4, exact = -d * std::log(sb / sa);
  std::mt19937_64 g(2);
  std::normal_distribution<double> z(0, 1);
  std::vector<double> lw_b(n), lw_a(n_b);
  for (int i = 0; i < n; ++i) {
    double ua = 0, ub = 0;
    for (int k = 0; k < d; ++k) {
      const double xa = sa * z(g), y = mu + sb / sa * xa;  // A sample and its image
      ua += xa * xa / (2 * sa * sa);
      ub += (y - mu) * (y - mu) / (2 * sb * sb);
    }
    lw_b[i] = -ub + ua + d * std::log(sb / sa);
  }
  for (int i = 0; i < n_b; ++i) {
    double ua = 0, ub = 0;
    for (int k = 0; k < d; ++k) {
      const double yb = mu + sb * z(g), xb = (yb - mu) * sa / sb;  // B sample and its preimage
      ub += (yb - mu) * (yb - mu) / (2 * sb * sb);
      ua += xb * xb / (2 * sa * sa);
    }
    lw_a[i] = -ua + ub - d * std::log(sb / sa);
  }
  for (int i = 0; i < n; ++i) EXPECT_NEAR(lw_b[i], lw_b[0], 1e-12);
  EXPECT_NEAR(kish_ess(lw_b), n, 1e-9);
  EXPECT_NEAR(delta_f_from_a(lw_b), exact, 1e-12);
  EXPECT_NEAR(delta_f_from_b(lw_a), exact, 1e-12);
  EXPECT_NEAR(delta_f_bar(lw_b, lw_a), exact, 1e-10);
  // BAR's root does not depend on where the search starts.
  EXPECT_NEAR(delta_f_bar(lw_b, lw_a, {}, {}, 1e3), exact, 1e-10);
}

// Identity map between A = N(0, 1) and B = N(δ, 1) in one dimension (plain free-energy
// perturbation): ΔF = 0 exactly. W_F = u_B − u_A on A's samples, W_R = u_A − u_B on B's.
struct Fep {
  std::vector<double> lw_b, lw_a;
};
Fep fep(double delta, int n, std::uint64_t seed) {
  std::mt19937_64 g(seed);
  std::normal_distribution<double> z(0, 1);
  Fep f{std::vector<double>(n), std::vector<double>(n)};
  auto ua = [](double x) { return 0.5 * x * x; };
  auto ub = [&](double x) { return 0.5 * (x - delta) * (x - delta); };
  for (int i = 0; i < n; ++i) {
    const double xa = z(g), xb = delta + z(g);
    f.lw_b[i] = -ub(xa) + ua(xa);
    f.lw_a[i] = -ua(xb) + ub(xb);
  }
  return f;
}

struct Errors {
  Estimate exp_a, exp_b, bar;
};
Errors bootstrap_errors(const Fep& f, int replicates, std::uint64_t seed) {
  const auto ca = bootstrap_counts(BootstrapScheme::multinomial, replicates, f.lw_b.size(), seed);
  const auto cb = bootstrap_counts(BootstrapScheme::multinomial, replicates, f.lw_a.size(), seed + 1);
  std::vector<double> ea, eb, bar;
  for (int r = 0; r <= replicates; ++r) {
    ea.push_back(delta_f_from_a(f.lw_b, 1.0, ca.row(r)));
    eb.push_back(delta_f_from_b(f.lw_a, 1.0, cb.row(r)));
    bar.push_back(delta_f_bar(f.lw_b, f.lw_a, ca.row(r), cb.row(r)));
  }
  return {summarise(ea), summarise(eb), summarise(bar)};
}

TEST(Estimators, BarAgreesWithExponentialAveragingWhenTheDistributionsOverlap) {
  const Fep f = fep(0.3, 5000, 3);
  const Errors e = bootstrap_errors(f, 200, 30);
  // All three estimate ΔF = 0: within 4 bootstrap standard errors.
  EXPECT_LT(std::abs(e.exp_a.value), 4 * e.exp_a.error);
  EXPECT_LT(std::abs(e.exp_b.value), 4 * e.exp_b.error);
  EXPECT_LT(std::abs(e.bar.value), 4 * e.bar.error);
  // In good overlap the estimators are nearly equally efficient (BAR never worse).
  EXPECT_LE(e.bar.error, 1.05 * std::min(e.exp_a.error, e.exp_b.error));
}

TEST(Estimators, BarHasTheSmallerErrorWhenTheOverlapIsPoor) {
  const Fep f = fep(2.5, 5000, 4);
  const Errors e = bootstrap_errors(f, 200, 40);
  EXPECT_LT(std::abs(e.bar.value), 4 * e.bar.error);
  // Exponential averaging over a poor overlap: its error is several times BAR's.
  EXPECT_LT(2 * e.bar.error, e.exp_a.error);
  EXPECT_LT(2 * e.bar.error, e.exp_b.error);
}

// The domain rules (METHOD.md "The domain of the map") on a model with an exact answer: two
// particles on a line, t = x₂ − x₁; relabelling swaps them (t ↔ −t), so the canonical domain is
// D = {t ≥ 0} and U is even. A: u_A = t²/2, B: u_B = t²/(2s²), so on D Z_A = √(2π)/2,
// Z_B = s√(2π)/2 and ΔF = −ln s. The map F(t) = s·t + b, F⁻¹(y) = (y − b)/s:
//   b < 0: F sends A's t < −b/s outside D (a relabelled copy); F⁻¹ never leaves D:
//          c_A = P_A(t ≥ −b/s) = erfc(−b/(s√2)), c_B = 1;
//   b > 0: F never leaves D; F⁻¹ sends B's y < b outside: c_A = 1, c_B = erfc(b/(s√2)).
// Only the indicator (weight zero outside D) and the coverage corrections give the exact ΔF.
void domain_case(double b) {
  const double s = 1.5, exact = -std::log(s);
  const double c_a_exact = b < 0 ? std::erfc(-b / (s * std::sqrt(2.0))) : 1.0;
  const double c_b_exact = b > 0 ? std::erfc(b / (s * std::sqrt(2.0))) : 1.0;
  const int n = 100000;
  std::mt19937_64 g(5);
  std::normal_distribution<double> z(0, 1);
  std::vector<double> lw_b(n), lw_b_all(n), lw_a(n), lw_a_all(n);
  std::vector<std::uint8_t> in_a(n), in_b(n);
  for (int i = 0; i < n; ++i) {
    const double t = std::abs(z(g)), y = s * t + b;  // A on D and its image
    lw_b_all[i] = -(y * y) / (2 * s * s) + 0.5 * t * t + std::log(s);
    in_a[i] = y >= 0;
    lw_b[i] = in_a[i] ? lw_b_all[i] : -kInf;
    const double yb = s * std::abs(z(g)), tb = (yb - b) / s;  // B on D and its preimage
    lw_a_all[i] = -0.5 * tb * tb + yb * yb / (2 * s * s) - std::log(s);
    in_b[i] = tb >= 0;
    lw_a[i] = in_b[i] ? lw_a_all[i] : -kInf;
  }
  const int R = 60;
  const auto ca = bootstrap_counts(BootstrapScheme::poisson, R, n, 50), cb = bootstrap_counts(BootstrapScheme::poisson, R, n, 51);
  auto share = [&](const std::vector<std::uint8_t>& in, Counts c) {
    double k = 0, tot = 0;
    for (int i = 0; i < n; ++i) tot += c[i], k += in[i] ? c[i] : 0;
    return k / tot;
  };
  std::vector<double> c_a, c_b, from_a, from_a_raw, from_b, from_b_raw, bar, bar_raw;
  for (int r = 0; r <= R; ++r) {
    c_a.push_back(share(in_a, ca.row(r)));
    c_b.push_back(share(in_b, cb.row(r)));
    from_a.push_back(delta_f_from_a(lw_b, c_b.back(), ca.row(r)));
    from_a_raw.push_back(delta_f_from_a(lw_b_all, 1.0, ca.row(r)));
    from_b.push_back(delta_f_from_b(lw_a, c_a.back(), cb.row(r)));
    from_b_raw.push_back(delta_f_from_b(lw_a_all, 1.0, cb.row(r)));
    bar.push_back(delta_f_bar(lw_b, lw_a, ca.row(r), cb.row(r)));
    bar_raw.push_back(delta_f_bar(lw_b_all, lw_a_all, ca.row(r), cb.row(r)));
  }
  const Estimate ea = summarise(c_a), eb = summarise(c_b);
  EXPECT_LT(std::abs(ea.value - c_a_exact), 4 * ea.error + 1e-12);
  EXPECT_LT(std::abs(eb.value - c_b_exact), 4 * eb.error + 1e-12);
  const Estimate a = summarise(from_a), a_raw = summarise(from_a_raw), bb = summarise(from_b), b_raw = summarise(from_b_raw),
                 br = summarise(bar), br_raw = summarise(bar_raw);
  // With the indicator and the coverage corrections: exact within 4 standard errors.
  EXPECT_LT(std::abs(a.value - exact), 4 * a.error) << a.value << " ± " << a.error;
  EXPECT_LT(std::abs(bb.value - exact), 4 * bb.error) << bb.value << " ± " << bb.error;
  EXPECT_LT(std::abs(br.value - exact), 4 * br.error) << br.value << " ± " << br.error;
  // Without them: biased by many standard errors (the copies outside D count double), on the
  // leaking side and in BAR.
  const Estimate& leaky_raw = b < 0 ? a_raw : b_raw;
  EXPECT_GT(std::abs(leaky_raw.value - exact), 10 * leaky_raw.error) << leaky_raw.value;
  EXPECT_GT(std::abs(br_raw.value - exact), 10 * br_raw.error) << br_raw.value;
  // The indicator without the coverage correction: the other side's estimate is off by exactly the
  // log of the leaking side's coverage.
  if (b < 0) {
    EXPECT_NEAR(delta_f_from_b(lw_a, 1.0) - exact, std::log(c_a_exact), 4 * bb.error);
  } else {
    EXPECT_NEAR(delta_f_from_a(lw_b, 1.0) - exact, -std::log(c_b_exact), 4 * a.error);
  }
}

TEST(Estimators, DomainRulesGiveTheExactFreeEnergyWhenTheForwardMapLeaves) { domain_case(-1.0); }
TEST(Estimators, DomainRulesGiveTheExactFreeEnergyWhenTheInverseMapLeaves) { domain_case(+1.0); }

// The Taylor coefficients of f(x + s) sum to f itself across f's whole range (deep tails
// included, where f is e^{−x}-small), and their derivative relation g_1 = f′ = −f(1 − f) holds.
TEST(Estimators, FermiTaylorSeriesSumsToTheFunction) {
  double g[kTaylorOrder + 1];
  for (double x : {-700.0, -40.0, -3.0, -0.3, 0.0, 0.7, 2.0, 35.0, 300.0}) {
    fermi_taylor(x, g);
    EXPECT_NEAR(g[1], -fermi(x) * (1.0 - fermi(x)), 1e-15 + 1e-13 * fermi(x)) << x;
    for (double s : {-kTaylorShift, -0.2, 0.0, 0.37, kTaylorShift}) {
      double v = 0;
      for (int k = kTaylorOrder; k >= 0; --k) v = v * s + g[k];
      const double exact = fermi(x + s);
      EXPECT_NEAR(v, exact, 1e-13 * std::max(exact, 1e-300) + 1e-300) << "x " << x << " s " << s;
    }
  }
  fermi_taylor(kInf, g);
  for (double v : g) EXPECT_EQ(v, 0.0);
}

// BAR's root from the moments about a centre equals the direct root whenever it lies within the
// series' range, and is refused (NaN) outside it: random works, moments formed by hand.
TEST(Estimators, TaylorBarShiftEqualsTheDirectRoot) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal;
  for (double offset : {0.0, 0.3, -0.45, 2.0}) {
    std::vector<double> lw_b(300), lw_a(500);
    for (auto& v : lw_b) v = 1.5 * normal(rng) - 1.0;
    for (auto& v : lw_a) v = 1.5 * normal(rng) + 1.0;
    const double exact = delta_f_bar(lw_b, lw_a);
    const double M = std::log(300.0 / 500.0), centre = exact + offset;  // expand about a wrong centre
    std::vector<double> A(kTaylorOrder + 1, 0.0), B(kTaylorOrder + 1, 0.0);
    double g[kTaylorOrder + 1];
    for (double v : lw_b) {
      fermi_taylor(M - v - centre, g);
      for (int k = 0; k <= kTaylorOrder; ++k) A[k] += g[k];
    }
    for (double v : lw_a) {
      fermi_taylor(-M - v + centre, g);
      for (int k = 0; k <= kTaylorOrder; ++k) B[k] += g[k];
    }
    const double s = taylor_bar_shift(A, B);
    if (std::abs(offset) < kTaylorShift) {
      EXPECT_NEAR(centre - s, exact, 1e-11) << offset;  // Δ = centre − s (same M)
    } else {
      EXPECT_TRUE(std::isnan(s)) << offset;
    }
  }
}

}  // namespace
}  // namespace boltzmap
