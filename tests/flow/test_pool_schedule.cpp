// PoolSchedule (src/flow/source_pool.hpp) against the steps Trainer::train_epoch takes (an epoch is
// ⌈n_b / batch⌉ steps, the last one smaller; only phases with λ_inv > 0 draw), advance_pool_rows
// in runs against a LocalSourcePool batch (the streamed pool's samplers advance runs of rows and
// must get the same bits), PoolAdvancer's reused engines against advance_pool_rows. The streamed
// pool itself:
// tests/mpi/test_pool_stream.cpp (mpi_pool_stream_np3).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <tuple>
#include <vector>

#include "flow/source_pool.hpp"
#include "parallel/comm.hpp"
#include "support/configs.hpp"

namespace boltzmap {
namespace {

TEST(PoolSchedule, MatchesTheTrainersSteps) {
  for (const std::int64_t nb : {40, 48, 7}) {
    TrainingSettings t;
    t.batch_size = 16;
    t.phases = {{2, 1.0, 1.0, {{0, 1e-3}}}, {1, 1.0, 0.0, {{0, 1e-3}}}, {2, 1.0, 0.5, {{0, 1e-3}}}};
    const PoolSchedule s(t, nb);
    // The trainer's loop: epochs of the phases, steps of `batch` rows over nb.
    std::vector<int> expected;
    for (const auto& ph : t.phases)
      for (std::int64_t e = 0; e < ph.epochs; ++e)
        for (std::int64_t start = 0; start < nb; start += t.batch_size)
          expected.push_back(ph.lambda_inv > 0 ? static_cast<int>(std::min<std::int64_t>(t.batch_size, nb - start)) : 0);
    for (std::size_t step = 0; step < expected.size() + 3; ++step) {
      const int want = step < expected.size() ? expected[step] : 0;
      EXPECT_EQ(s.rows_at(static_cast<std::int64_t>(step)), want) << "n_b " << nb << ", step " << step;
      std::int64_t next = -1;
      for (std::size_t q = step + 1; q < expected.size(); ++q)
        if (expected[q] > 0) {
          next = static_cast<std::int64_t>(q);
          break;
        }
      EXPECT_EQ(s.next_after(static_cast<std::int64_t>(step)), next) << "n_b " << nb << ", step " << step;
    }
    EXPECT_EQ(s.first_from(0), 0);
  }
}

TEST(PoolRows, OneRowAtATimeEqualsALocalBatch) {
  const PoolParams p{test::make_system(PotentialKind::lj, 1.0, 2.5, 0.8, 2, 8, 3.6515), 9, 16, 30, 0.3f};
  const int stride = 16, P = 40, k = 16;
  std::vector<float> pool;
  for (int r = 0; r < P; ++r) {
    const auto x = test::to_float(test::jittered_lattice(p.a, 0.2, 3, r));
    pool.insert(pool.end(), x.begin(), x.end());
  }
  LocalSourcePool local(p, pool, std::nullopt);
  const std::int64_t step = 7;
  const auto batch = local.next_batch(step, k, Range{0, k});
  std::vector<std::int64_t> members, order;
  pool_members(P, p.seed, step, k, order, members);
  // In runs of 5 and 11 rows (a SIMD block and a part of one), as sampler ranks may split it.
  std::vector<float> rows(static_cast<std::size_t>(k) * stride);
  for (const auto& [i0, n] : {std::pair{0, 5}, std::pair{5, 11}}) {
    std::vector<const float*> starts;
    for (int i = i0; i < i0 + n; ++i) starts.push_back(pool.data() + members[i] * stride);
    advance_pool_rows(p, step, i0, starts, rows.data() + i0 * stride);
  }
  for (int i = 0; i < k; ++i) {
    EXPECT_EQ(std::memcmp(rows.data() + i * stride, batch.data() + i * stride, stride * sizeof(float)), 0) << "row " << i;
    EXPECT_NE(std::memcmp(rows.data() + i * stride, pool.data() + members[i] * stride, stride * sizeof(float)), 0) << "row " << i << " moved";
  }
}

// PoolAdvancer keeps one engine per row count and reset()s it for every refresh: the rows of every
// refresh, whatever was advanced before on the same engine, are advance_pool_rows's bit for bit.
TEST(PoolRows, AReusedEngineEqualsAFreshWalkerSet) {
  const PoolParams p{test::make_system(PotentialKind::lj, 1.0, 2.5, 0.8, 2, 8, 3.6515), 9, 16, 30, 0.3f};
  const int stride = 16, P = 40;
  std::vector<float> pool;
  for (int r = 0; r < P; ++r) {
    const auto x = test::to_float(test::jittered_lattice(p.a, 0.2, 4, r));
    pool.insert(pool.end(), x.begin(), x.end());
  }
  PoolAdvancer mc;
  EXPECT_EQ(mc.kind(), McEngineKind::cpu);
  // (step, first row, rows): a count seen before comes back after another one.
  for (const auto& [step, i0, n] : {std::tuple{3, 0, 16}, std::tuple{4, 0, 16}, std::tuple{5, 11, 5}, std::tuple{6, 0, 16}}) {
    SCOPED_TRACE("step " + std::to_string(step));
    std::vector<const float*> starts;
    for (int i = 0; i < n; ++i) starts.push_back(pool.data() + ((7 * (i + i0) + step) % P) * stride);
    std::vector<float> want(static_cast<std::size_t>(n) * stride), got(want.size(), std::nanf(""));
    advance_pool_rows(p, step, i0, starts, want.data());
    mc.advance(p, step, i0, starts, got.data());
    EXPECT_EQ(std::memcmp(want.data(), got.data(), want.size() * sizeof(float)), 0);
    for (int i = 0; i < n; ++i)
      EXPECT_NE(std::memcmp(got.data() + i * stride, starts[i], stride * sizeof(float)), 0) << "row " << i << " moved";
  }
}

}  // namespace
}  // namespace boltzmap
