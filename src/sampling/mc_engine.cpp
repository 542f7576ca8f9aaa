// See mc_engine.hpp. The in-flight checks every engine shares, and the CPU engine: WalkerSet
// behind the McEngine interface (no change of behaviour: the same calls sample.cpp made; its
// start() makes the moves, finish() returns their count). The CUDA engine is in mc_engine_cuda.cpp.
#include "sampling/mc_engine.hpp"

#include "core/error.hpp"
#include "sampling/walkers.hpp"

namespace boltzmap {

void McEngine::require_idle(const char* call) const {
  if (in_flight_)
    throw Error(ExitCode::failure, std::string("McEngine::") + call + ": a run of " + std::to_string(started_moves_) +
                                       " moves is in flight (start() without finish()); the walkers' state is not "
                                       "that of moves_done() = " + std::to_string(moves_done_) +
                                       " — call finish() first");
}

void McEngine::start(std::uint64_t moves, float step) {
  require_idle("start");
  start_moves(moves_done_, moves, step);
  started_moves_ = moves;
  in_flight_ = true;
}

std::uint64_t McEngine::finish() {
  if (!in_flight_) throw Error(ExitCode::failure, "McEngine::finish: no run in flight (finish() without start())");
  in_flight_ = false;  // also when the wait throws: the run is over, one way or another
  const std::uint64_t accepted = finish_moves();
  moves_done_ += started_moves_;
  return accepted;
}

double McEngine::recompute_energies() {
  require_idle("recompute_energies");
  return recompute_energies_now();
}

std::span<const double> McEngine::energies() {
  require_idle("energies");
  return energies_now();
}

void McEngine::configurations(std::span<float> out) {
  require_idle("configurations");
  configurations_now(out);
}

void McEngine::restore(std::span<const float> configs, std::span<const double> energies, std::uint64_t moves_done) {
  require_idle("restore");
  restore_now(configs, energies, moves_done);
  moves_done_ = moves_done;
}

void McEngine::reset(std::uint32_t first_walker, std::span<const float> configs) {
  require_idle("reset");
  reset_now(first_walker, configs);
  moves_done_ = 0;
}

namespace {

const char* kernel_name(MoveKernel k) {
  switch (k) {
    case MoveKernel::fast: return "16-lane blocks, O(N) ΔU";
    case MoveKernel::single: return "one walker at a time, O(N) ΔU";
    case MoveKernel::naive: return "one walker at a time, O(N²) ΔU";
  }
  return "?";
}

class CpuMcEngine final : public McEngine {
 public:
  CpuMcEngine(const System& system, std::uint64_t seed, std::uint32_t first, int count, std::span<const float> start,
              MoveKernel kernel)
      : walkers_(system, seed, first, count, start), seed_(seed), kernel_(kernel) {}
  McEngineKind kind() const override { return McEngineKind::cpu; }
  std::string description() const override { return std::string("cpu (") + kernel_name(kernel_) + ")"; }
  int count() const override { return walkers_.count(); }
  std::uint32_t first_walker() const override { return walkers_.first_walker(); }
  const System& system() const override { return walkers_.system(); }

 protected:
  // The moves are made here, on the calling thread's OpenMP team; finish_moves returns their count.
  void start_moves(std::uint64_t counter0, std::uint64_t moves, float step) override {
    if (counter0 != walkers_.moves_done())
      throw Error(ExitCode::failure, "CpuMcEngine: move counter out of step with the WalkerSet's");
    accepted_ = walkers_.run(moves, step, kernel_);
  }
  std::uint64_t finish_moves() override { return accepted_; }
  double recompute_energies_now() override { return walkers_.recompute_energies(); }
  std::span<const double> energies_now() override { return walkers_.energies(); }
  void configurations_now(std::span<float> out) override {
    const std::size_t stride = static_cast<std::size_t>(walkers_.system().n_particles) * walkers_.system().box.dimension;
    if (out.size() != stride * static_cast<std::size_t>(walkers_.count()))
      throw Error(ExitCode::failure, "McEngine::configurations: output of the wrong size");
    for (int w = 0; w < walkers_.count(); ++w) walkers_.configuration(w, out.subspan(w * stride, stride));
  }
  void restore_now(std::span<const float> configs, std::span<const double> energies, std::uint64_t moves_done) override {
    walkers_.restore(configs, energies, moves_done);
  }
  // A fresh WalkerSet, as make_cpu_engine would build it, then every walker's configuration.
  void reset_now(std::uint32_t first, std::span<const float> configs) override {
    const int n = walkers_.count();
    const std::size_t stride = static_cast<std::size_t>(walkers_.system().n_particles) * walkers_.system().box.dimension;
    if (configs.size() != stride * static_cast<std::size_t>(n))
      throw Error(ExitCode::failure, "McEngine::reset: configurations of the wrong size");
    WalkerSet fresh(walkers_.system(), seed_, first, n, configs.first(stride));
    for (int w = 0; w < n; ++w) fresh.set_configuration(w, configs.subspan(w * stride, stride));
    walkers_ = std::move(fresh);
  }

 private:
  WalkerSet walkers_;
  std::uint64_t seed_;
  MoveKernel kernel_;
  std::uint64_t accepted_ = 0;  // of the run start_moves made
};

}  // namespace

std::unique_ptr<McEngine> make_cpu_engine(const System& system, std::uint64_t seed, std::uint32_t first_walker,
                                          int count, std::span<const float> start, MoveKernel kernel) {
  return std::make_unique<CpuMcEngine>(system, seed, first_walker, count, start, kernel);
}

#ifndef BOLTZMAP_HAVE_CUDA
std::unique_ptr<McEngine> make_cuda_engine(const System&, std::uint64_t, std::uint32_t, int, std::span<const float>) {
  throw Error(ExitCode::backend, "the CUDA MC engine: this binary was built without CUDA (-DBOLTZMAP_CUDA=ON to require it)");
}
bool cuda_engine_compiled() { return false; }
#endif

}  // namespace boltzmap
