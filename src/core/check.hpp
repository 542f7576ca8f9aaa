// One family of checks for library calls that return status codes. BOLTZMAP_CHECK is the
// generator; MPI_CHECK and H5_CHECK (and CUDA_CHECK, NCCL_CHECK in kernels/) are instances.
// A failure throws boltzmap::Error with the failing statement, file:line, rank and host.
#pragma once
#include <string>

namespace boltzmap {

[[noreturn]] void check_failed(const char* library, const char* statement, const char* file, int line,
                               const std::string& detail);
// "rank 3 on node17": set once MPI is up, used in every check and fatal message.
void set_process_identity(int rank, const std::string& host);
const std::string& process_identity();
// The command line (argv joined by spaces), set once by main: named in run-folder locks.
void set_process_command_line(int argc, char** argv);
const std::string& process_command_line();

}  // namespace boltzmap

#define BOLTZMAP_CHECK(library, call, is_ok, describe)                                           \
  do {                                                                                          \
    const auto boltzmap_rc_ = (call);                                                           \
    if (!is_ok(boltzmap_rc_)) ::boltzmap::check_failed(library, #call, __FILE__, __LINE__, describe(boltzmap_rc_)); \
  } while (0)

#define MPI_CHECK(call) BOLTZMAP_CHECK("MPI", call, ::boltzmap::mpi_ok, ::boltzmap::mpi_describe)
#define H5_CHECK(call) BOLTZMAP_CHECK("HDF5", call, ::boltzmap::h5_ok, ::boltzmap::h5_describe)

namespace boltzmap {
bool mpi_ok(int rc);
std::string mpi_describe(int rc);
inline bool h5_ok(long long rc) { return rc >= 0; }
std::string h5_describe(long long rc);  // walks the HDF5 error stack
// Why an HDF5 write or close of a file failed: strerror(err) when err (errno saved right after
// the call, cleared before it) names an I/O condition (ENOSPC, EDQUOT, EIO, EFBIG, EROFS, EACCES,
// EPERM), since HDF5 leaves unrelated errno values behind; then the HDF5 error stack.
std::string h5_io_reason(int err);
}  // namespace boltzmap
