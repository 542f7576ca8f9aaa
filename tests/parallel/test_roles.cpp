// The role split (src/parallel/roles.hpp): ranks, k → the role of each rank; one rank plays both;
// rank 0 always trains; no trainer or more samplers than ranks are input errors naming where k
// came from. Comm::split on the singleton (one rank, both roles). Under mpiexec: mpi_roles_np3.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "parallel/comm.hpp"
#include "parallel/roles.hpp"

namespace boltzmap {
namespace {

using R = Role;

std::string input_error_of(int ranks, int k) {
  try {
    assign_roles(ranks, k, "in.toml:9: parallel.sampler_ranks");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::input) << e.what();
    return e.what();
  }
  ADD_FAILURE() << ranks << " ranks, k = " << k << ": no error";
  return "";
}

TEST(Roles, TheLastKRanksSampleTheOthersTrain) {
  EXPECT_EQ(assign_roles(3, 1, "x"), (std::vector<Role>{R::trainer, R::trainer, R::sampler}));
  EXPECT_EQ(assign_roles(4, 2, "x"), (std::vector<Role>{R::trainer, R::trainer, R::sampler, R::sampler}));
  EXPECT_EQ(assign_roles(2, 1, "x"), (std::vector<Role>{R::trainer, R::sampler}));
  EXPECT_EQ(assign_roles(3, 0, "x"), (std::vector<Role>{R::trainer, R::trainer, R::trainer}));  // local pools
  for (int n = 2; n <= 64; ++n)
    for (int k = 0; k < n; ++k) {
      const auto roles = assign_roles(n, k, "x");
      ASSERT_EQ(static_cast<int>(roles.size()), n);
      EXPECT_EQ(roles[0], R::trainer) << n << " ranks, k = " << k;  // rank 0 writes the run folder
      EXPECT_EQ(std::count(roles.begin(), roles.end(), R::sampler), k) << n << " ranks, k = " << k;
    }
}

TEST(Roles, OneRankPlaysBoth) {
  EXPECT_EQ(assign_roles(1, 0, "x"), std::vector<Role>{R::both});
  EXPECT_EQ(assign_roles(1, 1, "x"), std::vector<Role>{R::both});
}

TEST(Roles, ImpossibleSplitsAreInputErrors) {
  std::string m = input_error_of(3, 3);
  EXPECT_EQ(m.rfind("in.toml:9: parallel.sampler_ranks = 3: ", 0), 0u) << m;
  EXPECT_NE(m.find("leaves no trainer rank"), std::string::npos) << m;
  EXPECT_NE(m.find("at most 2"), std::string::npos) << m;
  m = input_error_of(3, 5);
  EXPECT_NE(m.find("more sampler ranks than the job's 3 rank(s)"), std::string::npos) << m;
  m = input_error_of(1, 2);
  EXPECT_NE(m.find("one rank plays both roles"), std::string::npos) << m;
  m = input_error_of(4, -1);
  EXPECT_NE(m.find("must be ≥ 0"), std::string::npos) << m;
}

TEST(Roles, Described) {
  EXPECT_EQ(describe_roles({R::trainer, R::trainer, R::sampler}), "ranks 0–1 trainer, rank 2 sampler");
  EXPECT_EQ(describe_roles({R::both}), "rank 0 trainer and sampler");
}

TEST(CommSplit, TheSingletonIsItsOwnGroup) {
  const Comm world;
  if (world.size() != 1) GTEST_SKIP() << "run as a singleton";
  const Comm both = world.split(R::both);
  EXPECT_EQ(both.size(), 1);
  EXPECT_EQ(both.rank(), 0);
  EXPECT_NE(both.raw(), world.raw());
  EXPECT_EQ(both.sum(7), 7);
}

}  // namespace
}  // namespace boltzmap
