// boltzmap export FILE.h5 -o OUT [--format gsd|xyz|lammps-data|lammps-dump] [--frames FIRST[:COUNT]]
// [--frame K]: a configuration file (data/*.h5, mapped/*.h5, any boltzmap H5MD file) for
// visualisers and other codes, with the box and every observable of the file (energies,
// log-weights, ...) as per-frame data. Formats and conventions: io/trajectory.hpp, io/gsd.hpp,
// io/xyz.hpp, io/lammps.hpp; README "Export and import". Runs on rank 0 (a serial read and write).
// Tests: tests/app/export_import.sh.
#include <filesystem>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "app/commands.hpp"
#include "core/error.hpp"
#include "io/files.hpp"
#include "io/trajectory.hpp"
#include "version.hpp"

namespace boltzmap {

namespace {

// "FIRST", "FIRST:" (to the end) or "FIRST:COUNT" → {first, count}, count −1 = to the end.
std::pair<std::int64_t, std::int64_t> parse_frames(const std::string& s) {
  auto number = [&](const std::string& w) {
    std::size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(w, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != w.size() || w.empty() || v < 0)
      throw Error(ExitCode::usage, "--frames " + s + ": expected FIRST, FIRST: or FIRST:COUNT (non-negative integers)");
    return static_cast<std::int64_t>(v);
  };
  const auto colon = s.find(':');
  if (colon == std::string::npos) return {number(s), -1};
  const std::string rest = s.substr(colon + 1);
  return {number(s.substr(0, colon)), rest.empty() ? -1 : number(rest)};
}

}  // namespace

int cmd_export(const ExportArgs& args, const Comm& comm) {
  if (!comm.root()) return 0;
  const Format f = args.format.empty() ? format_of_path(args.output, "--format") : format_named(args.format);
  if (!args.frames.empty() && args.frame >= 0) throw Error(ExitCode::usage, "give --frames or --frame, not both");
  std::int64_t first = 0, count = f == Format::lammps_data ? 1 : -1;
  if (!args.frames.empty()) std::tie(first, count) = parse_frames(args.frames);
  if (args.frame >= 0) first = args.frame, count = 1;
  if (!std::filesystem::exists(args.file)) throw io_error(args.file + ": no such file");
  std::error_code ec;
  if (std::filesystem::equivalent(args.file, args.output, ec))
    throw Error(ExitCode::usage, args.output + ": is the file being exported");
  const Trajectory t = trajectory_of_h5md(args.file, first, count);
  const std::string parent = std::filesystem::path(args.output).parent_path().string();
  if (!parent.empty()) ensure_directory(parent);
  std::string title;
  if (f == Format::gsd) {
    title = fmt::format("boltzmap {}", build::version);
  } else {
    title = fmt::format("boltzmap export of {} frame {} (system {}, step {})", args.file, first, t.species,
                        t.steps.empty() ? 0 : t.steps[0]);
    for (const auto& [name, v] : t.data) title += fmt::format(", {} = {:.17g}", name, v[0]);
  }
  write_trajectory(args.output, f, t, title);
  std::string data;
  for (const auto& [name, v] : t.data) data += (data.empty() ? "" : ", ") + name;
  spdlog::info("wrote {} ({}): {} frame(s) {}..{} of {} ({} particles, {}D){}", args.output, format_name(f), t.frames(), first,
               first + t.frames() - 1, args.file, t.particles, t.dimension,
               data.empty() ? "" : "; per-frame data: " + data);
  return 0;
}

}  // namespace boltzmap
