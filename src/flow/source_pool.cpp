// See source_pool.hpp.
#include "flow/source_pool.hpp"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "physics/experiment_physics.hpp"
#include "sampling/walkers.hpp"

namespace boltzmap {

namespace {

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

PoolParams pool_params(const Experiment& e) {
  const auto& sa = e.system('A');
  return {physical_system(sa, e.box.dimension, e.box.n_particles), derive_seed(e.seed, 8), e.training.batch_size,
          e.training.pool_mc_steps, static_cast<float>(sa.sampler.step_size.value_or(0.2 * sa.sigma))};
}

void pool_members(std::int64_t P, std::uint64_t seed, std::int64_t step, int k, std::vector<std::int64_t>& order,
                  std::vector<std::int64_t>& members) {
  members.resize(static_cast<std::size_t>(k));
  if (P > k) {  // without replacement: the first k of a random permutation
    keyed_permutation(P, seed, RngStream::Pool, static_cast<std::uint32_t>(step), order);
    std::copy_n(order.begin(), k, members.begin());
  } else {
    for (int i = 0; i < k; ++i) {
      const Random4 r = philox(seed, RngStream::Pool, static_cast<std::uint32_t>(step), (1ull << 40) + i);
      members[i] = uniform_index(r.v[0], static_cast<std::uint32_t>(P));
    }
  }
}

void advance_pool_rows(const PoolParams& p, std::int64_t step, std::int64_t i0, std::span<const float* const> starts,
                       float* out) {
  const int count = static_cast<int>(starts.size()), stride = p.a.n_particles * p.a.box.dimension;
  if (count == 0) return;
  // Walker ids step·batch_size + i (the configured size, not this batch's k, which is smaller for
  // an epoch's last batch): every refresh draws its own moves, and row i's moves are the same
  // whichever rank advances it.
  WalkerSet ws(p.a, p.seed, static_cast<std::uint32_t>(step * p.batch_size + i0), count,
               std::span<const float>(starts[0], static_cast<std::size_t>(stride)));
  for (int w = 0; w < count; ++w) ws.set_configuration(w, std::span<const float>(starts[w], static_cast<std::size_t>(stride)));
  if (p.mc_steps > 0) ws.run(static_cast<std::uint64_t>(p.mc_steps), p.step_size);
  for (int w = 0; w < count; ++w)
    ws.configuration(w, std::span<float>(out + static_cast<std::size_t>(w) * stride, static_cast<std::size_t>(stride)));
}

void PoolAdvancer::set_kind(McEngineKind kind) {
  if (kind != kind_) engines_.clear();
  kind_ = kind;
}

void PoolAdvancer::advance(const PoolParams& p, std::int64_t step, std::int64_t i0, std::span<const float* const> starts,
                           float* out) {
  const int count = static_cast<int>(starts.size());
  if (count == 0) return;
  const std::size_t stride = static_cast<std::size_t>(p.a.n_particles) * p.a.box.dimension;
  gathered_.resize(static_cast<std::size_t>(count) * stride);
  for (int w = 0; w < count; ++w) std::copy_n(starts[w], stride, gathered_.data() + static_cast<std::size_t>(w) * stride);
  // Walker ids as advance_pool_rows's: step·batch_size + i0 + w.
  const auto first = static_cast<std::uint32_t>(step * p.batch_size + i0);
  std::unique_ptr<McEngine>& e = engines_[count];
  const std::span<const float> one(gathered_.data(), stride);
  if (!e)
    e = kind_ == McEngineKind::cuda ? make_cuda_engine(p.a, p.seed, first, count, one)
                                    : make_cpu_engine(p.a, p.seed, first, count, one);
  e->reset(first, gathered_);
  if (p.mc_steps > 0) e->run(static_cast<std::uint64_t>(p.mc_steps), p.step_size);
  e->configurations(std::span<float>(out, static_cast<std::size_t>(count) * stride));
}

PoolSchedule::PoolSchedule(const TrainingSettings& t, std::int64_t b_train_rows)
    : rows_(b_train_rows), batch_(t.batch_size), per_epoch_((b_train_rows + t.batch_size - 1) / t.batch_size) {
  for (const auto& ph : t.phases) lambda_inv_.insert(lambda_inv_.end(), static_cast<std::size_t>(ph.epochs), ph.lambda_inv);
}

int PoolSchedule::rows_at(std::int64_t step) const {
  if (step < 0 || per_epoch_ == 0) return 0;
  const std::int64_t epoch = step / per_epoch_;
  if (epoch >= static_cast<std::int64_t>(lambda_inv_.size()) || !(lambda_inv_[epoch] > 0)) return 0;
  return static_cast<int>(std::min(batch_, rows_ - (step % per_epoch_) * batch_));
}

std::int64_t PoolSchedule::first_from(std::int64_t step) const {
  if (per_epoch_ == 0) return -1;
  step = std::max<std::int64_t>(step, 0);
  for (std::int64_t e = step / per_epoch_; e < static_cast<std::int64_t>(lambda_inv_.size()); ++e)
    if (lambda_inv_[e] > 0) return std::max(step, e * per_epoch_);
  return -1;
}

LocalSourcePool::LocalSourcePool(const PoolParams& p, std::vector<float> initial, std::optional<Comm> trainers)
    : p_(p), pool_(std::move(initial)), trainers_(std::move(trainers)), stride_(p.a.n_particles * p.a.box.dimension) {}

std::span<const float> LocalSourcePool::next_batch(std::int64_t step, int k, Range mine) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::int64_t P = static_cast<std::int64_t>(pool_.size() / stride_);
  pool_members(P, p_.seed, step, k, order_, members_);
  k_ = k;
  mine_ = mine;
  advanced_.resize(static_cast<std::size_t>(k) * stride_);
  const int count = static_cast<int>(mine.count());
  float* out = advanced_.data() + static_cast<std::size_t>(mine.begin) * stride_;
  starts_.resize(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) starts_[i] = pool_.data() + members_[mine.begin + i] * stride_;
  mc_.advance(p_, step, mine.begin, starts_, out);
  seconds_ += since(t0);
  return {out, static_cast<std::size_t>(count) * stride_};
}

void LocalSourcePool::commit() {
  const auto t0 = std::chrono::steady_clock::now();
  // Each trainer rank advanced its share; all ranks get all of them, so the pools stay equal.
  if (trainers_ && trainers_->size() > 1) trainers_->allgather_blocks(std::span<float>(advanced_), k_, stride_);
  for (std::size_t i = 0; i < members_.size(); ++i)
    std::copy_n(advanced_.data() + i * stride_, stride_, pool_.data() + members_[i] * stride_);
  seconds_ += since(t0);
}

void LocalSourcePool::restore(std::vector<float> contents) {
  if (contents.size() != pool_.size())
    throw Error(ExitCode::failure, fmt::format("LocalSourcePool::restore: {} values for a pool of {}", contents.size(),
                                               pool_.size()));
  pool_ = std::move(contents);
}

}  // namespace boltzmap
