// See autocorr.hpp.
#include "sampling/autocorr.hpp"

namespace boltzmap {

void autocorrelation_sums(std::span<const double> series, int walkers, int saves, double mean, int max_lag,
                          std::vector<double>& sums, std::vector<double>& counts) {
  sums.assign(max_lag + 1, 0.0);
  counts.assign(max_lag + 1, 0.0);
  for (int w = 0; w < walkers; ++w) {
    const double* e = series.data() + static_cast<size_t>(w) * saves;
    for (int k = 0; k <= max_lag && k < saves; ++k) {
      double s = 0.0;
      for (int t = 0; t + k < saves; ++t) s += (e[t] - mean) * (e[t + k] - mean);
      sums[k] += s;
      counts[k] += saves - k;
    }
  }
}

std::vector<double> autocorrelation_from_sums(std::span<const double> sums, std::span<const double> counts) {
  std::vector<double> rho(sums.size(), 0.0);
  if (sums.empty() || counts[0] == 0 || sums[0] == 0) return rho;
  const double c0 = sums[0] / counts[0];
  for (size_t k = 0; k < sums.size(); ++k) rho[k] = counts[k] > 0 ? (sums[k] / counts[k]) / c0 : 0.0;
  return rho;
}

double integrated_time(std::span<const double> rho, double window_c) {
  double tau = 1.0;
  for (size_t m = 1; m < rho.size(); ++m) {
    tau += 2.0 * rho[m];
    if (static_cast<double>(m) >= window_c * tau) break;
  }
  return tau;
}

}  // namespace boltzmap
