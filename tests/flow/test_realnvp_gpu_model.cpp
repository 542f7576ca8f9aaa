// The GPU real-NVP's passes run on the CPU: nvp::run_pass / nvp::run_backward
// (src/flow/realnvp_passes.hpp, the very code CudaRealNvp runs) with HostOps — every element-wise
// step the element function the CUDA kernel calls (src/flow/realnvp_elements.hpp), every product
// a reference column-major GEMM/GEMV with cuBLAS's argument convention and validity rules
// (lda ≥ rows of A as stored, …; beta = 0 does not read C) — in double, against RealNvp<double>:
// forward and inverse (outputs, log-det), both backward passes (input gradient, every parameter
// gradient added to a random start), in place, gld = null. What remains untested without a GPU
// is cuBLAS itself and the kernel launches (tests/gpu/test_realnvp_parity.cpp).
// Every work buffer starts as NaN, so a step that reads what no earlier step wrote shows.
// Tolerance: both sides double, the same operations summed in other orders: relative 1e-10 of
// (|b| + rms b) (rounding is ~1e-15 per operation, a few thousand operations per output).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "flow/realnvp.hpp"
#include "flow/realnvp_layout.hpp"
#include "flow/realnvp_passes.hpp"

namespace boltzmap {
namespace {

// The Ops of realnvp_passes.hpp on host memory.
template <class T>
struct HostOps {
  void copy(T* dst, const T* src, std::size_t n) { std::copy(src, src + n, dst); }
  void zero(T* p, std::size_t n) { std::fill(p, p + n, T(0)); }
  // cublasSgemm(op_a, op_b, m, n, k, alpha = 1, A, lda, B, ldb, beta, C, ldc), column-major.
  void gemm(const nvp::GemmCall& g, const T* A, const T* B, T beta, T* C) {
    ASSERT_GE(g.m, 1);
    ASSERT_GE(g.n, 1);
    ASSERT_GE(g.k, 1);
    ASSERT_GE(g.lda, g.trans_a ? g.k : g.m) << "lda too small for cuBLAS";
    ASSERT_GE(g.ldb, g.trans_b ? g.n : g.k) << "ldb too small for cuBLAS";
    ASSERT_GE(g.ldc, g.m) << "ldc too small for cuBLAS";
    for (int j = 0; j < g.n; ++j)
      for (int i = 0; i < g.m; ++i) {
        T acc = 0;
        for (int l = 0; l < g.k; ++l) {
          const T a = g.trans_a ? A[l + static_cast<std::size_t>(i) * g.lda] : A[i + static_cast<std::size_t>(l) * g.lda];
          const T b = g.trans_b ? B[j + static_cast<std::size_t>(l) * g.ldb] : B[l + static_cast<std::size_t>(j) * g.ldb];
          acc += a * b;
        }
        T& c = C[i + static_cast<std::size_t>(j) * g.ldc];
        c = beta == T(0) ? acc : acc + beta * c;  // beta = 0: C is not read (cuBLAS)
      }
  }
  // cublasSgemv(N, out, rows, 1, delta, out, ones, 1, 1, gb, 1).
  void bias_grad(int out, int rows, const T* delta, const T* ones, T* gb) {
    for (int i = 0; i < out; ++i) {
      T acc = 0;
      for (int j = 0; j < rows; ++j) acc += delta[i + static_cast<std::size_t>(j) * out] * ones[j];
      gb[i] += acc;
    }
  }
  void bias_activation(T* z, const T* b, int rows, int width, nvp::LayerActivation act, T a) {
    for (std::size_t i = 0; i < static_cast<std::size_t>(rows) * width; ++i) nvp::bias_activation_element(z, b, width, act, a, i);
  }
  void gather(const T* src, int rows, int dim, int first, int count, T* dst) {
    for (std::size_t i = 0; i < static_cast<std::size_t>(rows) * count; ++i) nvp::gather_element(src, dim, first, count, dst, i);
  }
  template <bool Forward>
  void coupling(T* y, const nvp::CouplingColumns& c, const T* s, const T* t, T* xt, T* logdet, int rows) {
    for (int r = 0; r < rows; ++r) nvp::coupling_row<Forward>(y, c, s, t, xt, logdet, static_cast<std::size_t>(r));
  }
  void tanh_backward(T* d, const T* h, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) nvp::tanh_backward_element(d, h, i);
  }
  void backward_forward_split(const T* g, const nvp::CouplingColumns& c, const T* xt, const T* s, const T* gld, T a,
                              T* g_trans, T* g_keep, T* gs, int rows) {
    for (std::size_t i = 0; i < static_cast<std::size_t>(rows) * c.dim; ++i)
      nvp::backward_forward_split_element(g, c, xt, s, gld, a, g_trans, g_keep, gs, i);
  }
  void backward_forward_merge(T* g, const nvp::CouplingColumns& c, const T* g_trans, const T* g_keep, const T* s,
                              int rows) {
    for (std::size_t i = 0; i < static_cast<std::size_t>(rows) * c.dim; ++i)
      nvp::backward_forward_merge_element(g, c, g_trans, g_keep, s, i);
  }
  void backward_inverse_split(const T* g, const nvp::CouplingColumns& c, const T* xt, const T* s, const T* gld, T a,
                              T* g_keep, T* gs, T* gt, int rows) {
    for (std::size_t i = 0; i < static_cast<std::size_t>(rows) * c.dim; ++i)
      nvp::backward_inverse_split_element(g, c, xt, s, gld, a, g_keep, gs, gt, i);
  }
  void backward_inverse_merge(T* g, const nvp::CouplingColumns& c, const T* gt, const T* g_keep, int rows) {
    for (std::size_t i = 0; i < static_cast<std::size_t>(rows) * c.dim; ++i)
      nvp::backward_inverse_merge_element(g, c, gt, g_keep, i);
  }
};

// Host buffers of the sizes CudaRealNvp::prepare allocates, NaN-filled, and their view.
template <class T>
struct HostWork {
  static constexpr T nan_value = std::numeric_limits<T>::quiet_NaN();
  std::vector<std::vector<T>> store;
  nvp::WorkView<T> view;
  T* make(std::size_t n) {
    store.emplace_back(n, nan_value);
    return store.back().data();
  }
  HostWork(const FlowShape& shape, const NvpLayout& L, int rows) {
    store.reserve(1024);  // stable pointers
    const std::size_t R = rows, half = static_cast<std::size_t>(shape.dim + 1) / 2;
    for (const NvpBlockLayout& b : L.blocks) {
      nvp::BlockView<T> v{make(R * b.keep.count), make(R * b.trans.count), make(R * b.trans.count), {}, {}};
      for (int h : shape.hidden) {
        v.hid_s.push_back(make(R * h));
        v.hid_t.push_back(make(R * h));
      }
      view.block.push_back(v);
    }
    view.t = make(R * half);
    view.g_trans = make(R * half);
    view.g_keep = make(R * half);
    view.gs = make(R * half);
    view.gt = make(R * half);
    for (int h : shape.hidden) view.delta.push_back(make(R * h));
    T* ones = make(R);
    std::fill(ones, ones + R, T(1));
    view.ones = ones;
  }
};

double uniform(std::uint64_t seed, std::uint32_t id, std::uint64_t k) {
  const Random4 r = philox(seed, RngStream::Test, id, k);
  return 2.0 * uniform_double(r.v[0], r.v[1]) - 1.0;
}
template <class T = double>
std::vector<T> random_vector(std::size_t n, double scale, std::uint32_t id) {
  std::vector<T> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<T>(scale * uniform(77, id, i));
  return v;
}

// The largest |a − b| / (rtol·(|b| + rms b)) (NaN: infinity), as the GPU parity test measures.
template <class T>
double worst_ratio(const T* a, const T* b, std::size_t n, double rtol) {
  double ss = 0;
  for (std::size_t i = 0; i < n; ++i) ss += static_cast<double>(b[i]) * b[i];
  const double rms = std::sqrt(ss / static_cast<double>(std::max<std::size_t>(n, 1)));
  double worst = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double r = std::abs(static_cast<double>(a[i]) - b[i]) / (rtol * (std::abs(static_cast<double>(b[i])) + rms) + 1e-300);
    if (!(r <= worst)) worst = std::isnan(r) ? INFINITY : r;
  }
  return worst;
}

