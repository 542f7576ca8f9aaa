// The source pool of L_inv (METHOD.md "Losses and training"): A configurations of which each
// training step draws k, advances by pool_mc_steps MC trial moves at A's state, uses, and writes
// back once the step is accepted. Everything is keyed by (seed, step, row): which members a step
// draws (a permutation keyed by the step, or draws with replacement for a pool smaller than the
// batch) and every MC move of member i (walker id step·batch_size + i), so the pool's contents do
// not depend on which rank advances which row. The interface is what the trainer needs; the local
// pool below is held by every trainer rank (each advances its share of the rows, commit() gathers
// them); a streamed pool, whose walkers live on sampler ranks that prepare the batch of step s + 1
// while the trainers train on step s, implements the same calls (issue 11).
// Tests: tests/flow/test_trainer.cpp (resume = uninterrupted, small pools), mpi_train_parallel.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "parallel/comm.hpp"
#include "physics/energy.hpp"

namespace boltzmap {

class SourcePool {
 public:
  virtual ~SourcePool() = default;
  // This rank's share `mine` of step `step`'s k configurations, advanced by MC: [mine.count()][N][D].
  // Valid until the next call.
  virtual std::span<const float> next_batch(std::int64_t step, int k, Range mine) = 0;
  // The step of the last next_batch was accepted: its advanced configurations replace their
  // members (collective over the trainer ranks).
  virtual void commit() = 0;
  // The whole pool [rows][N][D] (checkpoints), and its restoration (same size).
  virtual const std::vector<float>& contents() const = 0;
  virtual void restore(std::vector<float> contents) = 0;
};

class LocalSourcePool final : public SourcePool {
 public:
  // The pool's rows are `initial` ([rows][N][D]); MC at system a with half-width `step_size`;
  // trainers: the ranks that share each batch (none: this rank alone).
  LocalSourcePool(const System& a, std::uint64_t seed, int batch_size, std::int64_t mc_steps, float step_size,
                  std::vector<float> initial, std::optional<Comm> trainers);
  std::span<const float> next_batch(std::int64_t step, int k, Range mine) override;
  void commit() override;
  const std::vector<float>& contents() const override { return pool_; }
  void restore(std::vector<float> contents) override;

 private:
  System a_;
  std::uint64_t seed_;
  int batch_size_;
  std::int64_t mc_steps_;
  float step_size_;
  std::vector<float> pool_;
  std::optional<Comm> trainers_;
  int stride_;
  // The last next_batch: its members, all k rows (this rank's share filled in), the share.
  std::vector<std::int64_t> members_, order_;
  std::vector<float> advanced_;
  int k_ = 0;
  Range mine_{0, 0};
};

}  // namespace boltzmap
