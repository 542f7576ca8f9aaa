// The circular coupling layer (src/flow/circular_coupling.hpp) from its mathematics: zero last layer
// is the identity exactly; permuting the particles permutes the outputs and keeps the log-det (both
// directions); moving any coordinate by ±L gives the same point on the torus; inverse ∘ forward is
// the identity; the log-det equals log|det| of the finite-difference Jacobian of the whole layer;
// every parameter gradient and input gradient of ℓ = Σ w·y + Σ_b c_b·logdet_b against central
// differences (double; both directions, with and without pair messages, with several message chunks).
// A rough timing of forward + backward at the production shape is printed (no assertion).
// Random parameters: Glorot-initialised, then every entry (last layer, biases, shift included)
// moved by U(−s, s); configurations uniform on the torus; fixed seeds.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "support/torus.hpp"
#include "flow/circular_coupling.hpp"
#include "flow/circular_spline.hpp"

namespace boltzmap {
namespace {

constexpr std::uint64_t kSeed = 20261202;
constexpr double kBox = 5.6568542494923806;  // N = 32 at ρ = 1 in 2D: L = √32

double uniform(std::uint64_t seed, std::uint32_t id, std::uint64_t k) { return test::uniform_pm1(seed, id, k); }
using test::circle_diff;

CircularCouplingShape shape_of(int n, int D, int axis, double L, int K = 8, int F = 4, int H = 32) {
  CircularCouplingShape s;
  s.particles = n;
  s.dim = D;
  s.axis = axis;
  s.bins = K;
  s.frequencies = F;
  s.hidden = H;
  s.length = L;
  return s;
}

template <class T>
struct Layer {
  CircularCouplingShape shape;
  CircularCouplingLayout layout;
  std::vector<T> params;
  CircularCouplingCache<T> cache;
  explicit Layer(const CircularCouplingShape& s, std::uint64_t seed = 1)
      : shape(s), layout(circular_coupling_layout(s)), params(layout.count) {
    circular_coupling_initialise(shape, seed, 0, params.data());
  }
  void randomise(double scale, std::uint64_t seed) {
    for (std::size_t i = 0; i < params.size(); ++i) params[i] += static_cast<T>(scale * uniform(seed, 9, i));
  }
  void run(bool inverse, const std::vector<T>& in, int batch, std::vector<T>& out, std::vector<T>& ld) {
    out.resize(in.size());
    ld.resize(batch);
    if (inverse)
      circular_coupling_inverse_cpu(shape, params.data(), in.data(), batch, out.data(), ld.data(), cache);
    else
      circular_coupling_forward_cpu(shape, params.data(), in.data(), batch, out.data(), ld.data(), cache);
  }
  void backward(bool inverse, const std::vector<T>& g_out, const std::vector<T>& gld, std::vector<T>& grad,
                std::vector<T>& g_in) {
    g_in.resize(g_out.size());
    if (inverse)
      circular_coupling_inverse_backward_cpu(shape, params.data(), cache, g_out.data(), gld.data(), grad.data(), g_in.data());
    else
      circular_coupling_forward_backward_cpu(shape, params.data(), cache, g_out.data(), gld.data(), grad.data(), g_in.data());
  }
};

// batch configurations [batch][n][D], uniform on [−L/2, L/2).
template <class T>
std::vector<T> random_configurations(int batch, int n, int D, double L, std::uint64_t seed) {
  std::vector<T> x(static_cast<std::size_t>(batch) * n * D);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<T>(circle_wrap(0.5 * L * uniform(seed, 1, i), L));
  return x;
}

// A random permutation of 0…n − 1 (sorted random keys).
std::vector<int> random_permutation(int n, std::uint64_t seed, std::uint32_t id) {
  std::vector<int> p(n);
  std::iota(p.begin(), p.end(), 0);
  std::vector<double> key(n);
  for (int i = 0; i < n; ++i) key[i] = uniform(seed, id, i);
  std::sort(p.begin(), p.end(), [&](int a, int b) { return key[a] < key[b]; });
  return p;
}

// The shapes of the float tests: production (n = 31, 2D, both axes) and a 3D one (two
// conditioning axes) with an odd K and small widths.
std::vector<CircularCouplingShape> float_shapes() {
  return {shape_of(31, 2, 0, kBox), shape_of(31, 2, 1, kBox), shape_of(11, 3, 1, 3.1, 5, 3, 16)};
}

// ---- Identity -----------------------------------------------------------------------------------

TEST(CircularCoupling, ParameterCount) {
  // N = 32, D = 2, K = 8, F = 4, H = 32: P = 8 features; W_e 32·8 + 32, U 32·8, V 32·32 + 32,
  // W_1 32·64 + 32, W_2 24·32 + 24, shift 1: 288 + 1312 + 2080 + 792 + 1 = 4473.
  EXPECT_EQ(circular_coupling_layout(shape_of(31, 2, 0, kBox)).count, 4473u);
  CircularCouplingShape no_shift = shape_of(31, 2, 0, kBox);
  no_shift.shift = false;
  EXPECT_EQ(circular_coupling_layout(no_shift).count, 4472u);
  EXPECT_THROW(circular_coupling_layout(shape_of(31, 2, 2, kBox)), Error);  // axis ≥ D
}

TEST(CircularCoupling, ZeroLastLayerIsTheIdentityExactly) {
  for (const CircularCouplingShape& s : float_shapes()) {
    Layer<float> f(s, 3);
    const int batch = 64;
    const std::vector<float> x = random_configurations<float>(batch, s.particles, s.dim, s.length, kSeed);
    std::vector<float> y, ld, back, ldi;
    f.run(false, x, batch, y, ld);
    f.run(true, x, batch, back, ldi);
    EXPECT_EQ(y, x) << "axis " << s.axis;
    EXPECT_EQ(back, x) << "axis " << s.axis;
    for (int b = 0; b < batch; ++b) {
      EXPECT_EQ(ld[b], 0.0f);
      EXPECT_EQ(ldi[b], 0.0f);
    }
  }
}

// ---- Symmetries -----------------------------------------------------------------------------------

// F(Px) = P F(x) and logdet(Px) = logdet(x), forward and inverse, in float. Only the order of the
// sum over neighbours j (and of Eigen's register blocking across rows) changes: |δm| ≈ (n − 2)·ε·|m|
// ≈ 2e-6, moved through W_1, W_2 (operator norms of a few) to θ, and θ to y with |∂y/∂θ| ≲ L: the
// bound 2e-5·L on y, and 2e-5·n on the log-det (n terms of |∂ld/∂θ|·δθ). Measured: below 1e-6·L.
TEST(CircularCoupling, PermutingTheParticlesPermutesTheOutputs) {
  for (const CircularCouplingShape& s : float_shapes()) {
    Layer<float> f(s, 4);
    f.randomise(0.3, kSeed + 1);
    const int batch = 16, n = s.particles, D = s.dim;
    const std::vector<float> x = random_configurations<float>(batch, n, D, s.length, kSeed + 2);
    for (const bool inverse : {false, true}) {
      std::vector<float> xp(x.size()), y, yp, ld, ldp;
      std::vector<std::vector<int>> perm;
      for (int b = 0; b < batch; ++b) {
        perm.push_back(random_permutation(n, kSeed + 3, b));
        for (int i = 0; i < n; ++i)
          for (int d = 0; d < D; ++d) xp[(b * n + i) * D + d] = x[(b * n + perm[b][i]) * D + d];
      }
      f.run(inverse, x, batch, y, ld);
      f.run(inverse, xp, batch, yp, ldp);
      double worst_y = 0, worst_ld = 0;
      for (int b = 0; b < batch; ++b) {
        for (int i = 0; i < n; ++i)
          for (int d = 0; d < D; ++d)
            worst_y = std::max(worst_y, std::abs(circle_diff(yp[(b * n + i) * D + d], y[(b * n + perm[b][i]) * D + d], s.length)));
        worst_ld = std::max(worst_ld, std::abs(double(ldp[b]) - ld[b]));
      }
      EXPECT_LE(worst_y, 2e-5 * s.length) << "axis " << s.axis << " D " << D << (inverse ? " inverse" : " forward");
      EXPECT_LE(worst_ld, 2e-5 * n) << "axis " << s.axis << " D " << D << (inverse ? " inverse" : " forward");
      std::printf("[ equivariance ] D=%d axis=%d %s: max |Δy| = %.2e (L = %.2f), max |Δlogdet| = %.2e\n", D, s.axis,
                  inverse ? "inverse" : "forward", worst_y, s.length, worst_ld);
      EXPECT_GT(*std::max_element(ld.begin(), ld.end()) - *std::min_element(ld.begin(), ld.end()), 0.1f)
          << "the map should not be the identity";
    }
  }
}

// Every coordinate moved by k·L, k ∈ {−1, 0, 1} at random: the same output on the torus and the same
// log-det. The moved input is wrapped back with the error of one rounding of x ± L, ≤ ε·L (the
// features and the spline see inputs that differ by that): |Δy| ≤ 20·ε·L·(1 + max F') with
// F' ≤ 20 at these parameters, the log-det to 20·ε·n·(its sensitivity, ≲ 10/L). Both precisions.
// Measured: |Δy| ≤ 1.1e-6·L (float), 1.2e-15·L (double); log-dets 2.5e-5 and 5e-14.
template <class T>
void check_periodicity() {
  const double eps = std::numeric_limits<T>::epsilon();
  for (const CircularCouplingShape& s : float_shapes()) {
    Layer<T> f(s, 5);
    f.randomise(0.3, kSeed + 4);
    const int batch = 16, n = s.particles, D = s.dim;
    const double L = s.length;
    const std::vector<T> x = random_configurations<T>(batch, n, D, L, kSeed + 5);
    std::vector<T> moved(x);
    for (std::size_t i = 0; i < x.size(); ++i) moved[i] = static_cast<T>(x[i] + L * std::round(uniform(kSeed + 6, 2, i)));
    for (const bool inverse : {false, true}) {
      std::vector<T> y, ym, ld, ldm;
      f.run(inverse, x, batch, y, ld);
      f.run(inverse, moved, batch, ym, ldm);
      double worst_y = 0, worst_ld = 0;
      for (std::size_t i = 0; i < y.size(); ++i) worst_y = std::max(worst_y, std::abs(circle_diff(ym[i], y[i], L)));
      for (int b = 0; b < batch; ++b) worst_ld = std::max(worst_ld, std::abs(double(ldm[b]) - ld[b]));
      EXPECT_LE(worst_y, 20 * eps * L * 21) << "axis " << s.axis << " D " << D << (inverse ? " inverse" : " forward");
      EXPECT_LE(worst_ld, 20 * eps * n * 10) << "axis " << s.axis << " D " << D << (inverse ? " inverse" : " forward");
      std::printf("[ periodicity ] %s D=%d axis=%d %s: max |Δy| = %.2e, max |Δlogdet| = %.2e\n", sizeof(T) == 4 ? "float" : "double",
                  D, s.axis, inverse ? "inverse" : "forward", worst_y, worst_ld);
    }
  }
}
TEST(CircularCoupling, PeriodicInEveryCoordinateFloat) { check_periodicity<float>(); }
TEST(CircularCoupling, PeriodicInEveryCoordinateDouble) { check_periodicity<double>(); }

// ---- Inverse ------------------------------------------------------------------------------------

// F⁻¹(F(x)) = x and F(F⁻¹(y)) = y on the torus, log-dets opposite, in float. The conditioning axes
// pass through unchanged, so both directions compute bitwise the same θ: only the spline's round
// trip remains, ε·L·(1 + (1 + κ)/F') per coordinate (circular_spline.hpp) with κ, 1/F' ≲ 30 here:
// 1e-4·L; log-dets: n terms of 30·ε each at most, 1e-3 (measured: a few 1e-5).
TEST(CircularCoupling, InverseUndoesForward) {
  for (const CircularCouplingShape& s : float_shapes()) {
    Layer<float> f(s, 6);
    f.randomise(0.3, kSeed + 7);
    const int batch = 32, n = s.particles, D = s.dim;
    const std::vector<float> x = random_configurations<float>(batch, n, D, s.length, kSeed + 8);
    for (const bool inverse_first : {false, true}) {
      std::vector<float> y, back, ld1, ld2;
      f.run(inverse_first, x, batch, y, ld1);
      f.run(!inverse_first, y, batch, back, ld2);
      double worst = 0, moved = 0, worst_ld = 0;
      for (std::size_t i = 0; i < x.size(); ++i) {
        worst = std::max(worst, std::abs(circle_diff(back[i], x[i], s.length)));
        moved = std::max(moved, std::abs(circle_diff(y[i], x[i], s.length)));
      }
      for (int b = 0; b < batch; ++b) worst_ld = std::max(worst_ld, std::abs(double(ld1[b]) + ld2[b]));
      EXPECT_GT(moved, 0.1 * s.length) << "the map should not be the identity";
      EXPECT_LE(worst, 1e-4 * s.length) << "axis " << s.axis << " D " << D;
      EXPECT_LE(worst_ld, 1e-3) << "axis " << s.axis << " D " << D;
      std::printf("[ round trip ] D=%d axis=%d %s first: max |Δx| = %.2e, max |ld_f + ld_i| = %.2e\n", D, s.axis,
                  inverse_first ? "inverse" : "forward", worst, worst_ld);
    }
  }
}

// ---- Derivatives (double) ------------------------------------------------------------------------

// Small shapes: 4 particles (n = 3) in 2D, both axes; in 3D with two conditioning axes; n = 2 (one
// neighbour); n = 1 (no messages); pair_rows small enough that the messages run in chunks of two
// configurations and a partial last one.
std::vector<CircularCouplingShape> small_shapes() {
  std::vector<CircularCouplingShape> v = {shape_of(3, 2, 0, 2.3, 5, 3, 6), shape_of(3, 2, 1, 2.3, 5, 3, 6),
                                          shape_of(3, 3, 2, 1.7, 4, 2, 5), shape_of(2, 2, 1, 2.3, 3, 2, 4),
                                          shape_of(1, 2, 0, 2.3, 4, 2, 4)};
  v[1].pair_rows = 12;  // 6 pairs per configuration: chunks of 2, 2 configurations
  v[2].shift = false;
  return v;
}

// log|det ∂F/∂x| against the determinant of the Jacobian by central differences (step 1e-6:
// truncation h²·|F'''| ≈ 1e-10, round-off ε/h ≈ 2e-10 per entry, so 1e-7 on the log of a 6×6 to
// 9×9 determinant of well-conditioned entries), both directions, configuration by configuration.
TEST(CircularCoupling, LogDetEqualsTheFiniteDifferenceJacobian) {
  for (const CircularCouplingShape& s : small_shapes()) {
    Layer<double> f(s, 7);
    f.randomise(0.5, kSeed + 9);
    const int batch = 3, n = s.particles, D = s.dim, M = n * D;
    const std::vector<double> x = random_configurations<double>(batch, n, D, s.length, kSeed + 10);
    const double h = 1e-6;
    for (const bool inverse : {false, true})
      for (int b = 0; b < batch; ++b) {
        std::vector<double> xb(x.begin() + b * M, x.begin() + (b + 1) * M), y, ld;
        f.run(inverse, xb, 1, y, ld);
        Eigen::MatrixXd J(M, M);
        for (int c = 0; c < M; ++c) {
          std::vector<double> xp = xb, xm = xb, yp, ym, l;
          xp[c] += h;
          xm[c] -= h;
          f.run(inverse, xp, 1, yp, l);
          f.run(inverse, xm, 1, ym, l);
          for (int r = 0; r < M; ++r) J(r, c) = circle_diff(yp[r], ym[r], s.length) / (2 * h);
        }
        EXPECT_NEAR(ld[0], std::log(std::abs(J.determinant())), 1e-7)
            << "n " << n << " D " << D << " axis " << s.axis << " configuration " << b << (inverse ? " inverse" : " forward");
      }
  }
}

// ℓ = Σ w·out + Σ_b c_b·logdet_b (w, c ~ U(−1, 1)): dℓ/dθ for every parameter and dℓ/d(input) for
// every coordinate against central differences, step 1e-6: |analytic − FD| ≤ 1e-6 + 1e-5·|FD|
// (truncation h²·ℓ''' ≈ 1e-10, round-off ε·|ℓ|/h ≈ 1e-9; a knot crossed within ±h would show as an
// O(1) miss: none at these seeds).
void check_gradients(bool inverse) {
  for (const CircularCouplingShape& s : small_shapes()) {
    Layer<double> f(s, 8);
    f.randomise(0.5, kSeed + 11);
    const int batch = 3, n = s.particles, D = s.dim;
    const std::vector<double> x = random_configurations<double>(batch, n, D, s.length, kSeed + 12);
    std::vector<double> w(x.size()), c(batch);
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = uniform(kSeed + 13, 3, i);
    for (int b = 0; b < batch; ++b) c[b] = uniform(kSeed + 13, 4, b);
    auto loss = [&](const std::vector<double>& in) {
      std::vector<double> out, ld;
      f.run(inverse, in, batch, out, ld);
      double v = 0;
      for (std::size_t i = 0; i < out.size(); ++i) v += w[i] * out[i];
      for (int b = 0; b < batch; ++b) v += c[b] * ld[b];
      return v;
    };
    std::vector<double> out, ld, grad(f.params.size(), 0.0), g_in;
    f.run(inverse, x, batch, out, ld);
    f.backward(inverse, w, c, grad, g_in);
    const double h = 1e-6;
    const char* dir = inverse ? " (inverse)" : " (forward)";
    double norm = 0;
    for (std::size_t i = 0; i < f.params.size(); ++i) {
      const double keep = f.params[i];
      f.params[i] = keep + h;
      const double lp = loss(x);
      f.params[i] = keep - h;
      const double lm = loss(x);
      f.params[i] = keep;
      const double fd = (lp - lm) / (2 * h);
      norm += fd * fd;
      EXPECT_NEAR(grad[i], fd, 1e-6 + 1e-5 * std::abs(fd)) << "parameter " << i << " n " << n << " D " << D << " axis " << s.axis << dir;
    }
    EXPECT_GT(norm, 1e-2) << "the loss should depend on the parameters";
    for (std::size_t i = 0; i < x.size(); ++i) {
      std::vector<double> xp = x, xm = x;
      xp[i] += h;
      xm[i] -= h;
      const double fd = (loss(xp) - loss(xm)) / (2 * h);
      EXPECT_NEAR(g_in[i], fd, 1e-6 + 1e-5 * std::abs(fd)) << "input " << i << " n " << n << " D " << D << " axis " << s.axis << dir;
    }
  }
}
TEST(CircularCoupling, ForwardGradientsMatchFiniteDifferences) { check_gradients(false); }
TEST(CircularCoupling, InverseGradientsMatchFiniteDifferences) { check_gradients(true); }

// The backward pass accumulates into grad and may write its input gradient over its upstream one.
TEST(CircularCoupling, BackwardAccumulatesAndMayWorkInPlace) {
  const CircularCouplingShape s = small_shapes()[0];
  Layer<double> f(s, 9);
  f.randomise(0.5, kSeed + 14);
  const int batch = 3;
  const std::vector<double> x = random_configurations<double>(batch, s.particles, s.dim, s.length, kSeed + 15);
  std::vector<double> y, ld, g1(f.params.size(), 0.0), g2(f.params.size(), 0.0), gin;
  const std::vector<double> gy = random_configurations<double>(batch, s.particles, s.dim, 2.0, kSeed + 16);
  const std::vector<double> gld = {0.3, -0.7, 1.1};
  f.run(false, x, batch, y, ld);
  f.backward(false, gy, gld, g1, gin);
  f.backward(false, gy, gld, g2, gin);
  f.backward(false, gy, gld, g2, gin);
  for (std::size_t i = 0; i < g1.size(); ++i) EXPECT_NEAR(g2[i], 2 * g1[i], 1e-12 * (1 + std::abs(g1[i])));
  std::vector<double> inplace = gy;
  circular_coupling_forward_backward_cpu(s, f.params.data(), f.cache, inplace.data(), gld.data(), g2.data(), inplace.data());
  EXPECT_EQ(inplace, gin);
}

// ---- Cost ----------------------------------------------------------------------------------------

// Forward + backward of one coupling at the production shape (n = 31, 2D, K = 8, F = 4, H = 32),
// float, batch 256, 1 thread and the default: printed per configuration (no assertion; the machine
// is shared, and OpenMP's waiting threads make the 2-thread figure unreliable on busy cores).
TEST(CircularCoupling, CostOfForwardAndBackward) {
  const CircularCouplingShape s = shape_of(31, 2, 0, kBox);
  Layer<float> f(s, 10);
  f.randomise(0.3, kSeed + 17);
  const int batch = 256;
  const std::vector<float> x = random_configurations<float>(batch, s.particles, s.dim, s.length, kSeed + 18);
  const std::vector<float> gy = random_configurations<float>(batch, s.particles, s.dim, 2.0, kSeed + 19);
  const std::vector<float> gld(batch, 0.5f);
  std::vector<float> y, ld, grad(f.params.size(), 0.0f), gx;
  auto step = [&] {
    f.run(false, x, batch, y, ld);
    f.backward(false, gy, gld, grad, gx);
  };
  const int saved = omp_get_max_threads();
  for (const int threads : {1, saved}) {
    omp_set_num_threads(threads);
    step();
    const int rounds = 5;
    const auto t0 = std::chrono::steady_clock::now();
    for (int k = 0; k < rounds; ++k) step();
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto t1 = std::chrono::steady_clock::now();
    for (int k = 0; k < rounds; ++k) f.run(false, x, batch, y, ld);
    const double df = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    std::printf("[ cost ] one coupling, n=31 D=2 K=8 F=4 H=32, batch %d, %d thread(s): forward+backward %.1f us/configuration "
                "(forward alone %.1f us)\n",
                batch, threads, 1e6 * dt / (rounds * batch), 1e6 * df / (rounds * batch));
  }
  omp_set_num_threads(saved);
  EXPECT_TRUE(std::isfinite(grad[0]));
}

}  // namespace
}  // namespace boltzmap
