// The GPU real-NVP (CudaRealNvp, src/flow/realnvp_cuda.hpp) and Adam (CudaAdam) against their
// CPU twins RealNvp<float> and Adam, on fresh random inputs (seed printed; BOLTZMAP_TEST_SEED
// replays one) with every output poisoned (NaN bytes) before each call:
//  * Parity.RealNvpPasses: for the paper's shape (D = 62, 8 blocks, hidden 128·3) and an odd one
//    (D = 7, 3 blocks, hidden {5, 3}), each with scale_bound 0 and > 0, ALL parameters random (the
//    last layers too, else S = T = 0 and the test is vacuous), batches of 1, 37 and 2048 rows:
//    forward (y, logdet), inverse (x, logdet), the GPU round trip F⁻¹(F(x)) = x, and both
//    backward passes (input gradient and every layer's W and b gradient, accumulated into a
//    random starting gradient: adds, not overwrites; gld null = 0 on the 37-row batches);
//    repeated passes bitwise equal and without reallocation; in-place forward.
//  * Parity.AdamStepBitwise: three steps from a CPU Adam's state: parameters and moments equal
//    bit for bit (the same adam_update() in IEEE double, no FMA on either side).
//  * CudaRealNvp.ParametersAndChecks: parameters copy both ways bitwise; wrong sizes and a
//    backward pass without its forward pass throw.
// Tolerances (the comparison: |gpu − cpu| ≤ rtol·(|cpu| + rms(cpu)), per array or per layer; the
// rms term stands for the scale of a sum whose elements can cancel). Both sides are float32 with
// products summed in different orders (cuBLAS against Eigen's kernel) and CUDA's expf/tanhf
// against Eigen's vectorised ones (each a few ulp). A priori: one K-term product carries ≈ √K·u
// of its terms' scale (K ≤ 128: 7·10⁻⁷, u = 6·10⁻⁸), 8 blocks of 4 layers feed their errors on
// with gains of order e^|S| ≈ 2, so ~10⁻⁵ at most; gradients double the chain and sum 2048 rows.
// Measured on the CPU (tests/flow/test_realnvp_gpu_model.cpp, FloatModelIsWellInsideTheGpu…:
// the GPU's passes in float with naive in-order sums and libm's exp/tanh, against RealNvp<float>,
// the paper's shape, 2048 rows): the worst element differs by 4·10⁻⁷·(|b| + rms) for outputs and
// log-dets, 6·10⁻⁶ for parameter gradients (in-order float sums over 2048 rows; cuBLAS's blocked
// sums do better). rtol = 2·10⁻⁴ (outputs) and 10⁻³ (gradients) sit between the two: some 200–500
// times the measured difference, and far below what a wrong formula, index or layout gives
// (10⁻²–1).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "gpu_test.hpp"

#if BOLTZMAP_HAVE_CUDA
#include "cuda_check.cuh"
#include "flow/adam.hpp"
#include "flow/adam_cuda.hpp"
#include "flow/realnvp.hpp"
#include "flow/realnvp_cuda.hpp"
#endif

