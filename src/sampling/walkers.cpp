// See walkers.hpp.
#include "sampling/walkers.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "sampling/mc_block.hpp"

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

// One walker at a time (MoveKernel::single and ::naive).
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

// Blocks of block_lanes walkers in SIMD lanes (MoveKernel::fast): each thread copies a block
// into lane layout [dim][particle][lane], runs all the moves there, and copies it back.
template <int D, int NC>
std::uint64_t run_blocks(const MoveParams& mp, float* x, double* energy, int count, std::uint32_t first,
                         std::uint64_t counter0, std::uint64_t moves, float step) {
  constexpr int B = block_lanes;
  const int n = mp.system.n_particles, stride = n * D;
  const int blocks = (count + B - 1) / B;
  std::uint64_t accepted = 0;
#pragma omp parallel reduction(+ : accepted)
  {
    std::vector<float> xb(static_cast<size_t>(stride) * B);  // per thread, per run() call
    alignas(64) double eb[B];
#pragma omp for schedule(static)
    for (int b = 0; b < blocks; ++b) {
      const int w0 = b * B, active = std::min(B, count - w0);
      for (int l = 0; l < B; ++l) {
        const int w = w0 + std::min(l, active - 1);  // idle lanes carry a copy of the last walker
        for (int k = 0; k < stride; ++k) xb[static_cast<size_t>(k) * B + l] = x[static_cast<size_t>(w) * stride + k];
        eb[l] = energy[w];
      }
      accepted += run_block<D, NC>(mp, xb.data(), eb, active, first + w0, counter0, moves, step);
      for (int l = 0; l < active; ++l) {
        for (int k = 0; k < stride; ++k) x[static_cast<size_t>(w0 + l) * stride + k] = xb[static_cast<size_t>(k) * B + l];
        energy[w0 + l] = eb[l];
      }
    }
  }
  return accepted;
}

}  // namespace

std::uint64_t WalkerSet::run(std::uint64_t moves, float step, MoveKernel kernel) {
  const int D = params_.system.box.dimension;
  std::uint64_t acc;
  const int n = params_.system.n_particles;
  auto go = [&]<int Dim, int NC>() {
    switch (kernel) {
      case MoveKernel::fast:
        return run_blocks<Dim, NC>(params_, x_.data(), energy_.data(), count_, first_, moves_done_, moves, step);
      case MoveKernel::single:
        return run_walkers<Dim, MoveKernel::single, NC>(params_, x_.data(), energy_.data(), count_, stride_, first_,
                                                        moves_done_, moves, step);
      default:
        return run_walkers<Dim, MoveKernel::naive, NC>(params_, x_.data(), energy_.data(), count_, stride_, first_,
                                                       moves_done_, moves, step);
    }
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

void WalkerSet::restore(std::span<const float> configs, std::span<const double> energies, std::uint64_t moves_done) {
  if (configs.size() != static_cast<size_t>(count_) * stride_ || energies.size() != static_cast<size_t>(count_))
    throw Error(ExitCode::failure, "WalkerSet::restore: state of the wrong size");
  for (int w = 0; w < count_; ++w) set_configuration(w, configs.subspan(static_cast<size_t>(w) * stride_, stride_));
  std::copy(energies.begin(), energies.end(), energy_.begin());
  moves_done_ = moves_done;
}

}  // namespace boltzmap
