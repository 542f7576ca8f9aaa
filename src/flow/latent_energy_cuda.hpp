// The CUDA twin of LatentEnergy (flow/loss.hpp): the losses' reduced energies e_r = c(β U(P⁻¹(z_r)))
// and ∂e/∂z of a batch of latent rows, all on the device — y = W⁻¹z by cuBLAS (DGEMM), the per-row
// maths of flow/latent_row.hpp in kernels/latent_energy.cu (the CPU's own function, one thread per
// row), ∂e/∂z = W⁻ᵀ ∂e/∂y by cuBLAS. Double precision throughout, as on the CPU.
// Built with CUDA only. Work buffers grow to the largest batch seen and are then reused: steady-state
// calls allocate nothing.
// Tests: tests/gpu/test_latent_energy_parity.cpp (against LatentEnergy on the same rows).
#pragma once
#include <memory>

#include "flow/loss.hpp"

struct CUstream_st;

namespace boltzmap {

class CudaLatentEnergy {
 public:
  // Copies W⁻¹, μ and the row parameters of `host` to the current device.
  explicit CudaLatentEnergy(const LatentEnergy& host);
  ~CudaLatentEnergy();
  CudaLatentEnergy(const CudaLatentEnergy&) = delete;
  CudaLatentEnergy& operator=(const CudaLatentEnergy&) = delete;

  int latent_dim() const;
  double box_log_det() const { return box_log_det_; }
  // Device pointers: z [rows][m] → e [rows] and, unless gz is null, gz [rows][m]; ordered on
  // `stream` (null: the default stream). One call at a time per object (its work buffers).
  void evaluate(const double* z, int rows, double* e, double* gz, CUstream_st* stream) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  double box_log_det_ = 0.0;
};

}  // namespace boltzmap
