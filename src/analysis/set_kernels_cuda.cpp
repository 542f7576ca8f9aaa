// See set_kernels.hpp: the CUDA implementation (built only with CUDA). Per chunk the positions,
// energies, multiplicities and weights are copied to the device (the multiplicities once per
// chunk, shared by every accumulator: set_counts); per add():
//   1. B [m][E + G]: each row's energy bin one-hot (E columns) and its pair counts (G columns,
//      shared-memory histograms), one matrix for every weighting of the accumulator;
//   2. per weighting, the rows' weights, then per replicate (one block each) its seven scalar
//      sums, added to the device sums, and A [R + 1][m] = c·w;
//   3. one DGEMM adds A·B to the device sums [R + 1][E + G]: each replicate's weighted energy
//      histogram and g(r) sums at once (what the CPU forms as `hist += x` and the Eigen product).
// The sums stay on the device until flush(acc), which adds them to acc.sums() in its layout and
// clears them. Work buffers grow to the largest chunk and are reused (no allocation per chunk in
// steady state); each new one is poisoned (0xFF: NaN) so an unwritten entry shows in the tests.
// Summation order: the scalars by a block reduction over the rows, the histograms by cuBLAS;
// integer-valued sums (the counts, the unweighted histograms and pair counts) are exact. One
// difference beyond rounding: a NaN weight (a NaN log-weight) makes its replicates' whole
// histogram and g(r) rows NaN here (the product spreads it), a single bin on the CPU; analyze
// refuses a non-finite result either way.
// Launchers: kernels/analysis.cu. Tests: tests/gpu/test_analysis_parity.cpp.
#include <algorithm>
#include <map>

#include "analysis.cuh"
#include "analysis/set_kernels.hpp"
#include "analysis/set_terms.hpp"
#include "core/error.hpp"
#include "cuda_check.cuh"

namespace boltzmap {

namespace {

// Grows `buf` to at least n elements (a new buffer is poisoned with 0xFF bytes); never shrinks.
template <class T>
void reserve(cuda::DeviceBuffer<T>& buf, std::size_t n, cudaStream_t stream) {
  if (buf.size() >= n) return;
  buf = cuda::DeviceBuffer<T>(n);
  buf.fill_bytes(0xFF, stream);
}

// Copies src to the start of buf (grown as needed).
template <class T>
void upload(cuda::DeviceBuffer<T>& buf, std::span<const T> src, cudaStream_t stream) {
  reserve(buf, src.size(), stream);
  if (!src.empty())
    CUDA_CHECK(cudaMemcpyAsync(buf.data(), src.data(), src.size_bytes(), cudaMemcpyHostToDevice, stream));
}

class CudaSetKernels final : public SetKernels {
 public:
  CudaSetKernels() {
    device_ = cuda::current_device_name();
    CUBLAS_CHECK(cublasCreate(&blas_));
    CUBLAS_CHECK(cublasSetStream(blas_, stream_.get()));
  }
  ~CudaSetKernels() override {
    if (blas_) cublasDestroy(blas_);
  }
  CudaSetKernels(const CudaSetKernels&) = delete;
  CudaSetKernels& operator=(const CudaSetKernels&) = delete;

  BackendKind kind() const override { return BackendKind::cuda; }
  std::string description() const override {
    return "cuda " + device_ + " (shared-memory pair histograms, block per replicate, DGEMM for the histograms)";
  }

  void pair_histograms(std::span<const float> positions, std::size_t m, int n_particles, int dim, double L,
                       const Bins& r_bins, std::vector<double>& h) override {
    const std::size_t G = static_cast<std::size_t>(r_bins.count);
    if (positions.size() != m * static_cast<std::size_t>(n_particles) * dim)
      throw Error(ExitCode::failure, "pair_histograms: positions of the wrong size");
    h.resize(m * G);  // not assigned: a poisoned h shows an entry the device left unwritten
    if (m == 0) return;
    upload(x_, positions, stream_.get());
    reserve(h_, m * G, stream_.get());
    cuda::pair_histograms(x_.data(), m, n_particles, dim, L, pair_bins(r_bins), h_.data(), G, stream_.get());
    CUDA_CHECK(cudaMemcpyAsync(h.data(), h_.data(), m * G * sizeof(double), cudaMemcpyDeviceToHost, stream_.get()));
    stream_.synchronize();
  }

  void set_counts(std::span<const std::uint8_t> counts, int replicates, std::size_t m) override {
    if (replicates < 0 || counts.size() != (static_cast<std::size_t>(replicates) + 1) * m)
      throw Error(ExitCode::failure, "SetKernels::set_counts: counts of the wrong size");
    upload(counts_, counts, stream_.get());
    replicates_ = replicates;
    m_ = m;
  }

