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
// Tests: tests/analysis/test_set_statistics.cpp (against direct formulas and estimators.hpp; chunked
// accumulation = one pass).
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

// The sums behind SetStatistics for K weightings of one set, accumulated a chunk of rows at a
// time (any chunking and any split over ranks: the sums add), then turned into statistics. The
// shifts (the largest log-weight inside the domain and overall, per weighting, over the whole set
// and every rank) must be known before the first chunk: every configuration's w is exp(log w −
// shift). Each replicate's sums are formed over the rows in order by one thread (work is split by
// replicates), so a result does not depend on the thread count; sums() is the flat buffer that
// an allreduce adds across ranks. Memory: (R + 1)·(7 + energy bins + r bins) doubles per weighting.
class SetAccumulator {
 public:
  SetAccumulator(int replicates, const Bins& energy_bins, const Bins& r_bins, std::vector<double> shift,
                 std::vector<double> shift_raw);
  // m rows: their pair histograms h [m][r bins] (pair_histograms), energies, each weighting's spans
  // (of m, or empty) and the multiplicities [R + 1][m] (Resampler::fill).
  void add(std::span<const double> h, std::span<const double> energy, const std::vector<Weighting>& weightings,
           std::span<const std::uint8_t> counts, std::size_t m);
  std::vector<double>& sums() { return sums_; }
  const std::vector<double>& sums() const { return sums_; }
  // The layout of sums() and what a chunk needs (a SetKernels backend fills the same sums).
  int replicates() const { return R1_ - 1; }
  const Bins& energy_bins() const { return energy_bins_; }
  const Bins& r_bins() const { return r_bins_; }
  const std::vector<double>& shift() const { return shift_; }          // per weighting, −∞ replaced by 0
  const std::vector<double>& shift_raw() const { return shift_raw_; }  // per weighting, −∞ replaced by 0
  std::size_t weightings() const { return shift_.size(); }
  std::size_t per_weighting() const { return per_weighting_; }  // (R + 1)·(7 + E + G) doubles
  std::vector<SetStatistics> finish(int n_particles, int dim, double L) const;

 private:
  int R1_, E_, G_;
  Bins energy_bins_, r_bins_;
  std::vector<double> shift_, shift_raw_;
  std::size_t per_weighting_;
  std::vector<double> sums_;  // per weighting: [7][R + 1] scalars (set_terms.hpp's order), [R + 1][E] histogram, [R + 1][G] g(r)
};

// Pair histograms of m configurations [m][N][D] into h [m][r bins] (threads over rows).
void pair_histograms(std::span<const float> positions, std::size_t m, int n_particles, int dim, double L,
                     const Bins& r_bins, std::vector<double>& h);

// The largest log-weight of a weighting, inside the domain (restricted) or over all rows; −∞ when none.
double max_log_weight(std::span<const double> log_w, std::span<const std::uint8_t> inside);

// The whole set at once (tests, small sets): shifts from the data, one accumulator.
// positions [n][N][D] (for g(r)), energy [n] (U per configuration); one result per weighting.
std::vector<SetStatistics> set_statistics(std::span<const float> positions, std::span<const double> energy,
                                          int n_particles, int dim, double L, const std::vector<Weighting>& weightings,
                                          const BootstrapCounts& counts, const Bins& energy_bins, const Bins& r_bins);

}  // namespace boltzmap
