// The training losses of METHOD.md ("Losses and training"):
//   L_dir = ⟨ c(β_A U_A(P⁻¹(F⁻¹(z_B)))) − log|det J_F⁻¹(z_B)| ⟩ over B's preprocessed data,
//   L_inv = ⟨ c(β_B U_B(P⁻¹(F(z_A))))   − log|det J_F(z_A)|   ⟩ over A's,
// L = λ_dir L_dir + λ_inv L_inv (batch means), with P⁻¹ the inverse preprocessing and c the clamp
// of the reduced energy. Gradients flow through the energy: ∂(βU)/∂x = −β·forces, times the
// clamp's slope, back through P⁻¹ (PCA⁻¹ is linear; the wrap into the box and the re-inserted
// central particle pass gradients unchanged), then through the flow's backward pass.
// Energies and forces are the double-precision reference ones of src/physics/energy.hpp, for
// float32 and double flows alike (a faster batched energy is future work).
// Allocation: with a LossWorkspace passed again at an unchanged batch size, losses() allocates
// nothing (the flow's buffers, the energies' inputs and outputs and the gradients all live in it,
// and LatentEnergy keeps its per-row buffers); without one it allocates its buffers per call.
// Tests: tests/flow/test_loss.cpp (clamp; every parameter gradient of L against central
// differences, clamp in its linear and log regimes); tests/flow/allocations (no allocation).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "flow/flow.hpp"
#include "flow/latent_row.hpp"
#include "physics/energy.hpp"
#include "transforms/preprocessor.hpp"

namespace boltzmap {

// clamp_reduced_energy (the clamp c) and the per-row maths: flow/latent_row.hpp, shared with CUDA.

// A reduced energy on the latent space: e_r = e(z_r) and optionally gz = ∂e_r/∂z_r, in double
// whatever the scalar of z.
class LatentEnergyBase {
 public:
  virtual ~LatentEnergyBase() = default;
  virtual void evaluate(const Flow<double>::Mat& z, Flow<double>::Vec& e, Flow<double>::Mat* gz) const = 0;
  // log|det| of the box-scaling from the preprocessing's box into this system's box: 0 for A,
  // (N − 1)·D·ln(L_B/L_A) for B (preprocessor.hpp). A map from system X's latent space to system
  // Y's carries the constant Y.box_log_det() − X.box_log_det() in its log|det J|.
  virtual double box_log_det() const { return 0.0; }
};

// e_r = c(β U(P⁻¹(z_r))) for the rows of z [rows][(N − 1)·D]: the physical systems.
// evaluate() keeps each row's configuration and forces in buffers of this object, grown to the
// largest batch seen and then reused (so it allocates nothing in steady state): one call at a time
// per object (each call runs its rows on the OpenMP threads itself).
class LatentEnergy : public LatentEnergyBase {
 public:
  // label: which system ('A' or 'B'); B's configurations leave the preprocessing's box through
  // the box-scaling layer x ↦ s·x (s = L_B/L_A), and the gradient picks up its factor s.
  LatentEnergy(const Preprocessor& pre, const System& sys, double clamp_start, char label = 'A');
  void evaluate(const Flow<double>::Mat& z, Flow<double>::Vec& e, Flow<double>::Mat* gz) const override;
  double box_log_det() const override { return box_log_det_; }
  // The physical configuration [N][D] of latent row z (double): PCA⁻¹, wrap, re-insert, scale
  // into this system's box.
  std::vector<double> configuration(const double* z) const;
  // The same, written to x (N·D values).
  void configuration(const double* z, double* x) const;
  // What the CUDA twin (flow/latent_energy_cuda.hpp) copies to the device: W⁻¹ (y = W⁻¹z + μ; μ is
  // the preprocessor's pca().mean()) and the rest of a row's maths.
  const Eigen::MatrixXd& inverse_pca() const { return w_inv_; }  // column-major, m × m
  const Eigen::VectorXd& pca_mean() const { return pre_.pca().mean(); }
  const LatentRowParams& row_params() const { return row_; }

 private:
  // Row r's reduced energy e(r) and, unless gz is null, its gradient gz row r; x and f: N·D scratch.
  void evaluate_row(const double* z, double& e, double* gz, double* x, double* f) const;

  const Preprocessor& pre_;
  System sys_;
  double clamp_start_;
  double scale_, box_log_det_;  // L_system/L_preprocessing and (N − 1)·D·ln of it
  Eigen::MatrixXd w_inv_;  // y = W⁻¹ z + μ
  LatentRowParams row_;    // the rest of a row's maths (flow/latent_row.hpp)
  mutable std::vector<double> scratch_;  // per thread: a configuration x, then its forces f (N·D each)
};

struct LossValues {
  double dir = 0.0, inv = 0.0;
};

// Work buffers of losses(): the flow's Cache and the batch-sized matrices between the flow and the
// energies. Pass the same one every step: steps of an unchanged batch size then allocate nothing.
template <class T>
struct LossWorkspace {
  std::unique_ptr<FlowCache> flow;  // the flow's own kind (Flow::make_cache), made at the first call
  typename Flow<T>::Mat mapped, g_mapped, g_input;  // F(z) or F⁻¹(z), dL/d(it), dL/dz
  typename Flow<T>::Vec logdet, g_logdet;
  Flow<double>::Mat mapped_double, g_energy;  // the energies' input and gradient
  Flow<double>::Vec energy;
};

// L_dir over z_b (B's preprocessed rows) and L_inv over z_a (A's); adds λ-weighted dL/dθ to grad
// (resized to the parameter count if needed) unless grad is null. A term with λ = 0 is skipped.
// T = float (training) or double (the gradient checks); energies and the means are in double.
// work: the buffers (null: temporary ones); pass the same one every step so that steps do not allocate.
// batch_rows > 0: z_a and z_b are one trainer rank's share of a batch of that many rows (each), and
// the values and gradients are this share's part of the batch means (Σ over the share / batch_rows),
// so that their sums over the trainer ranks are the whole batch's (data-parallel training).
template <class T>
LossValues losses(const Flow<T>& flow, const LatentEnergyBase& energy_a, const LatentEnergyBase& energy_b,
                  const typename Flow<T>::Mat& z_a, const typename Flow<T>::Mat& z_b, double lambda_dir,
                  double lambda_inv, ParamVector<T>* grad, LossWorkspace<T>* work = nullptr,
                  std::int64_t batch_rows = 0);

}  // namespace boltzmap
