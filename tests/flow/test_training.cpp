// Learning tests that would fail if training were wrong (src/flow/{realnvp,loss,adam}.hpp):
// Adam's first steps against its formula, and a real-NVP trained in float32 between two Gaussians
// of different covariance reaching the analytic minima of both losses.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <numbers>
#include <vector>

#include "core/rng.hpp"
#include "flow/adam.hpp"
#include "flow/loss.hpp"
#include "flow/realnvp.hpp"

namespace boltzmap {
namespace {

TEST(Adam, FirstStepsFollowTheFormula) {
  // With bias correction the first step moves every parameter by lr·sign(g) (|m̂| = √v̂ = |g|).
  Adam adam;
  std::vector<double> p = {1.0, -2.0, 0.5}, g = {0.3, -4.0, 1e-3};
  adam.step(p, g, 0.01);
  EXPECT_NEAR(p[0], 1.0 - 0.01, 1e-9);
  EXPECT_NEAR(p[1], -2.0 + 0.01, 1e-9);
  EXPECT_NEAR(p[2], 0.5 - 0.01 * 1e-3 / (1e-3 + 1e-8), 1e-12);
  // It minimises a badly scaled quadratic ½Σ k_i θ_i².
  std::vector<double> q = {3.0, -1.0}, k = {100.0, 0.01}, gq(2);
  Adam a2;
  for (int t = 0; t < 3000; ++t) {
    for (int i = 0; i < 2; ++i) gq[i] = k[i] * q[i];
    a2.step(q, gq, 0.01);
  }
  EXPECT_LT(std::abs(q[0]), 0.02);
  EXPECT_LT(std::abs(q[1]), 0.02);
}

// βU(z) = ½ zᵀ Σ⁻¹ z.
class GaussianEnergy : public LatentEnergyBase {
 public:
  explicit GaussianEnergy(const Eigen::MatrixXd& cov) : precision_(cov.inverse()) {}
  void evaluate(const RealNvp<double>::Mat& z, RealNvp<double>::Vec& e, RealNvp<double>::Mat* gz) const override {
    const RealNvp<double>::Mat pz = z * precision_;  // precision is symmetric
    e = 0.5 * (pz.array() * z.array()).rowwise().sum();
    if (gz) *gz = pz;
  }

 private:
  Eigen::MatrixXd precision_;
};

RealNvp<float>::Mat gaussian(const Eigen::MatrixXd& cov, int rows, std::uint64_t seed, std::uint64_t draw) {
  const Eigen::MatrixXd chol = cov.llt().matrixL();
  const int d = static_cast<int>(cov.rows());
  Eigen::MatrixXd g(rows, d);
  for (int r = 0; r < rows; ++r)
    for (int k = 0; k < d; ++k) {
      const Random4 q = philox(seed, RngStream::Test, static_cast<std::uint32_t>(r), draw * 64 + k);
      g(r, k) = std::sqrt(-2 * std::log(uniform_open_double(q.v[0]))) * std::cos(2 * std::numbers::pi * uniform_double(q.v[1]));
    }
  return (g * chol.transpose()).cast<float>();
}

TEST(Training, GaussianToGaussianReachesTheAnalyticMinima) {
  const int d = 4;
  Eigen::MatrixXd cov_a = Eigen::MatrixXd::Identity(d, d), cov_b(d, d);
  cov_b << 2.0, 0.6, 0.0, 0.0, 0.6, 1.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 1.5;
  // KL(P ‖ ρ) ≥ 0 gives L_inv ≥ H_A − ln Z_B = ½ ln(det Σ_A / det Σ_B) + d/2, and the mirror for
  // L_dir; both are reached by an exact map (a linear one exists and real-NVP can represent it).
  const double ld_min = 0.5 * std::log(cov_b.determinant() / cov_a.determinant()) + 0.5 * d;
  const double li_min = 0.5 * std::log(cov_a.determinant() / cov_b.determinant()) + 0.5 * d;
  const GaussianEnergy ea(cov_a), eb(cov_b);
  FlowShape shape;
  shape.dim = d;
  shape.blocks = 4;
  shape.hidden = {16, 16};
  RealNvp<float> flow(shape, 1);
  Adam adam;
  ParamVector<float> grad;
  const int batch = 256, steps = 2500;
  for (int t = 0; t < steps; ++t) {
    const auto za = gaussian(cov_a, batch, 10, t), zb = gaussian(cov_b, batch, 11, t);
    std::fill(grad.begin(), grad.end(), 0.0f);
    losses<float>(flow, ea, eb, za, zb, 1.0, 1.0, &grad);
    adam.step(flow.parameters(), grad, t < 1500 ? 3e-3 : 1e-3);
  }
  // Evaluate on fresh samples: the per-row terms have standard deviation ≲ 1.8, so the means over
  // 200 000 rows have standard error ≈ 0.004; allow the optimum + 0.03 (≈ 5σ plus a small
  // optimisation gap) and nothing below the bound − 5σ. (With 40 000 rows one of these samples
  // had a 4σ-high variance, which moved L_inv by 0.03: the sample size matters here.)
  const int n = 200000;
  const auto za = gaussian(cov_a, n, 20, 0), zb = gaussian(cov_b, n, 21, 0);
  const LossValues end = losses<float>(flow, ea, eb, za, zb, 1.0, 1.0, nullptr);
  RealNvp<float> identity(shape, 1);
  const LossValues start = losses<float>(identity, ea, eb, za, zb, 1.0, 1.0, nullptr);
  std::printf("Gaussian test: L_dir %.4f → %.4f (minimum %.4f), L_inv %.4f → %.4f (minimum %.4f)\n", start.dir, end.dir,
              ld_min, start.inv, end.inv, li_min);
  EXPECT_NEAR(start.dir, 0.5 * cov_b.trace(), 0.02);  // the identity map: ½ tr Σ_B (5σ)
  EXPECT_NEAR(start.inv, 0.5 * cov_b.inverse().trace(), 0.02);  // ½ tr Σ_B⁻¹
  EXPECT_GT(start.dir - ld_min, 0.3);                  // a gap that training must close
  EXPECT_GT(start.inv - li_min, 0.3);
  EXPECT_LT(end.dir, ld_min + 0.03) << "start " << start.dir << " minimum " << ld_min;
  EXPECT_LT(end.inv, li_min + 0.03) << "start " << start.inv << " minimum " << li_min;
  EXPECT_GT(end.dir, ld_min - 0.02);
  EXPECT_GT(end.inv, li_min - 0.02);
}

}  // namespace
}  // namespace boltzmap
