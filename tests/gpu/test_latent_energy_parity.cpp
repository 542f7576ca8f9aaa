// The losses' energies on the device (flow/latent_energy_cuda.hpp, kernels/latent_energy.cu)
// against LatentEnergy on the CPU, on fresh random rows (seed printed; BOLTZMAP_TEST_SEED replays)
// with poisoned outputs, for 2D N = 32 (the paper's size) and 3D N = 16, the real-NVP's PCA
// latent space (a full W⁻¹) and system B's box scaling, with the clamp start at the rows' median so
// that half the rows are in the clamp's log regime:
//  * LatentEnergyKernel.RowsAreTheHostFunctionsBits: given the same y, the kernel's e and ∂e/∂y are
//    latent_row_energy's on the host: ∂e/∂y bitwise (the clamp's slope is a division), e bitwise in
//    the clamp's linear regime and within 2 ulp in the log regime (CUDA's log1p and glibc's are
//    each within 1 ulp).
//  * CudaLatentEnergy.MatchesTheCpuReference: end to end (cuBLAS DGEMMs for W⁻¹z and W⁻ᵀ∂e/∂y,
//    summed in another order than Eigen's). Tolerances, first order in the GEMM rounding:
//    |δy_k| ≤ γ_m Σ_j |W⁻¹_kj z_j| (γ_m = m·ε/(1 − m·ε), ε = 2⁻⁵³), so
//    |Δe| ≤ Σ_k |∂e/∂y_k|·|δy_k|·2 + 4 ulp(e); for ∂e/∂z the GEMM's own γ_m Σ_j |W⁻¹_jk||∂e/∂y_j| plus
//    the Hessian's response to δy, bounded here by 10⁻⁸·max_k|∂e/∂z_k| (the pair Hessian near the
//    linear core is ≲ 10³ per unit length², δy ≲ 10⁻¹³: ≲ 10⁻¹⁰ relative; two orders kept).
//  * Batches of 1, 37 and 2048 rows, and a second call at a smaller batch (buffers reused).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "cuda_check.cuh"
#include "device_copies.hpp"
#include "flow/latent_energy_cuda.hpp"
#include "flow/loss.hpp"
#include "gpu_test.hpp"
#include "latent_energy.cuh"
#include "support/configs.hpp"
#include "transforms/preprocessor.hpp"

