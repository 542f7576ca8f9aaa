// The analysis of both directions (boltzmap analyze; METHOD.md "Weights, observables, free
// energy" and "The domain of the map"). For A→B (and mirrored for B→A) five sets of observables:
//   reference      B's own MCMC samples (evaluation set), unweighted
//   untransformed  A's samples evaluated as B configurations (the identity map), unweighted
//   raw            the mapped configurations F(x_A), unweighted
//   reweighted     the mapped configurations with w_B, zero outside the canonical domain
//   identity       A's samples reweighted with the identity map's weights (free-energy perturbation)
// and the free-energy difference ΔF = β_B F_B − β_A F_A from each direction (uncorrected and
// coverage-corrected) and from Bennett's acceptance ratio, for the flow and for the identity map.
// plus the reference restricted to the covered part of the target (METHOD.md rule 3: reweighted
// observables of X from Y→X samples describe only the share c_X of X that the map reaches).
// Every quantity has a bootstrap error: replicate r resamples A's and B's evaluation sets
// (independently of each other, the same draws for every set built on the same samples) and
// reweights after resampling.
// Tests: tests/analysis/test_analysis.cpp (Gaussian systems with known ΔF and an exact affine map).
#pragma once
#include <span>
#include <vector>

#include "analysis/bootstrap.hpp"
#include "analysis/mapping.hpp"
#include "analysis/observables.hpp"
#include "analysis/set_statistics.hpp"

namespace boltzmap {

struct AnalysisOptions {
  int replicates = 100;
  BootstrapScheme scheme = BootstrapScheme::multinomial;
  int energy_bins = 80;
  int rdf_bins = 100;
  std::uint64_t seed = 0;
  // B's box side when it differs from A's (analyze's L; 0: the same). A→B observables are then
  // taken in B's box, and every ΔF gains the removed particle's −D·ln(L_B/L_A) (analysis.cpp).
  double box_length_b = 0.0;
};

// One direction's inputs: the source's samples mapped (a MappedSet or its file) and the target's
// own samples. All spans over the same n_source configurations except the reference ones.
struct DirectionData {
  std::span<const float> source_positions, mapped_positions;       // [n][N][D], both in the target's box
                                                                   // (source: the identity map's image)
  std::span<const double> mapped_energy, identity_energy;          // U_target(x′), U_target(x)
  std::span<const double> log_weight_unrestricted, identity_log_weight;
  std::span<const std::uint8_t> in_domain;
  std::span<const float> reference_positions;                      // the target's samples
  std::span<const double> reference_energy;
};

struct DirectionResult {
  Bins energy_bins, r_bins;
  SetStatistics reference, untransformed, raw, reweighted, identity;
  // The target's own samples restricted to the part the map covers (those whose image under the
  // other direction's map stays in the domain): what `reweighted` estimates when coverage < 1.
  SetStatistics reference_covered;
  // Per replicate (0 = full sample): ΔF from this direction's samples, with and without the
  // coverage correction, and from the identity map.
  std::vector<double> delta_f, delta_f_uncorrected, delta_f_identity;
};

struct AnalysisResult {
  DirectionResult a_to_b, b_to_a;
  std::vector<double> delta_f_bar, delta_f_bar_identity;  // per replicate
  int replicates = 0;
  const DirectionResult& direction(Direction d) const { return d == Direction::a_to_b ? a_to_b : b_to_a; }
};

AnalysisResult analyze(const DirectionData& a_to_b, const DirectionData& b_to_a, int n_particles, int dim, double L,
                       const AnalysisOptions& options);

}  // namespace boltzmap
