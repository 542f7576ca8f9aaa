// The CUDA side of the one check family (src/core/check.hpp: BOLTZMAP_CHECK is the generator):
// CUDA_CHECK, CUBLAS_CHECK, NCCL_CHECK, and CUDA_LAUNCH_CHECK after a kernel launch (which, with
// --debug-sync, also synchronises the stream so an asynchronous fault names its launch). Each
// failure throws boltzmap::Error with the statement, file:line, rank and host (check_failed) and
// the CUDA device (cuda_describe). And the one ownership model on the GPU (STYLE 5): RAII
// DeviceBuffer<T>, explicit host↔device copies with sizes checked, an RAII Stream and Event, and
// PinnedBuffer<T> (page-locked host memory: the staging a copy needs to be truly asynchronous).
// Host code only (usable from .cpp files compiled by g++ and from .cu files). The describe
// functions are inline so that a file linking no cuBLAS or NCCL can include this header.
// Tests: tests/gpu/test_cuda_check.cpp (skipped without a GPU).
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <span>
#include <string>
#include <utility>

#include "core/check.hpp"
#include "core/debug_sync.hpp"
#include "core/error.hpp"

#if __has_include(<nccl.h>)
#include <nccl.h>
#define BOLTZMAP_HAVE_NCCL_HEADER 1
#endif

namespace boltzmap::cuda {

// "device 0 (NVIDIA H200)", or "no current device".
inline std::string current_device_name() {
  int d = -1;
  if (cudaGetDevice(&d) != cudaSuccess) {
    cudaGetLastError();
    return "no current device";
  }
  cudaDeviceProp p{};
  if (cudaGetDeviceProperties(&p, d) != cudaSuccess) {
    cudaGetLastError();
    return "device " + std::to_string(d);
  }
  return "device " + std::to_string(d) + " (" + p.name + ")";
}

inline bool cuda_ok(cudaError_t e) { return e == cudaSuccess; }
inline std::string cuda_describe(cudaError_t e) {
  return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e) + " on " + current_device_name();
}
inline bool cublas_ok(cublasStatus_t s) { return s == CUBLAS_STATUS_SUCCESS; }
inline std::string cublas_describe(cublasStatus_t s) {
  return std::string(cublasGetStatusName(s)) + ": " + cublasGetStatusString(s) + " on " + current_device_name();
}
#ifdef BOLTZMAP_HAVE_NCCL_HEADER
inline bool nccl_ok(ncclResult_t r) { return r == ncclSuccess; }
inline std::string nccl_describe(ncclResult_t r) {
  return std::string(ncclGetErrorString(r)) + " on " + current_device_name();
}
#endif

}  // namespace boltzmap::cuda

#define CUDA_CHECK(call) BOLTZMAP_CHECK("CUDA", call, ::boltzmap::cuda::cuda_ok, ::boltzmap::cuda::cuda_describe)
#define CUBLAS_CHECK(call) BOLTZMAP_CHECK("cuBLAS", call, ::boltzmap::cuda::cublas_ok, ::boltzmap::cuda::cublas_describe)
#ifdef BOLTZMAP_HAVE_NCCL_HEADER
#define NCCL_CHECK(call) BOLTZMAP_CHECK("NCCL", call, ::boltzmap::cuda::nccl_ok, ::boltzmap::cuda::nccl_describe)
#endif

namespace boltzmap::cuda {

// After a kernel launch: the launch error (bad configuration, no kernel image for this GPU) at
// once; with --debug-sync also the kernel's own faults, by synchronising `stream`.
inline void after_launch(cudaStream_t stream, const char* kernel, const char* file, int line) {
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) check_failed("CUDA", (std::string("launch of ") + kernel).c_str(), file, line, cuda_describe(e));
  if (!debug_sync()) return;
  const cudaError_t s = cudaStreamSynchronize(stream);
  if (s != cudaSuccess)
    check_failed("CUDA", (std::string(kernel) + " (--debug-sync: cudaStreamSynchronize after it)").c_str(), file,
                 line, cuda_describe(s));
}

}  // namespace boltzmap::cuda

// kernel_name: a string literal ("mcmc_moves_kernel<2, 32>": a template argument list has commas).
#define CUDA_LAUNCH_CHECK(kernel_name, stream) ::boltzmap::cuda::after_launch(stream, kernel_name, __FILE__, __LINE__)

