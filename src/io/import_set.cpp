// See import_set.hpp.
#include "io/import_set.hpp"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "core/error.hpp"
#include "physics/box.hpp"
#include "physics/energy.hpp"
#include "physics/experiment_physics.hpp"

namespace boltzmap {

Frames imported_frames(const Trajectory& t, const std::string& path, const Experiment& e, char label) {
  const int N = e.box.n_particles, D = e.box.dimension;
  const SystemConfig& cfg = e.system(label);
  const System sys = physical_system(cfg, D, N);
  const double L = sys.box.length;
  const std::string who = fmt::format("system {} of {} (N = {}, {}D, L = (N/ρ)^(1/d) = {:.10g})", label, e.source_file, N, D, L);
  const std::int64_t F = t.frames();
  if (F == 0) throw io_error(path + ": holds no frames");
  if (t.dimension != 0 && t.dimension != D)
    throw io_error(fmt::format("{}: a {}D file (its {}); {} is {}D", path, t.dimension,
                               t.dimension == 2 || t.dimension == 3 ? "dimensions / pbc" : "header", who, D));
  if (t.particles != N) throw io_error(fmt::format("{}: frame 0 has {} particles; {} needs {}", path, t.particles, who, N));
  if (t.positions.size() != static_cast<std::size_t>(F) * N * 3 || t.box.size() != static_cast<std::size_t>(F))
    throw io_error(fmt::format("{}: {} coordinates and {} boxes for {} frames of {} particles", path, t.positions.size(),
                               t.box.size(), F, N));
  Frames out;
  out.meta.frames = F;
  out.meta.particles = N;
  out.meta.dimension = D;
  out.meta.box_length = L;
  out.positions.resize(static_cast<std::size_t>(F) * N * D);
  out.energies.resize(static_cast<std::size_t>(F));
  out.walkers.assign(static_cast<std::size_t>(F), -1);   // unknown: not made by boltzmap's walkers
  out.mc_moves.assign(static_cast<std::size_t>(F), -1);
  const char axis[3] = {'x', 'y', 'z'};
  const double inv_L = 1.0 / L;
  for (std::int64_t k = 0; k < F; ++k) {
    const auto f = static_cast<std::size_t>(k);
    for (int a = 0; a < D; ++a)
      if (!(std::abs(t.box[f][static_cast<std::size_t>(a)] - L) <= kImportBoxTolerance * L))
        throw io_error(fmt::format("{}: frame {}: box L{} = {:.10g}; {} needs L = {:.10g} (within {:g}·L)", path, k, axis[a],
                                   t.box[f][static_cast<std::size_t>(a)], who, L, kImportBoxTolerance));
    const float* x = &t.positions[f * N * 3];
    for (int i = 0; i < N; ++i)
      for (int a = 0; a < 3; ++a)
        if (!std::isfinite(x[i * 3 + a]))
          throw io_error(fmt::format("{}: frame {}, particle {}: coordinate {} = {} is not finite", path, k, i, axis[a], x[i * 3 + a]));
    if (D == 2)
      for (int i = 1; i < N; ++i)
        if (std::abs(x[i * 3 + 2] - x[2]) > 1e-6 * L)
          throw io_error(fmt::format("{}: frame {}, particle {}: z = {} but particle 0 has z = {}; {} is 2D (all z in one plane)",
                                     path, k, i, x[i * 3 + 2], x[2], who));
    float* y = &out.positions[f * N * D];
    for (int i = 0; i < N; ++i)
      for (int a = 0; a < D; ++a) {
        float w = static_cast<float>(wrap_into_box(static_cast<double>(x[i * 3 + a]), L, inv_L));
        if (w >= static_cast<float>(L)) w = 0.0f;  // just below L rounds to L in float: the image 0
        y[i * D + a] = w;
      }
  }
  // Energies and the closest pair, in parallel over frames; the checks after the loop.
  std::vector<double> closest(static_cast<std::size_t>(F), std::numeric_limits<double>::infinity());
#pragma omp parallel for schedule(static)
  for (std::int64_t k = 0; k < F; ++k) {
    const auto f = static_cast<std::size_t>(k);
    const std::span<const float> x(&out.positions[f * N * D], static_cast<std::size_t>(N) * D);
    out.energies[f] = total_energy(sys, x);
    double r2 = std::numeric_limits<double>::infinity();
    for (int i = 0; i < N; ++i)
      for (int j = i + 1; j < N; ++j) r2 = std::min(r2, squared_distance(sys, &x[i * D], &x[j * D]));
    closest[f] = std::sqrt(r2);
  }
  for (std::int64_t k = 0; k < F; ++k) {
    const auto f = static_cast<std::size_t>(k);
    if (closest[f] < kImportMinDistance * cfg.sigma)
      throw io_error(fmt::format("{}: frame {}: two particles {:.4g} apart (under {}σ = {:.4g}): overlapping, not a configuration "
                                 "of {} (energy U = {:.6g})",
                                 path, k, closest[f], kImportMinDistance, kImportMinDistance * cfg.sigma, who, out.energies[f]));
    if (!std::isfinite(out.energies[f]))
      throw io_error(fmt::format("{}: frame {}: energy U = {} is not finite under {}'s potential", path, k, out.energies[f], who));
  }
  return out;
}

}  // namespace boltzmap