namespace boltzmap {
namespace {

#if BOLTZMAP_HAVE_CUDA

using Mat = RealNvp<float>::Mat;
using Vec = RealNvp<float>::Vec;

constexpr double rtol_out = 2e-4;   // y, x, logdet, the round trip (see the header)
constexpr double rtol_grad = 1e-3;  // gx, gy, dL/dθ

double uniform(std::uint64_t seed, std::uint32_t id, std::uint64_t k) {
  const Random4 r = philox(seed, RngStream::Test, id, k);
  return 2.0 * uniform_double(r.v[0], r.v[1]) - 1.0;
}
std::vector<float> random_vector(std::size_t n, double scale, std::uint64_t seed, std::uint32_t id) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>(scale * uniform(seed, id, i));
  return v;
}
Mat to_mat(const std::vector<float>& v, int rows, int cols) {
  return Eigen::Map<const Mat>(v.data(), rows, cols);
}
Vec to_vec(const std::vector<float>& v) { return Eigen::Map<const Vec>(v.data(), static_cast<Eigen::Index>(v.size())); }
std::vector<float> flat(const Mat& m) { return {m.data(), m.data() + m.size()}; }
std::vector<float> flat(const Vec& v) { return {v.data(), v.data() + v.size()}; }

cuda::DeviceBuffer<float> to_device(const std::vector<float>& h, cudaStream_t s) {
  cuda::DeviceBuffer<float> d(h.size());
  cuda::copy_to_device(d, std::span<const float>(h), s);
  CUDA_CHECK(cudaStreamSynchronize(s));
  return d;
}
std::vector<float> to_host(const cuda::DeviceBuffer<float>& d, cudaStream_t s) {
  std::vector<float> h(d.size());
  cuda::copy_to_host(std::span<float>(h), d, s);
  CUDA_CHECK(cudaStreamSynchronize(s));
  return h;
}
cuda::DeviceBuffer<float> poisoned(std::size_t n, cudaStream_t s) {
  cuda::DeviceBuffer<float> d(n);
  d.fill_bytes(0xFF, s);  // NaN in every float
  return d;
}
void poison(cuda::DeviceBuffer<float>& d, cudaStream_t s) { d.fill_bytes(0xFF, s); }

// |gpu − cpu| ≤ rtol·(|cpu| + rms(cpu)) for every element of [begin, begin + n); NaN fails.
// `cols` > 0 names elements as (row, col).
::testing::AssertionResult close(const char* what, const float* gpu, const float* cpu, std::size_t n, double rtol,
                                 int cols = 0) {
  double ss = 0;
  for (std::size_t i = 0; i < n; ++i) ss += static_cast<double>(cpu[i]) * cpu[i];
  const double rms = n ? std::sqrt(ss / static_cast<double>(n)) : 0.0;
  double worst = 0;
  std::size_t at = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = std::abs(static_cast<double>(gpu[i]) - cpu[i]);
    const double r = d / (rtol * (std::abs(static_cast<double>(cpu[i])) + rms) + 1e-30);
    if (!(r <= worst)) {  // NaN: taken, and stays the worst
      worst = std::isnan(r) ? INFINITY : r;
      at = i;
      if (std::isnan(r)) break;
    }
  }
  std::ostringstream where;
  if (cols > 0)
    where << "row " << at / cols << " col " << at % cols;
  else
    where << "index " << at;
  if (worst <= 1.0) return ::testing::AssertionSuccess() << what << ": worst " << worst << " of the tolerance";
  return ::testing::AssertionFailure() << what << ": worst at " << where.str() << ": gpu " << gpu[at] << ", cpu "
                                       << cpu[at] << ", |diff| " << std::abs(gpu[at] - cpu[at]) << " > tol "
                                       << rtol * (std::abs(cpu[at]) + rms) << " (rtol " << rtol << ", rms " << rms
                                       << ", " << n << " elements)";
}
::testing::AssertionResult close(const char* what, const std::vector<float>& gpu, const std::vector<float>& cpu,
                                 double rtol, int cols = 0) {
  if (gpu.size() != cpu.size())
    return ::testing::AssertionFailure() << what << ": sizes " << gpu.size() << " and " << cpu.size();
  return close(what, gpu.data(), cpu.data(), gpu.size(), rtol, cols);
}

// Every layer's W and b separately (their scales differ).
void expect_gradients_close(const CudaRealNvp& gpu, const std::vector<float>& g_gpu, const ParamVector<float>& g_cpu) {
  ASSERT_EQ(g_gpu.size(), g_cpu.size());
  const NvpLayout& L = gpu.layout();
  for (std::size_t b = 0; b < L.blocks.size(); ++b)
    for (int net = 0; net < 2; ++net) {
      const auto& m = net == 0 ? L.blocks[b].s : L.blocks[b].t;
      for (std::size_t l = 0; l < m.size(); ++l) {
        const NvpLayer& ly = m[l];
        const std::string name = "dL/d(block " + std::to_string(b) + (net == 0 ? " S" : " T") + " layer " +
                                 std::to_string(l) + " ";
        EXPECT_TRUE(close((name + "W)").c_str(), g_gpu.data() + ly.w, g_cpu.data() + ly.w,
                          static_cast<std::size_t>(ly.in) * ly.out, rtol_grad));
        EXPECT_TRUE(close((name + "b)").c_str(), g_gpu.data() + ly.b, g_cpu.data() + ly.b,
                          static_cast<std::size_t>(ly.out), rtol_grad));
      }
    }
}

