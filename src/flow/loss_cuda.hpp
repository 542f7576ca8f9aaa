// The training losses on the device (built with CUDA only): the twin of losses<float>
// (flow/loss.hpp) for the real-NVP — L_dir over B's rows through F⁻¹ and U_A, L_inv over A's rows
// through F and U_B, each term's value (Σ_r (e_r − log|det|_r) − box·rows)/n and, with grad, its
// λ-weighted backward pass into dL/dθ — with the flow on CudaRealNvp, the energies on
// CudaLatentEnergy and the glue in kernels/loss.cu. Everything is enqueued on the flow's stream:
// no host round trip inside a step; the two values stay on the device until asked for.
// Tests: tests/gpu/test_loss_parity.cpp (against losses<float> on the CPU).
#pragma once
#include <cstdint>

#include "cuda_check.cuh"
#include "flow/latent_energy_cuda.hpp"
#include "flow/realnvp_cuda.hpp"

namespace boltzmap {

// The buffers between the flow and the energies, grown to the largest batch seen, then reused.
struct CudaLossWorkspace {
  CudaRealNvp::Workspace flow_dir, flow_inv;  // one per term: a Workspace is sized for one batch size
  cuda::DeviceBuffer<float> mapped, g_mapped, g_input;  // [rows][D]
  cuda::DeviceBuffer<float> logdet, g_logdet;           // [rows]
  cuda::DeviceBuffer<double> mapped_double, g_energy;   // [rows][D]
  cuda::DeviceBuffer<double> energy;                    // [rows]
  cuda::DeviceBuffer<double> values{2};                 // L_dir, L_inv (this share's part of the means)
  int capacity = 0;
};

// z_a [rows_a][D], z_b [rows_b][D]: device float32 rows (A's and B's preprocessed batches). Adds the
// λ-weighted dL/dθ into grad (device, flow.parameter_count() floats) unless grad is null; a term
// with λ = 0 or no rows is skipped (its value 0). batch_rows > 0: the rows are one trainer's
// share of a batch of that many rows, as in losses(). The values land in work.values (read them
// with cuda_loss_values); nothing is synchronised.
void cuda_losses(const CudaRealNvp& flow, const CudaLatentEnergy& energy_a, const CudaLatentEnergy& energy_b,
                 const float* z_a, int rows_a, const float* z_b, int rows_b, double lambda_dir, double lambda_inv,
                 float* grad, CudaLossWorkspace& work, std::int64_t batch_rows = 0);

struct CudaLossValues {
  double dir = 0.0, inv = 0.0;
};
// The values of the last cuda_losses on `work` (synchronises the flow's stream).
CudaLossValues cuda_loss_values(const CudaRealNvp& flow, const CudaLossWorkspace& work);

}  // namespace boltzmap
