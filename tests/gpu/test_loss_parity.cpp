// The training losses on the device (cuda_losses, src/flow/loss_cuda.hpp: CudaRealNvp +
// CudaLatentEnergy + kernels/loss.cu) against losses<float> on the CPU (RealNvp<float> +
// LatentEnergy), on fresh random inputs (seed printed; BOLTZMAP_TEST_SEED replays) with poisoned
// outputs: the paper's network (8 blocks, hidden 128·3) on the latent rows of 2D N = 32 (D = 62,
// the real-NVP's PCA space), all parameters random, systems A (LJ ε = 1) and B (LJ ε = ½, β = 1.25),
// the clamp start at the median reduced energy so both regimes appear, batches of 2048 and 37
// rows, both λ and one λ = 0, whole batches and one share (batch_rows > 0).
// Tolerances, a priori (no GPU has run this yet): the flow's passes agree to rtol 2·10⁻⁴ (outputs)
// and 10⁻³ (gradients) in tests/gpu/test_realnvp_parity.cpp's measure |gpu − cpu| ≤ rtol·(|cpu| +
// rms(cpu)); the energies are double on both sides and add the mapped rows' float-level
// differences times |∂e/∂y| to e, which the means average, so the values are held to
// |ΔL| ≤ 10⁻³·(|L| + 1) and the gradient, element by element, to 10⁻³·(|g| + rms(g)) — the same
// rtol as the flow's own gradients. A wrong term, sign, scale or layout differs by 10⁻²–1.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/rng.hpp"
#include "cuda_check.cuh"
#include "flow/latent_energy_cuda.hpp"
#include "flow/loss.hpp"
#include "flow/loss_cuda.hpp"
#include "flow/realnvp.hpp"
#include "flow/realnvp_cuda.hpp"
#include "gpu_test.hpp"
#include "support/configs.hpp"
#include "transforms/preprocessor.hpp"

