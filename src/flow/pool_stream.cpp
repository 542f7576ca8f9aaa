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
    : p_(p),
      mirror_(std::move(initial)),
      link_(std::move(link)),
      b_rows_(b_train_rows),
      stride_(p.a.n_particles * p.a.box.dimension),
      received_(static_cast<std::size_t>(link_.samplers())) {}

std::span<const float> StreamedSourcePool::next_batch(std::int64_t step, int k, Range mine) {
  const int S = link_.samplers();
  const std::int64_t P = static_cast<std::int64_t>(mirror_.size() / stride_);
  const bool root = link_.world.rank() == 0;
  if (!started_ && root)
    for (int j = 0; j < S; ++j) {
      send_control(link_, j, {kStart, step, P, b_rows_});
      const Range own = block_of(P, j, S);
      link_.world.send(std::span<const float>(mirror_.data() + own.begin * stride_, static_cast<std::size_t>(own.count()) * stride_),
                       link_.trainers + j, kContents);
    }
  started_ = true;
  step_ = step;
  pool_members(P, p_.seed, step, k, order_, members_);
  // Sampler j sends the rows whose member it owns, in batch order. The receives are posted before
  // the request goes out, so a sampler's send finds them waiting.
  std::vector<int> count(static_cast<std::size_t>(S), 0);
  for (const std::int64_t m : members_) ++count[static_cast<std::size_t>(block_owner(m, P, S))];
  std::vector<Request> recvs;
  for (int j = 0; j < S; ++j) {
    received_[j].resize(static_cast<std::size_t>(count[j]) * stride_);
    recvs.push_back(link_.world.irecv(std::span<float>(received_[j]), link_.trainers + j, kBatch));
  }
  const auto t0 = std::chrono::steady_clock::now();
  if (root)
    for (int j = 0; j < S; ++j) send_control(link_, j, {kRequest, step, k, 0});
  for (auto& r : recvs) r.wait();
  seconds_ += since(t0);
  batch_.resize(static_cast<std::size_t>(k) * stride_);
  std::fill(count.begin(), count.end(), 0);
  for (int i = 0; i < k; ++i) {
    const auto j = static_cast<std::size_t>(block_owner(members_[i], P, S));
    std::copy_n(received_[j].data() + static_cast<std::size_t>(count[j]++) * stride_, stride_,
                batch_.data() + static_cast<std::size_t>(i) * stride_);
  }
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

PoolServer::PoolServer(const PoolParams& p, const TrainingSettings& t, PoolLink link)
    : p_(p),
      training_(t),
      link_(std::move(link)),
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
  return advance_one(ahead_);
}

void PoolServer::handle(const Control& m) {
  const int S = link_.samplers();
  switch (m[0]) {
    case kStart: {
      release(pending_);
      release(ahead_);
      P_ = m[2];
      own_ = block_of(P_, index_, S);
      rows_.resize(static_cast<std::size_t>(own_.count()) * stride_);
      link_.world.recv(std::span<float>(rows_), 0, kContents);
      pending_row_.assign(static_cast<std::size_t>(own_.count()), -1);
      schedule_.assign(1, PoolSchedule(training_, m[3]));
      const std::int64_t first = schedule_[0].first_from(m[1]);
      if (first >= 0) prepare(ahead_, first, schedule_[0].rows_at(first));
      return;
    }
    case kRequest: {
      // A pending step still undecided was rejected: its members keep their configurations, and
      // the rows of the prepared batch that started from its rows are done again.
      if (pending_.step >= 0) {
        for (std::size_t n = 0; n < ahead_.rows.size(); ++n)
          if (ahead_.guessed[n]) {
            ahead_.done[n] = ahead_.guessed[n] = 0;
            ++ahead_.left;
          }
        release(pending_);
      }
      const bool ready = ahead_.step == m[1] && static_cast<std::int64_t>(ahead_.members.size()) == m[2];
      if (!ready) prepare(ahead_, m[1], static_cast<int>(m[2]));
      stats_.prepared += ready && ahead_.left == 0;
      ++stats_.batches;
      while (advance_one(ahead_)) {
      }
      for (int t = 0; t < link_.trainers; ++t) ahead_.sends.push_back(link_.world.isend(std::span<const float>(ahead_.out), t, kBatch));
      std::swap(pending_, ahead_);
      for (std::size_t n = 0; n < pending_.rows.size(); ++n)
        pending_row_[static_cast<std::size_t>(pending_.members[pending_.rows[n]] - own_.begin)] = static_cast<std::int64_t>(n);
      const std::int64_t next = schedule_.empty() ? -1 : schedule_[0].next_after(m[1]);
      if (next >= 0) prepare(ahead_, next, schedule_[0].rows_at(next));
      return;
    }
    case kCommit: {
      if (pending_.step != m[1])
        throw Error(ExitCode::failure, fmt::format("PoolServer: commit of step {} while step {} is pending (a bug)", m[1], pending_.step));
      for (auto& r : pending_.sends) r.wait();
      for (std::size_t n = 0; n < pending_.rows.size(); ++n) {
        const std::int64_t member = pending_.members[pending_.rows[n]];
        std::copy_n(pending_.out.data() + n * stride_, stride_, row(member).data());
      }
      std::fill(ahead_.guessed.begin(), ahead_.guessed.end(), 0);  // the guess was right
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
  pool_members(P_, p_.seed, step, k, order_, b.members);
  b.rows.clear();
  for (int i = 0; i < k; ++i)
    if (b.members[i] >= own_.begin && b.members[i] < own_.end) b.rows.push_back(i);
  b.out.resize(b.rows.size() * stride_);
  b.done.assign(b.rows.size(), 0);
  b.guessed.assign(b.rows.size(), 0);
  b.left = b.rows.size();
}

bool PoolServer::advance_one(Batch& b) {
  if (b.step < 0 || b.left == 0) return false;
  for (std::size_t n = 0; n < b.rows.size(); ++n) {
    const std::int64_t member = b.members[b.rows[n]];
    if (b.done[n]) continue;
    // The member as the pending step leaves it if accepted (a guess), else as the pool has it.
    const std::int64_t from = pending_.step >= 0 ? pending_row_[static_cast<std::size_t>(member - own_.begin)] : -1;
    const std::span<const float> start =
        from >= 0 ? std::span<const float>(pending_.out.data() + static_cast<std::size_t>(from) * stride_, stride_) : row(member);
    const auto t0 = std::chrono::steady_clock::now();
    advance_pool_row(p_, b.step, b.rows[n], start, std::span<float>(b.out.data() + n * stride_, stride_));
    b.guessed[n] = from >= 0;
    stats_.busy_seconds += since(t0);
    b.done[n] = 1;
    --b.left;
    return true;
  }
  return false;
}

void PoolServer::release(Batch& b) {
  for (auto& r : b.sends) r.wait();
  if (&b == &pending_)
    for (const int i : b.rows) pending_row_[static_cast<std::size_t>(b.members[i] - own_.begin)] = -1;
  b.sends.clear();
  b.step = -1;
  b.members.clear();
  b.rows.clear();
  b.left = 0;
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
