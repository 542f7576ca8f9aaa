// See analysis.hpp.
#include "analysis/analysis.hpp"

#include "core/parallel_errors.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "stats/estimators.hpp"
#include "core/error.hpp"
#include "core/rng.hpp"

namespace boltzmap {

namespace {

// The q-quantile of the finite values.
double quantile(std::span<const double> v, double q) {
  std::vector<double> f;
  f.reserve(v.size());
  for (double x : v)
    if (std::isfinite(x)) f.push_back(x);
  if (f.empty()) return std::numeric_limits<double>::quiet_NaN();
  const auto k = static_cast<std::size_t>(q * static_cast<double>(f.size() - 1));
  std::nth_element(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(k), f.end());
  return f[k];
}

// Common energy bins for the sets of a direction: from the lowest 0.1st to the highest 99.9th
// percentile of the reference, untransformed and raw mapped energies (a few outliers of a poor
// map would otherwise squeeze every curve into one bin).
Bins energy_bins(const DirectionData& d, int count) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (auto e : {d.reference_energy, d.identity_energy, d.mapped_energy}) {
    if (e.empty()) continue;
    lo = std::min(lo, quantile(e, 0.001));
    hi = std::max(hi, quantile(e, 0.999));
  }
  if (!(hi > lo)) hi = lo + 1.0;
  const double pad = 0.02 * (hi - lo);
  return Bins{lo - pad, hi + pad, count};
}

std::vector<double> log_weight_restricted(const DirectionData& d) {
  std::vector<double> lw(d.log_weight_unrestricted.begin(), d.log_weight_unrestricted.end());
  for (std::size_t i = 0; i < lw.size(); ++i)
    if (!d.in_domain[i]) lw[i] = -std::numeric_limits<double>::infinity();
  return lw;
}

// reference_inside: the other direction's domain flags of the reference samples (they are its source).
DirectionResult statistics(const DirectionData& d, std::span<const std::uint8_t> reference_inside,
                           const BootstrapCounts& source_counts, const BootstrapCounts& reference_counts, int N, int D,
                           double L, const AnalysisOptions& o) {
  DirectionResult r;
  r.energy_bins = energy_bins(d, o.energy_bins);
  r.r_bins = Bins{0.0, 0.5 * L, o.rdf_bins};
  auto ref = set_statistics(d.reference_positions, d.reference_energy, N, D, L,
                            {Weighting{}, Weighting{{}, reference_inside}}, reference_counts, r.energy_bins, r.r_bins);
  r.reference = std::move(ref[0]);
  r.reference_covered = std::move(ref[1]);
  auto id = set_statistics(d.source_positions, d.identity_energy, N, D, L,
                           {Weighting{}, Weighting{d.identity_log_weight, {}}}, source_counts, r.energy_bins, r.r_bins);
  r.untransformed = std::move(id[0]);
  r.identity = std::move(id[1]);
  auto mapped = set_statistics(d.mapped_positions, d.mapped_energy, N, D, L,
                               {Weighting{}, Weighting{d.log_weight_unrestricted, d.in_domain}}, source_counts,
                               r.energy_bins, r.r_bins);
  r.raw = std::move(mapped[0]);
  r.reweighted = std::move(mapped[1]);
  return r;
}

void check_sizes(const DirectionData& d, int N, int D, const char* name) {
  const std::size_t row = static_cast<std::size_t>(N) * D, n = d.mapped_energy.size();
  if (d.source_positions.size() != n * row || d.mapped_positions.size() != n * row || d.identity_energy.size() != n ||
      d.log_weight_unrestricted.size() != n || d.identity_log_weight.size() != n || d.in_domain.size() != n ||
      d.reference_positions.size() != d.reference_energy.size() * row)
    throw Error(ExitCode::failure, std::string("analyze: inconsistent array sizes in direction ") + name);
  if (n == 0 || d.reference_energy.empty())
    throw input_error(std::string("analyze: direction ") + name + " has no configurations (evaluation sets of size 0?)");
}

}  // namespace

