// The circular rational-quadratic spline (src/flow/circular_spline.hpp) from its mathematics:
// zero parameters are the identity exactly; the knots close the circle; forward and log-det match a
// slow textbook oracle (Durkan et al. eqs. 4–5 as printed); inverse ∘ forward and forward ∘ inverse
// are the identity to round-off, at knots and the box edge too; periodic and C¹ across the box edge
// and every knot; strictly increasing; log dy/dx against central differences of y; and every gradient
// of both backward passes (input and all 3K parameters, through the output and through the log-det)
// against central differences, in double. Random parameters: logits ~ N(0, 2²), fixed seeds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/rng.hpp"
#include "support/torus.hpp"
#include "flow/circular_spline.hpp"

namespace boltzmap {
namespace {

constexpr std::uint64_t kSeed = 20261201;

double uniform01(std::uint64_t seed, std::uint32_t id, std::uint64_t k) {
  const Random4 r = philox(seed, RngStream::Test, id, k);
  return uniform_double(r.v[0], r.v[1]);
}
double normal(std::uint64_t seed, std::uint32_t id, std::uint64_t k) {  // Box–Muller
  const Random4 r = philox(seed, RngStream::Test, id, k);
  const double u1 = uniform_open_double(r.v[0]), u2 = uniform_double(r.v[1]);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

// The shapes tested: the default K = 8 on the N = 32, 2D box side (L ≈ 5.7 at ρ ≈ 1), a single bin
// (δ_0 = δ_1 shared: the map is nonlinear although s = 1), and an odd K on a non-round L.
struct Shape {
  int bins;
  double length;
};
const Shape kShapes[] = {{8, 5.6568542494923806}, {1, 2.0}, {5, 1.3}};

// One spline: spec, parameters theta[3K] and its knots, in scalar T.
template <class T>
struct Spline {
  CircularSplineSpec<T> spec;
  std::vector<T> theta, xk, yk, dk;
  Spline(Shape shape, const std::vector<double>& th)
      : spec(make_circular_spline_spec<T>(shape.bins, static_cast<T>(shape.length))),
        theta(th.begin(), th.end()), xk(shape.bins + 1), yk(shape.bins + 1), dk(shape.bins + 1) {
    circular_spline_knots(spec, theta.data(), xk.data(), yk.data(), dk.data());
  }
  T forward(T x, T* ld) const { return circular_spline_forward(spec, xk.data(), yk.data(), dk.data(), x, ld); }
  T inverse(T y, T* ld) const { return circular_spline_inverse(spec, xk.data(), yk.data(), dk.data(), y, ld); }
};

std::vector<double> random_theta(int K, std::uint64_t seed, double sigma = 2.0) {
  std::vector<double> th(3 * K);
  for (int i = 0; i < 3 * K; ++i) th[i] = sigma * normal(seed, 1, i);
  return th;
}

// Signed distance a − b on the circle of length L, in (−L/2, L/2].
using test::circle_diff;

// Sizes for the tolerances, in double, from the backward pass (itself checked against central
// differences below). A bound on |∂(log dy/dx)/∂x| between x − r and x + r: the largest at x − r,
// x⁻ (the left side of a knot, where ld is only C⁰), x and x + r; with knots = true, plus the
// sensitivity to moving each of the bin's knots by one unit, |∂ld/∂x0| + 2|∂ld/∂w| + 2|∂ld/∂h|, and
// the knot derivatives by ε relative, (|∂ld/∂δ0|δ0 + |∂ld/∂δ1|δ1)/L.
double log_slope_sensitivity(const Spline<double>& f, double x, double r, bool knots = false) {
  const double L = f.spec.length;
  double best = 0;
  for (double p : {x - r, std::nextafter(x, -1e300), x, x + r}) {
    p = circle_wrap(p, L);
    const int k = spline_find_bin(f.xk.data(), f.spec.bins, p);
    const SplineBin<double> b = spline_bin(f.xk.data(), f.yk.data(), f.dk.data(), k);
    const SplineBinGrad<double> g = spline_bin_backward(b, (p - b.x0) / b.w, 0.0, 1.0);
    double v = std::abs(g.x);
    if (knots) v += std::abs(g.x0) + 2 * std::abs(g.w) + 2 * std::abs(g.h) + (std::abs(g.d0) * b.d0 + std::abs(g.d1) * b.d1) / L;
    best = std::max(best, v);
  }
  return best;
}
double log_slope_dx(const Spline<double>& f, double x, double r) { return log_slope_sensitivity(f, x, r); }

// The conditioning κ = max(s, δ0, δ1)/min(s, δ0, δ1) of x's bin: the inverse's quadratic has
// coefficients of size h·max(s, δ0, δ1) and its root moves by 1/Q'(ξ) = 1/(D·w·F') per unit of
// them, with D ≥ min(s, δ0, δ1); so its error in x is about ε·L·κ/F'.
double bin_conditioning(const Spline<double>& f, double x) {
  const int k = spline_find_bin(f.xk.data(), f.spec.bins, circle_wrap(x, f.spec.length));
  const SplineBin<double> b = spline_bin(f.xk.data(), f.yk.data(), f.dk.data(), k);
  const double s = b.h / b.w;
  return std::max({s, b.d0, b.d1}) / std::min({s, b.d0, b.d1});
}

// Points tested on [−L/2, L/2): random ones, every knot, just either side of every knot, −L/2 and
// the largest value below L/2.
template <class T>
std::vector<T> test_points(const std::vector<T>& knots, T L, std::uint64_t seed, int n_random) {
  std::vector<T> pts;
  for (int i = 0; i < n_random; ++i) pts.push_back(static_cast<T>(-0.5 * L + L * uniform01(seed, 2, i)));
  for (std::size_t j = 0; j + 1 < knots.size(); ++j) {
    pts.push_back(knots[j]);
    pts.push_back(std::nextafter(knots[j], std::numeric_limits<T>::infinity()));
    if (j > 0) pts.push_back(std::nextafter(knots[j], -std::numeric_limits<T>::infinity()));
  }
  pts.push_back(std::nextafter(static_cast<T>(0.5 * L), T(0)));
  return pts;
}

// ---- The textbook oracle: Durkan et al. eqs. 4–5 as printed, softmax and softplus written out, in
// double with std::vector; its inverse by bisection on its forward.
struct Oracle {
  int K;
  double L;
  std::vector<double> xk, yk, dk;
  Oracle(Shape shape, const std::vector<double>& th, double m = 1e-3, double dmin = 1e-3)
      : K(shape.bins), L(shape.length), xk(K + 1), yk(K + 1), dk(K + 1) {
    auto cumulative = [&](const double* a, std::vector<double>& knots) {
      double z = 0;
      for (int j = 0; j < K; ++j) z += std::exp(a[j]);
      knots[0] = -L / 2;
      for (int j = 0; j < K; ++j) knots[j + 1] = knots[j] + L * (m + (1 - K * m) * std::exp(a[j]) / z);
      knots[K] = L / 2;  // as Durkan et al.'s code: the end knot set, not summed
    };
    cumulative(th.data(), xk);
    cumulative(th.data() + K, yk);
    const double c0 = std::log(std::exp(1 - dmin) - 1);
    for (int j = 0; j < K; ++j) dk[j] = dmin + std::log(1 + std::exp(th[2 * K + j] + c0));
    dk[K] = dk[0];
  }
  // y and dy/dx for x in [−L/2, L/2).
  double forward(double x, double* dydx) const {
    int k = static_cast<int>(std::upper_bound(xk.begin(), xk.end(), x) - xk.begin()) - 1;
    k = std::clamp(k, 0, K - 1);
    const double w = xk[k + 1] - xk[k], h = yk[k + 1] - yk[k], s = h / w, xi = (x - xk[k]) / w;
    const double den = s + (dk[k + 1] + dk[k] - 2 * s) * xi * (1 - xi);
    *dydx = s * s * (dk[k + 1] * xi * xi + 2 * s * xi * (1 - xi) + dk[k] * (1 - xi) * (1 - xi)) / (den * den);
    return yk[k] + h * (s * xi * xi + dk[k] * xi * (1 - xi)) / den;
  }
  double inverse(double y) const {
    double lo = -L / 2, hi = L / 2, d;
    for (int it = 0; it < 200; ++it) {
      const double mid = 0.5 * (lo + hi);
      (forward(mid, &d) < y ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi);
  }
};

// ---- Identity ---------------------------------------------------------------------------------

template <class T>
void check_zero_parameters_identity() {
  for (const Shape shape : kShapes) {
    const Spline<T> f(shape, std::vector<double>(3 * shape.bins, 0.0));
    const T L = f.spec.length;
    for (int j = 0; j <= shape.bins; ++j) {
      EXPECT_EQ(f.xk[j], f.yk[j]) << "knot " << j;
      EXPECT_EQ(f.dk[j], T(1)) << "derivative " << j;
    }
    std::vector<T> pts = test_points(f.xk, L, kSeed, 2000);
    for (int i = 0; i < 200; ++i) pts.push_back(static_cast<T>(1e-30 * normal(kSeed, 3, i)));  // tiny |x|
    for (const T x : pts) {
      T ld_f = T(-1), ld_i = T(-1);
      EXPECT_EQ(f.forward(x, &ld_f), x) << "K=" << shape.bins << " x=" << x;
      EXPECT_EQ(ld_f, T(0)) << "K=" << shape.bins << " x=" << x;
      EXPECT_EQ(f.inverse(x, &ld_i), x) << "K=" << shape.bins << " x=" << x;
      EXPECT_EQ(ld_i, T(0)) << "K=" << shape.bins << " x=" << x;
      EXPECT_EQ(circular_shift_forward(x, T(0), L), x);
      EXPECT_EQ(circular_shift_inverse(x, T(0), L), x);
    }
  }
}
TEST(CircularSpline, ZeroParametersAreTheIdentityExactlyFloat) { check_zero_parameters_identity<float>(); }
TEST(CircularSpline, ZeroParametersAreTheIdentityExactlyDouble) { check_zero_parameters_identity<double>(); }

// ---- Knots ------------------------------------------------------------------------------------

// The knots close the circle exactly, increase, keep the minimum bin (m·L up to the round-off of
// the cumulative sum, K·ε·L), and derivatives exceed d_min with δ_K = δ_0.
TEST(CircularSpline, KnotsCloseTheCircleWithMinimumBinsAndDerivatives) {
  for (const Shape shape : kShapes)
    for (std::uint64_t seed = 0; seed < 50; ++seed) {
      const Spline<double> f(shape, random_theta(shape.bins, kSeed + seed, 4.0));  // wider logits: floors hit
      const double L = shape.length, eps = std::numeric_limits<double>::epsilon();
      EXPECT_EQ(f.xk.front(), -L / 2);
      EXPECT_EQ(f.xk.back(), L / 2);
      EXPECT_EQ(f.yk.front(), -L / 2);
      EXPECT_EQ(f.yk.back(), L / 2);
      EXPECT_EQ(f.dk.back(), f.dk.front());
      for (int j = 0; j < shape.bins; ++j) {
        EXPECT_GE(f.xk[j + 1] - f.xk[j], 1e-3 * L - shape.bins * eps * L);
        EXPECT_GE(f.yk[j + 1] - f.yk[j], 1e-3 * L - shape.bins * eps * L);
        EXPECT_GT(f.dk[j], 1e-3);
      }
    }
}

// The knot-derivative map δ(c) = d_min + softplus(c + c₀): δ(0) = 1 exactly for any d_min (float
// and double; the identity rests on it); against the softplus written out, in double, to 1e-14
// relative over c in [−40, 60] (all branches, c = −1 and 20 where they meet included); δ → d_min
// for c → −∞; finite for large c in float; and dδ/dc
// against a central difference (step 1e-6, truncation ~1e-12, round-off ε/1e-6 ≈ 2e-10: 1e-8).
template <class T>
void check_knot_derivative_map() {
  for (const double dmin : {1e-5, 1e-3, 1e-2, 0.1, 0.37}) {
    const auto sp = make_circular_spline_spec<T>(4, T(1), T(1e-3), static_cast<T>(dmin));
    EXPECT_EQ(spline_knot_derivative(sp, T(0)), T(1)) << "d_min " << dmin;
    EXPECT_NEAR(spline_knot_derivative(sp, T(-60)), static_cast<T>(dmin), 4 * std::numeric_limits<T>::epsilon() * dmin);
    EXPECT_GT(spline_knot_derivative(sp, T(-60)), T(0));
    EXPECT_TRUE(std::isfinite(spline_knot_derivative(sp, T(200))));
    EXPECT_TRUE(std::isfinite(spline_knot_derivative_grad(sp, T(-200))));
  }
}
TEST(CircularSpline, KnotDerivativeMapFloat) { check_knot_derivative_map<float>(); }
TEST(CircularSpline, KnotDerivativeMapDouble) {
  check_knot_derivative_map<double>();
  for (const double dmin : {1e-3, 0.1}) {
    const auto sp = make_circular_spline_spec<double>(4, 1.0, 1e-3, dmin);
    const double c0 = std::log(std::exp(1 - dmin) - 1);
    for (double c = -40; c <= 60; c += 0.125) {
      const double z = c + c0, oracle = dmin + (z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z)));
      EXPECT_NEAR(spline_knot_derivative(sp, c), oracle, 1e-14 * oracle) << "c " << c;
      const double fd = (spline_knot_derivative(sp, c + 1e-6) - spline_knot_derivative(sp, c - 1e-6)) / 2e-6;
      EXPECT_NEAR(spline_knot_derivative_grad(sp, c), fd, 1e-8) << "c " << c;
    }
  }
}

// ---- Against the oracle -----------------------------------------------------------------------

// Forward and dy/dx against the textbook formulas in double. Both are O(10) operations on values
// up to L: |Δy| ≤ 1e-14·L and relative 1e-13 in dy/dx, plus the effect of the oracle's knots, which
// differ from ours by a few ulps (its softmax is not max-shifted): δx = 8ε·L moves y by F'·δx and
// log dy/dx by (|∂ld/∂x| + its sensitivity to the knots)·δx (log_slope_sensitivity).
TEST(CircularSpline, ForwardMatchesTheTextbookOracle) {
  const double eps = std::numeric_limits<double>::epsilon();
  for (const Shape shape : kShapes)
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
      const std::vector<double> th = random_theta(shape.bins, kSeed + 100 + seed);
      const Spline<double> f(shape, th);
      const Oracle o(shape, th);
      const double L = shape.length, dx = 8 * eps * L;
      for (const double x : test_points(f.xk, L, seed, 200)) {
        double ld, d;
        const double y = f.forward(x, &ld), yo = o.forward(x, &d);
        EXPECT_LE(std::abs(circle_diff(y, yo, L)), 1e-14 * L + d * dx) << "seed " << seed << " x " << x;
        EXPECT_NEAR(ld, std::log(d), 1e-13 + log_slope_sensitivity(f, x, dx, true) * dx) << "seed " << seed << " x " << x;
      }
    }
}

// The closed-form inverse against bisection on the oracle's forward: |Δx| ≤ 16ε·L·(1 + κ/F') (the
// round-off of the closed form, see bin_conditioning; the bisection is exact to an ulp), and the
// log-dets to 1e-13 + (|∂ld/∂x| + knot sensitivity)·(|Δx| + 8ε·L), as in the forward.
TEST(CircularSpline, InverseMatchesBisectionOnTheOracle) {
  const double eps = std::numeric_limits<double>::epsilon();
  for (const Shape shape : kShapes)
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
      const std::vector<double> th = random_theta(shape.bins, kSeed + 200 + seed);
      const Spline<double> f(shape, th);
      const Oracle o(shape, th);
      const double L = shape.length;
      for (const double y : test_points(f.yk, L, seed, 200)) {
        double ld, d;
        const double x = f.inverse(y, &ld);
        const double xo = o.inverse(y);
        o.forward(xo, &d);
        const double tol_x = 16 * eps * L * (1 + bin_conditioning(f, xo) / d);
        EXPECT_LE(std::abs(circle_diff(x, xo, L)), tol_x) << "seed " << seed << " y " << y;
        EXPECT_NEAR(-std::log(d), ld, 1e-13 + log_slope_sensitivity(f, xo, tol_x + 8 * eps * L, true) * (tol_x + 8 * eps * L))
            << "seed " << seed << " y " << y;
      }
    }
}

