// A scalar replay of one walker's moves, step by step in the order the CUDA kernel computes them
// (kernels/mcmc.cu): the same draw (draw_move), the per-partner float32 terms pair_delta() gives
// from 0, summed in partner order 0, 1, …, N − 1, the double re-evaluation (particle_energy_soa)
// when a pair is closer than r_fast, the same Metropolis test. tests/sampling/test_mc_engine.cpp
// shows that the CPU engine's block kernel (mc_block.hpp) makes exactly these moves, so the GPU
// kernel that follows this recipe must too; tests/gpu/test_mcmc_parity.cpp uses it to count the
// decisions that only a different exp() could flip (near-ties). Layout of x: [dim][particle].
#pragma once
#include <cfloat>
#include <cmath>
#include <cstdint>

#include "sampling/mc_kernel.hpp"

namespace boltzmap::test {

struct ReplayCounts {
  std::uint64_t accepted = 0;
  std::uint64_t close_moves = 0;  // moves re-evaluated in double
  std::uint64_t near_ties = 0;    // |u − exp(−βΔU)| within 4 ulp of exp(−βΔU): another libm's exp may decide otherwise
};

template <int D>
void replay_moves(const MoveParams& mp, float* x, double& energy, std::uint32_t walker, std::uint64_t counter0,
                  std::uint64_t moves, float step, ReplayCounts& c) {
  const int n = mp.system.n_particles;
  for (std::uint64_t m = 0; m < moves; ++m) {
    const MoveDraw draw = draw_move<D>(mp.seed, walker, counter0 + m, n, step);
    const int i = draw.particle;
    float op[D], np[D];
    for (int d = 0; d < D; ++d) {
      op[d] = x[d * n + i];
      np[d] = wrap_into_box(op[d] + draw.displacement[d], mp.L, mp.inv_L);
    }
    float s = 0.0f;
    int close = 0;
    for (int j = 0; j < n; ++j) {
      float t = 0.0f;
      pair_delta<D>(mp, x + j, n, op, np, 1, j != i, t, close);
      s += t;
    }
    double du = static_cast<double>(s);
    if (close) {
      ++c.close_moves;
      du = particle_energy_soa<D>(mp, x, i, np) - particle_energy_soa<D>(mp, x, i, op);
    }
    const double bdu = mp.system.beta * du;
    if (bdu > 0.0) {
      const double p = std::exp(-bdu);
      if (std::abs(draw.accept_u - p) <= 4.0 * DBL_EPSILON * p) ++c.near_ties;
    }
    if (!metropolis_accept(bdu, draw.accept_u)) continue;
    for (int d = 0; d < D; ++d) x[d * n + i] = np[d];
    energy += du;
    ++c.accepted;
  }
}

}  // namespace boltzmap::test
