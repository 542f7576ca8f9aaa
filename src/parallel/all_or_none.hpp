// A step that every rank does alike (read the same file, check the same input) fails on every
// rank alike: all_or_none runs it on each rank, then agrees collectively. If it threw anywhere,
// the lowest rank that failed rethrows its own error (and so reports it) while every other rank
// throws ReportedError with the same exit code: one message, one code, no rank left waiting in a
// later collective. Tests: tests/app/faults.sh (a NaN coordinate on 2 ranks is reported once).
#pragma once
#include <exception>

#include "core/error.hpp"
#include "parallel/comm.hpp"

namespace boltzmap {

template <class F>
void all_or_none(const Comm& comm, F&& step) {
  std::exception_ptr mine;
  int code = 0;
  try {
    step();
  } catch (const Error& e) {
    mine = std::current_exception();
    code = static_cast<int>(e.code());
  } catch (...) {
    mine = std::current_exception();
    code = static_cast<int>(ExitCode::failure);
  }
  if (comm.size() == 1) {
    if (mine) std::rethrow_exception(mine);
    return;
  }
  const int first = comm.min(mine ? comm.rank() : comm.size());
  if (first == comm.size()) return;
  MPI_CHECK(MPI_Bcast(&code, 1, MPI_INT, first, comm.raw()));
  if (comm.rank() == first) std::rethrow_exception(mine);
  throw ReportedError(static_cast<ExitCode>(code));
}

}  // namespace boltzmap
