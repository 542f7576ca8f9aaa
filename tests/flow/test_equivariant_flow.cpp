// The equivariant periodic flow (src/flow/equivariant_flow.hpp), a stack of circular couplings, from
// its mathematics: at initialisation it is the identity bitwise; inverse ∘ forward is the identity;
// its output and log-det are those of its layers applied one after the other (log-dets summed); the
// log-det equals log|det| of the finite-difference Jacobian (2D and 3D); permuting the particles
// permutes the outputs and keeps the log-det (both directions); moving any input coordinate by ±L
// gives the same point on the torus; every parameter and input gradient of
// ℓ = Σ w·y + Σ_b c_b·logdet_b against central differences (double, both directions).
// 1 and 2 threads give bitwise the same results (the fixed chunks). A rough timing of forward +
// backward of 8 layers at N = 32 is printed (no assertion).
// Random parameters: the seeded initialisation, then every entry (last layers, biases, shifts
// included) moved by U(−s, s); configurations uniform on the torus; fixed seeds.
// Tolerances of the round trip, equivariance and periodicity: a worst-case bound carried through
// the stack is useless here (‖∂out/∂in‖_∞ of one layer, measured by central differences at these
// parameters, is 12 to 64: summed over all 31 particles' conditioning coordinates, with signs that
// do not line up in practice). The errors are roundings, so they scale with ε: the tests run in
// float and double, the constants C in |Δy| ≤ C·ε·L and |Δlogdet| ≤ C·ε·n come out the same in both
// precisions (measured: ≤ 116 and ≤ 71, printed), and the tests take C = 1000, ~10× the largest.
// A defect (a wrong neighbour, a missed wrap) moves outputs by O(L), 10⁴× the float tolerance.
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
#include "flow/circular_spline.hpp"
#include "flow/equivariant_flow.hpp"

