// See source_pool.hpp.
#include "flow/source_pool.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "sampling/walkers.hpp"

namespace boltzmap {

LocalSourcePool::LocalSourcePool(const System& a, std::uint64_t seed, int batch_size, std::int64_t mc_steps,
                                 float step_size, std::vector<float> initial, std::optional<Comm> trainers)
    : a_(a),
      seed_(seed),
      batch_size_(batch_size),
      mc_steps_(mc_steps),
      step_size_(step_size),
      pool_(std::move(initial)),
      trainers_(std::move(trainers)),
      stride_(a.n_particles * a.box.dimension) {}

std::span<const float> LocalSourcePool::next_batch(std::int64_t step, int k, Range mine) {
  const std::int64_t P = static_cast<std::int64_t>(pool_.size() / stride_);
  members_.resize(static_cast<std::size_t>(k));
  if (P > k) {  // without replacement: the first k of a random permutation
    keyed_permutation(P, seed_, RngStream::Pool, static_cast<std::uint32_t>(step), order_);
    std::copy_n(order_.begin(), k, members_.begin());
  } else {
    for (int i = 0; i < k; ++i) {
      const Random4 r = philox(seed_, RngStream::Pool, static_cast<std::uint32_t>(step), (1ull << 40) + i);
      members_[i] = uniform_index(r.v[0], static_cast<std::uint32_t>(P));
    }
  }
  k_ = k;
  mine_ = mine;
  advanced_.resize(static_cast<std::size_t>(k) * stride_);
  const int count = static_cast<int>(mine.count());
  float* out = advanced_.data() + static_cast<std::size_t>(mine.begin) * stride_;
  if (count == 0) return {out, 0};
  // Walker ids step·batch_size + i (the configured size, not this batch's k, which is smaller for
  // an epoch's last batch): every refresh draws its own moves, and member i's moves are the same
  // whichever rank advances it.
  const auto first = static_cast<std::uint32_t>(step * batch_size_ + mine.begin);
  WalkerSet ws(a_, seed_, first, count, std::span<const float>(pool_.data() + members_[mine.begin] * stride_, stride_));
  for (int i = 0; i < count; ++i)
    ws.set_configuration(i, std::span<const float>(pool_.data() + members_[mine.begin + i] * stride_, stride_));
  if (mc_steps_ > 0) ws.run(static_cast<std::uint64_t>(mc_steps_), step_size_);
  for (int i = 0; i < count; ++i)
    ws.configuration(i, std::span<float>(out + static_cast<std::size_t>(i) * stride_, stride_));
  return {out, static_cast<std::size_t>(count) * stride_};
}

void LocalSourcePool::commit() {
  // Each trainer rank advanced its share; all ranks get all of them, so the pools stay equal.
  if (trainers_ && trainers_->size() > 1) trainers_->allgather_blocks(std::span<float>(advanced_), k_, stride_);
  for (std::size_t i = 0; i < members_.size(); ++i)
    std::copy_n(advanced_.data() + i * stride_, stride_, pool_.data() + members_[i] * stride_);
}

void LocalSourcePool::restore(std::vector<float> contents) {
  if (contents.size() != pool_.size())
    throw Error(ExitCode::failure, fmt::format("LocalSourcePool::restore: {} values for a pool of {}", contents.size(),
                                               pool_.size()));
  pool_ = std::move(contents);
}

}  // namespace boltzmap
