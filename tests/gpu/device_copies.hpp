// The GPU tests' host ↔ device copies of whole arrays, each waited for (so a test reads what it
// copied): to_device(host) → DeviceBuffer, from_device(buffer) → std::vector. CUDA builds only.
#pragma once
#include <cuda_runtime.h>

#include <span>
#include <vector>

#include "cuda_check.cuh"

namespace boltzmap::test {

template <class T>
cuda::DeviceBuffer<T> to_device(std::span<const T> h, cudaStream_t s = nullptr) {
  cuda::DeviceBuffer<T> d(h.size());
  cuda::copy_to_device(d, h, s);
  CUDA_CHECK(cudaStreamSynchronize(s));
  return d;
}
template <class T>
cuda::DeviceBuffer<T> to_device(const std::vector<T>& h, cudaStream_t s = nullptr) {
  return to_device(std::span<const T>(h), s);
}
template <class T>
std::vector<T> from_device(const cuda::DeviceBuffer<T>& d, cudaStream_t s = nullptr) {
  std::vector<T> h(d.size());
  cuda::copy_to_host(std::span<T>(h), d, s);
  CUDA_CHECK(cudaStreamSynchronize(s));
  return h;
}

}  // namespace boltzmap::test
