// One Adam update of one parameter (src/flow/adam.hpp has the formula), written once for the CPU
// optimiser (Adam::step) and the CUDA kernel (kernels/adam.cu, CudaAdam): the same double
// operations in the same order, so with IEEE arithmetic and no contraction (-ffp-contract=off,
// nvcc --fmad=false) a step is bitwise the same on both. c1 = 1 − β₁ᵗ, c2 = 1 − β₂ᵗ are computed
// once per step on the host (adam_corrections) and passed in.
// Tests: tests/flow/test_training.cpp (Adam), tests/gpu/test_realnvp_parity.cpp (bitwise GPU step).
#pragma once
#include <cmath>
#include <cstdint>

#include "core/hd.hpp"

namespace boltzmap {

struct AdamCoefficients {
  double beta1, beta2, eps, lr, c1, c2;
};

// c1 = 1 − β₁ᵗ and c2 = 1 − β₂ᵗ for step t (1-based), host side (std::pow).
inline void adam_corrections(AdamCoefficients& k, std::int64_t step) {
  k.c1 = 1.0 - std::pow(k.beta1, static_cast<double>(step));
  k.c2 = 1.0 - std::pow(k.beta2, static_cast<double>(step));
}

// m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², θ ← θ − lr·(m/c1)/(√(v/c2) + ε), θ rounded to T.
template <class T>
BOLTZMAP_HD void adam_update(T& param, double& m, double& v, double g, const AdamCoefficients& k) {
  using std::sqrt;
  m = k.beta1 * m + (1.0 - k.beta1) * g;
  v = k.beta2 * v + (1.0 - k.beta2) * g * g;
  param = static_cast<T>(param - k.lr * (m / k.c1) / (sqrt(v / k.c2) + k.eps));
}

}  // namespace boltzmap
