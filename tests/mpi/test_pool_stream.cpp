// mpi_pool_stream_np3 (and np2): the streamed source pool (src/flow/pool_stream.hpp) against a
// LocalSourcePool of the same rows, step by step. World rank 0 is the one trainer; the other ranks
// are sampler ranks that serve it. Every batch and the pool after every commit must be bitwise the
// local pool's, including the cases the training loop rarely meets: a rejected step (no commit:
// the samplers guessed "accepted" for the next batch's overlapping rows and must redo them), a
// request that is not the scheduled step, an epoch's last (smaller) batch, a restore (the samplers
// get the restored rows), and a pool smaller than the batch (draws with replacement, duplicates).
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "flow/pool_stream.hpp"
#include "flow/source_pool.hpp"
#include "parallel/comm.hpp"
#include "support/configs.hpp"

namespace boltzmap {
namespace {

constexpr int kN = 8, kD = 2, kBatch = 16, kBRows = 40;  // 3 steps per epoch: 16, 16, 8 rows

PoolParams params() {
  return {test::make_system(PotentialKind::lj, 1.0, 2.5, 0.8, kD, kN, 3.6515), 77, kBatch, 20, 0.3f};
}

TrainingSettings schedule() {  // epoch 0 draws nothing; epochs 1–3 draw
  TrainingSettings t;
  t.batch_size = kBatch;
  t.phases = {{1, 1.0, 0.0, {{0, 1e-3}}}, {3, 1.0, 1.0, {{0, 1e-3}}}};
  return t;
}

std::vector<float> rows(int P, std::uint32_t id0) {
  std::vector<float> out;
  for (int r = 0; r < P; ++r) {
    const auto x = test::to_float(test::jittered_lattice(params().a, 0.2, 5, id0 + r));
    out.insert(out.end(), x.begin(), x.end());
  }
  return out;
}

bool same_bits(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// One (step, k, accepted) after another on both pools; the samplers serve until rank 0 stops them.
struct Call {
  std::int64_t step;
  int k;
  bool commit;
};

void run_case(int P, const std::vector<Call>& calls, bool restore_midway) {
  const Comm world;
  ASSERT_GE(world.size(), 2) << "run under mpiexec -n 2 or more";
  PoolLink link{world.duplicate(), 1};
  const Comm group = world.split(world.rank() == 0 ? Role::trainer : Role::sampler);
  if (world.rank() > 0) {
    PoolServer server(params(), schedule(), link, group);
    while (!server.stopped()) server.poll();
    return;
  }
  LocalSourcePool local(params(), rows(P, 0), std::nullopt);
  StreamedSourcePool streamed(params(), rows(P, 0), link, kBRows);
  for (std::size_t c = 0; c < calls.size(); ++c) {
    const Call& call = calls[c];
    if (restore_midway && c == calls.size() / 2) {
      local.restore(rows(P, 1000));
      streamed.restore(rows(P, 1000));
    }
    const Range all{0, call.k};
    const auto a = local.next_batch(call.step, call.k, all);
    const auto b = streamed.next_batch(call.step, call.k, all);
    EXPECT_TRUE(same_bits(a, b)) << "P " << P << ", call " << c << " (step " << call.step << ", k " << call.k << ")";
    if (call.commit) {
      local.commit();
      streamed.commit();
    }
    EXPECT_TRUE(same_bits(local.contents(), streamed.contents())) << "P " << P << ", after call " << c;
  }
  const PoolStats st = stop_pool_servers(link);
  EXPECT_EQ(st.batches, static_cast<std::int64_t>(calls.size() * (world.size() - 1)));
  EXPECT_GT(st.busy_seconds, 0.0);
  // The pool moved: the MC changed the drawn members.
  EXPECT_FALSE(same_bits(local.contents(), rows(P, restore_midway ? 1000 : 0)));
}

// Steps 3–11 are the scheduled ones (5 and 8 are epochs' last, 8-row batches).
const std::vector<Call> kCalls = {{3, 16, true}, {4, 16, true}, {5, 8, false},  // 5 rejected
                                  {6, 16, true}, {7, 16, false}, {8, 8, true},  // 7 rejected
                                  {9, 16, true}, {20, 16, true},                // 20: not scheduled
                                  {10, 16, true}, {11, 8, true}};

TEST(PoolStream, LargePoolEqualsLocal) { run_case(40, kCalls, false); }
TEST(PoolStream, RestoredPoolEqualsLocal) { run_case(40, kCalls, true); }
TEST(PoolStream, PoolSmallerThanBatchEqualsLocal) { run_case(10, kCalls, false); }  // with replacement

}  // namespace
}  // namespace boltzmap
