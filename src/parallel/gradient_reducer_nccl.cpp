// See gradient_reducer_nccl.hpp.
#include "parallel/gradient_reducer_nccl.hpp"

#include <fmt/format.h>

#include <cstring>

#include "cuda_check.cuh"

namespace boltzmap {

struct NcclGradientReducer::Impl {
  ncclComm_t comm = nullptr;
  cuda::Stream stream;
  mutable cuda::DeviceBuffer<float> staging;  // [largest host span seen]
  int device = 0;
};

NcclGradientReducer::NcclGradientReducer(const Comm& trainers) : impl_(std::make_unique<Impl>()), size_(trainers.size()) {
  CUDA_CHECK(cudaGetDevice(&impl_->device));
  ncclUniqueId id{};
  if (trainers.root()) NCCL_CHECK(ncclGetUniqueId(&id));
  // The id's bytes as a string: Comm::broadcast carries any bytes and their length.
  std::string bytes(reinterpret_cast<const char*>(&id), sizeof id);
  trainers.broadcast(bytes);
  if (bytes.size() != sizeof id) throw Error(ExitCode::failure, "NCCL setup: the broadcast unique id has the wrong size");
  std::memcpy(&id, bytes.data(), sizeof id);
  NCCL_CHECK(ncclCommInitRank(&impl_->comm, trainers.size(), id, trainers.rank()));
}

NcclGradientReducer::~NcclGradientReducer() {
  if (impl_ && impl_->comm) ncclCommDestroy(impl_->comm);  // no throw from a destructor
}

void NcclGradientReducer::allreduce_sum_device(float* v, std::size_t n, CUstream_st* stream) const {
  if (n == 0) return;
  cudaStream_t s = stream ? stream : impl_->stream.get();
  NCCL_CHECK(ncclAllReduce(v, v, n, ncclFloat, ncclSum, impl_->comm, s));
  if (!stream) impl_->stream.synchronize();
}

void NcclGradientReducer::allreduce_sum(std::span<float> v) const {
  if (v.empty()) return;
  if (impl_->staging.size() < v.size()) impl_->staging = cuda::DeviceBuffer<float>(v.size());
  cudaStream_t s = impl_->stream.get();
  CUDA_CHECK(cudaMemcpyAsync(impl_->staging.data(), v.data(), v.size_bytes(), cudaMemcpyHostToDevice, s));
  NCCL_CHECK(ncclAllReduce(impl_->staging.data(), impl_->staging.data(), v.size(), ncclFloat, ncclSum, impl_->comm, s));
  CUDA_CHECK(cudaMemcpyAsync(v.data(), impl_->staging.data(), v.size_bytes(), cudaMemcpyDeviceToHost, s));
  impl_->stream.synchronize();
}

std::string NcclGradientReducer::name() const {
  int version = 0;
  ncclGetVersion(&version);
  return fmt::format("NCCL {} allreduce over {} trainer rank{} (one GPU each)", version, size_, size_ == 1 ? "" : "s");
}

}  // namespace boltzmap
