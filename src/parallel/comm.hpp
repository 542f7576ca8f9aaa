// MPI: the session (init/finalize), and a typed communicator wrapper so nobody passes byte
// counts or datatypes by hand. Works without mpirun (a singleton: one rank plays every role).
// split(role) makes the communicator of the ranks of one role (parallel/roles.hpp), freed with
// the last copy of the Comm that holds it. Tests: tests/mpi/ (exact integer collectives under
// mpiexec -n 2 and -n 3: mpi_roles_np3 for split; mpi_comm_blocks_np1..4 for gather_blocks and
// allgather_blocks). Point-to-point messages (typed, non-blocking with a Request, or blocking)
// carry the streamed source pool (flow/pool_stream.hpp): covered by mpi_pool_stream_np1_2_4 and
// mpi_signals_np2.
#pragma once
#include <mpi.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/check.hpp"
#include "parallel/roles.hpp"

namespace boltzmap {

template <class T> MPI_Datatype mpi_type();
template <> inline MPI_Datatype mpi_type<double>() { return MPI_DOUBLE; }
template <> inline MPI_Datatype mpi_type<float>() { return MPI_FLOAT; }
template <> inline MPI_Datatype mpi_type<int>() { return MPI_INT; }
template <> inline MPI_Datatype mpi_type<std::int64_t>() { return MPI_INT64_T; }
template <> inline MPI_Datatype mpi_type<std::uint64_t>() { return MPI_UINT64_T; }

// A pending non-blocking operation (isend, irecv, iallreduce_max_begin). Move-only; it must be
// completed (test() true, or wait()) before the buffer it names is reused or freed.
class Request {
 public:
  Request() = default;
  explicit Request(MPI_Request r) : r_(r) {}
  Request(Request&& o) noexcept : r_(o.r_) { o.r_ = MPI_REQUEST_NULL; }
  Request& operator=(Request&& o) noexcept {
    std::swap(r_, o.r_);
    return *this;
  }
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;
  bool active() const { return r_ != MPI_REQUEST_NULL; }
  // True when done (a completed or empty request); the request is then empty.
  bool test() {
    if (r_ == MPI_REQUEST_NULL) return true;
    int done = 0;
    MPI_CHECK(MPI_Test(&r_, &done, MPI_STATUS_IGNORE));
    return done != 0;
  }
  void wait() {
    if (r_ != MPI_REQUEST_NULL) MPI_CHECK(MPI_Wait(&r_, MPI_STATUS_IGNORE));
  }

 private:
  MPI_Request r_ = MPI_REQUEST_NULL;
};

class Comm {
 public:
  explicit Comm(MPI_Comm c = MPI_COMM_WORLD);
  int rank() const { return rank_; }
  int size() const { return size_; }
  bool root() const { return rank_ == 0; }
  MPI_Comm raw() const { return comm_; }

  // Collective over this communicator: the communicator of the ranks whose role equals this
  // rank's (MPI_Comm_split with the role as colour, keeping the rank order). The new communicator
  // is freed (MPI_Comm_free) when the last copy of the returned Comm goes.
  Comm split(Role role) const;
  // Collective: the communicator of this rank's node (the ranks that share its memory,
  // MPI_Comm_split_type SHARED, in rank order): its rank() is the node-local rank that picks the
  // GPU (core/backend.hpp assign_device). Freed like split's.
  Comm node_local() const;
  // Collective: a communicator of the same ranks in the same order whose messages never match
  // this one's (MPI_Comm_dup), freed like split's.
  Comm duplicate() const;

  // Point-to-point, typed: the count is the span's size. A receive must name the size sent.
  template <class T> Request isend(std::span<const T> v, int dest, int tag) const {
    MPI_Request r;
    MPI_CHECK(MPI_Isend(v.data(), static_cast<int>(v.size()), mpi_type<T>(), dest, tag, comm_, &r));
    return Request(r);
  }
  template <class T> Request irecv(std::span<T> v, int source, int tag) const {
    MPI_Request r;
    MPI_CHECK(MPI_Irecv(v.data(), static_cast<int>(v.size()), mpi_type<T>(), source, tag, comm_, &r));
    return Request(r);
  }
  template <class T> void send(std::span<const T> v, int dest, int tag) const {
    MPI_CHECK(MPI_Send(v.data(), static_cast<int>(v.size()), mpi_type<T>(), dest, tag, comm_));
  }
  template <class T> void recv(std::span<T> v, int source, int tag) const {
    MPI_CHECK(MPI_Recv(v.data(), static_cast<int>(v.size()), mpi_type<T>(), source, tag, comm_, MPI_STATUS_IGNORE));
  }

