// The flow of an input's [flow] table (kind = "realnvp" | "equivariant", METHOD.md "Flow"), built
// for the preprocessing it will read: the real-NVP on the preprocessed vector, the equivariant flow
// on the torus coordinates of the N − 1 centred particles (the Preprocessor must then be in its
// torus mode, PreprocessSettings::torus, which load_experiment sets from the kind).
// Tests: tests/flow/test_make_flow.cpp.
#pragma once
#include <cstdint>
#include <memory>

#include "core/config.hpp"
#include "flow/equivariant_flow.hpp"
#include "flow/realnvp.hpp"
#include "transforms/preprocessor.hpp"

namespace boltzmap {

// The real-NVP's shape for [flow] on a preprocessed vector of latent_dim numbers.
FlowShape flow_shape(const Experiment& e, int latent_dim);
// The equivariant flow's shape for [flow] on N − 1 = particles particles in D = dim dimensions and a
// box of side length; the second form takes them from pre (its box is A's).
EquivariantFlowShape equivariant_flow_shape(const Experiment& e, int particles, int dim, double length);
EquivariantFlowShape equivariant_flow_shape(const Experiment& e, const Preprocessor& pre);

// The input's kind of flow, initialised from seed (the identity map). Throws Error when the kind
// and the preprocessing's latent space disagree (an equivariant flow on a PCA'd vector, or back).
std::unique_ptr<Flow<float>> make_flow(const Experiment& e, const Preprocessor& pre, std::uint64_t seed);

}  // namespace boltzmap
