// WalkerSet (src/sampling/walkers.hpp): chains independent of the number of OpenMP threads and of
// how walkers are split into sets (ranks), continuation across run() calls, and the tracked
// energies against the reference total_energy (recompute_energies and its drift report).
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "physics/energy.hpp"
#include "sampling/walkers.hpp"
#include "support/configs.hpp"

namespace boltzmap {
namespace {

using test::make_system;

constexpr std::uint64_t kSeed = 90210;

struct WalkerCase {
  System s;
  std::vector<float> start;
  float step;
};

// METHOD.md system IA (2D LJ ε = 1, r_in = 0.8, N = 32, ρ = 0.735, T = 1, Δ = 0.175) and a 3D
// WCA analogue, both from the lattice.
std::vector<WalkerCase> setups() {
  const double L2 = box_length(32, 0.735, 2), L3 = box_length(54, 0.6, 3);
  return {{make_system(PotentialKind::lj, 1, 3, 0.8, 2, 32, L2), make_lattice("centered-square", 2, 32, L2), 0.175f},
          {make_system(PotentialKind::wca, 1, 3, 0.8, 3, 54, L3), make_lattice("bcc", 3, 54, L3), 0.15f}};
}

std::vector<float> config(const WalkerSet& ws, int w) {
  std::vector<float> c(ws.system().n_particles * ws.system().box.dimension);
  ws.configuration(w, c);
  return c;
}

// Restores the OpenMP thread count on scope exit.
struct ThreadCount {
  int saved = omp_get_max_threads();
  ~ThreadCount() { omp_set_num_threads(saved); }
};

TEST(Walkers, ThreadCountDoesNotChangeTheChains) {
  ThreadCount restore;
  for (const WalkerCase& su : setups()) {
    omp_set_num_threads(1);
    WalkerSet one(su.s, kSeed, 0, 12, su.start);
    const std::uint64_t acc1 = one.run(400, su.step);
    omp_set_num_threads(2);
    WalkerSet two(su.s, kSeed, 0, 12, su.start);
    const std::uint64_t acc2 = two.run(400, su.step);
    EXPECT_EQ(acc1, acc2) << "D " << su.s.box.dimension;
    for (int w = 0; w < 12; ++w) {
      EXPECT_EQ(config(one, w), config(two, w)) << "D " << su.s.box.dimension << " walker " << w << " seed " << kSeed;
      // Bitwise, not just ==: also distinguishes −0 / +0 and NaN payloads.
      EXPECT_EQ(std::memcmp(&one.energies()[w], &two.energies()[w], sizeof(double)), 0) << "walker " << w;
    }
    // The chains did move and differ between walkers (else the comparison would be vacuous).
    EXPECT_NE(config(one, 0), su.start);
    EXPECT_NE(config(one, 0), config(one, 1));
    EXPECT_GT(acc1, 12u * 400u / 5);
  }
}

TEST(Walkers, RankSplitReproducesTheSameWalkers) {
  for (const WalkerCase& su : setups()) {
    const int D = su.s.box.dimension;
    WalkerSet all(su.s, kSeed, 0, 10, su.start);  // walkers 0..9 on one "rank"
    WalkerSet tail(su.s, kSeed, 5, 5, su.start);  // walkers 5..9 on another
    all.run(300, su.step);
    // The counter continues across run() calls: 100 + 200 moves equal 300 in one call.
    tail.run(100, su.step);
    tail.run(200, su.step);
    EXPECT_EQ(all.moves_done(), 300u);
    EXPECT_EQ(tail.moves_done(), 300u);
    EXPECT_EQ(tail.first_walker(), 5u);
    for (int k = 0; k < 5; ++k) {
      EXPECT_EQ(config(tail, k), config(all, 5 + k)) << "D " << D << " walker " << 5 + k << " seed " << kSeed;
      EXPECT_EQ(std::memcmp(&tail.energies()[k], &all.energies()[5 + k], sizeof(double)), 0) << "walker " << 5 + k;
    }
    // Walker 0 of the tail set is global walker 5, not global walker 0.
    EXPECT_NE(config(tail, 0), config(all, 0));
  }
}

TEST(Walkers, TrackedEnergiesMatchTheReference) {
  // After 5000 moves per walker the tracked energy (the start energy plus Σ ΔU) differs from a
  // recomputation only by the float32 error of the fast ΔU sums: per accepted move ≲ 1e-5 (see
  // test_mc_kernel.cpp's budget) over ~2500 accepted moves: ≤ 2.5e-2 worst case if all errors
  // had the same sign, ~√2500·1e-5 = 5e-4 as a random walk; the brief's bound 1e-3 is asserted.
  for (const WalkerCase& su : setups()) {
    const int n = su.s.n_particles, D = su.s.box.dimension, W = 6;
    WalkerSet ws(su.s, kSeed, 0, W, su.start);
    // Start energies are the reference energies of the lattice (double from the same floats).
    const double e0 = total_energy<float>(su.s, std::span<const float>(su.start));
    for (int w = 0; w < W; ++w) EXPECT_NEAR(ws.energies()[w], e0, 1e-10 * (1 + std::abs(e0)));
    ws.run(5000, su.step);
    std::vector<double> tracked(ws.energies().begin(), ws.energies().end()), ref(W);
    double worst = 0;
    for (int w = 0; w < W; ++w) {
      const std::vector<float> c = config(ws, w);
      for (float v : c) ASSERT_TRUE(v >= 0.0f && v < static_cast<float>(su.s.box.length)) << "walker " << w;
      ref[w] = total_energy<float>(su.s, std::span<const float>(c));
      worst = std::max(worst, std::abs(tracked[w] - ref[w]));
      EXPECT_NEAR(tracked[w], ref[w], 1e-3) << "D " << D << " walker " << w << " seed " << kSeed;
    }
    const double drift = ws.recompute_energies();
    EXPECT_LT(drift, 1e-3) << "D " << D;
    // The reported drift is the largest |tracked − recomputed| (the recomputation differs from the
    // reference only in summation order: ≤ 2·M·ε_d·Σ|u| ≈ 1e-10 here).
    EXPECT_NEAR(drift, worst, 1e-9) << "D " << D;
    for (int w = 0; w < W; ++w) EXPECT_NEAR(ws.energies()[w], ref[w], 1e-9) << "D " << D << " walker " << w;
    // set_configuration round trip recomputes the energy as well.
    const std::vector<float> c0 = config(ws, 0);
    ws.set_configuration(1, c0);
    EXPECT_EQ(config(ws, 1), c0);
    EXPECT_NEAR(ws.energies()[1], ref[0], 1e-9);
    (void)n;
  }
}

}  // namespace
}  // namespace boltzmap
