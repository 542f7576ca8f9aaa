// The per-stage backend choice (src/core/backend.hpp) with made-up accelerators, so that every
// case runs on any machine: "auto" picks the CPU for a stage without a CUDA implementation even
// with a GPU present, and says why; "cuda" is refused with exit 6 naming the stage (or, for `run`,
// every stage); "cpu" is the CPU. The sample, train (real-NVP) and analyze stages have a CUDA implementation: "auto" takes the GPU
// when one is visible and says so, runs on the CPU otherwise (saying why), and "cuda" is refused
// (exit 6) only where no GPU is usable. Through the executable: tests/app/stages.sh.
#include <gtest/gtest.h>

#include <string>

#include "core/backend.hpp"
#include "core/error.hpp"

namespace boltzmap {
namespace {

// The stages without a CUDA implementation in this version.
const PipelineStage kStages[] = {PipelineStage::preprocess};

Accelerators with_gpu() { return {true, {"Test GPU (sm_90, 80 GiB)"}}; }
Accelerators without_cuda() { return {false, {}}; }
Accelerators cuda_without_gpu() { return {true, {}}; }

// The message of the Error(backend) that f throws ("" and a failure when none).
template <class F> std::string backend_error(F f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::backend) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error thrown";
  return "";
}

TEST(Backend, SampleTrainMapAndAnalyzeHaveACudaImplementation) {
  EXPECT_TRUE(has_cuda_implementation(PipelineStage::sample));
  EXPECT_TRUE(has_cuda_implementation(PipelineStage::train));
  EXPECT_TRUE(has_cuda_implementation(PipelineStage::map));
  EXPECT_TRUE(has_cuda_implementation(PipelineStage::analyze));
  for (PipelineStage s : kStages) EXPECT_FALSE(has_cuda_implementation(s)) << stage_name(s);
}

TEST(Backend, SampleTakesTheGpuWhenOneIsUsable) {
  const Backend a = resolve_backend("auto", PipelineStage::sample, with_gpu(), "in.toml");
  EXPECT_EQ(a.kind, BackendKind::cuda);
  EXPECT_EQ(a.device, "cuda:0 Test GPU (sm_90, 80 GiB)");
  EXPECT_EQ(a.reason, "backend auto: the sample stage runs on CUDA (cuda:0 Test GPU (sm_90, 80 GiB))");
  const Backend c = resolve_backend("cuda", PipelineStage::sample, with_gpu(), "in.toml");
  EXPECT_EQ(c.kind, BackendKind::cuda);
  EXPECT_EQ(c.reason, "backend cuda: the sample stage runs on cuda:0 Test GPU (sm_90, 80 GiB)");
  // No usable GPU: auto runs on the CPU saying why; cuda is refused (exit 6) saying why.
  const Backend n = resolve_backend("auto", PipelineStage::sample, cuda_without_gpu(), "in.toml");
  EXPECT_EQ(n.kind, BackendKind::cpu);
  EXPECT_EQ(n.reason, "backend auto: the sample stage runs on the CPU (CUDA compiled in, no GPU visible)");
  EXPECT_EQ(resolve_backend("auto", PipelineStage::sample, without_cuda(), "in.toml").reason,
            "backend auto: the sample stage runs on the CPU (built without CUDA)");
  EXPECT_EQ(backend_error([] { resolve_backend("cuda", PipelineStage::sample, cuda_without_gpu(), "in.toml"); }),
            "in.toml: backend = \"cuda\" for the sample stage, but no CUDA device is visible; use backend = \"cpu\" or \"auto\"");
  EXPECT_NE(backend_error([] { resolve_backend("cuda", PipelineStage::sample, without_cuda(), "in.toml"); })
                .find("this binary was built without CUDA"),
            std::string::npos);
  EXPECT_EQ(resolve_backend("cpu", PipelineStage::sample, with_gpu(), "in.toml").kind, BackendKind::cpu);
}

// Rank → GPU: node-local rank mod the visible devices; the stage's device names this rank's GPU.
TEST(Backend, EachRankTakesItsNodeLocalRanksGpu) {
  EXPECT_EQ(device_for_local_rank(0, 4), 0);
  EXPECT_EQ(device_for_local_rank(3, 4), 3);
  EXPECT_EQ(device_for_local_rank(5, 4), 1);  // more ranks than GPUs: round-robin
  EXPECT_EQ(device_for_local_rank(7, 1), 0);  // SLURM --gpus-per-task: each rank sees one
  EXPECT_THROW(device_for_local_rank(0, 0), Error);
  EXPECT_THROW(device_for_local_rank(-1, 2), Error);
  Accelerators two{true, {"GPU zero", "GPU one"}};
  two.device = 1;
  const Backend b = resolve_backend("auto", PipelineStage::sample, two, "in.toml");
  EXPECT_EQ(b.device, "cuda:1 GPU one");
  EXPECT_EQ(b.reason, "backend auto: the sample stage runs on CUDA (cuda:1 GPU one)");
  // Without a usable GPU assign_device changes nothing (and makes no CUDA call).
  Accelerators none = cuda_without_gpu();
  assign_device(none, 3);
  EXPECT_EQ(none.device, 0);
}

TEST(Backend, AutoRunsEachStageOnTheCpuAndSaysWhy) {
  for (const Accelerators& acc : {with_gpu(), without_cuda()})
    for (PipelineStage s : kStages) {
      const Backend b = resolve_backend("auto", s, acc, "in.toml");
      EXPECT_EQ(b.kind, BackendKind::cpu) << stage_name(s);
      EXPECT_EQ(b.device, "cpu");
      EXPECT_NE(b.reason.find(std::string("the ") + stage_name(s) + " stage runs on the CPU"), std::string::npos) << b.reason;
      EXPECT_NE(b.reason.find("no CUDA implementation"), std::string::npos) << b.reason;
    }
  EXPECT_NE(resolve_backend("auto", PipelineStage::preprocess, without_cuda(), "in.toml").reason.find("built without CUDA"),
            std::string::npos);
}

TEST(Backend, CudaIsRefusedNamingTheStageEvenWithAGpu) {
  for (const Accelerators& acc : {with_gpu(), without_cuda()})
    for (PipelineStage s : kStages) {
      const std::string what = backend_error([&] { resolve_backend("cuda", s, acc, "inputs/x.toml"); });
      EXPECT_EQ(what, std::string("inputs/x.toml: backend = \"cuda\", but the ") + stage_name(s) +
                          " stage has no CUDA implementation in this version; use backend = \"cpu\" or \"auto\"");
    }
}

TEST(Backend, CpuIsTheCpu) {
  const Backend b = resolve_backend("cpu", PipelineStage::train, with_gpu(), "in.toml");
  EXPECT_EQ(b.kind, BackendKind::cpu);
  EXPECT_EQ(b.reason, "backend cpu: the train stage runs on the CPU");
}

TEST(Backend, RunNamesEveryStageWithoutCuda) {
  // run's four stages all have one: with a GPU every one runs on it; without, the first is refused.
  const auto run = resolve_backends(
      "cuda", {PipelineStage::sample, PipelineStage::train, PipelineStage::map, PipelineStage::analyze}, with_gpu(), "in.toml");
  ASSERT_EQ(run.size(), 4u);
  for (const Backend& b : run) EXPECT_EQ(b.kind, BackendKind::cuda) << b.reason;
  EXPECT_EQ(backend_error([] {
              resolve_backends("cuda", {PipelineStage::sample, PipelineStage::map}, cuda_without_gpu(), "in.toml");
            }),
            "in.toml: backend = \"cuda\" for the sample stage, but no CUDA device is visible; use backend = \"cpu\" or \"auto\"");
  // A stage without one is named before any question of a GPU (here: none).
  EXPECT_EQ(backend_error([] {
              resolve_backends("cuda", {PipelineStage::sample, PipelineStage::preprocess, PipelineStage::map}, without_cuda(),
                               "in.toml");
            }),
            "in.toml: backend = \"cuda\", but the preprocess stage has no CUDA implementation in this version; use backend = "
            "\"cpu\" or \"auto\"");
  const auto all = resolve_backends("auto", {PipelineStage::sample, PipelineStage::analyze}, with_gpu(), "in.toml");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].reason, "backend auto: the analyze stage runs on CUDA (cuda:0 Test GPU (sm_90, 80 GiB))");
  const Backend n = resolve_backend("auto", PipelineStage::analyze, cuda_without_gpu(), "in.toml");
  EXPECT_EQ(n.kind, BackendKind::cpu);
  EXPECT_EQ(n.reason, "backend auto: the analyze stage runs on the CPU (CUDA compiled in, no GPU visible)");
  EXPECT_EQ(backend_error([] { resolve_backend("cuda", PipelineStage::analyze, cuda_without_gpu(), "in.toml"); }),
            "in.toml: backend = \"cuda\" for the analyze stage, but no CUDA device is visible; use backend = \"cpu\" or \"auto\"");
}

}  // namespace
}  // namespace boltzmap
