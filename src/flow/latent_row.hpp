// One row of the losses' reduced energy (flow/loss.hpp, LatentEnergy), written once for the CPU
// reference and the CUDA twin (kernels/latent_energy.cu, CudaLatentEnergy): from y = W⁻¹z + μ (the
// PCA⁻¹ of the latent row, a matrix product each side does with its own GEMM) to the clamped
// reduced energy e = c(β U(x)) and ∂e/∂y:
//   x_0 = (L/2)·s (the re-inserted central particle), x_{1+k} = s·wrap(y_k) into [0, L),
//   U by total_energy_of and −∇U by forces_of (physics/energy.hpp, pairs in one order),
//   ∂e/∂y_k = c′·β·(−F_{1+k})·s, zero in the capped regime (slope 0: no 0·NaN).
// s is the box scaling from the preprocessing's box into this system's (1 for A).
// Tests: tests/flow/test_loss.cpp (LatentEnergy, which calls this), tests/gpu/test_latent_energy_parity.cpp.
#pragma once
#include <cmath>

#include "core/hd.hpp"
#include "physics/box.hpp"
#include "physics/energy.hpp"

namespace boltzmap {

// The clamp of a = βU: a below E_c; E_c + ln(1 + a − E_c) above (value and slope continuous); the
// constant E_c + ln(1 + 10²⁰ − E_c) above 10²⁰ or for NaN (slope 0). slope may be null.
BOLTZMAP_HD double clamp_reduced_energy(double a, double e_c, double* slope) {
  constexpr double cap = 1e20;
  if (!(a <= cap)) {  // NaN or above 10²⁰
    if (slope) *slope = 0.0;
    return e_c + std::log1p(cap - e_c);
  }
  if (a < e_c) {
    if (slope) *slope = 1.0;
    return a;
  }
  if (slope) *slope = 1.0 / (1.0 + a - e_c);
  return e_c + std::log1p(a - e_c);
}

// Everything a row needs besides y: plain values, copied to the device as they are.
struct LatentRowParams {
  System system;             // the system whose energy this is (its box: L·s)
  double box_length = 1.0;   // L, the preprocessing's box
  double scale = 1.0;        // s = L_system / L
  double clamp_start = 0.0;  // E_c
  int latent_dim = 0;        // m = (N − 1)·D
};

// x [N·D]: the configuration of y [m]; the central particle first.
BOLTZMAP_HD void latent_row_configuration(const LatentRowParams& p, const double* y, double* x) {
  const int D = p.system.box.dimension;
  const double L = p.box_length;
  for (int d = 0; d < D; ++d) x[d] = 0.5 * L * p.scale;
  for (int k = 0; k < p.latent_dim; ++k) x[D + k] = p.scale * wrap_into_box(y[k], L, 1.0 / L);
}

// e of row y; with gy non-null also ∂e/∂y [m]. x and f: N·D scratch each (x holds the
// configuration afterwards, f its forces when gy was asked for and the slope is not 0).
BOLTZMAP_HD double latent_row_energy(const LatentRowParams& p, const double* y, double* x, double* f, double* gy) {
  latent_row_configuration(p, y, x);
  double slope = 0.0;
  const double e = clamp_reduced_energy(p.system.beta * total_energy_of(p.system, x), p.clamp_start, &slope);
  if (!gy) return e;
  if (slope == 0.0) {  // the capped regime (or NaN): constant energy, no gradient
    for (int k = 0; k < p.latent_dim; ++k) gy[k] = 0.0;
    return e;
  }
  forces_of(p.system, x, f);
  const int D = p.system.box.dimension;
  for (int k = 0; k < p.latent_dim; ++k) gy[k] = -slope * p.system.beta * p.scale * f[D + k];
  return e;
}

}  // namespace boltzmap
