// One Metropolis single-particle move of one walker (CPU), and the pieces it shares with the
// block kernel (mc_block.hpp) and the future kernels/mcmc.cu: the draw, the per-pair term, the
// double-precision fallback. Tests: tests/sampling/test_mc_kernel.cpp (ΔU against the reference
// O(N²) energies, fast vs naive chains).
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

// Σ_{j≠i} u(|p − x_j|) in double with the reference pair function; x in [dim][particle], or, with
// lane_stride B and lane l, walker l of a block laid out [dim][particle][B] (mc_block.hpp).
template <int D>
BOLTZMAP_HD double particle_energy_soa(const MoveParams& mp, const float* x, int i, const float* p, int lane_stride = 1,
                           int lane = 0) {
  const System& s = mp.system;
  const int n = s.n_particles;
  const double L = s.box.length, inv_L = 1.0 / L;
  double e = 0.0;
  for (int j = 0; j < n; ++j) {
    if (j == i) continue;
    double r2 = 0.0;
    for (int d = 0; d < D; ++d) {
      const double xj = x[static_cast<size_t>(d * n + j) * lane_stride + lane];
      const double u = minimum_image(xj - static_cast<double>(p[d]), L, inv_L);
      r2 += u * u;
    }
    e += pair_energy(s.potential, r2);
  }
  return e;
}

// U(x) in double over unordered pairs i < j; x in [dim][particle].
template <int D>
BOLTZMAP_HD double total_energy_soa(const MoveParams& mp, const float* x) {
  const System& s = mp.system;
  const int n = s.n_particles;
  const double L = s.box.length, inv_L = 1.0 / L;
  double e = 0.0;
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) {
      double r2 = 0.0;
      for (int d = 0; d < D; ++d) {
        const double u = minimum_image(static_cast<double>(x[d * n + j]) - static_cast<double>(x[d * n + i]), L, inv_L);
        r2 += u * u;
      }
      e += pair_energy(s.potential, r2);
    }
  return e;
}

struct MoveDraw {
  int particle;
  float displacement[3];
  double accept_u;
};

// Displacement of one coordinate from one random word: uniform in [−Δ, Δ).
BOLTZMAP_HD float displacement(float step, std::uint32_t word) { return step * (2.0f * uniform_float(word) - 1.0f); }

// The random numbers of move `counter` of walker `walker`: one Philox call in 2D (particle,
// D displacements, acceptance), two in 3D (the acceptance from the second). Counter 2·move (+1).
template <int D>
BOLTZMAP_HD MoveDraw draw_move(std::uint64_t seed, std::uint32_t walker, std::uint64_t counter, int n, float step) {
  MoveDraw m{};
  const Random4 r = philox(seed, RngStream::Move, walker, counter << 1);
  m.particle = static_cast<int>(uniform_index(r.v[0], static_cast<std::uint32_t>(n)));
  for (int d = 0; d < D; ++d) m.displacement[d] = displacement(step, r.v[1 + d]);
  if constexpr (D == 2) {
    m.accept_u = uniform_open_double(r.v[3]);
  } else {
    const Random4 r2 = philox(seed, RngStream::Move, walker, (counter << 1) | 1u);
    m.accept_u = uniform_open_double(r2.v[0]);
  }
  return m;
}

// The contribution of partner j to a move of particle i from old_p to new_p: adds
// u(|new − x_j|) − u(|old − x_j|) to diff (float32, per pair, so the cancellation error stays at
// the size of the changed pairs) and flags pairs closer than r_fast in `close`. Branch-free
// (selects, not jumps) so the loops that call it vectorise; other = (j ≠ i) selects away the NaN
// of the self pair (r² = 0).
// Coordinate d of the partner is xj[d·xs], of the old and new positions o[d·os] and w[d·os]
// (strides, not local arrays, so GCC vectorises the callers' loops).
template <int D>
BOLTZMAP_HD void pair_delta(const MoveParams& mp, const float* xj, int xs, const float* o, const float* w, int os,
                            int other, float& diff, int& close) {
  float r2o = 0.0f, r2n = 0.0f;
#pragma GCC unroll 3
  for (int d = 0; d < D; ++d) {
    const float uo = minimum_image(xj[d * xs] - o[d * os], mp.L, mp.inv_L);
    const float un = minimum_image(xj[d * xs] - w[d * os], mp.L, mp.inv_L);
    r2o += uo * uo;
    r2n += un * un;
  }
  float lo = lj_shifted(mp.four_eps, mp.sigma2, mp.shift, r2o);
  float ln = lj_shifted(mp.four_eps, mp.sigma2, mp.shift, r2n);
  lo = (r2o < mp.rc2) ? lo : 0.0f;
  ln = (r2n < mp.rc2) ? ln : 0.0f;
  diff += other ? ln - lo : 0.0f;
  close |= other & ((r2o < mp.rfast2) | (r2n < mp.rfast2));
}

enum class MoveKernel {
  fast,    // O(N) energy change, float32; WalkerSet runs blocks of walkers in SIMD lanes (mc_block.hpp)
  single,  // O(N) energy change, one walker at a time, SIMD over partners (mc_move below)
  naive,   // full O(N²) energy before and after, double (the benchmark's baseline and oracle)
};

// Performs one trial move of one walker (K = fast and single: the O(N) energy change; naive:
// O(N²)); updates x (in place) and energy on acceptance. Returns accepted. This is the clear
// one-walker form and the twin of a GPU thread; mc_block.hpp runs the same move for 16 walkers
// at once in SIMD lanes (identical draws; the float sum over partners runs in another order).
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
    float diff = 0.0f;
    int close = 0;
#pragma omp simd reduction(+ : diff) reduction(| : close)
    for (int j = 0; j < n; ++j) pair_delta<D>(mp, x + j, n, old_p, new_p, 1, j != i, diff, close);
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
