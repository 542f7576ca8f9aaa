// See set_kernels.hpp: the CPU implementation (today's calls, unchanged) and the factory. The CUDA
// implementation is set_kernels_cuda.cpp (built with CUDA only).
#include "analysis/set_kernels.hpp"

#include <limits>

#include "analysis/set_terms.hpp"
#include "core/error.hpp"

namespace boltzmap {

void check_set_chunk(const SetAccumulator& acc, std::span<const float> positions, int n_particles, int dim,
                     std::span<const double> energy, const std::vector<Weighting>& weightings, int replicates,
                     std::size_t m) {
  if (replicates != acc.replicates())
    throw Error(ExitCode::failure, "SetKernels: the chunk's counts have " + std::to_string(replicates) +
                                       " replicates, the accumulator " + std::to_string(acc.replicates()));
  if (positions.size() != m * static_cast<std::size_t>(n_particles) * dim || energy.size() != m)
    throw Error(ExitCode::failure, "SetKernels: a chunk's positions or energies disagree with its counts in size");
  if (weightings.size() != acc.weightings())
    throw Error(ExitCode::failure, "SetKernels: " + std::to_string(weightings.size()) + " weightings for an accumulator of " +
                                       std::to_string(acc.weightings()));
  for (const auto& w : weightings)
    if ((!w.log_w.empty() && w.log_w.size() != m) || (!w.inside.empty() && w.inside.size() != m))
      throw Error(ExitCode::failure, "SetKernels: a weighting's size differs from the chunk's");
}

namespace {

int as_int(std::size_t v, const char* what) {
  if (v > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw Error(ExitCode::failure, std::string("SetKernels: ") + what + " exceeds a cuBLAS dimension (int)");
  return static_cast<int>(v);
}

}  // namespace

DeviceSumsGemm device_sums_gemm(std::size_t replicates1, std::size_t rows, int energy_bins, int r_bins) {
  const int cols = as_int(static_cast<std::size_t>(energy_bins) + static_cast<std::size_t>(r_bins), "E + G");
  const int r1 = as_int(replicates1, "R + 1"), k = as_int(rows, "a chunk's rows");
  as_int(replicates1 * rows, "(R + 1) × rows");
  as_int(rows * static_cast<std::size_t>(cols), "rows × (E + G)");
  return DeviceSumsGemm{cols, r1, k, cols, k, cols};
}

void add_device_layout_sums(SetAccumulator& acc, std::span<const double> dev) {
  std::vector<double>& host = acc.sums();
  if (dev.size() != host.size()) throw Error(ExitCode::failure, "add_device_layout_sums: sums of the wrong size");
  const std::size_t R1 = static_cast<std::size_t>(acc.replicates()) + 1, E = acc.energy_bins().count,
                    G = acc.r_bins().count, per = acc.per_weighting();
  for (std::size_t k = 0; k < acc.weightings(); ++k) {
    const double* d = dev.data() + k * per;
    double* h = host.data() + k * per;
    for (std::size_t i = 0; i < kSetScalars * R1; ++i) h[i] += d[i];
    const double* dr = d + kSetScalars * R1;  // [R1][E + G]
    double* hist = h + kSetScalars * R1;      // [R1][E]
    double* g = hist + R1 * E;                // [R1][G]
    for (std::size_t r = 0; r < R1; ++r) {
      for (std::size_t e = 0; e < E; ++e) hist[r * E + e] += dr[r * (E + G) + e];
      for (std::size_t b = 0; b < G; ++b) g[r * G + b] += dr[r * (E + G) + E + b];
    }
  }
}

namespace {

class CpuSetKernels final : public SetKernels {
 public:
  BackendKind kind() const override { return BackendKind::cpu; }
  std::string description() const override { return "cpu (OpenMP threads)"; }

  void pair_histograms(std::span<const float> positions, std::size_t m, int n_particles, int dim, double L,
                       const Bins& r_bins, std::vector<double>& h) override {
    boltzmap::pair_histograms(positions, m, n_particles, dim, L, r_bins, h);
  }

  void set_counts(std::span<const std::uint8_t> counts, int replicates, std::size_t m) override {
    if (counts.size() != (static_cast<std::size_t>(replicates) + 1) * m)
      throw Error(ExitCode::failure, "SetKernels::set_counts: counts of the wrong size");
    counts_ = counts;
    replicates_ = replicates;
    m_ = m;
  }

  void add(SetAccumulator& acc, std::span<const float> positions, int n_particles, int dim, double L,
           std::span<const double> energy, const std::vector<Weighting>& weightings) override {
    check_set_chunk(acc, positions, n_particles, dim, energy, weightings, replicates_, m_);
    boltzmap::pair_histograms(positions, m_, n_particles, dim, L, acc.r_bins(), h_);
    acc.add(h_, energy, weightings, counts_, m_);
  }

  void flush(SetAccumulator&) override {}

 private:
  std::span<const std::uint8_t> counts_;
  int replicates_ = -1;
  std::size_t m_ = 0;
  std::vector<double> h_;  // [m][r bins], reused across chunks
};

}  // namespace

std::unique_ptr<SetKernels> make_cpu_set_kernels() { return std::make_unique<CpuSetKernels>(); }

std::unique_ptr<SetKernels> make_set_kernels(BackendKind kind) {
  return kind == BackendKind::cuda ? make_cuda_set_kernels() : make_cpu_set_kernels();
}

#ifndef BOLTZMAP_HAVE_CUDA
std::unique_ptr<SetKernels> make_cuda_set_kernels() {
  throw Error(ExitCode::backend, "the CUDA analysis kernels: this binary was built without CUDA (-DBOLTZMAP_CUDA=ON to require it)");
}
#endif

}  // namespace boltzmap
