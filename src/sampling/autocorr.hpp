// Autocorrelation diagnostics of the saved energy series, pooled over independent walkers:
// ρ(k) = ⟨(E_s − μ)(E_{s+k} − μ)⟩ / ⟨(E_s − μ)²⟩ averaged over walkers and saves, the integrated
// autocorrelation time τ_int = 1 + 2 Σ_{k=1}^{M} ρ(k) with Sokal's window (smallest M ≥ c·τ(M)),
// and the effective sample size per saved configuration 1/τ_int (≈ 1 when saves decorrelate).
// The sums are split into local partial sums so MPI ranks can add them (see sampling/sample.cpp).
// Tests: tests/sampling/test_autocorr.cpp (AR(1) series with known τ).
#pragma once
#include <span>
#include <vector>

namespace boltzmap {

// Partial sums for ρ(k), k = 0..max_lag, of series laid out [walker][save] (length saves each),
// about a given mean: sums[k] = Σ_w Σ_s (E_{w,s} − μ)(E_{w,s+k} − μ), counts[k] = number of terms.
void autocorrelation_sums(std::span<const double> series, int walkers, int saves, double mean, int max_lag,
                          std::vector<double>& sums, std::vector<double>& counts);

// ρ(k) from (reduced) sums and counts.
std::vector<double> autocorrelation_from_sums(std::span<const double> sums, std::span<const double> counts);

// τ_int with Sokal's automatic window (c = 5). Returns τ ≥ some small positive number; if the
// window never closes within the available lags, the sum over all lags.
double integrated_time(std::span<const double> rho, double window_c = 5.0);

}  // namespace boltzmap
