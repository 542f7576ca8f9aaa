// The training loop of METHOD.md ("Losses and training"): Adam over phases of epochs; one epoch is
// one pass over B's training set in batches (shuffled per epoch), each batch preprocessed with
// fresh centring/symmetry draws; in phases with λ_inv > 0 a batch of A configurations is drawn
// from the source pool, advanced by pool_mc_steps MC steps at A's state, used, and written back
// (flow/source_pool.hpp: a local pool, or one streamed from sampler ranks, flow/pool_stream.hpp).
// Each epoch's step_seconds and pool_seconds give the pool's stall share.
// Every random choice is keyed by (seed, stream, global step, row), so an interrupted run resumed
// from a checkpoint continues exactly as an uninterrupted one.
// Metrics per epoch: training and validation losses, the fraction of A→B-mapped validation
// configurations whose U_B lies strictly inside B's 1st–99th percentile range, and the relative
// effective sample size of the A→B weights on the validation set (weight zero outside the canonical
// domain), and the share of generated configurations outside that domain in each direction.
// Allocation: a training step's own buffers (batches, index lists, gradient, the losses' and the
// flow's work buffers) persist in the Trainer, so a step allocates nothing of its own once an epoch
// has run (an epoch's last, smaller batch resizes the batch-sized ones); the preprocessing
// (Preprocessor::forward) and the pool refresh's MC walkers (WalkerSet) still allocate theirs.
// Tests: tests/flow/test_trainer.cpp (resume = uninterrupted; phase 1 lowers validation L_dir);
// tests/flow/allocations (a step allocates only what the preprocessing and the walkers do);
// tests/mpi/train_parallel.sh (2 and 3 trainer ranks: parameters, losses and validation metrics
// as 1 rank's).
#pragma once
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/config.hpp"
#include "flow/adam.hpp"
#include "flow/training_state.hpp"
#include "flow/loss.hpp"
#include "flow/flow.hpp"
#include "flow/pool_stream.hpp"
#include "flow/source_pool.hpp"
#include "parallel/comm.hpp"
#include "parallel/gradient_reducer.hpp"
#include "transforms/preprocessor.hpp"

namespace boltzmap {

class CudaTrainSteps;  // flow/train_steps_cuda.hpp (CUDA builds)

// Physical configurations [rows][N][D] of the sets the trainer reads.
// Each system's configurations in its own box ([rows][N][D], in [0, L_A) or [0, L_B)); the
// Trainer moves B's into the preprocessing's box itself.
struct TrainingData {
  std::vector<float> a_train, a_validation, b_train, b_validation;
  int rows(const std::vector<float>& v, int n, int d) const { return static_cast<int>(v.size() / (n * d)); }
};

struct EpochMetrics {
  std::int64_t epoch = 0;  // 0-based, over all phases
  int phase = 0;
  double learning_rate = 0;
  double loss_dir_train = 0, loss_inv_train = 0;  // means over the epoch's steps (terms with λ > 0)
  double loss_dir_validation = 0, loss_inv_validation = 0;
  double fraction_in_range = 0;  // of F(A validation) inside B's 1st–99th energy percentiles
  double ress_validation = 0;    // Kish ESS / n of the A→B weights on A's validation set (zero outside the domain)
  // Share of the generated validation configurations outside the canonical domain (F(A), F⁻¹(B)).
  double out_of_domain_a_to_b = 0, out_of_domain_b_to_a = 0;
  // fraction_in_range and the RESS on the first 1000 configurations of A's training set (NaN if none).
  double fraction_in_range_train = std::numeric_limits<double>::quiet_NaN();
  double ress_train = std::numeric_limits<double>::quiet_NaN();
  double seconds = 0;
  std::int64_t steps = 0;        // optimiser steps in this epoch
  double step_seconds = 0;       // of seconds, in the steps (not the validation)
  double pool_seconds = 0;       // of step_seconds, waiting for the source pool (SourcePool::seconds)
};

class Trainer {
 public:
  // Trains alone (no MPI call).
  Trainer(const Experiment& e, const Preprocessor& pre, TrainingData data);
  // Data-parallel over `trainers`: each rank holds the same data, flow and pool; a step's batch is
  // split among them by block_of, and their gradients summed by `reducer` (made over trainers
  // when null), so every rank takes the same step. With `stream` the source pool is streamed from
  // the sampler ranks (flow/pool_stream.hpp) instead of held and advanced by the trainers.
  Trainer(const Experiment& e, const Preprocessor& pre, TrainingData data, Comm trainers,
          std::unique_ptr<GradientReducer> reducer = nullptr, const PoolLink* stream = nullptr);
  ~Trainer();

  // From now on the optimiser steps run on the current CUDA device (flow/train_steps_cuda.hpp:
  // parameters and moments on the GPU, the losses there, gradients summed by NCCL where each
  // trainer rank has a GPU of its own); the host's flow() and adam are brought up to date after
  // every epoch (before validation) and before a refused step's error. A local source pool's MC
  // moves to the same GPU (SourcePool::use_cuda_engine). Collective over the
  // trainer ranks (the reducer is chosen anew). Returns the log line saying what runs. Throws
  // Error(backend) in a build without CUDA and for a flow kind without a CUDA twin.
  std::string use_cuda_steps();
  bool cuda_steps() const { return cuda_ != nullptr; }
  // The reducer that sums the trainers' gradients, for the log ("MPI allreduce over 2 trainer
  // ranks", "NCCL … over 4 trainer ranks (one GPU each)"); "none" when training alone.
  std::string gradient_reducer_name() const { return reducer_ ? reducer_->name() : std::string("none"); }

