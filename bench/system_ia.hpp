// The benchmarks' system: the paper's IA (LJ ε = 1, σ = 1, N = 32, 2D, ρ = 0.735, r_c = 3,
// r_in = 0.8, β = 1), shared by bench_mcmc and bench_mcmc_gpu so both time the same walkers.
#pragma once
#include "physics/box.hpp"
#include "physics/energy.hpp"

namespace boltzmap::bench {

inline System system_ia() {
  System sys;
  sys.n_particles = 32;
  sys.box.dimension = 2;
  sys.box.length = box_length(32, 0.735, 2);
  sys.beta = 1.0;
  sys.potential = make_pair_potential(PotentialKind::lj, 1.0, 1.0, 3.0, 0.8);
  return sys;
}

}  // namespace boltzmap::bench
