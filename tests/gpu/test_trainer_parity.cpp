// The train stage's CUDA steps (Trainer::use_cuda_steps, flow/train_steps_cuda.hpp) against the CPU
// steps, on the tiny training world of tests/support/training_world.hpp (N = 8, 2D, a 4-block
// real-NVP): the same trainer inputs, two phases (λ_inv = 0, then 1 with the source pool), four
// epochs, then
//  * the parameters agree with the CPU trainer's to 10⁻³·(|θ| + rms θ) element by element: each
//    step's gradient agrees to 10⁻³ of its scale (tests/gpu/test_loss_parity.cpp) and Adam divides
//    by √v̂, so a step moves θ by ≈ lr with the gradient's sign — steps of the same sign agree to
//    well below lr; where a gradient element is ≈ 0 the signs may differ, which is why rtol is on
//    (|θ| + rms θ) and not on |Δθ| alone;
//  * the epochs' training and validation losses agree to 10⁻³ relative;
//  * the host's flow() after an epoch is the device's (download), and a restore() then continues
//    as the uninterrupted CUDA trainer does, to the same tolerance (upload).
// Skipped without a GPU; a failure under BOLTZMAP_REQUIRE_GPU=1 then.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "flow/trainer.hpp"
#include "gpu_test.hpp"
#include "support/training_world.hpp"

namespace boltzmap {
namespace {

double rms(const ParamVector<float>& v) {
  double s = 0;
  for (float x : v) s += static_cast<double>(x) * x;
  return std::sqrt(s / std::max<std::size_t>(1, v.size()));
}

void expect_close_parameters(const Flow<float>& gpu, const Flow<float>& cpu, const char* what) {
  const auto& g = gpu.parameters();
  const auto& c = cpu.parameters();
  ASSERT_EQ(g.size(), c.size());
  const double scale = rms(c);
  std::size_t worst = 0;
  double worst_ratio = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    const double r = std::abs(static_cast<double>(g[i]) - c[i]) / (std::abs(c[i]) + scale);
    if (!(r <= worst_ratio)) {
      worst_ratio = std::isnan(r) ? 1e300 : r;
      worst = i;
    }
  }
  EXPECT_LE(worst_ratio, 1e-3) << what << ": worst parameter " << worst << ": device " << g[worst] << ", host "
                               << c[worst] << " (rms " << scale << ")";
}

TEST(CudaTrainer, StepsFollowTheCpuTrainer) {
  BOLTZMAP_GPU_OR_SKIP();
  const auto w = test::make_world(test::kTwoPhases);
  Trainer cpu(w->e, *w->pre, w->data);
  Trainer gpu(w->e, *w->pre, w->data);
  const std::string what = gpu.use_cuda_steps();
  EXPECT_NE(what.find("cuBLAS"), std::string::npos) << what;
  EXPECT_TRUE(gpu.cuda_steps());
  TrainingState after_two;
  for (int epoch = 0; !cpu.done(); ++epoch) {
    SCOPED_TRACE("epoch " + std::to_string(epoch + 1));
    const EpochMetrics mc = cpu.train_epoch();
    const EpochMetrics mg = gpu.train_epoch();
    for (auto [name, a, b] : {std::tuple{"L_dir (training)", mg.loss_dir_train, mc.loss_dir_train},
                              std::tuple{"L_dir (validation)", mg.loss_dir_validation, mc.loss_dir_validation},
                              std::tuple{"L_inv (validation)", mg.loss_inv_validation, mc.loss_inv_validation}})
      EXPECT_LE(std::abs(a - b), 1e-3 * (std::abs(b) + 1)) << name << ": device " << a << ", host " << b;
    expect_close_parameters(gpu.flow(), cpu.flow(), "after the epoch");
    EXPECT_EQ(gpu.adam.steps, cpu.adam.steps);
    if (epoch == 1) after_two = gpu.state();
  }
  // A CUDA trainer restored from the state after two epochs ends where the uninterrupted one does.
  Trainer resumed(w->e, *w->pre, w->data);
  resumed.use_cuda_steps();
  resumed.restore(after_two);
  while (!resumed.done()) resumed.train_epoch();
  expect_close_parameters(resumed.flow(), gpu.flow(), "resumed on the device against uninterrupted");
}

TEST(CudaTrainer, TheEquivariantFlowHasNoCudaSteps) {
  BOLTZMAP_GPU_OR_SKIP();
  const auto w = test::make_world(test::kTwoPhases, "equivariant");
  Trainer t(w->e, *w->pre, w->data);
  try {
    t.use_cuda_steps();
    FAIL() << "use_cuda_steps accepted the equivariant flow";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::backend);
    EXPECT_NE(std::string(e.what()).find("flow.kind = \"equivariant\""), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace boltzmap