// |a − b| ≤ rtol·(|b| + rms b) everywhere (NaN fails); reports the first offending element.
template <class T>
::testing::AssertionResult close(const std::string& what, const T* a, const T* b, std::size_t n, double rtol = 1e-10) {
  double ss = 0;
  for (std::size_t i = 0; i < n; ++i) ss += static_cast<double>(b[i]) * b[i];
  const double rms = std::sqrt(ss / static_cast<double>(std::max<std::size_t>(n, 1)));
  for (std::size_t i = 0; i < n; ++i)
    if (!(std::abs(static_cast<double>(a[i]) - b[i]) <= rtol * (std::abs(static_cast<double>(b[i])) + rms)))
      return ::testing::AssertionFailure() << what << ": element " << i << " of " << n << ": model " << a[i]
                                           << ", RealNvp " << b[i] << " (rms " << rms << ")";
  return ::testing::AssertionSuccess();
}

struct Case {
  std::string name;
  FlowShape shape;
  double scale;
};

std::vector<Case> cases() {
  const FlowShape paper;  // one default construction (GCC 12 warns falsely about several)
  FlowShape paper_b = paper, odd = paper, odd_b, two = paper;
  paper_b.scale_bound = 2.0;
  odd.dim = 7;
  odd.blocks = 3;
  odd.hidden = {5, 3};
  odd_b = odd;
  odd_b.scale_bound = 1.5;
  two.dim = 2;
  two.blocks = 2;
  two.hidden = {4};
  std::vector<Case> all;
  all.push_back({"paper", paper, 0.05});
  all.push_back({"paper, bound 2", paper_b, 0.05});
  all.push_back({"D=7 {5,3}", odd, 0.4});
  all.push_back({"D=7 {5,3}, bound 1.5", odd_b, 0.4});
  all.push_back({"D=2 {4}", two, 0.5});
  return all;
}

