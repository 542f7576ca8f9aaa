// Weighted observables of one set of configurations and their bootstrap replicates, in one pass:
// for each weighting (log-weights, optionally restricted to the canonical domain) and each
// replicate r (row 0 = the full sample) it forms, with c_i the multiplicity and w_i = e^{log w_i}
// (zero outside the domain),
//   ⟨U⟩ = Σc w U / Σc w,   Kish ESS = (Σc w)² / Σc w²,   ln mean w = ln(Σc w / Σc),
//   energy histogram density  Σ_{U_i ∈ bin} c w / (Σc w · width),
//   g(r) = Σc w h_i(r) / Σc w · normalisation   (h_i = pair counts of configuration i; each
//          configuration weighted by w/mean(w), as the paper's Supplementary Material says),
//   the fraction (by count) of configurations inside the domain, and the share of the
//   unrestricted weight Σc w_raw that falls outside it.
// The reweighting is done after resampling (the paper's order): replicate r uses only its draws.
// Tests: tests/analysis/test_set_statistics.cpp (against direct formulas and estimators.hpp).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "analysis/bootstrap.hpp"
#include "analysis/observables.hpp"

namespace boltzmap {

struct Weighting {
  std::span<const double> log_w;          // empty: every weight 1
  std::span<const std::uint8_t> inside;   // empty: all inside; else weight 0 where inside[i] = 0
};

struct SetStatistics {  // every vector: index r = replicate (0 = full sample)
  std::vector<double> mean_energy, ess, ess_fraction, log_mean_weight, inside_fraction, outside_weight_fraction;
  std::vector<double> energy_histogram;  // [R + 1][energy bins], a density
  std::vector<double> rdf;               // [R + 1][r bins], g(r)
  int energy_bins = 0, rdf_bins = 0;
  double n = 0;  // configurations in the full sample
  // Replicate r's row of a histogram.
  std::span<const double> histogram_row(int r) const { return {energy_histogram.data() + static_cast<std::size_t>(r) * energy_bins, static_cast<std::size_t>(energy_bins)}; }
  std::span<const double> rdf_row(int r) const { return {rdf.data() + static_cast<std::size_t>(r) * rdf_bins, static_cast<std::size_t>(rdf_bins)}; }
};

// positions [n][N][D] (for g(r)), energy [n] (U per configuration); one result per weighting.
std::vector<SetStatistics> set_statistics(std::span<const float> positions, std::span<const double> energy,
                                          int n_particles, int dim, double L, const std::vector<Weighting>& weightings,
                                          const BootstrapCounts& counts, const Bins& energy_bins, const Bins& r_bins);

}  // namespace boltzmap
