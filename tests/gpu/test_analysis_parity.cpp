// The CUDA analysis kernels (kernels/analysis.cu behind src/analysis/set_kernels.hpp) against the
// CPU ones, on fresh random inputs (seed printed; BOLTZMAP_TEST_SEED replays one;
// tests/support/set_cases.hpp: 2D N = 32 and 3D N = 16, a third of the configurations on a grid
// whose pair distances are exactly bin edges, another third one float ulp off it):
//  * AnalysisParity.PairHistogramsExact: pair counts of every configuration and bin equal the
//    CPU's exactly (the same pair_distance2/pair_bin), into a NaN-poisoned output.
//  * AnalysisParity.SumsMatchTheCpu: SetAccumulator's sums for R = 0 and R = 100 replicates and
//    two weightings (every weight 1; log-weights with an inside mask), in one pass and in three
//    chunks (1237, 1, rest), against the CPU in one pass. Exact: every integer-valued sum (Σc,
//    Σc·inside, and for the unweighted weighting Σc w, Σc w², Σc w_raw, the energy histogram
//    counts and the g(r) pair counts). The others are the same terms added in another order,
//    with the GPU's exp within 1 ulp of glibc's: |gpu − cpu| ≤ t·Σ|terms|, t = (n + 8)·ε
//    (ε = 2⁻⁵², n = the rows summed: recursive, pairwise or GEMM summation each err by at most
//    (n − 1)·ε/2·Σ|terms|, twice, plus a few ulp per term from exp and the products); Σ|terms|
//    is the sum itself for non-negative terms and, for ΣcwU, the CPU's Σcw|U|.
//    The SetStatistics from finish() then agree within 4t relatively (quotients of such sums;
//    ⟨U⟩ and ln mean w absolutely, on the scales above), the inside fraction exactly.
//  * AnalysisParity.AnalyzeOnTheGpuEqualsTheCpu: analyze() with backend cuda vs cpu on a small
//    model (both directions, every set and replicate, ΔF and BAR) within 10⁻¹⁰·(1 + |value|)
//    (the bound above is ≈ 10⁻¹² for its 2600 rows; BAR's moments stay on the host).
// Every case skips without a GPU, and fails instead with BOLTZMAP_REQUIRE_GPU=1 (gpu_test.hpp).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "analysis/analysis.hpp"
#include "analysis/set_kernels.hpp"
#include "analysis/set_terms.hpp"
#include "gpu_test.hpp"
#include "support/set_cases.hpp"

