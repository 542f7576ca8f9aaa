// The role split of DESIGN.md "Parallel shape": `[parallel] sampler_ranks = k` (or --sampler-ranks k)
// makes the last k ranks sampler ranks (they run the source pool's walkers) and the others
// trainer ranks; rank 0, which writes the run folder, is always a trainer. One rank plays both
// roles; k = 0 (the default) has no sampler ranks: every trainer keeps its own (local) pool. A split
// with no trainer (k = ranks > 1) or more samplers than ranks is an input error. Pure (no MPI):
// Comm::split (parallel/comm.hpp) turns a role into a communicator. In `train` the sampler ranks
// serve the streamed source pool (flow/pool_stream.hpp); the other stages use every rank alike.
// Tests: tests/parallel/test_roles.cpp, mpi_roles_np3 (tests/mpi/test_comm_split.cpp).
#pragma once
#include <string>
#include <vector>

namespace boltzmap {

enum class Role { trainer, sampler, both };

const char* role_name(Role r);  // "trainer", "sampler", "trainer and sampler"

// The role of each of `ranks` ranks, [rank]. Throws input_error starting with `where` (the file
// and line of the key, or "--sampler-ranks") when the split is impossible.
std::vector<Role> assign_roles(int ranks, int sampler_ranks, const std::string& where);

// One line for the log: "ranks 0–1 train, rank 2 samples" and the like.
std::string describe_roles(const std::vector<Role>& roles);

}  // namespace boltzmap
