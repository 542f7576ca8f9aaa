// The MC engine seam (src/sampling/mc_engine.hpp) on the CPU: the CPU engine is WalkerSet (the
// same chains, energies, drift and checkpoint state), its block kernel makes exactly the moves of
// the partner-ordered replay that the CUDA kernel follows (tests/support/mc_replay.hpp: so the GPU
// twin is held to the CPU's bits), start() + finish() is run() (the same chains, counts, energies
// and drift; moves_done() counts a run once it is finished), a call that reads or changes the
// state while a run is in flight is refused (ExitCode::failure) and changes nothing, and
// make_cuda_engine refuses with exit 6 where no GPU is usable.
// The CUDA engine itself: tests/gpu/test_mcmc_parity.cpp.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>
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

// start() + finish() makes the chains run() makes: the same accepted counts, energies, drift and
// configurations, chunk by chunk; moves_done() counts a run only once finish() returns, and a run
// of 0 moves is a run (0 accepted, nothing moved).
TEST(McEngine, StartFinishIsRun) {
  constexpr std::uint64_t seed = 1618;
  for (const EngineCase& c : cases()) {
    SCOPED_TRACE(c.name);
    const std::vector<float> start = test::to_float(test::jittered_lattice(c.s, 0.1, seed, 3));
    const int W = 19;
    auto by_run = make_cpu_engine(c.s, seed, 7, W, start);
    auto split = make_cpu_engine(c.s, seed, 7, W, start);
    std::uint64_t total = 0;
    for (const std::uint64_t moves : {250u, 0u, 400u}) {
      const std::uint64_t want = by_run->run(moves, c.step);
      EXPECT_FALSE(split->in_flight());
      split->start(moves, c.step);
      EXPECT_TRUE(split->in_flight());
      EXPECT_EQ(split->moves_done(), total) << "a started run counts only once finished";
      EXPECT_EQ(split->count(), W);  // what does not read the walkers' state is allowed in flight
      EXPECT_EQ(split->first_walker(), 7u);
      EXPECT_EQ(split->finish(), want) << moves << " moves";
      EXPECT_FALSE(split->in_flight());
      total += moves;
      EXPECT_EQ(split->moves_done(), total);
      EXPECT_EQ(split->recompute_energies(), by_run->recompute_energies());
    }
    EXPECT_EQ(by_run->moves_done(), total);
    const std::vector<float> a = all_configs(*by_run), b = all_configs(*split);
    EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)));
    const auto ea = by_run->energies(), eb = split->energies();
    EXPECT_EQ(std::vector<double>(ea.begin(), ea.end()), std::vector<double>(eb.begin(), eb.end()));
  }
}

// While a run is in flight, a second start(), energies(), configurations(), recompute_energies()
// and restore() are refused with ExitCode::failure naming the call and "in flight", and change
// nothing (the engine then finishes to the chains of an engine that was never misused); finish()
// without a run in flight is refused too.
TEST(McEngine, InFlightCallsAreRefused) {
  constexpr std::uint64_t seed = 31415;
  const EngineCase c = cases().front();
  const std::vector<float> start = test::to_float(test::jittered_lattice(c.s, 0.1, seed, 4));
  const int W = 17;
  auto engine = make_cpu_engine(c.s, seed, 0, W, start);
  auto ref = make_cpu_engine(c.s, seed, 0, W, start);
  auto refused = [](const std::string& call, const std::string& says, const std::function<void()>& f) {
    try {
      f();
      ADD_FAILURE() << call << " succeeded";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::failure) << e.what();
      EXPECT_NE(std::string(e.what()).find(call), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
    }
  };
  refused("finish", "no run in flight", [&] { engine->finish(); });
  std::vector<float> configs = all_configs(*engine);
  const auto e0 = engine->energies();
  const std::vector<double> energies(e0.begin(), e0.end());

  engine->start(300, c.step);
  refused("start", "in flight", [&] { engine->start(300, c.step); });
  refused("energies", "in flight", [&] { engine->energies(); });
  refused("configurations", "in flight", [&] { engine->configurations(configs); });
  refused("recompute_energies", "in flight", [&] { engine->recompute_energies(); });
  refused("restore", "in flight", [&] { engine->restore(configs, energies, 0); });
  refused("reset", "in flight", [&] { engine->reset(3, configs); });
  EXPECT_TRUE(engine->in_flight());
  EXPECT_EQ(engine->moves_done(), 0u);
  EXPECT_EQ(engine->finish(), ref->run(300, c.step));
  refused("finish", "no run in flight", [&] { engine->finish(); });
  EXPECT_EQ(engine->moves_done(), 300u);
  EXPECT_EQ(all_configs(*engine), all_configs(*ref));
  const auto a = engine->energies(), b = ref->energies();
  EXPECT_EQ(std::vector<double>(a.begin(), a.end()), std::vector<double>(b.begin(), b.end()));
  // and it goes on as usual
  EXPECT_EQ(engine->run(100, c.step), ref->run(100, c.step));
  EXPECT_EQ(engine->moves_done(), 400u);
}

// reset(first, configs) is the engine a new one with those walkers would be: the same chains from
// there (walker ids first + w, RNG counters from 0), whatever the engine did before.
TEST(McEngine, ResetIsAFreshEngine) {
  constexpr std::uint64_t seed = 2718;
  for (const EngineCase& c : cases()) {
    SCOPED_TRACE(c.name);
    const int W = 19, stride = c.s.n_particles * c.s.box.dimension;
    const std::vector<float> start = test::to_float(test::jittered_lattice(c.s, 0.1, seed, 5));
    auto engine = make_cpu_engine(c.s, seed, 0, W, start);
    engine->run(250, c.step);  // a history that reset must forget
    std::vector<float> configs;
    for (int w = 0; w < W; ++w) {
      const auto x = test::to_float(test::jittered_lattice(c.s, 0.15, seed, 100 + w));
      configs.insert(configs.end(), x.begin(), x.end());
    }
    engine->reset(4000, configs);
    EXPECT_EQ(engine->moves_done(), 0u);
    EXPECT_EQ(engine->first_walker(), 4000u);
    EXPECT_EQ(all_configs(*engine), configs);
    WalkerSet ref(c.s, seed, 4000, W, std::span<const float>(configs.data(), stride));
    for (int w = 0; w < W; ++w) ref.set_configuration(w, std::span<const float>(configs.data() + w * stride, stride));
    const auto e = engine->energies();
    EXPECT_EQ(std::vector<double>(e.begin(), e.end()), std::vector<double>(ref.energies().begin(), ref.energies().end()));
    EXPECT_EQ(engine->run(300, c.step), ref.run(300, c.step));
    std::vector<float> want(configs.size());
    for (int w = 0; w < W; ++w) ref.configuration(w, std::span<float>(want.data() + w * stride, stride));
    EXPECT_EQ(all_configs(*engine), want);
    EXPECT_THROW(engine->reset(0, std::span<const float>(configs.data(), configs.size() - 1)), Error);
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
