// See mc_engine.hpp: the CUDA engine (built only with CUDA). Every walker's configuration
// ([walker][dim][particle], float32) and tracked energy stay in device memory across runs; the
// host sees them only when asked (energies(), configurations(): a save or a checkpoint), through
// a pinned staging buffer. start() enqueues the moves kernel, the copy of the accepted count
// (into pinned memory) and an event on the engine's stream, and returns; finish() waits for the
// event, so the host works while the walkers move. Starting energies are computed on the host
// with the same function as WalkerSet (total_energy_soa), so a fresh engine starts bit-identical
// to the CPU one. Launchers: kernels/mcmc.cu. Tests: tests/gpu/test_mcmc_parity.cpp.
#include <cmath>
#include <cstring>
#include <vector>

#include "core/error.hpp"
#include "cuda_check.cuh"
#include "mcmc.cuh"
#include "sampling/mc_engine.hpp"

namespace boltzmap {

namespace {

class CudaMcEngine final : public McEngine {
 public:
  CudaMcEngine(const System& system, std::uint64_t seed, std::uint32_t first, int count, std::span<const float> start)
      : params_(make_move_params(system, seed)),
        first_(first),
        count_(count),
        stride_(system.n_particles * system.box.dimension),
        x_(static_cast<std::size_t>(count) * stride_),
        energy_(static_cast<std::size_t>(count)),
        counter_(1),
        accepted_host_(1),
        energy_host_(static_cast<std::size_t>(count)),
        staging_(static_cast<std::size_t>(count) * stride_) {
    if (static_cast<int>(start.size()) != stride_) throw Error(ExitCode::failure, "CudaMcEngine: start has wrong size");
    device_ = cuda::current_device_name();
    std::vector<float> all(static_cast<std::size_t>(count) * stride_);
    for (int w = 0; w < count; ++w) std::copy(start.begin(), start.end(), all.begin() + static_cast<std::size_t>(w) * stride_);
    load(all);  // energies from total_energy_soa, as WalkerSet::set_configuration
  }

  McEngineKind kind() const override { return McEngineKind::cuda; }
  std::string description() const override { return "cuda " + device_ + " (one warp per walker, O(N) ΔU)"; }

  int count() const override { return count_; }
  std::uint32_t first_walker() const override { return first_; }
  const System& system() const override { return params_.system; }

  ~CudaMcEngine() override {
    // A run still in flight (an exception between start and finish) must not outlive the
    // buffers it writes; no throw from a destructor.
    if (in_flight()) cudaStreamSynchronize(stream_.get());
  }

 protected:
  void start_moves(std::uint64_t counter0, std::uint64_t moves, float step) override {
    energy_fresh_ = false;
    counter_.fill_bytes(0, stream_.get());
    cuda::mcmc_run(params_, x_.data(), energy_.data(), counter_.data(), count_, first_, counter0, moves, step,
                   stream_.get());
    cuda::copy_to_host(accepted_host_.span(), counter_, stream_.get());
    done_.record(stream_.get());
  }

  std::uint64_t finish_moves() override {
    done_.synchronize();
    return accepted_host_[0];
  }

  double recompute_energies_now() override {
    counter_.fill_bytes(0, stream_.get());  // the bits of +0.0
    cuda::mcmc_recompute(params_, x_.data(), energy_.data(), counter_.data(), count_, stream_.get());
    cuda::copy_to_host(accepted_host_.span(), counter_, stream_.get());
    stream_.synchronize();
    energy_fresh_ = false;
    double worst;
    std::memcpy(&worst, &accepted_host_[0], sizeof worst);
    return worst;
  }

  std::span<const double> energies_now() override {
    if (!energy_fresh_) {
      cuda::copy_to_host(std::span<double>(energy_host_), energy_, stream_.get());
      stream_.synchronize();
      energy_fresh_ = true;
    }
    return energy_host_;
  }

  void configurations_now(std::span<float> out) override {
    if (out.size() != staging_.size()) throw Error(ExitCode::failure, "McEngine::configurations: output of the wrong size");
    cuda::copy_to_host(staging_.span(), x_, stream_.get());  // pinned: a DMA at full bandwidth
    stream_.synchronize();
    const int n = params_.system.n_particles, D = params_.system.box.dimension;
    for (int w = 0; w < count_; ++w) {  // [dim][particle] → [particle][dim]
      const float* s = staging_.data() + static_cast<std::size_t>(w) * stride_;
      float* o = out.data() + static_cast<std::size_t>(w) * stride_;
      for (int i = 0; i < n; ++i)
        for (int d = 0; d < D; ++d) o[i * D + d] = s[d * n + i];
    }
  }

  void restore_now(std::span<const float> configs, std::span<const double> energies, std::uint64_t) override {
    if (configs.size() != staging_.size() || energies.size() != static_cast<std::size_t>(count_))
      throw Error(ExitCode::failure, "CudaMcEngine::restore: state of the wrong size");
    load(configs);
    std::copy(energies.begin(), energies.end(), energy_host_.begin());
    cuda::copy_to_device(energy_, std::span<const double>(energy_host_), stream_.get());
    stream_.synchronize();
    energy_fresh_ = true;
  }

  void reset_now(std::uint32_t first, std::span<const float> configs) override {
    if (configs.size() != staging_.size()) throw Error(ExitCode::failure, "CudaMcEngine::reset: state of the wrong size");
    first_ = first;
    load(configs);  // energies from total_energy_soa, as at construction
  }

 private:
  // Configurations in file layout → device layout, with energies recomputed on the host.
  void load(std::span<const float> configs) {
    const int n = params_.system.n_particles, D = params_.system.box.dimension;
    for (int w = 0; w < count_; ++w) {
      const float* in = configs.data() + static_cast<std::size_t>(w) * stride_;
      float* s = staging_.data() + static_cast<std::size_t>(w) * stride_;
      for (int i = 0; i < n; ++i)
        for (int d = 0; d < D; ++d) s[d * n + i] = in[i * D + d];
      energy_host_[static_cast<std::size_t>(w)] = D == 2 ? total_energy_soa<2>(params_, s) : total_energy_soa<3>(params_, s);
    }
    cuda::copy_to_device(x_, std::span<const float>(staging_.span()), stream_.get());
    cuda::copy_to_device(energy_, std::span<const double>(energy_host_), stream_.get());
    stream_.synchronize();
    energy_fresh_ = true;
  }

  MoveParams params_;
  std::uint32_t first_;
  int count_;
  int stride_;
  std::string device_;
  cuda::Stream stream_;
  cuda::DeviceBuffer<float> x_;                    // [walker][dim][particle], float32
  cuda::DeviceBuffer<double> energy_;              // [walker] tracked U
  cuda::DeviceBuffer<unsigned long long> counter_;  // accepted moves of a run, or the drift's bits
  cuda::PinnedBuffer<unsigned long long> accepted_host_;  // counter_'s copy, read after done_
  cuda::Event done_;                                // a started run's moves and count are done
  std::vector<double> energy_host_;                // [walker], valid when energy_fresh_
  cuda::PinnedBuffer<float> staging_;              // [walker][dim][particle]
  bool energy_fresh_ = false;
};

}  // namespace

std::unique_ptr<McEngine> make_cuda_engine(const System& system, std::uint64_t seed, std::uint32_t first_walker,
                                           int count, std::span<const float> start) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    cudaGetLastError();
    throw Error(ExitCode::backend, "the CUDA MC engine: no CUDA device is visible");
  }
  return std::make_unique<CudaMcEngine>(system, seed, first_walker, count, start);
}

bool cuda_engine_compiled() { return true; }

}  // namespace boltzmap
