// See walkers.hpp.
#include "sampling/walkers.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace boltzmap {

WalkerSet::WalkerSet(const System& system, std::uint64_t seed, std::uint32_t first_walker, int count,
                     std::span<const float> start)
    : params_(make_move_params(system, seed)),
      first_(first_walker),
      count_(count),
      stride_(system.n_particles * system.box.dimension),
      x_(static_cast<size_t>(count) * stride_),
      energy_(count) {
  if (static_cast<int>(start.size()) != stride_) throw Error(ExitCode::failure, "WalkerSet: start has wrong size");
  for (int w = 0; w < count_; ++w) set_configuration(w, start);
}

namespace {
template <int D, MoveKernel K, int NC>
std::uint64_t run_walkers(const MoveParams& mp, float* x, double* energy, int count, int stride,
                          std::uint32_t first, std::uint64_t counter0, std::uint64_t moves, float step) {
  std::uint64_t accepted = 0;
#pragma omp parallel for schedule(static) reduction(+ : accepted)
  for (int w = 0; w < count; ++w) {
    float* xw = x + static_cast<size_t>(w) * stride;
    double e = energy[w];
    std::uint64_t acc = 0;
    for (std::uint64_t m = 0; m < moves; ++m) acc += mc_move<D, K, NC>(mp, xw, e, first + w, counter0 + m, step);
    energy[w] = e;
    accepted += acc;
  }
  return accepted;
}
}  // namespace

std::uint64_t WalkerSet::run(std::uint64_t moves, float step, MoveKernel kernel) {
  const int D = params_.system.box.dimension;
  std::uint64_t acc;
  const int n = params_.system.n_particles;
  auto go = [&]<int Dim, int NC>() {
    return kernel == MoveKernel::fast
               ? run_walkers<Dim, MoveKernel::fast, NC>(params_, x_.data(), energy_.data(), count_, stride_, first_,
                                                        moves_done_, moves, step)
               : run_walkers<Dim, MoveKernel::naive, NC>(params_, x_.data(), energy_.data(), count_, stride_, first_,
                                                         moves_done_, moves, step);
  };
  // The paper's size (N = 32, 2D) gets a kernel with N fixed at compile time.
  if (D == 2 && n == 32)
    acc = go.template operator()<2, 32>();
  else if (D == 2)
    acc = go.template operator()<2, 0>();
  else
    acc = go.template operator()<3, 0>();
  moves_done_ += moves;
  return acc;
}

double WalkerSet::recompute_energies() {
  const int D = params_.system.box.dimension;
  double worst = 0.0;
#pragma omp parallel for schedule(static) reduction(max : worst)
  for (int w = 0; w < count_; ++w) {
    const float* xw = x_.data() + static_cast<size_t>(w) * stride_;
    const double e = D == 2 ? total_energy_soa<2>(params_, xw) : total_energy_soa<3>(params_, xw);
    const double drift = std::abs(e - energy_[w]);
    if (!(drift <= worst)) worst = std::isnan(drift) ? INFINITY : drift;
    energy_[w] = e;
  }
  return worst;
}

void WalkerSet::configuration(int w, std::span<float> out) const {
  const int n = params_.system.n_particles, D = params_.system.box.dimension;
  const float* xw = x_.data() + static_cast<size_t>(w) * stride_;
  for (int i = 0; i < n; ++i)
    for (int d = 0; d < D; ++d) out[i * D + d] = xw[d * n + i];
}

void WalkerSet::set_configuration(int w, std::span<const float> in) {
  const int n = params_.system.n_particles, D = params_.system.box.dimension;
  float* xw = x_.data() + static_cast<size_t>(w) * stride_;
  for (int i = 0; i < n; ++i)
    for (int d = 0; d < D; ++d) xw[d * n + i] = in[i * D + d];
  energy_[w] = D == 2 ? total_energy_soa<2>(params_, xw) : total_energy_soa<3>(params_, xw);
}

}  // namespace boltzmap
