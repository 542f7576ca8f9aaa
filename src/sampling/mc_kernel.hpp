// One Metropolis single-particle move of one walker (CPU). The twin of the future
// kernels/mcmc.cu; both take the pair potential, the Philox draw and the Metropolis test from
// shared BOLTZMAP_HD headers. Tests: tests/sampling/test_mc_kernel.cpp (ΔU against the
// reference O(N²) energies, fast vs naive chains).
//
// Walker layout here is [dim][particle], float32 (one walker's coordinates as D contiguous rows,
// so the loop over the other particles vectorises). Files and the reference use [particle][dim].
//
// Fast path: the energy change needs the moved particle's pairs only, 2(N − 1) pair evaluations,
// in float32 with SIMD over the partner index. When any pair involved is closer than r_fast
// (the linearisation radius, or σ/2 without linearisation) the move is re-evaluated in double
// with the branch-wise reference pair function, so the linear branch and near-overlaps are exact.
#pragma once
#include <cstdint>

#include "core/rng.hpp"
#include "physics/energy.hpp"

namespace boltzmap {

struct MoveParams {
  System system;       // double-precision reference (potential, box, N, β)
  std::uint64_t seed;  // per-system sampling seed
  float L, inv_L;
  float rc2, rfast2, four_eps, sigma2, shift;
};

inline MoveParams make_move_params(const System& s, std::uint64_t seed) {
  MoveParams p{};
  p.system = s;
  p.seed = seed;
  p.L = static_cast<float>(s.box.length);
  p.inv_L = 1.0f / p.L;
  const auto& pot = s.potential;
  p.rc2 = static_cast<float>(pot.rc2);
  const double half_sigma = 0.5 * pot.sigma;
  p.rfast2 = static_cast<float>(pot.rin2 > half_sigma * half_sigma ? pot.rin2 : half_sigma * half_sigma);
  p.four_eps = static_cast<float>(4.0 * pot.epsilon);
  p.sigma2 = static_cast<float>(pot.sigma * pot.sigma);
  p.shift = static_cast<float>(pot.shift);
  return p;
}

// Σ_{j≠i} u(|p − x_j|) in double with the reference pair function; x in [dim][particle].
template <int D>
double particle_energy_soa(const MoveParams& mp, const float* x, int i, const float* p) {
  const System& s = mp.system;
  const int n = s.n_particles;
  const double L = s.box.length, inv_L = 1.0 / L;
  double e = 0.0;
  for (int j = 0; j < n; ++j) {
    if (j == i) continue;
    double r2 = 0.0;
    for (int d = 0; d < D; ++d) {
      const double u = minimum_image(static_cast<double>(x[d * n + j]) - static_cast<double>(p[d]), L, inv_L);
      r2 += u * u;
    }
    e += pair_energy(s.potential, r2);
  }
  return e;
}

// U(x) in double; x in [dim][particle].
template <int D>
double total_energy_soa(const MoveParams& mp, const float* x) {
  const int n = mp.system.n_particles;
  double e = 0.0;
  for (int i = 0; i < n; ++i) {
    float p[D];
    for (int d = 0; d < D; ++d) p[d] = x[d * n + i];
    e += particle_energy_soa<D>(mp, x, i, p);
  }
  return 0.5 * e;
}

struct MoveDraw {
  int particle;
  float displacement[3];
  double accept_u;
};

// The random numbers of move `counter` of walker `walker`: one Philox call in 2D, two in 3D.
template <int D>
MoveDraw draw_move(std::uint64_t seed, std::uint32_t walker, std::uint64_t counter, int n, float step) {
  MoveDraw m{};
  const Random4 r = philox(seed, RngStream::Move, walker, counter << 1);
  m.particle = static_cast<int>(uniform_index(r.v[0], static_cast<std::uint32_t>(n)));
  for (int d = 0; d < D; ++d) m.displacement[d] = step * (2.0f * uniform_float(r.v[1 + d]) - 1.0f);
  if constexpr (D == 2) {
    m.accept_u = uniform_open_double(r.v[3]);
  } else {
    const Random4 r2 = philox(seed, RngStream::Move, walker, (counter << 1) | 1u);
    m.accept_u = uniform_open_double(r2.v[0]);
  }
  return m;
}

enum class MoveKernel {
  fast,   // O(N) energy change, float32 SIMD, double fallback near overlaps
  naive,  // full O(N²) energy before and after, double (the benchmark's baseline)
};

// Performs one trial move; updates x (in place) and energy on acceptance. Returns accepted.
// NC > 0 fixes N at compile time (the paper's N = 32 gets a loop with no remainder); NC = 0
// takes N from mp at run time. Both give identical results.
template <int D, MoveKernel K = MoveKernel::fast, int NC = 0>
bool mc_move(const MoveParams& mp, float* x, double& energy, std::uint32_t walker, std::uint64_t counter,
             float step) {
  const int n = NC > 0 ? NC : mp.system.n_particles;
  const MoveDraw m = draw_move<D>(mp.seed, walker, counter, n, step);
  const int i = m.particle;
  float old_p[D], new_p[D];
  for (int d = 0; d < D; ++d) {
    old_p[d] = x[d * n + i];
    new_p[d] = wrap_into_box(old_p[d] + m.displacement[d], mp.L, mp.inv_L);
  }

  double du;
  if constexpr (K == MoveKernel::naive) {
    const double before = total_energy_soa<D>(mp, x);
    for (int d = 0; d < D; ++d) x[d * n + i] = new_p[d];
    const double after = total_energy_soa<D>(mp, x);
    for (int d = 0; d < D; ++d) x[d * n + i] = old_p[d];
    du = after - before;
  } else {
    // u(new) − u(old) summed per pair (not as two totals), so the float32 cancellation error
    // stays at the size of the changed pairs.
    float diff = 0.0f;
    int close = 0;
#pragma omp simd reduction(+ : diff) reduction(| : close)
    for (int j = 0; j < n; ++j) {
      float r2o = 0.0f, r2n = 0.0f;
      for (int d = 0; d < D; ++d) {
        const float xj = x[d * n + j];
        const float uo = minimum_image(xj - old_p[d], mp.L, mp.inv_L);
        const float un = minimum_image(xj - new_p[d], mp.L, mp.inv_L);
        r2o += uo * uo;
        r2n += un * un;
      }
      // Branch-free (selects, not jumps) so the loop vectorises; the NaN of the self pair
      // (r² = 0) is selected away, never summed.
      const int other = j != i;
      float lo = lj_shifted(mp.four_eps, mp.sigma2, mp.shift, r2o);
      float ln = lj_shifted(mp.four_eps, mp.sigma2, mp.shift, r2n);
      lo = (r2o < mp.rc2) ? lo : 0.0f;
      ln = (r2n < mp.rc2) ? ln : 0.0f;
      diff += other ? ln - lo : 0.0f;
      close |= other & ((r2o < mp.rfast2) | (r2n < mp.rfast2));
    }
    if (close) {
      du = particle_energy_soa<D>(mp, x, i, new_p) - particle_energy_soa<D>(mp, x, i, old_p);
    } else {
      du = static_cast<double>(diff);
    }
  }

  if (!metropolis_accept(mp.system.beta * du, m.accept_u)) return false;
  for (int d = 0; d < D; ++d) x[d * n + i] = new_p[d];
  energy += du;
  return true;
}

}  // namespace boltzmap