// ---- Round trips ------------------------------------------------------------------------------

// inverse(forward(x)) = x and forward(inverse(y)) = y on the circle, and log dx/dy at F(x) =
// −log dy/dx at x. Each map has an absolute error of a few ε·L (O(10) operations on values ≤ L); an
// error δy in y becomes δy/F' in x, and the closed-form inverse adds ε·L·κ/F' (bin_conditioning).
// Tolerance: δx = 64ε·L·(1 + (1 + κ)/F') in the coordinate, and for the log-dets 64ε + |∂ld/∂x|·δx,
// with |∂ld/∂x| bounded over δx + 16ε·L around x (in float the knots, hence the bins, sit up to a
// few ε·L away from the double ones the bound is computed on).
template <class T>
void check_round_trips() {
  const double eps = std::numeric_limits<T>::epsilon();
  for (const Shape shape : kShapes)
    for (std::uint64_t seed = 0; seed < 40; ++seed) {
      const std::vector<double> th = random_theta(shape.bins, kSeed + 300 + seed);
      const Spline<T> f(shape, th);
      const Spline<double> f64(shape, th);
      const double L = shape.length;
      for (const T x : test_points(f.xk, f.spec.length, seed, 500)) {
        T ld_f, ld_i;
        const T y = f.forward(x, &ld_f);
        const T x2 = f.inverse(y, &ld_i);
        const double dx = 64 * eps * L * (1 + (1 + bin_conditioning(f64, x)) * std::exp(-static_cast<double>(ld_f)));
        EXPECT_GE(y, T(-0.5) * f.spec.length);
        EXPECT_LT(y, T(0.5) * f.spec.length);
        EXPECT_LE(std::abs(circle_diff(x2, x, L)), dx) << "K=" << shape.bins << " seed " << seed << " x " << x;
        EXPECT_NEAR(ld_i, -ld_f, 64 * eps + log_slope_dx(f64, x, dx + 16 * eps * L) * dx)
            << "K=" << shape.bins << " seed " << seed << " x " << x;
      }
      for (const T y : test_points(f.yk, f.spec.length, seed + 1000, 500)) {
        T ld_i, ld_f;
        const T x = f.inverse(y, &ld_i);
        const T y2 = f.forward(x, &ld_f);
        const double dx = 64 * eps * L * (1 + (1 + bin_conditioning(f64, x)) * std::exp(static_cast<double>(ld_i)));
        EXPECT_GE(x, T(-0.5) * f.spec.length);
        EXPECT_LT(x, T(0.5) * f.spec.length);
        EXPECT_LE(std::abs(circle_diff(y2, y, L)), dx * std::exp(-static_cast<double>(ld_i)))
            << "K=" << shape.bins << " seed " << seed << " y " << y;
        EXPECT_NEAR(ld_f, -ld_i, 64 * eps + log_slope_dx(f64, x, dx + 16 * eps * L) * dx)
            << "K=" << shape.bins << " seed " << seed << " y " << y;
      }
    }
}
TEST(CircularSpline, InverseOfForwardIsTheIdentityFloat) { check_round_trips<float>(); }
TEST(CircularSpline, InverseOfForwardIsTheIdentityDouble) { check_round_trips<double>(); }

