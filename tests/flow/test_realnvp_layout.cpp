// The pieces of the GPU real-NVP that run on the host or are shared with it, checked on the CPU:
//  * realnvp_layout (src/flow/realnvp_layout.hpp) has RealNvp's parameter count, contiguous
//    offsets in the documented order, and the parity split;
//  * a scalar model of the GPU's forward and inverse passes — the same data flow as
//    CudaRealNvp (gather the kept parity, the two MLPs layer by layer from the layout's offsets,
//    bias + tanh, the bound, then the coupling and the log-det row sum with the functions of
//    src/flow/coupling_math.hpp, one element at a time, component c in column c / 2) — equals
//    RealNvp<double> to rounding (1e-12: double, a few hundred operations per output);
//  * the scalar coupling functions equal the Eigen array forms RealNvp uses (the same
//    functions on arrays) to a few ulp of float (Eigen's vectorised exp/tanh against the
//    scalar libm ones: ≤ 4 ulp each, ≤ 3 roundings after them: 16 ulp of the result).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/rng.hpp"
#include "flow/coupling_math.hpp"
#include "flow/realnvp.hpp"
#include "flow/realnvp_layout.hpp"

namespace boltzmap {
namespace {

double uniform(std::uint64_t seed, std::uint32_t id, std::uint64_t k) {
  const Random4 r = philox(seed, RngStream::Test, id, k);
  return 2.0 * uniform_double(r.v[0], r.v[1]) - 1.0;
}

std::vector<FlowShape> shapes() {
  std::vector<FlowShape> s(3);
  s[1].dim = 7;
  s[1].blocks = 3;
  s[1].hidden = {5, 3};
  s[1].scale_bound = 1.5;
  s[2].dim = 2;
  s[2].blocks = 1;
  s[2].hidden = {4};
  return s;
}

TEST(RealNvpLayout, MatchesRealNvp) {
  for (const FlowShape& shape : shapes()) {
    const NvpLayout L = realnvp_layout(shape);
    RealNvp<float> f(shape, 1);
    EXPECT_EQ(L.size, f.parameter_count()) << "dim " << shape.dim;
    ASSERT_EQ(static_cast<int>(L.blocks.size()), shape.blocks);
    std::size_t next = 0;
    int widest = 0;
    for (int b = 0; b < shape.blocks; ++b) {
      const NvpBlockLayout& B = L.blocks[b];
      EXPECT_EQ(B.keep.first, b % 2);
      EXPECT_EQ(B.trans.first, 1 - b % 2);
      EXPECT_EQ(B.keep.count + B.trans.count, shape.dim);
      EXPECT_EQ(B.keep.count, b % 2 == 0 ? (shape.dim + 1) / 2 : shape.dim / 2);
      for (const auto* m : {&B.s, &B.t}) {
        ASSERT_EQ(m->size(), shape.hidden.size() + 1);
        int in = B.keep.count;
        for (std::size_t l = 0; l < m->size(); ++l) {
          const NvpLayer& ly = (*m)[l];
          const int out = l < shape.hidden.size() ? shape.hidden[l] : B.trans.count;
          EXPECT_EQ(ly.in, in);
          EXPECT_EQ(ly.out, out);
          EXPECT_EQ(ly.w, next);
          EXPECT_EQ(ly.b, next + static_cast<std::size_t>(in) * out);
          next = ly.b + out;
          widest = std::max({widest, in, out});
          in = out;
        }
      }
    }
    EXPECT_EQ(next, L.size);
    EXPECT_EQ(widest, L.max_width);
  }
  FlowShape bad;
  bad.dim = 1;
  EXPECT_THROW(realnvp_layout(bad), Error);
}

// The GPU's data flow, one element at a time, in double. x: [row][D]; returns y, fills logdet.
std::vector<double> scalar_pass(const FlowShape& shape, const std::vector<double>& p, const std::vector<double>& x,
                                int rows, bool forward, std::vector<double>& logdet) {
  const NvpLayout L = realnvp_layout(shape);
  const int D = shape.dim;
  std::vector<double> y = x;
  logdet.assign(rows, 0.0);
  auto mlp = [&](const std::vector<NvpLayer>& m, const std::vector<double>& h, bool bounded) {
    std::vector<double> a = h;
    for (std::size_t l = 0; l < m.size(); ++l) {
      const NvpLayer& ly = m[l];
      std::vector<double> z(ly.out);
      for (int o = 0; o < ly.out; ++o) {
        double acc = 0;
        for (int i = 0; i < ly.in; ++i) acc += p[ly.w + static_cast<std::size_t>(o) * ly.in + i] * a[i];
        const double u = acc + p[ly.b + o];
        z[o] = l + 1 < m.size() ? std::tanh(u) : bounded && shape.scale_bound > 0 ? coupling::bound(u, shape.scale_bound) : u;
      }
      a = std::move(z);
    }
    return a;
  };
  for (int k = 0; k < shape.blocks; ++k) {
    const int b = forward ? k : shape.blocks - 1 - k;
    const NvpBlockLayout& B = L.blocks[b];
    for (int r = 0; r < rows; ++r) {
      double* row = y.data() + static_cast<std::size_t>(r) * D;
      std::vector<double> keep(B.keep.count);
      for (int c = 0; c < D; ++c)
        if (c % 2 == B.keep.first) keep[c / 2] = row[c];
      const std::vector<double> s = mlp(B.s, keep, true), t = mlp(B.t, keep, false);
      double sum = 0;
      for (int c = 0; c < D; ++c)
        if (c % 2 == B.trans.first) {
          const int j = c / 2;
          row[c] = forward ? coupling::forward(row[c], s[j], t[j]) : coupling::inverse(row[c], s[j], t[j]);
          sum += s[j];
        }
      logdet[r] += forward ? sum : -sum;
    }
  }
  return y;
}

TEST(RealNvpLayout, ScalarModelOfTheGpuPassesEqualsRealNvp) {
  for (const FlowShape& shape : shapes()) {
    RealNvp<double> f(shape, 3);
    const double scale = shape.hidden[0] > 64 ? 0.05 : 0.4;  // |S| of order 0.5 per block
    auto& p = f.parameters();
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = scale * uniform(21, 1, i);  // last layers too
    const int rows = 5, D = shape.dim;
    RealNvp<double>::Mat x(rows, D);
    std::vector<double> xv(static_cast<std::size_t>(rows) * D);
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < D; ++c) xv[static_cast<std::size_t>(r) * D + c] = x(r, c) = 1.5 * uniform(22, r, c);
    const std::vector<double> pv(p.begin(), p.end());
    for (bool fwd : {true, false}) {
      RealNvp<double>::Mat y;
      RealNvp<double>::Vec ld;
      if (fwd)
        f.forward(x, y, ld, nullptr);
      else
        f.inverse(x, y, ld, nullptr);
      std::vector<double> lds;
      const std::vector<double> ys = scalar_pass(shape, pv, xv, rows, fwd, lds);
      double worst = 0;
      for (int r = 0; r < rows; ++r) {
        for (int c = 0; c < D; ++c) worst = std::max(worst, std::abs(ys[static_cast<std::size_t>(r) * D + c] - y(r, c)));
        worst = std::max(worst, std::abs(lds[r] - ld(r)));
      }
      EXPECT_LT(worst, 1e-12) << "dim " << D << (fwd ? " forward" : " inverse");
      EXPECT_GT((y - x).cwiseAbs().maxCoeff(), 0.05) << "the map should not be the identity";
    }
  }
}

// |a − b| ≤ n ulp of b (float).
::testing::AssertionResult within_ulp(float a, float b, int n) {
  const float tol = n * std::numeric_limits<float>::epsilon() * std::max(std::abs(b), std::numeric_limits<float>::min());
  if (std::abs(a - b) <= tol) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << a << " vs " << b << " (" << n << " ulp: " << tol << ")";
}

TEST(CouplingMath, ScalarFormsEqualTheArrayForms) {
  using A = Eigen::ArrayXf;
  const int n = 1000;
  A g(n), x(n), s(n), t(n), u(n);
  for (int i = 0; i < n; ++i) {
    g(i) = static_cast<float>(uniform(5, 1, i));
    x(i) = static_cast<float>(2 * uniform(5, 2, i));
    s(i) = static_cast<float>(1.5 * uniform(5, 3, i));
    t(i) = static_cast<float>(uniform(5, 4, i));
    u(i) = static_cast<float>(4 * uniform(5, 5, i));
  }
  const float a = 1.5f;
  const A fw = coupling::forward(x, s, t), inv = coupling::inverse(x, s, t), bd = coupling::bound(u, a);
  const A bg = coupling::bound_grad<float>(s, a), tg = coupling::tanh_grad<float>(t);
  const A fs = coupling::forward_grad_s(g, x, s), fx = coupling::forward_grad_x(g, s);
  const A is = coupling::inverse_grad_s(g, x), it = coupling::inverse_grad_t(g, s);
  for (int i = 0; i < n; ++i) {
    // The sums (y_T = x e^s + t) can cancel: compare them against the size of their terms.
    const float fw_scale = std::abs(x(i) * std::exp(s(i))) + std::abs(t(i));
    EXPECT_LE(std::abs(coupling::forward(x(i), s(i), t(i)) - fw(i)), 16 * 1.2e-7f * fw_scale) << i;
    EXPECT_TRUE(within_ulp(coupling::inverse(x(i), s(i), t(i)), inv(i), 16)) << i;
    EXPECT_TRUE(within_ulp(coupling::bound(u(i), a), bd(i), 16)) << i;
    EXPECT_EQ(coupling::bound_grad<float>(s(i), a), bg(i)) << i;  // no transcendental: exact
    EXPECT_EQ(coupling::tanh_grad<float>(t(i)), tg(i)) << i;
    EXPECT_TRUE(within_ulp(coupling::forward_grad_s(g(i), x(i), s(i)), fs(i), 16)) << i;
    EXPECT_TRUE(within_ulp(coupling::forward_grad_x(g(i), s(i)), fx(i), 16)) << i;
    EXPECT_EQ(coupling::inverse_grad_s(g(i), x(i)), is(i)) << i;
    EXPECT_TRUE(within_ulp(coupling::inverse_grad_t(g(i), s(i)), it(i), 16)) << i;
  }
  // The formulas themselves, in double.
  EXPECT_DOUBLE_EQ(coupling::inverse(coupling::forward(0.7, 0.3, -0.2), 0.3, -0.2), 0.7);
  EXPECT_NEAR(coupling::bound_grad<double>(coupling::bound(0.9, 2.0), 2.0), 1.0 / std::pow(std::cosh(0.9 / 2.0), 2), 1e-15);
  EXPECT_NEAR(coupling::tanh_grad<double>(std::tanh(0.4)), 1.0 / std::pow(std::cosh(0.4), 2), 1e-15);
}

}  // namespace
}  // namespace boltzmap
