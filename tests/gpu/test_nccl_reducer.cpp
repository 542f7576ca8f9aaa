// mpi_gpu_nccl_reducer_np2 (parallel/gradient_reducer_nccl.hpp), under mpiexec -n 2: the NCCL
// reducer's sums are exact by construction (STYLE 14): rank r holds v_i = (r + 1)·(i mod 4096) − i
// mod 7, integers far below 2²⁴, so every partial sum is exact in float32 in any order and the
// result must equal the integer formula bit for bit — through the host path (staged) and the
// device path, and equal to MPI's sum of the same inputs.
// One GPU per rank is what NCCL needs for a two-rank communicator. On a machine with one GPU
// (the lent H200) the two-rank case is skipped, saying so — BOLTZMAP_REQUIRE_GPUS=2 makes that a
// failure — and the reducer is still checked on each rank's own one-rank communicator (NCCL's
// setup, the unique id broadcast, both paths, the sizes).
// Without a GPU every case is skipped (BOLTZMAP_REQUIRE_GPU=1: failure), as in all of tests/gpu.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "core/backend.hpp"
#include "cuda_check.cuh"
#include "gpu_test.hpp"
#include "parallel/comm.hpp"
#include "parallel/gradient_reducer.hpp"
#include "parallel/gradient_reducer_nccl.hpp"

namespace boltzmap {
namespace {

std::vector<float> rank_values(int rank, std::size_t n) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<float>((rank + 1) * static_cast<long>(i % 4096) - static_cast<long>(i % 7));
  return v;
}

std::vector<float> expected_sum(int ranks, std::size_t n) {
  std::vector<float> s(n, 0.0f);
  for (int r = 0; r < ranks; ++r) {
    const auto v = rank_values(r, n);
    for (std::size_t i = 0; i < n; ++i) s[i] += v[i];
  }
  return s;
}

void take_my_gpu(const Comm& world) {
  Accelerators acc = test::accelerators();
  assign_device(acc, world.node_local().rank());
}

// Host path and device path of `r` over `comm` against the exact sum; n includes odd sizes.
void check_sums(const NcclGradientReducer& r, const Comm& comm) {
  for (std::size_t n : {std::size_t{1}, std::size_t{1000}, std::size_t{123457}}) {
    auto v = rank_values(comm.rank(), n);
    const auto want = expected_sum(comm.size(), n);
    r.allreduce_sum(v);
    std::size_t bad = 0;
    for (std::size_t i = 0; i < n; ++i) bad += v[i] != want[i];
    EXPECT_EQ(bad, 0u) << "host path, n = " << n << ", rank " << comm.rank() << ": v[last] = " << v.back()
                       << ", want " << want.back();

    auto d_in = rank_values(comm.rank(), n);
    cuda::DeviceBuffer<float> d(n);
    cuda::Stream s;
    cuda::copy_to_device(d, std::span<const float>(d_in), s.get());
    s.synchronize();
    r.allreduce_sum_device(d.data(), n);
    std::vector<float> back(n, -1.0f);
    cuda::copy_to_host(std::span<float>(back), d, s.get());
    s.synchronize();
    EXPECT_EQ(back, want) << "device path, n = " << n << ", rank " << comm.rank();

    auto m = rank_values(comm.rank(), n);
    MpiGradientReducer(comm).allreduce_sum(m);
    EXPECT_EQ(m, want) << "MPI's sum of the same inputs, n = " << n;
  }
}

TEST(NcclReducer, OneRankCommunicatorsOnEachRanksGpu) {
  BOLTZMAP_GPU_OR_SKIP();
  const Comm world;
  take_my_gpu(world);
  MPI_Comm single = MPI_COMM_NULL;
  MPI_CHECK(MPI_Comm_split(MPI_COMM_WORLD, world.rank(), 0, &single));
  {
    const Comm one(single);
    ASSERT_EQ(one.size(), 1);
    const NcclGradientReducer r(one);
    EXPECT_NE(r.name().find("NCCL"), std::string::npos) << r.name();
    EXPECT_NE(r.name().find("over 1 trainer rank"), std::string::npos) << r.name();
    check_sums(r, one);
  }
  MPI_CHECK(MPI_Comm_free(&single));
}

TEST(NcclReducer, TwoRanksOneGpuEachSumExactly) {
  BOLTZMAP_GPU_OR_SKIP();
  const Comm world;
  ASSERT_EQ(world.size(), 2) << "run under mpiexec -n 2";
  take_my_gpu(world);
  if (!trainers_have_own_gpus(world)) {
    const char* need = std::getenv("BOLTZMAP_REQUIRE_GPUS");
    if (need && std::atoi(need) >= 2) FAIL() << "BOLTZMAP_REQUIRE_GPUS=2 but the two ranks share a GPU";
    GTEST_SKIP() << "the two ranks share one GPU, which NCCL refuses (needs two GPUs; BOLTZMAP_REQUIRE_GPUS=2 "
                    "makes this a failure)";
  }
  const auto chosen = make_gradient_reducer(world, true);
  EXPECT_NE(chosen->name().find("NCCL"), std::string::npos) << chosen->name();
  const NcclGradientReducer r(world);
  EXPECT_NE(r.name().find("over 2 trainer ranks"), std::string::npos) << r.name();
  check_sums(r, world);
}

}  // namespace
}  // namespace boltzmap
