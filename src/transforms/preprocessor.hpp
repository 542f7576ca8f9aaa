// The invertible preprocessing of METHOD.md, composed in its order:
//   x [N][D] in [0, L) → centre particle c → point symmetry g → drop c → relabel onto the
//   reference sites → wrap around the fitted centres → PCA  →  z [(N − 1)·D]
// and back: PCA⁻¹ → wrap into the box → re-insert a particle at the centre (labels and the
// translation/symmetry are not restored: U is invariant under all three).
// The torus latent space (settings.torus, the equivariant flow's, METHOD.md): centre → symmetry →
// drop only, then z = y − L/2, the N − 1 others' coordinates relative to the centred particle on
// [−L/2, L/2)^D (as the identity PCA with μ = L/2, so every other member works unchanged); nothing
// is fitted, log|det| = 0, and in_domain() is 1 everywhere (coverage 1 by construction).
// Fitted once (wrap centres, PCA) on the union of A's and B's training data, with the centring
// and symmetry draws of training; in evaluation c = 0 and g = identity.
// log|det ∂z/∂x| on the (N − 1)·D retained coordinates is the PCA's alone (every other layer is a
// translation, signed permutation or relabelling).
//
// The box-scaling layer (systems of different densities, DESIGN.md). Everything above works in A's
// box L = L_A; B's configurations enter and leave through S(x) = s·x with s = L_B/L_A, a uniform
// scaling of all coordinates about the origin, which maps [0, L_A)^D onto [0, L_B)^D and A's box
// centre onto B's, so it commutes with the centring (and the symmetry about the centre): on the
// (N − 1)·D retained coordinates it is y ↦ L_B/2 + s·(y − L_A/2), log|det| = (N − 1)·D·ln s.
// The preprocessing of each side is then T_A = P and T_B = P ∘ S⁻¹, and the whole map is
//   x_B = F(x_A) = S(P⁻¹(f(P(x_A)))),   log|det J_F| = log|det J_f| + (N − 1)·D·ln s,
//   x_A = F⁻¹(x_B) = P⁻¹(f⁻¹(P(S⁻¹(x_B)))), log|det J_F⁻¹| = log|det J_f⁻¹| − (N − 1)·D·ln s
// (the PCA's log-dets cancel in both, since P is shared). box_log_det() is the A → B term; every
// place that forms log|det J_F| (the losses, the trainer's metrics, the mapping's weights) adds it
// exactly once, with the sign of its direction. With L_B = L_A, s = 1 and the term is 0.
// Tests: tests/transforms/test_preprocessor.cpp.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "transforms/batch.hpp"
#include "transforms/pca.hpp"
#include "transforms/preprocess_row.hpp"
#include "transforms/relabel.hpp"

namespace boltzmap {

// x ← factor·x for every coordinate, wrapped into [0, L_new): the box-scaling layer's S (factor
// s = L_B/L_A, L_new = L_B) or S⁻¹ (1/s, L_A). factor 1 leaves x as it is.
void scale_coordinates(std::span<float> x, double factor, double L_new);

class Preprocessor {
 public:
  // L: the box that the preprocessing works in (A's); L_b: B's box (0: the same as A's).
  Preprocessor(const PreprocessSettings& settings, int n_particles, int dim, double L, double L_b = 0.0);

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
  double box_length() const { return L_; }  // A's box, the one the preprocessing works in
  double box_length_b() const { return L_b_; }
  double box_length(char label) const { return label == 'B' ? L_b_ : L_; }
  // s = L_B/L_A and the A → B log-det of the box-scaling layer, (N − 1)·D·ln s.
  double box_scale() const { return L_b_ / L_; }
  double box_log_det() const;
  // The coordinates x [rows][N][D] of system `label` moved into the preprocessing's box (B's
  // divided by s) or back out of it (multiplied by s), wrapped into [0, L) of the new box. A's
  // are left as they are.
  void into_preprocessing_box(char label, std::span<float> x) const;
  void out_of_preprocessing_box(char label, std::span<float> x) const;
  const PreprocessSettings& settings() const { return settings_; }
  const Relabel& relabel() const { return relabel_; }
  const std::vector<double>& wrap_centres() const { return centres_; }
  const Pca& pca() const { return pca_; }
  // What the per-row functions (preprocess_row.hpp) need, pointing into this object: the sites,
  // and the wrap centres when `wrap` and fitted (else null: no wrap). For the CUDA preprocessing,
  // which copies the arrays to the device.
  PreprocessRowParams row_params(bool wrap) const;
  // Restores a fitted state (model file).
  void set_state(std::vector<double> wrap_centres, Pca pca);

 private:
  // centre → symmetry → drop → relabel → (wrap if fitted) into y [rows][N − 1][D].
  void canonical(BatchView x, std::span<const int> centre, std::span<const int> element, float* y,
                 bool wrap) const;
  PreprocessSettings settings_;
  int n_, dim_;
  double L_, L_b_;
  Relabel relabel_;
  std::vector<double> centres_;  // [(N − 1)·D]
  Pca pca_;
};

}  // namespace boltzmap
