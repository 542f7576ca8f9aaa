// Preprocessing layer 4 (METHOD.md): relabel the N − 1 remaining particles by the exact linear
// assignment onto the N − 1 reference sites (the lattice shifted so one site is at the box
// centre, that site removed) with the periodic squared-distance cost, so that particle k of the
// output is the one nearest (in the assignment sense) to site k. A permutation: log-det 0.
// There is no inverse to apply (U is permutation invariant). Threads over rows, one solver each.
// Tests: tests/transforms/test_preprocessor.cpp; the solver: tests/transforms/test_assignment.cpp.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/hd.hpp"
#include "transforms/assignment_core.hpp"
#include "transforms/batch.hpp"

namespace boltzmap {

// One configuration y [n][dim] relabelled in place onto `sites` ([n][dim] double, box side L):
// particle k of the result is the one assigned to site k. Scratch: cost [n·n], site_of [n], tmp
// [n·dim], w for n. Returns −1, or the cost row that was not finite (y is then unchanged).
// *identity (if given) = whether y was already in site order. Host and device code.
BOLTZMAP_HD int relabel_row(float* y, const double* sites, int n, int dim, double L, double* cost, int* site_of,
                            float* tmp, AssignmentWork w, bool* identity) {
  periodic_cost(y, sites, n, dim, L, cost);
  double total = 0.0;
  const int bad = solve_assignment(cost, n, site_of, w, &total);
  if (bad >= 0) return bad;
  bool same = true;
  for (int i = 0; i < n; ++i) {
    same &= site_of[i] == i;
    for (int d = 0; d < dim; ++d) tmp[site_of[i] * dim + d] = y[i * dim + d];
  }
  for (int k = 0; k < n * dim; ++k) y[k] = tmp[k];
  if (identity) *identity = same;
  return -1;
}

// [(N − 1)][D] double: lattice sites shifted so that site 0 sits at (L/2, …), site 0 removed.
std::vector<double> reference_sites(const std::string& lattice, int dim, int n_particles, double L);

class Relabel {
 public:
  Relabel(std::vector<double> sites, int dim, double L);
  int sites() const { return n_; }
  const std::vector<double>& site_coordinates() const { return sites_; }
  // Reorders every row of b (b.particles = N − 1) in place. If identity is given, identity[r] = 1
  // when row r was already in site order (the canonical-domain test of a later stage).
  void forward(BatchView b, std::span<std::uint8_t> identity = {}) const;

 private:
  std::vector<double> sites_;
  int n_, dim_;
  double L_;
};

}  // namespace boltzmap
