// Pair potentials of METHOD.md: Lennard-Jones truncated and shifted at r_c, WCA (r_c = 2^(1/6)σ,
// i.e. LJ shifted by +ε), both with the optional C¹ linearisation below the inner cutoff r_in:
//   U(r) = U(r_in) + U'(r_in)(r − r_in)   for r < r_in,
//   U(r) = 4ε[(σ/r)¹² − (σ/r)⁶] − U_LJ(r_c)  for r_in ≤ r < r_c,   0 beyond.
// Evaluated branch-wise (linear | LJ | zero) so no branch makes inf or NaN. One definition is
// used everywhere (MC, later losses and weights), on CPU and GPU (BOLTZMAP_HD).
// Tests: tests/physics/test_potential.cpp (values, continuity, finite-difference derivatives).
#pragma once
#include <cmath>
#include <limits>
#include <string>

#include "core/hd.hpp"

namespace boltzmap {

enum class PotentialKind { lj, wca };

struct PairPotential {
  PotentialKind kind = PotentialKind::lj;
  double epsilon = 1.0;
  double sigma = 1.0;
  double cutoff = 3.0;        // r_c (for WCA: 2^(1/6)σ)
  double inner_cutoff = 0.0;  // r_in; 0 = no linearisation
  // Derived once by make_pair_potential():
  double rc2 = 9.0;
  double rin2 = 0.0;
  double shift = 0.0;         // U_LJ(r_c), subtracted
  double u_in = 0.0;          // U(r_in)
  double du_in = 0.0;         // U'(r_in)
};

// The bare (unshifted) LJ core as a function of r²: 4ε[(σ²/r²)⁶ − (σ²/r²)³] − shift. Written once,
// instantiated in double (reference) and float (the vectorised MC kernel).
template <class T>
BOLTZMAP_HD T lj_shifted(T four_eps, T sigma2, T shift, T r2) {
  const T s2 = sigma2 / r2;
  const T s6 = s2 * s2 * s2;
  return four_eps * (s6 * s6 - s6) - shift;
}

// dU/dr divided by r for the LJ core: −(24ε/r²)[2(σ/r)¹² − (σ/r)⁶].
template <class T>
BOLTZMAP_HD T lj_dudr_over_r(T four_eps, T sigma2, T r2) {
  const T s2 = sigma2 / r2;
  const T s6 = s2 * s2 * s2;
  return -T(6) * four_eps * (T(2) * s6 * s6 - s6) / r2;
}

// r²/σ² below which the double LJ core is treated as +inf (it overflows to inf from ~4e-52 on).
inline constexpr double lj_overflow_r2 = 1e-60;

// Pair energy U(r) given r².
BOLTZMAP_HD double pair_energy(const PairPotential& p, double r2) {
  if (r2 >= p.rc2) return 0.0;
  if (r2 < p.rin2) return p.u_in + p.du_in * (std::sqrt(r2) - p.inner_cutoff);
  // No linearisation, (near-)coincident: U is +inf in double already for r² < ~4e-52σ², where
  // (σ/r)¹² overflows; below ~2e-103σ² (σ/r)⁶ overflows too and the formula would give
  // inf − inf = NaN (found by tests/physics/test_potential.cpp), hence the explicit branch.
  if (r2 <= lj_overflow_r2 * p.sigma * p.sigma) return std::numeric_limits<double>::infinity();
  return lj_shifted(4.0 * p.epsilon, p.sigma * p.sigma, p.shift, r2);
}

// (dU/dr)/r given r², so that the force on i from j is −(dU/dr)/r · (x_i − x_j).
BOLTZMAP_HD double pair_dudr_over_r(const PairPotential& p, double r2) {
  if (r2 >= p.rc2) return 0.0;
  if (r2 < p.rin2) return r2 > 0.0 ? p.du_in / std::sqrt(r2) : 0.0;  // direction undefined at r = 0
  if (r2 <= 0.0) return 0.0;
  if (r2 <= lj_overflow_r2 * p.sigma * p.sigma) return -std::numeric_limits<double>::infinity();  // as above
  return lj_dudr_over_r(4.0 * p.epsilon, p.sigma * p.sigma, r2);
}

// Builds the derived constants; the caller (config validation) has checked the ranges.
inline PairPotential make_pair_potential(PotentialKind kind, double epsilon, double sigma, double cutoff,
                                         double inner_cutoff) {
  PairPotential p;
  p.kind = kind;
  p.epsilon = epsilon;
  p.sigma = sigma;
  p.cutoff = kind == PotentialKind::wca ? std::pow(2.0, 1.0 / 6.0) * sigma : cutoff;
  p.inner_cutoff = inner_cutoff;
  p.rc2 = p.cutoff * p.cutoff;
  const double four_eps = 4.0 * epsilon, s2 = sigma * sigma;
  p.shift = lj_shifted(four_eps, s2, 0.0, p.rc2);
  p.rin2 = inner_cutoff * inner_cutoff;
  if (inner_cutoff > 0.0) {
    p.u_in = lj_shifted(four_eps, s2, p.shift, p.rin2);
    p.du_in = lj_dudr_over_r(four_eps, s2, p.rin2) * inner_cutoff;
  }
  return p;
}

inline const char* to_string(PotentialKind k) { return k == PotentialKind::lj ? "lj" : "wca"; }

// The Metropolis test for a reduced energy change βΔU and a uniform u in [0, 1).
BOLTZMAP_HD bool metropolis_accept(double beta_du, double u) {
  return beta_du <= 0.0 || u < std::exp(-beta_du);
}

}  // namespace boltzmap
