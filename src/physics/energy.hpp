// Reference (clear, double-accumulating) energies and forces of one configuration, O(N²) over
// unordered pairs with the minimum image. Layout of x: [particle][dim] (the file layout), of type
// float or double. These are the oracle for the fast MC kernel (src/sampling/mc_kernel.hpp) and,
// later, for the batched energies of the flow's losses. Tests: tests/physics/test_energy.cpp.
#pragma once
#include <span>

#include "physics/box.hpp"
#include "physics/potential.hpp"

namespace boltzmap {

struct System {
  PairPotential potential;
  Box box;
  int n_particles = 0;
  double beta = 1.0;  // 1/T (k_B = 1)
};

template <class T>
BOLTZMAP_HD double squared_distance(const System& s, const T* xi, const T* xj) {
  const double L = s.box.length, inv_L = 1.0 / L;
  double r2 = 0.0;
  for (int d = 0; d < s.box.dimension; ++d) {
    const double u = minimum_image(static_cast<double>(xi[d]) - static_cast<double>(xj[d]), L, inv_L);
    r2 += u * u;
  }
  return r2;
}

// U(x) = Σ_{i<j} u(r_ij), pairs in order (i, then j > i), x [N][D]: the one formula, on host and
// device (the CUDA latent energies, kernels/latent_energy.cu, run it per configuration).
template <class T>
BOLTZMAP_HD double total_energy_of(const System& s, const T* x) {
  const int n = s.n_particles, D = s.box.dimension;
  double u = 0.0;
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) u += pair_energy(s.potential, squared_distance(s, &x[i * D], &x[j * D]));
  return u;
}
template <class T>
double total_energy(const System& s, std::span<const T> x) {
  return total_energy_of(s, x.data());
}

// The excess (virial) pressure of configuration x:
//   P_ex = −(1/(D·V)) Σ_{i<j} r_ij·u′(r_ij),   V = L^D,
// with u′ the derivative of the very potential the sampler uses (the linear core below r_in, the
// shifted LJ, zero beyond r_c: u is continuous at r_c, so the truncation adds no impulsive term).
// It is −dU/dV under a uniform scaling of the configuration with the box, x ↦ (L′/L)·x: with
// Z(V) = ∫_{V^N} e^{−βU} d^{N·D}x, ∂ln Z/∂V = N/V + β⟨P_ex⟩ (the ideal part from the volume of
// each particle's coordinates). Tests: tests/physics/test_virial.cpp (against a finite difference
// of U under the scaling).
template <class T>
double excess_pressure(const System& s, std::span<const T> x) {
  const int n = s.n_particles, D = s.box.dimension;
  double w = 0.0;  // Σ r·u′(r) = Σ r²·(u′(r)/r)
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) {
      const double r2 = squared_distance(s, &x[i * D], &x[j * D]);
      w += r2 * pair_dudr_over_r(s.potential, r2);
    }
  return -w / (D * std::pow(s.box.length, D));
}

// Energy of particle i placed at position p (length D) with all others at x: Σ_{j≠i} u(|p − x_j|).
template <class T>
double particle_energy(const System& s, std::span<const T> x, int i, const T* p) {
  const int D = s.box.dimension;
  double u = 0.0;
  for (int j = 0; j < s.n_particles; ++j)
    if (j != i) u += pair_energy(s.potential, squared_distance(s, p, &x[j * D]));
  return u;
}

// Forces f = −∇U, layout [particle][dim], f of n·D entries; pairs in the order of total_energy_of,
// on host and device.
template <class T>
BOLTZMAP_HD void forces_of(const System& s, const T* x, double* f) {
  const int n = s.n_particles, D = s.box.dimension;
  const double L = s.box.length, inv_L = 1.0 / L;
  for (int k = 0; k < n * D; ++k) f[k] = 0.0;
  for (int i = 0; i < n; ++i) {
    for (int j = i + 1; j < n; ++j) {
      double u[3], r2 = 0.0;
      for (int d = 0; d < D; ++d) {
        u[d] = minimum_image(static_cast<double>(x[i * D + d]) - static_cast<double>(x[j * D + d]), L, inv_L);
        r2 += u[d] * u[d];
      }
      const double g = pair_dudr_over_r(s.potential, r2);
      for (int d = 0; d < D; ++d) {
        f[i * D + d] -= g * u[d];
        f[j * D + d] += g * u[d];
      }
    }
  }
}

template <class T>
void forces(const System& s, std::span<const T> x, std::span<double> f) {
  forces_of(s, x.data(), f.data());
}

}  // namespace boltzmap
