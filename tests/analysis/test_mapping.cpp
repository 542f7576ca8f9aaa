// Mapping through the flow (src/analysis/mapping.hpp) and the canonical-domain test
// (Preprocessor::in_domain): the identity flow keeps every configuration in the domain (coverage
// 1) with log-Jacobian 0 and the identity map's energies and weights; the log-weights of a
// non-trivial flow equal Eq. 11 recomputed from the written configurations; and the domain test
// agrees with its definition (re-preprocessing gives the same latent vector) and, for N = 8, with
// brute-force relabelling over all 7! assignments.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "analysis/mapping.hpp"
#include "flow/realnvp.hpp"
#include "core/error.hpp"
#include "physics/box.hpp"
#include "physics/lattice.hpp"
#include "sampling/walkers.hpp"
#include "support/configs.hpp"

namespace boltzmap {
namespace {

struct Liquids {
  System a, b;
  std::vector<float> x;  // A's configurations [rows][N][2]
  Preprocessor pre;
};

// A 2D LJ liquid at the paper's density (N = 32, or 8 for the brute-force test), with B at ε/2.
Liquids setup(int N, int rows, std::uint64_t seed) {
  const double L = box_length(N, 0.735, 2), rc = std::min(3.0, 0.49 * L);
  Liquids s{test::make_system(PotentialKind::lj, 1.0, rc, 0.8, 2, N, L), test::make_system(PotentialKind::lj, 0.5, rc, 0.8, 2, N, L),
          {}, Preprocessor(PreprocessSettings{}, N, 2, L)};
  WalkerSet ws(s.a, seed, 0, rows, make_lattice("centered-square", 2, N, L));
  ws.run(2000, 0.175f);
  s.x.resize(static_cast<std::size_t>(rows) * N * 2);
  for (int w = 0; w < rows; ++w) ws.configuration(w, std::span<float>(s.x.data() + static_cast<std::size_t>(w) * N * 2, N * 2));
  std::vector<float> fit = s.x;
  const BatchView v{fit.data(), rows, N, 2};
  s.pre.fit(std::span<const BatchView>(&v, 1), 3);
  return s;
}

TEST(Mapping, IdentityFlowHasCoverageOneAndTheIdentityMapsWeights) {
  const Liquids s = setup(32, 400, 1);
  const RealNvp<float> identity(FlowShape{s.pre.latent_dim(), 2, {16}, 0.0}, 5);  // zero last layers
  for (Direction dir : {Direction::a_to_b, Direction::b_to_a}) {
    const MappedSet m = map_configurations(s.pre, identity, s.a, s.b, dir, s.x);
    ASSERT_EQ(m.size(), 400u);
    for (std::size_t i = 0; i < m.size(); ++i) {
      ASSERT_EQ(m.in_domain[i], 1) << i;
      EXPECT_EQ(m.log_jacobian[i], 0.0);
      // Same configuration up to labels and a translation (float round trip through the PCA).
      EXPECT_NEAR(m.mapped_energy[i], m.identity_energy[i], 1e-3 * (1 + std::abs(m.identity_energy[i])));
      EXPECT_NEAR(m.log_weight[i], m.identity_log_weight[i], 2e-3 * (1 + std::abs(m.identity_energy[i])));
      EXPECT_EQ(m.log_weight[i], m.log_weight_unrestricted[i]);
    }
  }
}

TEST(Mapping, LogWeightsAreEq11RecomputedFromTheMappedConfigurations) {
  const Liquids s = setup(32, 300, 2);
  RealNvp<float> flow(FlowShape{s.pre.latent_dim(), 4, {16}, 0.0}, 6);
  std::mt19937 g(3);
  std::normal_distribution<float> z(0.0f, 0.02f);
  for (auto& p : flow.parameters()) p += z(g);  // a non-trivial map (last layers no longer zero)
  const MappedSet m = map_configurations(s.pre, flow, s.a, s.b, Direction::a_to_b, s.x);
  const std::size_t row = 64;
  int outside = 0;
  for (std::size_t i = 0; i < m.size(); ++i) {
    const double ub = total_energy(s.b, std::span<const float>(m.positions.data() + i * row, row));
    const double ua = total_energy(s.a, std::span<const float>(s.x.data() + i * row, row));
    EXPECT_NEAR(m.mapped_energy[i], ub, 1e-9 * (1 + std::abs(ub)));
    EXPECT_NEAR(m.log_weight_unrestricted[i], -s.b.beta * ub + s.a.beta * ua + m.log_jacobian[i], 1e-9 * (1 + std::abs(ub)));
    EXPECT_NE(m.log_jacobian[i], 0.0);
    if (!m.in_domain[i]) {
      ++outside;
      EXPECT_EQ(m.log_weight[i], -std::numeric_limits<double>::infinity());
    } else {
      EXPECT_EQ(m.log_weight[i], m.log_weight_unrestricted[i]);
    }
  }
  // The inverse direction of the same flow undoes this one (to float precision).
  const MappedSet back = map_configurations(s.pre, flow, s.b, s.a, Direction::b_to_a, m.positions);
  for (std::size_t i = 0; i < m.size(); ++i)
    if (m.in_domain[i]) {
      EXPECT_NEAR(back.log_jacobian[i], -m.log_jacobian[i], 1e-3) << i;
    }
  RecordProperty("outside", outside);
}

// The sign convention of the log-Jacobian: a flow whose first block scales its transformed half by
// e^κ (S's last bias = κ, its weights zero) has log|det ∂F/∂z| = κ·31 for A→B and −κ·31 for B→A,
// and Eq. 11's weight carries +log|det J_F|.
TEST(Mapping, LogJacobianIsThatOfFForAToBAndOfItsInverseForBToA) {
  const Liquids s = setup(32, 200, 5);
  const int m = s.pre.latent_dim(), h = 16, keep = m / 2, trans = m - keep;
  RealNvp<float> flow(FlowShape{m, 2, {h}, 0.0}, 7);
  const float kappa = 0.01f;
  const std::size_t s_last_bias = static_cast<std::size_t>(h) * keep + h + static_cast<std::size_t>(trans) * h;
  for (int k = 0; k < trans; ++k) flow.parameters()[s_last_bias + k] = kappa;
  const MappedSet f = map_configurations(s.pre, flow, s.a, s.b, Direction::a_to_b, s.x);
  const MappedSet b = map_configurations(s.pre, flow, s.b, s.a, Direction::b_to_a, s.x);
  for (std::size_t i = 0; i < f.size(); ++i) {
    EXPECT_NEAR(f.log_jacobian[i], kappa * trans, 1e-5);
    EXPECT_NEAR(b.log_jacobian[i], -kappa * trans, 1e-5);
  }
}

// The domain's definition: P(P⁻¹(z)) = z. Brute force: the window check on y = PCA⁻¹(z), and the
// identity being an optimal assignment of the 7 particles to the 7 sites (all 5040 of them).
TEST(Mapping, DomainTestAgreesWithReprocessingAndBruteForceRelabellingForNEight) {
  const Liquids s = setup(8, 600, 4);
  const int m = s.pre.latent_dim(), N = 8, rows = 600;
  std::vector<int> c(rows), e(rows);
  Preprocessor::evaluation_choices(c, e);
  std::vector<float> x = s.x, z(static_cast<std::size_t>(rows) * m);
  s.pre.forward(BatchView{x.data(), rows, N, 2}, c, e, z.data());
  std::mt19937 g(7);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  for (int r = 0; r < rows; ++r)  // latent perturbations of growing size: some stay in D, some leave
    for (int k = 0; k < m; ++k) z[static_cast<std::size_t>(r) * m + k] += (0.2f + 3.0f * r / rows) * noise(g);
  std::vector<std::uint8_t> inside(rows);
  s.pre.in_domain(z.data(), rows, inside);

  std::vector<float> phys(static_cast<std::size_t>(rows) * N * 2), z2(z.size());
  s.pre.inverse(z.data(), BatchView{phys.data(), rows, N, 2});
  s.pre.forward(BatchView{phys.data(), rows, N, 2}, c, e, z2.data());
  std::vector<float> y(static_cast<std::size_t>(rows) * m);
  s.pre.pca().inverse(z.data(), BatchView{y.data(), rows, 1, m});
  const auto& sites = s.pre.relabel().site_coordinates();
  const auto& centres = s.pre.wrap_centres();
  const double L = s.pre.box_length();
  int in_count = 0;
  for (int r = 0; r < rows; ++r) {
    // Definition: re-preprocessing reproduces z (whitened units; float round trip ≈ 1e-5).
    double diff = 0;
    for (int k = 0; k < m; ++k) diff = std::max(diff, std::abs(double(z2[static_cast<std::size_t>(r) * m + k]) - z[static_cast<std::size_t>(r) * m + k]));
    EXPECT_EQ(inside[r] == 1, diff < 1e-2) << "row " << r << " max |Δz| " << diff;
    // Brute force.
    const float* yr = y.data() + static_cast<std::size_t>(r) * m;
    bool window = true;
    for (int k = 0; k < m; ++k) window &= yr[k] - centres[k] >= -0.5 * L && yr[k] - centres[k] < 0.5 * L;
    auto cost = [&](const std::vector<int>& p) {
      double cst = 0;
      for (int k = 0; k < N - 1; ++k)
        for (int d = 0; d < 2; ++d) {
          const double u = minimum_image(double(yr[p[k] * 2 + d]) - sites[k * 2 + d], L, 1.0 / L);
          cst += u * u;
        }
      return cst;
    };
    std::vector<int> p(N - 1);
    std::iota(p.begin(), p.end(), 0);
    const double id_cost = cost(p);
    double best = id_cost;
    while (std::next_permutation(p.begin(), p.end())) best = std::min(best, cost(p));
    const bool brute = window && id_cost <= best + 1e-9;
    EXPECT_EQ(inside[r] == 1, brute) << "row " << r << " window " << window << " identity cost " << id_cost << " best " << best;
    in_count += inside[r];
  }
  // Both kinds occur, so the comparison means something.
  EXPECT_GT(in_count, rows / 10);
  EXPECT_LT(in_count, rows - rows / 10);
}

}  // namespace
}  // namespace boltzmap

namespace boltzmap {
namespace {

// A configuration the preprocessing cannot handle (a NaN coordinate reaches the relabelling's
// assignment solver) inside map_configurations' OpenMP region: the error must come out as an
// exception on the calling thread (before, it escaped the region and the runtime aborted, exit 134).
TEST(Mapping, AnErrorInsideTheParallelRegionIsRethrownNotAborted) {
  Liquids s = setup(32, 1200, 2);
  const RealNvp<float> identity(FlowShape{s.pre.latent_dim(), 2, {16}, 0.0}, 5);
  s.x[700 * 64 + 5] = std::numeric_limits<float>::quiet_NaN();  // configuration 700: not in the first chunk
  try {
    (void)map_configurations(s.pre, identity, s.a, s.b, Direction::a_to_b, s.x);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::numerical) << e.what();
  }
}

}  // namespace
}  // namespace boltzmap
