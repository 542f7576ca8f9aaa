// The mapping's per-configuration energies and weights (host launcher; the kernel is private to
// mapping.cu), the twin of map_configurations's row loop (src/analysis/mapping.cpp): a thread per
// configuration computes U_source(x), U_target(x′), U_target(S(x)) with total_energy_of (the
// CPU's function, pairs in its order, in double) and the log-weights of Eqs. 10 and 11 with the
// same formulas, so given the same x′ and log-det a row is the CPU's bit for bit. Every array is
// in device memory. Tests: tests/gpu/test_mapping_parity.cpp.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "physics/energy.hpp"

namespace boltzmap::cuda {

// Per row r of `rows`: x, x_mapped, x_identity [rows][N][D]; logdet [rows] (the flow's, float);
// inside [rows] (0/1). Writes source_energy, mapped_energy, identity_energy, log_jacobian
// (= logdet + box_log_det), log_weight_unrestricted, log_weight (−∞ where !inside) and
// identity_log_weight (each [rows], double).
struct MappedRows {
  double* source_energy;
  double* mapped_energy;
  double* identity_energy;
  double* log_jacobian;
  double* log_weight_unrestricted;
  double* log_weight;
  double* identity_log_weight;
};
void mapped_row_weights(const System& source, const System& target, const float* x, const float* x_mapped,
                        const float* x_identity, const float* logdet, const std::uint8_t* inside, int rows,
                        double box_log_det, MappedRows out, cudaStream_t stream);

}  // namespace boltzmap::cuda
