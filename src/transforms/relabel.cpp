// See relabel.hpp.
#include "transforms/relabel.hpp"

#include <vector>

#include "core/error.hpp"
#include "physics/box.hpp"
#include "physics/lattice.hpp"

namespace boltzmap {

std::vector<double> reference_sites(const std::string& lattice, int dim, int n_particles, double L) {
  const std::vector<float> lat = make_lattice(lattice, dim, n_particles, L);
  std::vector<double> sites;
  sites.reserve(static_cast<size_t>(n_particles - 1) * dim);
  // Shift so that site 0 lands on the centre; computed in double from the lattice formula's float
  // positions, which are exact multiples of L/n up to float round-off.
  for (int i = 1; i < n_particles; ++i)
    for (int d = 0; d < dim; ++d)
      sites.push_back(wrap_into_box(static_cast<double>(lat[i * dim + d]) - lat[d] + 0.5 * L, L, 1.0 / L));
  return sites;
}

Relabel::Relabel(std::vector<double> sites, int dim, double L)
    : sites_(std::move(sites)), n_(static_cast<int>(sites_.size()) / dim), dim_(dim), L_(L) {}

void Relabel::forward(BatchView b, std::span<std::uint8_t> identity) const {
  if (b.particles != n_ || b.dim != dim_)
    throw Error(ExitCode::failure, "Relabel: batch has " + std::to_string(b.particles) + " particles, expected " +
                                       std::to_string(n_));
  std::string failure;  // an exception must not leave an OpenMP region: keep the first message
#pragma omp parallel
  {
    // One workspace per thread, allocated once per call.
    std::vector<double> cost(static_cast<size_t>(n_) * n_), work_d(assignment_work_doubles(n_));
    std::vector<int> site_of(n_), work_i(assignment_work_ints(n_));
    std::vector<float> tmp(static_cast<size_t>(n_) * dim_);
    const AssignmentWork w = assignment_work(work_d.data(), work_i.data(), n_);
#pragma omp for schedule(static)
    for (int r = 0; r < b.rows; ++r) {
      bool same = false;
      const int bad = relabel_row(b.row(r), sites_.data(), n_, dim_, L_, cost.data(), site_of.data(), tmp.data(), w, &same);
      if (bad >= 0) {
#pragma omp critical
        if (failure.empty())
          failure = "relabelling configuration " + std::to_string(r) + ": cost row " + std::to_string(bad) + " has NaN or inf";
        continue;
      }
      if (!identity.empty()) identity[r] = same;
    }
  }
  if (!failure.empty()) throw numerical_error(failure);
}

}  // namespace boltzmap
