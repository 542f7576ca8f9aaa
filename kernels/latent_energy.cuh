// Host launcher of the losses' per-row energies on the device (twin: LatentEnergy::evaluate_row in
// src/flow/loss.cpp; both call latent_row_energy of src/flow/latent_row.hpp). The matrix products
// around it (y = W⁻¹z, ∂e/∂z = W⁻ᵀ∂e/∂y) are cuBLAS calls in src/flow/latent_energy_cuda.cpp.
#pragma once
#include <cuda_runtime.h>

#include "flow/latent_row.hpp"

namespace boltzmap::cuda {

// Per row r of `rows`: y_r + μ → e[r] = latent_row_energy, and, unless gy is null, ∂e/∂y into gy
// row r. y, gy: [rows][m] double, μ [m]; scratch: rows·2·N·D doubles (each row's x and f).
// One thread per row, so each row sums its pairs in exactly the CPU's order.
void latent_row_energies(const LatentRowParams& p, const double* y, const double* mu, int rows, double* scratch,
                         double* e, double* gy, cudaStream_t stream);

}  // namespace boltzmap::cuda
