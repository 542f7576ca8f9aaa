// out/<name>/analysis.h5 (boltzmap analyze), serial, written atomically:
//   /  @boltzmap_input @boltzmap_version @bootstrap_replicates @bootstrap_scheme
//      @n_particles @dimension @box_length
//   /A_to_B, /B_to_A   @source @target ("A"/"B") @n_source @n_reference
//     energy_bin_edges [E + 1]   r_bin_edges [G + 1]   r_bin_centres [G]          (float64)
//     delta_f, delta_f_uncorrected, delta_f_identity [R + 1]  βΔF = β_B F_B − β_A F_A per replicate
//       (row 0 = full sample; rows 1 … R bootstrap replicates), with @value @error each
//     coverage [R + 1]  share of this direction's source samples whose image stays in the domain
//     /reference /reference_covered /untransformed /raw /reweighted /identity   (src/analysis/analysis.hpp)
//       energy_histogram, energy_histogram_err [E]  density (1/energy)
//       rdf, rdf_err [G]                            g(r)
//       @mean_energy @mean_energy_err @ess @ess_err @ess_fraction @ess_fraction_err
//       @inside_fraction @inside_fraction_err @outside_weight_fraction @outside_weight_fraction_err @n
//   /free_energy  delta_f_bar, delta_f_bar_identity [R + 1], each with @value @error
// Energies are totals per configuration (U). Values: full sample; errors: bootstrap standard deviations.
// Tests: tests/app/analysis_pipeline.sh reads it back (h5py) and checks it against summary.json.
#pragma once
#include <string>

#include "analysis/analysis.hpp"

namespace boltzmap {

struct AnalysisFileMeta {
  std::string resolved_input, scheme;
  int n_particles = 0, dimension = 0;
  double box_length = 0;
};

void write_analysis(const std::string& path, const AnalysisResult& result, const AnalysisFileMeta& meta);

}  // namespace boltzmap
