// Initial lattices; see lattice.hpp.
#include "physics/lattice.hpp"

#include <cmath>

#include "core/error.hpp"

namespace boltzmap {

std::optional<int> lattice_cells(const std::string& lattice, int dimension, int n_particles) {
  const bool ok2 = lattice == "centered-square" && dimension == 2;
  const bool ok3 = lattice == "bcc" && dimension == 3;
  if (!ok2 && !ok3) return std::nullopt;
  const double per_side = std::pow(n_particles / 2.0, 1.0 / dimension);
  const int n = static_cast<int>(std::lround(per_side));
  int count = 2;
  for (int d = 0; d < dimension; ++d) count *= n;
  if (n < 1 || count != n_particles) return std::nullopt;
  return n;
}

std::string lattices_for_dimension(int dimension) {
  return dimension == 2 ? "\"centered-square\" (N = 2n²)" : "\"bcc\" (N = 2n³)";
}

std::vector<float> make_lattice(const std::string& lattice, int dimension, int n_particles, double box_length) {
  const auto cells = lattice_cells(lattice, dimension, n_particles);
  if (!cells)
    throw input_error("lattice \"" + lattice + "\" cannot hold " + std::to_string(n_particles) + " particles in " +
                      std::to_string(dimension) + "D; allowed: " + lattices_for_dimension(dimension));
  const int n = *cells;
  const double a = box_length / n;
  std::vector<float> x;
  x.reserve(static_cast<size_t>(n_particles) * dimension);
  const int total_cells = dimension == 2 ? n * n : n * n * n;
  for (int c = 0; c < total_cells; ++c) {
    int idx[3] = {c % n, (c / n) % n, c / (n * n)};
    for (int half = 0; half < 2; ++half)
      for (int d = 0; d < dimension; ++d) x.push_back(static_cast<float>((idx[d] + 0.5 * half) * a));
  }
  return x;
}

}  // namespace boltzmap