AnalysisResult analyze(const DirectionData& ab, const DirectionData& ba, int N, int D, double L,
                       const AnalysisOptions& o) {
  check_sizes(ab, N, D, "A_to_B");
  check_sizes(ba, N, D, "B_to_A");
  const std::size_t n_a = ab.mapped_energy.size(), n_b = ba.mapped_energy.size();
  if (ab.reference_energy.size() != n_b || ba.reference_energy.size() != n_a)
    throw Error(ExitCode::failure, "analyze: each direction's reference must be the other's source samples");
  // (Same samples in the same order: the caller passes the same evaluation set to both.)
  // One resampling per system's evaluation set, shared by every set built on those samples.
  const BootstrapCounts counts_a = bootstrap_counts(o.scheme, o.replicates, n_a, derive_seed(o.seed, 10));
  const BootstrapCounts counts_b = bootstrap_counts(o.scheme, o.replicates, n_b, derive_seed(o.seed, 11));
  AnalysisResult res;
  res.replicates = o.replicates;
  // Each direction's observables (g(r)) in its target's box.
  res.a_to_b = statistics(ab, ba.in_domain, counts_a, counts_b, N, D, o.box_length_b > 0.0 ? o.box_length_b : L, o);
  res.b_to_a = statistics(ba, ab.in_domain, counts_b, counts_a, N, D, L, o);

  const int R1 = o.replicates + 1;
  auto& f = res.a_to_b;
  auto& b = res.b_to_a;
  for (auto* dr : {&f, &b})
    for (auto* v : {&dr->delta_f, &dr->delta_f_uncorrected, &dr->delta_f_identity}) v->resize(R1);
  for (int r = 0; r < R1; ++r) {
    // c_A: share of A's samples whose A→B image stays in the domain (and c_B mirrored).
    const double c_a = f.reweighted.inside_fraction[r], c_b = b.reweighted.inside_fraction[r];
    f.delta_f_uncorrected[r] = -f.reweighted.log_mean_weight[r];
    f.delta_f[r] = f.delta_f_uncorrected[r] + std::log(c_b);
    b.delta_f_uncorrected[r] = b.reweighted.log_mean_weight[r];
    b.delta_f[r] = b.delta_f_uncorrected[r] - std::log(c_a);
    f.delta_f_identity[r] = -f.identity.log_mean_weight[r];
    b.delta_f_identity[r] = b.identity.log_mean_weight[r];
  }
  const std::vector<double> lw_ab = log_weight_restricted(ab), lw_ba = log_weight_restricted(ba);
  res.delta_f_bar.resize(R1);
  res.delta_f_bar_identity.resize(R1);
  res.delta_f_bar[0] = delta_f_bar(lw_ab, lw_ba, {}, {}, 0.5 * (f.delta_f[0] + b.delta_f[0]));
  res.delta_f_bar_identity[0] = delta_f_bar(ab.identity_log_weight, ba.identity_log_weight, {}, {},
                                            0.5 * (f.delta_f_identity[0] + b.delta_f_identity[0]));
  FirstError error;  // nothing may leave the parallel region
#pragma omp parallel for schedule(dynamic)
  for (int r = 1; r < R1; ++r) error.run([&] {
    res.delta_f_bar[r] = delta_f_bar(lw_ab, lw_ba, counts_a.row(r), counts_b.row(r), res.delta_f_bar[0]);
    res.delta_f_bar_identity[r] = delta_f_bar(ab.identity_log_weight, ba.identity_log_weight, counts_a.row(r),
                                              counts_b.row(r), res.delta_f_bar_identity[0]);
  });
  error.rethrow();
  // The removed degrees of freedom (METHOD.md: "constants … removed degrees of freedom must be
  // tracked"). The weights integrate over the N − 1 free particles with particle c fixed at the
  // centre: they estimate ln Z′_B − ln Z′_A, Z′ = ∫ e^{−βU} d^{(N−1)D}x (box-scaling layer
  // included). The configurational integral over all N particles is Z = ∫_{V^N} e^{−βU} d^{ND}x
  // = V·Z′ (translation invariance), so β_B F_B − β_A F_A = −ln(Z_B/Z_A) = −ln(Z′_B/Z′_A) − ln(V_B/V_A),
  // with ln(V_B/V_A) = D·ln(L_B/L_A): zero when the boxes agree.
  const double L_b = o.box_length_b > 0.0 ? o.box_length_b : L;
  const double volume_term = -static_cast<double>(D) * std::log(L_b / L);
  if (volume_term != 0.0)
    for (auto* v : {&f.delta_f, &f.delta_f_uncorrected, &f.delta_f_identity, &b.delta_f, &b.delta_f_uncorrected,
                    &b.delta_f_identity, &res.delta_f_bar, &res.delta_f_bar_identity})
      for (double& x : *v) x += volume_term;
  return res;
}

}  // namespace boltzmap