namespace boltzmap {
namespace {

using FMat = Flow<float>::Mat;

struct LossSetup {
  System a, b;
  std::unique_ptr<Preprocessor> pre;
  FMat za, zb;  // [rows][62]
};

LossSetup make_setup(int rows, std::uint64_t seed) {
  LossSetup s;
  const int N = 32, D = 2;
  const double L = box_length(N, 0.735, D);
  s.a = test::make_system(PotentialKind::lj, 1.0, 2.5, 0.8, D, N, L);
  s.b = test::make_system(PotentialKind::lj, 0.5, 2.5, 0.8, D, N, L, 1.25);
  std::vector<float> data[2];
  for (int k = 0; k < 2; ++k)
    for (int r = 0; r < rows; ++r) {
      const auto x = test::jittered_lattice(k == 0 ? s.a : s.b, r % 4 == 0 ? 0.35 : 0.15, seed + k,
                                            static_cast<std::uint32_t>(r));
      data[k].insert(data[k].end(), x.begin(), x.end());
    }
  s.pre = std::make_unique<Preprocessor>(PreprocessSettings{}, N, D, L);
  const BatchView views[2] = {{data[0].data(), rows, N, D}, {data[1].data(), rows, N, D}};
  s.pre->fit(views, 3);
  for (int k = 0; k < 2; ++k) {
    std::vector<int> c(rows), g(rows);
    s.pre->training_choices(seed, static_cast<std::uint64_t>(k) * rows, c, g);
    FMat& z = k == 0 ? s.za : s.zb;
    z.resize(rows, s.pre->latent_dim());
    s.pre->forward(views[k], c, g, z.data());
  }
  return s;
}

double rms(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += static_cast<double>(x) * x;
  return std::sqrt(s / std::max<std::size_t>(1, v.size()));
}

TEST(CudaLosses, MatchTheCpuLossesAndGradients) {
  BOLTZMAP_GPU_OR_SKIP();
  const std::uint64_t seed = test::fresh_seed();
  SCOPED_TRACE("seed " + std::to_string(seed) + " (BOLTZMAP_TEST_SEED replays it)");
  const int rows = 2048;
  const LossSetup s = make_setup(rows, seed);
  const int m = s.pre->latent_dim();
  FlowShape shape;
  shape.dim = m;
  RealNvp<float> flow(shape, seed);
  for (std::size_t i = 0; i < flow.parameter_count(); ++i) {
    const Random4 r = philox(seed, RngStream::Test, 5, i);
    flow.parameters()[i] += static_cast<float>(0.02 * (2 * uniform_double(r.v[0], r.v[1]) - 1));
  }
  // The clamp starts at the median reduced energy of each term's mapped batch.
  auto median_start = [&](const System& sys, const FMat& z, bool inverse, char label) {
    FMat y;
    Flow<float>::Vec ld;
    inverse ? flow.inverse(z, y, ld, nullptr) : flow.forward(z, y, ld, nullptr);
    Flow<double>::Vec e;
    LatentEnergy(*s.pre, sys, 1e300, label).evaluate(y.cast<double>(), e, nullptr);
    std::vector<double> v(e.data(), e.data() + e.size());
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
  };
  const LatentEnergy ea(*s.pre, s.a, median_start(s.a, s.zb, true, 'A'), 'A');
  const LatentEnergy eb(*s.pre, s.b, median_start(s.b, s.za, false, 'B'), 'B');
  const CudaRealNvp gflow(flow);
  const CudaLatentEnergy gea(ea), geb(eb);
  CudaLossWorkspace work;
  struct Case {
    int rows;
    double ldir, linv;
    std::int64_t batch_rows;
  };
  for (const Case& c : {Case{2048, 1.0, 1.0, 0}, Case{37, 0.7, 0.0, 0}, Case{37, 1.0, 0.3, 2048}}) {
    SCOPED_TRACE(std::to_string(c.rows) + " rows, λ_dir " + std::to_string(c.ldir) + ", λ_inv " +
                 std::to_string(c.linv) + ", batch_rows " + std::to_string(c.batch_rows));
    const FMat za = s.za.topRows(c.rows), zb = s.zb.topRows(c.rows);
    ParamVector<float> grad(flow.parameter_count(), 0.0f);
    const LossValues want = losses<float>(flow, ea, eb, za, zb, c.ldir, c.linv, &grad, nullptr, c.batch_rows);
    cuda::DeviceBuffer<float> d_za(za.size()), d_zb(zb.size()), d_grad(flow.parameter_count());
    cuda::copy_to_device(d_za, std::span<const float>(za.data(), za.size()), gflow.stream());
    cuda::copy_to_device(d_zb, std::span<const float>(zb.data(), zb.size()), gflow.stream());
    d_grad.fill_bytes(0, gflow.stream());
    work.values.fill_bytes(0xFF, gflow.stream());  // poisoned: cuda_losses must write both
    cuda_losses(gflow, gea, geb, d_za.data(), c.rows, d_zb.data(), c.rows, c.ldir, c.linv, d_grad.data(), work,
                c.batch_rows);
    const CudaLossValues got = cuda_loss_values(gflow, work);
    EXPECT_LE(std::abs(got.dir - want.dir), 1e-3 * (std::abs(want.dir) + 1)) << got.dir << " vs " << want.dir;
    EXPECT_LE(std::abs(got.inv - want.inv), 1e-3 * (std::abs(want.inv) + 1)) << got.inv << " vs " << want.inv;
    if (c.linv == 0.0) EXPECT_EQ(got.inv, 0.0) << "a skipped term is 0";
    std::vector<float> g(flow.parameter_count());
    cuda::copy_to_host(std::span<float>(g), d_grad, gflow.stream());
    gflow.synchronize();
    const std::vector<float> gc(grad.begin(), grad.end());
    const double scale = rms(gc);
    ASSERT_GT(scale, 0.0) << "the CPU gradient is zero: the test would be vacuous";
    std::size_t worst = 0;
    double worst_ratio = 0;
    for (std::size_t i = 0; i < g.size(); ++i) {
      const double ratio = std::abs(g[i] - gc[i]) / (std::abs(gc[i]) + scale);
      if (!(ratio <= worst_ratio)) {
        worst_ratio = std::isnan(ratio) ? 1e300 : ratio;
        worst = i;
      }
    }
    EXPECT_LE(worst_ratio, 1e-3) << "worst parameter " << worst << ": device " << g[worst] << ", host " << gc[worst]
                                 << " (rms " << scale << ")";
  }
}

}  // namespace
}  // namespace boltzmap
