// Errors and exit codes. Library code throws boltzmap::Error with a category; main() catches,
// logs (with the rank) and exits with the category's code, calling MPI_Abort when other ranks
// might wait in a collective. Tests assert both the message and the code.
#pragma once
#include <stdexcept>
#include <string>

namespace boltzmap {

enum class ExitCode : int {
  ok = 0,
  failure = 1,    // internal error / bug
  usage = 2,      // bad command line
  input = 3,      // bad input file or --set override (file, line, key, what is allowed)
  io = 4,         // a file could not be read or written
  numerical = 5,  // NaN/inf or a diverging computation
  backend = 6,    // a requested backend (cuda) is not available
};

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& what) : std::runtime_error(what), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

// An error that another rank has already reported (rank 0 read the input and failed, found that
// the ranks disagree, or a step all ranks did alike failed first there: parallel/all_or_none.hpp): this rank exits with the same code without printing it again, so a
// 64-rank job prints one message, not 64.
class ReportedError : public Error {
 public:
  explicit ReportedError(ExitCode code) : Error(code, "reported by another rank") {}
};

inline Error input_error(const std::string& what) { return Error(ExitCode::input, what); }
inline Error io_error(const std::string& what) { return Error(ExitCode::io, what); }
inline Error numerical_error(const std::string& what) { return Error(ExitCode::numerical, what); }

}  // namespace boltzmap