namespace boltzmap {
namespace {

using RowMat = Flow<double>::Mat;

struct Case {
  const char* name;
  int dim, n;
  double density;
};

struct LatentSetup {
  System a, b;
  std::unique_ptr<Preprocessor> pre;
  RowMat z;  // [rows][m]
};

// Jittered lattices (some strongly jittered, for overlaps) → fitted preprocessing (PCA) → latent rows.
LatentSetup make_setup(const Case& c, int rows, std::uint64_t seed) {
  LatentSetup s;
  const double L = box_length(c.n, c.density, c.dim);
  s.a = test::make_system(PotentialKind::lj, 1.0, std::min(2.5, L / 2), 0.8, c.dim, c.n, L);
  s.b = test::make_system(PotentialKind::lj, 0.5, std::min(2.5, L / 2), 0.8, c.dim, c.n, L, 1.25);
  const int fit_rows = 300;
  std::vector<float> data;
  for (int r = 0; r < std::max(rows, fit_rows); ++r) {
    const auto x = test::jittered_lattice(s.a, r % 3 == 0 ? 0.45 : 0.15, seed, static_cast<std::uint32_t>(r));
    data.insert(data.end(), x.begin(), x.end());
  }
  PreprocessSettings settings;
  settings.reference_lattice = c.dim == 2 ? "centered-square" : "bcc";  // the relabelling sites of each dimension
  s.pre = std::make_unique<Preprocessor>(settings, c.n, c.dim, L);
  const BatchView views[2] = {{data.data(), fit_rows, c.n, c.dim}, {data.data(), fit_rows, c.n, c.dim}};
  s.pre->fit(views, 3);
  std::vector<int> choice(rows), group(rows);
  Preprocessor::evaluation_choices(choice, group);
  std::vector<float> z(static_cast<std::size_t>(rows) * s.pre->latent_dim());
  s.pre->forward(BatchView{data.data(), rows, c.n, c.dim}, choice, group, z.data());
  s.z = Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(z.data(), rows,
                                                                                         s.pre->latent_dim())
            .cast<double>();
  return s;
}

double median(Flow<double>::Vec v) {
  std::vector<double> x(v.data(), v.data() + v.size());
  std::nth_element(x.begin(), x.begin() + x.size() / 2, x.end());
  return x[x.size() / 2];
}

double ulp(double x) { return std::nextafter(std::abs(x), std::numeric_limits<double>::infinity()) - std::abs(x); }

using test::from_device;
template <class T>
cuda::DeviceBuffer<T> to_device(const T* p, std::size_t n) {
  return test::to_device(std::span<const T>(p, n));
}

const std::vector<Case> kCases = {{"2D LJ N=32", 2, 32, 0.735}, {"3D LJ N=16", 3, 16, 0.6}};

TEST(LatentEnergyKernel, RowsAreTheHostFunctionsBits) {
  BOLTZMAP_GPU_OR_SKIP();
  const std::uint64_t seed = test::fresh_seed();
  for (const Case& c : kCases) {
    SCOPED_TRACE(std::string(c.name) + ", seed " + std::to_string(seed));
    const int rows = 257;
    LatentSetup s = make_setup(c, rows, seed);
    const int m = s.pre->latent_dim(), nd = c.n * c.dim;
    for (char label : {'A', 'B'}) {
      const System& sys = label == 'A' ? s.a : s.b;
      Flow<double>::Vec e0;
      LatentEnergy(*s.pre, sys, 1e300, label).evaluate(s.z, e0, nullptr);
      const LatentEnergy host(*s.pre, sys, median(e0), label);
      // y = W⁻¹z on the host (μ is added by the kernel, as by the CPU row).
      const RowMat y = (host.inverse_pca() * s.z.transpose()).transpose();
      auto d_y = to_device(y.data(), static_cast<std::size_t>(y.size()));
      auto d_mu = to_device(host.pca_mean().data(), static_cast<std::size_t>(m));
      cuda::DeviceBuffer<double> d_scratch(static_cast<std::size_t>(rows) * 2 * nd), d_e(rows),
          d_gy(static_cast<std::size_t>(rows) * m);
      d_e.fill_bytes(0xFF, nullptr);
      d_gy.fill_bytes(0xFF, nullptr);
      cuda::latent_row_energies(host.row_params(), d_y.data(), d_mu.data(), rows, d_scratch.data(), d_e.data(),
                                d_gy.data(), nullptr);
      const auto e = from_device(d_e);
      const auto gy = from_device(d_gy);
      std::vector<double> yr(m), x(nd), f(nd), g(m);
      int log_regime = 0;
      for (int r = 0; r < rows; ++r) {
        for (int k = 0; k < m; ++k) yr[k] = y(r, k) + host.pca_mean()(k);
        const double want = latent_row_energy(host.row_params(), yr.data(), x.data(), f.data(), g.data());
        const bool linear = sys.beta * total_energy_of(sys, x.data()) < host.row_params().clamp_start;
        log_regime += !linear;
        const double tol_ulps = linear ? 0 : 2;
        ASSERT_LE(std::abs(e[r] - want), tol_ulps * ulp(want)) << "system " << label << ", row " << r << ": device "
                                                                << e[r] << ", host " << want;
        for (int k = 0; k < m; ++k)
          ASSERT_EQ(gy[static_cast<std::size_t>(r) * m + k], g[k])
              << "system " << label << ", row " << r << ", ∂e/∂y_" << k;
      }
      EXPECT_GT(log_regime, rows / 4) << "the clamp's log regime is exercised";
    }
  }
}

TEST(CudaLatentEnergy, MatchesTheCpuReference) {
  BOLTZMAP_GPU_OR_SKIP();
  const std::uint64_t seed = test::fresh_seed();
  for (const Case& c : kCases) {
    SCOPED_TRACE(std::string(c.name) + ", seed " + std::to_string(seed));
    LatentSetup s = make_setup(c, 2048, seed);
    const int m = s.pre->latent_dim();
    const double gamma = m * 0x1p-53 / (1 - m * 0x1p-53);
    for (char label : {'A', 'B'}) {
      const System& sys = label == 'A' ? s.a : s.b;
      Flow<double>::Vec e0;
      LatentEnergy(*s.pre, sys, 1e300, label).evaluate(s.z, e0, nullptr);
      const LatentEnergy host(*s.pre, sys, median(e0), label);
      const CudaLatentEnergy dev(host);
      EXPECT_EQ(dev.latent_dim(), m);
      EXPECT_EQ(dev.box_log_det(), host.box_log_det());
      const Eigen::MatrixXd& w = host.inverse_pca();
      for (int rows : {2048, 37, 1}) {
        SCOPED_TRACE("system " + std::string(1, label) + ", " + std::to_string(rows) + " rows");
        const RowMat z = s.z.topRows(rows);
        Flow<double>::Vec e;
        RowMat gz;
        host.evaluate(z, e, &gz);
        auto d_z = to_device(z.data(), static_cast<std::size_t>(z.size()));
        cuda::DeviceBuffer<double> d_e(rows), d_gz(static_cast<std::size_t>(rows) * m);
        d_e.fill_bytes(0xFF, nullptr);
        d_gz.fill_bytes(0xFF, nullptr);
        dev.evaluate(d_z.data(), rows, d_e.data(), d_gz.data(), nullptr);
        const auto ge = from_device(d_e);
        const auto ggz = from_device(d_gz);
        // The first-order bounds of the header comment, per row.
        const RowMat abs_wz = (w.cwiseAbs() * z.cwiseAbs().transpose()).transpose();  // Σ_j |W⁻¹_kj z_j|
        for (int r = 0; r < rows; ++r) {
          // ∂e/∂y = W⁻ᵀ-preimage of ∂e/∂z: recover it on the host as the CPU row computes it.
          std::vector<double> yr(m), x(c.n * c.dim), f(c.n * c.dim), gy(m);
          const Eigen::VectorXd yv = w * z.row(r).transpose() + host.pca_mean();
          for (int k = 0; k < m; ++k) yr[k] = yv(k);
          latent_row_energy(host.row_params(), yr.data(), x.data(), f.data(), gy.data());
          double bound_e = 4 * ulp(e(r));
          for (int k = 0; k < m; ++k) bound_e += 2 * std::abs(gy[k]) * gamma * abs_wz(r, k);
          ASSERT_LE(std::abs(ge[r] - e(r)), bound_e) << "row " << r << ": device " << ge[r] << ", host " << e(r);
          const double scale = gz.row(r).cwiseAbs().maxCoeff();
          for (int k = 0; k < m; ++k) {
            double gemm = 0;
            for (int j = 0; j < m; ++j) gemm += std::abs(w(j, k)) * std::abs(gy[j]);
            const double bound = gamma * gemm + 1e-8 * scale + 1e-300;
            ASSERT_LE(std::abs(ggz[static_cast<std::size_t>(r) * m + k] - gz(r, k)), bound)
                << "row " << r << ", ∂e/∂z_" << k << ": device " << ggz[static_cast<std::size_t>(r) * m + k]
                << ", host " << gz(r, k);
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace boltzmap