TEST(RealNvpGpuModel, PassesEqualRealNvp) {
  using T = double;
  constexpr T nan_value = std::numeric_limits<T>::quiet_NaN();
  std::uint32_t id = 0;
  for (const Case& c : cases())
    for (int rows : {1, 5}) {
      SCOPED_TRACE(c.name + ", " + std::to_string(rows) + " rows");
      const FlowShape& shape = c.shape;
      const int D = shape.dim;
      const std::size_t n = static_cast<std::size_t>(rows) * D;
      const NvpLayout L = realnvp_layout(shape);
      RealNvp<T> f(shape, 3);
      ++id;
      const std::vector<T> p = random_vector(f.parameter_count(), c.scale, 100 + id);  // last layers too
      std::copy(p.begin(), p.end(), f.parameters().begin());
      const std::vector<T> x = random_vector(n, 1.5, 200 + id), gin = random_vector(n, 1.0, 300 + id);
      const bool null_gld = rows == 1;
      const std::vector<T> gld = null_gld ? std::vector<T>(rows, 0.0) : random_vector(rows, 1.0, 400 + id);
      const std::vector<T> grad0 = random_vector(f.parameter_count(), 0.1, 500 + id);
      const T a = static_cast<T>(shape.scale_bound);
      HostOps<T> ops;

      for (bool forward : {true, false}) {
        SCOPED_TRACE(forward ? "forward" : "inverse");
        // RealNvp<double>
        using Mat = RealNvp<T>::Mat;
        using Vec = RealNvp<T>::Vec;
        auto cache = f.make_cache();
        Mat out_c, gout_c;
        Vec ld_c;
        const Mat xm = Eigen::Map<const Mat>(x.data(), rows, D), gm = Eigen::Map<const Mat>(gin.data(), rows, D);
        const Vec gv = Eigen::Map<const Vec>(gld.data(), rows);
        ParamVector<T> grad_c(grad0.begin(), grad0.end());
        if (forward) {
          f.forward(xm, out_c, ld_c, cache.get());
          f.backward_forward(*cache, gm, gv, grad_c, gout_c);
        } else {
          f.inverse(xm, out_c, ld_c, cache.get());
          f.backward_inverse(*cache, gm, gv, grad_c, gout_c);
        }
        // The GPU's passes on the host; in place (in == out, gin == gout) for the 5-row batches.
        HostWork<T> w(shape, L, rows);
        const bool in_place = rows == 5;
        std::vector<T> in = x, out(n, nan_value), ld(rows, nan_value);
        T* out_p = in_place ? in.data() : out.data();
        nvp::run_pass(ops, L, D, a, p.data(), forward, in.data(), out_p, ld.data(), rows, w.view);
        EXPECT_TRUE(close("output", out_p, out_c.data(), n));
        EXPECT_TRUE(close("logdet", ld.data(), ld_c.data(), rows));
        std::vector<T> g = gin, gout(n, nan_value), grad = grad0;
        T* gout_p = in_place ? g.data() : gout.data();
        nvp::run_backward(ops, L, D, a, p.data(), forward, g.data(), null_gld ? nullptr : gld.data(), grad.data(), gout_p,
                          rows, w.view);
        EXPECT_TRUE(close("input gradient", gout_p, gout_c.data(), n));
        for (std::size_t b = 0; b < L.blocks.size(); ++b)
          for (int net = 0; net < 2; ++net)
            for (const NvpLayer& ly : net == 0 ? L.blocks[b].s : L.blocks[b].t) {
              const std::string name = "block " + std::to_string(b) + (net == 0 ? " S" : " T") + " layer at " +
                                       std::to_string(ly.w);
              EXPECT_TRUE(close(name + " dW", grad.data() + ly.w, grad_c.data() + ly.w,
                                static_cast<std::size_t>(ly.in) * ly.out));
              EXPECT_TRUE(close(name + " db", grad.data() + ly.b, grad_c.data() + ly.b, ly.out));
            }
        double moved = 0;
        for (std::size_t i = 0; i < n; ++i) moved = std::max(moved, std::abs(out_c.data()[i] - x[i]));
        EXPECT_GT(moved, 0.05) << "the map should not be the identity";
      }
    }
}

