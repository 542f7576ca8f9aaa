// Reference energies and forces (src/physics/energy.hpp): forces = −∇U against central finite
// differences of total_energy<double> (STYLE.md rule 13) for LJ and WCA with and without the inner
// linearisation, including configurations with one pair inside r_in (or, without linearisation,
// deep in the repulsive core); invariance under translation and relabelling; Newton's third law;
// particle_energy consistency; the minimum image across the boundary. Configurations are jittered
// lattices (tests/support/configs.hpp), seed and case printed on failure.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "physics/energy.hpp"
#include "support/configs.hpp"

namespace boltzmap {
namespace {

using test::jittered_lattice;
using test::make_system;
using test::place_at_distance;

constexpr double kEpsD = std::numeric_limits<double>::epsilon();
constexpr std::uint64_t kSeed = 777;

struct Case {
  std::string name;
  System s;
  double overlap = 0;  // > 0: put particle 1 at this distance from particle 0
};

std::vector<Case> cases() {
  const double L2 = box_length(32, 0.735, 2);  // METHOD.md systems
  std::vector<Case> c;
  for (double overlap : {0.0, 0.6}) {
    const std::string o = overlap > 0 ? " +pair at 0.6" : "";
    c.push_back({"2D lj eps=1 rin=0" + o, make_system(PotentialKind::lj, 1, 3, 0, 2, 32, L2), overlap});
    c.push_back({"2D lj eps=1 rin=0.8" + o, make_system(PotentialKind::lj, 1, 3, 0.8, 2, 32, L2), overlap});
    c.push_back({"2D lj eps=0.5 rin=0.8" + o, make_system(PotentialKind::lj, 0.5, 3, 0.8, 2, 32, L2), overlap});
    c.push_back({"2D wca eps=0.5 rin=0" + o, make_system(PotentialKind::wca, 0.5, 3, 0, 2, 32, L2), overlap});
    c.push_back({"2D wca eps=0.5 rin=0.8" + o, make_system(PotentialKind::wca, 0.5, 3, 0.8, 2, 32, L2), overlap});
    c.push_back({"3D lj eps=1 rin=0.8" + o, make_system(PotentialKind::lj, 1, 3, 0.8, 3, 54, 6.6), overlap});
    c.push_back({"3D wca eps=1 rin=0" + o, make_system(PotentialKind::wca, 1, 3, 0, 3, 54, 4.5), overlap});
  }
  return c;
}

double eps_of(const System& s) { return s.potential.epsilon; }

// Bounds on |U''| and |U'''| of the LJ core (σ = 1): 4ε(156 r⁻¹⁴ + 42 r⁻⁸), 4ε(2184 r⁻¹⁵ + 336 r⁻⁹).
double lj_d2_bound(double eps, double r) { return 4 * eps * (156 * std::pow(r, -14) + 42 * std::pow(r, -8)); }
double lj_d3_bound(double eps, double r) { return 4 * eps * (2184 * std::pow(r, -15) + 336 * std::pow(r, -9)); }

// Bound on the third derivative of U(|x_i − x_j|) along one coordinate: for a radial function,
// |∂³U| ≤ |U'''| + 3|U''|/r + 3|U'|/r² (0 beyond r_c; U'' = U''' = 0 in the linear branch).
double radial_d3_bound(const PairPotential& p, double eps, double r) {
  if (r >= p.cutoff) return 0;
  const double d1 = std::abs(pair_dudr_over_r(p, r * r) * r);
  const bool lin = r < p.inner_cutoff;
  const double d2 = lin ? 0 : lj_d2_bound(eps, r), d3 = lin ? 0 : lj_d3_bound(eps, r);
  return d3 + 3 * d2 / r + 3 * d1 / (r * r);
}

// Pair distances of a configuration (minimum image), all pairs.
std::vector<double> pair_distances(const System& s, const std::vector<double>& x) {
  const int n = s.n_particles, D = s.box.dimension;
  std::vector<double> r;
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) r.push_back(std::sqrt(squared_distance(s, &x[i * D], &x[j * D])));
  return r;
}

// Σ|u_ij|: the scale of the round-off of a total energy.
double abs_energy_sum(const System& s, const std::vector<double>& x) {
  double a = 0;
  for (double r : pair_distances(s, x)) a += std::abs(pair_energy(s.potential, r * r));
  return a;
}

// A jittered lattice (+ optional close pair) with no pair distance within `margin` of a kink
// (r_in, r_c), where a finite difference would straddle two branches; tries successive ids.
std::vector<double> config_for(const Case& c, std::uint32_t& id, double margin) {
  for (;; ++id) {
    std::vector<double> x = jittered_lattice(c.s, 0.15, kSeed, id);
    if (c.overlap > 0) place_at_distance(c.s, x, 0, 1, c.overlap, kSeed, id);
    bool ok = true;
    for (double r : pair_distances(c.s, x))
      ok = ok && std::abs(r - c.s.potential.cutoff) > margin && std::abs(r - c.s.potential.inner_cutoff) > margin;
    if (ok) return x;
  }
}

TEST(Energy, ForcesAreMinusFiniteDifferenceGradient) {
  // Central difference of total_energy<double> with step h = 1e-6 on each coordinate. Error:
  // truncation h²/6·Σ_j |∂³u_ij| (bound above) + round-off: each total has error ≤ M·ε_d·Σ|u_ij|
  // (M = number of pairs, worst-case recursive summation), so the difference of two totals over
  // 2h errs by ≤ 2·M·ε_d·Σ|u|/(2h) (~1e-8…1e-4 here, vs forces of 1…10³). rtol 1e-8 covers the
  // rounding of x ± h (ulp(L)/h ≈ 1e-9) and of the analytic forces.
  const double h = 1e-6;
  for (const Case& c : cases()) {
    const System& s = c.s;
    const int n = s.n_particles, D = s.box.dimension, M = n * (n - 1) / 2;
    for (std::uint32_t k = 0, id = 0; k < 3; ++k, ++id) {
      std::vector<double> x = config_for(c, id, 1e-4);
      std::vector<double> f(n * D);
      forces<double>(s, x, f);
      const double round = 2 * M * kEpsD * abs_energy_sum(s, x) / (2 * h);
      for (int i = 0; i < n; ++i) {
        double trunc = 0;
        for (int j = 0; j < n; ++j)
          if (j != i) {
            const double r = std::sqrt(squared_distance(s, &x[i * D], &x[j * D]));
            trunc += h * h / 6 * radial_d3_bound(s.potential, eps_of(s), std::max(r - 2 * h, 1e-3));
          }
        for (int d = 0; d < D; ++d) {
          std::vector<double> xp = x, xm = x;
          xp[i * D + d] += h;
          xm[i * D + d] -= h;
          const double fd = -(total_energy<double>(s, xp) - total_energy<double>(s, xm)) / (2 * h);
          const double tol = trunc + round + 1e-8 * std::abs(fd);
          ASSERT_NEAR(f[i * D + d], fd, tol)
              << c.name << " seed " << kSeed << " id " << id << " particle " << i << " dim " << d;
        }
      }
      // The close pair really is in the intended branch and the forces are large but finite.
      if (c.overlap > 0) {
        const double r01 = std::sqrt(squared_distance(s, &x[0], &x[D]));
        EXPECT_NEAR(r01, c.overlap, 1e-12) << c.name;
        double fmax = 0;
        for (double v : f) fmax = std::max(fmax, std::abs(v));
        EXPECT_TRUE(std::isfinite(fmax)) << c.name;
        EXPECT_GT(fmax, 100.0) << c.name << ": a pair at 0.6σ pushes hard";
      }
    }
  }
}

TEST(Energy, InvariantUnderTranslationAndRelabelling) {
  for (const Case& c : cases()) {
    const System& s = c.s;
    const int n = s.n_particles, D = s.box.dimension, M = n * (n - 1) / 2;
    const double L = s.box.length;
    std::uint32_t id = 100;
    const std::vector<double> x = config_for(c, id, 0.0);
    const double e = total_energy<double>(s, x), scale = abs_energy_sum(s, x);
    // Translation by an arbitrary vector, wrapped back into the box: each coordinate difference
    // changes by ≤ 4 ε_d·L (rounding of x + t and of the wrap), so each r by ≤ 4 ε_d·L·√D; the
    // energy by ≤ Σ|u'(r)|·4 ε_d·L·√D, plus the summation round-off 2·M·ε_d·Σ|u| of two totals.
    double slope_sum = 0;
    for (double r : pair_distances(s, x)) slope_sum += std::abs(pair_dudr_over_r(s.potential, r * r) * r);
    const double tol_t = slope_sum * 4 * kEpsD * L * std::sqrt(D) + 2 * M * kEpsD * scale;
    for (int t = 0; t < 4; ++t) {
      std::vector<double> y = x;
      for (int i = 0; i < n; ++i)
        for (int d = 0; d < D; ++d) y[i * D + d] = wrap_into_box(x[i * D + d] + (0.37 + 0.29 * t + 0.11 * d) * L, L, 1 / L);
      EXPECT_NEAR(total_energy<double>(s, y), e, tol_t) << c.name << " translation " << t << " seed " << kSeed;
    }
    // Relabelling (a Philox-driven Fisher–Yates permutation): only the summation order changes.
    std::vector<int> perm(n);
    std::iota(perm.begin(), perm.end(), 0);
    for (int i = n - 1; i > 0; --i)
      std::swap(perm[i], perm[uniform_index(philox(kSeed, RngStream::Test, 5, i).v[0], i + 1)]);
    std::vector<double> z(x.size());
    for (int i = 0; i < n; ++i)
      for (int d = 0; d < D; ++d) z[i * D + d] = x[perm[i] * D + d];
    EXPECT_NEAR(total_energy<double>(s, z), e, 2 * M * kEpsD * scale) << c.name << " relabelled, seed " << kSeed;
    // Σ_i particle_energy(i) counts every pair twice.
    double pe = 0;
    for (int i = 0; i < n; ++i) pe += particle_energy<double>(s, x, i, &x[i * D]);
    EXPECT_NEAR(pe, 2 * e, 4 * M * kEpsD * scale) << c.name;
    // Float storage: the reference converts float coordinates to double exactly, so the float and
    // double instantiations agree exactly on the same values.
    const std::vector<float> xf = test::to_float(x);
    const std::vector<double> xfd(xf.begin(), xf.end());
    EXPECT_EQ(total_energy<float>(s, xf), total_energy<double>(s, xfd)) << c.name;
  }
}

TEST(Energy, NewtonsThirdLaw) {
  for (const Case& c : cases()) {
    const System& s = c.s;
    const int n = s.n_particles, D = s.box.dimension;
    std::uint32_t id = 200;
    const std::vector<double> x = config_for(c, id, 0.0);
    std::vector<double> f(n * D);
    forces<double>(s, x, f);
    // Each pair adds the same rounded ±g·u_d to f_i and f_j, so the exact sum is 0; the rounding of
    // the accumulations is ≤ N·ε_d·Σ|pair terms| per particle and N·ε_d·Σ|f_i| for the final sum.
    double pair_terms = 0, fabs_sum = 0;
    for (double r : pair_distances(s, x)) pair_terms += 2 * std::abs(pair_dudr_over_r(s.potential, r * r)) * r;
    for (double v : f) fabs_sum += std::abs(v);
    for (int d = 0; d < D; ++d) {
      double sum = 0;
      for (int i = 0; i < n; ++i) sum += f[i * D + d];
      EXPECT_NEAR(sum, 0.0, n * kEpsD * (pair_terms + fabs_sum)) << c.name << " dim " << d;
    }
  }
}

TEST(Energy, PairAcrossTheBoundaryUsesTheMinimumImage) {
  // Two particles 1σ apart through the periodic boundary, in each dimension: U = U(σ) = −shift.
  for (int D : {2, 3}) {
    const System s = make_system(PotentialKind::lj, 1, 3, 0.8, D, 2, 6.5);
    for (int axis = 0; axis < D; ++axis) {
      std::vector<double> x(2 * D, 3.0);
      x[axis] = 0.25;
      x[D + axis] = 6.5 - 0.75;  // 0.25 − (−0.75) = 1 through the boundary
      const double u = pair_energy(s.potential, 1.0);
      EXPECT_NEAR(total_energy<double>(s, x), u, 8 * kEpsD * 10) << "D " << D << " axis " << axis;
      std::vector<double> f(2 * D);
      forces<double>(s, x, f);
      // F on particle 0 along the axis: −U'(1)·(x0 − x1)_min/r = −U'(1)·(+1) (U'(1) = −24ε·(2 − 1)).
      EXPECT_NEAR(f[axis], 24.0, 1e-12) << "D " << D << " axis " << axis;
      EXPECT_NEAR(f[D + axis], -24.0, 1e-12) << "D " << D << " axis " << axis;
    }
  }
}

}  // namespace
}  // namespace boltzmap
