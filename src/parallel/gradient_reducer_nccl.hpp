// The NCCL twin of MpiGradientReducer (gradient_reducer.hpp): the trainers' gradient allreduce on
// their GPUs, one GPU per trainer rank, for the CUDA trainer (issue 14). MPI carries only the
// setup (rank 0's ncclUniqueId, broadcast over the trainer communicator); the sum runs in NCCL
// (ncclAllReduce, ncclFloat, ncclSum, in place) on the reducer's own stream. Gradients already on
// the device go through allreduce_sum_device; a host span (the CPU trainer, tests) is staged
// through a device buffer owned by the reducer and grown once to the largest size seen.
// Built only with CUDA and NCCL (BOLTZMAP_HAVE_NCCL); make_gradient_reducer chooses it.
// NCCL refuses two ranks of one communicator on the same GPU: the constructor is only reached
// when every trainer has a GPU of its own (choose_gradient_reducer).
// Tests: tests/gpu/test_nccl_reducer.cpp (mpi_gpu_nccl_reducer_np2: exact integer-valued sums,
// on one GPU per rank where there are two, else over one-rank communicators).
#pragma once
#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "parallel/comm.hpp"
#include "parallel/gradient_reducer.hpp"

struct CUstream_st;  // cudaStream_t, without the CUDA headers

namespace boltzmap {

class NcclGradientReducer final : public GradientReducer {
 public:
  // Collective over `trainers`: an NCCL communicator of the same ranks in the same order on each
  // rank's current CUDA device.
  explicit NcclGradientReducer(const Comm& trainers);
  ~NcclGradientReducer() override;
  NcclGradientReducer(const NcclGradientReducer&) = delete;
  NcclGradientReducer& operator=(const NcclGradientReducer&) = delete;

  // Host span: copied to the device, summed, copied back (synchronous).
  void allreduce_sum(std::span<float> v) const override;
  // n floats at device pointer v, in place, ordered on `stream` (0: the reducer's own stream, then
  // synchronised); with a caller's stream it returns once the sum is enqueued.
  void allreduce_sum_device(float* v, std::size_t n, CUstream_st* stream = nullptr) const;
  std::string name() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int size_ = 1;
};

}  // namespace boltzmap