// The GEMM descriptors against cuBLAS's rules for a layer whose in, out and rows all differ.
TEST(RealNvpGpuModel, GemmCallsAreValidForCublas) {
  const NvpLayer ly{0, 15, 5, 3};  // in 5, out 3
  for (int rows : {1, 7}) {
    for (const nvp::GemmCall& g : {nvp::layer_forward_gemm(ly, rows), nvp::layer_weight_grad_gemm(ly, rows),
                                   nvp::layer_input_grad_gemm(ly, rows)}) {
      EXPECT_GE(g.lda, std::max(1, g.trans_a ? g.k : g.m));
      EXPECT_GE(g.ldb, std::max(1, g.trans_b ? g.n : g.k));
      EXPECT_GE(g.ldc, std::max(1, g.m));
    }
  }
}

}  // namespace
}  // namespace boltzmap

namespace boltzmap {
namespace {

// The GPU parity test's tolerances (tests/gpu/test_realnvp_parity.cpp: rtol 2e-4 for outputs,
// 1e-3 for gradients) checked for margin on the CPU: the model in float (naive in-order sums,
// scalar libm exp/tanh — another order and other transcendentals than RealNvp<float>'s Eigen
// kernels, as cuBLAS and CUDA's are) against RealNvp<float>, on the paper's shape. Each worst
// ratio (|a − b| over the tolerance) must stay below 1/10, so the GPU test has room to spare
// (measured: ≤ 2·10⁻³ at 48 rows, ≤ 6·10⁻³ at 2048 — BOLTZMAP_MODEL_ROWS=2048, 30 s — the GPU
// test's batch).
TEST(RealNvpGpuModel, FloatModelIsWellInsideTheGpuTestsTolerances) {
  using T = float;
  const double rtol_out = 2e-4, rtol_grad = 1e-3;
  const int rows = std::getenv("BOLTZMAP_MODEL_ROWS") ? std::atoi(std::getenv("BOLTZMAP_MODEL_ROWS")) : 48;
  for (double bound : {0.0, 2.0}) {
    FlowShape shape;
    shape.scale_bound = bound;
    const int D = shape.dim;
    const std::size_t n = static_cast<std::size_t>(rows) * D;
    const NvpLayout L = realnvp_layout(shape);
    RealNvp<T> f(shape, 3);
    const std::vector<T> p = random_vector<T>(f.parameter_count(), 0.05, 900);
    std::copy(p.begin(), p.end(), f.parameters().begin());
    const std::vector<T> x = random_vector<T>(n, 1.5, 901), gin = random_vector<T>(n, 1.0, 902);
    const std::vector<T> gld = random_vector<T>(rows, 1.0, 903), grad0 = random_vector<T>(f.parameter_count(), 0.1, 904);
    HostOps<T> ops;
    for (bool forward : {true, false}) {
      using Mat = RealNvp<T>::Mat;
      using Vec = RealNvp<T>::Vec;
      auto cache = f.make_cache();
      Mat out_c, gout_c;
      Vec ld_c;
      const Mat xm = Eigen::Map<const Mat>(x.data(), rows, D), gm = Eigen::Map<const Mat>(gin.data(), rows, D);
      const Vec gv = Eigen::Map<const Vec>(gld.data(), rows);
      ParamVector<T> grad_c(grad0.begin(), grad0.end());
      if (forward) {
        f.forward(xm, out_c, ld_c, cache.get());
        f.backward_forward(*cache, gm, gv, grad_c, gout_c);
      } else {
        f.inverse(xm, out_c, ld_c, cache.get());
        f.backward_inverse(*cache, gm, gv, grad_c, gout_c);
      }
      HostWork<T> w(shape, L, rows);
      std::vector<T> out(n), ld(rows), gout(n), grad = grad0;
      nvp::run_pass(ops, L, D, static_cast<T>(bound), p.data(), forward, x.data(), out.data(), ld.data(), rows, w.view);
      nvp::run_backward(ops, L, D, static_cast<T>(bound), p.data(), forward, gin.data(), gld.data(), grad.data(),
                        gout.data(), rows, w.view);
      const double r_out = worst_ratio(out.data(), out_c.data(), n, rtol_out);
      const double r_ld = worst_ratio(ld.data(), ld_c.data(), rows, rtol_out);
      const double r_gin = worst_ratio(gout.data(), gout_c.data(), n, rtol_grad);
      double r_grad = 0;
      for (const NvpBlockLayout& b : L.blocks)
        for (const auto* m : {&b.s, &b.t})
          for (const NvpLayer& ly : *m) {
            r_grad = std::max(r_grad, worst_ratio(grad.data() + ly.w, grad_c.data() + ly.w,
                                                  static_cast<std::size_t>(ly.in) * ly.out, rtol_grad));
            r_grad = std::max(r_grad, worst_ratio(grad.data() + ly.b, grad_c.data() + ly.b, ly.out, rtol_grad));
          }
      std::printf("float model vs RealNvp<float>, %s, bound %.1f, %d rows: worst / tolerance: output %.3g, logdet %.3g, "
                  "input gradient %.3g, parameter gradients %.3g\n",
                  forward ? "forward" : "inverse", bound, rows, r_out, r_ld, r_gin, r_grad);
      EXPECT_LT(r_out, 0.1);
      EXPECT_LT(r_ld, 0.1);
      EXPECT_LT(r_gin, 0.1);
      EXPECT_LT(r_grad, 0.1);
    }
  }
}

}  // namespace
}  // namespace boltzmap
