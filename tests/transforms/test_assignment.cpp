// Linear assignment for relabelling (src/transforms/assignment.hpp): equal to brute force over all
// n! permutations for n = 1..8 (real, wide-range, small-integer and all-equal costs); for n = 31 an
// optimality certificate (no improving cyclic exchange, checked by Floyd–Warshall) that greedy
// assignments fail; never worse than greedy or random assignments on the paper's system (31
// particles onto the 31 sites of the centred-square lattice of 32 less its centre site); the
// periodic cost across the box boundary; an unperturbed lattice against permuted sites; row and
// column permutation invariance; ties, n = 0 and 1, workspace reuse and bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <tuple>
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "physics/box.hpp"
#include "physics/lattice.hpp"
#include "support/configs.hpp"
#include "transforms/assignment.hpp"

namespace boltzmap {
namespace {

constexpr std::uint64_t kSeed = 20220531;

using Matrix = std::vector<double>;  // [row][column], n×n row-major

// Uniform double in [0, 1) for draw k of case id.
double uniform(std::uint32_t id, std::uint64_t k) {
  const Random4 r = philox(kSeed, RngStream::Test, id, k);
  return uniform_double(r.v[0], r.v[1]);
}

enum class Kind { real, wide, small_int, all_equal };
const char* name(Kind k) {
  return k == Kind::real ? "real" : k == Kind::wide ? "wide" : k == Kind::small_int ? "small_int" : "all_equal";
}

// real: uniform [0, 1). wide: ±10^[−3, 3), mixed signs and scales. small_int: {0, 1, 2} (many
// tied optima). all_equal: every entry 1.5 (every permutation optimal).
Matrix random_matrix(Kind kind, int n, std::uint32_t id) {
  Matrix c(static_cast<size_t>(n) * n);
  for (int k = 0; k < n * n; ++k) {
    const Random4 r = philox(kSeed, RngStream::Test, id, static_cast<std::uint64_t>(k));
    const double a = uniform_double(r.v[0], r.v[1]), b = uniform_double(r.v[2], r.v[3]);
    switch (kind) {
      case Kind::real: c[k] = a; break;
      case Kind::wide: c[k] = (b < 0.5 ? -1 : 1) * std::pow(10.0, 6 * a - 3); break;
      case Kind::small_int: c[k] = static_cast<double>(uniform_index(r.v[0], 3)); break;
      case Kind::all_equal: c[k] = 1.5; break;
    }
  }
  return c;
}

// Σ_i c[i][p[i]] in row order: the order solve() promises to sum in.
double assignment_cost(const Matrix& c, int n, const std::vector<int>& p) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += c[static_cast<size_t>(i) * n + p[i]];
  return s;
}

bool is_permutation_of_n(const std::vector<int>& p, int n) {
  std::vector<int> seen(n, 0);
  for (int i = 0; i < n; ++i) {
    if (p[i] < 0 || p[i] >= n || seen[p[i]]) return false;
    seen[p[i]] = 1;
  }
  return true;
}

double brute_force(const Matrix& c, int n) {
  std::vector<int> p(n);
  std::iota(p.begin(), p.end(), 0);
  double best = std::numeric_limits<double>::infinity();
  do best = std::min(best, assignment_cost(c, n, p));
  while (std::next_permutation(p.begin(), p.end()));
  return best;
}

// Solves with a fresh object; checks the answer is a permutation and the returned value is the
// row-order sum of the chosen entries, bit for bit.
std::vector<int> solve_checked(const Matrix& c, int n, double* total) {
  LinearAssignment lap(n);
  std::vector<int> p(n, -7);
  *total = lap.solve(c.data(), n, p.data());
  EXPECT_TRUE(is_permutation_of_n(p, n)) << "n " << n;
  EXPECT_EQ(*total, assignment_cost(c, n, p)) << "n " << n;
  return p;
}

// σ is optimal iff no cyclic exchange improves it: rows i_1 → i_2 → … → i_1, row i_a taking row
// i_{a+1}'s column (any other permutation is σ composed with disjoint such cycles, and its cost
// difference is the sum of the cycles' weights). Edge i → k weighs c[i][σ(k)] − c[i][σ(i)];
// Floyd–Warshall finds a negative cycle as a negative diagonal. Returns the most negative diagonal
// (≥ 0 up to round-off when σ is optimal).
double most_negative_cycle(const Matrix& c, int n, const std::vector<int>& p) {
  std::vector<double> w(static_cast<size_t>(n) * n);
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < n; ++k) w[i * n + k] = c[i * n + p[k]] - c[i * n + p[i]];
  for (int m = 0; m < n; ++m)
    for (int i = 0; i < n; ++i)
      for (int k = 0; k < n; ++k) w[i * n + k] = std::min(w[i * n + k], w[i * n + m] + w[m * n + k]);
  double worst = 0;
  for (int i = 0; i < n; ++i) worst = std::min(worst, w[i * n + i]);
  return worst;
}