namespace boltzmap {
namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST(AnalysisParity, PairHistogramsExact) {
  BOLTZMAP_GPU_OR_SKIP();
  const std::uint64_t seed = test::fresh_seed();
  auto gpu = make_cuda_set_kernels();
  for (int D : {2, 3})
    for (std::size_t n : {std::size_t{2000}, std::size_t{1}}) {
      SCOPED_TRACE("D = " + std::to_string(D) + ", " + std::to_string(n) + " configurations, seed " +
                   std::to_string(seed) + " (BOLTZMAP_TEST_SEED replays it)");
      const test::SetCase c = test::make_set_case(D, 0, n, seed + D);
      const std::size_t G = c.rb.count;
      std::vector<double> hc, hg(n * G, std::nan(""));
      pair_histograms(c.x, n, c.N, D, c.L, c.rb, hc);
      gpu->pair_histograms(c.x, n, c.N, D, c.L, c.rb, hg);
      ASSERT_EQ(hg.size(), hc.size());
      int bad = 0;
      double pairs = 0;
      for (std::size_t i = 0; i < hc.size(); ++i) {
        pairs += hc[i];
        if (same_bits(hc[i], hg[i])) continue;
        if (++bad <= 10)
          ADD_FAILURE() << "configuration " << i / G << ", bin " << i % G << ": gpu " << hg[i] << ", cpu " << hc[i];
      }
      EXPECT_EQ(bad, 0) << "pair counts that differ";
      EXPECT_GT(pairs, 0.0);
    }
  std::vector<double> none;
  gpu->pair_histograms({}, 0, 32, 2, 8.0, Bins{0, 4, 16}, none);
  EXPECT_TRUE(none.empty());
}

// Where sums()[i] lies: weighting, part, replicate, bin.
std::string where(const SetAccumulator& a, std::size_t i) {
  const std::size_t R1 = a.replicates() + 1, E = a.energy_bins().count, G = a.r_bins().count;
  const std::size_t k = i / a.per_weighting(), o = i % a.per_weighting();
  std::string s = "weighting " + std::to_string(k) + ", ";
  if (o < kSetScalars * R1) return s + "scalar " + std::to_string(o / R1) + ", replicate " + std::to_string(o % R1);
  const std::size_t h = o - kSetScalars * R1;
  if (h < R1 * E) return s + "energy histogram, replicate " + std::to_string(h / E) + ", bin " + std::to_string(h % E);
  const std::size_t g = h - R1 * E;
  return s + "g(r) sum, replicate " + std::to_string(g / G) + ", bin " + std::to_string(g % G);
}

// Whether sums()[i] is a sum of integers (exact in any order): Σc and Σc·inside always; for the
// unweighted weighting (k = 0) every sum but ΣcwU.
bool integer_valued(const SetAccumulator& a, std::size_t i) {
  const std::size_t R1 = a.replicates() + 1, k = i / a.per_weighting(), o = i % a.per_weighting();
  if (o < kSetScalars * R1) {
    const std::size_t q = o / R1;
    return q == 0 || q == 4 || (k == 0 && q != 3);
  }
  return k == 0;
}

struct Rows {
  std::size_t first, m;
};

// acc's sums over the rows, chunk by chunk, on `k` (flushed).
void accumulate(SetKernels& k, SetAccumulator& acc, const test::SetCase& c, const std::vector<Rows>& chunks,
                bool abs_energy = false) {
  std::vector<double> u(c.u);
  if (abs_energy)
    for (double& v : u) v = std::abs(v);
  for (const Rows& r : chunks) {
    const std::vector<std::uint8_t> counts = c.chunk_counts(r.first, r.m);
    k.set_counts(counts, c.R, r.m);
    k.add(acc, c.positions(r.first, r.m), c.N, c.D, c.L, std::span<const double>(u).subspan(r.first, r.m),
          c.weightings(r.first, r.m));
  }
  k.flush(acc);
}

void expect_sums_match(const SetAccumulator& gpu, const SetAccumulator& cpu, const SetAccumulator& cpu_abs, double t,
                       const std::string& what) {
  ASSERT_EQ(gpu.sums().size(), cpu.sums().size()) << what;
  const std::size_t R1 = cpu.replicates() + 1;
  int bad = 0;
  for (std::size_t i = 0; i < cpu.sums().size(); ++i) {
    const double g = gpu.sums()[i], c = cpu.sums()[i];
    const std::size_t o = i % cpu.per_weighting();
    const bool su = o < kSetScalars * R1 && o / R1 == 3;
    bool ok;
    double tol = 0;
    if (integer_valued(cpu, i)) {
      ok = same_bits(g, c);
    } else {
      tol = t * (su ? cpu_abs.sums()[i] : std::abs(c));
      ok = std::abs(g - c) <= tol;
    }
    if (!ok && ++bad <= 10)
      ADD_FAILURE() << what << ": " << where(cpu, i) << ": gpu " << g << ", cpu " << c << ", |Δ| " << std::abs(g - c)
                    << (tol > 0 ? ", tolerance " + std::to_string(tol) : std::string(", must be exact"));
  }
  EXPECT_EQ(bad, 0) << what << ": sums that differ";
}

void expect_near(const std::vector<double>& g, const std::vector<double>& c, const std::vector<double>& scale,
                 double tol, const std::string& what) {
  ASSERT_EQ(g.size(), c.size()) << what;
  int bad = 0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    const bool ok = std::isnan(c[i]) ? std::isnan(g[i]) : std::abs(g[i] - c[i]) <= tol * scale[i];
    if (!ok && ++bad <= 5)
      ADD_FAILURE() << what << "[" << i << "]: gpu " << g[i] << ", cpu " << c[i] << ", tolerance " << tol * scale[i];
  }
}