// At the knots: forward(x_k) = y_k and inverse(y_k) = x_k to an ulp-scale round-off (2 ε·L),
// and the derivative there is δ_k.
template <class T>
void check_knots_map_to_knots() {
  const double eps = std::numeric_limits<T>::epsilon();
  for (const Shape shape : kShapes)
    for (std::uint64_t seed = 0; seed < 40; ++seed) {
      const Spline<T> f(shape, random_theta(shape.bins, kSeed + 400 + seed));
      const double L = shape.length;
      for (int j = 0; j < shape.bins; ++j) {
        T ld;
        EXPECT_LE(std::abs(circle_diff(f.forward(f.xk[j], &ld), f.yk[j], L)), 2 * eps * L) << j;
        EXPECT_NEAR(std::exp(static_cast<double>(ld)), f.dk[j], 16 * eps * f.dk[j]) << j;
        EXPECT_LE(std::abs(circle_diff(f.inverse(f.yk[j], &ld), f.xk[j], L)), 2 * eps * L) << j;
        EXPECT_NEAR(std::exp(-static_cast<double>(ld)), f.dk[j], 16 * eps * f.dk[j]) << j;
      }
    }
}
TEST(CircularSpline, KnotsMapToKnotsFloat) { check_knots_map_to_knots<float>(); }
TEST(CircularSpline, KnotsMapToKnotsDouble) { check_knots_map_to_knots<double>(); }

