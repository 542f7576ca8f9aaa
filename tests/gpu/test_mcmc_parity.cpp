// The CUDA MC engine (kernels/mcmc.cu behind src/sampling/mc_engine.hpp) against the CPU engine,
// on fresh random inputs (seed printed; BOLTZMAP_TEST_SEED replays one) with poisoned outputs:
//  * Parity.TrajectoriesIdentical: the first 10⁴ moves of every walker are the CPU's bit for bit
//    (configurations, tracked energies, accepted counts, recomputed energies and drift). The only
//    admitted difference is a walker whose chain had a near-tie (|u − e^{−βΔU}| ≤ 4 ulp: CUDA's
//    exp and glibc's may round differently there), counted by the scalar replay
//    (tests/support/mc_replay.hpp) and printed; a diverged walker without one fails.
//  * Parity.StatisticallyEqual: independent walkers (other Philox streams) over a longer run: the
//    acceptance and ⟨U⟩/N of the two engines agree within 5 combined standard errors (the spread
//    over 16 independent groups of walkers per engine; 5σ: a false alarm about once in 10⁶ runs).
//  * Parity.StartFinishIsRun: start() + finish() on the CUDA engine (the host busy, and refused a
//    read of the state, while the run is in flight) makes the chains of run() on the CUDA engine
//    bit for bit, counts included, and those of the CPU engine but for near-tied walkers, as above;
//    configurations() after finish() are the CPU's.
//  * Parity.PoolOnTheGpuIsTheCpusPool: the source pool's refreshes on the CUDA engine
//    (PoolAdvancer) are advance_pool_rows's rows on the CPU but for near-tied walkers.
//  * CudaEngine.RecomputeIsTheHostEnergy: the device's O(N²) energies equal total_energy_soa on
//    the host for the configurations it returns.
// Every case skips without a GPU, and fails instead with BOLTZMAP_REQUIRE_GPU=1 (gpu_test.hpp).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <tuple>
#include <vector>

#include "core/error.hpp"
#include "gpu_test.hpp"
#include "flow/source_pool.hpp"
#include "sampling/mc_engine.hpp"
#include "support/configs.hpp"
#include "support/mc_cases.hpp"
#include "support/mc_replay.hpp"

