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

#include "transforms/batch.hpp"

namespace boltzmap {

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
