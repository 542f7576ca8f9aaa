// The volume-preserving preprocessing layers (src/transforms/{centre,symmetry,drop,wrap}.hpp):
// exact symmetries of U (energy unchanged to float tolerance), round trips, group structure of
// the point symmetries, and the effect of wrapping on clouds cut by the box edge.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <vector>

#include "physics/energy.hpp"
#include "support/configs.hpp"
#include "transforms/centre.hpp"
#include "transforms/drop.hpp"
#include "transforms/symmetry.hpp"
#include "transforms/wrap.hpp"

namespace boltzmap {
namespace {

using test::jittered_lattice;
using test::make_system;

// A batch of liquid-like configurations of the paper's system (or a 3D one).
std::vector<float> make_batch(const System& s, int rows, double jitter, std::uint64_t seed) {
  std::vector<float> out;
  for (int r = 0; r < rows; ++r) {
    const auto x = jittered_lattice(s, jitter, seed, static_cast<std::uint32_t>(r));
    out.insert(out.end(), x.begin(), x.end());
  }
  return out;
}

double energy_of(const System& s, const float* x) {
  return total_energy<float>(s, std::span<const float>(x, static_cast<size_t>(s.n_particles) * s.box.dimension));
}

// Sorted minimum-image pair distances: a fingerprint of a configuration up to translation,
// relabelling and point symmetry.
std::vector<double> distances(const System& s, const float* x) {
  std::vector<double> d;
  for (int i = 0; i < s.n_particles; ++i)
    for (int j = i + 1; j < s.n_particles; ++j)
      d.push_back(std::sqrt(squared_distance(s, x + i * s.box.dimension, x + j * s.box.dimension)));
  std::sort(d.begin(), d.end());
  return d;
}

System paper_system(int dim) {
  const int n = dim == 2 ? 32 : 16;
  return make_system(PotentialKind::lj, 1.0, dim == 2 ? 3.0 : 1.8, 0.8, dim, n, box_length(n, dim == 2 ? 0.735 : 0.6, dim));
}

// Energy tolerance: U is a sum of ~N² float-position pair terms of size ~ε; moving coordinates by
// one float ulp of L (≈ 5e-7) changes U by ≲ N·|F|·ulp ≈ 32·50·5e-7 ≈ 1e-3 at worst.
constexpr double kEnergyTol = 2e-3;

TEST(Layers, CentringPutsTheChosenParticleAtTheCentreAndKeepsU) {
  for (int dim : {2, 3}) {
    const System s = paper_system(dim);
    const int rows = 40, N = s.n_particles;
    auto data = make_batch(s, rows, 0.3, 11);
    const auto orig = data;
    BatchView b{data.data(), rows, N, dim};
    std::vector<int> c(rows);
    for (int r = 0; r < rows; ++r) c[r] = (7 * r) % N;
    std::vector<float> shift(rows * dim);
    centre_forward(b, c, s.box.length, shift);
    for (int r = 0; r < rows; ++r) {
      for (int d = 0; d < dim; ++d) EXPECT_EQ(b.row(r)[c[r] * dim + d], static_cast<float>(0.5 * s.box.length));
      for (int k = 0; k < N * dim; ++k) {
        EXPECT_GE(b.row(r)[k], 0.0f);
        EXPECT_LT(b.row(r)[k], static_cast<float>(s.box.length));
      }
      EXPECT_NEAR(energy_of(s, b.row(r)), energy_of(s, orig.data() + r * N * dim), kEnergyTol) << "dim " << dim << " row " << r;
    }
    centre_inverse(b, shift, s.box.length);
    for (size_t k = 0; k < data.size(); ++k) {
      // Back to the original coordinates up to float round-off (or ±L at the box edge).
      const double diff = std::abs(minimum_image<double>(data[k] - orig[k], s.box.length, 1 / s.box.length));
      EXPECT_LT(diff, 2e-6) << "k " << k;
    }
  }
}

TEST(Layers, PointSymmetriesFormTheGroupAndKeepU) {
  for (int dim : {2, 3}) {
    const System s = paper_system(dim);
    const int order = symmetry_group_order(dim), N = s.n_particles;
    ASSERT_EQ(order, dim == 2 ? 8 : 48);
    // All elements distinct (as signed permutations) and each inverse is in the group.
    std::set<std::vector<int>> seen;
    for (int g = 0; g < order; ++g) {
      const auto e = symmetry_element(g, dim);
      std::vector<int> key;
      for (int d = 0; d < dim; ++d) key.push_back((e.perm[d] + 1) * e.sign[d]);
      EXPECT_TRUE(seen.insert(key).second) << "element " << g << " repeated";
    }
    auto data = make_batch(s, order, 0.3, 12);
    const auto orig = data;
    BatchView b{data.data(), order, N, dim};
    std::vector<int> g(order);
    for (int r = 0; r < order; ++r) g[r] = r;  // every element once
    symmetry_forward(b, g, s.box.length);
    for (int r = 0; r < order; ++r) {
      EXPECT_NEAR(energy_of(s, b.row(r)), energy_of(s, orig.data() + r * N * dim), kEnergyTol) << "dim " << dim << " g " << r;
      EXPECT_EQ(distances(s, b.row(r)).size(), distances(s, orig.data() + r * N * dim).size());
    }
    // g ≠ identity moves a generic configuration; inverse() restores it.
    EXPECT_NE(std::vector<float>(b.row(1), b.row(1) + N * dim), std::vector<float>(orig.begin() + N * dim, orig.begin() + 2 * N * dim));
    symmetry_inverse(b, g, s.box.length);
    for (size_t k = 0; k < data.size(); ++k)
      EXPECT_LT(std::abs(minimum_image<double>(data[k] - orig[k], s.box.length, 1 / s.box.length)), 2e-6) << "k " << k;
  }
}

TEST(Layers, DropAndReinsertKeepsTheConfigurationUpToLabels) {
  const System s = paper_system(2);
  const int rows = 10, N = s.n_particles, D = 2;
  auto data = make_batch(s, rows, 0.3, 13);
  BatchView b{data.data(), rows, N, D};
  std::vector<int> c(rows);
  for (int r = 0; r < rows; ++r) c[r] = (5 * r + 3) % N;
  std::vector<float> shift(rows * D);
  centre_forward(b, c, s.box.length, shift);
  const auto centred = data;
  std::vector<float> dropped(rows * (N - 1) * D), back(rows * N * D);
  drop_forward(b, c, BatchView{dropped.data(), rows, N - 1, D});
  drop_inverse(BatchView{dropped.data(), rows, N - 1, D}, s.box.length, BatchView{back.data(), rows, N, D});
  for (int r = 0; r < rows; ++r) {
    EXPECT_EQ(distances(s, back.data() + r * N * D), distances(s, centred.data() + r * N * D)) << "row " << r;
    EXPECT_DOUBLE_EQ(energy_of(s, back.data() + r * N * D), energy_of(s, centred.data() + r * N * D));
  }
}

TEST(Layers, WrappingReducesTheVarianceOfCloudsCutByTheBoxEdge) {
  // Clouds that straddle the boundary: each coordinate of "particle" k is c_k + Gaussian(0.3)
  // with c_k near 0 or near L, so in [0, L) the cloud is split in two far apart halves.
  const double L = 6.6;
  const int rows = 4000, P = 4, D = 2;
  const double centres_true[P * D] = {0.05, 3.0, 6.5, 3.3, 3.3, 0.1, 6.55, 6.55};
  std::vector<float> data(rows * P * D);
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < P * D; ++j) {
      const Random4 q = philox(3, RngStream::Test, r, j);
      const double u1 = uniform_open_double(q.v[0]), u2 = uniform_double(q.v[1]);
      const double g = std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
      data[r * P * D + j] = static_cast<float>(wrap_into_box(centres_true[j] + 0.3 * g, L, 1 / L));
    }
  const auto orig = data;
  BatchView b{data.data(), rows, P, D};
  const auto centres = fit_wrap_centres(b, L);
  for (int j = 0; j < P * D; ++j)  // circular mean ≈ the true centre (σ/√n ≈ 0.005)
    EXPECT_LT(std::abs(minimum_image(centres[j] - centres_true[j], L, 1 / L)), 0.03) << "column " << j;
  auto variance = [&](const std::vector<float>& v, int j) {
    double m = 0, q = 0;
    for (int r = 0; r < rows; ++r) m += v[r * P * D + j];
    m /= rows;
    for (int r = 0; r < rows; ++r) q += (v[r * P * D + j] - m) * (v[r * P * D + j] - m);
    return q / rows;
  };
  wrap_forward(b, centres, L);
  for (int j = 0; j < P * D; ++j) {
    const bool cut = centres_true[j] < 1.0 || centres_true[j] > L - 1.0;
    // Wrapped: the Gaussian's variance 0.09 (±5% sampling error at n = 4000); unwrapped clouds that
    // are cut have variance ≈ L²/4 ≫ 0.09.
    EXPECT_NEAR(variance(data, j), 0.09, 0.09 * 0.1) << "column " << j;
    if (cut) {
      EXPECT_GT(variance(orig, j), 5.0) << "column " << j;
    }
  }
  wrap_inverse(b, L);
  for (size_t k = 0; k < data.size(); ++k) EXPECT_NEAR(data[k], orig[k], 1e-5 * L) << "k " << k;
}

}  // namespace
}  // namespace boltzmap