namespace boltzmap {
namespace {

constexpr std::uint64_t kSeed = 20261203;
constexpr double kBox = 5.6568542494923806;  // N = 32 at ρ = 1 in 2D: L = √32

double uniform(std::uint64_t seed, std::uint32_t id, std::uint64_t k) { return test::uniform_pm1(seed, id, k); }
using test::circle_diff;

EquivariantFlowShape shape_of(int n, int D, int layers, double L, int K = 8, int F = 4, int H = 32) {
  EquivariantFlowShape s;
  s.particles = n;
  s.dim = D;
  s.layers = layers;
  s.bins = K;
  s.frequencies = F;
  s.hidden = H;
  s.length = L;
  return s;
}

template <class T>
void randomise(EquivariantFlow<T>& f, double scale, std::uint64_t seed) {
  for (std::size_t i = 0; i < f.parameter_count(); ++i) f.parameters()[i] += static_cast<T>(scale * uniform(seed, 9, i));
}

// batch configurations [batch][n·D], uniform on [−L/2, L/2).
template <class T>
typename EquivariantFlow<T>::Mat random_configurations(int batch, int n, int D, double L, std::uint64_t seed) {
  typename EquivariantFlow<T>::Mat x(batch, n * D);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<T>(circle_wrap(0.5 * L * uniform(seed, 1, i), L));
  return x;
}

template <class T>
void run(const EquivariantFlow<T>& f, bool inverse, const typename EquivariantFlow<T>::Mat& in,
         typename EquivariantFlow<T>::Mat& out, typename EquivariantFlow<T>::Vec& ld,
         typename EquivariantFlow<T>::Cache* cache = nullptr) {
  if (inverse)
    f.inverse(in, out, ld, cache);
  else
    f.forward(in, out, ld, cache);
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

// The float tests' stacks, 4 layers: production (n = 31, 2D) and 3D (two conditioning axes per
// layer, the x axis transformed twice) with an odd K and small widths.
std::vector<EquivariantFlowShape> float_shapes() { return {shape_of(31, 2, 4, kBox), shape_of(11, 3, 4, 3.1, 5, 3, 16)}; }

// ---- Shape and identity ---------------------------------------------------------------------------

TEST(EquivariantFlow, LayoutIsLayerAfterLayerCyclingTheAxes) {
  // One coupling at n = 31, D = 2, K = 8, F = 4, H = 32 has 4473 parameters (test_circular_coupling).
  const EquivariantFlow<float> f(shape_of(31, 2, 8, kBox), 1);
  EXPECT_EQ(f.parameter_count(), 8u * 4473u);
  for (int l = 0; l < 8; ++l) {
    EXPECT_EQ(f.layer_offset(l), static_cast<std::size_t>(l) * 4473u);
    EXPECT_EQ(f.layer_shape(l).axis, l % 2);
  }
  const EquivariantFlow<double> g(shape_of(5, 3, 5, 2.0, 4, 2, 8), 1);
  for (int l = 0; l < 5; ++l) EXPECT_EQ(g.layer_shape(l).axis, l % 3);
  EXPECT_EQ(g.layer_offset(4), 4 * circular_coupling_layout(g.layer_shape(0)).count);
  EXPECT_THROW(EquivariantFlow<float>(shape_of(31, 2, 0, kBox), 1), Error);  // no layers
  EXPECT_THROW(EquivariantFlow<float>(shape_of(31, 1, 2, kBox), 1), Error);  // D < 2
}

// The zero last layers and shifts make every coupling the identity bitwise on the torus (each
// writes back its wrapped input, and wrapping a point of [−L/2, L/2) leaves it unchanged), hence
// the stack; log-dets exactly 0.
TEST(EquivariantFlow, IdentityAtInitialisationBitwise) {
  for (EquivariantFlowShape s : float_shapes()) {
    s.layers = 8;
    const EquivariantFlow<float> f(s, 3);
    const int batch = 32;
    const EquivariantFlow<float>::Mat x = random_configurations<float>(batch, s.particles, s.dim, s.length, kSeed);
    for (const bool inverse : {false, true}) {
      EquivariantFlow<float>::Mat y;
      EquivariantFlow<float>::Vec ld;
      run(f, inverse, x, y, ld);
      EXPECT_TRUE(y == x) << "D " << s.dim << (inverse ? " inverse" : " forward");
      EXPECT_TRUE((ld.array() == 0.0f).all()) << "D " << s.dim << (inverse ? " inverse" : " forward");
    }
  }
}

// ---- The stack against its layers ------------------------------------------------------------------

// forward = the couplings l = 0…L − 1 applied in turn, inverse = their inverses l = L − 1…0, with
// the log-dets summed in double in that order: the same operations in the same order, so bitwise.
template <class T>
void check_layers() {
  for (const EquivariantFlowShape& s : float_shapes()) {
    EquivariantFlow<T> f(s, 4);
    randomise(f, 0.3, kSeed + 1);
    const int batch = 8, L = s.layers;
    const typename EquivariantFlow<T>::Mat x = random_configurations<T>(batch, s.particles, s.dim, s.length, kSeed + 2);
    for (const bool inverse : {false, true}) {
      typename EquivariantFlow<T>::Mat y;
      typename EquivariantFlow<T>::Vec ld;
      run(f, inverse, x, y, ld);
      typename EquivariantFlow<T>::Mat z = x;
      std::vector<T> ld_l(batch);
      std::vector<double> sum(batch, 0.0);
      CircularCouplingCache<T> cache;
      for (int k = 0; k < L; ++k) {
        const int l = inverse ? L - 1 - k : k;
        const T* p = f.parameters().data() + f.layer_offset(l);
        if (inverse)
          circular_coupling_inverse_cpu(f.layer_shape(l), p, z.data(), batch, z.data(), ld_l.data(), cache);
        else
          circular_coupling_forward_cpu(f.layer_shape(l), p, z.data(), batch, z.data(), ld_l.data(), cache);
        for (int b = 0; b < batch; ++b) sum[b] += ld_l[b];
      }
      EXPECT_TRUE(y == z) << "D " << s.dim << (inverse ? " inverse" : " forward");
      for (int b = 0; b < batch; ++b) EXPECT_EQ(ld[b], static_cast<T>(sum[b])) << "configuration " << b;
      EXPECT_GT((ld.array() - ld.mean()).abs().maxCoeff(), T(0.05)) << "the map should not be the identity";
    }
  }
}
TEST(EquivariantFlow, StackIsItsLayersInTurnFloat) { check_layers<float>(); }
TEST(EquivariantFlow, StackIsItsLayersInTurnDouble) { check_layers<double>(); }

// ---- Inverse ------------------------------------------------------------------------------------

// F⁻¹(F(x)) = x and F(F⁻¹(y)) = y on the torus, log-dets opposite. Each layer's spline round trip
// errs by ~ε·L·(1 + (1 + κ)/F') (test_circular_coupling), and the later layers carry it on: the
// tolerances of the file comment, 1000·ε·L and 1000·ε·n (measured constants: 116 and 68, float and
// double alike).
template <class T>
void check_round_trip() {
  const double eps = std::numeric_limits<T>::epsilon();
  for (const EquivariantFlowShape& s : float_shapes()) {
    EquivariantFlow<T> f(s, 6);
    randomise(f, 0.3, kSeed + 7);
    const int batch = 32;
    const typename EquivariantFlow<T>::Mat x = random_configurations<T>(batch, s.particles, s.dim, s.length, kSeed + 8);
    typename EquivariantFlow<T>::Cache cache;
    for (const bool inverse_first : {false, true}) {
      typename EquivariantFlow<T>::Mat y, back;
      typename EquivariantFlow<T>::Vec ld1, ld2;
      run(f, inverse_first, x, y, ld1, &cache);
      run(f, !inverse_first, y, back, ld2, &cache);
      double worst = 0, moved = 0, worst_ld = 0;
      for (Eigen::Index i = 0; i < x.size(); ++i) {
        worst = std::max(worst, std::abs(circle_diff(back.data()[i], x.data()[i], s.length)));
        moved = std::max(moved, std::abs(circle_diff(y.data()[i], x.data()[i], s.length)));
      }
      for (int b = 0; b < batch; ++b) worst_ld = std::max(worst_ld, std::abs(double(ld1[b]) + ld2[b]));
      EXPECT_GT(moved, 0.1 * s.length) << "the map should not be the identity";
      EXPECT_LE(worst, 1000 * eps * s.length) << "D " << s.dim;
      EXPECT_LE(worst_ld, 1000 * eps * s.particles) << "D " << s.dim;
      std::printf("[ round trip ] %s D=%d %s first: max |Δx| = %.0f·ε·L, max |ld_f + ld_i| = %.0f·ε·n\n",
                  sizeof(T) == 4 ? "float" : "double", s.dim, inverse_first ? "inverse" : "forward", worst / (eps * s.length),
                  worst_ld / (eps * s.particles));
    }
  }
}
TEST(EquivariantFlow, InverseUndoesForwardFloat) { check_round_trip<float>(); }
TEST(EquivariantFlow, InverseUndoesForwardDouble) { check_round_trip<double>(); }

// ---- Symmetries -----------------------------------------------------------------------------------

// F(Px) = P F(x) and logdet(Px) = logdet(x), forward and inverse, in float and double. Only the
// order of each coupling's sum over neighbours j changes (|δm| ≤ (n − 2)·ε·|m| per layer), carried
// through the later layers: the tolerances of the file comment, 1000·ε·L and 1000·ε·n (measured
// constants: 84 and 66, float and double alike).
template <class T>
void check_equivariance() {
  using Mat = typename EquivariantFlow<T>::Mat;
  const double eps = std::numeric_limits<T>::epsilon();
  for (const EquivariantFlowShape& s : float_shapes()) {
    EquivariantFlow<T> f(s, 4);
    randomise(f, 0.3, kSeed + 3);
    const int batch = 16, n = s.particles, D = s.dim;
    const Mat x = random_configurations<T>(batch, n, D, s.length, kSeed + 4);
    Mat xp(x.rows(), x.cols());
    std::vector<std::vector<int>> perm;
    for (int b = 0; b < batch; ++b) {
      perm.push_back(random_permutation(n, kSeed + 5, b));
      for (int i = 0; i < n; ++i)
        for (int d = 0; d < D; ++d) xp(b, i * D + d) = x(b, perm[b][i] * D + d);
    }
    for (const bool inverse : {false, true}) {
      Mat y, yp;
      typename EquivariantFlow<T>::Vec ld, ldp;
      run(f, inverse, x, y, ld);
      run(f, inverse, xp, yp, ldp);
      double worst_y = 0, worst_ld = 0;
      for (int b = 0; b < batch; ++b) {
        for (int i = 0; i < n; ++i)
          for (int d = 0; d < D; ++d)
            worst_y = std::max(worst_y, std::abs(circle_diff(yp(b, i * D + d), y(b, perm[b][i] * D + d), s.length)));
        worst_ld = std::max(worst_ld, std::abs(double(ldp[b]) - ld[b]));
      }
      EXPECT_LE(worst_y, 1000 * eps * s.length) << "D " << D << (inverse ? " inverse" : " forward");
      EXPECT_LE(worst_ld, 1000 * eps * n) << "D " << D << (inverse ? " inverse" : " forward");
      std::printf("[ equivariance ] %s D=%d %s: max |Δy| = %.0f·ε·L, max |Δlogdet| = %.0f·ε·n\n",
                  sizeof(T) == 4 ? "float" : "double", D, inverse ? "inverse" : "forward", worst_y / (eps * s.length),
                  worst_ld / (eps * n));
      EXPECT_GT(ld.maxCoeff() - ld.minCoeff(), T(0.1)) << "the map should not be the identity";
    }
  }
}
TEST(EquivariantFlow, PermutingTheParticlesPermutesTheOutputsFloat) { check_equivariance<float>(); }
TEST(EquivariantFlow, PermutingTheParticlesPermutesTheOutputsDouble) { check_equivariance<double>(); }

// Every input coordinate moved by k·L, k ∈ {−1, 0, 1} at random: the same output on the torus and the
// same log-det, both directions, both precisions. The first layer reads every coordinate wrapped
// back with the error of one rounding of x ± L (≤ ε·L), and so does every later one for the axes not
// yet transformed (they pass through unwrapped), carried through the later layers: the tolerances
// of the file comment, 1000·ε·L and 1000·ε·n (measured constants: 81 and 71). Every output lies on
// [−L/2, L/2) (layers ≥ D: every axis is transformed, hence wrapped, at least once).
template <class T>
void check_periodicity() {
  const double eps = std::numeric_limits<T>::epsilon();
  for (const EquivariantFlowShape& s : float_shapes()) {
    EquivariantFlow<T> f(s, 5);
    randomise(f, 0.3, kSeed + 10);
    const int batch = 16, n = s.particles, D = s.dim;
    const double L = s.length;
    const typename EquivariantFlow<T>::Mat x = random_configurations<T>(batch, n, D, L, kSeed + 11);
    typename EquivariantFlow<T>::Mat moved = x;
    for (Eigen::Index i = 0; i < x.size(); ++i)
      moved.data()[i] = static_cast<T>(x.data()[i] + L * std::round(uniform(kSeed + 12, 2, i)));
    for (const bool inverse : {false, true}) {
      typename EquivariantFlow<T>::Mat y, ym;
      typename EquivariantFlow<T>::Vec ld, ldm;
      run(f, inverse, x, y, ld);
      run(f, inverse, moved, ym, ldm);
      double worst_y = 0, worst_ld = 0, outside = 0;
      for (Eigen::Index i = 0; i < y.size(); ++i) {
        worst_y = std::max(worst_y, std::abs(circle_diff(ym.data()[i], y.data()[i], L)));
        outside = std::max(outside, std::abs(double(ym.data()[i])) - 0.5 * L);
      }
      for (int b = 0; b < batch; ++b) worst_ld = std::max(worst_ld, std::abs(double(ldm[b]) - ld[b]));
      EXPECT_LE(worst_y, 1000 * eps * L) << "D " << D << (inverse ? " inverse" : " forward");
      EXPECT_LE(worst_ld, 1000 * eps * n) << "D " << D << (inverse ? " inverse" : " forward");
      EXPECT_LE(outside, 0.0) << "every axis is transformed at least once (layers ≥ D): outputs on the torus";
      std::printf("[ periodicity ] %s D=%d %s: max |Δy| = %.0f·ε·L, max |Δlogdet| = %.0f·ε·n\n",
                  sizeof(T) == 4 ? "float" : "double", D, inverse ? "inverse" : "forward", worst_y / (eps * L),
                  worst_ld / (eps * n));
    }
  }
}
TEST(EquivariantFlow, PeriodicInEveryInputCoordinateFloat) { check_periodicity<float>(); }
TEST(EquivariantFlow, PeriodicInEveryInputCoordinateDouble) { check_periodicity<double>(); }

// ---- Derivatives (double) ------------------------------------------------------------------------

// Small stacks: n = 4 particles in 2D, 3 layers (x|y, y|x, x|y); n = 3 in 3D, 4 layers (x, y, z, x;
// no shift); n = 2, 2 layers with the messages in chunks (pair_rows = 4: two configurations a chunk,
// and a partial last one).
std::vector<EquivariantFlowShape> small_shapes() {
  std::vector<EquivariantFlowShape> v = {shape_of(4, 2, 3, 2.3, 5, 3, 6), shape_of(3, 3, 4, 1.7, 4, 2, 5),
                                         shape_of(2, 2, 2, 2.3, 3, 2, 4)};
  v[1].shift = false;
  v[2].pair_rows = 4;
  return v;
}

// log|det ∂F/∂x| against the determinant of the Jacobian by central differences, step h = 1e-6, per
// configuration, both directions. The truncation error of the log-det is c·h², with c measured from
// the steps 1e-4 and 1e-5 (errors 2.4e-4 and 2.4e-6 for the 2D stack, exactly ×100: c = 2.4e4; 1.0e3
// and 6.6e2 for the others), i.e. 2.4e-8 at h = 1e-6; round-off, ε·|F|/h per entry moved through
// tr(J⁻¹ δJ), is ≲ 3e-8 (the error at h = 1e-7, where truncation is negligible). Tolerance 1e-7.
TEST(EquivariantFlow, LogDetEqualsTheFiniteDifferenceJacobian) {
  for (const EquivariantFlowShape& s : small_shapes()) {
    EquivariantFlow<double> f(s, 7);
    randomise(f, 0.5, kSeed + 13);
    const int batch = 3, M = s.particles * s.dim;
    const EquivariantFlow<double>::Mat x = random_configurations<double>(batch, s.particles, s.dim, s.length, kSeed + 14);
    const double h = 1e-6;
    double worst = 0;
    for (const bool inverse : {false, true})
      for (int b = 0; b < batch; ++b) {
        const EquivariantFlow<double>::Mat xb = x.row(b);
        EquivariantFlow<double>::Mat y, yp, ym;
        EquivariantFlow<double>::Vec ld, l;
        run(f, inverse, xb, y, ld);
        Eigen::MatrixXd J(M, M);
        for (int c = 0; c < M; ++c) {
          EquivariantFlow<double>::Mat xp = xb, xm = xb;
          xp(0, c) += h;
          xm(0, c) -= h;
          run(f, inverse, xp, yp, l);
          run(f, inverse, xm, ym, l);
          for (int r = 0; r < M; ++r) J(r, c) = circle_diff(yp(0, r), ym(0, r), s.length) / (2 * h);
        }
        const double fd = std::log(std::abs(J.determinant()));
        worst = std::max(worst, std::abs(ld[0] - fd));
        EXPECT_NEAR(ld[0], fd, 1e-7) << "n " << s.particles << " D " << s.dim << " configuration " << b
                                     << (inverse ? " inverse" : " forward");
      }
    std::printf("[ log-det ] n=%d D=%d layers=%d: max |logdet − log|det J_FD|| = %.2e\n", s.particles, s.dim, s.layers,
                worst);
  }
}

// ℓ = Σ w·out + Σ_b c_b·logdet_b (w, c ~ U(−1, 1)): dℓ/dθ for every parameter and dℓ/d(input) for
// every coordinate against central differences, step 1e-6: |analytic − FD| ≤ 1e-6 + 1e-5·|FD|
// (truncation h²·ℓ'''/6 ≲ 3e-8 with the stack's third derivatives ≲ 2e5, the log-det's measured in
// the Jacobian test above; round-off ε·|ℓ|/h ≈ 1e-9 for |ℓ| ≲ 10; a spline knot or the box edge
// crossed within ±h would show as an O(1) miss: none at these seeds). The backward pass accumulates
// into grad, checked by running it twice.
void check_gradients(bool inverse) {
  for (const EquivariantFlowShape& s : small_shapes()) {
    EquivariantFlow<double> f(s, 8);
    randomise(f, 0.5, kSeed + 15);
    const int batch = 3;
    using Mat = EquivariantFlow<double>::Mat;
    using Vec = EquivariantFlow<double>::Vec;
    const Mat x = random_configurations<double>(batch, s.particles, s.dim, s.length, kSeed + 16);
    Mat w(x.rows(), x.cols());
    Vec c(batch);
    for (Eigen::Index i = 0; i < w.size(); ++i) w.data()[i] = uniform(kSeed + 17, 3, i);
    for (int b = 0; b < batch; ++b) c[b] = uniform(kSeed + 17, 4, b);
    auto loss = [&](const Mat& in) {
      Mat out;
      Vec ld;
      run(f, inverse, in, out, ld);
      return (w.array() * out.array()).sum() + c.dot(ld);
    };
    EquivariantFlow<double>::Cache cache;
    Mat out, g_in;
    Vec ld;
    ParamVector<double> grad, twice;
    run(f, inverse, x, out, ld, &cache);
    if (inverse)
      f.backward_inverse(cache, w, c, grad, g_in);
    else
      f.backward_forward(cache, w, c, grad, g_in);
    twice = grad;
    if (inverse)
      f.backward_inverse(cache, w, c, twice, g_in);
    else
      f.backward_forward(cache, w, c, twice, g_in);
    ASSERT_EQ(grad.size(), f.parameter_count());
    const double h = 1e-6;
    const char* dir = inverse ? " (inverse)" : " (forward)";
    double norm = 0;
    for (std::size_t i = 0; i < f.parameter_count(); ++i) {
      const double keep = f.parameters()[i];
      f.parameters()[i] = keep + h;
      const double lp = loss(x);
      f.parameters()[i] = keep - h;
      const double lm = loss(x);
      f.parameters()[i] = keep;
      const double fd = (lp - lm) / (2 * h);
      norm += fd * fd;
      EXPECT_NEAR(grad[i], fd, 1e-6 + 1e-5 * std::abs(fd))
          << "parameter " << i << " (layer " << i / (f.parameter_count() / s.layers) << ") n " << s.particles << " D "
          << s.dim << dir;
      EXPECT_NEAR(twice[i], 2 * grad[i], 1e-12 * (1 + std::abs(grad[i]))) << "grad accumulates";
    }
    EXPECT_GT(norm, 1e-2) << "the loss should depend on the parameters";
    for (Eigen::Index i = 0; i < x.size(); ++i) {
      Mat xp = x, xm = x;
      xp.data()[i] += h;
      xm.data()[i] -= h;
      const double fd = (loss(xp) - loss(xm)) / (2 * h);
      EXPECT_NEAR(g_in.data()[i], fd, 1e-6 + 1e-5 * std::abs(fd)) << "input " << i << " n " << s.particles << " D " << s.dim << dir;
    }
  }
}
TEST(EquivariantFlow, ForwardGradientsMatchFiniteDifferences) { check_gradients(false); }
TEST(EquivariantFlow, InverseGradientsMatchFiniteDifferences) { check_gradients(true); }

// ---- Threads ---------------------------------------------------------------------------------

// The batch runs in fixed chunks of kChunk configurations on the threads, the gradients summed in
// chunk order: 1 and 2 threads give bitwise the same outputs, log-dets and gradients (150 rows:
// three chunks, the last one short), in both directions.
TEST(EquivariantFlow, ResultsDoNotDependOnTheThreadCount) {
  const EquivariantFlowShape s = shape_of(31, 2, 3, kBox);
  EquivariantFlow<float> f(s, 12);
  randomise(f, 0.3, kSeed + 30);
  const int batch = 150;
  static_assert(EquivariantFlow<float>::kChunk < 150 && 2 * EquivariantFlow<float>::kChunk < 150);
  using Mat = EquivariantFlow<float>::Mat;
  const Mat x = random_configurations<float>(batch, s.particles, s.dim, s.length, kSeed + 31);
  const Mat gy = random_configurations<float>(batch, s.particles, s.dim, 2.0, kSeed + 32);
  const EquivariantFlow<float>::Vec gld = EquivariantFlow<float>::Vec::Constant(batch, 0.25f);
  struct Out {
    Mat y, gx;
    EquivariantFlow<float>::Vec ld;
    ParamVector<float> grad;
  };
  auto run = [&](int threads, bool inverse) {
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    Out o;
    EquivariantFlow<float>::Cache cache;
    o.grad.assign(f.parameter_count(), 0.0f);
    if (inverse) {
      f.inverse(x, o.y, o.ld, &cache);
      f.backward_inverse(cache, gy, gld, o.grad, o.gx);
    } else {
      f.forward(x, o.y, o.ld, &cache);
      f.backward_forward(cache, gy, gld, o.grad, o.gx);
    }
    omp_set_num_threads(saved);
    return o;
  };
  for (const bool inverse : {false, true}) {
    const Out a = run(1, inverse), b = run(2, inverse);
    EXPECT_EQ(a.y, b.y) << inverse;
    EXPECT_EQ(a.ld, b.ld) << inverse;
    EXPECT_EQ(a.gx, b.gx) << inverse;
    EXPECT_EQ(a.grad, b.grad) << inverse;
    EXPECT_NE(a.y, x);  // a non-trivial map
  }
}

// ---- Cost ----------------------------------------------------------------------------------------

// Forward + backward of an 8-layer stack at N = 32 (n = 31, 2D, K = 8, F = 4, H = 32), float,
// batch 256, 1 thread and the default: printed per configuration (no assertion; the cores are shared).
TEST(EquivariantFlow, CostOfEightLayers) {
  const EquivariantFlowShape s = shape_of(31, 2, 8, kBox);
  EquivariantFlow<float> f(s, 10);
  randomise(f, 0.3, kSeed + 18);
  const int batch = 256;
  using Mat = EquivariantFlow<float>::Mat;
  const Mat x = random_configurations<float>(batch, s.particles, s.dim, s.length, kSeed + 19);
  const Mat gy = random_configurations<float>(batch, s.particles, s.dim, 2.0, kSeed + 20);
  const EquivariantFlow<float>::Vec gld = EquivariantFlow<float>::Vec::Constant(batch, 0.5f);
  EquivariantFlow<float>::Cache cache;
  Mat y, gx;
  EquivariantFlow<float>::Vec ld;
  ParamVector<float> grad(f.parameter_count(), 0.0f);
  auto step = [&] {
    f.forward(x, y, ld, &cache);
    f.backward_forward(cache, gy, gld, grad, gx);
  };
  const int saved = omp_get_max_threads();
  for (const int threads : {1, saved}) {
    omp_set_num_threads(threads);
    step();
    const int rounds = 2;
    const auto t0 = std::chrono::steady_clock::now();
    for (int k = 0; k < rounds; ++k) step();
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto t1 = std::chrono::steady_clock::now();
    for (int k = 0; k < rounds; ++k) f.forward(x, y, ld, &cache);
    const double df = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    std::printf("[ cost ] 8-layer stack, n=31 D=2 K=8 F=4 H=32, batch %d, %d thread(s): forward+backward %.0f us/configuration "
                "(forward alone %.0f us)\n",
                batch, threads, 1e6 * dt / (rounds * batch), 1e6 * df / (rounds * batch));
  }
  omp_set_num_threads(saved);
  EXPECT_TRUE(std::isfinite(grad[0]));
}

}  // namespace
}  // namespace boltzmap
