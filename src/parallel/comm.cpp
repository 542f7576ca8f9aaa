// See comm.hpp.
#include "parallel/comm.hpp"

#include <hdf5.h>
#include <unistd.h>

namespace boltzmap {

Comm::Comm(MPI_Comm c) : comm_(c) {
  MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
  MPI_CHECK(MPI_Comm_size(comm_, &size_));
}

Comm::Comm(MPI_Comm c, std::shared_ptr<MPI_Comm> owned) : Comm(c) { owned_ = std::move(owned); }

namespace {

// Frees a communicator this process made when its last holder goes.
std::shared_ptr<MPI_Comm> own(MPI_Comm c) {
  return std::shared_ptr<MPI_Comm>(new MPI_Comm(c), [](MPI_Comm* p) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized && *p != MPI_COMM_NULL) MPI_Comm_free(p);  // no throw from a destructor
    delete p;
  });
}

}  // namespace

Comm Comm::split(Role role) const {
  MPI_Comm out = MPI_COMM_NULL;
  MPI_CHECK(MPI_Comm_split(comm_, static_cast<int>(role), rank_, &out));
  return Comm(out, own(out));
}

Comm Comm::node_local() const {
  MPI_Comm out = MPI_COMM_NULL;
  MPI_CHECK(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &out));
  return Comm(out, own(out));
}

Comm Comm::duplicate() const {
  MPI_Comm out = MPI_COMM_NULL;
  MPI_CHECK(MPI_Comm_dup(comm_, &out));
  return Comm(out, own(out));
}

std::vector<std::string> Comm::gather(const std::string& s) const {
  int len = static_cast<int>(s.size());
  std::vector<int> lens(size_);
  MPI_CHECK(MPI_Gather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, 0, comm_));
  std::vector<int> displs(size_, 0);
  int total = 0;
  for (int r = 0; r < size_; ++r) {
    displs[r] = total;
    total += lens[r];
  }
  std::string all(root() ? total : 0, '\0');
  MPI_CHECK(MPI_Gatherv(s.data(), len, MPI_CHAR, all.data(), lens.data(), displs.data(), MPI_CHAR, 0, comm_));
  std::vector<std::string> out;
  if (root())
    for (int r = 0; r < size_; ++r) out.push_back(all.substr(displs[r], lens[r]));
  return out;
}

void Comm::broadcast(std::string& s) const {
  int len = static_cast<int>(s.size());
  MPI_CHECK(MPI_Bcast(&len, 1, MPI_INT, 0, comm_));
  s.resize(len);
  MPI_CHECK(MPI_Bcast(s.data(), len, MPI_CHAR, 0, comm_));
}

MpiSession::MpiSession(int* argc, char*** argv) {
  int provided = 0;
  MPI_CHECK(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided));
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  set_process_identity(rank, host_name());
}

MpiSession::~MpiSession() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  // Shut HDF5 down while MPI still works: otherwise its cleanup runs inside MPI_Finalize (an
  // attribute callback on MPI_COMM_SELF) and closes whatever ids are still open there. (The
  // segfaults at exit after a full disk came from that cleanup: groups left open by an exception,
  // and the file id, of a file whose H5Fclose had failed; HDF5 1.10 frees such a file but keeps
  // its id. The writers now close every id, and main() ends before this when a close could not
  // complete: io/h5util.hpp, note_unclosable_hdf5_file.)
  H5close();
  MPI_Finalize();
}

std::string host_name() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

}  // namespace boltzmap