  template <class T> void allreduce_sum(std::span<T> v) const {
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, v.data(), static_cast<int>(v.size()), mpi_type<T>(), MPI_SUM, comm_));
  }
  template <class T> T sum(T v) const {
    allreduce_sum(std::span<T>(&v, 1));
    return v;
  }
  template <class T> T max(T v) const {
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &v, 1, mpi_type<T>(), MPI_MAX, comm_));
    return v;
  }
  template <class T> T min(T v) const {
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &v, 1, mpi_type<T>(), MPI_MIN, comm_));
    return v;
  }
  // An element-wise max over the ranks as a non-blocking collective: it matches only iallreduce_max
  // on the other ranks (MPI never matches a non-blocking collective with a blocking one).
  // idle_wait polls with 5 ms sleeps instead of spinning, for a rank that waits long while another
  // computes (the non-root ranks while rank 0 trains an epoch): on a shared node the waiting rank
  // leaves its core to the one that works.
  template <class T> void iallreduce_max(std::span<T> v, bool idle_wait) const {
    Request req = iallreduce_max_begin(v);
    if (!idle_wait) return req.wait();
    while (!req.test()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // The same collective, left pending: v holds the result once the request is done (a rank that
  // has other work while it waits: a sampler rank serving the source pool).
  template <class T> Request iallreduce_max_begin(std::span<T> v) const {
    MPI_Request req;
    MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, v.data(), static_cast<int>(v.size()), mpi_type<T>(), MPI_MAX, comm_, &req));
    return Request(req);
  }
  // In place: v holds `items` rows of `stride` elements; rank r's rows block_of(items, r, size)
  // (its own part, filled in) go to every rank, so that all ranks hold all rows.
  template <class T> void allgather_blocks(std::span<T> v, std::int64_t items, int stride) const;
  // Rank r's rows block_of(items, r, size) of `stride` elements each (mine) into `all` on rank 0
  // (items·stride elements there; ignored elsewhere).
  template <class T> void gather_blocks(std::span<const T> mine, std::span<T> all, std::int64_t items, int stride) const;
  // Element-wise max over the ranks, in place.
  template <class T> void allreduce_max(std::span<T> v) const {
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, v.data(), static_cast<int>(v.size()), mpi_type<T>(), MPI_MAX, comm_));
  }
  // Every rank's `mine` (any length, 0 included) concatenated in rank order, on every rank.
  template <class T> std::vector<T> allgather_concat(std::span<const T> mine) const {
    const int n = static_cast<int>(mine.size());
    std::vector<int> counts(static_cast<std::size_t>(size_)), displs(static_cast<std::size_t>(size_));
    MPI_CHECK(MPI_Allgather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, comm_));
    int total = 0;
    for (int r = 0; r < size_; ++r) {
      displs[static_cast<std::size_t>(r)] = total;
      total += counts[static_cast<std::size_t>(r)];
    }
    std::vector<T> all(static_cast<std::size_t>(total));
    MPI_CHECK(MPI_Allgatherv(mine.data(), n, mpi_type<T>(), all.data(), counts.data(), displs.data(), mpi_type<T>(), comm_));
    return all;
  }
  void barrier() const { MPI_CHECK(MPI_Barrier(comm_)); }
  // Every rank's string, on rank 0 (empty elsewhere).
  std::vector<std::string> gather(const std::string& s) const;
  // Rank 0's value of s, on every rank.
  void broadcast(std::string& s) const;

 private:
  Comm(MPI_Comm c, std::shared_ptr<MPI_Comm> owned);
  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
  std::shared_ptr<MPI_Comm> owned_;  // set when this Comm made the communicator (split): frees it
};

// Initialises MPI (thread level FUNNELED: OpenMP threads never call MPI) and finalizes it.
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
};

std::string host_name();

// Contiguous block [begin, end) of `total` items owned by `rank` of `size` (balanced).
struct Range {
  std::int64_t begin, end;
  std::int64_t count() const { return end - begin; }
};
inline Range block_of(std::int64_t total, int rank, int size) {
  return {total * rank / size, total * (rank + 1) / size};
}

template <class T> void Comm::allgather_blocks(std::span<T> v, std::int64_t items, int stride) const {
  std::vector<int> counts(static_cast<std::size_t>(size_)), displs(static_cast<std::size_t>(size_));
  for (int r = 0; r < size_; ++r) {
    const Range b = block_of(items, r, size_);
    counts[r] = static_cast<int>(b.count() * stride);
    displs[r] = static_cast<int>(b.begin * stride);
  }
  MPI_CHECK(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, v.data(), counts.data(), displs.data(), mpi_type<T>(), comm_));
}

template <class T> void Comm::gather_blocks(std::span<const T> mine, std::span<T> all, std::int64_t items, int stride) const {
  std::vector<int> counts(static_cast<std::size_t>(size_)), displs(static_cast<std::size_t>(size_));
  for (int r = 0; r < size_; ++r) {
    const Range b = block_of(items, r, size_);
    counts[r] = static_cast<int>(b.count() * stride);
    displs[r] = static_cast<int>(b.begin * stride);
  }
  MPI_CHECK(MPI_Gatherv(mine.data(), counts[rank_], mpi_type<T>(), all.data(), counts.data(), displs.data(), mpi_type<T>(), 0,
                        comm_));
}

}  // namespace boltzmap
