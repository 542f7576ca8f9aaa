// The invertible preprocessing of METHOD.md, composed in its order:
//   x [N][D] in [0, L) → centre particle c → point symmetry g → drop c → relabel onto the
//   reference sites → wrap around the fitted centres → PCA  →  z [(N − 1)·D]
// and back: PCA⁻¹ → wrap into the box → re-insert a particle at the centre (labels and the
// translation/symmetry are not restored: U is invariant under all three).
// Fitted once (wrap centres, PCA) on the union of A's and B's training data, with the centring
// and symmetry draws of training; in evaluation c = 0 and g = identity.
// log|det ∂z/∂x| on the (N − 1)·D retained coordinates is the PCA's alone (every other layer is a
// translation, signed permutation or relabelling).
// Tests: tests/transforms/test_preprocessor.cpp.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "transforms/batch.hpp"
#include "transforms/pca.hpp"
#include "transforms/relabel.hpp"

namespace boltzmap {

class Preprocessor {
 public:
  Preprocessor(const PreprocessSettings& settings, int n_particles, int dim, double L);

  // Fits the wrap centres and the PCA on the union of `training` ([rows][N][D] each, not
  // modified), with the training draws of (c, g) keyed by (seed, part, row).
  void fit(std::span<const BatchView> training, std::uint64_t seed);
  bool fitted() const { return !centres_.empty(); }

  // Per-row (c, g): training draws from RngStream::Augment keyed by (seed, id = first_id + row),
  // or the evaluation choice c = 0, g = 0 (identity).
  void training_choices(std::uint64_t seed, std::uint64_t first_id, std::span<int> centre, std::span<int> element) const;
  static void evaluation_choices(std::span<int> centre, std::span<int> element);

  // z [rows][(N − 1)·D] from x [rows][N][D] (x is not modified). If wrapped is given it receives
  // the coordinates after wrapping, before the PCA ([rows][N − 1][D], for inspection/plots).
  void forward(BatchView x, std::span<const int> centre, std::span<const int> element, float* z,
               float* wrapped = nullptr) const;
  // x [rows][N][D] in [0, L) from z.
  void inverse(const float* z, BatchView x) const;

  // The canonical-domain test (METHOD.md, "The domain of the map") of latent rows z
  // [rows][(N − 1)·D]: inside[r] = 1 when y = PCA⁻¹(z_r) lies in every wrap window
  // [c_kd − L/2, c_kd + L/2) and the configuration it represents relabels onto itself (the
  // assignment is the identity), i.e. preprocessing P⁻¹(z_r) again gives z_r back; 0 otherwise.
  // A mapped configuration outside the domain is a relabelled copy of one inside it.
  void in_domain(const float* z, int rows, std::span<std::uint8_t> inside) const;
  double log_det_forward() const { return pca_.log_det_forward(); }
  int n_particles() const { return n_; }
  int dim() const { return dim_; }
  int latent_dim() const { return (n_ - 1) * dim_; }
  double box_length() const { return L_; }
  const PreprocessSettings& settings() const { return settings_; }
  const Relabel& relabel() const { return relabel_; }
  const std::vector<double>& wrap_centres() const { return centres_; }
  const Pca& pca() const { return pca_; }
  // Restores a fitted state (model file).
  void set_state(std::vector<double> wrap_centres, Pca pca);

 private:
  // centre → symmetry → drop → relabel → (wrap if fitted) into y [rows][N − 1][D].
  void canonical(BatchView x, std::span<const int> centre, std::span<const int> element, float* y,
                 bool wrap) const;
  PreprocessSettings settings_;
  int n_, dim_;
  double L_;
  Relabel relabel_;
  std::vector<double> centres_;  // [(N − 1)·D]
  Pca pca_;
};

}  // namespace boltzmap
