// bench_mcmc: trial moves and pair evaluations per second of the CPU MCMC engine on the paper's
// LJ system (IA: N = 32, 2D, ε = 1, r_c = 3, r_in = 0.8, T = 1, ρ = 0.735, Δ = 0.175), single
// thread and all threads, for the production kernel (fast: 16 walkers in SIMD lanes), the
// one-walker kernel (single: SIMD over partners) and the naive O(N²) baseline. Prints JSON.
//   bench_mcmc [--walkers W] [--moves M] [--naive-moves M]
// Each figure is the median of three timed runs. Pair evaluations: fast and single = 2(N − 1) per move (old and new position of the moved particle);
// naive = N(N − 1) per move (two full energies).
#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "parallel/comm.hpp"
#include "physics/lattice.hpp"
#include "system_ia.hpp"
#include "sampling/walkers.hpp"

using namespace boltzmap;

namespace {

struct Figure {
  std::string name;
  int threads;
  double moves_per_s, pairs_per_s, acceptance;
};

Figure measure(const System& sys, const std::vector<float>& start, int walkers, std::uint64_t moves, int threads,
               MoveKernel kernel) {
  omp_set_num_threads(threads);
  WalkerSet ws(sys, 2022, 0, walkers, start);
  ws.run(2000, 0.175f, MoveKernel::fast);  // leave the lattice, so both kernels see a liquid
  // Three timed repetitions; the median is reported (the machine may be shared).
  double times[3];
  std::uint64_t acc = 0;
  for (double& t : times) {
    const auto t0 = std::chrono::steady_clock::now();
    acc = ws.run(moves, 0.175f, kernel);
    t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  std::sort(times, times + 3);
  const double s = times[1];
  const double total = static_cast<double>(walkers) * moves;
  const int n = sys.n_particles;
  const bool naive = kernel == MoveKernel::naive;
  const double pairs_per_move = naive ? static_cast<double>(n) * (n - 1) : 2.0 * (n - 1);
  const char* name = kernel == MoveKernel::fast ? "fast" : naive ? "naive" : "single";
  return {name, threads, total / s, total * pairs_per_move / s, acc / total};
}

}  // namespace

int main(int argc, char** argv) {
  MpiSession mpi(&argc, &argv);
  int walkers = 25000;
  std::uint64_t moves = 1000, naive_moves = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--walkers")) walkers = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--moves")) moves = std::strtoull(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--naive-moves")) naive_moves = std::strtoull(argv[i + 1], nullptr, 10);
  }
  const System sys = bench::system_ia();
  const auto start = make_lattice("centered-square", 2, 32, sys.box.length);
  const int all = omp_get_max_threads();

  std::vector<Figure> figs;
  for (int t : {1, all}) {
    figs.push_back(measure(sys, start, walkers, moves, t, MoveKernel::fast));
    figs.push_back(measure(sys, start, walkers, std::max<std::uint64_t>(1, moves / 4), t, MoveKernel::single));
    // The naive kernel is ~100× slower: fewer walkers keep its run short; the rate is per move.
    figs.push_back(measure(sys, start, std::min(walkers, 2500), naive_moves, t, MoveKernel::naive));
    if (all == 1) break;
  }
  std::printf("{\n  \"benchmark\": \"mcmc\",\n  \"system\": \"IA: LJ eps=1, N=32, 2D, rho=0.735, r_c=3, r_in=0.8, step 0.175\",\n");
  std::printf("  \"walkers\": %d,\n  \"moves_per_walker\": %llu,\n  \"results\": [\n", walkers,
              static_cast<unsigned long long>(moves));
  for (size_t i = 0; i < figs.size(); ++i) {
    const auto& f = figs[i];
    std::printf("    {\"kernel\": \"%s\", \"threads\": %d, \"trial_moves_per_second\": %.4g, "
                "\"pair_evaluations_per_second\": %.4g, \"acceptance\": %.4f}%s\n",
                f.name.c_str(), f.threads, f.moves_per_s, f.pairs_per_s, f.acceptance, i + 1 < figs.size() ? "," : "");
  }
  const double fast_all = figs[figs.size() - 3].moves_per_s, naive_all = figs.back().moves_per_s;
  std::printf("  ],\n  \"speedup_fast_over_naive_all_threads\": %.1f,\n", fast_all / naive_all);
  std::printf("  \"seconds_for_paper_set_25000x10000_moves\": %.1f\n}\n", 25000.0 * 10000.0 / fast_all);
  return 0;
}