std::vector<double> abs_of(const std::vector<double>& v, double floor = 0.0) {
  std::vector<double> a(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) a[i] = std::max(std::abs(v[i]), floor);
  return a;
}

void expect_statistics_match(const SetStatistics& g, const SetStatistics& c, const SetStatistics& c_abs, double t,
                             const std::string& what) {
  expect_near(g.mean_energy, c.mean_energy, c_abs.mean_energy, 3 * t, what + " ⟨U⟩ (scale Σcw|U|/Σcw)");
  expect_near(g.ess, c.ess, abs_of(c.ess), 4 * t, what + " ESS");
  expect_near(g.ess_fraction, c.ess_fraction, abs_of(c.ess_fraction), 4 * t, what + " ESS fraction");
  expect_near(g.log_mean_weight, c.log_mean_weight, abs_of(c.log_mean_weight, 1.0), 4 * t, what + " ln mean w");
  expect_near(g.outside_weight_fraction, c.outside_weight_fraction, abs_of(c.outside_weight_fraction), 4 * t,
              what + " outside weight");
  expect_near(g.energy_histogram, c.energy_histogram, abs_of(c.energy_histogram), 4 * t, what + " energy histogram");
  expect_near(g.rdf, c.rdf, abs_of(c.rdf), 4 * t, what + " g(r)");
  ASSERT_EQ(g.inside_fraction.size(), c.inside_fraction.size());
  for (std::size_t r = 0; r < c.inside_fraction.size(); ++r)
    EXPECT_TRUE(same_bits(g.inside_fraction[r], c.inside_fraction[r]) || (std::isnan(g.inside_fraction[r]) && std::isnan(c.inside_fraction[r])))
        << what << " inside fraction[" << r << "]: gpu " << g.inside_fraction[r] << ", cpu " << c.inside_fraction[r];
}

TEST(AnalysisParity, SumsMatchTheCpu) {
  BOLTZMAP_GPU_OR_SKIP();
  const std::uint64_t seed = test::fresh_seed();
  auto gpu = make_cuda_set_kernels();
  auto cpu = make_cpu_set_kernels();
  for (int D : {2, 3})
    for (int R : {0, 100}) {
      const std::string what = "D = " + std::to_string(D) + ", R = " + std::to_string(R) + ", seed " +
                               std::to_string(seed) + " (BOLTZMAP_TEST_SEED replays it)";
      const std::size_t n = 3000;
      const test::SetCase c = test::make_set_case(D, R, n, seed + 10 * D + R);
      const double t = (static_cast<double>(n) + 8) * kEps;
      SetAccumulator ref = c.accumulator(), ref_abs = c.accumulator(), one = c.accumulator(), chunked = c.accumulator();
      accumulate(*cpu, ref, c, {{0, n}});
      accumulate(*cpu, ref_abs, c, {{0, n}}, true);
      accumulate(*gpu, one, c, {{0, n}});
      accumulate(*gpu, chunked, c, {{0, 1237}, {1237, 1}, {1238, n - 1238}});
      expect_sums_match(one, ref, ref_abs, t, what + ", gpu in one pass");
      expect_sums_match(chunked, ref, ref_abs, t, what + ", gpu in three chunks");
      const auto sr = ref.finish(c.N, D, c.L), sa = ref_abs.finish(c.N, D, c.L), so = one.finish(c.N, D, c.L),
                 sc = chunked.finish(c.N, D, c.L);
      for (std::size_t k = 0; k < sr.size(); ++k) {
        expect_statistics_match(so[k], sr[k], sa[k], t, what + ", weighting " + std::to_string(k) + ", one pass");
        expect_statistics_match(sc[k], sr[k], sa[k], t, what + ", weighting " + std::to_string(k) + ", chunked");
      }
    }
}