// ---- Periodicity, continuity, monotonicity ------------------------------------------------------

// x + nL maps to the point x maps to (n = ±1, ±3). Wrapping x + nL back changes the input by up to
// 4ε·L (|n| + 1 ulps of L); the two evaluations then differ by F'·4ε·L plus each map's own error
// (forward: a few ε·L; inverse: 64ε·L·(1 + (1 + κ)/F'), as in the round trips); log-dets by
// 64ε + |∂ld/∂x|·δx.
TEST(CircularSpline, PeriodicInTheInput) {
  const double eps = std::numeric_limits<double>::epsilon();
  for (const Shape shape : kShapes)
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
      const Spline<double> f(shape, random_theta(shape.bins, kSeed + 500 + seed));
      const double L = shape.length;
      for (const double v : test_points(f.xk, L, seed, 200))
        for (const int n : {-3, -1, 1, 3}) {
          double ld0, ld1, li0, li1;
          const double y0 = f.forward(v, &ld0), y1 = f.forward(v + n * L, &ld1);
          const double dy = 16 * eps * L * (1 + std::exp(ld0));
          EXPECT_LE(std::abs(circle_diff(y1, y0, L)), dy) << "x " << v << " n " << n;
          EXPECT_NEAR(ld1, ld0, 64 * eps + log_slope_dx(f, v, 4 * eps * L) * 4 * eps * L) << "x " << v << " n " << n;
          const double x0 = f.inverse(v, &li0), x1 = f.inverse(v + n * L, &li1);
          const double dx = 64 * eps * L * (1 + (1 + bin_conditioning(f, x0)) * std::exp(li0));
          EXPECT_LE(std::abs(circle_diff(x1, x0, L)), dx) << "y " << v << " n " << n;
          EXPECT_NEAR(li1, li0, 64 * eps + log_slope_dx(f, x0, dx) * dx) << "y " << v << " n " << n;
        }
    }
}

