// The source pool of L_inv (METHOD.md "Losses and training"): A configurations of which each
// training step draws k, advances by pool_mc_steps MC trial moves at A's state, uses, and writes
// back once the step is accepted. Everything is keyed by (seed, step, row): which members a step
// draws (a permutation keyed by the step, or draws with replacement for a pool smaller than the
// batch) and every MC move of member i (walker id step·batch_size + i), so the pool's contents do
// not depend on which rank advances which row. The interface is what the trainer needs; the local
// pool below is held by every trainer rank (each advances its share of the rows, commit() gathers
// them); the streamed pool (flow/pool_stream.hpp), whose walkers live on sampler ranks that prepare
// the batch of step s + 1 while the trainers train on step s, implements the same calls.
// pool_members and advance_pool_rows are the keyed draws both use; PoolSchedule says which steps draw
// how many rows (what Trainer::train_epoch does), so sampler ranks know what comes next.
// Tests: tests/flow/test_trainer.cpp (resume = uninterrupted, small pools, PoolSchedule against the
// trainer's steps), mpi_train_parallel, mpi_pool_stream_np1_2_4.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/config.hpp"
#include "parallel/comm.hpp"
#include "physics/energy.hpp"
#include "sampling/mc_engine.hpp"

namespace boltzmap {

// What the pool's MC needs: A's system, the pool's seed, the configured batch size (walker ids are
// step·batch_size + row), the MC moves per refresh and their half-width.
struct PoolParams {
  System a;
  std::uint64_t seed;
  int batch_size;
  std::int64_t mc_steps;
  float step_size;
};
// The input's pool parameters (the seed: derive_seed(seed, 8); the step: A's sampler step, or 0.2σ).
PoolParams pool_params(const Experiment& e);

// The k members of a pool of P rows that step `step` draws ([k] row indices): the first k of a
// keyed permutation when P > k, else k keyed draws with replacement. `order` is work space.
void pool_members(std::int64_t P, std::uint64_t seed, std::int64_t step, int k, std::vector<std::int64_t>& order,
                  std::vector<std::int64_t>& members);
// Rows i0 … i0 + starts.size() − 1 of step `step`'s batch: row i0 + w starts from starts[w] ([N][D])
// and is advanced by mc_steps MC moves of walker step·batch_size + i0 + w, into out
// ([starts.size()][N][D]). A walker's chain depends only on (seed, walker, move) (walkers.hpp), so
// any split of a batch into such runs gives the same numbers; one run is one WalkerSet (SIMD blocks
// of walkers: keep runs ≥ 16 rows where possible).
void advance_pool_rows(const PoolParams& p, std::int64_t step, std::int64_t i0, std::span<const float* const> starts,
                       float* out);

// advance_pool_rows on an MC engine (sampling/mc_engine.hpp) of the chosen kind: the CPU engine
// (WalkerSet: the same numbers as advance_pool_rows, bit for bit) or the CUDA engine on this
// rank's GPU, whose walkers make the CPU's moves (up to the Metropolis near-ties that
// mc_engine.hpp describes). It keeps one engine per row count, reset() for each refresh, so the
// CUDA engine's device memory is allocated once per count (a pool step draws the batch share or
// the epoch's last, smaller one).
class PoolAdvancer {
 public:
  explicit PoolAdvancer(McEngineKind kind = McEngineKind::cpu) : kind_(kind) {}
  McEngineKind kind() const { return kind_; }
  void set_kind(McEngineKind kind);  // drops the engines of the other kind
  void advance(const PoolParams& p, std::int64_t step, std::int64_t i0, std::span<const float* const> starts, float* out);

 private:
  McEngineKind kind_;
  std::map<int, std::unique_ptr<McEngine>> engines_;
  std::vector<float> gathered_;  // [rows][N][D]: the starts, contiguous
};

// The steps that draw from the pool: an epoch is ⌈n_b / batch⌉ steps (n_b: B's training rows), step
// j of it draws min(batch, n_b − j·batch) rows when its phase has λ_inv > 0.
class PoolSchedule {
 public:
  PoolSchedule(const TrainingSettings& t, std::int64_t b_train_rows);
  int rows_at(std::int64_t step) const;                 // 0: the step draws nothing
  std::int64_t first_from(std::int64_t step) const;     // the first drawing step ≥ step; −1: none
  std::int64_t next_after(std::int64_t step) const { return first_from(step + 1); }

 private:
  std::vector<double> lambda_inv_;  // [epoch]
  std::int64_t rows_, batch_, per_epoch_;
};

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
  // Seconds spent in next_batch and commit so far waiting for the pool: running its MC (local) or
  // waiting for the sampler ranks' batches (streamed). Over the step time: the stall share.
  virtual double seconds() const = 0;
  // The pool's MC on this rank's GPU from now on (the CUDA engine; the same numbers up to
  // near-ties). A pool whose MC runs elsewhere (the sampler ranks') ignores it.
  virtual void use_cuda_engine() {}
};

class LocalSourcePool final : public SourcePool {
 public:
  // The pool's rows are `initial` ([rows][N][D]); MC at system a with half-width `step_size`;
  // trainers: the ranks that share each batch (none: this rank alone).
  LocalSourcePool(const PoolParams& p, std::vector<float> initial, std::optional<Comm> trainers);
  std::span<const float> next_batch(std::int64_t step, int k, Range mine) override;
  void commit() override;
  const std::vector<float>& contents() const override { return pool_; }
  void restore(std::vector<float> contents) override;
  double seconds() const override { return seconds_; }
  void use_cuda_engine() override { mc_.set_kind(McEngineKind::cuda); }

 private:
  PoolParams p_;
  PoolAdvancer mc_;
  std::vector<float> pool_;
  std::optional<Comm> trainers_;
  int stride_;
  // The last next_batch: its members, all k rows (this rank's share filled in), the share.
  std::vector<std::int64_t> members_, order_;
  std::vector<float> advanced_;
  std::vector<const float*> starts_;  // this rank's rows' pool members
  int k_ = 0;
  Range mine_{0, 0};
  double seconds_ = 0;
};

}  // namespace boltzmap
