// PCA layer (src/transforms/pca.hpp): whitening gives zero mean and identity covariance on the
// fitting data (exactly, up to float round-off) and on fresh data of the same distribution
// (within sampling error); log|det W| = −½ Σ log λ_k against an independent determinant; the
// inverse is exact to float tolerance; the rotation-only variant is orthogonal; singular data is
// refused with a numerical error.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "transforms/pca.hpp"

namespace boltzmap {
namespace {

constexpr int m = 6;

// Correlated Gaussian rows: x = μ + A g with a fixed mixing matrix A (condition number ≈ 30).
std::vector<float> gaussian_rows(int rows, std::uint64_t seed) {
  Eigen::MatrixXd A(m, m);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < m; ++j) A(i, j) = (i == j ? 1.0 + i : 0.0) + 0.3 * std::sin(1.0 + i * 7 + j * 3);
  std::vector<float> out(static_cast<size_t>(rows) * m);
  for (int r = 0; r < rows; ++r) {
    Eigen::VectorXd g(m);
    for (int k = 0; k < m; ++k) {
      const Random4 q = philox(seed, RngStream::Test, r, k);
      g(k) = std::sqrt(-2 * std::log(uniform_open_double(q.v[0]))) * std::cos(2 * std::numbers::pi * uniform_double(q.v[1]));
    }
    const Eigen::VectorXd x = A * g + Eigen::VectorXd::LinSpaced(m, 1.0, 6.0);
    for (int k = 0; k < m; ++k) out[r * m + k] = static_cast<float>(x(k));
  }
  return out;
}

Eigen::MatrixXd covariance(const std::vector<float>& y, int rows, Eigen::VectorXd& mean) {
  Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> Y(y.data(), rows, m);
  const Eigen::MatrixXd Yd = Y.cast<double>();
  mean = Yd.colwise().mean().transpose();
  const Eigen::MatrixXd c = Yd.rowwise() - mean.transpose();
  return c.transpose() * c / rows;
}

TEST(Pca, WhiteningGivesZeroMeanAndIdentityCovariance) {
  const int rows = 20000;
  auto x = gaussian_rows(rows, 1);
  const BatchView v{x.data(), rows, 1, m};
  const Pca pca = Pca::fit(std::span<const BatchView>(&v, 1), true);
  std::vector<float> y(x.size());
  pca.forward(v, y.data());
  Eigen::VectorXd mean;
  Eigen::MatrixXd cov = covariance(y, rows, mean);
  // On the fitting data: exact up to float32 round-off of the products (≈ 1e-6 relative · √m).
  EXPECT_LT(mean.cwiseAbs().maxCoeff(), 1e-4);
  EXPECT_LT((cov - Eigen::MatrixXd::Identity(m, m)).cwiseAbs().maxCoeff(), 1e-4);
  // Fresh data: mean components have standard error 1/√n = 0.007, covariance entries ≈ √(2/n) = 0.01;
  // tolerance 5 standard errors.
  auto x2 = gaussian_rows(rows, 2);
  pca.forward(BatchView{x2.data(), rows, 1, m}, y.data());
  cov = covariance(y, rows, mean);
  EXPECT_LT(mean.cwiseAbs().maxCoeff(), 5 / std::sqrt(rows));
  EXPECT_LT((cov - Eigen::MatrixXd::Identity(m, m)).cwiseAbs().maxCoeff(), 5 * std::sqrt(2.0 / rows));
  // Components are ordered by decreasing variance.
  for (int k = 1; k < m; ++k) EXPECT_GE(pca.eigenvalues()(k - 1), pca.eigenvalues()(k));
}

TEST(Pca, LogDetAndInverse) {
  const int rows = 5000;
  auto x = gaussian_rows(rows, 3);
  const BatchView v{x.data(), rows, 1, m};
  for (bool whiten : {true, false}) {
    const Pca pca = Pca::fit(std::span<const BatchView>(&v, 1), whiten);
    // W rebuilt from the stored state, its determinant computed independently (LU).
    Eigen::VectorXd scale = Eigen::VectorXd::Ones(m);
    if (whiten) scale = pca.eigenvalues().array().rsqrt();
    const Eigen::MatrixXd W = scale.asDiagonal() * pca.components().transpose();
    EXPECT_NEAR(pca.log_det_forward(), std::log(std::abs(W.determinant())), 1e-9) << "whiten " << whiten;
    if (whiten) EXPECT_NEAR(pca.log_det_forward(), -0.5 * pca.eigenvalues().array().log().sum(), 1e-12);
    if (!whiten) EXPECT_LT((W * W.transpose() - Eigen::MatrixXd::Identity(m, m)).cwiseAbs().maxCoeff(), 1e-12);
    std::vector<float> y(x.size()), back(x.size());
    pca.forward(v, y.data());
    pca.inverse(y.data(), BatchView{back.data(), rows, 1, m});
    double worst = 0;
    for (size_t k = 0; k < x.size(); ++k) worst = std::max(worst, static_cast<double>(std::abs(back[k] - x[k])));
    // float32: |x| ≲ 20, products over m = 6 terms → a few ulp of 20 (ulp ≈ 2e-6).
    EXPECT_LT(worst, 2e-5) << "whiten " << whiten;
  }
}

TEST(Pca, SingularDataIsRefused) {
  const int rows = 100;
  auto x = gaussian_rows(rows, 4);
  for (int r = 0; r < rows; ++r) x[r * m + 2] = 1.5f;  // a constant coordinate
  const BatchView v{x.data(), rows, 1, m};
  try {
    Pca::fit(std::span<const BatchView>(&v, 1), true);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::numerical);
    EXPECT_NE(std::string(e.what()).find("singular"), std::string::npos) << e.what();
  }
  const BatchView few{x.data(), 4, 1, m};  // fewer rows than dimensions
  EXPECT_THROW(Pca::fit(std::span<const BatchView>(&few, 1), true), Error);
}

}  // namespace
}  // namespace boltzmap