  // One epoch (the next one); throws Error(numerical) on a non-finite loss, before any update,
  // and on a non-finite metric after the epoch (the caller must then write nothing from it).
  EpochMetrics train_epoch();
  // Validation metrics of the current flow (also for the identity map at start). Collective over
  // the trainer ranks: each evaluates its block of the validation sets, the parts are summed.
  EpochMetrics validate() const;
  // fraction_in_range_train and ress_train: the same A → B metrics on the first 1000
  // configurations of A's training set (METHOD.md: training and validation values); train_epoch
  // calls it after each epoch, split over the trainer ranks as validate() is. It allocates (as
  // validate does); the steps do not.
  void add_training_set_metrics(EpochMetrics& m) const;
  bool done() const { return next_epoch_ >= experiment_.training.total_epochs(); }

  // State (checkpointed): parameters, Adam, pool, the next epoch and the global step counter.
  // The flow is the input's kind ([flow] kind, src/flow/make_flow.hpp).
  Flow<float>& flow() { return *flow_; }
  const Flow<float>& flow() const { return *flow_; }
  Adam adam;
  // The source pool's contents [pool rows][N][D] (empty when no phase trains L_inv).
  const std::vector<float>& pool() const;
  std::int64_t next_epoch() const { return next_epoch_; }
  std::int64_t global_step() const { return step_; }
  void set_progress(std::int64_t next_epoch, std::int64_t global_step) {
    next_epoch_ = next_epoch;
    step_ = global_step;
  }
  // The state a checkpoint holds, and its restoration (sizes must fit: the caller checks them
  // against parameter_count() and pool.size() when reading a file).
  TrainingState state() const;
  void restore(const TrainingState& s);
  // Phase index and epoch within it of a global epoch.
  std::pair<int, std::int64_t> phase_of(std::int64_t epoch) const;
  double b_energy_low() const { return b_low_; }
  double b_energy_high() const { return b_high_; }

 private:
  // The common part; pool_ranks: the ranks that share the source pool (none: alone); stream: the
  // sampler ranks that hold it instead.
  Trainer(const Experiment& e, const Preprocessor& pre, TrainingData data, std::optional<Comm> pool_ranks,
          const PoolLink* stream);
  // A → B metrics of n preprocessed A rows of which za holds this trainer rank's share (share_of(n);
  // collective over the trainer ranks): fraction of F(A) in B's 1st–99th percentile energy range,
  // Kish ESS/n of the weights (zero outside the canonical domain), share outside the domain.
  struct MappingMetrics {
    double fraction_in_range = 0, ress = 0, out_of_domain = 0;
  };
  MappingMetrics a_to_b_metrics(const Flow<float>::Mat& za, std::int64_t n) const;
  // This trainer rank's rows block_of(n) of a set of n rows (all of them when alone).
  std::vector<std::int64_t> share_of(std::int64_t n) const;
  // Sums v over the trainer ranks in place (nothing when alone).
  void sum_over_trainers(std::span<double> v) const;
  // Throws Error(numerical) naming the first computed metric of m that is not finite.
  void check_metrics_finite(const EpochMetrics& m, const TrainingPhase& P) const;
  // Work buffers of preprocess(): the gathered configurations and the per-row choices.
  struct PreprocessBuffers {
    std::vector<float> x;
    std::vector<int> centre, element;
  };
  // A training step's buffers, kept across steps and epochs so that steps do not allocate them.
  struct StepBuffers {
    std::vector<std::int64_t> order;       // this epoch's order of B's training rows
    std::vector<std::int64_t> first_rows;  // 0, 1, …, k − 1
    PreprocessBuffers pre, pre_a;  // B's rows, the pool's (A's) rows
    Flow<float>::Mat za, zb;
    ParamVector<float> grad;
    LossWorkspace<float> loss;
  };

  // The given rows of a set and their (c, g) choices (training or evaluation) into buf.
  void gather(std::span<const float> set, std::span<const std::int64_t> rows, bool training, std::uint64_t id0,
              PreprocessBuffers& buf) const;
  // z = the preprocessed batch of the given rows of a set, with training or evaluation choices.
  void preprocess(std::span<const float> set, std::span<const std::int64_t> rows, bool training, std::uint64_t id0,
                  Flow<float>::Mat& z, PreprocessBuffers& buf) const;
  // One optimiser step on B's rows `rows` (and a pool batch if λ_inv > 0); returns the losses.
  LossValues train_step(const TrainingPhase& P, int phase, double lr, std::span<const std::int64_t> rows);

  std::unique_ptr<Flow<float>> flow_;  // first: the other members' initialisers may read it
  const Experiment& experiment_;
  const Preprocessor& pre_;
  TrainingData data_;
  System sys_a_, sys_b_;
  LatentEnergy energy_a_, energy_b_;           // clamped (training)
  LatentEnergy raw_energy_a_, raw_energy_b_;   // unclamped (metrics)
  double b_low_ = 0, b_high_ = 0;               // B's reference 1st and 99th percentile of U
  std::int64_t next_epoch_ = 0, step_ = 0;
  StepBuffers buffers_;
  std::uint64_t seed_batch_, seed_augment_;
  std::unique_ptr<SourcePool> pool_;  // null when no phase trains L_inv
  std::optional<Comm> trainers_;  // empty: alone
  std::unique_ptr<GradientReducer> reducer_;
  std::unique_ptr<CudaTrainSteps> cuda_;  // null: the steps run on the CPU
  int group_rank_ = 0, group_size_ = 1;
  int n_, d_;
};

}  // namespace boltzmap