// Each row in turn takes its cheapest free column.
std::vector<int> row_greedy(const Matrix& c, int n) {
  std::vector<int> p(n);
  std::vector<char> taken(n, 0);
  for (int i = 0; i < n; ++i) {
    int best = -1;
    for (int j = 0; j < n; ++j)
      if (!taken[j] && (best < 0 || c[i * n + j] < c[i * n + best])) best = j;
    p[i] = best;
    taken[best] = 1;
  }
  return p;
}

// Cheapest remaining (row, column) pair first.
std::vector<int> global_greedy(const Matrix& c, int n) {
  std::vector<std::tuple<double, int, int>> pairs;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) pairs.emplace_back(c[i * n + j], i, j);
  std::sort(pairs.begin(), pairs.end());
  std::vector<int> p(n, -1);
  std::vector<char> taken(n, 0);
  for (const auto& [v, i, j] : pairs)
    if (p[i] < 0 && !taken[j]) {
      p[i] = j;
      taken[j] = 1;
    }
  return p;
}

// Fisher–Yates shuffle of 0..n−1.
std::vector<int> random_permutation(int n, std::uint32_t id) {
  std::vector<int> p(n);
  std::iota(p.begin(), p.end(), 0);
  for (int i = n - 1; i > 0; --i) {
    const Random4 r = philox(kSeed, RngStream::Test, id, 5000000u + i);
    std::swap(p[i], p[uniform_index(r.v[0], static_cast<std::uint32_t>(i + 1))]);
  }
  return p;
}

// The paper's system: N = 32 in 2D at ρ = 0.735.
constexpr int kN = 32;
const double kL = std::sqrt(32 / 0.735);

// METHOD.md's reference sites: the centred-square lattice of 32 shifted by L/2 (site 0 moves to
// the box centre) with that site removed: 31 sites, [site][dim].
std::vector<double> reference_sites() {
  const std::vector<float> lat = make_lattice("centered-square", 2, kN, kL);
  std::vector<double> sites;
  for (int k = 1; k < kN; ++k)
    for (int d = 0; d < 2; ++d) sites.push_back(wrap_into_box(lat[k * 2 + d] + kL / 2, kL, 1 / kL));
  return sites;
}

// A liquid-like configuration (lattice + uniform jitter of ±jitter·a per coordinate) centred on
// particle 0, which is then dropped: 31 particles, [particle][dim], float32.
std::vector<float> centred_particles(double jitter, std::uint32_t id) {
  const System s = test::make_system(PotentialKind::lj, 1.0, 3.0, 0.8, 2, kN, kL);
  const std::vector<double> x = test::jittered_lattice(s, jitter, kSeed, id);
  std::vector<float> out;
  for (int k = 1; k < kN; ++k)
    for (int d = 0; d < 2; ++d)
      out.push_back(static_cast<float>(wrap_into_box(x[k * 2 + d] - x[d] + kL / 2, kL, 1 / kL)));
  return out;
}

