// The box-scaling layer between systems of different densities (src/transforms/preprocessor.hpp):
// S(x) = s·x, s = L_B/L_A, at B's end of the preprocessing, log|det| = (N − 1)·D·ln s on the
// retained coordinates. Analytic tests:
//   * S⁻¹∘S is the identity (to float rounding) and keeps every coordinate in its box;
//   * the log-det equals the log of a finite-difference Jacobian determinant of the whole identity
//     map x_A ↦ S(P⁻¹(P(x_A))) on N = 8, and B's latent energy's gradient (with its factor s) equals
//     central differences;
//   * an identity flow between two ideal gases (U = 0): every weight is exactly e^{±(N−1)·D·ln s},
//     and analyze() gives βΔF = −N·D·ln s = −N·ln(V_B/V_A) from every estimator;
//   * an exact map between two LJ liquids, B being A with every length scaled by s (σ, r_c and
//     r_in): U_B(s·x) = U_A(x), so the identity flow plus the box scaling is the exact map, the
//     weights are constant and βΔF = −N·D·ln s again;
//   * flow.h5's preprocessing keeps both boxes.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <vector>

#include "analysis/analysis.hpp"
#include "analysis/mapping.hpp"
#include "flow/loss.hpp"
#include "flow/realnvp.hpp"
#include "io/model_file.hpp"
#include "physics/box.hpp"
#include "physics/lattice.hpp"
#include "sampling/walkers.hpp"
#include "stats/estimators.hpp"
#include "support/configs.hpp"

