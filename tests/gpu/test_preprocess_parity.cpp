// The preprocessing on the device (transforms/preprocessor_cuda.hpp, kernels/preprocess.cu) against
// the Preprocessor on the CPU, on fresh random configurations (seed printed; BOLTZMAP_TEST_SEED
// replays) with poisoned outputs, for 2D N = 32 (the paper's size, centered-square sites) and 3D
// N = 16 (bcc sites), with the training draws of centre and symmetry element:
//  * PreprocessKernels.CanonicalRowsAreTheCpuBits: layers 1–5 (centre, symmetry, drop, relabel,
//    wrap) bit for bit: the kernel's y equals the Preprocessor's `wrapped` output.
//  * CudaPreprocessor.ForwardMatchesTheCpu: z = W(y − μ) through cuBLAS against Eigen's float
//    product; per element |Δz_k| ≤ 2γ_m Σ_j |W_kj (y − μ)_j| with γ_m = m·u/(1 − m·u), u = 2⁻²⁴
//    (each side's product error is at most γ_m Σ|…|; y − μ is the same float on both).
//  * CudaPreprocessor.InverseAndDomainMatchTheCpu: on rows z perturbed so that a good share leaves
//    the canonical domain: the PCA inverse y = W⁻¹z + μ within 2γ_m Σ_j |W⁻¹_kj z_j| + 2 ulp(y_k),
//    the inverse's configurations within that (as minimum-image differences: the wrap may put a
//    coordinate at the other box edge), and the domain flags exactly in_domain_row's of the
//    device's own y (so the kernel is held to the CPU function bit for bit, and only the GEMM's
//    rounding separates the two ends).
//  * CudaPreprocessor.TorusSpaceIsTheCpus: the equivariant flow's latent space (no relabelling,
//    the identity PCA) bitwise, every row inside the domain.
//  * CudaPreprocessor.BoxScalingIsTheCpus: the box-scaling layer bitwise.
//  * CudaPreprocessor.NonFiniteInputIsAnError: a NaN coordinate makes check() throw.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/error.hpp"
#include "cuda_check.cuh"
#include "device_copies.hpp"
#include "gpu_test.hpp"
#include "preprocess.cuh"
#include "support/configs.hpp"
#include "transforms/preprocessor.hpp"
#include "transforms/preprocessor_cuda.hpp"

