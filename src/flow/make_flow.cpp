// See make_flow.hpp.
#include "flow/make_flow.hpp"

#include <string>

#include "core/error.hpp"

namespace boltzmap {

FlowShape flow_shape(const Experiment& e, int latent_dim) {
  FlowShape s;
  s.dim = latent_dim;
  s.blocks = e.flow.blocks;
  s.hidden = e.flow.hidden;
  s.scale_bound = e.flow.scale_bound;
  return s;
}

EquivariantFlowShape equivariant_flow_shape(const Experiment& e, int particles, int dim, double length) {
  EquivariantFlowShape s;
  s.particles = particles;
  s.dim = dim;
  s.layers = e.flow.layers;
  s.bins = e.flow.bins;
  s.frequencies = e.flow.frequencies;
  s.hidden = e.flow.width;
  s.length = length;
  s.shift = e.flow.shift;
  return s;
}

EquivariantFlowShape equivariant_flow_shape(const Experiment& e, const Preprocessor& pre) {
  return equivariant_flow_shape(e, pre.n_particles() - 1, pre.dim(), pre.box_length());
}

std::unique_ptr<Flow<float>> make_flow(const Experiment& e, const Preprocessor& pre, std::uint64_t seed) {
  const bool equivariant = e.flow.kind == "equivariant";
  if (equivariant != pre.settings().torus)
    throw Error(ExitCode::failure, std::string("flow kind \"") + e.flow.kind + "\" on a preprocessing " +
                                       (pre.settings().torus ? "of torus coordinates" : "with relabelling and PCA") +
                                       ": the preprocessing was made for the other kind");
  if (equivariant) return std::make_unique<EquivariantFlow<float>>(equivariant_flow_shape(e, pre), seed);
  return std::make_unique<RealNvp<float>>(flow_shape(e, pre.latent_dim()), seed);
}

}  // namespace boltzmap
