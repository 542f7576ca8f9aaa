// Preprocessing layer 2 (METHOD.md): the point symmetries of a periodic square (cubic) box about
// its centre — the 8 elements of D4 in 2D, the 48 of the octahedral group in 3D — as signed
// permutations of the axes: y_d = L/2 + s_d·(x_{p(d)} − L/2), wrapped into [0, L). Exact
// symmetries of U (log|det| = 0). Element g enumerates (permutation, signs):
// g = perm_index·2^D + sign_bits. Tests: tests/transforms/test_layers.cpp.
#pragma once
#include <array>
#include <span>

#include "physics/box.hpp"
#include "transforms/batch.hpp"

namespace boltzmap {

struct SignedPermutation {
  std::array<int, 3> perm{0, 1, 2};
  std::array<int, 3> sign{1, 1, 1};
};

inline int symmetry_group_order(int dim) { return dim == 2 ? 8 : 48; }

inline SignedPermutation symmetry_element(int g, int dim) {
  static constexpr int perms2[2][3] = {{0, 1, 2}, {1, 0, 2}};
  static constexpr int perms3[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  SignedPermutation e;
  const int p = g >> dim, bits = g & ((1 << dim) - 1);
  for (int d = 0; d < dim; ++d) {
    e.perm[d] = dim == 2 ? perms2[p][d] : perms3[p][d];
    e.sign[d] = (bits >> d) & 1 ? -1 : 1;
  }
  return e;
}

// The inverse element: x_{p(d)} = L/2 + s_d (y_d − L/2)  ⇒  q(p(d)) = d with the same sign.
inline SignedPermutation inverse_element(const SignedPermutation& e, int dim) {
  SignedPermutation inv;
  for (int d = 0; d < dim; ++d) {
    inv.perm[e.perm[d]] = d;
    inv.sign[e.perm[d]] = e.sign[d];
  }
  return inv;
}

inline void apply_element(BatchView b, int r, const SignedPermutation& e, double L) {
  const float Lf = static_cast<float>(L), inv = 1.0f / Lf, half = 0.5f * Lf;
  float* x = b.row(r);
  for (int i = 0; i < b.particles; ++i) {
    float u[3];
    for (int d = 0; d < b.dim; ++d) u[d] = x[i * b.dim + d] - half;
    for (int d = 0; d < b.dim; ++d)
      x[i * b.dim + d] = wrap_into_box(half + static_cast<float>(e.sign[d]) * u[e.perm[d]], Lf, inv);
  }
}

// Applies element element[r] to row r.
inline void symmetry_forward(BatchView b, std::span<const int> element, double L) {
  for (int r = 0; r < b.rows; ++r) apply_element(b, r, symmetry_element(element[r], b.dim), L);
}

inline void symmetry_inverse(BatchView b, std::span<const int> element, double L) {
  for (int r = 0; r < b.rows; ++r) apply_element(b, r, inverse_element(symmetry_element(element[r], b.dim), b.dim), L);
}

}  // namespace boltzmap