// C¹ on the circle: at every knot x_j, including the box edge (x_K = L/2 ≡ −L/2, whose left side
// is the last bin and right side the first), the value and the slope from the left and from the
// right agree: at the floating-point neighbours x_j⁻ and x_j⁺ of the knot, y is y_j to
// δ_j·ulp + 4ε·L and dy/dx is δ_j (the shared derivative; δ_K = δ_0 on the circle) to 1e-9
// relative (ξ is 1 or 0 to about ε·L/w ≤ 1e-12, times the slope's sensitivity to ξ).
TEST(CircularSpline, ContinuouslyDifferentiableAcrossKnotsAndTheBoxEdge) {
  const double eps = std::numeric_limits<double>::epsilon();
  for (const Shape shape : kShapes)
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
      const Spline<double> f(shape, random_theta(shape.bins, kSeed + 600 + seed));
      const double L = shape.length;
      for (int j = 0; j <= shape.bins; ++j) {
        const double xj = f.xk[j], yj = f.yk[j], dj = f.dk[j];
        const double left = std::nextafter(xj, -1e300), right = j == shape.bins ? -L / 2 : std::nextafter(xj, 1e300);
        double ld_l, ld_r;
        const double y_l = f.forward(left, &ld_l), y_r = f.forward(right, &ld_r);
        EXPECT_LE(std::abs(circle_diff(y_l, yj, L)), dj * (xj - left) + 4 * eps * L) << "K=" << shape.bins << " knot " << j;
        EXPECT_LE(std::abs(circle_diff(y_r, yj, L)), dj * std::abs(circle_diff(right, xj, L)) + 4 * eps * L)
            << "K=" << shape.bins << " knot " << j;
        EXPECT_NEAR(std::exp(ld_l), dj, 1e-9 * dj) << "K=" << shape.bins << " knot " << j;
        EXPECT_NEAR(std::exp(ld_r), dj, 1e-9 * dj) << "K=" << shape.bins << " knot " << j;
      }
      // The edge itself: −L/2 is a fixed point, exactly (y_0 = −L/2; a shift moves it).
      double ld;
      EXPECT_EQ(f.forward(-L / 2, &ld), -L / 2);
      EXPECT_EQ(f.inverse(-L / 2, &ld), -L / 2);
    }
}

