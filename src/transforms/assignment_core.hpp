// The exact linear assignment of preprocessing layer 4 (METHOD.md, "Relabel") as host/device code
// (core/hd.hpp): one function body that LinearAssignment (assignment.hpp, the CPU's solver) and
// the CUDA preprocessing (kernels/preprocess.cu, a thread per configuration) both run, so a
// configuration is relabelled onto the same sites on either. Nothing here allocates or throws:
// the caller owns the workspace (AssignmentWork) and turns a failure code into its error.
// The algorithm (Jonker–Volgenant shortest augmenting paths in the form of Crouse, IEEE TAES 52,
// 2016, with a plain row reduction as the start) is described in assignment.cpp's head comment
// and in the comments below. Tests: tests/transforms/test_assignment.cpp (through
// LinearAssignment), tests/gpu/test_preprocess_parity.cpp (the device's relabelling).
#pragma once
#include <cmath>
#include <cstddef>
#include <limits>

#include "core/hd.hpp"
#include "physics/box.hpp"

namespace boltzmap {

// The solver's workspace: n entries each, owned by the caller. Duals u (rows) and v (columns)
// satisfy u_i + v_j ≤ c_ij with equality on assigned pairs (complementary slackness), which is
// what makes the result exact.
struct AssignmentWork {
  double* u;
  double* v;
  double* dist;     // [column] shortest reduced path length from the free row
  int* path;        // [column] row preceding the column on its shortest path
  int* col_of_row;  // [row] assigned column or −1
  int* row_of_col;  // [column] assigned row or −1
  int* todo;        // columns not yet scanned in the current search
  int* scanned;     // columns scanned in the current search, in order
};

// How many doubles and ints an AssignmentWork for n needs (carved by assignment_work).
BOLTZMAP_HD constexpr std::size_t assignment_work_doubles(int n) { return 3 * static_cast<std::size_t>(n); }
BOLTZMAP_HD constexpr std::size_t assignment_work_ints(int n) { return 5 * static_cast<std::size_t>(n); }
BOLTZMAP_HD AssignmentWork assignment_work(double* d, int* i, int n) {
  return {d, d + n, d + 2 * n, i, i + n, i + 2 * n, i + 3 * n, i + 4 * n};
}

// Exact min-cost perfect matching of the n×n cost matrix ([row][column] row-major, double; n ≥ 1):
// row_to_col[i] = the column assigned to row i. Returns −1 when solved, with *total =
// Σ_{i = 0..n−1} cost[i][row_to_col[i]] summed in row order; or the index of the first row with
// a NaN or infinite cost (nothing else is then defined). Ties are broken deterministically.
BOLTZMAP_HD int solve_assignment(const double* cost, int n, int* row_to_col, AssignmentWork w, double* total) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  double* u = w.u;
  double* v = w.v;
  double* dist = w.dist;
  int* path = w.path;
  int* col_of_row = w.col_of_row;
  int* row_of_col = w.row_of_col;
  int* todo = w.todo;
  int* scanned = w.scanned;

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
    if (!finite) return i;
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
      const int previous = col_of_row[k];
      col_of_row[k] = j;
      j = previous;
      if (k == r) break;
    }
  }

  double sum = 0.0;
  for (int i = 0; i < n; ++i) {
    row_to_col[i] = col_of_row[i];
    sum += cost[static_cast<std::ptrdiff_t>(i) * n + col_of_row[i]];
  }
  *total = sum;
  return -1;
}

// The periodic squared-distance cost of METHOD.md: cost[i][s] = |minimum_image(x_i − site_s)|².
// x: [particle][dim] float32 (n particles); sites: [site][dim] double (n sites); box side L;
// cost: [particle][site] row-major n×n, double. The differences are taken in double.
BOLTZMAP_HD void periodic_cost(const float* x, const double* sites, int n, int dim, double L, double* cost) {
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
