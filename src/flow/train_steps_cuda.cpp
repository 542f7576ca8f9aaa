// See train_steps_cuda.hpp.
#include "flow/train_steps_cuda.hpp"

#include <fmt/format.h>

#include <climits>
#include <vector>

#include "cuda_check.cuh"
#include "flow/adam_cuda.hpp"
#include "flow/latent_energy_cuda.hpp"
#include "flow/loss_cuda.hpp"
#include "flow/realnvp.hpp"
#include "flow/realnvp_cuda.hpp"
#include "loss.cuh"
#include "transforms/preprocessor_cuda.hpp"
#ifdef BOLTZMAP_HAVE_NCCL
#include "parallel/gradient_reducer_nccl.hpp"
#endif

namespace boltzmap {

struct CudaTrainSteps::Impl {
  CudaRealNvp flow;
  CudaPreprocessor pre;
  CudaAdam adam;
  CudaLatentEnergy energy_a, energy_b;
  CudaLossWorkspace work;
  const GradientReducer* reducer;
  cuda::DeviceBuffer<float> grad;  // [parameters]
  cuda::DeviceBuffer<float> z_a, z_b;  // [capacity][width]
  cuda::DeviceBuffer<float> x_a, x_b;  // [capacity][N][D]
  cuda::DeviceBuffer<int> choices;     // [4][capacity]: centre_a, element_a, centre_b, element_b
  cuda::DeviceBuffer<int> finite{1};
  std::vector<float> host_grad;  // the gradient's trip through the host for an MPI reducer
  int capacity = 0;
  Impl(const RealNvp<float>& f, const Preprocessor& p, const LatentEnergy& ea, const LatentEnergy& eb,
       const GradientReducer* r)
      : flow(f), pre(p, flow.stream()), adam(f.parameter_count(), flow.stream()), energy_a(ea), energy_b(eb), reducer(r),
        grad(f.parameter_count()) {}
};

CudaTrainSteps::CudaTrainSteps(const Flow<float>& flow, const Adam& adam, const Preprocessor& pre,
                               const LatentEnergy& energy_a, const LatentEnergy& energy_b, const GradientReducer* reducer)
    : impl_(std::make_unique<Impl>(realnvp_for_cuda(flow, "the train stage's CUDA steps need"), pre, energy_a, energy_b, reducer)) {
  impl_->adam.load(adam);
}

CudaTrainSteps::~CudaTrainSteps() = default;

LossValues CudaTrainSteps::losses_and_gradient(RawBatch a, RawBatch b, double lambda_dir, double lambda_inv,
                                               std::int64_t batch_rows, bool* finite, bool* preprocessed) {
  Impl& s = *impl_;
  const int width = s.flow.width();
  const std::size_t row = static_cast<std::size_t>(s.pre.n_particles()) * s.pre.dim();
  cudaStream_t st = s.flow.stream();
  const int rows = std::max(a.rows, b.rows);
  if (rows > s.capacity) {
    const auto r = static_cast<std::size_t>(rows);
    s.z_a = cuda::DeviceBuffer<float>(r * width);
    s.z_b = cuda::DeviceBuffer<float>(r * width);
    s.x_a = cuda::DeviceBuffer<float>(r * row);
    s.x_b = cuda::DeviceBuffer<float>(r * row);
    s.choices = cuda::DeviceBuffer<int>(4 * r);
    s.capacity = rows;
  }
  // The raw batches to the device and preprocessed there. The host arrays (the Trainer's buffers)
  // stay alive until the synchronisation below.
  const auto upload = [&](RawBatch h, float* x, int* choices) {
    if (h.rows <= 0) return;
    const auto r = static_cast<std::size_t>(h.rows);
    CUDA_CHECK(cudaMemcpyAsync(x, h.x, sizeof(float) * r * row, cudaMemcpyHostToDevice, st));
    CUDA_CHECK(cudaMemcpyAsync(choices, h.centre, sizeof(int) * r, cudaMemcpyHostToDevice, st));
    CUDA_CHECK(cudaMemcpyAsync(choices + s.capacity, h.element, sizeof(int) * r, cudaMemcpyHostToDevice, st));
  };
  int* ch = s.choices.data();
  upload(a, s.x_a.data(), ch);
  upload(b, s.x_b.data(), ch + 2 * static_cast<std::size_t>(s.capacity));
  s.pre.forward(s.x_a.data(), ch, ch + s.capacity, a.rows, s.z_a.data());
  s.pre.forward(s.x_b.data(), ch + 2 * static_cast<std::size_t>(s.capacity), ch + 3 * static_cast<std::size_t>(s.capacity),
                b.rows, s.z_b.data());
  s.grad.fill_bytes(0, st);
  cuda_losses(s.flow, s.energy_a, s.energy_b, s.z_a.data(), a.rows, s.z_b.data(), b.rows, lambda_dir, lambda_inv,
              s.grad.data(), s.work, batch_rows);
  if (s.reducer) {
#ifdef BOLTZMAP_HAVE_NCCL
    if (const auto* nccl = dynamic_cast<const NcclGradientReducer*>(s.reducer)) {
      nccl->allreduce_sum_device(s.grad.data(), s.grad.size(), st);
    } else
#endif
    {
      s.host_grad.resize(s.grad.size());
      cuda::copy_to_host(std::span<float>(s.host_grad), s.grad, st);
      CUDA_CHECK(cudaStreamSynchronize(st));
      s.reducer->allreduce_sum(s.host_grad);
      cuda::copy_to_device(s.grad, std::span<const float>(s.host_grad), st);
    }
  }
  cuda::all_finite(s.grad.data(), s.grad.size(), s.finite.data(), st);
  int flag = 0, failed_row = INT_MAX;
  CUDA_CHECK(cudaMemcpyAsync(&flag, s.finite.data(), sizeof flag, cudaMemcpyDeviceToHost, st));
  s.pre.copy_error_async(&failed_row);
  const CudaLossValues v = cuda_loss_values(s.flow, s.work);  // synchronises the stream
  *finite = flag == 1;
  *preprocessed = failed_row == INT_MAX;
  if (!*preprocessed) s.pre.clear_error();
  return {v.dir, v.inv};
}

void CudaTrainSteps::step(double lr) { impl_->adam.step(impl_->flow.parameters_device(), impl_->grad.data(), lr); }

void CudaTrainSteps::download(Flow<float>& flow, Adam& adam) const {
  impl_->flow.download_parameters(std::span<float>(flow.parameters().data(), flow.parameters().size()));
  impl_->adam.store(adam);
}

void CudaTrainSteps::upload(const Flow<float>& flow, const Adam& adam) {
  impl_->flow.upload_parameters(std::span<const float>(flow.parameters().data(), flow.parameters().size()));
  impl_->adam.load(adam);
}

std::string CudaTrainSteps::description() const {
  return fmt::format("{}; gradients summed by {}", impl_->flow.description(),
                     impl_->reducer ? impl_->reducer->name() : std::string("no reducer (one trainer)"));
}

}  // namespace boltzmap
