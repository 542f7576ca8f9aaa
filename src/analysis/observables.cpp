// See observables.hpp.
#include "analysis/observables.hpp"

#include <numbers>

#include "physics/box.hpp"

namespace boltzmap {

void add_pair_histogram(const float* x, int n_particles, int dim, double L, const Bins& bins, double* out) {
  const double inv_l = 1.0 / L, lo2 = bins.lo * bins.lo, hi2 = bins.hi * bins.hi, inv_w = 1.0 / bins.width();
  for (int i = 0; i < n_particles; ++i)
    for (int j = i + 1; j < n_particles; ++j) {
      double r2 = 0;
      for (int d = 0; d < dim; ++d) {
        const double u = minimum_image(static_cast<double>(x[i * dim + d]) - x[j * dim + d], L, inv_l);
        r2 += u * u;
      }
      if (!(r2 >= lo2 && r2 < hi2)) continue;  // also skips NaN
      const int b = static_cast<int>((std::sqrt(r2) - bins.lo) * inv_w);
      out[b < bins.count ? b : bins.count - 1] += 1.0;
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
