// The CPU Metropolis move (src/sampling/mc_kernel.hpp) against the reference O(N²) energies of
// src/physics/energy.hpp:
//  * the energy change a move applies equals total_energy(after) − total_energy(before), within a
//    derived float32 bound on the fast path, and to double round-off when a pair is closer than
//    r_fast (the double fallback; configurations with a pair inside r_in make sure it runs);
//  * a rejected move leaves coordinates and energy bitwise unchanged, an accepted one moves only
//    the drawn particle, into [0, L); the decision is the Metropolis test on the reference ΔU;
//  * the fast and naive kernels take the same decisions (move by move, and WalkerSet chains).
// Layouts: reference [particle][dim], kernel [dim][particle] (tests/support/configs.hpp converts).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "physics/energy.hpp"
#include "sampling/mc_kernel.hpp"
#include "sampling/walkers.hpp"
#include "support/configs.hpp"

namespace boltzmap {
namespace {

using test::jittered_lattice;
using test::make_system;
using test::place_at_distance;
using test::to_aos;
using test::to_float;
using test::to_soa;

constexpr double kEpsD = std::numeric_limits<double>::epsilon();
constexpr double kEpsF = 0x1p-24;  // float unit round-off u
constexpr std::uint64_t kSeed = 4242;

struct Case {
  std::string name;
  System s;
  double overlap;  // distance at which particle 1 is put next to particle 0 in odd configurations
  float step;
};

std::vector<Case> cases(double beta) {
  const double L2 = box_length(32, 0.735, 2);
  return {
      {"2D lj eps=1 rin=0.8", make_system(PotentialKind::lj, 1, 3, 0.8, 2, 32, L2, beta), 0.6, 0.5f},
      {"2D lj eps=1 rin=0 (fallback below sigma/2)", make_system(PotentialKind::lj, 1, 3, 0, 2, 32, L2, beta), 0.45, 0.5f},
      {"2D lj eps=0.5 rin=0.8", make_system(PotentialKind::lj, 0.5, 3, 0.8, 2, 32, L2, beta), 0.7, 0.5f},
      {"2D wca eps=0.5 rin=0.8", make_system(PotentialKind::wca, 0.5, 3, 0.8, 2, 32, L2, beta), 0.6, 0.5f},
      {"3D lj eps=1 rin=0.8", make_system(PotentialKind::lj, 1, 3, 0.8, 3, 54, 6.6, beta), 0.6, 0.5f},
      {"3D wca eps=1 rin=0.8", make_system(PotentialKind::wca, 1, 3, 0.8, 3, 54, 4.5, beta), 0.6, 0.4f},
  };
}

std::vector<float> start_config(const Case& c, std::uint32_t id) {
  std::vector<double> x = jittered_lattice(c.s, 0.15, kSeed, id);
  if (id % 2 == 1) place_at_distance(c.s, x, 0, 1, c.overlap, kSeed, id);
  return to_float(x);
}

double reference_energy(const System& s, const std::vector<float>& soa) {
  const std::vector<float> aos = to_aos(soa, s.n_particles, s.box.dimension);
  return total_energy<float>(s, std::span<const float>(aos));
}

// The error budget of one move's ΔU, from the moved particle's pairs before (p_old) and after
// (p_new), in double from the same float coordinates.
struct MoveBudget {
  double fast_tol;      // fast float32 path
  double fallback_tol;  // double fallback path
  double min_r2;        // closest partner, old or new position
  double ulp_shift;     // ΔU change if the new position moves by one ulp(L) per coordinate
};

MoveBudget budget(const MoveParams& mp, const std::vector<float>& soa, int i, const float* p_old, const float* p_new,
                  double total_abs) {
  const System& s = mp.system;
  const PairPotential& pot = s.potential;
  const int n = s.n_particles, D = s.box.dimension;
  double terms = 0, slopes = 0, abs_u = 0, min_r2 = INFINITY;
  for (const float* p : {p_old, p_new})
    for (int j = 0; j < n; ++j) {
      if (j == i) continue;
      float xj[3];
      for (int d = 0; d < D; ++d) xj[d] = soa[d * n + j];
      const double r2 = squared_distance(s, p, xj);
      min_r2 = std::min(min_r2, r2);
      if (r2 >= pot.rc2) continue;
      const double s6 = std::pow(pot.sigma * pot.sigma / r2, 3);
      terms += 4 * pot.epsilon * (s6 * s6 + s6) + std::abs(pot.shift);
      slopes += std::abs(pair_dudr_over_r(pot, r2)) * std::sqrt(r2);
      abs_u += std::abs(pair_energy(pot, r2));
    }
  // Fast path (float32):
  //  * coordinate differences: x_j − p rounds by ≤ ½ ulp(L), and the float L used for the minimum
  //    image differs from the double L by ≤ ½ ulp(L): |δu_d| ≤ ulp_f(L), |δr| ≤ √D·ulp_f(L), so
  //    |δu| ≤ |U'(r)|·√D·ulp_f(L) per pair;
  //  * evaluating 4ε(s¹² − s⁶) − shift from r² in float: relative error of s¹² ≲ 35u, of s⁶ ≲ 17u
  //    (r² from D squares, σ²/r², cube, square), so ≤ 64u·(4ε(s¹² + s⁶) + |shift|) per pair;
  //  * summing N terms in float (any order, SIMD lanes included): ≤ N·u·Σ|u_ij|.
  // Reference side (double totals before and after): ≤ 2·M·ε_d·Σ|u_ij| each, M pairs.
  const float Lf = static_cast<float>(s.box.length);
  const double ulp_L = static_cast<double>(std::nextafter(Lf, 2 * Lf)) - Lf;
  const int M = n * (n - 1) / 2;
  const double ref = 4 * M * kEpsD * total_abs + 1e-12;
  MoveBudget b;
  b.fast_tol = slopes * std::sqrt(D) * ulp_L + 64 * kEpsF * terms + n * kEpsF * abs_u + ref;
  b.fallback_tol = 4 * n * kEpsD * abs_u + ref;
  b.min_r2 = min_r2;
  b.ulp_shift = slopes * std::sqrt(D) * ulp_L;
  return b;
}

double abs_energy_sum(const System& s, const std::vector<float>& soa) {
  const int n = s.n_particles, D = s.box.dimension;
  const std::vector<float> aos = to_aos(soa, n, D);
  double a = 0;
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) a += std::abs(pair_energy(s.potential, squared_distance(s, &aos[i * D], &aos[j * D])));
  return a;
}

template <int D>
void check_delta_u(const Case& c) {
  // β = 0: every move with a finite ΔU is accepted, so each move reports its ΔU (energy starts at 0).
  System s0 = c.s;
  s0.beta = 0.0;
  const MoveParams mp = make_move_params(s0, kSeed);
  const int n = s0.n_particles;
  const float L = mp.L;
  int fallback = 0, fast = 0;
  for (std::uint32_t id = 0; id < 10; ++id) {
    const std::vector<float> base = to_soa(start_config(c, id), n, D);
    const double e_before = reference_energy(s0, base), abs_before = abs_energy_sum(s0, base);
    for (std::uint64_t counter = 0; counter < 300; ++counter) {
      const std::uint32_t walker = 17 + id;
      std::vector<float> x = base;
      double du = 0.0;
      const bool accepted = mc_move<D>(mp, x.data(), du, walker, counter, c.step);
      const std::string where = c.name + " seed " + std::to_string(kSeed) + " config " + std::to_string(id) +
                                " walker " + std::to_string(walker) + " move " + std::to_string(counter);
      ASSERT_TRUE(accepted) << where << ": at beta = 0 every finite move is accepted";
      const MoveDraw m = draw_move<D>(kSeed, walker, counter, n, c.step);
      const int i = m.particle;
      float p_old[3], p_new[3];
      for (int d = 0; d < D; ++d) {
        p_old[d] = base[d * n + i];
        p_new[d] = x[d * n + i];
        ASSERT_TRUE(p_new[d] >= 0.0f && p_new[d] < L) << where << ": moved particle left [0, L): " << p_new[d];
        // The move is the drawn displacement, wrapped (periodic distance, float rounding ≤ 2 ulp(L)).
        const double shift = std::remainder(static_cast<double>(p_new[d]) - (p_old[d] + m.displacement[d]), L);
        ASSERT_LE(std::abs(shift), 4e-7 * L) << where << " dim " << d;
      }
      for (int j = 0; j < n; ++j)
        for (int d = 0; d < D; ++d)
          if (j != i) {
            ASSERT_EQ(x[d * n + j], base[d * n + j]) << where << ": particle " << j << " moved";
          }
      const double e_after = reference_energy(s0, x);
      const MoveBudget b = budget(mp, base, i, p_old, p_new, abs_before + abs_energy_sum(s0, x));
      const double expected = e_after - e_before;
      if (b.min_r2 < mp.rfast2 * (1 - 1e-5)) {
        ++fallback;  // clearly closer than r_fast: the double path must have been taken
        ASSERT_NEAR(du, expected, b.fallback_tol) << where << " (double fallback, min r " << std::sqrt(b.min_r2) << ")";
      } else {
        ++fast;
        ASSERT_NEAR(du, expected, b.fast_tol) << where << " (fast path, min r " << std::sqrt(b.min_r2) << ")";
      }
    }
  }
  // Both paths were exercised (the odd configurations hold a pair inside r_fast).
  EXPECT_GE(fallback, 50) << c.name;
  EXPECT_GE(fast, 1000) << c.name;
}

TEST(McKernel, EnergyChangeMatchesReference) {
  for (const Case& c : cases(1.0)) {
    if (c.s.box.dimension == 2)
      check_delta_u<2>(c);
    else
      check_delta_u<3>(c);
    if (HasFatalFailure()) return;
  }
}

// Borderline Metropolis decision: −ln u within β·tol of βΔU, so float rounding may flip it.
bool borderline(double beta, double du_ref, double tol, double u) {
  return std::abs(beta * du_ref - (-std::log(u))) <= beta * tol;
}

template <int D>
void check_chain(const Case& c) {
  const MoveParams mp = make_move_params(c.s, kSeed);
  const int n = c.s.n_particles;
  std::vector<float> x = to_soa(start_config(c, 1), n, D);
  double e = reference_energy(c.s, x), drift_budget = 0;
  int accepted = 0, rejected = 0;
  const std::uint32_t walker = 3;
  for (std::uint64_t counter = 0; counter < 3000; ++counter) {
    const std::vector<float> before = x;
    const double e_prev = e, abs_before = abs_energy_sum(c.s, before), e_ref_before = reference_energy(c.s, before);
    const bool acc = mc_move<D>(mp, x.data(), e, walker, counter, c.step);
    const std::string where = c.name + " seed " + std::to_string(kSeed) + " walker 3 move " + std::to_string(counter);
    const MoveDraw m = draw_move<D>(kSeed, walker, counter, n, c.step);
    const int i = m.particle;
    // Reference ΔU of the proposed move (wrapped as the kernel does).
    std::vector<float> proposed = before;
    float p_old[3], p_new[3];
    for (int d = 0; d < D; ++d) {
      p_old[d] = before[d * n + i];
      p_new[d] = wrap_into_box(p_old[d] + m.displacement[d], mp.L, mp.inv_L);
      proposed[d * n + i] = p_new[d];
    }
    const double du_ref = reference_energy(c.s, proposed) - e_ref_before;
    const MoveBudget b = budget(mp, before, i, p_old, p_new, abs_before + abs_energy_sum(c.s, proposed));
    const double tol = b.min_r2 < mp.rfast2 * (1 - 1e-5) ? b.fallback_tol : b.fast_tol;
    // du_ref is for this test's rounding of the new position, which may differ from the kernel's
    // by one ulp (see below): widen the borderline band by that.
    if (!borderline(c.s.beta, du_ref, tol + b.ulp_shift, m.accept_u)) {
      ASSERT_EQ(acc, metropolis_accept(c.s.beta * du_ref, m.accept_u)) << where << " du_ref " << du_ref;
    }
    if (!acc) {
      ++rejected;
      ASSERT_EQ(std::memcmp(x.data(), before.data(), x.size() * sizeof(float)), 0) << where << ": rejected move changed x";
      ASSERT_EQ(e, e_prev) << where << ": rejected move changed the energy";
    } else {
      ++accepted;
      // Only the drawn particle moved, to old + displacement wrapped: equal up to one float
      // rounding (ulp(L)), because GCC's default -ffp-contract=fast (FMA with -march=native) may
      // fuse step·(2u − 1) + x_old into one FMA wherever draw_move is inlined (the kernel or this
      // test), skipping the rounding of the displacement. Seen at 3D WCA, walker 3, move 141.
      const double ulp_L = static_cast<double>(std::nextafter(mp.L, 2 * mp.L)) - mp.L;
      for (int j = 0; j < n; ++j)
        for (int d = 0; d < D; ++d) {
          if (j == i) {
            ASSERT_LE(std::abs(std::remainder(static_cast<double>(x[d * n + i]) - proposed[d * n + i], mp.L)), ulp_L)
                << where << ": accepted move is not the drawn one, dim " << d;
            ASSERT_TRUE(x[d * n + i] >= 0.0f && x[d * n + i] < mp.L) << where;
          } else {
            ASSERT_EQ(x[d * n + j], before[d * n + j]) << where << ": particle " << j << " moved";
          }
        }
      ASSERT_NEAR(e - e_prev, reference_energy(c.s, x) - e_ref_before, tol + 4 * kEpsD * std::abs(e)) << where;
      drift_budget += tol + 4 * kEpsD * std::abs(e);
    }
  }
  // Tracked energy vs a recomputation: the per-move errors add up at most linearly.
  EXPECT_NEAR(e, reference_energy(c.s, x), drift_budget) << c.name;
  // Both outcomes occur (acceptance is far from 0 and 1 with these steps at T = 1).
  EXPECT_GT(accepted, 300) << c.name;
  EXPECT_GT(rejected, 300) << c.name;
}

TEST(McKernel, ChainAtUnitTemperatureFollowsTheMetropolisRule) {
  for (const Case& c : cases(1.0)) {
    if (c.s.box.dimension == 2)
      check_chain<2>(c);
    else
      check_chain<3>(c);
    if (HasFatalFailure()) return;
  }
}

// Fast and naive kernels on the same state, move by move. The naive kernel computes ΔU as a
// difference of two double totals, the fast one in float32, so a decision can differ only when
// u lies within β·(float error) of exp(−βΔU): with errors ≲ 1e-5 that is ~1e-5 of the uphill
// moves. Each disagreement must be such a borderline case; the chains are then re-synchronised.
// With the fixed seed none occurs; we allow ≤ 0.1 % so that a change of the kernel's float
// rounding cannot make the test fail spuriously.
template <int D>
void check_fast_vs_naive(const Case& c, int walkers, int moves) {
  const MoveParams mp = make_move_params(c.s, kSeed);
  const int n = c.s.n_particles;
  int disagreements = 0, total = 0;
  for (int w = 0; w < walkers; ++w) {
    std::vector<float> xf = to_soa(start_config(c, w), n, D), xn = xf;
    double ef = reference_energy(c.s, xf), en = ef;
    for (int counter = 0; counter < moves; ++counter, ++total) {
      const bool af = mc_move<D, MoveKernel::fast>(mp, xf.data(), ef, w, counter, c.step);
      const bool an = mc_move<D, MoveKernel::naive>(mp, xn.data(), en, w, counter, c.step);
      if (af == an) {
        ASSERT_EQ(xf, xn) << c.name << " walker " << w << " move " << counter;
        continue;
      }
      ++disagreements;
      const MoveDraw m = draw_move<D>(kSeed, w, counter, n, c.step);
      const double du_ref = af ? ef - en : en - ef;  // the accepting kernel's ΔU
      const bool near_threshold = std::abs(c.s.beta * du_ref + std::log(m.accept_u)) < 1e-3;
      EXPECT_TRUE(near_threshold) << c.name << " seed " << kSeed << " walker " << w << " move " << counter
                                  << ": fast/naive disagree away from the Metropolis threshold, du " << du_ref;
      xn = xf;
      en = ef;
    }
  }
  EXPECT_LE(disagreements, total / 1000) << c.name << ": " << disagreements << " of " << total;
}

TEST(McKernel, FastAndNaiveKernelsTakeTheSameDecisions) {
  // The paper's step (Δ = 0.175 for LJ ε = 1) and a larger one, 2D N = 32 and 3D N = 54.
  for (Case c : cases(1.0)) {
    for (float step : {0.175f, c.step}) {
      c.step = step;
      if (c.s.box.dimension == 2)
        check_fast_vs_naive<2>(c, 3, 1500);
      else
        check_fast_vs_naive<3>(c, 2, 1000);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(McKernel, WalkerSetFastAndNaiveChainsCoincide) {
  // METHOD.md system IA (LJ ε = 1, r_in = 0.8, N = 32, ρ = 0.735, T = 1, Δ = 0.175) from the
  // lattice, 8 walkers × 2000 moves, same seed with each kernel. Expected number of walkers that a
  // borderline float decision splits: 16000 moves × ~1e-6 ≈ 0.02, so requiring at most one split
  // walker fails spuriously with probability ~2e-4 if the kernel's rounding changes; with this
  // seed none splits.
  const double L = box_length(32, 0.735, 2);
  const System s = make_system(PotentialKind::lj, 1, 3, 0.8, 2, 32, L, 1.0);
  const std::vector<float> lattice = make_lattice("centered-square", 2, 32, L);
  WalkerSet fast(s, kSeed, 0, 8, lattice), naive(s, kSeed, 0, 8, lattice);
  const std::uint64_t af = fast.run(2000, 0.175f, MoveKernel::fast);
  const std::uint64_t an = naive.run(2000, 0.175f, MoveKernel::naive);
  int split = 0;
  std::vector<float> a(64), b(64);
  for (int w = 0; w < 8; ++w) {
    fast.configuration(w, a);
    naive.configuration(w, b);
    if (a != b) {
      ++split;  // tolerated once (see above); the move-by-move test checks it is a borderline case
      std::cerr << "note: walker " << w << " differs between fast and naive chains (seed " << kSeed << ")\n";
    } else {
      // Same chain: tracked energies agree to the float32 error of the fast ΔU sums.
      EXPECT_NEAR(fast.energies()[w], naive.energies()[w], 1e-3) << "walker " << w;
    }
  }
  EXPECT_LE(split, 1);
  if (split == 0) {
    EXPECT_EQ(af, an);
  }
  EXPECT_GT(af, 8u * 2000u / 4) << "acceptance ≈ 0.49 expected (METHOD.md Table S1)";
}

}  // namespace
}  // namespace boltzmap
