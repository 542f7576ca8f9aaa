// Exact linear assignment for preprocessing layer 4 (METHOD.md, "Relabel"): the permutation of
// N − 1 particles onto the N − 1 reference-lattice sites minimising Σ |minimum-image(x_i − r_s)|².
// LinearAssignment solves min Σ_i cost[i][σ(i)] over permutations σ exactly in O(n³) worst case
// with Jonker–Volgenant's shortest augmenting paths (a row-reduction start, then one Dijkstra
// search per row left unassigned); on near-lattice liquids most rows are placed by the start and
// a call costs close to O(n²). periodic_cost (assignment_core.hpp) builds the cost matrix. The
// algorithm is assignment_core.hpp's solve_assignment, which the CUDA preprocessing runs too.
// Tests: tests/transforms/test_assignment.cpp (brute force over all permutations for n ≤ 8, an
// optimality certificate for n = 31, greedy/random comparisons, boundary and tie cases).
// Bench: bench/bench_assignment.cpp.
#pragma once
#include <vector>

#include "transforms/assignment_core.hpp"

namespace boltzmap {

// Exact min-cost perfect matching of an n×n cost matrix (Jonker–Volgenant shortest augmenting
// path, O(n³)). All workspace is allocated by the constructor; solve() never allocates. Not
// thread-safe per object: use one object per thread.
class LinearAssignment {
 public:
  explicit LinearAssignment(int max_n);

  // cost: [row][column] row-major n×n, double (rows = particles, columns = sites); n ≤ max_n.
  // Writes row_to_col[i] = the column assigned to row i (a permutation of 0..n−1). Returns the
  // optimal total, summed as Σ_{i = 0..n−1} cost[i][row_to_col[i]] in row order, so it equals
  // that sum bit for bit. Ties are broken deterministically (same input, same answer, on any
  // object). Throws boltzmap::Error if n is out of range or a cost is NaN or infinite; finite
  // costs must also have finite differences (|c| far below DBL_MAX), as reduced costs are formed.
  double solve(const double* cost, int n, int* row_to_col);

  int max_n() const { return max_n_; }

 private:
  int max_n_;
  // Workspace, [max_n] each. Duals u (rows) and v (columns) satisfy u_i + v_j ≤ c_ij with
  // equality on assigned pairs (complementary slackness), which is what makes the result exact.
  std::vector<double> u_, v_;
  std::vector<double> dist_;      // [column] shortest reduced path length from the free row
  std::vector<int> path_;         // [column] row preceding the column on its shortest path
  std::vector<int> col_of_row_;   // [row] assigned column or −1
  std::vector<int> row_of_col_;   // [column] assigned row or −1
  std::vector<int> todo_;         // columns not yet scanned in the current search
  std::vector<int> scanned_;      // columns scanned in the current search, in order
};

}  // namespace boltzmap
