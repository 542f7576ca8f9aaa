// See mc_engine.hpp. The CPU engine: WalkerSet behind the McEngine interface (no change of
// behaviour: the same calls sample.cpp made). The CUDA engine is in mc_engine_cuda.cpp.
#include "sampling/mc_engine.hpp"

#include "core/error.hpp"
#include "sampling/walkers.hpp"

namespace boltzmap {

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
      : walkers_(system, seed, first, count, start), kernel_(kernel) {}
  McEngineKind kind() const override { return McEngineKind::cpu; }
  std::string description() const override { return std::string("cpu (") + kernel_name(kernel_) + ")"; }
  std::uint64_t run(std::uint64_t moves, float step) override { return walkers_.run(moves, step, kernel_); }
  double recompute_energies() override { return walkers_.recompute_energies(); }
  int count() const override { return walkers_.count(); }
  std::uint32_t first_walker() const override { return walkers_.first_walker(); }
  std::uint64_t moves_done() const override { return walkers_.moves_done(); }
  const System& system() const override { return walkers_.system(); }
  std::span<const double> energies() override { return walkers_.energies(); }
  void configurations(std::span<float> out) override {
    const std::size_t stride = static_cast<std::size_t>(walkers_.system().n_particles) * walkers_.system().box.dimension;
    if (out.size() != stride * static_cast<std::size_t>(walkers_.count()))
      throw Error(ExitCode::failure, "McEngine::configurations: output of the wrong size");
    for (int w = 0; w < walkers_.count(); ++w) walkers_.configuration(w, out.subspan(w * stride, stride));
  }
  void restore(std::span<const float> configs, std::span<const double> energies, std::uint64_t moves_done) override {
    walkers_.restore(configs, energies, moves_done);
  }

 private:
  WalkerSet walkers_;
  MoveKernel kernel_;
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