  void add(SetAccumulator& acc, std::span<const float> positions, int n_particles, int dim, double L,
           std::span<const double> energy, const std::vector<Weighting>& weightings) override {
    check_set_chunk(acc, positions, n_particles, dim, energy, weightings, replicates_, m_);
    const std::size_t m = m_, R1 = static_cast<std::size_t>(replicates_) + 1;
    const int E = acc.energy_bins().count, G = acc.r_bins().count;
    const std::size_t cols = static_cast<std::size_t>(E) + G;
    cuda::DeviceBuffer<double>& sums = device_sums(acc);
    if (m == 0) return;
    const DeviceSumsGemm gemm = device_sums_gemm(R1, m, E, G);
    const cudaStream_t s = stream_.get();

    // 1. B = [one-hot energy bins | pair counts], shared by the weightings.
    upload(x_, positions, s);
    upload(energy_, energy, s);
    reserve(b_, m * cols, s);
    cuda::energy_one_hot(energy_.data(), m, acc.energy_bins(), b_.data(), cols, s);
    cuda::pair_histograms(x_.data(), m, n_particles, dim, L, pair_bins(acc.r_bins()), b_.data() + E, cols, s);

    reserve(w_, m, s);
    reserve(wraw_, m, s);
    reserve(in_, m, s);
    reserve(a_, R1 * m, s);
    for (std::size_t k = 0; k < weightings.size(); ++k) {
      const Weighting& wt = weightings[k];
      // 2. The weights, each replicate's scalars, A = c·w.
      const double* lw = nullptr;
      const std::uint8_t* inside = nullptr;
      if (!wt.log_w.empty()) {
        upload(log_w_, wt.log_w, s);
        lw = log_w_.data();
      }
      if (!wt.inside.empty()) {
        upload(inside_, wt.inside, s);
        inside = inside_.data();
      }
      cuda::row_weights(lw, inside, m, acc.shift()[k], acc.shift_raw()[k], w_.data(), wraw_.data(), in_.data(), s);
      double* base = sums.data() + k * acc.per_weighting();
      cuda::replicate_sums(counts_.data(), static_cast<int>(R1), m, w_.data(), wraw_.data(), in_.data(), energy_.data(),
                           base, a_.data(), s);
      // 3. sums[R1][E + G] += A[R1][m] · B[m][E + G] (row-major; cuBLAS sees the transposes).
      const double one = 1.0;
      CUBLAS_CHECK(cublasDgemm(blas_, CUBLAS_OP_N, CUBLAS_OP_N, gemm.m, gemm.n, gemm.k, &one, b_.data(), gemm.lda,
                               a_.data(), gemm.ldb, &one, base + kSetScalars * R1, gemm.ldc));
      // The next weighting's uploads overwrite log_w_/inside_ only after these kernels (one
      // stream), and pageable host memory is staged before cudaMemcpyAsync returns.
    }
    stream_.synchronize();  // the caller's spans may go; a fault is reported by this chunk
  }

  void flush(SetAccumulator& acc) override {
    const auto it = sums_.find(&acc);
    if (it == sums_.end()) return;
    std::vector<double> dev(it->second.size());
    cuda::copy_to_host(std::span<double>(dev), it->second, stream_.get());
    stream_.synchronize();
    add_device_layout_sums(acc, dev);
    sums_.erase(it);
  }

 private:
  // acc's device sums (zero when new): per weighting [7][R1] scalars, then [R1][E + G].
  cuda::DeviceBuffer<double>& device_sums(const SetAccumulator& acc) {
    auto it = sums_.find(&acc);
    if (it == sums_.end()) {
      it = sums_.emplace(&acc, cuda::DeviceBuffer<double>(acc.sums().size())).first;
      it->second.fill_bytes(0, stream_.get());  // all-zero bytes: +0.0
    }
    if (it->second.size() != acc.sums().size())
      throw Error(ExitCode::failure, "CudaSetKernels: an accumulator's device sums do not fit it (not flushed before it was replaced?)");
    return it->second;
  }

  std::string device_;
  cuda::Stream stream_;
  cublasHandle_t blas_ = nullptr;
  std::map<const SetAccumulator*, cuda::DeviceBuffer<double>> sums_;  // pending sums of each accumulator
  int replicates_ = -1;
  std::size_t m_ = 0;
  cuda::DeviceBuffer<std::uint8_t> counts_;  // [R1][m] of the current chunk
  cuda::DeviceBuffer<float> x_;              // [m][N][D]
  cuda::DeviceBuffer<double> energy_;        // [m]
  cuda::DeviceBuffer<double> log_w_;         // [m], one weighting at a time
  cuda::DeviceBuffer<std::uint8_t> inside_;  // [m]
  cuda::DeviceBuffer<double> w_, wraw_;      // [m]
  cuda::DeviceBuffer<std::uint8_t> in_;      // [m]
  cuda::DeviceBuffer<double> a_;             // [R1][m], c·w
  cuda::DeviceBuffer<double> b_;             // [m][E + G]: one-hot energy bins, pair counts
  cuda::DeviceBuffer<double> h_;             // [m][G]: pair_histograms()'s output
};

}  // namespace

std::unique_ptr<SetKernels> make_cuda_set_kernels() {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    cudaGetLastError();
    throw Error(ExitCode::backend, "the CUDA analysis kernels: no CUDA device is visible");
  }
  return std::make_unique<CudaSetKernels>();
}

}  // namespace boltzmap
