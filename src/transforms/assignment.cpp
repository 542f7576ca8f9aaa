// Linear assignment by Jonker–Volgenant shortest augmenting paths; see assignment.hpp. The
// algorithm itself is assignment_core.hpp's solve_assignment (host/device code, shared with the
// CUDA preprocessing); this class owns its workspace and turns a failure into an Error. The
// augmentation step follows the form of Crouse (IEEE TAES 52, 2016,
// "On implementing 2D rectangular assignment algorithms"), the one SciPy uses: Dijkstra on reduced
// costs with the duals updated once per search rather than once per step. JV's column reduction
// and augmenting row reduction are replaced by a plain row reduction: simpler, with no cycling
// hazards on ties, and enough on the near-lattice matrices we solve.
// Tests: tests/transforms/test_assignment.cpp.
#include "transforms/assignment.hpp"

#include <string>

#include "core/error.hpp"

namespace boltzmap {

LinearAssignment::LinearAssignment(int max_n) : max_n_(max_n) {
  if (max_n < 0) throw Error(ExitCode::failure, "LinearAssignment: max_n must be >= 0, got " + std::to_string(max_n));
  const auto m = static_cast<std::size_t>(max_n);
  u_.resize(m);
  v_.resize(m);
  dist_.resize(m);
  path_.resize(m);
  col_of_row_.resize(m);
  row_of_col_.resize(m);
  todo_.resize(m);
  scanned_.resize(m);
}

double LinearAssignment::solve(const double* cost, int n, int* row_to_col) {
  if (n < 0 || n > max_n_)
    throw Error(ExitCode::failure, "LinearAssignment::solve: n = " + std::to_string(n) + " outside [0, " +
                                       std::to_string(max_n_) + "]");
  if (n == 0) return 0.0;
  const AssignmentWork w{u_.data(),          v_.data(),          dist_.data(), path_.data(),
                         col_of_row_.data(), row_of_col_.data(), todo_.data(), scanned_.data()};
  double total = 0.0;
  const int bad = solve_assignment(cost, n, row_to_col, w, &total);
  if (bad >= 0) throw numerical_error("LinearAssignment::solve: cost row " + std::to_string(bad) + " has NaN or inf");
  return total;
}

}  // namespace boltzmap