namespace boltzmap::cuda {

// An owned, non-blocking CUDA stream.
class Stream {
 public:
  Stream() { CUDA_CHECK(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking)); }
  ~Stream() {
    if (s_) cudaStreamDestroy(s_);  // no throw from a destructor; a failure here is reported by the next call
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  Stream(Stream&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Stream& operator=(Stream&& o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  cudaStream_t get() const { return s_; }
  void synchronize() const { CUDA_CHECK(cudaStreamSynchronize(s_)); }

 private:
  cudaStream_t s_ = nullptr;
};

// n elements of T in device memory (uninitialised), freed with the object. Move-only.
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t n) : n_(n) {
    if (n > 0) CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&p_), n * sizeof(T)));
  }
  ~DeviceBuffer() {
    if (p_) cudaFree(p_);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    std::swap(p_, o.p_);
    std::swap(n_, o.n_);
    return *this;
  }
  T* data() { return p_; }
  const T* data() const { return p_; }
  std::size_t size() const { return n_; }
  std::size_t bytes() const { return n_ * sizeof(T); }
  // Every byte set to `byte` (0xFF makes floats NaN: the tests' poison).
  void fill_bytes(int byte, cudaStream_t stream) {
    if (n_ > 0) CUDA_CHECK(cudaMemsetAsync(p_, byte, bytes(), stream));
  }

 private:
  T* p_ = nullptr;
  std::size_t n_ = 0;
};

// n elements of T in page-locked (pinned) host memory (uninitialised), freed with the object.
// Move-only. A cudaMemcpyAsync from or to it is a DMA that does not block the host; to pageable
// memory the driver stages the copy through its own pinned buffer and the host waits.
template <class T>
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(std::size_t n) : n_(n) {
    if (n > 0) CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&p_), n * sizeof(T)));
  }
  ~PinnedBuffer() {
    if (p_) cudaFreeHost(p_);
  }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  PinnedBuffer(PinnedBuffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
    std::swap(p_, o.p_);
    std::swap(n_, o.n_);
    return *this;
  }
  T* data() { return p_; }
  const T* data() const { return p_; }
  std::size_t size() const { return n_; }
  T& operator[](std::size_t i) { return p_[i]; }
  const T& operator[](std::size_t i) const { return p_[i]; }
  std::span<T> span() { return {p_, n_}; }
  std::span<const T> span() const { return {p_, n_}; }

 private:
  T* p_ = nullptr;
  std::size_t n_ = 0;
};

// An owned CUDA event without timing (the cheapest kind): "the work enqueued so far on a stream
// is done", waited for by the host without synchronising the whole stream's later work.
class Event {
 public:
  Event() { CUDA_CHECK(cudaEventCreateWithFlags(&e_, cudaEventDisableTiming)); }
  ~Event() {
    if (e_) cudaEventDestroy(e_);
  }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  Event(Event&& o) noexcept : e_(std::exchange(o.e_, nullptr)) {}
  Event& operator=(Event&& o) noexcept {
    std::swap(e_, o.e_);
    return *this;
  }
  cudaEvent_t get() const { return e_; }
  void record(cudaStream_t stream) { CUDA_CHECK(cudaEventRecord(e_, stream)); }
  void synchronize() const { CUDA_CHECK(cudaEventSynchronize(e_)); }

 private:
  cudaEvent_t e_ = nullptr;
};

// Explicit copies, whole buffers only (sizes must match: a mismatch is a bug, thrown as such).
// Asynchronous on `stream`: host memory must stay alive until the stream is synchronised.
template <class T>
void copy_to_device(DeviceBuffer<T>& dst, std::span<const T> src, cudaStream_t stream) {
  if (src.size() != dst.size())
    throw Error(ExitCode::failure, "copy_to_device: " + std::to_string(src.size()) + " elements into a buffer of " +
                                       std::to_string(dst.size()));
  if (!src.empty()) CUDA_CHECK(cudaMemcpyAsync(dst.data(), src.data(), dst.bytes(), cudaMemcpyHostToDevice, stream));
}
template <class T>
void copy_to_host(std::span<T> dst, const DeviceBuffer<T>& src, cudaStream_t stream) {
  if (src.size() != dst.size())
    throw Error(ExitCode::failure, "copy_to_host: a buffer of " + std::to_string(src.size()) + " elements into " +
                                       std::to_string(dst.size()));
  if (!dst.empty()) CUDA_CHECK(cudaMemcpyAsync(dst.data(), src.data(), src.bytes(), cudaMemcpyDeviceToHost, stream));
}

}  // namespace boltzmap::cuda
