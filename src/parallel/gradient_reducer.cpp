// See gradient_reducer.hpp.
#include "parallel/gradient_reducer.hpp"

#include <fmt/format.h>

namespace boltzmap {

std::string MpiGradientReducer::name() const {
  return fmt::format("MPI allreduce over {} trainer rank{}", comm_.size(), comm_.size() == 1 ? "" : "s");
}

std::unique_ptr<GradientReducer> make_gradient_reducer(const Comm& trainers) {
  return std::make_unique<MpiGradientReducer>(trainers);
}

}  // namespace boltzmap