// Strictly increasing on [−L/2, L/2) (hence on the circle: it fixes −L/2 and wraps once) with
// positive finite slope, on a grid of 2·10⁴ points plus the knots. In double y strictly increases
// (the smallest step, grid spacing × min slope, is far above round-off at these parameters). In
// float, random logits ~ N(0, 2²) make slopes as small as 1e-5 over whole bins, steps below an ulp
// of y: there y is non-decreasing everywhere and strictly increasing wherever the exact step (the
// double map's) exceeds 4 ulps of L/2.
template <class T>
void check_monotonic() {
  const int n = 20000;
  for (const Shape shape : kShapes)
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
      const std::vector<double> th = random_theta(shape.bins, kSeed + 700 + seed);
      const Spline<T> f(shape, th);
      const Spline<double> f64(shape, th);
      const double L = shape.length, resolvable = 4 * std::numeric_limits<T>::epsilon() * L / 2;
      std::vector<T> xs;
      for (int i = 0; i < n; ++i) xs.push_back(static_cast<T>(-L / 2 + L * i / n));
      xs.insert(xs.end(), f.xk.begin(), f.xk.end() - 1);
      std::sort(xs.begin(), xs.end());
      xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
      T prev = -std::numeric_limits<T>::infinity();
      double prev64 = -std::numeric_limits<double>::infinity();
      for (const T x : xs) {
        T ld;
        double ld64;
        const T y = f.forward(x, &ld);
        const double y64 = f64.forward(x, &ld64);
        EXPECT_TRUE(std::isfinite(ld)) << x;
        EXPECT_GT(std::exp(static_cast<double>(ld)), 0.0) << x;
        if (sizeof(T) == sizeof(double) || y64 - prev64 > resolvable)
          EXPECT_GT(y, prev) << "K=" << shape.bins << " seed " << seed << " x " << x;
        else
          EXPECT_GE(y, prev) << "K=" << shape.bins << " seed " << seed << " x " << x;
        prev = y;
        prev64 = y64;
      }
    }
}
TEST(CircularSpline, StrictlyIncreasingDouble) { check_monotonic<double>(); }
TEST(CircularSpline, StrictlyIncreasingFloat) { check_monotonic<float>(); }

// ---- Log-det against finite differences ---------------------------------------------------------

