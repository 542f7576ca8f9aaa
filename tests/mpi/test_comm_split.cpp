// mpi_roles_np3: Comm::split (src/parallel/comm.hpp) under mpiexec -n 3 with sampler_ranks = 1:
// ranks 0–1 form the trainer communicator, rank 2 the sampler one. Sizes, local ranks and members
// are checked with exact integer allreduces (STYLE 14): the sum of 2^(world rank) over a group
// names its members exactly; world still works beside them; a copy keeps the communicator alive.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>

#include "parallel/comm.hpp"
#include "parallel/roles.hpp"

namespace boltzmap {
namespace {

TEST(CommSplit, ThreeRanksOneSampler) {
  const Comm world;
  ASSERT_EQ(world.size(), 3) << "run under mpiexec -n 3";
  const auto roles = assign_roles(world.size(), 1, "test");
  const Role mine = roles[static_cast<std::size_t>(world.rank())];
  EXPECT_EQ(mine, world.rank() < 2 ? Role::trainer : Role::sampler);
  std::optional<Comm> group_holder = world.split(mine);
  const Comm group = *group_holder;  // a copy shares the communicator...
  group_holder.reset();              // ...which stays usable when the original goes
  const bool trainer = mine == Role::trainer;
  EXPECT_EQ(group.size(), trainer ? 2 : 1) << "world rank " << world.rank();
  EXPECT_EQ(group.rank(), trainer ? world.rank() : 0) << "world rank " << world.rank();
  EXPECT_EQ(group.sum(1), group.size());
  EXPECT_EQ(group.sum(std::int64_t{1} << world.rank()), trainer ? 0b011 : 0b100) << "world rank " << world.rank();
  EXPECT_EQ(group.sum(group.rank()), trainer ? 1 : 0);
  // The world communicator is untouched: every rank once, trainers counted once each.
  EXPECT_EQ(world.sum(1), 3);
  EXPECT_EQ(world.sum(trainer ? 1 : 0), 2);
  EXPECT_EQ(world.sum(group.size()), 2 + 2 + 1);
}

// Comm::node_local: the ranks of this node in rank order (all three are on this host under the
// test's mpiexec), so the node-local rank that picks a GPU equals the world rank here.
TEST(CommSplit, NodeLocalRanksOnOneHost) {
  const Comm world;
  ASSERT_EQ(world.size(), 3) << "run under mpiexec -n 3";
  const Comm node = world.node_local();
  EXPECT_EQ(node.size(), 3);
  EXPECT_EQ(node.rank(), world.rank());
  EXPECT_EQ(node.sum(std::int64_t{1} << world.rank()), 0b111);
}

}  // namespace
}  // namespace boltzmap
