// The MC engine seam (src/sampling/mc_engine.hpp) on the CPU: the CPU engine is WalkerSet (the
// same chains, energies, drift and checkpoint state), its block kernel makes exactly the moves of
// the partner-ordered replay that the CUDA kernel follows (tests/support/mc_replay.hpp: so the GPU
// twin is held to the CPU's bits), and make_cuda_engine refuses with exit 6 where no GPU is usable.
// The CUDA engine itself: tests/gpu/test_mcmc_parity.cpp.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "core/backend.hpp"
#include "core/error.hpp"
#include "sampling/mc_engine.hpp"
#include "sampling/walkers.hpp"
#include "support/configs.hpp"
#include "support/mc_cases.hpp"
#include "support/mc_replay.hpp"

namespace boltzmap {
namespace {

using test::EngineCase;
const auto cases = test::engine_cases;

std::vector<float> all_configs(McEngine& e) {
  std::vector<float> out(static_cast<size_t>(e.count()) * e.system().n_particles * e.system().box.dimension,
                         std::nanf(""));  // poisoned: every element must be written
  e.configurations(out);
  return out;
}

TEST(McEngine, CpuEngineIsTheWalkerSet) {
  constexpr std::uint64_t seed = 4711;
  for (const EngineCase& c : cases()) {
    SCOPED_TRACE(c.name);
    const std::vector<float> start = test::to_float(test::jittered_lattice(c.s, 0.1, seed, 1));
    const int W = 21, stride = c.s.n_particles * c.s.box.dimension;
    auto engine = make_cpu_engine(c.s, seed, 5, W, start);
    WalkerSet ref(c.s, seed, 5, W, start);
    EXPECT_EQ(engine->kind(), McEngineKind::cpu);
    EXPECT_EQ(engine->count(), W);
    EXPECT_EQ(engine->first_walker(), 5u);
    for (int round = 0; round < 2; ++round) {
      EXPECT_EQ(engine->run(300, c.step), ref.run(300, c.step));
      EXPECT_EQ(engine->recompute_energies(), ref.recompute_energies());
    }
    EXPECT_EQ(engine->moves_done(), 600u);
    const std::vector<float> got = all_configs(*engine);
    std::vector<float> want(got.size());
    for (int w = 0; w < W; ++w) ref.configuration(w, std::span<float>(want.data() + w * stride, stride));
    EXPECT_EQ(0, std::memcmp(got.data(), want.data(), got.size() * sizeof(float)));
    const auto e = engine->energies(), r = ref.energies();
    EXPECT_EQ(std::vector<double>(e.begin(), e.end()), std::vector<double>(r.begin(), r.end()));

    // A checkpoint's state restored into a fresh engine continues the same chains.
    auto resumed = make_cpu_engine(c.s, seed, 5, W, start);
    const std::vector<double> energies(e.begin(), e.end());
    resumed->restore(got, energies, engine->moves_done());
    EXPECT_EQ(resumed->run(200, c.step), engine->run(200, c.step));
    EXPECT_EQ(all_configs(*resumed), all_configs(*engine));
  }
}

// The CPU engine (blocks of 16 walkers in SIMD lanes) makes, bit for bit, the moves of the scalar
// replay in the CUDA kernel's order: 10⁴ moves for the paper's system, 3000 for the others; every
// case exercises the double re-evaluation (close_moves > 0), so both paths are compared.
TEST(McEngine, BlockKernelMakesThePartnerOrderedMoves) {
  constexpr std::uint64_t seed = 2718;
  for (const EngineCase& c : cases()) {
    SCOPED_TRACE(c.name);
    const int W = 19, D = c.s.box.dimension, n = c.s.n_particles, stride = n * D;  // 19: a partial block
    const std::uint64_t moves = n == 32 && D == 2 ? 10000 : 3000;
    const std::vector<float> start = test::to_float(test::jittered_lattice(c.s, 0.15, seed, 2));
    auto engine = make_cpu_engine(c.s, seed, 100, W, start);
    const std::uint64_t acc = engine->run(moves / 2, c.step) + engine->run(moves - moves / 2, c.step);
    const std::vector<float> got = all_configs(*engine);
    const auto energies = engine->energies();

    const MoveParams mp = make_move_params(c.s, seed);
    test::ReplayCounts counts;
    for (int w = 0; w < W; ++w) {
      std::vector<float> x(stride);  // [dim][particle]
      for (int i = 0; i < n; ++i)
        for (int d = 0; d < D; ++d) x[d * n + i] = start[i * D + d];
      double e = D == 2 ? total_energy_soa<2>(mp, x.data()) : total_energy_soa<3>(mp, x.data());
      if (D == 2) test::replay_moves<2>(mp, x.data(), e, 100 + w, 0, moves, c.step, counts);
      else test::replay_moves<3>(mp, x.data(), e, 100 + w, 0, moves, c.step, counts);
      bool same = true;
      for (int i = 0; i < n; ++i)
        for (int d = 0; d < D; ++d) same = same && std::memcmp(&x[d * n + i], &got[w * stride + i * D + d], sizeof(float)) == 0;
      EXPECT_TRUE(same) << "walker " << w << " seed " << seed;
      EXPECT_EQ(e, energies[w]) << "walker " << w << " seed " << seed;
    }
    EXPECT_EQ(counts.accepted, acc);
    EXPECT_GT(counts.close_moves, 0u) << "the double re-evaluation was never exercised";
    EXPECT_GT(counts.accepted, 0u);
    EXPECT_LT(counts.accepted, static_cast<std::uint64_t>(W) * moves);
  }
}

TEST(McEngine, CudaEngineRefusedWithoutAUsableGpu) {
  const Accelerators acc = probe_accelerators();
  if (acc.cuda_usable()) GTEST_SKIP() << "a GPU is visible: tests/gpu test the CUDA engine";
  const EngineCase c = cases().front();
  const std::vector<float> start = make_lattice("centered-square", 2, 32, c.s.box.length);
  try {
    make_cuda_engine(c.s, 1, 0, 4, start);
    FAIL() << "make_cuda_engine succeeded without a usable GPU";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::backend) << e.what();
  }
  EXPECT_EQ(cuda_engine_compiled(), acc.cuda_compiled);
}

}  // namespace
}  // namespace boltzmap
