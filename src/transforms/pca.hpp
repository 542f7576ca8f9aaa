// Preprocessing layer 6 (METHOD.md): y = W(x − μ) on the flattened (N − 1)·D vector, with μ and W
// fitted once on the union of the preprocessed A and B training data: W = Λ^(−1/2)Vᵀ (whitening)
// or Vᵀ (rotation only), components ordered by decreasing variance. log|det W| = −½ Σ log λ_k
// (whitened) or 0. Fitting in double (Eigen's self-adjoint eigensolver); the batch products in
// float32. Tests: tests/transforms/test_pca.cpp.
#pragma once
#include <span>

#include <Eigen/Dense>

#include "transforms/batch.hpp"

namespace boltzmap {

class Pca {
 public:
  Pca() = default;
  // Fits on the rows of all parts (each [rows][m], the same m). Throws Error(numerical) when the
  // covariance is singular (fewer independent rows than dimensions, or a constant coordinate).
  static Pca fit(std::span<const BatchView> parts, bool whiten);
  // Restores a fitted state (from a model file).
  Pca(Eigen::VectorXd mean, Eigen::MatrixXd components, Eigen::VectorXd eigenvalues, bool whiten);

  int dim() const { return static_cast<int>(mean_.size()); }
  bool whiten() const { return whiten_; }
  double log_det_forward() const { return log_det_; }  // log|det W|
  const Eigen::VectorXd& mean() const { return mean_; }
  const Eigen::MatrixXd& components() const { return v_; }  // V: columns = principal axes
  const Eigen::VectorXd& eigenvalues() const { return lambda_; }
  // W⁻¹ = VΛ^(1/2) (or V) in double: y = W⁻¹ z + μ; its transpose carries gradients back to z.
  Eigen::MatrixXd inverse_matrix() const;

  // The float copies that forward() and inverse() use (W, W⁻¹, μ): the CUDA preprocessing's
  // products use the same numbers.
  const Eigen::MatrixXf& forward_matrix_f() const { return w_; }
  const Eigen::MatrixXf& inverse_matrix_f() const { return w_inv_; }
  const Eigen::VectorXf& mean_f() const { return mean_f_; }

  // out[r] = W (in[r] − μ); in and out are [rows][m] (may not alias).
  void forward(BatchView in, float* out) const;
  // out[r] = W⁻¹ in[r] + μ.
  void inverse(const float* in, BatchView out) const;

 private:
  void derive();
  Eigen::VectorXd mean_, lambda_;
  Eigen::MatrixXd v_;
  Eigen::MatrixXf w_, w_inv_;  // float copies for the batch products
  Eigen::VectorXf mean_f_;
  bool whiten_ = true;
  double log_det_ = 0.0;
};

}  // namespace boltzmap
