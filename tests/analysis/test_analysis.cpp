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
#include <string>
#include <vector>

#include "analysis/analysis.hpp"
#include "core/rng.hpp"
#include "stats/estimators.hpp"

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

// A small version of the model above with real configurations (2 particles in 2D at random, so
// g(r) and the energy histograms have content), for the streamed engine's own invariances.
struct SmallModel {
  std::vector<double> mapped_u[2], identity_u[2], lw[2], identity_lw[2], own_u[2];
  std::vector<std::uint8_t> in[2];
  std::vector<float> pos[2], mapped[2];
  DirectionData direction(int x) const {
    const int y = 1 - x;
    return DirectionData{pos[x], mapped[x], mapped_u[x], identity_u[x], lw[x], identity_lw[x], in[x], pos[y], own_u[y]};
  }
};

SmallModel small_model(int n_a, int n_b, double spread) {
  SmallModel m;
  std::mt19937_64 g(99);
  std::normal_distribution<double> z(0, 1);
  std::uniform_real_distribution<float> u(0.0f, 4.0f);
  for (int x = 0; x < 2; ++x) {
    const int n = x == 0 ? n_a : n_b;
    for (int i = 0; i < n; ++i) {
      const double t = std::abs(z(g));
      m.own_u[x].push_back(0.5 * t * t);
      m.mapped_u[x].push_back(0.5 * t * t + 0.1 * z(g));
      m.identity_u[x].push_back(0.6 * t * t);
      m.lw[x].push_back(spread * z(g) + (x == 0 ? -0.2 : 0.2));
      m.identity_lw[x].push_back(3.0 * spread * z(g) + (x == 0 ? -0.5 : 0.5));
      m.in[x].push_back(i % 7 != 3);
      for (int k = 0; k < 4; ++k) {
        m.pos[x].push_back(u(g));
        m.mapped[x].push_back(u(g));
      }
    }
  }
  return m;
}

void expect_same(const std::vector<double>& x, const std::vector<double>& y, double rel, const std::string& what) {
  ASSERT_EQ(x.size(), y.size()) << what;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i]) || std::isnan(y[i])) {
      EXPECT_EQ(std::isnan(x[i]), std::isnan(y[i])) << what << "[" << i << "]";
      continue;
    }
    EXPECT_NEAR(x[i], y[i], rel * (1.0 + std::abs(y[i]))) << what << "[" << i << "]";
  }
}

void expect_same(const SetStatistics& x, const SetStatistics& y, double rel, const std::string& what) {
  expect_same(x.mean_energy, y.mean_energy, rel, what + " ⟨U⟩");
  expect_same(x.ess, y.ess, rel, what + " ESS");
  expect_same(x.log_mean_weight, y.log_mean_weight, rel, what + " ln mean w");
  expect_same(x.inside_fraction, y.inside_fraction, rel, what + " inside");
  expect_same(x.outside_weight_fraction, y.outside_weight_fraction, rel, what + " outside weight");
  expect_same(x.energy_histogram, y.energy_histogram, rel, what + " histogram");
  expect_same(x.rdf, y.rdf, rel, what + " g(r)");
}

void expect_same(const AnalysisResult& x, const AnalysisResult& y, double rel) {
  for (Direction d : {Direction::a_to_b, Direction::b_to_a}) {
    const std::string n = direction_name(d);
    const DirectionResult &p = x.direction(d), &q = y.direction(d);
    EXPECT_EQ(p.energy_bins.lo, q.energy_bins.lo) << n;
    EXPECT_EQ(p.energy_bins.hi, q.energy_bins.hi) << n;
    expect_same(p.reference, q.reference, rel, n + " reference");
    expect_same(p.reference_covered, q.reference_covered, rel, n + " reference covered");
    expect_same(p.untransformed, q.untransformed, rel, n + " untransformed");
    expect_same(p.identity, q.identity, rel, n + " identity");
    expect_same(p.raw, q.raw, rel, n + " raw");
    expect_same(p.reweighted, q.reweighted, rel, n + " reweighted");
    expect_same(p.delta_f, q.delta_f, rel, n + " ΔF");
  }
  expect_same(x.delta_f_bar, y.delta_f_bar, rel, "BAR");
  expect_same(x.delta_f_bar_identity, y.delta_f_bar_identity, rel, "identity BAR");
}

// Chunks of 7 rows (and one row) give what one chunk gives: every sum adds up whatever the
// chunking, to rounding (10⁻¹² relative: a few thousand terms of double sums reordered).
TEST(Analysis, ChunkedAccumulationEqualsOnePass) {
  const SmallModel m = small_model(1500, 1100, 0.4);
  AnalysisOptions o;
  o.replicates = 20;
  o.scheme = BootstrapScheme::poisson;
  o.seed = 5;
  o.energy_bins = 12;
  o.rdf_bins = 10;
  o.chunk = 1 << 20;
  const AnalysisResult whole = analyze(m.direction(0), m.direction(1), 2, 2, 4.0, o);
  for (std::int64_t chunk : {7, 1}) {
    o.chunk = chunk;
    expect_same(analyze(m.direction(0), m.direction(1), 2, 2, 4.0, o), whole, 1e-12);
  }
}

// Every replicate's BAR root from the moments about the full-sample root equals the direct solve
// of that replicate (estimators.hpp delta_f_bar with its multiplicities) to 10⁻⁹: with a narrow
// spread of log-weights (all roots within the series' range) and a wide one (the identity map's
// replicates spread beyond it and are solved exactly), for both schemes.
TEST(Analysis, BootstrapBarEqualsTheDirectSolveOfEachReplicate) {
  for (double spread : {0.4, 3.0})
    for (BootstrapScheme scheme : {BootstrapScheme::poisson, BootstrapScheme::multinomial}) {
      const SmallModel m = small_model(400, 300, spread);
      AnalysisOptions o;
      o.replicates = 40;
      o.scheme = scheme;
      o.seed = 8;
      o.chunk = 64;
      const AnalysisResult r = analyze(m.direction(0), m.direction(1), 2, 2, 4.0, o);
      const BootstrapCounts ca = bootstrap_counts(scheme, o.replicates, 400, derive_seed(o.seed, 10));
      const BootstrapCounts cb = bootstrap_counts(scheme, o.replicates, 300, derive_seed(o.seed, 11));
      std::vector<double> lw_a = m.lw[0], lw_b = m.lw[1];
      for (std::size_t i = 0; i < lw_a.size(); ++i)
        if (!m.in[0][i]) lw_a[i] = -std::numeric_limits<double>::infinity();
      for (std::size_t i = 0; i < lw_b.size(); ++i)
        if (!m.in[1][i]) lw_b[i] = -std::numeric_limits<double>::infinity();
      for (int rep = 0; rep <= o.replicates; ++rep) {
        EXPECT_NEAR(r.delta_f_bar[rep], delta_f_bar(lw_a, lw_b, ca.row(rep), cb.row(rep)), 1e-9) << spread << " " << rep;
        EXPECT_NEAR(r.delta_f_bar_identity[rep],
                    delta_f_bar(m.identity_lw[0], m.identity_lw[1], ca.row(rep), cb.row(rep)), 1e-9)
            << spread << " " << rep;
      }
      if (spread > 1) {
        EXPECT_GT(r.bar_replicates_solved_exactly, 0) << "the wide case must exercise the exact solve";
      } else {
        EXPECT_LT(r.bar_replicates_solved_exactly, o.replicates) << "the narrow case mostly uses the series";
      }
    }
}

}  // namespace
}  // namespace boltzmap
