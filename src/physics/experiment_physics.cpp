// See experiment_physics.hpp. The messages are those core/config.cpp made before these checks
// moved here (tests/app/bad_inputs.sh and tests/core/test_config.cpp match them).
#include "physics/experiment_physics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>

#include "core/error.hpp"
#include "physics/lattice.hpp"

namespace boltzmap {

namespace {

// Numbers as the parser prints them (10 significant digits).
std::string fmt(double v) {
  std::ostringstream o;
  o.precision(10);
  o << v;
  return o.str();
}

[[noreturn]] void fail(const Experiment& e, const std::string& key, const std::string& what) {
  const auto it = e.where.find(key);
  throw input_error((it != e.where.end() ? it->second : e.source_file) + ": " + key + ": " + what);
}

}  // namespace

PotentialKind potential_kind(const std::string& name) { return name == "wca" ? PotentialKind::wca : PotentialKind::lj; }

System physical_system(const SystemConfig& c, int dimension, int n_particles) {
  System s;
  s.potential = make_pair_potential(potential_kind(c.potential), c.epsilon, c.sigma, c.cutoff, c.inner_cutoff);
  s.box.dimension = dimension;
  s.box.length = box_length(n_particles, c.density, dimension);
  s.n_particles = n_particles;
  s.beta = 1.0 / c.temperature;
  return s;
}

void check_experiment_physics(const Experiment& e) {
  const int d = e.box.dimension, N = e.box.n_particles;
  if (lattices_for_dimension(d).find("\"" + e.box.lattice + "\"") == std::string::npos)
    fail(e, "box.lattice", "= \"" + e.box.lattice + "\" is not a " + std::to_string(d) + "D lattice (dimension = " +
                               std::to_string(d) + "); allowed in " + std::to_string(d) + "D: " + lattices_for_dimension(d));
  if (!lattice_cells(e.box.lattice, d, N)) {
    // The nearest sizes that fit, N = 2n^d with n = ⌊(N/2)^(1/d)⌋ and n + 1.
    const auto n0 = static_cast<std::int64_t>(std::floor(std::pow(N / 2.0, 1.0 / d) + 1e-9));
    std::string nearest;
    for (std::int64_t n = std::max<std::int64_t>(1, n0); n <= n0 + 1; ++n)
      nearest += (nearest.empty() ? "" : " or ") + std::to_string(2 * (d == 2 ? n * n : n * n * n));
    fail(e, "box.n_particles", "= " + std::to_string(N) + " does not fit lattice \"" + e.box.lattice + "\" in " +
                                   std::to_string(d) + "D; allowed: " + lattices_for_dimension(d) + ", e.g. N = " + nearest);
  }
  for (const SystemConfig& c : e.systems) {
    const std::string t = "systems." + c.label + ".";
    const System s = physical_system(c, d, N);
    const double L = s.box.length, rc = s.potential.cutoff;  // wca: r_c = 2^(1/6)σ
    if (rc > 0.5 * L)
      fail(e, t + (c.potential == "wca" ? "sigma" : "cutoff"),
           "cutoff radius " + fmt(rc) + " exceeds half the box side L/2 = " + fmt(0.5 * L) + " (L = (N/ρ)^(1/d) = " +
               fmt(L) + "); the minimum image needs r_c ≤ L/2");
    if (const auto step = c.sampler.step_size; step && !(*step > 0 && *step <= 0.5 * L))
      fail(e, t + "sampler.step_size", "= " + fmt(*step) + ": must be in (0, L/2 = " + fmt(0.5 * L) + "]");
  }
  if (!lattice_cells(e.preprocess.reference_lattice, d, N))
    fail(e, "preprocess.reference_lattice", "\"" + e.preprocess.reference_lattice + "\" cannot hold N = " +
                                                std::to_string(N) + " in " + std::to_string(d) +
                                                "D; allowed: " + lattices_for_dimension(d));
}

}  // namespace boltzmap
