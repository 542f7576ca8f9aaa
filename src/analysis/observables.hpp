// Observables of configurations (METHOD.md "Weights, observables, free energy"): uniform bins,
// the pair-distance histogram of one configuration and the normalisation that turns pair counts
// into the radial distribution function g(r) over unordered pairs (g → 1 for an ideal gas):
//   g(r_b) = ⟨pairs in bin b⟩ / (N(N − 1)/2 · V_shell(b) / V),
// in 2D (annulus area) and 3D (spherical shell), bins up to L/2 so every shell lies inside the
// minimum-image cell. Tests: tests/analysis/test_observables.cpp (ideal gas, a lattice's peaks).
#pragma once
#include <cmath>
#include <vector>

namespace boltzmap {

struct Bins {
  double lo = 0, hi = 1;
  int count = 1;
  double width() const { return (hi - lo) / count; }
  // The bin of x, or −1 outside [lo, hi).
  int index(double x) const {
    if (!(x >= lo && x < hi)) return -1;
    const int b = static_cast<int>((x - lo) / width());
    return b < count ? b : count - 1;
  }
  double centre(int b) const { return lo + (b + 0.5) * width(); }
};

// Adds the number of unordered pairs (minimum image) of configuration x [N][D] in each bin of
// `bins` (distances) to out[bins.count].
void add_pair_histogram(const float* x, int n_particles, int dim, double L, const Bins& bins, double* out);

// Per bin: 1 / (N(N − 1)/2 · V_shell/V), so g = pair counts per configuration × this.
std::vector<double> rdf_normalisation(const Bins& bins, int n_particles, int dim, double L);

}  // namespace boltzmap