namespace boltzmap {
namespace {

// A's configurations: MC of a 2D LJ liquid (rows walkers from the lattice); B's box from ρ_B.
struct TwoBoxes {
  int N;
  double L_a, L_b;
  System a;
  std::vector<float> x;  // A's configurations [rows][N][2]
  Preprocessor pre;
};

TwoBoxes setup(int N, int rows, double rho_a, double rho_b, std::uint64_t seed) {
  const double L_a = box_length(N, rho_a, 2), L_b = box_length(N, rho_b, 2), rc = std::min(3.0, 0.49 * L_a);
  TwoBoxes t{N, L_a, L_b, test::make_system(PotentialKind::lj, 1.0, rc, 0.8, 2, N, L_a), {},
             Preprocessor(PreprocessSettings{}, N, 2, L_a, L_b)};
  WalkerSet ws(t.a, seed, 0, rows, make_lattice("centered-square", 2, N, L_a));
  ws.run(2000, 0.175f);
  t.x.resize(static_cast<std::size_t>(rows) * N * 2);
  for (int w = 0; w < rows; ++w) ws.configuration(w, std::span<float>(t.x.data() + static_cast<std::size_t>(w) * N * 2, N * 2));
  std::vector<float> fit = t.x;
  const BatchView v{fit.data(), rows, N, 2};
  t.pre.fit(std::span<const BatchView>(&v, 1), 3);
  return t;
}

TEST(BoxScaling, RoundTripStaysInTheBoxes) {
  const Preprocessor pre(PreprocessSettings{}, 8, 2, 3.0, 3.3);
  EXPECT_DOUBLE_EQ(pre.box_scale(), 1.1);
  EXPECT_NEAR(pre.box_log_det(), 7 * 2 * std::log(1.1), 1e-14);  // (N − 1)·D·ln s
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0.0f, 3.3f);
  std::vector<float> x(8 * 2 * 50);
  for (float& v : x) v = u(rng);
  x[0] = std::nextafter(3.3f, 0.0f);  // the largest float below L_B
  std::vector<float> y = x;
  pre.into_preprocessing_box('B', y);
  for (float v : y) ASSERT_TRUE(v >= 0.0f && v < 3.0f) << v;
  pre.out_of_preprocessing_box('B', y);
  for (std::size_t i = 0; i < x.size(); ++i) {
    ASSERT_TRUE(y[i] >= 0.0f && y[i] < 3.3f) << y[i];
    // Two float roundings of a value below 3.3 (or the wrap of L_B to 0, a minimum image of 0).
    EXPECT_NEAR(minimum_image<double>(y[i] - x[i], 3.3, 1 / 3.3), 0.0, 1e-6) << i;
  }
  std::vector<float> a = x;
  pre.into_preprocessing_box('A', a);
  pre.out_of_preprocessing_box('A', a);
  EXPECT_EQ(a, x);  // A is the preprocessing's own box
}

TEST(BoxScaling, LogDetEqualsAFiniteDifferenceJacobian) {
  // N = 8 (14 retained coordinates), ρ_A = 0.70 → ρ_B = 0.735 (s < 1). The identity map of the
  // retained coordinates of A (particle 0 at the centre) to those of B, x_B = S(P⁻¹(P(x_A))), is
  // linear; central differences with h = 10⁻² in float are exact up to float rounding of
  // coordinates ≈ 3, i.e. ≈ 3·6e-8/10⁻² ≈ 2e-5 per entry, and ln|det| of the 14×14 matrix moves
  // by about √14 times that: 2e-3 is a tenfold margin.
  const TwoBoxes t = setup(8, 200, 0.70, 0.735, 11);
  const int N = 8, D = 2, m = (N - 1) * D;
  std::vector<float> x0(t.x.begin(), t.x.begin() + N * D);
  // Put particle 0 at A's centre (a translation: the map's Jacobian is taken at fixed c = 0).
  const float shift[2] = {static_cast<float>(0.5 * t.L_a) - x0[0], static_cast<float>(0.5 * t.L_a) - x0[1]};
  for (int i = 0; i < N; ++i)
    for (int d = 0; d < D; ++d) x0[i * D + d] = wrap_into_box<float>(x0[i * D + d] + shift[d], t.L_a, 1 / t.L_a);
  auto image = [&](const std::vector<float>& x) {
    std::vector<float> z(m), out(N * D);
    std::vector<int> ci(1, 0), gi(1, 0);
    std::vector<float> in = x;
    t.pre.forward(BatchView{in.data(), 1, N, D}, ci, gi, z.data());
    t.pre.inverse(z.data(), BatchView{out.data(), 1, N, D});
    t.pre.out_of_preprocessing_box('B', out);
    return out;
  };
  const std::vector<float> y0 = image(x0);
  EXPECT_NEAR(y0[0], 0.5 * t.L_b, 1e-5);  // the fixed particle sits at B's centre
  const float h = 1e-2f;
  Eigen::MatrixXd J(m, m);
  for (int j = 0; j < m; ++j) {
    std::vector<float> xp = x0, xm = x0;
    xp[D + j] += h;
    xm[D + j] -= h;
    const std::vector<float> yp = image(xp), ym = image(xm);
    for (int k = 0; k < m; ++k)
      J(k, j) = minimum_image<double>(static_cast<double>(yp[D + k]) - ym[D + k], t.L_b, 1 / t.L_b) / (2.0 * h);
  }
  const double fd = std::log(std::abs(J.determinant()));
  EXPECT_NEAR(fd, t.pre.box_log_det(), 2e-3) << "finite differences " << fd << ", layer " << t.pre.box_log_det();
  EXPECT_LT(t.pre.box_log_det(), 0.0);
}

TEST(BoxScaling, LatentEnergyOfBHasTheScaledGradient) {
  // e(z) = β_B U_B(S(P⁻¹(z))): its gradient (with S's factor s) against central differences in
  // double, h = 10⁻⁵ (truncation ≈ h²·e‴ ≈ 10⁻⁸; rounding ≈ 10⁻¹⁶·|e|/h ≈ 10⁻⁹ for |e| ≈ 100).
  const TwoBoxes t = setup(8, 200, 0.70, 0.735, 12);
  const System b = test::make_system(PotentialKind::lj, 0.5, std::min(3.0, 0.49 * t.L_b), 0.8, 2, 8, t.L_b);
  const LatentEnergy e_b(t.pre, b, 1e5, 'B');
  EXPECT_DOUBLE_EQ(e_b.box_log_det(), t.pre.box_log_det());
  const int m = t.pre.latent_dim();
  std::vector<int> c(1, 0), g(1, 0);
  std::vector<float> zf(m), in(t.x.begin(), t.x.begin() + 16);
  t.pre.forward(BatchView{in.data(), 1, 8, 2}, c, g, zf.data());
  RealNvp<double>::Mat z(1, m), gz;
  for (int k = 0; k < m; ++k) z(0, k) = zf[k];
  RealNvp<double>::Vec e0;
  e_b.evaluate(z, e0, &gz);
  // The configuration is in B's box, with the central particle at B's centre.
  const std::vector<double> x = e_b.configuration(z.row(0).data());
  EXPECT_DOUBLE_EQ(x[0], 0.5 * t.L_b);
  for (double v : x) EXPECT_TRUE(v >= 0.0 && v < t.L_b);
  const double h = 1e-5;
  for (int k = 0; k < m; ++k) {
    RealNvp<double>::Mat zp = z, zm = z;
    zp(0, k) += h;
    zm(0, k) -= h;
    RealNvp<double>::Vec ep, em;
    e_b.evaluate(zp, ep, nullptr);
    e_b.evaluate(zm, em, nullptr);
    const double fd = (ep(0) - em(0)) / (2 * h);
    EXPECT_NEAR(gz(0, k), fd, 1e-5 * (1 + std::abs(fd))) << "component " << k;
  }
}

// Both directions of an identity flow between A's box and B's, then analyze(); `b_samples` are
// B's own configurations (in B's box).
AnalysisResult map_and_analyze(const TwoBoxes& t, const System& a, const System& b, const std::vector<float>& b_samples,
                               MappedSet& ab, MappedSet& ba) {
  const RealNvp<float> identity(FlowShape{t.pre.latent_dim(), 2, {16}, 0.0}, 5);  // zero last layers
  ab = map_configurations(t.pre, identity, a, b, Direction::a_to_b, t.x);
  ba = map_configurations(t.pre, identity, b, a, Direction::b_to_a, b_samples);
  std::vector<double> u_a(ab.source_energy), u_b(ba.source_energy);
  std::vector<float> ident_ab = t.x, ident_ba = b_samples;
  scale_coordinates(ident_ab, t.L_b / t.L_a, t.L_b);
  scale_coordinates(ident_ba, t.L_a / t.L_b, t.L_a);
  const DirectionData dab{ident_ab, ab.positions, ab.mapped_energy, ab.identity_energy, ab.log_weight_unrestricted,
                          ab.identity_log_weight, ab.in_domain, b_samples, u_b};
  const DirectionData dba{ident_ba, ba.positions, ba.mapped_energy, ba.identity_energy, ba.log_weight_unrestricted,
                          ba.identity_log_weight, ba.in_domain, t.x, u_a};
  AnalysisOptions o;
  o.replicates = 10;
  o.seed = 4;
  o.box_length_b = t.L_b;
  return analyze(dab, dba, t.N, 2, t.L_a, o);
}

void expect_delta_f(const AnalysisResult& r, double want, double tol) {
  const std::pair<const char*, const std::vector<double>*> all[] = {
      {"A→B", &r.a_to_b.delta_f},           {"B→A", &r.b_to_a.delta_f},
      {"A→B identity", &r.a_to_b.delta_f_identity}, {"B→A identity", &r.b_to_a.delta_f_identity},
      {"BAR", &r.delta_f_bar},              {"BAR identity", &r.delta_f_bar_identity}};
  for (const auto& [name, v] : all)
    for (double x : *v) EXPECT_NEAR(x, want, tol) << name;  // every bootstrap replicate too
}

TEST(BoxScaling, IdealGasWeightsAreExactAndGiveTheVolumeRatio) {
  // U = 0 (ε = 0): log w_B = (N − 1)·D·ln s for every configuration, log w_A = −(N − 1)·D·ln s,
  // and β_B F_B − β_A F_A = −ln(V_B^N/V_A^N) = −N·D·ln s (the removed particle's −D·ln s included).
  const TwoBoxes t = setup(32, 300, 0.70, 0.735, 13);
  const System a = test::make_system(PotentialKind::lj, 0.0, 3.0, 0.8, 2, 32, t.L_a);
  const System b = test::make_system(PotentialKind::lj, 0.0, 3.0, 0.8, 2, 32, t.L_b);
  std::vector<float> xb = t.x;  // any configurations of B's box: the ideal gas's are uniform
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(0.0f, static_cast<float>(t.L_b));
  for (float& v : xb) v = u(rng);
  for (float& v : xb) v = v < t.L_b ? v : 0.0f;
  MappedSet ab, ba;
  const AnalysisResult r = map_and_analyze(t, a, b, xb, ab, ba);
  const double ld = 31 * 2 * std::log(t.L_b / t.L_a);
  for (std::size_t i = 0; i < ab.size(); ++i) {
    ASSERT_EQ(ab.in_domain[i], 1) << i;
    EXPECT_EQ(ab.log_weight[i], ab.log_weight_unrestricted[i]);
    EXPECT_NEAR(ab.log_weight[i], ld, 1e-6) << i;  // exactly the layer's log-det plus the flow's 0
    EXPECT_NEAR(ab.identity_log_weight[i], ld, 1e-12) << i;
  }
  for (std::size_t i = 0; i < ba.size(); ++i) {
    ASSERT_EQ(ba.in_domain[i], 1) << i;  // the identity flow's B → A images stay in A's domain
    EXPECT_NEAR(ba.log_weight_unrestricted[i], -ld, 1e-6) << i;
    EXPECT_NEAR(ba.identity_log_weight[i], -ld, 1e-12) << i;
  }
  expect_delta_f(r, -32 * 2 * std::log(t.L_b / t.L_a), 1e-5);
  EXPECT_NEAR(r.a_to_b.reweighted.mean_energy[0], 0.0, 1e-12);
  // The losses carry the layer's log-det once, with the sign of their direction:
  // L_inv = ⟨β_B U_B − log|det J_F|⟩ = −(N − 1)·D·ln s and L_dir = ⟨β_A U_A − log|det J_F⁻¹|⟩ = +(N − 1)·D·ln s.
  const RealNvp<double> flow(FlowShape{t.pre.latent_dim(), 2, {16}, 0.0}, 5);
  const LatentEnergy e_a(t.pre, a, 1e5, 'A'), e_b(t.pre, b, 1e5, 'B');
  RealNvp<double>::Mat z = RealNvp<double>::Mat::Zero(4, t.pre.latent_dim());
  const LossValues L = losses<double>(flow, e_a, e_b, z, z, 1.0, 1.0, nullptr);
  EXPECT_NEAR(L.inv, -ld, 1e-12);
  EXPECT_NEAR(L.dir, ld, 1e-12);
}

TEST(BoxScaling, ExactMapBetweenLiquidsWithScaledLengths) {
  // B = A with every length scaled by s (σ_B = s, r_c,B = s·r_c, r_in,B = s·r_in), same ε and T:
  // U_B(s·x) = U_A(x), so S alone maps A's Boltzmann distribution exactly onto B's, every weight
  // is constant (to the float rounding of s·x: |Δ log w| ≲ 10⁻⁴ for |βU| ≈ 60) and
  // βΔF = −ln(s^{N·D} Z_A / Z_A) = −N·D·ln s. B's samples: A's, scaled (an exact sample of B).
  const TwoBoxes t = setup(32, 300, 0.70, 0.735, 14);
  const double s = t.L_b / t.L_a, rc = std::min(3.0, 0.49 * t.L_a);
  System b = t.a;
  b.potential = make_pair_potential(PotentialKind::lj, 1.0, s, s * rc, s * 0.8);
  b.box = Box{2, t.L_b};
  std::vector<float> xb = t.x;
  scale_coordinates(xb, s, t.L_b);
  MappedSet ab, ba;
  const AnalysisResult r = map_and_analyze(t, t.a, b, xb, ab, ba);
  const double ld = 31 * 2 * std::log(s);
  for (std::size_t i = 0; i < ab.size(); ++i) {
    ASSERT_EQ(ab.in_domain[i], 1) << i;
    EXPECT_NEAR(ab.mapped_energy[i], ab.source_energy[i], 1e-3) << i;
    EXPECT_NEAR(ab.log_weight[i], ld, 1e-3) << i;
    EXPECT_NEAR(ab.identity_log_weight[i], ld, 1e-3) << i;
  }
  // B → A through the identity flow: every image P⁻¹(P(S⁻¹(x_B))) is in A's canonical domain (the
  // box-scaling layer moves nothing across a relabelling or window boundary; a trained flow's
  // share outside D at s ≠ 1 is the flow's, README "Systems of different densities") and has
  // U_A = U_B(x_B).
  for (std::size_t i = 0; i < ba.size(); ++i) {
    ASSERT_EQ(ba.in_domain[i], 1) << i;
    EXPECT_NEAR(ba.mapped_energy[i], ba.source_energy[i], 1e-3) << i;
    EXPECT_NEAR(ba.log_weight_unrestricted[i], -ld, 1e-3) << i;
    EXPECT_EQ(ba.log_weight[i], ba.log_weight_unrestricted[i]) << i;
  }
  expect_delta_f(r, -32 * 2 * std::log(s), 1e-3);
  // Reweighted ⟨U⟩_B from A's samples equals B's own (identical energies here).
  EXPECT_NEAR(r.a_to_b.reweighted.mean_energy[0], r.a_to_b.reference.mean_energy[0], 1e-3);
}

TEST(BoxScaling, ModelFileKeepsBothBoxes) {
  const TwoBoxes t = setup(8, 100, 0.70, 0.735, 15);
  const char* env = std::getenv("BOLTZMAP_TEST_TMP");
  std::filesystem::path p = env && *env ? env : "/tmp/boltzmap_test_tmp";
  p /= "box_scaling";
  std::filesystem::create_directories(p);
  const std::string path = (p / "pre.h5").string();
  save_preprocessor(path, t.pre, "");
  const Preprocessor back = load_preprocessor(path);
  EXPECT_EQ(back.box_length(), t.L_a);
  EXPECT_EQ(back.box_length_b(), t.L_b);
  EXPECT_EQ(back.box_log_det(), t.pre.box_log_det());
}

}  // namespace
}  // namespace boltzmap
