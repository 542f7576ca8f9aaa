// The model file (out/<name>/model/): HDF5, serial, written atomically by rank 0. This version
// holds the fitted preprocessing; the flow's parameters join it in a later version (flow.h5).
//   /preprocess  @n_particles @dimension @box_length @augment @whiten (0/1) @centre
//                @reference_lattice @log_det_forward
//     reference_sites  [N − 1][dim] float64   relabelling sites (lattice shifted, centre removed)
//     wrap_centres     [N − 1][dim] float64   c_kd of the wrapping layer
//     pca_mean         [(N − 1)·dim] float64   μ
//     pca_components   [(N − 1)·dim][(N − 1)·dim] float64   V, column k = k-th principal axis
//     pca_eigenvalues  [(N − 1)·dim] float64   λ, decreasing
//   @boltzmap_input (resolved TOML), @boltzmap_version
// From Python: W = diag(λ^(−1/2)) Vᵀ (whiten) or Vᵀ, z = W (y − μ). Tests: tests/io/test_model_file.cpp.
#pragma once
#include <string>

#include "transforms/preprocessor.hpp"

namespace boltzmap {

void save_preprocessor(const std::string& path, const Preprocessor& pre, const std::string& resolved_input);
Preprocessor load_preprocessor(const std::string& path);

}  // namespace boltzmap
