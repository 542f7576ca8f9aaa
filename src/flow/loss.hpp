// The training losses of METHOD.md ("Losses and training"):
//   L_dir = ⟨ c(β_A U_A(P⁻¹(F⁻¹(z_B)))) − log|det J_F⁻¹(z_B)| ⟩ over B's preprocessed data,
//   L_inv = ⟨ c(β_B U_B(P⁻¹(F(z_A))))   − log|det J_F(z_A)|   ⟩ over A's,
// L = λ_dir L_dir + λ_inv L_inv (batch means), with P⁻¹ the inverse preprocessing and c the clamp
// of the reduced energy. Gradients flow through the energy: ∂(βU)/∂x = −β·forces, times the
// clamp's slope, back through P⁻¹ (PCA⁻¹ is linear; the wrap into the box and the re-inserted
// central particle pass gradients unchanged), then through the flow's backward pass.
// Energies and forces are the double-precision reference ones of src/physics/energy.hpp, for
// float32 and double flows alike (a faster batched energy is future work).
// Tests: tests/flow/test_loss.cpp (clamp; every parameter gradient of L against central
// differences, clamp in its linear and log regimes).
#pragma once
#include <vector>

#include "flow/realnvp.hpp"
#include "physics/energy.hpp"
#include "transforms/preprocessor.hpp"

namespace boltzmap {

// The clamp of a = βU: a below E_c; E_c + ln(1 + a − E_c) above (value and slope continuous); the
// constant E_c + ln(1 + 10²⁰ − E_c) above 10²⁰ or for NaN (slope 0). slope may be null.
double clamp_reduced_energy(double a, double e_c, double* slope);

// A reduced energy on the latent space: e_r = e(z_r) and optionally gz = ∂e_r/∂z_r, in double
// whatever the scalar of z.
class LatentEnergyBase {
 public:
  virtual ~LatentEnergyBase() = default;
  virtual void evaluate(const RealNvp<double>::Mat& z, RealNvp<double>::Vec& e, RealNvp<double>::Mat* gz) const = 0;
};

// e_r = c(β U(P⁻¹(z_r))) for the rows of z [rows][(N − 1)·D]: the physical systems.
class LatentEnergy : public LatentEnergyBase {
 public:
  LatentEnergy(const Preprocessor& pre, const System& sys, double clamp_start);
  void evaluate(const RealNvp<double>::Mat& z, RealNvp<double>::Vec& e, RealNvp<double>::Mat* gz) const override;
  // The physical configuration [N][D] of latent row z (double): PCA⁻¹, wrap, re-insert.
  std::vector<double> configuration(const double* z) const;

 private:
  const Preprocessor& pre_;
  System sys_;
  double clamp_start_;
  Eigen::MatrixXd w_inv_;  // y = W⁻¹ z + μ
};

struct LossValues {
  double dir = 0.0, inv = 0.0;
};

// L_dir over z_b (B's preprocessed rows) and L_inv over z_a (A's); adds λ-weighted dL/dθ to grad
// (resized to the parameter count if needed) unless grad is null. A term with λ = 0 is skipped.
// T = float (training) or double (the gradient checks); energies and the means are in double.
// cache: the flow's work buffers; pass the same one every step so that steps do not allocate them.
template <class T>
LossValues losses(const RealNvp<T>& flow, const LatentEnergyBase& energy_a, const LatentEnergyBase& energy_b,
                  const typename RealNvp<T>::Mat& z_a, const typename RealNvp<T>::Mat& z_b, double lambda_dir,
                  double lambda_inv, ParamVector<T>* grad, typename RealNvp<T>::Cache* cache = nullptr);

}  // namespace boltzmap
