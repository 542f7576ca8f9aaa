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

// The reducer of the train stage's backend over the trainer communicator (MPI on the CPU).
std::unique_ptr<GradientReducer> make_gradient_reducer(const Comm& trainers);

}  // namespace boltzmap
