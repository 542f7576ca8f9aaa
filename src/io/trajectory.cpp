// See trajectory.hpp.
#include "io/trajectory.hpp"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "core/error.hpp"
#include "io/gsd.hpp"
#include "io/lammps.hpp"
#include "io/xyz.hpp"

namespace boltzmap {

const std::vector<double>* Trajectory::find(const std::string& name) const {
  for (const auto& [n, v] : data)
    if (n == name) return &v;
  return nullptr;
}

Format format_named(const std::string& name) {
  if (name == "gsd") return Format::gsd;
  if (name == "xyz" || name == "extxyz") return Format::xyz;
  if (name == "lammps-data") return Format::lammps_data;
  if (name == "lammps-dump") return Format::lammps_dump;
  throw Error(ExitCode::usage, "unknown format '" + name + "' (gsd, xyz, lammps-data, lammps-dump)");
}

const char* format_name(Format f) {
  switch (f) {
    case Format::gsd: return "gsd";
    case Format::xyz: return "xyz";
    case Format::lammps_data: return "lammps-data";
    case Format::lammps_dump: return "lammps-dump";
  }
  return "?";
}

Format format_of_path(const std::string& path, const std::string& what) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".gsd") return Format::gsd;
  if (ext == ".xyz" || ext == ".extxyz") return Format::xyz;
  if (ext == ".data" || ext == ".lmp") return Format::lammps_data;
  if (ext == ".dump" || ext == ".lammpstrj") return Format::lammps_dump;
  throw Error(ExitCode::usage, fmt::format("{}: cannot tell the format from the suffix '{}' (.gsd, .xyz/.extxyz, .data/.lmp, "
                                           ".dump/.lammpstrj); give {}",
                                           path, ext, what));
}

Trajectory trajectory_of_h5md(const std::string& path, std::int64_t first, std::int64_t count) {
  const Frames f = read_h5md(path);
  if (count < 0) count = std::max<std::int64_t>(f.meta.frames - first, 0);
  if (first < 0 || first + count > f.meta.frames || (count == 0 && f.meta.frames > 0))
    throw Error(ExitCode::usage, fmt::format("{}: frames {}..{} asked for, the file has {} (0..{})", path, first, first + count - 1,
                                  f.meta.frames, f.meta.frames - 1));
  const int N = f.meta.particles, D = f.meta.dimension;
  if (D != 2 && D != 3) throw io_error(fmt::format("{}: {}D configurations; export takes 2D or 3D", path, D));
  Trajectory t;
  t.particles = N;
  t.dimension = D;
  const auto sys = f.meta.attributes.find("boltzmap_system");
  if (sys != f.meta.attributes.end() && !sys->second.empty()) t.species = sys->second;
  const double L = f.meta.box_length;
  const std::size_t row = static_cast<std::size_t>(N) * static_cast<std::size_t>(D);
  t.positions.assign(static_cast<std::size_t>(count) * static_cast<std::size_t>(N) * 3, 0.0f);
  for (std::int64_t k = 0; k < count; ++k) {
    const std::size_t src = static_cast<std::size_t>(first + k);
    t.box.push_back({L, L, D == 2 ? 0.0 : L});
    t.steps.push_back(static_cast<std::int64_t>(src));  // H5MD step: the frame index
    for (int i = 0; i < N; ++i)
      for (int d = 0; d < D; ++d)
        t.positions[(static_cast<std::size_t>(k) * N + i) * 3 + d] = f.positions[src * row + static_cast<std::size_t>(i * D + d)];
  }
  auto slice = [&](const std::vector<double>& v) {
    return std::vector<double>(v.begin() + first, v.begin() + first + count);
  };
  if (f.energies.size() == static_cast<std::size_t>(f.meta.frames)) t.data.emplace_back("potential_energy", slice(f.energies));
  for (const auto& name : list_observables(path)) {
    if (name == "potential_energy") continue;
    const std::vector<double> v = read_observable(path, name);
    if (v.size() != static_cast<std::size_t>(f.meta.frames))
      throw io_error(fmt::format("{}: /observables/{} has {} values for {} frames", path, name, v.size(), f.meta.frames));
    t.data.emplace_back(name, slice(v));
  }
  return t;
}

void write_trajectory(const std::string& path, Format f, const Trajectory& t, const std::string& title) {
  switch (f) {
    case Format::gsd: return write_gsd(path, t, title);
    case Format::xyz: return write_xyz(path, t);
    case Format::lammps_data:
      if (t.frames() != 1)
        throw Error(ExitCode::usage, fmt::format("{}: a LAMMPS data file holds one frame, {} selected (use --frame K)", path, t.frames()));
      return write_lammps_data(path, t, 0, title);
    case Format::lammps_dump: return write_lammps_dump(path, t);
  }
}

Trajectory read_trajectory(const std::string& path, Format f) {
  if (!std::filesystem::exists(path)) throw io_error(path + ": no such file");
  try {
    switch (f) {
      case Format::gsd: return read_gsd(path);
      case Format::xyz: return read_xyz(path);
      case Format::lammps_data: return read_lammps_data(path);
      case Format::lammps_dump: return read_lammps_dump(path);
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {  // a number the parsers' std::stol / stoll could not read
    throw io_error(fmt::format("{}: not a readable {} file ({})", path, format_name(f), e.what()));
  }
  return {};
}

}  // namespace boltzmap
