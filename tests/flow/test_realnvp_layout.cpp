// The pieces of the GPU real-NVP that run on the host or are shared with it, checked on the CPU:
//  * realnvp_layout (src/flow/realnvp_layout.hpp) has RealNvp's parameter count, contiguous
//    offsets in the documented order, and the parity split;
//    (the GPU passes themselves, on the CPU: tests/flow/test_realnvp_gpu_model.cpp);
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
