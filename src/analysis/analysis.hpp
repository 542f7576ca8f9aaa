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
// Streamed and distributed (issue 11): each rank reads only its rows of each evaluation set, a
// chunk at a time, so memory per rank is bounded by the chunk, not the sample. Passes:
//   1. scalars only: the largest log-weights (the shifts), a strided subsample of every energy
//      column (≤ 2¹⁷ values, all of them for smaller sets) for the histogram bins (0.1st–99.9th
//      percentiles), log-sum-exps for a starting guess; all reduced over the ranks;
//   2. the full-sample BAR root Δ₀, by Newton on sums over the ranks (a pass over the three weight
//      columns per step: Columns::weights);
//   3. everything else in one pass, for the sample and every replicate at once: each set's sums
//      (set_statistics.hpp) and, for BAR, the moments of the fermi function's Taylor series about
//      Δ₀ (stats/estimators.hpp), from which each replicate's root follows without touching the
//      data again; a replicate whose root lies beyond the series' range is solved exactly (a few
//      more scalar passes for that replicate; the count is reported).
// The multiplicities come from a Resampler: Poisson counts are keyed by (seed, replicate,
// configuration), so 1, 2 or 4 ranks give the same replicates and the same results to rounding
// (sums added in another order); the multinomial scheme needs the whole set on one process and is
// refused on several.
// Tests: tests/analysis/test_analysis.cpp (Gaussian systems with known ΔF and an exact affine map;
// chunked = whole; BAR replicates = the direct solve), mpi_analyze_np1_2_4 (ranks agree).
#pragma once
#include <span>
#include <vector>

#include "analysis/bootstrap.hpp"
#include "analysis/mapping.hpp"
#include "analysis/observables.hpp"
#include "analysis/set_statistics.hpp"
#include "core/backend.hpp"
#include "parallel/comm.hpp"

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
  std::int64_t chunk = 8192;  // configurations per read and per accumulation (memory per rank)
  // Where the per-chunk pair histograms and sums run (set_kernels.hpp): the analyze stage's
  // resolved backend. The BAR moments, the scans and the finish stay on the host.
  BackendKind backend = BackendKind::cpu;
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
  int bar_replicates_solved_exactly = 0;  // replicates beyond the Taylor series' range (flow + identity)
  const DirectionResult& direction(Direction d) const { return d == Direction::a_to_b ? a_to_b : b_to_a; }
};

// Rows [first, first + count) of one system X's evaluation set and of its map X → Y (the target
// Y is the other system). X's rows serve three sets: the reference of Y → X (positions, energy,
// restricted by in_domain for the covered part), and the identity and mapped sets of X → Y.
struct EvaluationRows {
  std::span<const float> positions;         // [count][N][D] in X's box
  std::span<const float> source_positions;  // the identity map's image x·L_Y/L_X, in Y's box
  std::span<const float> mapped_positions;  // F(x), in Y's box
  std::span<const double> energy;           // U_X(x)
  std::span<const double> mapped_energy, identity_energy;  // U_Y(F(x)), U_Y(x·L_Y/L_X)
  std::span<const double> log_weight_unrestricted, identity_log_weight;
  std::span<const std::uint8_t> in_domain;
};

// Which columns a pass needs (a source may leave the others empty, and read less):
//   weights  log_weight_unrestricted, identity_log_weight, in_domain (the BAR Newton passes)
//   scalars  every per-configuration number; `energy` may be a stored copy of U_X (equal to
//            rounding: used for the bins only)
//   all      the scalars and the three sets of positions, `energy` recomputed
enum class Columns { weights, scalars, all };

class EvaluationSource {
 public:
  virtual ~EvaluationSource() = default;
  virtual std::int64_t size() const = 0;
  // Valid until the next call.
  virtual EvaluationRows rows(std::int64_t first, std::int64_t count, Columns columns) = 0;
};

// Collective over comm: every rank analyses its block of each system's rows; every rank returns
// the whole result.
AnalysisResult analyze(EvaluationSource& a, EvaluationSource& b, int n_particles, int dim, double L,
                       const AnalysisOptions& options, const Comm& comm);

// Arrays in memory (one process; tests): the direction-wise view.
AnalysisResult analyze(const DirectionData& a_to_b, const DirectionData& b_to_a, int n_particles, int dim, double L,
                       const AnalysisOptions& options);

}  // namespace boltzmap