struct Case {
  const char* name;
  FlowShape shape;
  double param_scale;  // uniform(−scale, scale) for every parameter: |S| of order 0.5 per block
};

std::vector<Case> cases() {
  FlowShape paper;  // D = 62, 8 blocks, hidden {128, 128, 128}
  FlowShape paper_bound = paper;
  paper_bound.scale_bound = 2.0;
  FlowShape odd;
  odd.dim = 7;
  odd.blocks = 3;
  odd.hidden = {5, 3};
  FlowShape odd_bound = odd;
  odd_bound.scale_bound = 1.5;
  return {{"paper", paper, 0.05}, {"paper, bound 2", paper_bound, 0.05}, {"D=7 {5,3}", odd, 0.4},
          {"D=7 {5,3}, bound 1.5", odd_bound, 0.4}};
}

TEST(Parity, RealNvpPasses) {
  BOLTZMAP_GPU_OR_SKIP();
  const std::uint64_t seed = test::fresh_seed();
  std::uint32_t id = 0;
  for (const Case& c : cases())
    for (int rows : {1, 37, 2048}) {
      SCOPED_TRACE(std::string(c.name) + ", " + std::to_string(rows) + " rows, seed " + std::to_string(seed) +
                   " (BOLTZMAP_TEST_SEED replays it)");
      const int D = c.shape.dim;
      const std::size_t n = static_cast<std::size_t>(rows) * D;
      ++id;
      RealNvp<float> cpu(c.shape, seed);
      {
        const std::vector<float> p = random_vector(cpu.parameter_count(), c.param_scale, seed, 1000 + id);
        std::copy(p.begin(), p.end(), cpu.parameters().begin());
      }
      const CudaRealNvp gpu(cpu);
      const cudaStream_t st = gpu.stream();
      const std::vector<float> x = random_vector(n, 1.5, seed, 2000 + id);
      const std::vector<float> gout = random_vector(n, 1.0, seed, 3000 + id);
      const bool null_gld = rows == 37;  // the GPU's gld = null (0) path; the CPU gets zeros
      const std::vector<float> gld = null_gld ? std::vector<float>(rows, 0.0f) : random_vector(rows, 1.0, seed, 4000 + id);
      const std::vector<float> grad0 = random_vector(cpu.parameter_count(), 0.1, seed, 5000 + id);

      // ---- CPU reference
      auto cache_f = cpu.make_cache(), cache_i = cpu.make_cache();
      Mat y_c, xi_c, gx_c, gy_c;
      Vec ld_c, ldi_c;
      cpu.forward(to_mat(x, rows, D), y_c, ld_c, cache_f.get());
      cpu.inverse(to_mat(x, rows, D), xi_c, ldi_c, cache_i.get());
      ParamVector<float> gradf_c(grad0.begin(), grad0.end()), gradi_c(grad0.begin(), grad0.end());
      cpu.backward_forward(*cache_f, to_mat(gout, rows, D), to_vec(gld), gradf_c, gx_c);
      cpu.backward_inverse(*cache_i, to_mat(gout, rows, D), to_vec(gld), gradi_c, gy_c);
      {
        float moved = 0;
        for (std::size_t i = 0; i < n; ++i) moved = std::max(moved, std::abs(y_c.data()[i] - x[i]));
        EXPECT_GT(moved, 0.05f) << "the map should not be the identity";
      }

      // ---- GPU
      cuda::DeviceBuffer<float> xd = to_device(x, st), gd = to_device(gout, st), gldd = to_device(gld, st);
      cuda::DeviceBuffer<float> y = poisoned(n, st), ld = poisoned(rows, st), xi = poisoned(n, st),
                                ldi = poisoned(rows, st), back = poisoned(n, st), ldb = poisoned(rows, st);
      CudaRealNvp::Workspace ws_f, ws_i, ws_rt;
      gpu.forward(xd.data(), y.data(), ld.data(), rows, ws_f);
      gpu.inverse(xd.data(), xi.data(), ldi.data(), rows, ws_i);
      gpu.inverse(y.data(), back.data(), ldb.data(), rows, ws_rt);
      const std::vector<float> y_g = to_host(y, st), ld_g = to_host(ld, st);
      EXPECT_TRUE(close("forward y", y_g, flat(y_c), rtol_out, D));
      EXPECT_TRUE(close("forward logdet", ld_g, flat(ld_c), rtol_out));
      EXPECT_TRUE(close("inverse x", to_host(xi, st), flat(xi_c), rtol_out, D));
      EXPECT_TRUE(close("inverse logdet", to_host(ldi, st), flat(ldi_c), rtol_out));
      EXPECT_TRUE(close("GPU round trip F^-1(F(x)) vs x", to_host(back, st), x, rtol_out, D));
      {  // log|det F⁻¹|(F(x)) = −log|det F|(x)
        std::vector<float> minus = ld_g;
        for (float& v : minus) v = -v;
        EXPECT_TRUE(close("GPU round trip logdet vs -logdet", to_host(ldb, st), minus, rtol_out));
      }

      cuda::DeviceBuffer<float> gradf = to_device(grad0, st), gradi = to_device(grad0, st);
      cuda::DeviceBuffer<float> gx = poisoned(n, st), gy = poisoned(n, st);
      gpu.backward_forward(ws_f, gd.data(), null_gld ? nullptr : gldd.data(), gradf.data(), gx.data());
      gpu.backward_inverse(ws_i, gd.data(), null_gld ? nullptr : gldd.data(), gradi.data(), gy.data());
      EXPECT_TRUE(close("backward_forward gx", to_host(gx, st), flat(gx_c), rtol_grad, D));
      EXPECT_TRUE(close("backward_inverse gy", to_host(gy, st), flat(gy_c), rtol_grad, D));
      {
        SCOPED_TRACE("backward_forward parameter gradients (added to a random start)");
        expect_gradients_close(gpu, to_host(gradf, st), gradf_c);
      }
      {
        SCOPED_TRACE("backward_inverse parameter gradients (added to a random start)");
        expect_gradients_close(gpu, to_host(gradi, st), gradi_c);
      }

      // A repeated pass: the same bits (cuBLAS is deterministic on one stream), no reallocation;
      // and the forward pass in place (x == y).
      EXPECT_EQ(ws_f.allocations(), 1u);
      poison(y, st);
      poison(ld, st);
      gpu.forward(xd.data(), y.data(), ld.data(), rows, ws_f);
      EXPECT_EQ(ws_f.allocations(), 1u) << "a second pass of the same batch size reallocated";
      EXPECT_TRUE(to_host(y, st) == y_g) << "a repeated forward pass differs";
      cuda::DeviceBuffer<float> inplace = to_device(x, st);
      poison(ld, st);
      gpu.forward(inplace.data(), inplace.data(), ld.data(), rows, ws_f);
      EXPECT_TRUE(to_host(inplace, st) == y_g) << "the in-place forward pass differs";
      EXPECT_TRUE(to_host(ld, st) == ld_g) << "the in-place forward pass's logdet differs";
    }
}

