// See pool_stream.hpp.
#include "flow/pool_stream.hpp"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "core/error.hpp"

namespace boltzmap {

namespace {

enum Tag : int { kControl = 1, kContents = 2, kBatch = 3, kStats = 4 };
enum Kind : std::int64_t { kStart = 1, kRequest = 2, kCommit = 3, kStop = 4 };
using Control = std::array<std::int64_t, 4>;

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void send_control(const PoolLink& link, int sampler, Control m) {
  link.world.send(std::span<const std::int64_t>(m), link.trainers + sampler, kControl);
}

}  // namespace

StreamedSourcePool::StreamedSourcePool(const PoolParams& p, std::vector<float> initial, PoolLink link,
                                       std::int64_t b_train_rows)
    : p_(p), mirror_(std::move(initial)), link_(std::move(link)), b_rows_(b_train_rows), stride_(p.a.n_particles * p.a.box.dimension) {}

std::span<const float> StreamedSourcePool::next_batch(std::int64_t step, int k, Range mine) {
  const int S = link_.samplers();
  const std::int64_t P = static_cast<std::int64_t>(mirror_.size() / stride_);
  const bool root = link_.world.rank() == 0;
  if (!started_ && root)
    for (int j = 0; j < S; ++j) {
      send_control(link_, j, {kStart, step, P, b_rows_});
      link_.world.send(std::span<const float>(mirror_), link_.trainers + j, kContents);
    }
  started_ = true;
  step_ = step;
  // Sampler j sends the rows block_of(k, j, S). The receives are posted before the request goes
  // out, so a sampler's send finds them waiting.
  batch_.resize(static_cast<std::size_t>(k) * stride_);
  std::vector<Request> recvs;
  for (int j = 0; j < S; ++j) {
    const Range b = block_of(k, j, S);
    recvs.push_back(link_.world.irecv(std::span<float>(batch_.data() + b.begin * stride_, static_cast<std::size_t>(b.count()) * stride_),
                                      link_.trainers + j, kBatch));
  }
  const auto t0 = std::chrono::steady_clock::now();
  if (root)
    for (int j = 0; j < S; ++j) send_control(link_, j, {kRequest, step, k, 0});
  for (auto& r : recvs) r.wait();
  seconds_ += since(t0);
  pool_members(P, p_.seed, step, k, order_, members_);  // for commit()
  return {batch_.data() + mine.begin * stride_, static_cast<std::size_t>(mine.count()) * stride_};
}

void StreamedSourcePool::commit() {
  // In batch order, as LocalSourcePool: with draws with replacement the last of equal members wins.
  for (std::size_t i = 0; i < members_.size(); ++i)
    std::copy_n(batch_.data() + i * stride_, stride_, mirror_.data() + members_[i] * stride_);
  if (link_.world.rank() == 0)
    for (int j = 0; j < link_.samplers(); ++j) send_control(link_, j, {kCommit, step_, 0, 0});
}

void StreamedSourcePool::restore(std::vector<float> contents) {
  if (contents.size() != mirror_.size())
    throw Error(ExitCode::failure, fmt::format("StreamedSourcePool::restore: {} values for a pool of {}", contents.size(),
                                               mirror_.size()));
  mirror_ = std::move(contents);
  started_ = false;
}

PoolServer::PoolServer(const PoolParams& p, const TrainingSettings& t, PoolLink link, Comm samplers)
    : p_(p),
      training_(t),
      link_(std::move(link)),
      samplers_(std::move(samplers)),
      index_(link_.world.rank() - link_.trainers),
      stride_(p.a.n_particles * p.a.box.dimension) {
  control_req_ = link_.world.irecv(std::span<std::int64_t>(control_), 0, kControl);
}

bool PoolServer::poll() {
  if (stopped_) return false;
  if (control_req_.test()) {
    const Control m = control_;
    if (m[0] != kStop) control_req_ = link_.world.irecv(std::span<std::int64_t>(control_), 0, kControl);
    handle(m);
    return true;
  }
  return advance_some(ahead_);
}

void PoolServer::handle(const Control& m) {
  switch (m[0]) {
    case kStart: {
      release(pending_);
      release(ahead_);
      pool_.resize(static_cast<std::size_t>(m[2]) * stride_);
      link_.world.recv(std::span<float>(pool_), 0, kContents);
      from_.assign(static_cast<std::size_t>(m[2]), -1);
      schedule_.assign(1, PoolSchedule(training_, m[3]));
      const std::int64_t first = schedule_[0].first_from(m[1]);
      if (first >= 0) prepare(ahead_, first, schedule_[0].rows_at(first));
      return;
    }
    case kRequest: {
      // A pending step still undecided was rejected: its members keep their configurations, and a
      // prepared batch that guessed otherwise is done again.
      if (pending_.step >= 0) {
        if (ahead_.guessed) {
          ahead_.done = 0;
          ahead_.guessed = false;
        }
        release(pending_);
      }
      const int k = static_cast<int>(m[2]);
      const bool ready = ahead_.step == m[1] && static_cast<int>(ahead_.members.size()) == k;
      if (!ready) prepare(ahead_, m[1], k);
      stats_.prepared += ready && ahead_.done == ahead_.mine.count();
      ++stats_.batches;
      while (advance_some(ahead_)) {
      }
      const std::span<const float> mine(ahead_.out.data() + ahead_.mine.begin * stride_,
                                        static_cast<std::size_t>(ahead_.mine.count()) * stride_);
      for (int t = 0; t < link_.trainers; ++t) ahead_.sends.push_back(link_.world.isend(mine, t, kBatch));
      // Every sampler gets every row: for the commit, and for the next batch's guesses. (MPI-3
      // lets the allgather read the rows the sends are still reading.)
      if (samplers_.size() > 1) samplers_.allgather_blocks(std::span<float>(ahead_.out), k, stride_);
      std::swap(pending_, ahead_);
      for (int i = 0; i < k; ++i) from_[static_cast<std::size_t>(pending_.members[i])] = i;  // the last wins
      const std::int64_t next = schedule_.empty() ? -1 : schedule_[0].next_after(m[1]);
      if (next >= 0) prepare(ahead_, next, schedule_[0].rows_at(next));
      return;
    }
    case kCommit: {
      if (pending_.step != m[1])
        throw Error(ExitCode::failure, fmt::format("PoolServer: commit of step {} while step {} is pending (a bug)", m[1], pending_.step));
      // In batch order, as LocalSourcePool: with draws with replacement the last of equal members wins.
      for (std::size_t i = 0; i < pending_.members.size(); ++i)
        std::copy_n(pending_.out.data() + i * stride_, stride_, pool_.data() + pending_.members[i] * stride_);
      ahead_.guessed = false;  // the guess was right
      release(pending_);
      return;
    }
    case kStop: {
      release(pending_);
      release(ahead_);
      stopped_ = true;
      const std::array<double, 3> s = {static_cast<double>(stats_.batches), static_cast<double>(stats_.prepared),
                                       stats_.busy_seconds};
      link_.world.send(std::span<const double>(s), 0, kStats);
      return;
    }
    default: throw Error(ExitCode::failure, fmt::format("PoolServer: control message {} (a bug)", m[0]));
  }
}

void PoolServer::prepare(Batch& b, std::int64_t step, int k) {
  release(b);
  b.step = step;
  pool_members(static_cast<std::int64_t>(pool_.size() / stride_), p_.seed, step, k, order_, b.members);
  b.mine = block_of(k, samplers_.rank(), samplers_.size());
  b.out.resize(static_cast<std::size_t>(k) * stride_);
  b.done = 0;
  b.guessed = false;
}

bool PoolServer::advance_some(Batch& b) {
  // Runs of 64 rows (4 SIMD blocks; ≈ 3 ms of MC at pool_mc_steps = 500, N = 32) between looks
  // at the control messages; on the GPU the whole share at once (a warp per walker: 64 walkers
  // would leave it nearly idle).
  const std::int64_t kRun = mc_.kind() == McEngineKind::cuda ? b.mine.count() : 64;
  if (b.step < 0 || b.done == b.mine.count()) return false;
  const std::int64_t i0 = b.mine.begin + b.done, n = std::min(kRun, b.mine.count() - b.done);
  starts_.resize(static_cast<std::size_t>(n));
  for (std::int64_t w = 0; w < n; ++w) {
    // The member as the pending step leaves it if accepted (a guess), else as the pool has it.
    const std::int64_t member = b.members[i0 + w];
    const std::int64_t from = pending_.step >= 0 ? from_[static_cast<std::size_t>(member)] : -1;
    starts_[w] = from >= 0 ? pending_.out.data() + from * stride_ : pool_.data() + member * stride_;
    b.guessed |= from >= 0;
  }
  const auto t0 = std::chrono::steady_clock::now();
  mc_.advance(p_, b.step, i0, starts_, b.out.data() + i0 * stride_);
  stats_.busy_seconds += since(t0);
  b.done += n;
  return true;
}

void PoolServer::release(Batch& b) {
  for (auto& r : b.sends) r.wait();
  b.sends.clear();
  if (&b == &pending_)
    for (const std::int64_t m : b.members) from_[static_cast<std::size_t>(m)] = -1;
  b.step = -1;
  b.members.clear();
  b.done = 0;
  b.guessed = false;
}

PoolStats stop_pool_servers(const PoolLink& link) {
  PoolStats total;
  for (int j = 0; j < link.samplers(); ++j) send_control(link, j, {kStop, 0, 0, 0});
  for (int j = 0; j < link.samplers(); ++j) {
    std::array<double, 3> s{};
    link.world.recv(std::span<double>(s), link.trainers + j, kStats);
    total.batches += static_cast<std::int64_t>(s[0]);
    total.prepared += static_cast<std::int64_t>(s[1]);
    total.busy_seconds += s[2];
  }
  return total;
}

}  // namespace boltzmap