TEST(Assignment, MatchesBruteForceForSmallN) {
  // Per case: the brute-force optimum Σ over rows of the best permutation. Integer and all-equal
  // costs are exact in double, so the solver must hit the optimum exactly. Real costs: every
  // partial sum carries a relative rounding of ≤ 2⁻⁵³ per addition, so two sums over the same
  // entries in different orders differ by ≤ n·2⁻⁵³·Σ|c| ≈ 1e-15·Σ|c|; allow 1e-13·Σ|c|.
  std::uint32_t id = 0;
  for (int n = 1; n <= 8; ++n) {
    const int cases = n <= 5 ? 300 : n == 6 ? 100 : n == 7 ? 40 : 15;
    for (Kind kind : {Kind::real, Kind::wide, Kind::small_int, Kind::all_equal}) {
      for (int c = 0; c < cases; ++c, ++id) {
        const Matrix m = random_matrix(kind, n, id);
        double total;
        const std::vector<int> p = solve_checked(m, n, &total);
        const double best = brute_force(m, n);
        double abs_sum = 0;
        for (double v : m) abs_sum += std::abs(v);
        const bool exact = kind == Kind::small_int || kind == Kind::all_equal;
        const double tol = exact ? 0.0 : 1e-13 * abs_sum;
        ASSERT_NEAR(total, best, tol) << name(kind) << " n " << n << " seed " << kSeed << " id " << id;
        if (kind == Kind::all_equal) {
          ASSERT_EQ(total, 1.5 * n);
        }
      }
    }
  }
}

TEST(Assignment, TiesAreDeterministicAndOptimal) {
  // c_ij = a_i + b_j: every permutation costs Σa + Σb (small integers, so exactly). Small-integer
  // and all-equal matrices up to n = 31: the same answer from a fresh object, a reused object and
  // a second solve.
  for (int n : {1, 2, 3, 5, 8, 16, 31}) {
    Matrix m(static_cast<size_t>(n) * n);
    double expect = 0;
    for (int i = 0; i < n; ++i) {
      expect += i % 5;
      for (int j = 0; j < n; ++j) m[i * n + j] = (i % 5) + (j % 3);
    }
    for (int j = 0; j < n; ++j) expect += j % 3;
    double total;
    solve_checked(m, n, &total);
    EXPECT_EQ(total, expect) << "n " << n;
  }
  LinearAssignment reused(31);
  for (int n : {31, 7, 31, 1, 20}) {
    for (Kind kind : {Kind::small_int, Kind::all_equal}) {
      const Matrix m = random_matrix(kind, n, 900000u + n);
      double first_total;
      const std::vector<int> first = solve_checked(m, n, &first_total);
      std::vector<int> again(n);
      EXPECT_EQ(reused.solve(m.data(), n, again.data()), first_total) << name(kind) << " n " << n;
      EXPECT_EQ(again, first) << name(kind) << " n " << n;
      EXPECT_EQ(reused.solve(m.data(), n, again.data()), first_total);
      EXPECT_EQ(again, first) << name(kind) << " n " << n << " (second solve)";
      if (kind == Kind::all_equal) {
        EXPECT_EQ(first_total, 1.5 * n);
      }
    }
  }
}

TEST(Assignment, TrivialSizes) {
  LinearAssignment lap(4);
  const double one[1] = {-2.25};
  int p[4] = {-1, -1, -1, -1};
  EXPECT_EQ(lap.solve(one, 1, p), -2.25);
  EXPECT_EQ(p[0], 0);
  EXPECT_EQ(lap.solve(one, 0, p), 0.0);
  LinearAssignment empty(0);
  EXPECT_EQ(empty.solve(nullptr, 0, p), 0.0);
  // 2×2 by hand: the anti-diagonal (1 + 2 = 3) beats the diagonal (4 + 5 = 9).
  const double two[4] = {4, 1, 2, 5};
  EXPECT_EQ(lap.solve(two, 2, p), 3.0);
  EXPECT_EQ(p[0], 1);
  EXPECT_EQ(p[1], 0);
}

TEST(Assignment, RejectsBadInput) {
  LinearAssignment lap(3);
  std::vector<double> c(16, 1.0);
  std::vector<int> p(4);
  EXPECT_THROW(lap.solve(c.data(), 4, p.data()), Error);
  EXPECT_THROW(lap.solve(c.data(), -1, p.data()), Error);
  EXPECT_THROW(LinearAssignment(-1), Error);
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    std::vector<double> m(9, 1.0);
    m[7] = bad;
    try {
      lap.solve(m.data(), 3, p.data());
      ADD_FAILURE() << "no throw for " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::numerical);
    }
  }
}

