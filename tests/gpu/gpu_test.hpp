// What every tests/gpu case shares: the GPU gate and the fresh seed. A case that needs a GPU
// starts with BOLTZMAP_GPU_OR_SKIP(): without a usable CUDA device it is skipped (GTEST_SKIP), or
// fails when BOLTZMAP_REQUIRE_GPU=1 (tools/gpu-check sets it on GPU machines, so a GPU that
// went missing or a build without CUDA cannot pass as "all skipped").
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>

#include "core/backend.hpp"

namespace boltzmap::test {

inline bool gpu_required() {
  const char* v = std::getenv("BOLTZMAP_REQUIRE_GPU");
  return v && std::string(v) == "1";
}

inline const Accelerators& accelerators() {
  static const Accelerators acc = probe_accelerators();
  return acc;
}

inline std::string why_no_gpu() {
  return accelerators().cuda_compiled ? "no CUDA device is visible" : "this build has no CUDA (-DBOLTZMAP_CUDA=ON)";
}

// A fresh seed per run (the inputs are random each time), or BOLTZMAP_TEST_SEED to replay one;
// the caller prints it with every failure.
inline std::uint64_t fresh_seed() {
  if (const char* s = std::getenv("BOLTZMAP_TEST_SEED")) return std::strtoull(s, nullptr, 10);
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

}  // namespace boltzmap::test

#define BOLTZMAP_GPU_OR_SKIP()                                                                             \
  do {                                                                                                    \
    if (!::boltzmap::test::accelerators().cuda_usable()) {                                                \
      if (::boltzmap::test::gpu_required())                                                               \
        FAIL() << "BOLTZMAP_REQUIRE_GPU=1 but " << ::boltzmap::test::why_no_gpu();                        \
      else                                                                                                \
        GTEST_SKIP() << ::boltzmap::test::why_no_gpu() << " (BOLTZMAP_REQUIRE_GPU=1 makes this a failure)"; \
    }                                                                                                     \
  } while (0)
