// See observables.hpp.
#include "analysis/observables.hpp"

#include <numbers>


namespace boltzmap {

void add_pair_histogram(const float* x, int n_particles, int dim, double L, const Bins& bins, double* out) {
  const double inv_l = 1.0 / L;
  const PairBins pb = pair_bins(bins);
  for (int i = 0; i < n_particles; ++i)
    for (int j = i + 1; j < n_particles; ++j) {
      const int b = pair_bin(pair_distance2(x, i, j, dim, L, inv_l), pb);
      if (b >= 0) out[b] += 1.0;
    }
}

std::vector<double> rdf_normalisation(const Bins& bins, int n_particles, int dim, double L) {
  const double volume = std::pow(L, dim), pairs = 0.5 * n_particles * (n_particles - 1.0);
  std::vector<double> norm(bins.count);
  for (int b = 0; b < bins.count; ++b) {
    const double r0 = bins.lo + b * bins.width(), r1 = r0 + bins.width();
    const double shell = dim == 2 ? std::numbers::pi * (r1 * r1 - r0 * r0)
                                  : 4.0 / 3.0 * std::numbers::pi * (r1 * r1 * r1 - r0 * r0 * r0);
    norm[b] = volume / (pairs * shell);
  }
  return norm;
}

}  // namespace boltzmap
