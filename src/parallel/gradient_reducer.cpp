// See gradient_reducer.hpp.
#include "parallel/gradient_reducer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#ifdef BOLTZMAP_HAVE_CUDA
#include <cuda_runtime.h>

#include "device.cuh"
#endif
#ifdef BOLTZMAP_HAVE_NCCL
#include "parallel/gradient_reducer_nccl.hpp"
#endif

namespace boltzmap {

std::string MpiGradientReducer::name() const {
  return fmt::format("MPI allreduce over {} trainer rank{}", comm_.size(), comm_.size() == 1 ? "" : "s");
}

ReducerChoice choose_gradient_reducer(bool trainers_on_cuda, bool nccl_compiled, int trainer_count, bool own_gpus) {
  if (!trainers_on_cuda) return {false, "MPI: the trainers run on the CPU"};
  if (trainer_count <= 1) return {false, "MPI: one trainer rank (nothing to reduce)"};
  if (!nccl_compiled) return {false, "MPI: this build has no NCCL (-DBOLTZMAP_NCCL=ON to require it)"};
  if (!own_gpus)
    return {false, "MPI: two trainer ranks share a GPU, which NCCL refuses (give each trainer rank a GPU of its own)"};
  return {true, fmt::format("NCCL: {} trainer ranks, one GPU each", trainer_count)};
}

bool trainers_have_own_gpus(const Comm& trainers) {
#ifdef BOLTZMAP_HAVE_CUDA
  int device = -1;
  if (cudaGetDevice(&device) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  const auto ids = trainers.gather(host_name() + "/" + cuda::pci_bus_id(device));
  std::string verdict = "1";
  if (trainers.root()) {
    std::vector<std::string> sorted = ids;
    std::sort(sorted.begin(), sorted.end());
    verdict = std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end() ? "1" : "0";
  }
  trainers.broadcast(verdict);
  return verdict == "1";
#else
  (void)trainers;
  return false;
#endif
}

std::unique_ptr<GradientReducer> make_gradient_reducer(const Comm& trainers, bool trainers_on_cuda) {
#ifdef BOLTZMAP_HAVE_NCCL
  constexpr bool nccl_compiled = true;
#else
  constexpr bool nccl_compiled = false;
#endif
  // Every trainer evaluates the same inputs (the verdict is broadcast), so all take the same branch.
  const bool own = trainers_on_cuda && trainers.size() > 1 && nccl_compiled && trainers_have_own_gpus(trainers);
  const ReducerChoice c = choose_gradient_reducer(trainers_on_cuda, nccl_compiled, trainers.size(), own);
#ifdef BOLTZMAP_HAVE_NCCL
  if (c.nccl) return std::make_unique<NcclGradientReducer>(trainers);
#endif
  return std::make_unique<MpiGradientReducer>(trainers);
}

}  // namespace boltzmap
