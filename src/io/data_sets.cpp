// See data_sets.hpp.
#include "io/data_sets.hpp"

#include <cmath>
#include <filesystem>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/error.hpp"
#include "io/run_folder.hpp"
#include "physics/box.hpp"

namespace boltzmap {

std::string data_set_path(const std::string& run, char label, const std::string& set) {
  return RunFolder{run}.data_set(label, set);
}

std::vector<std::string> physics_keys(const Experiment& e, char label) {
  const std::string s = fmt::format("systems.{}.", label);
  std::vector<std::string> keys = {"box.dimension", "box.n_particles", s + "potential", s + "epsilon", s + "sigma"};
  if (e.system(label).potential == "lj") keys.push_back(s + "cutoff");  // WCA ignores it
  for (const char* k : {"inner_cutoff", "temperature", "density"}) keys.push_back(s + k);
  return keys;
}

void check_same_physics(const std::string& path, const std::string& stored_input, const Experiment& e,
                        const std::string& systems, const std::string& what) {
  if (stored_input.empty())
    throw io_error(path + ": has no @boltzmap_input, so where it came from cannot be checked (not written by boltzmap?)");
  const auto was = resolved_values(stored_input), now = resolved_values(e.resolved_toml);
  for (char label : systems)
    for (const auto& key : physics_keys(e, label)) {
      const auto a = was.find(key), b = now.find(key);
      const std::string va = a == was.end() ? "(absent)" : a->second, vb = b == now.end() ? "(absent)" : b->second;
      if (va != vb)
        throw io_error(fmt::format("{}: {} for other physics than {}: {} = {} in the file, {} in the input; re-run the "
                                   "stage that writes it, or restore the input",
                                   path, what, e.source_file, key, va, vb));
    }
}

void check_data_set_meta(const std::string& path, const FrameMeta& meta, const Experiment& e, char label,
                         const std::string& set) {
  const std::string want_label(1, label);
  const auto attr = [&](const char* k) {
    const auto it = meta.attributes.find(k);
    return it == meta.attributes.end() ? std::string("(absent)") : it->second;
  };
  if (attr("boltzmap_system") != want_label || attr("boltzmap_set") != set)
    throw io_error(fmt::format("{}: holds system {}'s {} set (@boltzmap_system, @boltzmap_set), where system {}'s {} set "
                               "belongs; files swapped or copied in? Run `boltzmap sample {} --system {}` again",
                               path, attr("boltzmap_system"), attr("boltzmap_set"), want_label, set, e.source_file,
                               want_label));
  const int N = e.box.n_particles, D = e.box.dimension;
  if (meta.particles != N || meta.dimension != D)
    throw io_error(fmt::format("{}: frames of {} particles in {}D; {} needs N = {} in {}D", path, meta.particles,
                               meta.dimension, e.source_file, N, D));
  check_same_physics(path, attr("boltzmap_input") == "(absent)" ? "" : attr("boltzmap_input"), e, want_label,
                     "sampled");
  const double L = box_length(N, e.system(label).density, D);
  if (!(std::abs(meta.box_length - L) <= 1e-9 * L))
    throw io_error(fmt::format("{}: box edge {:.10g} in /particles/all/box/edges/value, but system {} of {} has L = {:.10g}",
                               path, meta.box_length, want_label, e.source_file, L));
}

void check_coordinates(const std::string& path, std::span<float> positions, std::int64_t first_frame,
                       std::int64_t frames, int N, int D, double L) {
  const std::size_t row = static_cast<std::size_t>(N) * D;
  // Finite, then inside the box. Our own files hold [0, L); a coordinate further out than
  // round-off came from elsewhere, and is folded back (a periodic image: the same configuration).
  const float Lf = static_cast<float>(L);
  const double slack = 1e-5 * L;
  std::int64_t moved = 0;
  double worst = 0;
  for (std::size_t i = 0; i < positions.size(); ++i) {
    float& x = positions[i];
    if (!std::isfinite(x))
      throw io_error(fmt::format("{}: frame {} (of {}), particle {}, axis {}: coordinate {} is not finite", path,
                                 first_frame + static_cast<std::int64_t>(i / row), frames, (i % row) / D, i % D, x));
    if (x >= 0.0f && x < Lf) continue;
    const double outside = x < 0 ? -static_cast<double>(x) : static_cast<double>(x) - L;
    if (outside > slack) ++moved;
    worst = std::max(worst, outside);
    x = static_cast<float>(static_cast<double>(x) - L * std::floor(static_cast<double>(x) / L));
    if (x >= Lf) x = 0.0f;  // x just below 0 rounds up to L
  }
  if (moved > 0)
    spdlog::warn("{}: {} coordinates of frames {}…{} lay outside the box [0, {:.6g}) (up to {:.4g} outside); wrapped "
                 "into it (periodic images, energies unchanged)",
                 path, moved, first_frame, first_frame + static_cast<std::int64_t>(positions.size() / row) - 1, L, worst);
}

void check_data_set(const std::string& path, Frames& f, const Experiment& e, char label, const std::string& set) {
  check_data_set_meta(path, f.meta, e, label, set);
  const int N = e.box.n_particles, D = e.box.dimension;
  const std::size_t row = static_cast<std::size_t>(N) * D;
  if (f.positions.size() != static_cast<std::size_t>(f.meta.frames) * row)
    throw io_error(fmt::format("{}: {} coordinates for {} frames of {} × {}", path, f.positions.size(), f.meta.frames, N, D));
  check_coordinates(path, f.positions, 0, f.meta.frames, N, D, box_length(N, e.system(label).density, D));
}

Frames read_data_set(const Experiment& e, char label, const std::string& set) {
  const std::string path = data_set_path(e.output_dir, label, set);
  if (!std::filesystem::exists(path))
    throw io_error(fmt::format("{}: missing (run `boltzmap sample {} --system {}` with systems.{}.datasets.{} > 0)", path,
                               e.source_file, label, label, set));
  Frames f = read_h5md(path);
  check_data_set(path, f, e, label, set);
  return f;
}

DataSetReader::DataSetReader(const Experiment& e, char label, const std::string& set)
    : path_(data_set_path(e.output_dir, label, set)) {
  if (!std::filesystem::exists(path_))
    throw io_error(fmt::format("{}: missing (run `boltzmap sample {} --system {}` with systems.{}.datasets.{} > 0)", path_,
                               e.source_file, label, label, set));
  rows_ = std::make_unique<H5mdRows>(path_);
  check_data_set_meta(path_, rows_->meta(), e, label, set);
  n_ = e.box.n_particles;
  d_ = e.box.dimension;
  L_ = box_length(n_, e.system(label).density, d_);
}

void DataSetReader::positions(std::int64_t first, std::int64_t count, std::vector<float>& out) const {
  rows_->positions(first, count, out);
  check_coordinates(path_, out, first, rows_->frames(), n_, d_, L_);
}

}  // namespace boltzmap
