// The production CPU MCMC kernel: a block of `block_lanes` walkers advanced in lock step, one
// SIMD lane per walker — the CPU counterpart of one GPU thread per walker. Every lane makes
// exactly the move that mc_move() would make for its walker (same Philox draw, same partner
// terms via pair_delta(), same double fallback near overlaps, same Metropolis test); only the
// float32 sum over partners runs in another order (sequential in j here), so a decision can
// differ from mc_move() when u sits within ~1e-6 of exp(−βΔU).
//
// Why lanes over walkers: with N = 32 partners, SIMD over partners (mc_move) leaves the per-move
// scalar work — Philox, index arithmetic, the horizontal sum — as most of the instructions; SIMD
// over walkers vectorises all of it. Block layout [dim][particle][lane], float32 (4 KiB for the
// paper's system: stays in L1). Tests: tests/sampling/test_mc_block.cpp.
#pragma once
#include <cstdint>

#include "sampling/mc_kernel.hpp"

namespace boltzmap {

inline constexpr int block_lanes = 16;  // one AVX-512 register of floats, two AVX2 registers

// Runs `moves` moves (counters counter0 …) on the block xb [D][n][block_lanes] with energies
// [block_lanes]; lanes ≥ active are carried along but never updated. Returns accepted moves.
template <int D, int NC = 0>
std::uint64_t run_block(const MoveParams& mp, float* xb, double* energy, int active, std::uint32_t walker0,
                        std::uint64_t counter0, std::uint64_t moves, float step) {
  constexpr int B = block_lanes;
  const int n = NC > 0 ? NC : mp.system.n_particles;
  const auto k0 = static_cast<std::uint32_t>(mp.seed), k1 = static_cast<std::uint32_t>(mp.seed >> 32);
  std::uint64_t accepted = 0;
  for (std::uint64_t m = 0; m < moves; ++m) {
    const std::uint64_t ctr = (counter0 + m) << 1;  // as draw_move()
    alignas(64) std::uint32_t accept_word[B];
    alignas(64) int ip[B];
    alignas(64) float op[D][B], np[D][B], diff[B];
    alignas(64) int close[B];
    alignas(64) std::uint32_t disp_word[3][B];
#pragma omp simd
    for (int l = 0; l < B; ++l) {
      std::uint32_t c0 = static_cast<std::uint32_t>(ctr), c1 = static_cast<std::uint32_t>(ctr >> 32), c2 = walker0 + l,
                    c3 = static_cast<std::uint32_t>(RngStream::Move);
      philox4x32_10(c0, c1, c2, c3, k0, k1);
      ip[l] = static_cast<int>(uniform_index(c0, static_cast<std::uint32_t>(n)));
      disp_word[0][l] = c1;
      disp_word[1][l] = c2;
      disp_word[2][l] = c3;
      accept_word[l] = c3;
      diff[l] = 0.0f;
      close[l] = 0;
    }
    for (int l = 0; l < B; ++l)  // gather the moved particles
      for (int d = 0; d < D; ++d) op[d][l] = xb[(d * n + ip[l]) * B + l];
#pragma omp simd
    for (int l = 0; l < B; ++l)
#pragma GCC unroll 3
      for (int d = 0; d < D; ++d) np[d][l] = wrap_into_box(op[d][l] + displacement(step, disp_word[d][l]), mp.L, mp.inv_L);
    for (int j = 0; j < n; ++j) {
      const float* xj = xb + j * B;
#pragma omp simd
      for (int l = 0; l < B; ++l) pair_delta<D>(mp, xj + l, n * B, &op[0][l], &np[0][l], B, j != ip[l], diff[l], close[l]);
    }
    for (int l = 0; l < active; ++l) {
      float o[D], w[D];
      for (int d = 0; d < D; ++d) {
        o[d] = op[d][l];
        w[d] = np[d][l];
      }
      const double du = close[l] ? particle_energy_soa<D>(mp, xb, ip[l], w, B, l) -
                                       particle_energy_soa<D>(mp, xb, ip[l], o, B, l)
                                 : static_cast<double>(diff[l]);
      const double u = D == 2 ? uniform_open_double(accept_word[l])
                              : uniform_open_double(philox(mp.seed, RngStream::Move, walker0 + l, ctr | 1u).v[0]);
      if (!metropolis_accept(mp.system.beta * du, u)) continue;
      for (int d = 0; d < D; ++d) xb[(d * n + ip[l]) * B + l] = w[d];
      energy[l] += du;
      ++accepted;
    }
  }
  return accepted;
}

}  // namespace boltzmap
