// GoogleTest main for boltzmap_tests: initialises MPI (as a singleton) because the library's
// I/O and sampling take a communicator.
#include <gtest/gtest.h>

#include "parallel/comm.hpp"

int main(int argc, char** argv) {
  boltzmap::MpiSession mpi(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
