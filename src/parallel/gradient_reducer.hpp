// The gradient reducer of data-parallel training (DESIGN.md "Parallel shape"): each trainer rank
// computes the gradient of its share of the batch (already divided by the whole batch's size), and
// allreduce_sum makes every trainer rank hold the sum, before the finite check and the optimiser
// step, so that every rank takes the same step. MPI over the trainer communicator here; the CUDA
// backend adds an NCCL twin behind the same interface (make_gradient_reducer chooses by backend).
// Tests: tests/mpi/train_parallel.sh (k trainers against one).
#pragma once
#include <memory>
#include <span>
#include <string>

#include "parallel/comm.hpp"

namespace boltzmap {

class GradientReducer {
 public:
  virtual ~GradientReducer() = default;
  // Collective over the trainer ranks: v ← Σ_ranks v, in place, on every rank.
  virtual void allreduce_sum(std::span<float> v) const = 0;
  virtual std::string name() const = 0;  // for the log: "MPI allreduce over 2 trainer ranks"
};

class MpiGradientReducer final : public GradientReducer {
 public:
  explicit MpiGradientReducer(Comm trainers) : comm_(std::move(trainers)) {}
  void allreduce_sum(std::span<float> v) const override { comm_.allreduce_sum(v); }
  std::string name() const override;

 private:
  Comm comm_;
};

// Which reducer the trainers use, and the log line that says why (STYLE 10: no silent choice).
// NCCL only where the trainers run on CUDA, NCCL is compiled in, there is more than one trainer
// and every trainer rank has a GPU of its own (NCCL refuses two ranks of a communicator on one
// device); MPI otherwise, saying which condition failed.
struct ReducerChoice {
  bool nccl = false;
  std::string reason;
};
ReducerChoice choose_gradient_reducer(bool trainers_on_cuda, bool nccl_compiled, int trainer_count, bool own_gpus);

// Collective over `trainers`: whether no two trainer ranks share a GPU (host name and PCI bus id of
// each rank's current device, gathered); false without CUDA.
bool trainers_have_own_gpus(const Comm& trainers);

// The reducer of the train stage over the trainer communicator: MPI for the CPU trainer; for a
// trainer on CUDA (trainers_on_cuda) the NCCL one where choose_gradient_reducer allows it.
// Collective over `trainers`.
std::unique_ptr<GradientReducer> make_gradient_reducer(const Comm& trainers, bool trainers_on_cuda = false);

}  // namespace boltzmap
