// The analysis' per-chunk kernels: host launchers only (the kernels stay private to analysis.cu).
// Twins: pair_histograms (src/analysis/set_statistics.cpp, add_pair_histogram in observables.cpp)
// and the loops of SetAccumulator::add; the accumulator around them is
// src/analysis/set_kernels_cuda.cpp (which adds the g(r) and histogram sums with one cuBLAS DGEMM).
// Every array is in device memory; `ld` is a row's stride in elements.
// Tests: tests/gpu/test_analysis_parity.cpp.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "analysis/observables.hpp"

namespace boltzmap::cuda {

// Pair counts of m configurations x [m][N][D] (float32) in a box of side L: out[j·ld + b] = the
// number of unordered pairs of configuration j in bin b (pair_distance2, pair_bin), as a double;
// every one of the bins.count entries of a row is written. One block per configuration, a
// shared-memory histogram of integer counts. Needs bins.count·4 + N·D·4 bytes of shared memory
// (pair_histogram_shared_bytes; at most 48 KiB).
void pair_histograms(const float* x, std::size_t m, int n_particles, int dim, double L, const PairBins& bins,
                     double* out, std::size_t ld, cudaStream_t stream);
std::size_t pair_histogram_shared_bytes(int n_particles, int dim, int bins);

// The energy bins of m rows as one-hot rows: out[j·ld + e] = 1 if e = bins.index(energy[j]), else
// 0 (all bins.count entries written; a row outside the bins is all zero).
void energy_one_hot(const double* energy, std::size_t m, const Bins& bins, double* out, std::size_t ld,
                    cudaStream_t stream);

// Each row's weights (row_weight, set_terms.hpp): w [m], wraw [m], in [m] (0/1). log_w null: all
// 0; inside null: every row inside.
void row_weights(const double* log_w, const std::uint8_t* inside, std::size_t m, double shift, double shift_raw,
                 double* w, double* wraw, std::uint8_t* in, cudaStream_t stream);

// For each replicate r < R1 (one block each): its scalar sums over the m rows (ScalarSums, in
// set_terms.hpp's order) added to scalars[q·R1 + r], and a[r·m + j] = c·w, the row's weight in the
// histograms (0 where c = 0 or the weight is zero). counts [R1][m].
void replicate_sums(const std::uint8_t* counts, int R1, std::size_t m, const double* w, const double* wraw,
                    const std::uint8_t* in, const double* energy, double* scalars, double* a, cudaStream_t stream);

}  // namespace boltzmap::cuda
