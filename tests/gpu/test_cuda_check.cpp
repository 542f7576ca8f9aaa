// kernels/cuda_check.cuh: the CUDA instance of the check family names the failing statement,
// file:line, the rank/host identity and the device (runs without a GPU: a CUDA call that fails
// for want of one is as good a failure as any); DeviceBuffer and the explicit copies round-trip
// bits and refuse a size mismatch (GPU only); PinnedBuffer is page-locked memory the copies
// use, and an Event waits for the copy (GPU only); the --debug-sync switch.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/debug_sync.hpp"
#include "core/error.hpp"
#include "cuda_check.cuh"
#include "gpu_test.hpp"

namespace boltzmap {
namespace {

TEST(CudaCheck, MessageNamesStatementPlaceIdentityAndDevice) {
  try {
    CUDA_CHECK(cudaSetDevice(100000));  // no machine has that many devices
    FAIL() << "cudaSetDevice(100000) succeeded";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_EQ(e.code(), ExitCode::failure);
    EXPECT_NE(m.find("CUDA call failed: cudaSetDevice(100000)"), std::string::npos) << m;
    EXPECT_NE(m.find("test_cuda_check.cpp:"), std::string::npos) << m;
    EXPECT_NE(m.find(process_identity()), std::string::npos) << m;
    EXPECT_NE(m.find("cudaError"), std::string::npos) << m;  // the error's name
    EXPECT_TRUE(m.find(" on device ") != std::string::npos || m.find(" on no current device") != std::string::npos) << m;
  }
}

TEST(CudaCheck, CublasStatusIsDescribed) {
  const std::string d = cuda::cublas_describe(CUBLAS_STATUS_NOT_INITIALIZED);
  EXPECT_NE(d.find("CUBLAS_STATUS_NOT_INITIALIZED"), std::string::npos) << d;
  EXPECT_FALSE(cuda::cublas_ok(CUBLAS_STATUS_NOT_INITIALIZED));
  EXPECT_TRUE(cuda::cublas_ok(CUBLAS_STATUS_SUCCESS));
}

TEST(CudaCheck, DebugSyncSwitch) {
  const bool was = debug_sync();
  set_debug_sync(true);
  EXPECT_TRUE(debug_sync());
  set_debug_sync(false);
  EXPECT_FALSE(debug_sync());
  set_debug_sync(was);
}

TEST(DeviceBuffer, RoundTripAndSizeChecks) {
  BOLTZMAP_GPU_OR_SKIP();
  cuda::Stream stream;
  const std::size_t n = 1000003;
  std::vector<float> in(n), out(n, 0.0f);
  for (std::size_t k = 0; k < n; ++k) in[k] = static_cast<float>(k) * 0.37f - 12.5f;
  cuda::DeviceBuffer<float> buf(n);
  EXPECT_EQ(buf.size(), n);
  EXPECT_EQ(buf.bytes(), n * sizeof(float));
  buf.fill_bytes(0xFF, stream.get());  // poison: NaN everywhere
  cuda::copy_to_host(std::span<float>(out), buf, stream.get());
  stream.synchronize();
  EXPECT_TRUE(std::isnan(out[0]) && std::isnan(out[n - 1]));
  cuda::copy_to_device(buf, std::span<const float>(in), stream.get());
  cuda::copy_to_host(std::span<float>(out), buf, stream.get());
  stream.synchronize();
  EXPECT_EQ(0, std::memcmp(in.data(), out.data(), n * sizeof(float)));
  std::vector<float> short_host(n - 1);
  EXPECT_THROW(cuda::copy_to_device(buf, std::span<const float>(short_host), stream.get()), Error);
  EXPECT_THROW(cuda::copy_to_host(std::span<float>(short_host), buf, stream.get()), Error);
  cuda::DeviceBuffer<float> moved(std::move(buf));
  EXPECT_EQ(moved.size(), n);
  EXPECT_EQ(buf.size(), 0u);  // NOLINT(bugprone-use-after-move): the moved-from state is part of the contract
  EXPECT_EQ(buf.data(), nullptr);
}

TEST(PinnedBuffer, IsPageLockedAndAnEventWaitsForTheCopy) {
  BOLTZMAP_GPU_OR_SKIP();
  cuda::Stream stream;
  cuda::Event done;
  const std::size_t n = 1 << 20;
  cuda::PinnedBuffer<float> host(n);
  ASSERT_EQ(host.size(), n);
  ASSERT_NE(host.data(), nullptr);
  cudaPointerAttributes attr{};
  CUDA_CHECK(cudaPointerGetAttributes(&attr, host.data()));
  EXPECT_EQ(attr.type, cudaMemoryTypeHost) << "cudaMallocHost memory is registered host memory";
  for (std::size_t k = 0; k < n; ++k) host[k] = static_cast<float>(k) * 0.25f + 1.0f;
  cuda::DeviceBuffer<float> buf(n);
  cuda::copy_to_device(buf, std::span<const float>(host.span()), stream.get());
  stream.synchronize();
  for (std::size_t k = 0; k < n; ++k) host[k] = -1.0f;
  cuda::copy_to_host(host.span(), buf, stream.get());
  done.record(stream.get());
  done.synchronize();
  bool same = true;
  for (std::size_t k = 0; k < n; ++k) same = same && host[k] == static_cast<float>(k) * 0.25f + 1.0f;
  EXPECT_TRUE(same);
  cuda::PinnedBuffer<float> moved(std::move(host));
  EXPECT_EQ(moved.size(), n);
  EXPECT_EQ(host.size(), 0u);  // NOLINT(bugprone-use-after-move): the moved-from state is part of the contract
  EXPECT_EQ(host.data(), nullptr);
}

}  // namespace
}  // namespace boltzmap
