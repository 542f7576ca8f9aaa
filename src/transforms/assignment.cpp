// Linear assignment by Jonker–Volgenant shortest augmenting paths, and the periodic relabelling
// cost; see assignment.hpp. The augmentation step follows the form of Crouse (IEEE TAES 52, 2016,
// "On implementing 2D rectangular assignment algorithms"), the one SciPy uses: Dijkstra on reduced
// costs with the duals updated once per search rather than once per step. JV's column reduction
// and augmenting row reduction are replaced by a plain row reduction: simpler, with no cycling
// hazards on ties, and enough on the near-lattice matrices we solve.
// Tests: tests/transforms/test_assignment.cpp.
#include "transforms/assignment.hpp"

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <utility>

#include "core/error.hpp"
#include "physics/box.hpp"

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
  double* u = u_.data();
  double* v = v_.data();
  double* dist = dist_.data();
  int* path = path_.data();
  int* col_of_row = col_of_row_.data();
  int* row_of_col = row_of_col_.data();
  int* todo = todo_.data();
  int* scanned = scanned_.data();
  constexpr double inf = std::numeric_limits<double>::infinity();

  // 1. Row reduction. u_i = min_j c_ij, v = 0 is dual feasible: every reduced cost
  //    c_ij − u_i − v_j ≥ 0. Row i takes its cheapest column (the lowest index among equals) if
  //    no earlier row has it; that pair has reduced cost 0, as an assigned pair must.
  for (int j = 0; j < n; ++j) {
    v[j] = 0.0;
    row_of_col[j] = -1;
  }
  for (int i = 0; i < n; ++i) {
    const double* c = cost + static_cast<std::ptrdiff_t>(i) * n;
    double best = c[0];
    int arg = 0;
    bool finite = std::isfinite(c[0]);
    for (int j = 1; j < n; ++j) {
      finite = finite && std::isfinite(c[j]);
      if (c[j] < best) {
        best = c[j];
        arg = j;
      }
    }
    // A NaN would make every comparison false and the search below would never find a column.
    if (!finite) throw numerical_error("LinearAssignment::solve: cost row " + std::to_string(i) + " has NaN or inf");
    u[i] = best;
    if (row_of_col[arg] < 0) {
      row_of_col[arg] = i;
      col_of_row[i] = arg;
    } else {
      col_of_row[i] = -1;
    }
  }

  // 2. One shortest augmenting path per free row r. Dijkstra over columns: a column j is reached
  //    from row i (itself reached at distance d_i) at d_i + c_ij − u_i − v_j, a non-negative edge
  //    length by dual feasibility; an assigned column leads on to its row at the same distance
  //    (the assigned pair is tight). The search stops at the first free column it settles (the
  //    sink). Each step settles one column, so a search takes at most n steps of O(n): O(n²) per
  //    row, O(n³) in all. Round-off can make a reduced cost −1e-16 instead of 0; that costs
  //    exactness at the 1e-16·|cost| level and never termination (one column per step).
  for (int r = 0; r < n; ++r) {
    if (col_of_row[r] >= 0) continue;
    for (int j = 0; j < n; ++j) {
      dist[j] = inf;
      todo[j] = j;
    }
    int n_todo = n, n_scanned = 0, sink = -1;
    int i = r;
    double d_i = 0.0;
    while (sink < 0) {
      const double* c = cost + static_cast<std::ptrdiff_t>(i) * n;
      const double base = d_i - u[i];
      int best_k = 0;
      double best = inf;
      bool best_free = false;
      for (int k = 0; k < n_todo; ++k) {
        const int j = todo[k];
        const double d = base + c[j] - v[j];
        if (d < dist[j]) {
          dist[j] = d;
          path[j] = i;
        }
        // Settle the nearest column; among equals prefer a free one (it ends the search), then
        // the first in todo order. The order of todo depends only on the input: deterministic.
        const bool is_free = row_of_col[j] < 0;
        if (dist[j] < best || (dist[j] == best && is_free && !best_free)) {
          best = dist[j];
          best_k = k;
          best_free = is_free;
        }
      }
      const int j = todo[best_k];
      todo[best_k] = todo[--n_todo];
      scanned[n_scanned++] = j;
      if (row_of_col[j] < 0) {
        sink = j;
      } else {
        i = row_of_col[j];
        d_i = dist[j];
      }
    }

    // Dual update (once per search): with D = dist[sink], u_r += D and, for every settled column j
    // other than the sink and its row k, v_j −= D − dist_j, u_k += D − dist_j. This keeps
    // u_i + v_j ≤ c_ij everywhere and leaves every pair on the new path tight.
    const double D = dist[sink];
    u[r] += D;
    for (int s = 0; s + 1 < n_scanned; ++s) {
      const int j = scanned[s];
      const double delta = D - dist[j];
      u[row_of_col[j]] += delta;
      v[j] -= delta;
    }

    // Augment: walk back from the sink, each row on the path taking the column it was reached
    // through; the last step assigns r.
    int j = sink;
    for (;;) {
      const int k = path[j];
      row_of_col[j] = k;
      std::swap(col_of_row[k], j);
      if (k == r) break;
    }
  }

  double total = 0.0;
  for (int i = 0; i < n; ++i) {
    row_to_col[i] = col_of_row[i];
    total += cost[static_cast<std::ptrdiff_t>(i) * n + col_of_row[i]];
  }
  return total;
}

void periodic_cost(const float* x, const double* sites, int n, int dim, double L, double* cost) {
  const double inv_L = 1.0 / L;
  for (int i = 0; i < n; ++i) {
    const float* xi = x + static_cast<std::ptrdiff_t>(i) * dim;
    double* row = cost + static_cast<std::ptrdiff_t>(i) * n;
    for (int s = 0; s < n; ++s) {
      const double* site = sites + static_cast<std::ptrdiff_t>(s) * dim;
      double r2 = 0.0;
      for (int d = 0; d < dim; ++d) {
        const double u = minimum_image(static_cast<double>(xi[d]) - site[d], L, inv_L);
        r2 += u * u;
      }
      row[s] = r2;
    }
  }
}

}  // namespace boltzmap