// analyze() end to end on both backends: 2 particles in 2D at random, as tests/analysis's
// SmallModel (energies, log-weights and a domain mask of each direction).
TEST(AnalysisParity, AnalyzeOnTheGpuEqualsTheCpu) {
  BOLTZMAP_GPU_OR_SKIP();
  const std::uint64_t seed = test::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed) + " (BOLTZMAP_TEST_SEED replays it)");
  std::vector<double> mapped_u[2], identity_u[2], lw[2], identity_lw[2], own_u[2];
  std::vector<std::uint8_t> in[2];
  std::vector<float> pos[2], mapped[2];
  std::mt19937_64 g(seed);
  std::normal_distribution<double> z(0, 1);
  std::uniform_real_distribution<float> u(0.0f, 4.0f);
  for (int x = 0; x < 2; ++x)
    for (int i = 0; i < (x == 0 ? 1500 : 1100); ++i) {
      const double s = std::abs(z(g));
      own_u[x].push_back(0.5 * s * s);
      mapped_u[x].push_back(0.5 * s * s + 0.1 * z(g));
      identity_u[x].push_back(0.6 * s * s);
      lw[x].push_back(0.4 * z(g) + (x == 0 ? -0.2 : 0.2));
      identity_lw[x].push_back(1.2 * z(g) + (x == 0 ? -0.5 : 0.5));
      in[x].push_back(i % 7 != 3);
      for (int k = 0; k < 4; ++k) {
        pos[x].push_back(u(g));
        mapped[x].push_back(u(g));
      }
    }
  auto direction = [&](int x) {
    const int y = 1 - x;
    return DirectionData{pos[x], mapped[x], mapped_u[x], identity_u[x], lw[x], identity_lw[x], in[x], pos[y], own_u[y]};
  };
  AnalysisOptions o;
  o.replicates = 40;
  o.scheme = BootstrapScheme::poisson;
  o.seed = seed;
  o.energy_bins = 12;
  o.rdf_bins = 10;
  o.chunk = 700;  // several chunks per side
  const AnalysisResult rc = analyze(direction(0), direction(1), 2, 2, 4.0, o);
  o.backend = BackendKind::cuda;
  const AnalysisResult rg = analyze(direction(0), direction(1), 2, 2, 4.0, o);
  const double rel = 1e-10;
  auto same = [&](const std::vector<double>& a, const std::vector<double>& b, const std::string& what) {
    ASSERT_EQ(a.size(), b.size()) << what;
    int bad = 0;
    for (std::size_t i = 0; i < b.size(); ++i) {
      const bool ok = std::isnan(b[i]) ? std::isnan(a[i]) : std::abs(a[i] - b[i]) <= rel * (1 + std::abs(b[i]));
      if (!ok && ++bad <= 5) ADD_FAILURE() << what << "[" << i << "]: gpu " << a[i] << ", cpu " << b[i];
    }
  };
  auto same_set = [&](const SetStatistics& a, const SetStatistics& b, const std::string& what) {
    same(a.mean_energy, b.mean_energy, what + " ⟨U⟩");
    same(a.ess, b.ess, what + " ESS");
    same(a.log_mean_weight, b.log_mean_weight, what + " ln mean w");
    same(a.inside_fraction, b.inside_fraction, what + " inside");
    same(a.outside_weight_fraction, b.outside_weight_fraction, what + " outside weight");
    same(a.energy_histogram, b.energy_histogram, what + " histogram");
    same(a.rdf, b.rdf, what + " g(r)");
  };
  for (Direction d : {Direction::a_to_b, Direction::b_to_a}) {
    const std::string n = direction_name(d);
    const DirectionResult &p = rg.direction(d), &q = rc.direction(d);
    same_set(p.reference, q.reference, n + " reference");
    same_set(p.reference_covered, q.reference_covered, n + " reference covered");
    same_set(p.untransformed, q.untransformed, n + " untransformed");
    same_set(p.identity, q.identity, n + " identity");
    same_set(p.raw, q.raw, n + " raw");
    same_set(p.reweighted, q.reweighted, n + " reweighted");
    same(p.delta_f, q.delta_f, n + " ΔF");
    same(p.delta_f_identity, q.delta_f_identity, n + " identity ΔF");
  }
  same(rg.delta_f_bar, rc.delta_f_bar, "BAR");
  same(rg.delta_f_bar_identity, rc.delta_f_bar_identity, "identity BAR");
}

}  // namespace
}  // namespace boltzmap
