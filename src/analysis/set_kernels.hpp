// The analysis' per-chunk work behind one interface, whatever runs it (issue 14's seam): the pair
// histograms of a chunk's configurations and their addition, with the energies, weights and
// bootstrap multiplicities, to a SetAccumulator's sums. The CPU implementation is today's code
// (pair_histograms + SetAccumulator::add, bitwise); the CUDA one (set_kernels_cuda.cpp,
// kernels/analysis.cu, built with CUDA only) keeps the sums of each accumulator in device memory
// until flush() adds them to its sums(), so SetAccumulator::finish and the allreduce of sums()
// stay the host's. Pair counts and energy bins are the CPU's exactly (the same BOLTZMAP_HD
// functions, observables.hpp); the weighted sums are the same terms added in another order
// (set_terms.hpp), with the exponential from CUDA's libm.
// Use per chunk: set_counts(counts, R, m) once, then add(acc, …) for each accumulator of that
// chunk's rows; after the last chunk flush(acc) for each accumulator, before reading sums().
// Tests: tests/analysis/test_set_kernels.cpp (CPU = the direct calls),
// tests/gpu/test_analysis_parity.cpp (CUDA = CPU).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "analysis/set_statistics.hpp"
#include "core/backend.hpp"

namespace boltzmap {

class SetKernels {
 public:
  virtual ~SetKernels() = default;
  virtual BackendKind kind() const = 0;
  virtual std::string description() const = 0;

  // Pair histograms of m configurations [m][N][D] into h [m][r bins] (pair counts, as doubles):
  // the same as the free pair_histograms (set_statistics.hpp).
  virtual void pair_histograms(std::span<const float> positions, std::size_t m, int n_particles, int dim, double L,
                               const Bins& r_bins, std::vector<double>& h) = 0;
  // The multiplicities [R + 1][m] of the chunk's m rows (Resampler::fill), used by every add()
  // until the next set_counts; the caller keeps `counts` alive and unchanged until then.
  virtual void set_counts(std::span<const std::uint8_t> counts, int replicates, std::size_t m) = 0;
  // The chunk's rows into acc: positions [m][N][D] (g(r) in a box of side L, acc's r bins),
  // energies [m], acc's weightings (spans of m, or empty), the counts of set_counts.
  virtual void add(SetAccumulator& acc, std::span<const float> positions, int n_particles, int dim, double L,
                   std::span<const double> energy, const std::vector<Weighting>& weightings) = 0;
  // Makes every add() to acc visible in acc.sums() (added to them); the CPU adds at once and has
  // nothing to do. Call it for each accumulator before reading sums() and before it is destroyed.
  virtual void flush(SetAccumulator& acc) = 0;
};

// Today's CPU code: pair_histograms and SetAccumulator::add (OpenMP threads), bitwise.
std::unique_ptr<SetKernels> make_cpu_set_kernels();
// The CUDA kernels on the current device; throws Error(ExitCode::backend) in a build without CUDA
// or where no device is visible.
std::unique_ptr<SetKernels> make_cuda_set_kernels();
// The stage's backend (core/backend.hpp) → its kernels.
std::unique_ptr<SetKernels> make_set_kernels(BackendKind kind);

// The size checks of a chunk that every implementation makes (throws Error(ExitCode::failure)).
void check_set_chunk(const SetAccumulator& acc, std::span<const float> positions, int n_particles, int dim,
                     std::span<const double> energy, const std::vector<Weighting>& weightings, int replicates,
                     std::size_t m);

// The CUDA implementation's layout of an accumulator's sums, host-side so that it is tested on
// the CPU (tests/analysis/test_set_kernels.cpp emulates the device path with it). Per weighting:
// [7][R + 1] scalars as in sums(), then [R + 1][E + G], row r = replicate r's energy histogram
// sums (E) then its g(r) sums (G): the row-major product A·B of A [R + 1][m] (c·w) and
// B [m][E + G] (one-hot energy bins, pair counts).
// The column-major DGEMM (no transposes) that adds A·B to that block: cuBLAS sees C^T = B^T·A^T.
struct DeviceSumsGemm {
  int m, n, k;         // C^T is m × n = (E + G) × (R + 1); k = the chunk's rows
  int lda, ldb, ldc;   // B^T: (E + G) × k, ld E + G; A^T: k × (R + 1), ld k; C^T: ld E + G
};
DeviceSumsGemm device_sums_gemm(std::size_t replicates1, std::size_t rows, int energy_bins, int r_bins);
// Adds sums in the device layout (acc.sums().size() doubles) to acc.sums().
void add_device_layout_sums(SetAccumulator& acc, std::span<const double> device_layout);

}  // namespace boltzmap