TEST(Assignment, OptimalityCertificateAtN31) {
  // Uniform real 31×31 matrices: the solver's answer admits no improving cyclic exchange (the
  // certificate is exact up to the ~1e-15 round-off of a cycle weight; allow −1e-12), while
  // greedy answers do (the certificate can fail). Then the same on the paper's system.
  const int n = 31;
  int greedy_fails = 0;
  for (std::uint32_t id = 0; id < 40; ++id) {
    const Matrix m = random_matrix(Kind::real, n, 100000u + id);
    double total;
    const std::vector<int> p = solve_checked(m, n, &total);
    EXPECT_GE(most_negative_cycle(m, n, p), -1e-12) << "id " << id;
    if (most_negative_cycle(m, n, row_greedy(m, n)) < -1e-6) ++greedy_fails;
  }
  EXPECT_EQ(greedy_fails, 40) << "greedy should be suboptimal on every uniform 31×31 matrix";
  const std::vector<double> sites = reference_sites();
  Matrix m(static_cast<size_t>(n) * n);
  for (double jitter : {0.1, 0.3, 0.6, 1.0}) {
    for (std::uint32_t id = 0; id < 30; ++id) {
      const std::vector<float> x = centred_particles(jitter, 200000u + id);
      periodic_cost(x.data(), sites.data(), n, 2, kL, m.data());
      double total;
      const std::vector<int> p = solve_checked(m, n, &total);
      EXPECT_GE(most_negative_cycle(m, n, p), -1e-12) << "jitter " << jitter << " id " << id;
    }
  }
}

TEST(Assignment, PaperSystemNeverWorseThanGreedyOrRandom) {
  // Liquid-like configurations from small to complete disorder (jitter 1: each coordinate moved
  // by up to a full cell). The optimum must be ≤ every other assignment's cost; the round-off of
  // a 31-term sum of O(1) terms is ~1e-14, allow 1e-12. At large jitter the greedy assignments
  // must sometimes be strictly worse, or the comparison would show nothing.
  const int n = kN - 1;
  const std::vector<double> sites = reference_sites();
  Matrix m(static_cast<size_t>(n) * n);
  for (double jitter : {0.15, 0.4, 1.0}) {
    int row_worse = 0, global_worse = 0;
    const int cases = 100;
    for (int c = 0; c < cases; ++c) {
      const std::uint32_t id = 300000u + static_cast<std::uint32_t>(jitter * 1000) * 1000 + c;
      const std::vector<float> x = centred_particles(jitter, id);
      periodic_cost(x.data(), sites.data(), n, 2, kL, m.data());
      double total;
      solve_checked(m, n, &total);
      const double row = assignment_cost(m, n, row_greedy(m, n));
      const double global = assignment_cost(m, n, global_greedy(m, n));
      const double random = assignment_cost(m, n, random_permutation(n, id));
      EXPECT_LE(total, row + 1e-12) << "jitter " << jitter << " id " << id;
      EXPECT_LE(total, global + 1e-12) << "jitter " << jitter << " id " << id;
      EXPECT_LT(total, random) << "jitter " << jitter << " id " << id;
      row_worse += row > total + 1e-9;
      global_worse += global > total + 1e-9;
    }
    if (jitter == 1.0) {
      EXPECT_GT(row_worse, cases / 2) << "row greedy was optimal too often at jitter 1";
      EXPECT_GT(global_worse, cases / 4) << "global greedy was optimal too often at jitter 1";
    }
  }
}