TEST(Parity, AdamStepBitwise) {
  BOLTZMAP_GPU_OR_SKIP();
  const std::uint64_t seed = test::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed) + " (BOLTZMAP_TEST_SEED replays it)");
  const std::size_t n = 657904 + 13;  // the paper's parameter count, and not a multiple of a block
  std::vector<float> p = random_vector(n, 0.3, seed, 1);
  Adam cpu;
  for (int k = 0; k < 3; ++k) cpu.step(p, random_vector(n, 0.01 * (k + 1), seed, 10 + k), 1e-3);  // a history
  cuda::Stream stream;
  CudaAdam gpu(n, stream.get());
  gpu.load(cpu);
  EXPECT_EQ(gpu.steps, 3);
  cuda::DeviceBuffer<float> pd = to_device(p, stream.get());
  for (int k = 0; k < 3; ++k) {
    const std::vector<float> g = random_vector(n, 0.02, seed, 20 + k);
    const double lr = 1e-3 * (k + 1);
    cuda::DeviceBuffer<float> gd = to_device(g, stream.get());
    cpu.step(p, g, lr);
    gpu.step(pd.data(), gd.data(), lr);
    const std::vector<float> pg = to_host(pd, stream.get());
    std::vector<double> m(n, std::nan("")), v(n, std::nan(""));
    gpu.download_moments(m, v);
    std::size_t bad_p = 0, bad_m = 0, bad_v = 0, first = n;
    for (std::size_t i = 0; i < n; ++i) {
      const bool dp = std::memcmp(&pg[i], &p[i], sizeof(float)) != 0;
      const bool dm = std::memcmp(&m[i], &cpu.m[i], sizeof(double)) != 0;
      const bool dv = std::memcmp(&v[i], &cpu.v[i], sizeof(double)) != 0;
      bad_p += dp;
      bad_m += dm;
      bad_v += dv;
      if ((dp || dm || dv) && first == n) first = i;
    }
    EXPECT_EQ(bad_p + bad_m + bad_v, 0u)
        << "step " << gpu.steps << ": " << bad_p << " parameters, " << bad_m << " m, " << bad_v << " v differ; first at "
        << first << (first < n ? ": gpu θ " + std::to_string(pg[first]) + " cpu θ " + std::to_string(p[first]) : "");
    EXPECT_EQ(gpu.steps, cpu.steps);
  }
  Adam back;
  gpu.store(back);
  EXPECT_TRUE(back.m == cpu.m && back.v == cpu.v && back.steps == cpu.steps) << "store() differs";
}

