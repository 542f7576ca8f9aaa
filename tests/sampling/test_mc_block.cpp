// The production block kernel (src/sampling/mc_block.hpp: 16 walkers in SIMD lanes) against the
// one-walker kernel mc_move() and the O(N²) reference energies: same chains (the draws are shared;
// only the float32 order of the partner sum differs, so a decision flips only when u lies within
// ~1e-6 relative of exp(−βΔU): expected flips over the moves below ≈ 0.1), exact energies near
// overlaps (the double fallback), blocks with idle lanes, and decomposition independence.
#include <gtest/gtest.h>

#include <omp.h>

#include <cmath>
#include <vector>

#include "sampling/walkers.hpp"
#include "support/configs.hpp"

namespace boltzmap {
namespace {

using test::jittered_lattice;
using test::make_system;
using test::to_float;

// Number of walkers whose final configurations differ between two sets of equal size.
int differing_walkers(const WalkerSet& a, const WalkerSet& b) {
  const int stride = a.system().n_particles * a.system().box.dimension;
  std::vector<float> xa(stride), xb(stride);
  int differ = 0;
  for (int w = 0; w < a.count(); ++w) {
    a.configuration(w, xa);
    b.configuration(w, xb);
    differ += xa != xb;
  }
  return differ;
}

struct Case {
  const char* name;
  PotentialKind kind;
  double eps, rc, rin, beta, density;
  int dim, n;
  float step;
};

const Case cases[] = {
    {"IA 2D N=32 (compile-time N)", PotentialKind::lj, 1.0, 3.0, 0.8, 1.0, 0.735, 2, 32, 0.175f},
    {"LJ 2D N=18 (run-time N)", PotentialKind::lj, 1.0, 2.5, 0.8, 1.0, 0.6, 2, 18, 0.2f},
    {"WCA 3D N=16", PotentialKind::wca, 0.5, 0.0, 0.8, 1.0, 0.5, 3, 16, 0.2f},
};

TEST(McBlock, SameChainsAsTheOneWalkerKernel) {
  for (const Case& c : cases) {
    const double L = box_length(c.n, c.density, c.dim);
    const System s = make_system(c.kind, c.eps, c.rc, c.rin, c.dim, c.n, L, c.beta);
    const auto start = to_float(jittered_lattice(s, 0.1, 77, 0));
    const int walkers = 37;  // two full blocks and one with 5 active lanes
    WalkerSet block(s, 1234, 0, walkers, start), single(s, 1234, 0, walkers, start);
    const auto ab = block.run(1500, c.step, MoveKernel::fast);
    const auto as = single.run(1500, c.step, MoveKernel::single);
    // ≤ 1 walker may differ by a flipped borderline decision (expected ≈ 0.1, see top).
    EXPECT_LE(differing_walkers(block, single), 1) << c.name;
    EXPECT_NEAR(static_cast<double>(ab), static_cast<double>(as), 1500.0) << c.name;
    EXPECT_GT(ab, 0u) << c.name;
  }
}

TEST(McBlock, TrackedEnergyStaysExactThroughOverlaps) {
  // T = 5 and r_in = 0.95: proposals inside the linear branch are frequent, so the double
  // fallback runs; after every single move the tracked U must equal the reference U. The
  // tolerance covers the float32 partner sum of the fast path: |ΔU| error ≲ 62 pairs ×
  // 1e-6 × max|u| (≈ 10 here) ≈ 1e-3 per move at worst, far below what a wrong branch gives.
  const double L = box_length(32, 0.735, 2);
  const System s = make_system(PotentialKind::lj, 1.0, 3.0, 0.95, 2, 32, L, 0.2);
  const auto start = to_float(jittered_lattice(s, 0.2, 5, 1));
  WalkerSet ws(s, 99, 0, 20, start);
  double worst = 0.0;
  for (int m = 0; m < 400; ++m) {
    ws.run(1, 0.35f, MoveKernel::fast);
    worst = std::max(worst, ws.recompute_energies());
  }
  EXPECT_LT(worst, 2e-3);
}

TEST(McBlock, WalkersDoNotDependOnTheirBlockOrLane) {
  // Walkers 5..9 alone (one block, lanes 0..4) and as part of 0..39 (lanes 5..9 of block 0):
  // the lane sum runs in the same order for every lane, so the chains are bitwise equal.
  const double L = box_length(32, 0.735, 2);
  const System s = make_system(PotentialKind::lj, 1.0, 3.0, 0.8, 2, 32, L);
  const auto start = to_float(jittered_lattice(s, 0.1, 3, 2));
  WalkerSet all(s, 42, 0, 40, start), part(s, 42, 5, 5, start);
  omp_set_num_threads(2);
  all.run(800, 0.175f);
  omp_set_num_threads(1);
  part.run(800, 0.175f);
  std::vector<float> xa(64), xp(64);
  for (int w = 0; w < 5; ++w) {
    all.configuration(5 + w, xa);
    part.configuration(w, xp);
    EXPECT_EQ(xa, xp) << "walker " << 5 + w;
    EXPECT_EQ(all.energies()[5 + w], part.energies()[w]) << "walker " << 5 + w;
  }
}

}  // namespace
}  // namespace boltzmap