namespace boltzmap {
namespace {

std::vector<float> poisoned_configs(McEngine& e) {
  std::vector<float> out(static_cast<size_t>(e.count()) * e.system().n_particles * e.system().box.dimension,
                         std::nanf(""));
  e.configurations(out);
  for (float v : out)
    if (std::isnan(v)) {
      ADD_FAILURE() << "configurations() left a poisoned element";
      break;
    }
  return out;
}

std::vector<double> energies(McEngine& e) {
  const auto s = e.energies();
  return {s.begin(), s.end()};
}

// The near-ties of walker `walker`'s chain from `start` ([particle][dim]) over `moves` moves from
// counter 0, by the scalar replay (tests/support/mc_replay.hpp): a walker whose GPU chain differs
// from the CPU's is explained when this is > 0.
std::uint64_t near_ties(const MoveParams& mp, const System& s, const float* start, std::uint32_t walker,
                        std::uint64_t moves, float step) {
  const int D = s.box.dimension, n = s.n_particles;
  std::vector<float> x(static_cast<std::size_t>(n) * D);
  for (int i = 0; i < n; ++i)
    for (int d = 0; d < D; ++d) x[d * n + i] = start[i * D + d];
  double e = 0;
  test::ReplayCounts rc;
  if (D == 2) test::replay_moves<2>(mp, x.data(), e, walker, 0, moves, step, rc);
  else test::replay_moves<3>(mp, x.data(), e, walker, 0, moves, step, rc);
  return rc.near_ties;
}

TEST(Parity, TrajectoriesIdentical) {
  BOLTZMAP_GPU_OR_SKIP();
  const std::uint64_t seed = test::fresh_seed();
  for (const test::EngineCase& c : test::engine_cases()) {
    SCOPED_TRACE(std::string(c.name) + ", seed " + std::to_string(seed) + " (BOLTZMAP_TEST_SEED replays it)");
    const int D = c.s.box.dimension, n = c.s.n_particles, stride = n * D;
    const int W = 1000 + 37;  // not a multiple of the warps per block
    const std::uint32_t first = 333;
    const std::uint64_t chunk = 2500, chunks = 4;  // 10⁴ moves, a recompute after each chunk
    const std::vector<float> start = test::to_float(test::jittered_lattice(c.s, 0.15, seed, 7));
    auto cpu = make_cpu_engine(c.s, seed, first, W, start);
    auto gpu = make_cuda_engine(c.s, seed, first, W, start);
    ASSERT_EQ(gpu->kind(), McEngineKind::cuda);
    EXPECT_EQ(energies(*gpu), energies(*cpu)) << "starting energies";
    std::uint64_t acc_cpu = 0, acc_gpu = 0;
    double drift_cpu = 0, drift_gpu = 0;
    for (std::uint64_t k = 0; k < chunks; ++k) {
      acc_cpu += cpu->run(chunk, c.step);
      acc_gpu += gpu->run(chunk, c.step);
      drift_cpu = std::max(drift_cpu, cpu->recompute_energies());
      drift_gpu = std::max(drift_gpu, gpu->recompute_energies());
    }
    EXPECT_EQ(gpu->moves_done(), chunk * chunks);
    const std::vector<float> xc = poisoned_configs(*cpu), xg = poisoned_configs(*gpu);
    const std::vector<double> ec = energies(*cpu), eg = energies(*gpu);

    // Which walkers differ, and whether a near-tie explains each.
    const MoveParams mp = make_move_params(c.s, seed);
    int diverged = 0, unexplained = 0;
    std::uint64_t ties_total = 0;
    for (int w = 0; w < W; ++w) {
      const bool same = std::memcmp(&xc[static_cast<size_t>(w) * stride], &xg[static_cast<size_t>(w) * stride],
                                    sizeof(float) * stride) == 0 && ec[w] == eg[w];
      const std::uint64_t ties = near_ties(mp, c.s, start.data(), first + w, chunk * chunks, c.step);
      ties_total += ties;
      if (!same) {
        ++diverged;
        if (ties == 0) {
          ++unexplained;
          if (unexplained <= 5) ADD_FAILURE() << "walker " << first + w << " differs from the CPU with no near-tie";
        }
      }
    }
    std::printf("[ parity ] %s: %d walkers x %llu moves: %d diverged, %llu near-ties (seed %llu)\n", c.name, W,
                static_cast<unsigned long long>(chunk * chunks), diverged, static_cast<unsigned long long>(ties_total),
                static_cast<unsigned long long>(seed));
    EXPECT_EQ(unexplained, 0);
    if (diverged == 0) {
      EXPECT_EQ(acc_gpu, acc_cpu);
      EXPECT_EQ(drift_gpu, drift_cpu);
    }
    EXPECT_GT(acc_gpu, 0u);
  }
}

TEST(Parity, StartFinishIsRun) {
  BOLTZMAP_GPU_OR_SKIP();
  const std::uint64_t seed = test::fresh_seed();
  for (const test::EngineCase& c : test::engine_cases()) {
    SCOPED_TRACE(std::string(c.name) + ", seed " + std::to_string(seed) + " (BOLTZMAP_TEST_SEED replays it)");
    const int D = c.s.box.dimension, n = c.s.n_particles, stride = n * D;
    const int W = 1000 + 37;
    const std::uint32_t first = 91;
    const std::uint64_t chunk = 2000, chunks = 3;
    const std::vector<float> start = test::to_float(test::jittered_lattice(c.s, 0.15, seed, 10));
    auto cpu = make_cpu_engine(c.s, seed, first, W, start);
    auto by_run = make_cuda_engine(c.s, seed, first, W, start);
    auto split = make_cuda_engine(c.s, seed, first, W, start);
    std::uint64_t acc_cpu = 0, acc_run = 0, acc_split = 0;
    for (std::uint64_t k = 0; k < chunks; ++k) {
      acc_cpu += cpu->run(chunk, c.step);
      acc_run += by_run->run(chunk, c.step);
      split->start(chunk, c.step);
      // The host is free while the walkers move: it is refused the state, and may busy itself.
      EXPECT_THROW(split->energies(), Error);
      EXPECT_EQ(split->moves_done(), k * chunk);
      const auto t0 = std::chrono::steady_clock::now();
      while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(2)) {
      }
      acc_split += split->finish();
      EXPECT_EQ(split->moves_done(), (k + 1) * chunk);
      cpu->recompute_energies();
      EXPECT_EQ(split->recompute_energies(), by_run->recompute_energies());
    }
    EXPECT_EQ(acc_split, acc_run) << "start/finish counted other moves than run()";
    const std::vector<float> xc = poisoned_configs(*cpu), xr = poisoned_configs(*by_run), xs = poisoned_configs(*split);
    const std::vector<double> ec = energies(*cpu), er = energies(*by_run), es = energies(*split);
    EXPECT_EQ(0, std::memcmp(xr.data(), xs.data(), xr.size() * sizeof(float))) << "start/finish vs run() on the GPU";
    EXPECT_EQ(er, es);

    const MoveParams mp = make_move_params(c.s, seed);
    int diverged = 0, unexplained = 0;
    for (int w = 0; w < W; ++w) {
      const bool same = std::memcmp(&xc[static_cast<size_t>(w) * stride], &xs[static_cast<size_t>(w) * stride],
                                    sizeof(float) * stride) == 0 && ec[w] == es[w];
      if (same) continue;
      ++diverged;
      if (near_ties(mp, c.s, start.data(), first + w, chunk * chunks, c.step) == 0) {
        ++unexplained;
        if (unexplained <= 5) ADD_FAILURE() << "walker " << first + w << " (start/finish) differs from the CPU with no near-tie";
      }
    }
    std::printf("[ parity ] %s start/finish: %d walkers x %llu moves: %d diverged from the CPU (seed %llu)\n", c.name,
                W, static_cast<unsigned long long>(chunk * chunks), diverged, static_cast<unsigned long long>(seed));
    EXPECT_EQ(unexplained, 0);
    if (diverged == 0) {
      EXPECT_EQ(acc_split, acc_cpu);
    }
    EXPECT_GT(acc_split, 0u);
  }
}

// The source pool's refreshes on the GPU (flow/source_pool.hpp, PoolAdvancer with the CUDA engine,
// reset() between refreshes, a count coming back after another) against advance_pool_rows on the
// CPU: every row bit for bit but for near-tied walkers, explained by the replay as above.
TEST(Parity, PoolOnTheGpuIsTheCpusPool) {
  BOLTZMAP_GPU_OR_SKIP();
  const std::uint64_t seed = test::fresh_seed();
  for (const test::EngineCase& c : test::engine_cases()) {
    SCOPED_TRACE(std::string(c.name) + ", seed " + std::to_string(seed) + " (BOLTZMAP_TEST_SEED replays it)");
    const int D = c.s.box.dimension, n = c.s.n_particles, stride = n * D, P = 300;
    const PoolParams p{c.s, seed, 256, 500, c.step};
    std::vector<float> pool;
    for (int r = 0; r < P; ++r) {
      const auto x = test::to_float(test::jittered_lattice(c.s, 0.15, seed, 1000 + r));
      pool.insert(pool.end(), x.begin(), x.end());
    }
    PoolAdvancer gpu(McEngineKind::cuda);
    const MoveParams mp = make_move_params(c.s, seed);
    int rows_done = 0, diverged = 0, unexplained = 0;
    for (const auto& [step, i0, k] : {std::tuple{0, 0, 256}, std::tuple{1, 100, 77}, std::tuple{2, 0, 256}}) {
      std::vector<const float*> starts;
      for (int i = 0; i < k; ++i) starts.push_back(pool.data() + ((13 * (i + i0) + step) % P) * stride);
      std::vector<float> want(static_cast<std::size_t>(k) * stride), got(want.size(), std::nanf(""));
      advance_pool_rows(p, step, i0, starts, want.data());
      gpu.advance(p, step, i0, starts, got.data());
      for (int w = 0; w < k; ++w) {
        ++rows_done;
        if (std::memcmp(want.data() + w * stride, got.data() + w * stride, sizeof(float) * stride) == 0) continue;
        ++diverged;
        const auto walker = static_cast<std::uint32_t>(step * p.batch_size + i0 + w);
        if (near_ties(mp, c.s, starts[w], walker, static_cast<std::uint64_t>(p.mc_steps), c.step) == 0 && ++unexplained <= 5)
          ADD_FAILURE() << "step " << step << ", row " << i0 + w << ": the GPU pool differs from the CPU's with no near-tie";
      }
    }
    std::printf("[ parity ] %s pool: %d rows x %lld moves on the GPU: %d diverged from the CPU (near-ties)\n", c.name,
                rows_done, static_cast<long long>(p.mc_steps), diverged);
    EXPECT_EQ(unexplained, 0);
  }
}

struct GroupStats {
  double mean = 0, se = 0;
};
GroupStats over_groups(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m += x;
  m /= v.size();
  double s2 = 0;
  for (double x : v) s2 += (x - m) * (x - m);
  return {m, std::sqrt(s2 / (v.size() - 1) / v.size())};
}

TEST(Parity, StatisticallyEqual) {
  BOLTZMAP_GPU_OR_SKIP();
  const std::uint64_t seed = test::fresh_seed();
  for (const test::EngineCase& c : test::engine_cases()) {
    SCOPED_TRACE(std::string(c.name) + ", seed " + std::to_string(seed));
    const int groups = 16, per_group = 64, n = c.s.n_particles;
    const std::uint64_t equilibration = 5000, between = 500, saves = 30;
    const std::vector<float> start = test::to_float(test::jittered_lattice(c.s, 0.15, seed, 8));
    std::vector<double> acc[2], u[2];  // [engine][group]
    for (int g = 0; g < groups; ++g)
      for (int k = 0; k < 2; ++k) {
        // Disjoint walker ranges: the CPU groups use walkers 0…, the GPU groups the ones after
        // them, so the two samples are independent.
        const std::uint32_t first = static_cast<std::uint32_t>((k * groups + g) * per_group);
        auto e = k == 0 ? make_cpu_engine(c.s, seed, first, per_group, start)
                        : make_cuda_engine(c.s, seed, first, per_group, start);
        e->run(equilibration, c.step);
        std::uint64_t a = 0;
        double usum = 0;
        for (std::uint64_t s = 0; s < saves; ++s) {
          a += e->run(between, c.step);
          e->recompute_energies();
          for (double x : e->energies()) usum += x / n;
        }
        acc[k].push_back(static_cast<double>(a) / (static_cast<double>(per_group) * between * saves));
        u[k].push_back(usum / (static_cast<double>(per_group) * saves));
      }
    const GroupStats ac = over_groups(acc[0]), ag = over_groups(acc[1]), uc = over_groups(u[0]), ug = over_groups(u[1]);
    std::printf("[ parity ] %s: acceptance cpu %.5f ± %.5f, gpu %.5f ± %.5f; <U>/N cpu %.5f ± %.5f, gpu %.5f ± %.5f\n",
                c.name, ac.mean, ac.se, ag.mean, ag.se, uc.mean, uc.se, ug.mean, ug.se);
    ASSERT_GT(ac.se, 0.0);
    ASSERT_GT(uc.se, 0.0);
    EXPECT_LE(std::abs(ag.mean - ac.mean), 5 * std::hypot(ac.se, ag.se));
    EXPECT_LE(std::abs(ug.mean - uc.mean), 5 * std::hypot(uc.se, ug.se));
  }
}

TEST(CudaEngine, RecomputeIsTheHostEnergy) {
  BOLTZMAP_GPU_OR_SKIP();
  const std::uint64_t seed = test::fresh_seed();
  for (const test::EngineCase& c : test::engine_cases()) {
    SCOPED_TRACE(std::string(c.name) + ", seed " + std::to_string(seed));
    const int W = 300, D = c.s.box.dimension, n = c.s.n_particles, stride = n * D;
    auto gpu = make_cuda_engine(c.s, seed, 0, W, test::to_float(test::jittered_lattice(c.s, 0.15, seed, 9)));
    gpu->run(1500, c.step);
    const double drift = gpu->recompute_energies();
    EXPECT_GE(drift, 0.0);
    EXPECT_LT(drift, 1e-2 * n) << "the tracked energies drifted far from the recomputed ones";
    const std::vector<float> x = poisoned_configs(*gpu);
    const std::vector<double> e = energies(*gpu);
    const MoveParams mp = make_move_params(c.s, seed);
    for (int w = 0; w < W; ++w) {
      std::vector<float> soa(stride);
      for (int i = 0; i < n; ++i)
        for (int d = 0; d < D; ++d) soa[d * n + i] = x[static_cast<size_t>(w) * stride + i * D + d];
      const double host = D == 2 ? total_energy_soa<2>(mp, soa.data()) : total_energy_soa<3>(mp, soa.data());
      ASSERT_EQ(e[w], host) << "walker " << w;
      // and the host reference of physics/energy.hpp, to double rounding
      const double ref = total_energy<float>(c.s, std::span<const float>(x.data() + static_cast<size_t>(w) * stride, stride));
      ASSERT_NEAR(e[w], ref, 1e-9 * (1 + std::abs(ref))) << "walker " << w;
    }
  }
}

}  // namespace
}  // namespace boltzmap
