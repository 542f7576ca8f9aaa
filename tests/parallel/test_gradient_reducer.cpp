// parallel/gradient_reducer.hpp: which reducer the trainers get (NCCL only for CUDA trainers with a
// GPU each and NCCL compiled in; MPI otherwise, with the reason), and that a singleton's reducer
// is the MPI one whatever is asked (one trainer: nothing to reduce). The NCCL sums themselves are
// tests/gpu/test_nccl_reducer.cpp (mpi_gpu_nccl_reducer_np2, GPU machines).
#include <gtest/gtest.h>

#include <vector>

#include "parallel/comm.hpp"
#include "parallel/gradient_reducer.hpp"

namespace boltzmap {
namespace {

TEST(GradientReducer, NcclOnlyForCudaTrainersWithAGpuEach) {
  const ReducerChoice yes = choose_gradient_reducer(true, true, 4, true);
  EXPECT_TRUE(yes.nccl);
  EXPECT_EQ(yes.reason, "NCCL: 4 trainer ranks, one GPU each");
  struct Case {
    bool cuda, nccl;
    int trainers;
    bool own;
    const char* reason;
  };
  for (const Case& c : std::vector<Case>{
           {false, true, 4, true, "MPI: the trainers run on the CPU"},
           {true, true, 1, true, "MPI: one trainer rank (nothing to reduce)"},
           {true, false, 4, true, "MPI: this build has no NCCL (-DBOLTZMAP_NCCL=ON to require it)"},
           {true, true, 4, false,
            "MPI: two trainer ranks share a GPU, which NCCL refuses (give each trainer rank a GPU of its own)"}}) {
    const ReducerChoice r = choose_gradient_reducer(c.cuda, c.nccl, c.trainers, c.own);
    EXPECT_FALSE(r.nccl) << c.reason;
    EXPECT_EQ(r.reason, c.reason);
  }
}

TEST(GradientReducer, ASingletonSumsWithMpiWhateverIsAsked) {
  const Comm world;
  ASSERT_EQ(world.size(), 1);
  for (bool cuda : {false, true}) {
    const auto r = make_gradient_reducer(world, cuda);
    EXPECT_EQ(r->name(), "MPI allreduce over 1 trainer rank");
    std::vector<float> v{1.5f, -2.0f, 3.0f};
    r->allreduce_sum(v);
    EXPECT_EQ(v, (std::vector<float>{1.5f, -2.0f, 3.0f}));
  }
}

}  // namespace
}  // namespace boltzmap
