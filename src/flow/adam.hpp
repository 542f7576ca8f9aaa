// Adam (Kingma & Ba 2014) with bias correction, one state across training phases (METHOD.md):
//   m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,  θ ← θ − lr·m̂/(√v̂ + ε),
//   m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ); β₁ = 0.9, β₂ = 0.999, ε = 10⁻⁸. Moments in double.
// The update itself is adam_update() (src/flow/adam_math.hpp), shared with the CUDA twin CudaAdam
// (src/flow/adam_cuda.hpp). Tests: tests/flow/test_training.cpp.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "flow/adam_math.hpp"

namespace boltzmap {

class Adam {
 public:
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  std::int64_t steps = 0;
  std::vector<double> m, v;  // first and second moments (checkpointed with the parameters)

  template <class V>
  void step(V& params, const V& grad, double lr) {
    using T = typename V::value_type;
    if (m.size() != params.size()) {
      m.assign(params.size(), 0.0);
      v.assign(params.size(), 0.0);
    }
    ++steps;
    AdamCoefficients k{beta1, beta2, eps, lr, 0.0, 0.0};
    adam_corrections(k, steps);
    for (std::size_t i = 0; i < params.size(); ++i) adam_update<T>(params[i], m[i], v[i], static_cast<double>(grad[i]), k);
  }
};

}  // namespace boltzmap
