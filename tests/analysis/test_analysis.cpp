// analyze() end to end (src/analysis/analysis.hpp) on the two-particle model of
// test_estimators.cpp with an exact answer: t = x₂ − x₁ on the canonical domain D = {t ≥ 0},
// A: u_A = t²/2, B: u_B = t²/(2s²), ΔF = −ln s, and the map F(t) = s·t − c that sends A's
// t < c/s outside D. Checked: which coverage goes where, both corrected one-sided ΔF, BAR, the
// uncorrected B→A estimate (low by ln c_A), the identity map's ΔF, and the reweighted energies
// (A→B: B's exact ⟨u_B⟩ = ½; B→A: only the covered part of A, ⟨u_A | t ≥ c/s⟩), all within 4
// bootstrap standard errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "analysis/analysis.hpp"

namespace boltzmap {
namespace {

TEST(Analysis, ExactModelThroughAnalyze) {
  const double s = 1.5, c = 1.0, exact = -std::log(s), a = c / s;
  const double c_a_exact = std::erfc(a / std::sqrt(2.0));
  // ⟨t²/2 | t ≥ a⟩ for the half-normal: ½(1 + a φ(a)/Q(a)) with Q(a) = P(|z| ≥ a)/2.
  const double phi = std::exp(-0.5 * a * a) / std::sqrt(2 * M_PI), q = 0.5 * c_a_exact;
  const double ua_covered = 0.5 * (1 + a * phi / q);
  const int n = 50000;
  std::mt19937_64 g(12);
  std::normal_distribution<double> z(0, 1);
  struct Side {
    std::vector<double> mapped_u, identity_u, lw, identity_lw, own_u;
    std::vector<std::uint8_t> in;
  } A, B;
  for (auto* x : {&A, &B}) {
    for (auto* v : {&x->mapped_u, &x->identity_u, &x->lw, &x->identity_lw, &x->own_u}) v->resize(n);
    x->in.resize(n);
  }
  auto ua = [](double t) { return 0.5 * t * t; };
  auto ub = [&](double y) { return y * y / (2 * s * s); };
  for (int i = 0; i < n; ++i) {
    const double t = std::abs(z(g)), y = s * t - c;  // A's sample, its image
    A.own_u[i] = ua(t);
    A.mapped_u[i] = ub(y);
    A.identity_u[i] = ub(t);
    A.lw[i] = -ub(y) + ua(t) + std::log(s);
    A.identity_lw[i] = -ub(t) + ua(t);
    A.in[i] = y >= 0;
    const double yb = s * std::abs(z(g)), tb = (yb + c) / s;  // B's sample, its preimage (always in D)
    B.own_u[i] = ub(yb);
    B.mapped_u[i] = ua(tb);
    B.identity_u[i] = ua(yb);
    B.lw[i] = -ua(tb) + ub(yb) - std::log(s);
    B.identity_lw[i] = -ua(yb) + ub(yb);
    B.in[i] = 1;
  }
  const std::vector<float> pos(static_cast<std::size_t>(n) * 4, 0.25f);  // 2 particles in 2D (g(r) unused)
  const DirectionData ab{pos, pos, A.mapped_u, A.identity_u, A.lw, A.identity_lw, A.in, pos, B.own_u};
  const DirectionData ba{pos, pos, B.mapped_u, B.identity_u, B.lw, B.identity_lw, B.in, pos, A.own_u};
  AnalysisOptions o;
  o.replicates = 50;
  o.seed = 3;
  const AnalysisResult r = analyze(ab, ba, 2, 2, 4.0, o);
  auto near = [](const std::vector<double>& v, double want, const char* what) {
    const Estimate e = summarise(v);
    EXPECT_EQ(e.finite, 50) << what;
    EXPECT_LT(std::abs(e.value - want), 4 * e.error) << what << ": " << e.value << " ± " << e.error << " vs " << want;
  };
  near(r.a_to_b.reweighted.inside_fraction, c_a_exact, "c_A");
  EXPECT_EQ(r.b_to_a.reweighted.inside_fraction[0], 1.0);
  near(r.a_to_b.delta_f, exact, "ΔF from A→B");
  near(r.b_to_a.delta_f, exact, "ΔF from B→A, corrected");
  near(r.b_to_a.delta_f_uncorrected, exact + std::log(c_a_exact), "ΔF from B→A, uncorrected");
  near(r.delta_f_bar, exact, "BAR");
  near(r.a_to_b.delta_f_identity, exact, "identity ΔF from A");
  near(r.b_to_a.delta_f_identity, exact, "identity ΔF from B");
  near(r.delta_f_bar_identity, exact, "identity BAR");
  near(r.a_to_b.reweighted.mean_energy, 0.5, "A→B reweighted ⟨u_B⟩");
  near(r.a_to_b.reference.mean_energy, 0.5, "B's own ⟨u_B⟩");
  near(r.b_to_a.reweighted.mean_energy, ua_covered, "B→A reweighted ⟨u_A⟩ (covered part)");
  near(r.b_to_a.reference.mean_energy, 0.5, "A's own ⟨u_A⟩");
  near(r.b_to_a.reference_covered.mean_energy, ua_covered, "A's own ⟨u_A⟩ over the covered part");
  near(r.a_to_b.reference_covered.mean_energy, 0.5, "B's own ⟨u_B⟩ over the covered part (all of it)");
  // The covered part differs from the whole of A here: rule 3 of METHOD.md is visible.
  EXPECT_GT(ua_covered - 0.5, 10 * summarise(r.b_to_a.reweighted.mean_energy).error);
  // Raw mapped A→B energies include the copies outside D; the unweighted mean is not B's.
  EXPECT_GT(std::abs(summarise(r.a_to_b.raw.mean_energy).value - 0.5), 10 * summarise(r.a_to_b.raw.mean_energy).error);
}

}  // namespace
}  // namespace boltzmap
