// The model files (out/<name>/model/): HDF5, serial, written atomically by rank 0.
// preprocess.h5 holds the fitted preprocessing; flow.h5 the same plus the trained flow; the
// training checkpoint (model/checkpoints/checkpoint.h5) the flow, Adam's state, the source pool
// and the position in the protocol.
//   /preprocess  @n_particles @dimension @box_length @augment @whiten (0/1) @centre
//                @reference_lattice @log_det_forward
//                @box_length_B @box_log_det   the box-scaling layer: B's box side (@box_length is
//                A's, the box the preprocessing works in) and its A → B log-det (N − 1)·dim·ln(L_B/L_A);
//                a file without them has L_B = L_A
//     reference_sites  [N − 1][dim] float64   relabelling sites (lattice shifted, centre removed)
//     wrap_centres     [N − 1][dim] float64   c_kd of the wrapping layer
//     pca_mean         [(N − 1)·dim] float64   μ
//     pca_components   [(N − 1)·dim][(N − 1)·dim] float64   V, column k = k-th principal axis
//     pca_eigenvalues  [(N − 1)·dim] float64   λ, decreasing
//   @boltzmap_input (resolved TOML), @boltzmap_version
// From Python: W = diag(λ^(−1/2)) Vᵀ (whiten) or Vᵀ, z = W (y − μ).
//                @torus (0/1)   the equivariant flow's torus latent space (preprocessor.hpp): the
//                wrap centres are L/2, the PCA the identity with μ = L/2; a file without it has 0
//   /flow  @kind "realnvp" | "equivariant" (a file without it: "realnvp") @parameter_count
//     realnvp:     @dim @blocks @hidden [int array] @scale_bound
//     equivariant: @particles @dimension @layers @bins @frequencies @width @shift (0/1) @length
//                  @min_bin @min_derivative
//     parameters  [parameter_count] float32. realnvp: per block (0 … blocks − 1), the S network
//                 then the T network, each layer's W [out][in] row-major then its b [out].
//                 equivariant: layer after layer, each in circular_coupling_layout()'s order
//                 (src/flow/circular_coupling.hpp)
//   /checkpoint (checkpoints only)  @next_epoch @global_step @adam_steps
//     adam_m, adam_v [parameter_count] float64;  pool [rows][N][dim] float32
// Tests: tests/io/test_model_file.cpp.
#pragma once
#include <memory>
#include <string>

#include "flow/training_state.hpp"
#include "transforms/preprocessor.hpp"

namespace boltzmap {

void save_preprocessor(const std::string& path, const Preprocessor& pre, const std::string& resolved_input);
Preprocessor load_preprocessor(const std::string& path);

template <class T>
class Flow;
// A trained model: the preprocessing and the flow (either kind), as flow.h5 holds them.
struct Model {
  Preprocessor pre;
  std::unique_ptr<Flow<float>> flow;
};
// Reads flow.h5 (throws io_error naming the file and what is missing or inconsistent).
Model load_flow(const std::string& path);
// flow.h5: the preprocessing and the flow's parameters.
void save_flow(const std::string& path, const Preprocessor& pre, const Flow<float>& flow,
               const std::string& resolved_input);
// The training state (src/flow/training_state.hpp) of a flow of flow's kind and shape.
void save_checkpoint(const std::string& path, const Preprocessor& pre, const Flow<float>& flow, const TrainingState& state,
                     const std::string& resolved_input);
// Reads a checkpoint; io_error naming the file when its flow has not `parameter_count` parameters
// or its pool not `pool_size` values (the input changed since it was written).
TrainingState load_checkpoint(const std::string& path, std::size_t parameter_count, std::size_t pool_size);

}  // namespace boltzmap
