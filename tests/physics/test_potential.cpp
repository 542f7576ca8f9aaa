// Pair potentials (src/physics/potential.hpp): values at known distances, WCA = LJ + ε, continuity
// at r_c and C¹ continuity at r_in, the linear branch, no NaN at (near-)coincident particles,
// (dU/dr)/r against central finite differences of U (STYLE.md rule 13), the ~650ε cap of METHOD.md,
// and the Metropolis test. Tolerances are |a − b| ≤ atol + rtol·|b| with the derivation next to
// each; ε_d below is the double machine epsilon 2^-52.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "physics/potential.hpp"

namespace boltzmap {
namespace {

constexpr double kEpsD = std::numeric_limits<double>::epsilon();
constexpr double kInf = std::numeric_limits<double>::infinity();
const double kTwoSixth = std::pow(2.0, 1.0 / 6.0);

PairPotential lj(double eps, double rc, double rin) { return make_pair_potential(PotentialKind::lj, eps, 1.0, rc, rin); }
PairPotential wca(double eps, double rin) { return make_pair_potential(PotentialKind::wca, eps, 1.0, 3.0, rin); }

double U(const PairPotential& p, double r) { return pair_energy(p, r * r); }
double dUdr(const PairPotential& p, double r) { return pair_dudr_over_r(p, r * r) * r; }

// Unshifted LJ, its derivative and magnitude bounds on the 2nd/3rd derivatives (σ = 1), written
// independently of the header: U = 4ε(r⁻¹² − r⁻⁶), U' = −24ε(2r⁻¹³ − r⁻⁷),
// |U''| ≤ 4ε(156 r⁻¹⁴ + 42 r⁻⁸), |U'''| ≤ 4ε(2184 r⁻¹⁵ + 336 r⁻⁹).
double lj_bare(double eps, double r) { return 4 * eps * (std::pow(r, -12) - std::pow(r, -6)); }
double lj_bare_d1(double eps, double r) { return -24 * eps * (2 * std::pow(r, -13) - std::pow(r, -7)); }
double lj_d2_bound(double eps, double r) { return 4 * eps * (156 * std::pow(r, -14) + 42 * std::pow(r, -8)); }
double lj_d3_bound(double eps, double r) { return 4 * eps * (2184 * std::pow(r, -15) + 336 * std::pow(r, -9)); }
// Magnitude of the terms that are added in the LJ branch (their rounding sets the round-off).
double lj_terms(double eps, double shift, double r) {
  return 4 * eps * (std::pow(r, -12) + std::pow(r, -6)) + std::abs(shift);
}

bool near(double a, double b, double atol, double rtol) { return std::abs(a - b) <= atol + rtol * std::abs(b); }

struct Case {
  std::string name;
  PairPotential p;
  double eps;
};
std::vector<Case> all_cases() {
  return {{"lj eps=1 rc=3", lj(1, 3, 0), 1},        {"lj eps=1 rc=3 rin=0.8", lj(1, 3, 0.8), 1},
          {"lj eps=0.5 rc=3 rin=0.8", lj(0.5, 3, 0.8), 0.5}, {"lj eps=1 rc=2.5 rin=0.9", lj(1, 2.5, 0.9), 1},
          {"wca eps=0.5", wca(0.5, 0), 0.5},           {"wca eps=0.5 rin=0.8", wca(0.5, 0.8), 0.5},
          {"wca eps=1 rin=0.8", wca(1, 0.8), 1}};
}

TEST(Potential, LjValuesAtKnownDistances) {
  // shift = U_LJ(3) = 4ε(3⁻¹² − 3⁻⁶) = 4(1/531441 − 1/729) for ε = 1.
  const double shift = 4.0 * (1.0 / 531441.0 - 1.0 / 729.0);
  for (double eps : {1.0, 0.5}) {
    const PairPotential p = lj(eps, 3, 0);
    // Rounding: a handful of operations on numbers of size ≤ 4ε → 16 ε_d relative.
    EXPECT_TRUE(near(p.shift, eps * shift, 0, 16 * kEpsD)) << "eps " << eps << " shift " << p.shift;
    // U(σ): (σ/r)¹² − (σ/r)⁶ = 1 − 1 = 0 exactly, so U(σ) = −shift exactly.
    EXPECT_EQ(U(p, 1.0), -p.shift) << "eps " << eps;
    // U(2^{1/6}σ) = −ε − shift: r² = 2^{1/3} is rounded, so (σ/r)⁶ = ½(1 + O(4ε_d)) and the
    // result is within ~16 ε_d·4ε of the exact value.
    EXPECT_TRUE(near(U(p, kTwoSixth), -eps - eps * shift, 64 * kEpsD * eps, 0)) << "eps " << eps;
    // A generic distance against the independent formula.
    for (double r : {0.9, 1.3, 2.0, 2.9}) EXPECT_TRUE(near(U(p, r), lj_bare(eps, r) - eps * shift, 32 * kEpsD * lj_terms(eps, shift, r), 0)) << "eps " << eps << " r " << r;
    // Zero at and beyond r_c (r² = 9 exactly is the first zero).
    EXPECT_EQ(pair_energy(p, 9.0), 0.0);
    EXPECT_EQ(U(p, 3.5), 0.0);
    EXPECT_EQ(pair_dudr_over_r(p, 9.0), 0.0);
  }
}

TEST(Potential, WcaIsLjPlusEpsilonBelowTwoToTheSixthAndZeroBeyond) {
  for (double eps : {0.5, 1.0}) {
    const PairPotential p = wca(eps, 0);
    EXPECT_TRUE(near(p.cutoff, kTwoSixth, 0, 4 * kEpsD)) << "the cutoff argument (3) must be ignored for WCA";
    // shift = U_LJ(2^{1/6}) = −ε up to rounding.
    EXPECT_TRUE(near(p.shift, -eps, 0, 64 * kEpsD)) << "eps " << eps;
    for (int k = 0; k <= 100; ++k) {
      const double r = 0.85 + (kTwoSixth - 0.85) * k / 100.0 * (1 - 1e-12);
      // Rounding in both evaluations of 4ε(r⁻¹² − r⁻⁶) plus shift ≈ −ε (64 ε_d·ε).
      const double tol = 32 * kEpsD * lj_terms(eps, eps, r) + 64 * kEpsD * eps;
      EXPECT_TRUE(near(U(p, r), lj_bare(eps, r) + eps, tol, 0)) << "eps " << eps << " r " << r << " U " << U(p, r);
    }
    for (double r : {kTwoSixth, kTwoSixth * (1 + 1e-15), 1.2, 1.5, 2.9, 3.1, 10.0}) {
      EXPECT_EQ(U(p, r), 0.0) << "eps " << eps << " r " << r;
      EXPECT_EQ(dUdr(p, r), 0.0) << "eps " << eps << " r " << r;
    }
    EXPECT_EQ(pair_energy(p, p.rc2), 0.0);
  }
}

TEST(Potential, ContinuousAtTheOuterCutoff) {
  // Just below r_c, U(r_c − δ) = −U'(r_c)·δ + O(δ²): bounded by 2|U'(r_c)|δ plus the rounding of
  // 4ε(r⁻¹² − r⁻⁶) − shift (32 ε_d × the terms). For WCA U'(r_c) = 0 as well (force continuous).
  const double delta = 1e-9;
  for (const auto& c : all_cases()) {
    const double rc = c.p.cutoff;
    const double below = U(c.p, rc - delta);
    const double slope = std::abs(lj_bare_d1(c.eps, rc));
    EXPECT_LE(std::abs(below), 2 * slope * delta + 32 * kEpsD * lj_terms(c.eps, c.p.shift, rc)) << c.name;
    EXPECT_EQ(U(c.p, rc + delta), 0.0) << c.name;
  }
  // WCA: slope continuous too (dU/dr → 0 from below): |U'(r_c − δ)| ≤ δ·max|U''| + round-off.
  const PairPotential w = wca(1, 0);
  EXPECT_LE(std::abs(dUdr(w, w.cutoff - delta)), delta * lj_d2_bound(1, 1.1) + 64 * kEpsD * 24 * 2);
}

TEST(Potential, InnerCutoffIsContinuousInValueAndSlope) {
  for (const auto& c : all_cases()) {
    const PairPotential& p = c.p;
    if (p.inner_cutoff <= 0) continue;
    const double rin = p.inner_cutoff, eps = c.eps;
    // The stored constants against the independent formulas (rounding: 32 ε_d × terms).
    EXPECT_TRUE(near(p.u_in, lj_bare(eps, rin) - p.shift, 32 * kEpsD * lj_terms(eps, p.shift, rin), 0)) << c.name;
    EXPECT_TRUE(near(p.du_in, lj_bare_d1(eps, rin), 0, 32 * kEpsD)) << c.name;
    // Left/right limits at distance d: the value jumps by at most 2d|U'| (the slope) + d²·|U''|
    // + round-off; the slope by at most 2d·max|U''| on [r_in − d, r_in + d] + round-off.
    // A real discontinuity (e.g. a missing shift, 0.0055ε) would be 10⁶ times larger.
    const double d = 1e-12;
    const double d2 = lj_d2_bound(eps, rin - d);
    const double value_tol = 2 * d * std::abs(p.du_in) + d * d * d2 + 64 * kEpsD * lj_terms(eps, p.shift, rin);
    EXPECT_LE(std::abs(U(p, rin - d) - U(p, rin + d)), value_tol) << c.name;
    const double slope_tol = 2 * d * d2 + 64 * kEpsD * std::abs(p.du_in);
    EXPECT_LE(std::abs(dUdr(p, rin - d) - dUdr(p, rin + d)), slope_tol) << c.name;
    // Exactly at r_in (LJ branch, r² = r_in² is not < r_in²) the value is U(r_in).
    EXPECT_TRUE(near(pair_energy(p, p.rin2), p.u_in, 32 * kEpsD * lj_terms(eps, p.shift, rin), 0)) << c.name;
    // The linear branch really is used below r_in: at r = r_in/2 the LJ core would be ~4ε·2¹²·r_in⁻¹².
    EXPECT_LT(U(p, rin / 2), lj_bare(eps, rin / 2) / 10) << c.name;
  }
}

TEST(Potential, LinearBranchIsLinear) {
  for (const auto& c : all_cases()) {
    const PairPotential& p = c.p;
    if (p.inner_cutoff <= 0) continue;
    const double rin = p.inner_cutoff;
    for (double a : {0.0, 0.1, 0.3, 0.5}) {
      const double b = rin * 0.99, m = 0.5 * (a + b);
      // Second difference of a linear function is 0; each evaluation goes through r → r² → √r²,
      // which perturbs r by ≤ 2 ε_d·r (value error ≤ 2 ε_d·r_in·|U'|), plus ≤ 2 ε_d·|U| rounding.
      const double second = U(p, a) - 2 * U(p, m) + U(p, b);
      const double tol = 4 * (2 * kEpsD * rin * std::abs(p.du_in) + 2 * kEpsD * U(p, 0));
      EXPECT_LE(std::abs(second), tol) << c.name << " a " << a;
      // Slope equals U'(r_in) (same round-off / (b − a)).
      EXPECT_TRUE(near((U(p, b) - U(p, a)) / (b - a), p.du_in, 2 * tol / (b - a), 0)) << c.name << " a " << a;
    }
    EXPECT_TRUE(near(U(p, 0), p.u_in - p.du_in * rin, 0, 4 * kEpsD)) << c.name;
  }
}

TEST(Potential, NoNanOrInfAtCoincidenceWithLinearisation) {
  const double tiny[] = {0.0, std::numeric_limits<double>::denorm_min(), 1e-320, 1e-300, 1e-110, 1e-60,
                         1e-30, 1e-12, 1e-4};
  for (const auto& c : all_cases()) {
    if (c.p.inner_cutoff <= 0) continue;
    for (double r2 : tiny) {
      const double u = pair_energy(c.p, r2), g = pair_dudr_over_r(c.p, r2);
      EXPECT_TRUE(std::isfinite(u)) << c.name << " r2 " << r2 << " U " << u;
      EXPECT_TRUE(std::isfinite(g)) << c.name << " r2 " << r2 << " g " << g;
      EXPECT_LE(u, pair_energy(c.p, 0.0)) << c.name << " r2 " << r2;  // U(0) is the maximum
      // The force component g·u_d (|u_d| ≤ r) stays finite, bounded by |U'(r_in)| (1e-15 rel. slack).
      EXPECT_LE(std::abs(g) * std::sqrt(r2), std::abs(c.p.du_in) * (1 + 1e-15)) << c.name << " r2 " << r2;
    }
    EXPECT_EQ(pair_dudr_over_r(c.p, 0.0), 0.0) << c.name << ": direction undefined at r = 0, force 0";
  }
}

TEST(Potential, WithoutLinearisationCoincidenceIsPlusInfinityNotNan) {
  // Found a bug: for 0 < r² ≲ 2e-103σ², (σ/r)⁶ overflows and (σ/r)¹² − (σ/r)⁶ = inf − inf = NaN.
  // Fixed in potential.hpp (explicit +inf branch below 1e-60σ²). Every tiny r² must give +inf or a
  // huge positive energy, never NaN, and a finite-or-(−inf) derivative.
  const double tiny[] = {0.0, std::numeric_limits<double>::denorm_min(), 1e-320, 1e-300, 1e-110, 1e-100,
                         1e-60, 1e-52, 1e-30, 1e-12};
  for (const auto& p : {lj(1, 3, 0), lj(0.5, 2.5, 0), wca(0.5, 0)}) {
    EXPECT_EQ(pair_energy(p, 0.0), kInf);
    for (double r2 : tiny) {
      const double u = pair_energy(p, r2), g = pair_dudr_over_r(p, r2);
      EXPECT_FALSE(std::isnan(u)) << "r2 " << r2;
      EXPECT_GT(u, 1e30) << "r2 " << r2;
      EXPECT_FALSE(std::isnan(g)) << "r2 " << r2;
      if (r2 > 0) {
        EXPECT_LT(g, 0.0) << "r2 " << r2 << ": repulsive";
      }
    }
  }
}

TEST(Potential, DerivativeMatchesCentralFiniteDifference) {
  // (dU/dr)/r · r against [U(r + h) − U(r − h)]/(2h) in double, h = 1e-5. Error of the difference:
  // truncation h²/6·max|U'''| on [r − h, r + h] (0 in the linear branch) plus round-off
  // 2·(rounding of U)/(2h), with U's rounding ≤ 32 ε_d·terms + 2 ε_d·r·|U'| (r → r² → √r² in
  // the linear branch). Points within 10h of a kink (r_in, r_c) are skipped. rtol 1e-12 covers the
  // rounding of the analytic derivative itself.
  const double h = 1e-5;
  for (const auto& c : all_cases()) {
    const PairPotential& p = c.p;
    const double r_lo = p.inner_cutoff > 0 ? 0.05 : 0.6;
    int checked = 0;
    for (double r = r_lo; r < p.cutoff + 0.3; r += 0.00731) {
      if (std::abs(r - p.inner_cutoff) < 10 * h || std::abs(r - p.cutoff) < 10 * h) continue;
      const double fd = (U(p, r + h) - U(p, r - h)) / (2 * h);
      const double analytic = dUdr(p, r);
      const bool lj_branch = r >= p.inner_cutoff && r < p.cutoff;
      const double trunc = lj_branch ? h * h / 6 * lj_d3_bound(c.eps, r - h) : 0.0;
      const double r_eff = std::max(r - h, p.inner_cutoff);
      const double round_u = 32 * kEpsD * (r < p.cutoff ? lj_terms(c.eps, p.shift, r_eff) : 0.0) +
                             2 * kEpsD * r * std::abs(analytic) + kEpsD * std::abs(U(p, r));
      const double tol = trunc + 2 * round_u / (2 * h);
      EXPECT_TRUE(near(analytic, fd, tol, 1e-12))
          << c.name << " r " << r << " analytic " << analytic << " fd " << fd << " tol " << tol;
      ++checked;
    }
    EXPECT_GT(checked, 100) << c.name;  // ≥ 100 points in every case (WCA's range is short)
  }
}

TEST(Potential, MaxPairEnergyWithInnerCutoffIsAbout650Epsilon) {
  // METHOD.md: "one pair then costs at most about 650ε" for r_in = 0.8. The exact value, for LJ
  // ε = 1, σ = 1, r_c = 3: U(0) = U(0.8) − 0.8·U'(0.8) = 649.8935478793 (computed from the header;
  // independently: 4(1.25¹² − 1.25⁶) + 0.8·24(2·1.25¹³ − 1.25⁷) − shift = 42.949 + 606.938 + 0.0055).
  const PairPotential p = lj(1, 3, 0.8);
  const double u0 = pair_energy(p, 0.0);
  const double independent =
      4 * (std::pow(1.25, 12) - std::pow(1.25, 6)) + 0.8 * 24 * (2 * std::pow(1.25, 13) - std::pow(1.25, 7)) - p.shift;
  EXPECT_TRUE(near(u0, independent, 0, 1e-13)) << u0 << " vs " << independent;
  EXPECT_TRUE(near(u0, 650.0, 0, 0.03)) << "U(0) = " << u0;  // "about 650": within 3 %
  EXPECT_TRUE(near(u0, 649.8935478793, 1e-9, 0));
  // It is the maximum over all r, and it scales with ε (WCA ε = ½ with r_in = 0.8: shift differs).
  for (double r = 0; r < 3.2; r += 0.001) EXPECT_LE(U(p, r), u0) << "r " << r;
  const PairPotential half = lj(0.5, 3, 0.8);
  EXPECT_TRUE(near(pair_energy(half, 0.0), 0.5 * u0, 0, 1e-13));
}

TEST(Potential, MetropolisAccept) {
  const double below_one = std::nextafter(1.0, 0.0);
  // βΔU ≤ 0 always accepts, for any u in [0, 1) (including −0 and −inf).
  for (double bdu : {0.0, -0.0, -1e-300, -1.0, -700.0, -kInf})
    for (double u : {0.0, 0.5, below_one}) EXPECT_TRUE(metropolis_accept(bdu, u)) << "bdu " << bdu << " u " << u;
  // βΔU > 0: accept iff u < exp(−βΔU); probe u on both sides of the threshold (and at it: strict).
  for (double bdu : {1e-12, 0.5, 1.0, 3.0, 50.0}) {
    const double t = std::exp(-bdu);
    EXPECT_TRUE(metropolis_accept(bdu, 0.0)) << bdu;
    EXPECT_TRUE(metropolis_accept(bdu, std::nextafter(t, 0.0))) << bdu;
    EXPECT_FALSE(metropolis_accept(bdu, t)) << bdu;
    EXPECT_FALSE(metropolis_accept(bdu, std::nextafter(t, 1.0))) << bdu;
    EXPECT_FALSE(metropolis_accept(bdu, below_one)) << bdu;
  }
  // βΔU = 1e-300: exp(−βΔU) rounds to 1, so every u in [0, 1) accepts (correct to within 1e-300).
  EXPECT_TRUE(metropolis_accept(1e-300, below_one));
  // exp(−βΔU) underflows to 0 (never accept, even u = 0), +inf never accepted; a NaN energy
  // change is rejected, so a NaN can never enter a chain.
  for (double bdu : {800.0, kInf, std::numeric_limits<double>::quiet_NaN()})
    for (double u : {0.0, 0.5}) EXPECT_FALSE(metropolis_accept(bdu, u)) << "bdu " << bdu << " u " << u;
}

}  // namespace
}  // namespace boltzmap
