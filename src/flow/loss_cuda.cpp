// See loss_cuda.hpp. The order of a term is loss_term's in loss.cpp: the flow's pass, its output
// in double, the energies and their gradient, the value and the backward seeds, the backward pass.
#include "flow/loss_cuda.hpp"

#include <algorithm>

#include "loss.cuh"

namespace boltzmap {
namespace {

void grow(CudaLossWorkspace& w, int rows, int width) {
  if (rows <= w.capacity) return;
  const auto r = static_cast<std::size_t>(rows), rw = r * static_cast<std::size_t>(width);
  w.mapped = cuda::DeviceBuffer<float>(rw);
  w.g_mapped = cuda::DeviceBuffer<float>(rw);
  w.g_input = cuda::DeviceBuffer<float>(rw);
  w.logdet = cuda::DeviceBuffer<float>(r);
  w.g_logdet = cuda::DeviceBuffer<float>(r);
  w.mapped_double = cuda::DeviceBuffer<double>(rw);
  w.g_energy = cuda::DeviceBuffer<double>(rw);
  w.energy = cuda::DeviceBuffer<double>(r);
  w.capacity = rows;
}

// One term into *value (device); inverse: F⁻¹ and the target energy U_A (L_dir), else F and U_B.
void term(const CudaRealNvp& flow, const CudaLatentEnergy& energy, const CudaLatentEnergy& source, const float* z,
          int rows, double lambda, bool inverse, float* grad, CudaLossWorkspace& w, double n, double* value) {
  CudaRealNvp::Workspace& ws = inverse ? w.flow_dir : w.flow_inv;
  const int width = flow.width();
  cudaStream_t s = flow.stream();
  if (inverse)
    flow.inverse(z, w.mapped.data(), w.logdet.data(), rows, ws);
  else
    flow.forward(z, w.mapped.data(), w.logdet.data(), rows, ws);
  cuda::loss_to_double(w.mapped.data(), w.mapped_double.data(), static_cast<std::size_t>(rows) * width, s);
  energy.evaluate(w.mapped_double.data(), rows, w.energy.data(), grad ? w.g_energy.data() : nullptr, s);
  const double box = energy.box_log_det() - source.box_log_det();  // per row, as on the CPU
  cuda::loss_term_finish(w.energy.data(), w.logdet.data(), rows, box, n, value, grad ? w.g_energy.data() : nullptr,
                         width, lambda, w.g_mapped.data(), w.g_logdet.data(), s);
  if (!grad) return;
  if (inverse)
    flow.backward_inverse(ws, w.g_mapped.data(), w.g_logdet.data(), grad, w.g_input.data());
  else
    flow.backward_forward(ws, w.g_mapped.data(), w.g_logdet.data(), grad, w.g_input.data());
}

}  // namespace

void cuda_losses(const CudaRealNvp& flow, const CudaLatentEnergy& energy_a, const CudaLatentEnergy& energy_b,
                 const float* z_a, int rows_a, const float* z_b, int rows_b, double lambda_dir, double lambda_inv,
                 float* grad, CudaLossWorkspace& work, std::int64_t batch_rows) {
  if (energy_a.latent_dim() != flow.width() || energy_b.latent_dim() != flow.width())
    throw Error(ExitCode::failure, "cuda_losses: the energies' latent dimension is not the flow's width");
  grow(work, std::max(rows_a, rows_b), flow.width());
  cudaStream_t s = flow.stream();
  work.values.fill_bytes(0, s);  // a skipped term's value is 0
  const auto n = [batch_rows](int rows) { return static_cast<double>(batch_rows > 0 ? batch_rows : rows); };
  if (lambda_dir != 0.0 && rows_b > 0)
    term(flow, energy_a, energy_b, z_b, rows_b, lambda_dir, true, grad, work, n(rows_b), work.values.data());
  if (lambda_inv != 0.0 && rows_a > 0)
    term(flow, energy_b, energy_a, z_a, rows_a, lambda_inv, false, grad, work, n(rows_a), work.values.data() + 1);
}

CudaLossValues cuda_loss_values(const CudaRealNvp& flow, const CudaLossWorkspace& work) {
  double v[2] = {0.0, 0.0};
  CUDA_CHECK(cudaMemcpyAsync(v, work.values.data(), sizeof v, cudaMemcpyDeviceToHost, flow.stream()));
  flow.synchronize();
  return {v[0], v[1]};
}

}  // namespace boltzmap
