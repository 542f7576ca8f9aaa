// The virial excess pressure (src/physics/energy.hpp, excess_pressure) against its definition,
// P_ex = −dU/dV under a uniform scaling of the configuration with its box, x ↦ λ·x, L ↦ λ·L:
// dV/dλ = D·V at λ = 1, so P_ex = −(1/(D·V))·dU(λ·x)/dλ, taken by central differences in double,
// h = 10⁻⁶ (truncation ≈ h²·U‴ ≈ 10⁻¹⁰; rounding ≈ 10⁻¹⁶·|U|/h ≈ 10⁻⁸ for |U| ≈ 60). The cases
// cover every branch of the pair potential: the linear core (particles pushed inside r_in), the
// LJ part, the cutoff, for LJ and WCA, in 2D and 3D.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "physics/energy.hpp"
#include "support/configs.hpp"

namespace boltzmap {
namespace {

double scaled_energy(System s, std::vector<double> x, double lambda) {
  s.box.length *= lambda;
  for (double& v : x) v *= lambda;
  return total_energy<double>(s, x);
}

void check(const System& s, const std::vector<double>& x, const char* name) {
  const double h = 1e-6, V = std::pow(s.box.length, s.box.dimension);
  const double fd = -(scaled_energy(s, x, 1 + h) - scaled_energy(s, x, 1 - h)) / (2 * h) / (s.box.dimension * V);
  const double p = excess_pressure<double>(s, x);
  EXPECT_NEAR(p, fd, 1e-6 * (1 + std::abs(fd))) << name;
}

TEST(Virial, ExcessPressureIsMinusDUdVUnderUniformScaling) {
  const double L2 = box_length(32, 0.735, 2), L3 = box_length(16, 0.735, 3);
  const System lj2 = test::make_system(PotentialKind::lj, 1.0, 3.0, 0.8, 2, 32, L2);
  const System wca2 = test::make_system(PotentialKind::wca, 0.5, 0.0, 0.8, 2, 32, L2);
  const System lj3 = test::make_system(PotentialKind::lj, 1.0, std::min(2.5, 0.49 * L3), 0.8, 3, 16, L3);
  for (std::uint32_t id = 0; id < 3; ++id) {
    for (const System* s : {&lj2, &wca2, &lj3}) {
      std::vector<double> x = test::jittered_lattice(*s, 0.15, 17, id);
      check(*s, x, "jittered lattice");
      // Two particles well inside the linearised core (r = 0.5 < r_in = 0.8).
      test::place_at_distance(*s, x, 0, 1, 0.5, 23, id);
      check(*s, x, "with a pair in the linear core");
    }
  }
  // No pair inside r_c: zero.
  const System far = test::make_system(PotentialKind::lj, 1.0, 1.0, 0.0, 2, 2, 10.0);
  EXPECT_EQ(excess_pressure<double>(far, std::vector<double>{1.0, 1.0, 5.0, 5.0}), 0.0);
}

}  // namespace
}  // namespace boltzmap
