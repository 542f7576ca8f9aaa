// A training step's arithmetic on the GPU (issue 14), for the Trainer (flow/trainer.hpp) when the
// train stage runs on CUDA: the real-NVP's parameters and Adam's moments live on the device
// (CudaRealNvp, CudaAdam), the losses and their gradient are cuda_losses (flow/loss_cuda.hpp), the
// gradient is summed over the trainer ranks by NCCL on the device (NcclGradientReducer) or, where
// make_gradient_reducer chose MPI, through the host, and its finiteness is checked on the device.
// The batches come in raw — the configurations and their (centre, symmetry) draws, as gathered
// by the Trainer — and are preprocessed on the device (transforms/preprocessor_cuda.hpp: the CPU's
// own row functions, then the PCA as one SGEMM), so the host's share of a step is a gather and a
// copy (bench_flow's batch_preprocessing_seconds is what the host would otherwise spend). Per
// step the host waits once, for the two loss values and the finite flag, so that a non-finite
// step is refused before Adam moves anything — as on the CPU.
// The host's copies of the parameters and moments (Trainer::flow(), Trainer::adam) are brought up
// to date by download() (the Trainer calls it before validation, checkpoints and the model file)
// and pushed by upload() (after a restore).
// Built with CUDA only. Only the real-NVP has a CUDA twin (the equivariant flow runs on the CPU).
// Tests: tests/gpu/test_trainer_parity.cpp (a few epochs of CUDA steps against CPU steps).
#pragma once
#include <cstdint>
#include <memory>

#include "flow/adam.hpp"
#include "flow/flow.hpp"
#include "flow/loss.hpp"
#include "parallel/gradient_reducer.hpp"
#include "transforms/preprocessor.hpp"

namespace boltzmap {

// A batch as the Trainer gathers it (host memory): x [rows][N][D] and each row's draws.
struct RawBatch {
  const float* x = nullptr;
  const int* centre = nullptr;
  const int* element = nullptr;
  int rows = 0;
};

class CudaTrainSteps {
 public:
  // flow must be a RealNvp<float> (else Error(backend)); pre: the fitted preprocessing; the
  // energies are the trainer's clamped ones; reducer: the trainers' (null when training alone).
  // Copies the flow, adam and the preprocessing to the device.
  CudaTrainSteps(const Flow<float>& flow, const Adam& adam, const Preprocessor& pre, const LatentEnergy& energy_a,
                 const LatentEnergy& energy_b, const GradientReducer* reducer);
  ~CudaTrainSteps();
  CudaTrainSteps(const CudaTrainSteps&) = delete;
  CudaTrainSteps& operator=(const CudaTrainSteps&) = delete;

  // This rank's share of a step (a may have no rows): the losses (this share's part, not yet
  // summed over the ranks) and the whole batch's gradient (summed over the trainer ranks) on the
  // device; *finite: whether every gradient element is finite; *preprocessed: false when a row's
  // relabelling met a non-finite coordinate (the step is then not to be taken). Both flags come
  // with the loss values, in the step's one wait.
  LossValues losses_and_gradient(RawBatch a, RawBatch b, double lambda_dir, double lambda_inv, std::int64_t batch_rows,
                                 bool* finite, bool* preprocessed);
  // Adam's step on the device with the gradient of the last losses_and_gradient.
  void step(double lr);
  // The device's parameters and moments into the host's flow and adam (synchronises).
  void download(Flow<float>& flow, Adam& adam) const;
  // The host's into the device's (after Trainer::restore).
  void upload(const Flow<float>& flow, const Adam& adam);
  std::string description() const;  // for the log: the device, the products' math, the reducer

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace boltzmap