namespace boltzmap {
namespace {

struct Case {
  const char* name;
  int dim, n;
  double density;
};
const std::vector<Case> kCases = {{"2D LJ N=32", 2, 32, 0.735}, {"3D LJ N=16", 3, 16, 0.6}};

struct PreprocessCase {
  System a;
  double L_b = 0;
  std::unique_ptr<Preprocessor> pre;
  std::vector<float> x;  // [rows][N][D]
  std::vector<int> centre, element;
};

PreprocessCase make_setup(const Case& c, int rows, std::uint64_t seed, bool torus = false) {
  PreprocessCase s;
  const double L = box_length(c.n, c.density, c.dim);
  s.a = test::make_system(PotentialKind::lj, 1.0, std::min(2.5, L / 2), 0.8, c.dim, c.n, L);
  s.L_b = 1.07 * L;
  for (int r = 0; r < rows; ++r) {
    const auto x = test::jittered_lattice(s.a, r % 3 == 0 ? 0.45 : 0.15, seed, static_cast<std::uint32_t>(r));
    s.x.insert(s.x.end(), x.begin(), x.end());
  }
  PreprocessSettings settings;
  settings.reference_lattice = c.dim == 2 ? "centered-square" : "bcc";
  settings.torus = torus;
  s.pre = std::make_unique<Preprocessor>(settings, c.n, c.dim, L, s.L_b);
  const int fit_rows = std::min(rows, 400);
  const BatchView views[1] = {{s.x.data(), fit_rows, c.n, c.dim}};
  s.pre->fit(views, seed);
  s.centre.resize(rows);
  s.element.resize(rows);
  s.pre->training_choices(seed, 17, s.centre, s.element);
  return s;
}

using test::from_device;
using test::to_device;

// Latent rows perturbed as a flow's output might be: some stay in the domain, many leave it.
void perturb(std::vector<float>& z, int rows, int m, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  for (int r = 0; r < rows; ++r)
    for (int k = 0; k < m; ++k) z[static_cast<std::size_t>(r) * m + k] += (r % 4) * 0.4f * noise(rng);
}

float ulpf(float x) { return std::nextafter(std::abs(x), std::numeric_limits<float>::infinity()) - std::abs(x); }
double gamma_f(int m) { return m * 0x1p-24 / (1 - m * 0x1p-24); }

TEST(PreprocessKernels, CanonicalRowsAreTheCpuBits) {
  BOLTZMAP_GPU_OR_SKIP();
  const std::uint64_t seed = test::fresh_seed();
  for (const Case& c : kCases) {
    SCOPED_TRACE(std::string(c.name) + ", seed " + std::to_string(seed));
    const int rows = 1031;
    PreprocessCase s = make_setup(c, rows, seed);
    const int m = s.pre->latent_dim();
    std::vector<float> z(static_cast<std::size_t>(rows) * m), want(z.size());
    s.pre->forward(BatchView{s.x.data(), rows, c.n, c.dim}, s.centre, s.element, z.data(), want.data());
    const PreprocessRowParams host = s.pre->row_params(true);
    auto d_x = to_device(s.x);
    auto d_c = to_device(s.centre);
    auto d_g = to_device(s.element);
    auto d_sites = to_device(s.pre->relabel().site_coordinates());
    auto d_centres = to_device(s.pre->wrap_centres());
    PreprocessRowParams p = host;
    p.sites = d_sites.data();
    p.centres = d_centres.data();
    cuda::DeviceBuffer<float> d_y(want.size()), f(static_cast<std::size_t>(rows) * preprocess_row_floats(c.n, c.dim));
    cuda::DeviceBuffer<double> d(static_cast<std::size_t>(rows) * preprocess_row_doubles(c.n));
    cuda::DeviceBuffer<int> i(static_cast<std::size_t>(rows) * preprocess_row_ints(c.n));
    auto d_err = to_device(std::vector<int>{std::numeric_limits<int>::max()});
    d_y.fill_bytes(0xFF, nullptr);
    cuda::canonical_rows(p, d_x.data(), d_c.data(), d_g.data(), rows, d_y.data(), {f.data(), d.data(), i.data()},
                         d_err.data(), nullptr);
    const auto y = from_device(d_y);
    EXPECT_EQ(from_device(d_err)[0], std::numeric_limits<int>::max()) << "no row failed";
    int centred_elsewhere = 0;
    for (int r = 0; r < rows; ++r) centred_elsewhere += s.centre[r] != 0 && s.element[r] != 0;
    EXPECT_GT(centred_elsewhere, rows / 2) << "the training draws move the centre and apply symmetries";
    for (std::size_t k = 0; k < y.size(); ++k)
      ASSERT_EQ(y[k], want[k]) << "row " << k / m << ", coordinate " << k % m;
  }
}

TEST(CudaPreprocessor, ForwardMatchesTheCpu) {
  BOLTZMAP_GPU_OR_SKIP();
  const std::uint64_t seed = test::fresh_seed();
  for (const Case& c : kCases) {
    SCOPED_TRACE(std::string(c.name) + ", seed " + std::to_string(seed));
    const int rows = 2048;
    PreprocessCase s = make_setup(c, rows, seed);
    const int m = s.pre->latent_dim();
    const Eigen::MatrixXf& W = s.pre->pca().forward_matrix_f();
    const Eigen::VectorXf& mu = s.pre->pca().mean_f();
    cuda::Stream stream;
    CudaPreprocessor dev(*s.pre, stream.get());
    EXPECT_EQ(dev.latent_dim(), m);
    auto d_x = to_device(s.x);
    auto d_c = to_device(s.centre);
    auto d_g = to_device(s.element);
    for (int k : {rows, 37, 1}) {  // a smaller batch after a larger one reuses the scratch
      SCOPED_TRACE(std::to_string(k) + " rows");
      std::vector<float> z(static_cast<std::size_t>(k) * m), y(z.size());
      s.pre->forward(BatchView{s.x.data(), k, c.n, c.dim}, std::span<const int>(s.centre.data(), k),
                     std::span<const int>(s.element.data(), k), z.data(), y.data());
      cuda::DeviceBuffer<float> d_z(z.size());
      d_z.fill_bytes(0xFF, stream.get());
      dev.forward(d_x.data(), d_c.data(), d_g.data(), k, d_z.data());
      dev.check();
      const auto gz = from_device(d_z);
      const double g = gamma_f(m);
      for (int r = 0; r < k; ++r)
        for (int a = 0; a < m; ++a) {
          double sum = 0;
          for (int b = 0; b < m; ++b)
            sum += std::abs(static_cast<double>(W(a, b)) * (y[static_cast<std::size_t>(r) * m + b] - mu(b)));
          const std::size_t e = static_cast<std::size_t>(r) * m + a;
          ASSERT_LE(std::abs(static_cast<double>(gz[e]) - z[e]), 2 * g * sum) << "row " << r << ", z_" << a
                                                                               << ": device " << gz[e] << ", host " << z[e];
        }
    }
  }
}

TEST(CudaPreprocessor, InverseAndDomainMatchTheCpu) {
  BOLTZMAP_GPU_OR_SKIP();
  const std::uint64_t seed = test::fresh_seed();
  for (const Case& c : kCases) {
    SCOPED_TRACE(std::string(c.name) + ", seed " + std::to_string(seed));
    const int rows = 2048, n = c.n, D = c.dim;
    PreprocessCase s = make_setup(c, rows, seed);
    const int m = s.pre->latent_dim();
    const double L = s.pre->box_length();
    std::vector<float> z(static_cast<std::size_t>(rows) * m);
    std::vector<int> c0(rows), g0(rows);
    Preprocessor::evaluation_choices(c0, g0);
    s.pre->forward(BatchView{s.x.data(), rows, n, D}, c0, g0, z.data());
    perturb(z, rows, m, seed);
    std::vector<float> want_x(s.x.size());
    std::vector<std::uint8_t> want_in(rows);
    s.pre->inverse(z.data(), BatchView{want_x.data(), rows, n, D});
    s.pre->in_domain(z.data(), rows, want_in);
    std::vector<float> want_y(z.size());
    s.pre->pca().inverse(z.data(), BatchView{want_y.data(), rows, 1, m});

    cuda::Stream stream;
    CudaPreprocessor dev(*s.pre, stream.get());
    auto d_z = to_device(z);
    cuda::DeviceBuffer<float> d_y(z.size()), d_x(s.x.size());
    cuda::DeviceBuffer<std::uint8_t> d_in(rows);
    d_y.fill_bytes(0xFF, stream.get());
    d_x.fill_bytes(0xFF, stream.get());
    d_in.fill_bytes(0xFF, stream.get());
    dev.pca_inverse(d_z.data(), rows, d_y.data());
    dev.inverse(d_z.data(), rows, d_x.data());
    dev.in_domain(d_z.data(), rows, d_in.data());
    dev.check();
    const auto y = from_device(d_y);
    const auto x = from_device(d_x);
    const auto in = from_device(d_in);

    const Eigen::MatrixXf& Wi = s.pre->pca().inverse_matrix_f();
    const double g = gamma_f(m);
    std::vector<double> bound(z.size());
    for (int r = 0; r < rows; ++r)
      for (int a = 0; a < m; ++a) {
        double sum = 0;
        for (int b = 0; b < m; ++b) sum += std::abs(static_cast<double>(Wi(a, b)) * z[static_cast<std::size_t>(r) * m + b]);
        const std::size_t e = static_cast<std::size_t>(r) * m + a;
        bound[e] = 2 * g * sum + 2 * ulpf(want_y[e]);
        ASSERT_LE(std::abs(static_cast<double>(y[e]) - want_y[e]), bound[e]) << "row " << r << ", y_" << a;
      }
    // The configurations: particle 0 at the centre exactly, the others within the bound of y's
    // coordinate (plus the wrap's rounding), as minimum-image differences.
    for (int r = 0; r < rows; ++r)
      for (int i = 0; i < n; ++i)
        for (int d = 0; d < D; ++d) {
          const std::size_t e = (static_cast<std::size_t>(r) * n + i) * D + d;
          if (i == 0) {
            ASSERT_EQ(x[e], want_x[e]) << "row " << r << ": the centre particle";
            continue;
          }
          const double diff = minimum_image(static_cast<double>(x[e]) - want_x[e], L, 1.0 / L);
          const std::size_t ye = static_cast<std::size_t>(r) * m + (i - 1) * D + d;
          ASSERT_LE(std::abs(diff), bound[ye] + 2 * ulpf(static_cast<float>(L))) << "row " << r << ", particle " << i;
        }
    // The flags: exactly in_domain_row's of the device's y; and against the CPU's (of its own y),
    // equal except where the two y differ (counted and printed, expected rare).
    std::vector<float> f(preprocess_row_floats(n, D));
    std::vector<double> dd(preprocess_row_doubles(n));
    std::vector<int> ii(preprocess_row_ints(n));
    const PreprocessRowScratch scratch = preprocess_row_scratch(f.data(), dd.data(), ii.data(), n, D);
    const PreprocessRowParams p = s.pre->row_params(true);
    int inside = 0, differs_from_cpu = 0;
    for (int r = 0; r < rows; ++r) {
      ASSERT_EQ(in[r], in_domain_row(p, y.data() + static_cast<std::size_t>(r) * m, scratch)) << "row " << r;
      inside += in[r];
      if (in[r] != want_in[r]) {
        ++differs_from_cpu;
        bool same_y = true;
        for (int k = 0; k < m; ++k) same_y &= y[static_cast<std::size_t>(r) * m + k] == want_y[static_cast<std::size_t>(r) * m + k];
        EXPECT_FALSE(same_y) << "row " << r << ": the same y, different flags";
      }
    }
    EXPECT_GT(inside, rows / 8) << "rows inside the domain are tested";
    EXPECT_LT(inside, rows * 7 / 8) << "rows outside the domain are tested";
    std::printf("[ info ] %s: %d of %d rows inside; %d flags differ from the CPU's (different y by the GEMM's rounding)\n",
                c.name, inside, rows, differs_from_cpu);
  }
}

// Runs without a GPU (in CI): the inputs of the two tests above are what they need — the training
// draws move the centre and apply symmetries in most rows, and the perturbed latent rows fall
// inside the canonical domain in between 1/8 and 7/8 of the rows (on the CPU).
TEST(PreprocessParitySetup, HostSideIsSound) {
  const std::uint64_t seed = test::fresh_seed();
  for (const Case& c : kCases) {
    SCOPED_TRACE(std::string(c.name) + ", seed " + std::to_string(seed));
    const int rows = 2048, m = (c.n - 1) * c.dim;
    PreprocessCase s = make_setup(c, rows, seed);
    int centred_elsewhere = 0;
    for (int r = 0; r < rows; ++r) centred_elsewhere += s.centre[r] != 0 && s.element[r] != 0;
    EXPECT_GT(centred_elsewhere, rows / 2);
    std::vector<float> z(static_cast<std::size_t>(rows) * m);
    std::vector<int> c0(rows), g0(rows);
    Preprocessor::evaluation_choices(c0, g0);
    s.pre->forward(BatchView{s.x.data(), rows, c.n, c.dim}, c0, g0, z.data());
    perturb(z, rows, m, seed);
    std::vector<std::uint8_t> in(rows);
    s.pre->in_domain(z.data(), rows, in);
    int inside = 0;
    for (auto f : in) inside += f;
    EXPECT_GT(inside, rows / 8);
    EXPECT_LT(inside, rows * 7 / 8);
    std::printf("[ info ] %s on the CPU: %d of %d perturbed rows inside the domain\n", c.name, inside, rows);
  }
}

// The equivariant flow's torus space (no relabelling, identity PCA about L/2): forward bit for bit
// but for the product (an identity matrix: exact in any order), the inverse likewise, every row
// inside the domain.
TEST(CudaPreprocessor, TorusSpaceIsTheCpus) {
  BOLTZMAP_GPU_OR_SKIP();
  const std::uint64_t seed = test::fresh_seed();
  for (const Case& c : kCases) {
    SCOPED_TRACE(std::string(c.name) + ", seed " + std::to_string(seed));
    const int rows = 700;
    PreprocessCase s = make_setup(c, rows, seed, true);
    const int m = s.pre->latent_dim();
    std::vector<float> z(static_cast<std::size_t>(rows) * m), x(s.x.size());
    s.pre->forward(BatchView{s.x.data(), rows, c.n, c.dim}, s.centre, s.element, z.data());
    s.pre->inverse(z.data(), BatchView{x.data(), rows, c.n, c.dim});
    cuda::Stream stream;
    CudaPreprocessor dev(*s.pre, stream.get());
    auto d_x = to_device(s.x);
    auto d_c = to_device(s.centre);
    auto d_g = to_device(s.element);
    cuda::DeviceBuffer<float> d_z(z.size()), d_back(x.size());
    cuda::DeviceBuffer<std::uint8_t> d_in(rows);
    d_z.fill_bytes(0xFF, stream.get());
    d_back.fill_bytes(0xFF, stream.get());
    d_in.fill_bytes(0, stream.get());
    dev.forward(d_x.data(), d_c.data(), d_g.data(), rows, d_z.data());
    dev.inverse(d_z.data(), rows, d_back.data());
    dev.in_domain(d_z.data(), rows, d_in.data());
    dev.check();
    EXPECT_EQ(from_device(d_z), z);
    EXPECT_EQ(from_device(d_back), x);
    for (std::uint8_t f : from_device(d_in)) ASSERT_EQ(f, 1);
  }
}

TEST(CudaPreprocessor, BoxScalingIsTheCpus) {
  BOLTZMAP_GPU_OR_SKIP();
  const std::uint64_t seed = test::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  PreprocessCase s = make_setup(kCases[0], 512, seed);
  cuda::Stream stream;
  CudaPreprocessor dev(*s.pre, stream.get());
  for (char label : {'A', 'B'}) {
    std::vector<float> in = s.x, out = s.x;
    s.pre->into_preprocessing_box(label, in);
    s.pre->out_of_preprocessing_box(label, out);
    auto d_in = to_device(s.x);
    auto d_out = to_device(s.x);
    dev.into_preprocessing_box(label, d_in.data(), s.x.size());
    dev.out_of_preprocessing_box(label, d_out.data(), s.x.size());
    stream.synchronize();
    EXPECT_EQ(from_device(d_in), in) << "into, system " << label;
    EXPECT_EQ(from_device(d_out), out) << "out of, system " << label;
  }
}

TEST(CudaPreprocessor, NonFiniteInputIsAnError) {
  BOLTZMAP_GPU_OR_SKIP();
  PreprocessCase s = make_setup(kCases[0], 64, 5);
  s.x[10 * 32 * 2 + 7] = std::nanf("");  // row 10
  cuda::Stream stream;
  CudaPreprocessor dev(*s.pre, stream.get());
  auto d_x = to_device(s.x);
  cuda::DeviceBuffer<float> d_z(static_cast<std::size_t>(64) * s.pre->latent_dim());
  dev.forward(d_x.data(), nullptr, nullptr, 64, d_z.data());
  try {
    dev.check();
    FAIL() << "no error for a NaN coordinate";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::numerical);
    EXPECT_NE(std::string(e.what()).find("configuration 10"), std::string::npos) << e.what();
  }
  dev.check();  // cleared
}

}  // namespace
}  // namespace boltzmap