// log dy/dx against log of the central difference (y(x + η) − y(x − η))/(2η) in double, with the
// step scaled to the length over which x's bin varies, η = 1e-5·w/κ (bins range from 1e-3·L to L;
// the rational function of a bin with conditioning κ, see bin_conditioning, bends over about w/κ),
// at random points and at 3η either side of every knot (the stencil stays inside one bin, where y
// is smooth). Truncation: (ηκ/w)²·O(1) ≈ 1e-10; round-off: y is good to a few ε·L·κ (M's
// denominator D loses up to κ), so the quotient to 2ε·L·κ/(η·F') relative. Tolerance on the log:
// 1e-7 + 4ε·L·κ/(η·F'). (The inverse's log-det is −ld at the image point: checked in the round trips.)
TEST(CircularSpline, LogDetMatchesFiniteDifferences) {
  const double eps = std::numeric_limits<double>::epsilon();
  for (const Shape shape : kShapes)
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
      const Spline<double> f(shape, random_theta(shape.bins, kSeed + 800 + seed));
      const double L = shape.length;
      const int K = shape.bins;
      auto step = [&](double x) {
        const int k = spline_find_bin(f.xk.data(), K, circle_wrap(x, L));
        return 1e-5 * (f.xk[k + 1] - f.xk[k]) / bin_conditioning(f, x);
      };
      std::vector<double> xs;
      for (int i = 0; i < 200; ++i) xs.push_back(-L / 2 + L * uniform01(seed, 4, i));
      for (int j = 0; j < K; ++j) {
        xs.push_back(f.xk[j] + 3 * step(f.xk[j]));
        const double left = circle_wrap(std::nextafter(f.xk[j], -1e300), L);
        xs.push_back(circle_wrap(f.xk[j] - 3 * step(left), L));
      }
      for (const double x : xs) {
        const double eta = step(x);
        bool straddles = false;  // random points whose stencil crosses a knot (y'' jumps there)
        for (const double k : f.xk) straddles |= std::abs(circle_diff(x, k, L)) < 2 * eta;
        if (straddles) continue;
        double ld, ldp, ldm;
        f.forward(x, &ld);
        const double fd = circle_diff(f.forward(x + eta, &ldp), f.forward(x - eta, &ldm), L) / (2 * eta);
        EXPECT_NEAR(ld, std::log(fd), 1e-7 + 4 * eps * L * bin_conditioning(f, x) / (eta * std::exp(ld)))
            << "K=" << K << " seed " << seed << " x " << x;
      }
    }
}

// ---- Gradients against central differences ------------------------------------------------------

// ℓ = g_y·y + g_ld·ld for one element (forward: (x, θ) → (y, log dy/dx); inverse: (y, θ) → (x, log
// dx/dy)). Its gradient from the backward pass against central differences with step η = 1e-6 (θ)
// and 1e-6·L (the input), differences of the output taken on the circle. Truncation η²·|ℓ'''| and
// round-off ε·|ℓ|/η ≈ 1e-10: |a − b| ≤ 1e-6 + 1e-5·|b|. Points within 1e-4·L of a knot are moved
// off it: a parameter step moves knots by ≈ η·L, and ld is only C⁰ as a knot crosses the point
// (values at knots are checked in ContinuouslyDifferentiableAcrossKnotsAndTheBoxEdge).
struct GradCase {
  bool inverse;
  double g_out, g_ld;
  const char* name;
};

double spline_loss(Shape shape, const std::vector<double>& th, double in, const GradCase& c, double ref_out) {
  const Spline<double> f(shape, th);
  double ld;
  const double out = c.inverse ? f.inverse(in, &ld) : f.forward(in, &ld);
  return c.g_out * (ref_out + circle_diff(out, ref_out, shape.length)) + c.g_ld * ld;
}

TEST(CircularSpline, BackwardMatchesCentralDifferences) {
  const GradCase cases[] = {{false, 1.0, 0.0, "forward, through y"},
                            {false, 0.0, 1.0, "forward, through log-det"},
                            {false, 0.7, -1.3, "forward, both"},
                            {true, 1.0, 0.0, "inverse, through x"},
                            {true, 0.0, 1.0, "inverse, through log-det"},
                            {true, -0.4, 0.9, "inverse, both"}};
  const double eta = 1e-6;
  for (const Shape shape : kShapes)
    for (std::uint64_t seed = 0; seed < 8; ++seed) {
      const int K = shape.bins;
      const double L = shape.length;
      const std::vector<double> th = random_theta(K, kSeed + 900 + seed);
      const Spline<double> f(shape, th);
      for (int i = 0; i < 12; ++i) {
        double in0 = -L / 2 + L * uniform01(seed, 5, i);
        if (i == 11) in0 += 3 * L;  // an input off the box: through the wrap
        for (const GradCase& c : cases) {
          double in = in0;
          const std::vector<double>& knots = c.inverse ? f.yk : f.xk;
          for (const double k : knots)
            if (std::abs(circle_diff(in, k, L)) < 1e-4 * L) in += 3e-4 * L;
          std::vector<double> g_theta(3 * K, 0.0);
          const double g_in =
              c.inverse ? circular_spline_inverse_backward(f.spec, f.theta.data(), f.xk.data(), f.yk.data(), f.dk.data(),
                                                           in, c.g_out, c.g_ld, g_theta.data())
                        : circular_spline_forward_backward(f.spec, f.theta.data(), f.xk.data(), f.yk.data(), f.dk.data(),
                                                           in, c.g_out, c.g_ld, g_theta.data());
          double ld;
          const double ref = c.inverse ? f.inverse(in, &ld) : f.forward(in, &ld);
          const double fd_in =
              (spline_loss(shape, th, in + eta * L, c, ref) - spline_loss(shape, th, in - eta * L, c, ref)) / (2 * eta * L);
          EXPECT_NEAR(g_in, fd_in, 1e-6 + 1e-5 * std::abs(fd_in)) << c.name << " K=" << K << " seed " << seed << " in " << in;
          for (int p = 0; p < 3 * K; ++p) {
            std::vector<double> tp = th, tm = th;
            tp[p] += eta;
            tm[p] -= eta;
            const double fd = (spline_loss(shape, tp, in, c, ref) - spline_loss(shape, tm, in, c, ref)) / (2 * eta);
            EXPECT_NEAR(g_theta[p], fd, 1e-6 + 1e-5 * std::abs(fd))
                << c.name << " K=" << K << " seed " << seed << " in " << in << " parameter " << p;
          }
        }
      }
    }
}

