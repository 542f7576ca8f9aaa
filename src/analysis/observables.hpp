// Observables of configurations (METHOD.md "Weights, observables, free energy"): uniform bins,
// the pair-distance histogram of one configuration and the normalisation that turns pair counts
// into the radial distribution function g(r) over unordered pairs (g → 1 for an ideal gas):
//   g(r_b) = ⟨pairs in bin b⟩ / (N(N − 1)/2 · V_shell(b) / V),
// in 2D (annulus area) and 3D (spherical shell), bins up to L/2 so every shell lies inside the
// minimum-image cell. The distance and bin of one pair (pair_distance2, pair_bin) and Bins::index
// are BOLTZMAP_HD: the CPU (add_pair_histogram, SetAccumulator) and the GPU (kernels/analysis.cu)
// call the same functions, so their pair counts and energy bins are identical.
// Tests: tests/analysis/test_observables.cpp (ideal gas, a lattice's peaks, pair_bin = the formula
// it replaced on edge cases), tests/gpu/test_analysis_parity.cpp (GPU counts = CPU counts).
#pragma once
#include <cmath>
#include <vector>

#include "core/hd.hpp"
#include "physics/box.hpp"

namespace boltzmap {

struct Bins {
  double lo = 0, hi = 1;
  int count = 1;
  BOLTZMAP_HD double width() const { return (hi - lo) / count; }
  // The bin of x, or −1 outside [lo, hi).
  BOLTZMAP_HD int index(double x) const {
    if (!(x >= lo && x < hi)) return -1;
    const int b = static_cast<int>((x - lo) / width());
    return b < count ? b : count - 1;
  }
  double centre(int b) const { return lo + (b + 0.5) * width(); }
};

// The squared minimum-image distance of particles i and j of x [N][D]: float32 coordinates,
// differences and sums in double (dimension order 0, 1, …).
BOLTZMAP_HD double pair_distance2(const float* x, int i, int j, int dim, double L, double inv_l) {
  double r2 = 0;
  for (int d = 0; d < dim; ++d) {
    const double u = minimum_image(static_cast<double>(x[i * dim + d]) - x[j * dim + d], L, inv_l);
    r2 += u * u;
  }
  return r2;
}

// Distance bins prepared for pair_bin (squared edges, the inverse width): from Bins by pair_bins().
struct PairBins {
  double lo = 0, lo2 = 0, hi2 = 1, inv_w = 1;
  int count = 1;
};
inline PairBins pair_bins(const Bins& b) { return {b.lo, b.lo * b.lo, b.hi * b.hi, 1.0 / b.width(), b.count}; }

// The bin of a pair at squared distance r2, or −1 outside [lo², hi²) (also for NaN).
BOLTZMAP_HD int pair_bin(double r2, const PairBins& p) {
  if (!(r2 >= p.lo2 && r2 < p.hi2)) return -1;
  const int b = static_cast<int>((std::sqrt(r2) - p.lo) * p.inv_w);
  return b < p.count ? b : p.count - 1;
}

// Adds the number of unordered pairs (minimum image) of configuration x [N][D] in each bin of
// `bins` (distances) to out[bins.count].
void add_pair_histogram(const float* x, int n_particles, int dim, double L, const Bins& bins, double* out);

// Per bin: 1 / (N(N − 1)/2 · V_shell/V), so g = pair counts per configuration × this.
std::vector<double> rdf_normalisation(const Bins& bins, int n_particles, int dim, double L);

}  // namespace boltzmap
