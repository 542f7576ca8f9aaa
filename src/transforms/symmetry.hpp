// Preprocessing layer 2 (METHOD.md): the point symmetries of a periodic square (cubic) box about
// its centre — the 8 elements of D4 in 2D, the 48 of the octahedral group in 3D — as signed
// permutations of the axes: y_d = L/2 + s_d·(x_{p(d)} − L/2), wrapped into [0, L). Exact
// symmetries of U (log|det| = 0). Element g enumerates (permutation, signs):
// g = perm_index·2^D + sign_bits. Tests: tests/transforms/test_layers.cpp.
#pragma once
#include <span>

#include "core/hd.hpp"

#include "physics/box.hpp"
#include "transforms/batch.hpp"

namespace boltzmap {

struct SignedPermutation {
  int perm[3] = {0, 1, 2};
  int sign[3] = {1, 1, 1};
};

BOLTZMAP_HD int symmetry_group_order(int dim) { return dim == 2 ? 8 : 48; }

// Host and device code (the tables are local constants: device code may not have statics).
BOLTZMAP_HD SignedPermutation symmetry_element(int g, int dim) {
  // The permutations in lexicographic order: 2D {01, 10}; 3D {012, 021, 102, 120, 201, 210}.
  constexpr int perms2[2][3] = {{0, 1, 2}, {1, 0, 2}};
  constexpr int perms3[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  SignedPermutation e;
  const int p = g >> dim, bits = g & ((1 << dim) - 1);
  for (int d = 0; d < dim; ++d) {
    e.perm[d] = dim == 2 ? perms2[p][d] : perms3[p][d];
    e.sign[d] = (bits >> d) & 1 ? -1 : 1;
  }
  return e;
}

// The inverse element: x_{p(d)} = L/2 + s_d (y_d − L/2)  ⇒  q(p(d)) = d with the same sign.
BOLTZMAP_HD SignedPermutation inverse_element(const SignedPermutation& e, int dim) {
  SignedPermutation inv;
  for (int d = 0; d < dim; ++d) {
    inv.perm[e.perm[d]] = d;
    inv.sign[e.perm[d]] = e.sign[d];
  }
  return inv;
}

// One configuration x [particles][dim] (dim ≤ 3). Host and device code.
BOLTZMAP_HD void apply_element_row(float* x, int particles, int dim, const SignedPermutation& e, float L) {
  const float inv = 1.0f / L, half = 0.5f * L;
  for (int i = 0; i < particles; ++i) {
    float u[3];
    for (int d = 0; d < dim; ++d) u[d] = x[i * dim + d] - half;
    for (int d = 0; d < dim; ++d)
      x[i * dim + d] = wrap_into_box(half + static_cast<float>(e.sign[d]) * u[e.perm[d]], L, inv);
  }
}

inline void apply_element(BatchView b, int r, const SignedPermutation& e, double L) {
  apply_element_row(b.row(r), b.particles, b.dim, e, static_cast<float>(L));
}

// Applies element element[r] to row r.
inline void symmetry_forward(BatchView b, std::span<const int> element, double L) {
  for (int r = 0; r < b.rows; ++r) apply_element(b, r, symmetry_element(element[r], b.dim), L);
}

inline void symmetry_inverse(BatchView b, std::span<const int> element, double L) {
  for (int r = 0; r < b.rows; ++r) apply_element(b, r, inverse_element(symmetry_element(element[r], b.dim), b.dim), L);
}

}  // namespace boltzmap