TEST(Assignment, PeriodicCostAcrossTheBoundary) {
  // Sites: the lattice shifted by L/2 − 0.001a per axis, so 4 sites per axis sit just below L.
  // Particle i is at site π(i) displaced by up to ±0.2a per axis (outwards at those sites) and
  // wrapped, so particles land on the other side of the boundary from their sites. Each particle is within 0.2a·√2 ≈ 0.28a of its own
  // site and ≥ a/√2 − 0.28a ≈ 0.42a from any other (nearest-neighbour spacing a/√2), so π is the
  // unique optimum, term by term. A non-periodic cost must get it wrong.
  const std::vector<float> lat = make_lattice("centered-square", 2, kN, kL);
  const double a = kL / 4, shift = kL / 2 - 1e-3 * a;
  for (int n_sites : {kN, kN - 1}) {
    const int first = kN - n_sites;  // 31 sites: drop lattice site 0, as in reference_sites()
    std::vector<double> sites;
    for (int k = first; k < kN; ++k)
      for (int d = 0; d < 2; ++d) sites.push_back(wrap_into_box(lat[k * 2 + d] + shift, kL, 1 / kL));
    for (std::uint32_t id = 0; id < 20; ++id) {
      const std::vector<int> pi = random_permutation(n_sites, 400000u + id);
      std::vector<float> x(static_cast<size_t>(n_sites) * 2);
      int crossed = 0;
      for (int i = 0; i < n_sites; ++i)
        for (int d = 0; d < 2; ++d) {
          // Sites at L − 0.001a are displaced outwards, so each case has particles across.
          const double r = sites[pi[i] * 2 + d], u = uniform(400000u + id, 2 * i + d);
          const double raw = r + 0.2 * a * (r > kL - 0.01 * a ? u : 2 * u - 1);
          x[i * 2 + d] = static_cast<float>(wrap_into_box(raw, kL, 1 / kL));
          crossed += raw >= kL;
        }
      ASSERT_GT(crossed, 0) << "the construction should put particles across the boundary";
      Matrix m(static_cast<size_t>(n_sites) * n_sites), plain(m.size());
      periodic_cost(x.data(), sites.data(), n_sites, 2, kL, m.data());
      double total;
      EXPECT_EQ(solve_checked(m, n_sites, &total), pi) << "sites " << n_sites << " id " << id;
      // The same with |x − r|² and no minimum image: the crossed particles are mislabelled.
      for (int i = 0; i < n_sites; ++i)
        for (int s = 0; s < n_sites; ++s) {
          const double dx = x[i * 2] - sites[s * 2], dy = x[i * 2 + 1] - sites[s * 2 + 1];
          plain[i * n_sites + s] = dx * dx + dy * dy;
        }
      EXPECT_NE(solve_checked(plain, n_sites, &total), pi) << "sites " << n_sites << " id " << id;
    }
  }
}

TEST(Assignment, UnperturbedLatticeAgainstPermutedSites) {
  // Particles exactly on the lattice (float32, make_lattice); sites the same lattice computed in
  // double, in a random order σ: site s is lattice point σ(s). Particle i must go to σ⁻¹(i), at a
  // cost of float round-off only (|x − r| ≤ 2⁻²⁴·L per coordinate: cost ≤ 32·2·(4.6e-7)² ≈ 1e-11).
  const double a = kL / 4;
  std::vector<double> lat(kN * 2);  // cell c = (c mod 4, c div 4), particle 2c + h at (cell + h/2)·a
  for (int k = 0; k < kN; ++k) {
    const int c = k / 2, h = k % 2;
    lat[k * 2] = (c % 4 + 0.5 * h) * a;
    lat[k * 2 + 1] = (c / 4 + 0.5 * h) * a;
  }
  const std::vector<float> lat_f = make_lattice("centered-square", 2, kN, kL);
  for (int k = 0; k < kN * 2; ++k) ASSERT_NEAR(lat_f[k], lat[k], 1e-6) << "lattice layout changed";
  for (int n : {kN, kN - 1}) {
    const int first = kN - n;
    std::vector<float> x(lat_f.begin() + first * 2, lat_f.end());
    for (std::uint32_t id = 0; id < 20; ++id) {
      const std::vector<int> sigma = random_permutation(n, 500000u + id);
      std::vector<double> sites(static_cast<size_t>(n) * 2);
      std::vector<int> expect(n);
      for (int s = 0; s < n; ++s) {
        for (int d = 0; d < 2; ++d) sites[s * 2 + d] = lat[(first + sigma[s]) * 2 + d];
        expect[sigma[s]] = s;
      }
      Matrix m(static_cast<size_t>(n) * n);
      periodic_cost(x.data(), sites.data(), n, 2, kL, m.data());
      double total;
      EXPECT_EQ(solve_checked(m, n, &total), expect) << "n " << n << " id " << id;
      EXPECT_LT(total, 1e-11);
    }
  }
}

