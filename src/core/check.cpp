// See check.hpp.
#include "core/check.hpp"

#include <hdf5.h>
#include <mpi.h>

#include <cerrno>
#include <cstring>

#include "core/debug_sync.hpp"
#include "core/error.hpp"

namespace boltzmap {

namespace {
std::string& identity() {
  static std::string id = "rank 0";
  return id;
}
}  // namespace

void set_process_identity(int rank, const std::string& host) { identity() = "rank " + std::to_string(rank) + " on " + host; }
const std::string& process_identity() { return identity(); }

namespace {
std::string& command_line() {
  static std::string line = "boltzmap";
  return line;
}
}  // namespace

void set_process_command_line(int argc, char** argv) {
  std::string line;
  for (int k = 0; k < argc; ++k) {
    if (k > 0) line += ' ';
    line += argv[k];
  }
  command_line() = line;
}
const std::string& process_command_line() { return command_line(); }

namespace {
bool debug_sync_on = false;
}  // namespace

void set_debug_sync(bool on) { debug_sync_on = on; }
bool debug_sync() { return debug_sync_on; }

void check_failed(const char* library, const char* statement, const char* file, int line, const std::string& detail) {
  throw Error(ExitCode::failure, std::string(library) + " call failed: " + statement + " at " + file + ":" +
                                     std::to_string(line) + " (" + identity() + "): " + detail);
}

bool mpi_ok(int rc) { return rc == MPI_SUCCESS; }

std::string mpi_describe(int rc) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  return std::string(text, len);
}

std::string h5_describe(long long) {
  std::string out;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_DOWNWARD,
      [](unsigned n, const H5E_error2_t* e, void* data) -> herr_t {
        auto* s = static_cast<std::string*>(data);
        if (n < 3 && e->desc) *s += (s->empty() ? "" : "; ") + std::string(e->desc);
        return 0;
      },
      &out);
  return out.empty() ? "no HDF5 error message" : out;
}

std::string h5_io_reason(int err) {
  const std::string stack = h5_describe(-1);
  switch (err) {
    case ENOSPC: case EDQUOT: case EIO: case EFBIG: case EROFS: case EACCES: case EPERM:
      return std::string(std::strerror(err)) + " (HDF5: " + stack + ")";
    default:
      return "HDF5: " + stack;
  }
}

}  // namespace boltzmap
