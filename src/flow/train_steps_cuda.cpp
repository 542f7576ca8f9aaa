// See train_steps_cuda.hpp.
#include "flow/train_steps_cuda.hpp"

#include <fmt/format.h>

#include <vector>

#include "cuda_check.cuh"
#include "flow/adam_cuda.hpp"
#include "flow/latent_energy_cuda.hpp"
#include "flow/loss_cuda.hpp"
#include "flow/realnvp.hpp"
#include "flow/realnvp_cuda.hpp"
#include "loss.cuh"
#ifdef BOLTZMAP_HAVE_NCCL
#include "parallel/gradient_reducer_nccl.hpp"
#endif

namespace boltzmap {

namespace {

const RealNvp<float>& as_realnvp(const Flow<float>& flow) {
  const auto* r = dynamic_cast<const RealNvp<float>*>(&flow);
  if (!r)
    throw Error(ExitCode::backend, std::string("the train stage's CUDA steps need the real-NVP; flow.kind = \"") +
                                       flow.kind() + "\" has no CUDA implementation (use backend = \"cpu\" or \"auto\")");
  return *r;
}

}  // namespace

struct CudaTrainSteps::Impl {
  CudaRealNvp flow;
  CudaAdam adam;
  CudaLatentEnergy energy_a, energy_b;
  CudaLossWorkspace work;
  const GradientReducer* reducer;
  cuda::DeviceBuffer<float> grad;  // [parameters]
  cuda::DeviceBuffer<float> z_a, z_b;  // [capacity][width]
  cuda::DeviceBuffer<int> finite{1};
  std::vector<float> host_grad;  // the gradient's trip through the host for an MPI reducer
  int capacity = 0;
  Impl(const RealNvp<float>& f, const LatentEnergy& ea, const LatentEnergy& eb, const GradientReducer* r)
      : flow(f), adam(f.parameter_count(), flow.stream()), energy_a(ea), energy_b(eb), reducer(r),
        grad(f.parameter_count()) {}
};

CudaTrainSteps::CudaTrainSteps(const Flow<float>& flow, const Adam& adam, const LatentEnergy& energy_a,
                               const LatentEnergy& energy_b, const GradientReducer* reducer)
    : impl_(std::make_unique<Impl>(as_realnvp(flow), energy_a, energy_b, reducer)) {
  impl_->adam.load(adam);
}

CudaTrainSteps::~CudaTrainSteps() = default;

LossValues CudaTrainSteps::losses_and_gradient(const Flow<float>::Mat& z_a, const Flow<float>::Mat& z_b,
                                               double lambda_dir, double lambda_inv, std::int64_t batch_rows,
                                               bool* finite) {
  Impl& s = *impl_;
  const int width = s.flow.width();
  cudaStream_t st = s.flow.stream();
  const int rows = static_cast<int>(std::max(z_a.rows(), z_b.rows()));
  if (rows > s.capacity) {
    s.z_a = cuda::DeviceBuffer<float>(static_cast<std::size_t>(rows) * width);
    s.z_b = cuda::DeviceBuffer<float>(static_cast<std::size_t>(rows) * width);
    s.capacity = rows;
  }
  // The host batches stay alive (the Trainer's buffers) until the synchronisation below.
  if (z_a.size() > 0)
    CUDA_CHECK(cudaMemcpyAsync(s.z_a.data(), z_a.data(), sizeof(float) * z_a.size(), cudaMemcpyHostToDevice, st));
  if (z_b.size() > 0)
    CUDA_CHECK(cudaMemcpyAsync(s.z_b.data(), z_b.data(), sizeof(float) * z_b.size(), cudaMemcpyHostToDevice, st));
  s.grad.fill_bytes(0, st);
  cuda_losses(s.flow, s.energy_a, s.energy_b, s.z_a.data(), static_cast<int>(z_a.rows()), s.z_b.data(),
              static_cast<int>(z_b.rows()), lambda_dir, lambda_inv, s.grad.data(), s.work, batch_rows);
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
  int flag = 0;
  CUDA_CHECK(cudaMemcpyAsync(&flag, s.finite.data(), sizeof flag, cudaMemcpyDeviceToHost, st));
  const CudaLossValues v = cuda_loss_values(s.flow, s.work);  // synchronises the stream
  *finite = flag == 1;
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
