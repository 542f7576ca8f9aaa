// Losses (src/flow/loss.hpp): the clamp's regimes and continuity, and every parameter gradient of
// L = λ_dir L_dir + λ_inv L_inv — through the flow, the inverse preprocessing, the energy and the
// forces — against central finite differences in double, with the clamp in both regimes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/rng.hpp"
#include "flow/equivariant_flow.hpp"
#include "flow/loss.hpp"
#include "flow/realnvp.hpp"
#include "physics/lattice.hpp"
#include "sampling/walkers.hpp"
#include "support/configs.hpp"

namespace boltzmap {
namespace {

TEST(Clamp, RegimesContinuityAndCap) {
  const double ec = 1e5;
  double s = -1;
  EXPECT_EQ(clamp_reduced_energy(12.5, ec, &s), 12.5);
  EXPECT_EQ(s, 1.0);
  EXPECT_EQ(clamp_reduced_energy(-3.0, ec, &s), -3.0);
  // Continuity of value and slope at E_c (left and right limits).
  double sl, sr;
  const double l = clamp_reduced_energy(ec - 1e-9, ec, &sl), r = clamp_reduced_energy(ec + 1e-9, ec, &sr);
  EXPECT_NEAR(l, r, 1e-8);
  EXPECT_NEAR(sl, sr, 1e-8);
  // Log regime: E_c + ln(1 + a − E_c), slope 1/(1 + a − E_c).
  EXPECT_DOUBLE_EQ(clamp_reduced_energy(ec + 99.0, ec, &s), ec + std::log(100.0));
  EXPECT_DOUBLE_EQ(s, 0.01);
  // Cap above 10²⁰ and for NaN; slope 0; the cap is the log regime's value at 10²⁰.
  const double cap = ec + std::log1p(1e20 - ec);
  EXPECT_EQ(clamp_reduced_energy(1e30, ec, &s), cap);
  EXPECT_EQ(s, 0.0);
  EXPECT_EQ(clamp_reduced_energy(std::numeric_limits<double>::quiet_NaN(), ec, &s), cap);
  EXPECT_EQ(s, 0.0);
  EXPECT_EQ(clamp_reduced_energy(std::numeric_limits<double>::infinity(), ec, nullptr), cap);
  EXPECT_NEAR(clamp_reduced_energy(1e20, ec, nullptr), cap, 1e-9 * cap);
}

struct LossFixtureData {
  System a, b;
  std::unique_ptr<Preprocessor> pre;
  RealNvp<double>::Mat za, zb;
};

// A tiny system (N = 8, 2D) so every parameter can be checked: A = LJ ε = 1, B = LJ ε = ½.
// torus: the equivariant flow's latent space (centre, symmetry, drop; no relabelling or PCA).
LossFixtureData make_setup(int rows, bool torus = false) {
  LossFixtureData s;
  const int N = 8, D = 2;
  const double L = box_length(N, 0.7, D);  // 3.38: r_c = 1.6 ≤ L/2
  s.a = test::make_system(PotentialKind::lj, 1.0, 1.6, 0.8, D, N, L);
  s.b = test::make_system(PotentialKind::lj, 0.5, 1.6, 0.8, D, N, L);
  const auto lat = make_lattice("centered-square", D, N, L);
  std::vector<std::vector<float>> data;
  for (const System* sys : {&s.a, &s.b}) {
    WalkerSet ws(*sys, 31, 0, 400, lat);
    ws.run(2000, 0.3f);
    std::vector<float> x(400 * N * D);
    for (int w = 0; w < 400; ++w) ws.configuration(w, std::span<float>(x.data() + w * N * D, N * D));
    data.push_back(std::move(x));
  }
  PreprocessSettings settings;
  settings.torus = torus;
  s.pre = std::make_unique<Preprocessor>(settings, N, D, L);
  const BatchView views[2] = {{data[0].data(), 400, N, D}, {data[1].data(), 400, N, D}};
  s.pre->fit(views, 3);
  for (int k = 0; k < 2; ++k) {
    std::vector<int> c(rows), g(rows);
    Preprocessor::evaluation_choices(c, g);
    std::vector<float> z(static_cast<std::size_t>(rows) * s.pre->latent_dim());
    s.pre->forward(BatchView{data[k].data(), rows, N, D}, c, g, z.data());
    RealNvp<double>::Mat m = Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
                                 z.data(), rows, s.pre->latent_dim())
                                 .cast<double>();
    (k == 0 ? s.za : s.zb) = m;
  }
  return s;
}

// Every parameter gradient of L against central differences, the clamp start at the median reduced
// energy of each direction's mapped batch (half the rows in the linear, half in the log regime).
void check_loss_gradients(Flow<double>& flow, const LossFixtureData& s) {
  for (std::size_t i = 0; i < flow.parameter_count(); ++i) {
    const Random4 r = philox(9, RngStream::Test, 1, i);
    flow.parameters()[i] = 0.15 * (2 * uniform_double(r.v[0], r.v[1]) - 1);
  }
  // Clamp start at the median reduced energy of each direction's mapped batch, so half the rows
  // are in the linear and half in the log regime.
  auto median_energy = [&](const System& sys, const Flow<double>::Mat& z, bool inverse) {
    Flow<double>::Mat y;
    Flow<double>::Vec ld, e;
    inverse ? flow.inverse(z, y, ld, nullptr) : flow.forward(z, y, ld, nullptr);
    LatentEnergy(*s.pre, sys, 1e300).evaluate(y, e, nullptr);
    std::vector<double> v(e.data(), e.data() + e.size());
    std::sort(v.begin(), v.end());
    return 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
  };
  const LatentEnergy ea(*s.pre, s.a, median_energy(s.a, s.zb, true));
  const LatentEnergy eb(*s.pre, s.b, median_energy(s.b, s.za, false));
  const double ld = 0.7, li = 1.3;
  ParamVector<double> grad;
  const LossValues v = losses<double>(flow, ea, eb, s.za, s.zb, ld, li, &grad);
  EXPECT_TRUE(std::isfinite(v.dir) && std::isfinite(v.inv));
  const double h = 1e-6;
  auto L = [&]() {
    const LossValues q = losses<double>(flow, ea, eb, s.za, s.zb, ld, li, nullptr);
    return ld * q.dir + li * q.inv;
  };
  int nonzero = 0;
  for (std::size_t i = 0; i < flow.parameter_count(); ++i) {
    double& p = flow.parameters()[i];
    const double keep = p;
    p = keep + h;
    const double lp = L();
    p = keep - h;
    const double lm = L();
    p = keep;
    const double fd = (lp - lm) / (2 * h);
    // FD round-off ≈ 1e-16·|L|/h ≈ 1e-9 for |L| ~ 10; truncation O(h²).
    EXPECT_NEAR(grad[i], fd, 1e-6 + 1e-5 * std::abs(fd)) << "parameter " << i;
    nonzero += std::abs(fd) > 1e-6;
  }
  EXPECT_GT(nonzero, static_cast<int>(flow.parameter_count()) / 2);  // the check has something to check
}

TEST(Loss, ParameterGradientsMatchFiniteDifferencesInBothClampRegimes) {
  const LossFixtureData s = make_setup(6);
  FlowShape shape;
  shape.dim = s.pre->latent_dim();
  shape.blocks = 2;
  shape.hidden = {6, 5};
  RealNvp<double> flow(shape, 4);
  check_loss_gradients(flow, s);
}

// The same through the equivariant flow on the torus coordinates: the energies see z + L/2 wrapped
// into the box, the centred particle re-inserted (gradients pass the wrap unchanged).
TEST(Loss, EquivariantFlowGradientsThroughTheTorusMatchFiniteDifferences) {
  const LossFixtureData s = make_setup(6, true);
  EquivariantFlowShape shape;
  shape.particles = s.pre->n_particles() - 1;
  shape.dim = s.pre->dim();
  shape.layers = 2;
  shape.bins = 4;
  shape.frequencies = 2;
  shape.hidden = 4;
  shape.length = s.pre->box_length();
  EquivariantFlow<double> flow(shape, 4);
  check_loss_gradients(flow, s);
}

}  // namespace
}  // namespace boltzmap