TEST(Assignment, PermutationInvariance) {
  // Rows permuted by ρ (c'[i] = c[ρ(i)]): the answer becomes p'[i] = p[ρ(i)]. Columns permuted by
  // κ (c'[i][j] = c[i][κ(j)]): p'[i] = κ⁻¹(p[i]). Real costs have a unique optimum almost surely,
  // so the permutation itself must follow; the cost agrees to the round-off of a reordered sum.
  for (int n : {2, 3, 5, 8, 13, 31}) {
    for (std::uint32_t id = 0; id < 25; ++id) {
      const Matrix m = random_matrix(Kind::real, n, 600000u + n * 100 + id);
      double total;
      const std::vector<int> p = solve_checked(m, n, &total);
      const std::vector<int> rho = random_permutation(n, 700000u + n * 100 + id);
      const std::vector<int> kappa = random_permutation(n, 800000u + n * 100 + id);
      std::vector<int> kappa_inv(n);
      for (int j = 0; j < n; ++j) kappa_inv[kappa[j]] = j;
      Matrix rows(m.size()), cols(m.size());
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) {
          rows[i * n + j] = m[rho[i] * n + j];
          cols[i * n + j] = m[i * n + kappa[j]];
        }
      double total_rows, total_cols;
      const std::vector<int> pr = solve_checked(rows, n, &total_rows);
      const std::vector<int> pc = solve_checked(cols, n, &total_cols);
      for (int i = 0; i < n; ++i) {
        EXPECT_EQ(pr[i], p[rho[i]]) << "n " << n << " id " << id << " row " << i;
        EXPECT_EQ(pc[i], kappa_inv[p[i]]) << "n " << n << " id " << id << " row " << i;
      }
      EXPECT_NEAR(total_rows, total, 1e-13 * n);
      EXPECT_NEAR(total_cols, total, 1e-13 * n);
    }
  }
  // Small-integer ties: the optimum value is invariant even where the permutation is not unique.
  for (std::uint32_t id = 0; id < 50; ++id) {
    const int n = 31;
    const Matrix m = random_matrix(Kind::small_int, n, 900100u + id);
    const std::vector<int> rho = random_permutation(n, 900200u + id);
    Matrix rows(m.size());
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) rows[i * n + j] = m[rho[i] * n + j];
    double total, total_rows;
    solve_checked(m, n, &total);
    solve_checked(rows, n, &total_rows);
    EXPECT_EQ(total, total_rows) << "id " << id;
  }
}

TEST(Assignment, PeriodicCostMatchesDefinition) {
  // cost[i][s] against Σ_d (u − L·round(u/L))² with u = x − r in double, including points far
  // outside the box (minimum_image holds for any u), in 2D and 3D; exact equality is not
  // expected (nearbyint vs round at exact halves, u·(1/L) vs u/L), so 1e-12·L².
  for (int dim : {2, 3}) {
    const int n = 7;
    const double L = 5.5;
    std::vector<float> x(n * dim);
    std::vector<double> sites(n * dim);
    for (int k = 0; k < n * dim; ++k) {
      x[k] = static_cast<float>(L * (6 * uniform(1000u + dim, k) - 3));  // [−3L, 3L)
      sites[k] = L * uniform(1100u + dim, k);
    }
    std::vector<double> cost(n * n);
    periodic_cost(x.data(), sites.data(), n, dim, L, cost.data());
    for (int i = 0; i < n; ++i)
      for (int s = 0; s < n; ++s) {
        double r2 = 0;
        for (int d = 0; d < dim; ++d) {
          const double u = static_cast<double>(x[i * dim + d]) - sites[s * dim + d];
          const double w = u - L * std::round(u / L);
          EXPECT_LE(std::abs(w), L / 2 * (1 + 1e-15));
          r2 += w * w;
        }
        EXPECT_NEAR(cost[i * n + s], r2, 1e-12 * L * L) << "dim " << dim << " i " << i << " s " << s;
      }
  }
}

}  // namespace
}  // namespace boltzmap