TEST(CudaRealNvp, ParametersAndChecks) {
  BOLTZMAP_GPU_OR_SKIP();
  const std::uint64_t seed = test::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  FlowShape shape;
  RealNvp<float> cpu(shape, seed);
  CudaRealNvp gpu(cpu);
  EXPECT_EQ(gpu.parameter_count(), cpu.parameter_count());
  std::vector<float> out(cpu.parameter_count(), std::nanf(""));
  gpu.download_parameters(out);
  EXPECT_EQ(std::memcmp(out.data(), cpu.parameters().data(), out.size() * sizeof(float)), 0);
  const std::vector<float> p = random_vector(cpu.parameter_count(), 1.0, seed, 9);
  gpu.upload_parameters(p);
  std::fill(out.begin(), out.end(), std::nanf(""));
  gpu.download_parameters(out);
  EXPECT_TRUE(out == p);
  std::vector<float> wrong(cpu.parameter_count() + 1);
  EXPECT_THROW(gpu.upload_parameters(wrong), Error);
  EXPECT_THROW(gpu.download_parameters(wrong), Error);
  CudaRealNvp::Workspace ws;
  const int rows = 4;
  cuda::DeviceBuffer<float> x = to_device(random_vector(static_cast<std::size_t>(rows) * shape.dim, 1.0, seed, 10),
                                          gpu.stream());
  cuda::DeviceBuffer<float> ld(rows), g(x.size()), grad(cpu.parameter_count());
  EXPECT_THROW(gpu.backward_forward(ws, x.data(), nullptr, grad.data(), g.data()), Error) << "no forward pass yet";
  gpu.forward(x.data(), x.data(), ld.data(), rows, ws);
  EXPECT_THROW(gpu.backward_inverse(ws, x.data(), nullptr, grad.data(), g.data()), Error) << "a forward pass, not an inverse";
  gpu.synchronize();
}

#else

TEST(Parity, RealNvpPasses) { BOLTZMAP_GPU_OR_SKIP(); }  // a build without CUDA: skipped (or failed when required)

#endif

}  // namespace
}  // namespace boltzmap
