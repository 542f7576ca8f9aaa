// Adam (Kingma & Ba 2014) with bias correction, one state across training phases (METHOD.md):
//   m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,  θ ← θ − lr·m̂/(√v̂ + ε),
//   m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ); β₁ = 0.9, β₂ = 0.999, ε = 10⁻⁸. Moments in double.
// Tests: tests/flow/test_training.cpp.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

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
    const double c1 = 1.0 - std::pow(beta1, static_cast<double>(steps));
    const double c2 = 1.0 - std::pow(beta2, static_cast<double>(steps));
    for (std::size_t i = 0; i < params.size(); ++i) {
      const double g = grad[i];
      m[i] = beta1 * m[i] + (1.0 - beta1) * g;
      v[i] = beta2 * v[i] + (1.0 - beta2) * g * g;
      params[i] = static_cast<T>(params[i] - lr * (m[i] / c1) / (std::sqrt(v[i] / c2) + eps));
    }
  }
};

}  // namespace boltzmap
