// GoogleTest main of boltzmap_gpu_tests (tests/gpu): MPI as a singleton (the library expects it),
// and --debug-sync on (STYLE 8: tests synchronise and check after every kernel), unless
// BOLTZMAP_DEBUG_SYNC=0 (to time the kernels as production runs them).
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "core/debug_sync.hpp"
#include "parallel/comm.hpp"

int main(int argc, char** argv) {
  boltzmap::MpiSession mpi(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  const char* v = std::getenv("BOLTZMAP_DEBUG_SYNC");
  boltzmap::set_debug_sync(!(v && std::string(v) == "0"));
  return RUN_ALL_TESTS();
}