// The float instantiation computes what double does, at the same (float-representable) inputs.
// Float resolves x and the knots only to a few ε_f·L, so its gradients are checked against the
// spread of the double gradients over x ± δ, δ = 16ε_f·L: |g_f − g_d| ≤ 1e-4·G + max±|g_d(x ± δ) −
// g_d(x)|, with G the largest gradient of the case (the 1e-4: float arithmetic, ε_f ≈ 6e-8, through
// O(100) operations of a conditioned rational function).
TEST(CircularSpline, FloatBackwardAgreesWithDouble) {
  const double eps_f = std::numeric_limits<float>::epsilon();
  for (const Shape shape : kShapes)
    for (std::uint64_t seed = 0; seed < 8; ++seed) {
      const int K = shape.bins;
      const double L = shape.length, delta = 16 * eps_f * L;
      std::vector<double> th = random_theta(K, kSeed + 1000 + seed);
      for (double& v : th) v = static_cast<float>(v);  // the same inputs in both precisions
      const Spline<double> fd(shape, th);
      const Spline<float> ff(shape, th);
      // [0] = dℓ/d(input), [1 + p] = dℓ/dθ_p, ℓ = 0.8·output + 0.5·log-det.
      auto grads = [&](const auto& f, auto in, bool inverse) {
        using T = decltype(in);
        std::vector<T> g(1 + 3 * K, T(0));
        g[0] = inverse ? circular_spline_inverse_backward(f.spec, f.theta.data(), f.xk.data(), f.yk.data(), f.dk.data(), in,
                                                          T(0.8), T(0.5), g.data() + 1)
                       : circular_spline_forward_backward(f.spec, f.theta.data(), f.xk.data(), f.yk.data(), f.dk.data(), in,
                                                          T(0.8), T(0.5), g.data() + 1);
        return g;
      };
      for (int i = 0; i < 20; ++i) {
        const float in = static_cast<float>(-L / 2 + L * uniform01(seed, 6, i));
        for (const bool inverse : {false, true}) {
          const std::vector<float> gf = grads(ff, in, inverse);
          const std::vector<double> gd = grads(fd, double(in), inverse);
          const std::vector<double> gp = grads(fd, double(in) + delta, inverse), gm = grads(fd, double(in) - delta, inverse);
          double scale = 0;
          for (const double g : gd) scale = std::max(scale, std::abs(g));
          for (int p = 0; p <= 3 * K; ++p) {
            const double spread = std::max(std::abs(gp[p] - gd[p]), std::abs(gm[p] - gd[p]));
            EXPECT_NEAR(gf[p], gd[p], 1e-4 * scale + spread)
                << (inverse ? "inverse" : "forward") << " K=" << K << " seed " << seed << " in " << in << " component " << p;
          }
        }
      }
    }
}

// ---- Circular shift ---------------------------------------------------------------------------

// The shift is a rotation of the circle: forward then inverse is the identity (to 2ε·L), it wraps
// into [−L/2, L/2), and its gradients are the stated ones.
TEST(CircularSpline, CircularShift) {
  const double L = 5.0, eps = std::numeric_limits<double>::epsilon();
  for (int i = 0; i < 1000; ++i) {
    const double y = -L / 2 + L * uniform01(kSeed, 7, i), shift = 3 * L * (uniform01(kSeed, 8, i) - 0.5);
    const double z = circular_shift_forward(y, shift, L);
    EXPECT_GE(z, -L / 2);
    EXPECT_LT(z, L / 2);
    EXPECT_LE(std::abs(circle_diff(z, y + shift, L)), 4 * eps * L);
    EXPECT_LE(std::abs(circle_diff(circular_shift_inverse(z, shift, L), y, L)), 8 * eps * L);
  }
  double g_shift = 0.5;
  EXPECT_EQ(circular_shift_forward_backward(2.0, &g_shift), 2.0);
  EXPECT_EQ(g_shift, 2.5);
  EXPECT_EQ(circular_shift_inverse_backward(2.0, &g_shift), 2.0);
  EXPECT_EQ(g_shift, 0.5);
}

}  // namespace
}  // namespace boltzmap
