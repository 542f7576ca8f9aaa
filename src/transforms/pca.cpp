// See pca.hpp.
#include "transforms/pca.hpp"

#include <cmath>

#include <fmt/format.h>

#include "core/error.hpp"

namespace boltzmap {

Pca Pca::fit(std::span<const BatchView> parts, bool whiten) {
  if (parts.empty()) throw Error(ExitCode::failure, "PCA: no data");
  const int m = parts[0].row_size();
  long long n = 0;
  Eigen::VectorXd sum = Eigen::VectorXd::Zero(m);
  for (const auto& p : parts) {
    for (int r = 0; r < p.rows; ++r) sum += Eigen::Map<const Eigen::VectorXf>(p.row(r), m).cast<double>();
    n += p.rows;
  }
  if (n <= m)
    throw numerical_error(fmt::format("PCA: {} configurations for {} dimensions; need more training data than dimensions", n, m));
  const Eigen::VectorXd mean = sum / static_cast<double>(n);
  Eigen::MatrixXd cov = Eigen::MatrixXd::Zero(m, m);
  for (const auto& p : parts) {
    // Blocks of rows as a matrix product (double), centred.
    constexpr int chunk = 1024;
    for (int r0 = 0; r0 < p.rows; r0 += chunk) {
      const int k = std::min(chunk, p.rows - r0);
      Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> rows(p.row(r0), k, m);
      const Eigen::MatrixXd c = rows.cast<double>().rowwise() - mean.transpose();
      cov.noalias() += c.transpose() * c;
    }
  }
  cov /= static_cast<double>(n);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(cov);
  if (eig.info() != Eigen::Success) throw numerical_error("PCA: the eigendecomposition of the covariance failed");
  // Decreasing order.
  const Eigen::VectorXd lambda = eig.eigenvalues().reverse();
  const Eigen::MatrixXd v = eig.eigenvectors().rowwise().reverse();
  if (!(lambda(m - 1) > 1e-12 * lambda(0)))
    throw numerical_error(fmt::format("PCA: the covariance is singular (smallest eigenvalue {:.3g}, largest {:.3g}); "
                                      "a coordinate does not vary in the training data",
                                      lambda(m - 1), lambda(0)));
  return Pca(mean, v, lambda, whiten);
}

Pca::Pca(Eigen::VectorXd mean, Eigen::MatrixXd components, Eigen::VectorXd eigenvalues, bool whiten)
    : mean_(std::move(mean)), lambda_(std::move(eigenvalues)), v_(std::move(components)), whiten_(whiten) {
  derive();
}

Eigen::MatrixXd Pca::inverse_matrix() const {
  if (!whiten_) return v_;
  return v_ * lambda_.array().sqrt().matrix().asDiagonal();
}

void Pca::derive() {
  Eigen::VectorXd scale = Eigen::VectorXd::Ones(lambda_.size());
  if (whiten_) scale = lambda_.array().rsqrt().matrix();
  const Eigen::MatrixXd w = scale.asDiagonal() * v_.transpose();                                    // Λ^(−1/2) Vᵀ
  const Eigen::MatrixXd w_inv = v_ * scale.cwiseInverse().asDiagonal();                             // V Λ^(1/2)
  w_ = w.cast<float>();
  w_inv_ = w_inv.cast<float>();
  mean_f_ = mean_.cast<float>();
  log_det_ = whiten_ ? -0.5 * lambda_.array().log().sum() : 0.0;
}

void Pca::forward(BatchView in, float* out) const {
  const int m = dim();
  using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<const RowMat> x(in.data, in.rows, m);
  Eigen::Map<RowMat> y(out, in.rows, m);
  y.noalias() = (x.rowwise() - mean_f_.transpose()) * w_.transpose();
}

void Pca::inverse(const float* in, BatchView out) const {
  const int m = dim();
  using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<const RowMat> y(in, out.rows, m);
  Eigen::Map<RowMat> x(out.data, out.rows, m);
  x.noalias() = y * w_inv_.transpose();
  x.rowwise() += mean_f_.transpose();
}

}  // namespace boltzmap
