// Random liquid-like test configurations: the start lattice of src/physics/lattice.cpp with every
// coordinate displaced by uniform(−jitter·a, jitter·a) (a = L/n, the cell side), wrapped into
// [0, L); Philox stream Test keyed by (seed, id) so each case is reproducible from its printed
// seed and id. Layout [particle][dim]. Also the [particle][dim] ↔ [dim][particle] conversions of
// the MC kernel's walker layout, and a system builder.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "physics/box.hpp"
#include "physics/energy.hpp"
#include "physics/lattice.hpp"

namespace boltzmap::test {

inline System make_system(PotentialKind kind, double eps, double rc, double rin, int dim, int n, double L,
                          double beta = 1.0) {
  System s;
  s.potential = make_pair_potential(kind, eps, 1.0, rc, rin);
  s.box = Box{dim, L};
  s.n_particles = n;
  s.beta = beta;
  return s;
}

inline std::vector<double> jittered_lattice(const System& s, double jitter, std::uint64_t seed, std::uint32_t id) {
  const int D = s.box.dimension, n = s.n_particles;
  const double L = s.box.length;
  const std::string name = D == 2 ? "centered-square" : "bcc";
  const std::vector<float> lat = make_lattice(name, D, n, L);
  const int cells = *lattice_cells(name, D, n);
  const double a = L / cells;
  std::vector<double> x(lat.begin(), lat.end());
  for (int k = 0; k < n * D; ++k) {
    const Random4 r = philox(seed, RngStream::Test, id, static_cast<std::uint64_t>(k));
    x[k] = wrap_into_box(x[k] + jitter * a * (2 * uniform_double(r.v[0], r.v[1]) - 1), L, 1 / L);
  }
  return x;
}

// Puts particle `moved` at distance r from particle `anchor` (direction from the RNG), wrapped.
inline void place_at_distance(const System& s, std::vector<double>& x, int anchor, int moved, double r,
                              std::uint64_t seed, std::uint32_t id) {
  const int D = s.box.dimension;
  const double L = s.box.length;
  double dir[3], norm = 0;
  for (int d = 0; d < D; ++d) {
    const Random4 q = philox(seed, RngStream::Test, id, 1000000u + d);
    dir[d] = 2 * uniform_double(q.v[0], q.v[1]) - 1 + 0.1;  // offset keeps the norm away from 0
    norm += dir[d] * dir[d];
  }
  norm = std::sqrt(norm);
  for (int d = 0; d < D; ++d) x[moved * D + d] = wrap_into_box(x[anchor * D + d] + r * dir[d] / norm, L, 1 / L);
}

inline std::vector<float> to_float(const std::vector<double>& x) { return {x.begin(), x.end()}; }

inline std::vector<float> to_soa(const std::vector<float>& aos, int n, int D) {
  std::vector<float> soa(aos.size());
  for (int i = 0; i < n; ++i)
    for (int d = 0; d < D; ++d) soa[d * n + i] = aos[i * D + d];
  return soa;
}
inline std::vector<float> to_aos(const std::vector<float>& soa, int n, int D) {
  std::vector<float> aos(soa.size());
  for (int i = 0; i < n; ++i)
    for (int d = 0; d < D; ++d) aos[i * D + d] = soa[d * n + i];
  return aos;
}

// The systems of a tiny experiment for training tests (N = 8 LJ in 2D, ρ = 0.7, B at ε/2; data
// sets are made by the tests themselves): append [flow] and [training] tables to it.
inline const char* kTinySystems = R"(
name = "tiny"
seed = 5
[box]
n_particles = 8
[systems.A]
potential = "lj"
epsilon = 1.0
cutoff = 1.6
temperature = 1.0
density = 0.7
[systems.A.sampler]
walkers = 10
step_size = 0.3
[systems.A.datasets]
train = 1
validation = 1
evaluation = 0
[systems.B]
potential = "lj"
epsilon = 0.5
cutoff = 1.6
temperature = 1.0
density = 0.7
[systems.B.sampler]
walkers = 10
step_size = 0.3
[systems.B.datasets]
train = 1
validation = 1
evaluation = 0
)";

}  // namespace boltzmap::test
