// Real-NVP (src/flow/realnvp.hpp) from its definition: identity at initialisation, inverse ∘
// forward = id in float32 on the paper's shape, log|det| against the log-determinant of the full
// Jacobian by central differences, and every parameter gradient and the input gradient of both
// directions (with and without the scale bound) against central differences, in double.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/rng.hpp"
#include "flow/realnvp.hpp"

namespace boltzmap {
namespace {

template <class T>
using Mat = typename RealNvp<T>::Mat;
template <class T>
using Vec = typename RealNvp<T>::Vec;

double uniform(std::uint64_t seed, std::uint32_t id, std::uint64_t k) {
  const Random4 r = philox(seed, RngStream::Test, id, k);
  return 2.0 * uniform_double(r.v[0], r.v[1]) - 1.0;
}

template <class T>
Mat<T> random_matrix(int rows, int cols, double scale, std::uint64_t seed) {
  Mat<T> m(rows, cols);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) m(i, j) = static_cast<T>(scale * uniform(seed, i, j));
  return m;
}

// All parameters (last layers included) set to random values of size `scale`, so that every
// parameter influences the output.
template <class T>
void randomise(RealNvp<T>& f, double scale, std::uint64_t seed) {
  auto& p = f.parameters();
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<T>(scale * uniform(seed, 7, i));
}

TEST(RealNvp, ParameterCountAndIdentityAtInitialisation) {
  RealNvp<float> paper(FlowShape{}, 1);
  // 8 blocks × 2 networks × (31·128 + 128 + 2·(128·128 + 128) + 128·31 + 31) = 657 904 (METHOD.md).
  EXPECT_EQ(paper.parameter_count(), 657904u);
  const Mat<float> x = random_matrix<float>(16, 62, 2.0, 3);
  Mat<float> y;
  Vec<float> ld;
  paper.forward(x, y, ld, nullptr);
  EXPECT_EQ(y, x);  // zero last layers: S = T = 0 in every block
  EXPECT_EQ(ld.cwiseAbs().maxCoeff(), 0.0f);
  // The hidden layers are initialised (Glorot), not zero.
  double norm = 0;
  for (float v : paper.parameters()) norm += v * v;
  EXPECT_GT(norm, 1.0);
}

TEST(RealNvp, InverseUndoesForwardInFloat) {
  for (double bound : {0.0, 1.5}) {
    FlowShape shape;
    shape.scale_bound = bound;
    RealNvp<float> f(shape, 2);
    randomise(f, 0.05, 11);  // |S| of order 0.5 per block: a clearly non-trivial map
    const Mat<float> x = random_matrix<float>(64, 62, 2.0, 4);
    Mat<float> y, back;
    Vec<float> ld_f, ld_i;
    f.forward(x, y, ld_f, nullptr);
    f.inverse(y, back, ld_i, nullptr);
    EXPECT_GT((y - x).cwiseAbs().maxCoeff(), 0.1f) << "the map should not be the identity";
    // float32 through 8 blocks each way: a few ulp of |x| ≈ 2 per block.
    EXPECT_LT((back - x).cwiseAbs().maxCoeff(), 1e-5f) << "bound " << bound;
    // log|det F⁻¹|(F(x)) = −log|det F|(x).
    EXPECT_LT((ld_f + ld_i).cwiseAbs().maxCoeff(), 1e-4f) << "bound " << bound;
  }
}

// Small network for the finite-difference checks (double).
FlowShape small_shape(double bound) {
  FlowShape s;
  s.dim = 7;  // odd: kept and transformed halves differ in size (4 and 3, then 3 and 4)
  s.blocks = 3;
  s.hidden = {5, 4};
  s.scale_bound = bound;
  return s;
}

TEST(RealNvp, LogDetEqualsTheFiniteDifferenceJacobian) {
  RealNvp<double> f(small_shape(0.0), 5);
  randomise(f, 0.4, 12);
  const int D = 7;
  const Mat<double> x = random_matrix<double>(5, D, 1.5, 6);
  Mat<double> y;
  Vec<double> ld;
  f.forward(x, y, ld, nullptr);
  const double h = 1e-6;  // central differences: error O(h²) ≈ 1e-12 relative, round-off ≈ 1e-10/h
  for (int r = 0; r < x.rows(); ++r) {
    Eigen::MatrixXd J(D, D), Jinv(D, D);
    for (int j = 0; j < D; ++j) {
      Mat<double> xp = x.row(r), xm = x.row(r);
      xp(0, j) += h;
      xm(0, j) -= h;
      Mat<double> yp, ym;
      Vec<double> l;
      f.forward(xp, yp, l, nullptr);
      f.forward(xm, ym, l, nullptr);
      J.col(j) = ((yp - ym) / (2 * h)).transpose();
      Mat<double> up = y.row(r), um = y.row(r);
      up(0, j) += h;
      um(0, j) -= h;
      Mat<double> xp2, xm2;
      f.inverse(up, xp2, l, nullptr);
      f.inverse(um, xm2, l, nullptr);
      Jinv.col(j) = ((xp2 - xm2) / (2 * h)).transpose();
    }
    EXPECT_NEAR(ld(r), std::log(std::abs(J.determinant())), 1e-7) << "row " << r;
    Mat<double> back;
    Vec<double> ldi;
    f.inverse(y.row(r), back, ldi, nullptr);
    EXPECT_NEAR(ldi(0), std::log(std::abs(Jinv.determinant())), 1e-7) << "row " << r;
  }
}

// L = Σ_rij w_ij y_ij + ½ Σ v_ij y_ij² + Σ_r u_r logdet_r, so dL/dy = w + v ⊙ y and dL/dlogdet = u.
struct Loss {
  Mat<double> w, v;
  Vec<double> u;
  double value(const Mat<double>& y, const Vec<double>& ld) const {
    return (w.array() * y.array()).sum() + 0.5 * (v.array() * y.array().square()).sum() + u.dot(ld);
  }
};

void check_gradients(bool inverse_direction, double bound) {
  RealNvp<double> f(small_shape(bound), 8);
  randomise(f, 0.4, 13);
  const int rows = 4, D = 7;
  const Mat<double> x = random_matrix<double>(rows, D, 1.5, 9);
  Loss loss{random_matrix<double>(rows, D, 1.0, 10), random_matrix<double>(rows, D, 1.0, 11), {}};
  loss.u = random_matrix<double>(rows, 1, 1.0, 12);
  auto run = [&](RealNvp<double>& g, const Mat<double>& in, typename RealNvp<double>::Cache* c, Mat<double>& out,
                 Vec<double>& ld) {
    if (inverse_direction)
      g.inverse(in, out, ld, c);
    else
      g.forward(in, out, ld, c);
  };
  typename RealNvp<double>::Cache cache;
  Mat<double> y, gin;
  Vec<double> ld;
  run(f, x, &cache, y, ld);
  const Mat<double> gy = loss.w.array() + loss.v.array() * y.array();
  ParamVector<double> grad;
  if (inverse_direction)
    f.backward_inverse(cache, gy, loss.u, grad, gin);
  else
    f.backward_forward(cache, gy, loss.u, grad, gin);
  ASSERT_EQ(grad.size(), f.parameter_count());
  const double h = 1e-6;
  auto L_at = [&](const Mat<double>& in) {
    Mat<double> o;
    Vec<double> l;
    run(f, in, nullptr, o, l);
    return loss.value(o, l);
  };
  // Every parameter: |analytic − FD| ≤ 1e-6 + 1e-5·|FD| (FD truncation ≈ h²·L''' ≈ 1e-10, round-off ≈ 1e-16·|L|/h ≈ 1e-9).
  auto& p = f.parameters();
  int checked = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double keep = p[i];
    p[i] = keep + h;
    const double lp = L_at(x);
    p[i] = keep - h;
    const double lm = L_at(x);
    p[i] = keep;
    const double fd = (lp - lm) / (2 * h);
    EXPECT_NEAR(grad[i], fd, 1e-6 + 1e-5 * std::abs(fd)) << "parameter " << i << (inverse_direction ? " (inverse)" : " (forward)")
                                                          << " bound " << bound;
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(f.parameter_count()));
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < D; ++j) {
      Mat<double> xp = x, xm = x;
      xp(r, j) += h;
      xm(r, j) -= h;
      const double fd = (L_at(xp) - L_at(xm)) / (2 * h);
      EXPECT_NEAR(gin(r, j), fd, 1e-6 + 1e-5 * std::abs(fd)) << "input " << r << "," << j;
    }
}

TEST(RealNvp, ForwardGradientsMatchFiniteDifferences) { check_gradients(false, 0.0); }
TEST(RealNvp, InverseGradientsMatchFiniteDifferences) { check_gradients(true, 0.0); }
TEST(RealNvp, GradientsWithTheScaleBound) {
  check_gradients(false, 0.7);
  check_gradients(true, 0.7);
}

}  // namespace
}  // namespace boltzmap
