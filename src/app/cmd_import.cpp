// boltzmap import FILE.toml TRAJECTORY --system A|B --set-name train|validation|evaluation
// [--format gsd|xyz|lammps-data|lammps-dump]: configurations made by another code become a data
// set of the run folder (data/<X>_<set>.h5), as `boltzmap sample` would have written it — the same
// layout and provenance attributes (@boltzmap_input, @boltzmap_system, @boltzmap_set), so every
// later stage accepts it — plus @boltzmap_origin naming the file it came from. Positions are read,
// checked against the system (io/import_set.hpp), wrapped into [0, L), and their energies
// recomputed with boltzmap's potential. Takes the run folder's lock; the file is written to
// .partial and renamed when complete (H5mdWriter). Rank 0 writes, every rank checks alike.
// Tests: tests/app/export_import.sh.
#include <filesystem>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "app/commands.hpp"
#include "app/job_input.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "io/data_sets.hpp"
#include "io/files.hpp"
#include "io/h5md.hpp"
#include "io/import_set.hpp"
#include "io/run_folder.hpp"
#include "io/run_lock.hpp"
#include "io/trajectory.hpp"
#include "parallel/all_or_none.hpp"
#include "version.hpp"

namespace boltzmap {

int cmd_import(const ImportArgs& args, const Comm& comm) {
  const Experiment e = load_job_input(args.input, args.sets, comm);
  const char label = args.system.at(0);
  const std::string& set = args.set_name;
  const Format format = args.format.empty() ? format_of_path(args.file, "--format") : format_named(args.format);
  const std::string run = e.output_dir;
  const RunFolder folder{run};
  const RunLock lock(run, comm, "import");  // before anything is written there
  // The file first: one that does not fit the input leaves the run folder as it was.
  Frames fr;
  all_or_none(comm, [&] { fr = imported_frames(read_trajectory(args.file, format), args.file, e, label); });
  if (comm.root()) {
    check_writable_directory(run);
    check_writable_directory(folder.data());
    write_text_atomic(folder.input(), e.resolved_toml);
    log_to_file(folder.log());
    spdlog::info("boltzmap {} (git {}) import {} ({}) → system {}'s {} set of {}", build::version, build::git_hash, args.file,
                 format_name(format), label, set, run);
  }
  comm.barrier();
  fr.meta.attributes = {{"boltzmap_input", e.resolved_toml},
                        {"boltzmap_system", std::string(1, label)},
                        {"boltzmap_set", set},
                        {"boltzmap_version", std::string(build::version) + " (" + build::git_hash + ")"},
                        {"boltzmap_origin", fmt::format("imported by `boltzmap import` from {} ({}, {} frames); energies recomputed",
                                                        std::filesystem::absolute(args.file).string(), format_name(format),
                                                        fr.meta.frames)}};
  fr.meta.author = e.author;
  const std::string path = folder.data_set(label, set);
  {
    H5mdWriter w(path, fr.meta, comm);
    const std::int64_t n = comm.root() ? fr.meta.frames : 0;
    w.write(0, n, fr.positions, fr.energies, fr.walkers, fr.mc_moves);
    w.close();
  }
  // What the later stages will do with it, done once now: a file they would refuse is found here.
  all_or_none(comm, [&] { read_data_set(e, label, set); });
  if (comm.root()) {
    double mean = 0;
    for (double u : fr.energies) mean += u / static_cast<double>(fr.energies.size());
    spdlog::info("wrote {}: {} frames of system {} ({} set), mean U = {:.6g} (per particle {:.6g})", path, fr.meta.frames, label,
                 set, mean, mean / fr.meta.particles);
    const DatasetSizes& ds = e.system(label).datasets;
    const std::int64_t asked = set == "train" ? ds.train : set == "validation" ? ds.validation : ds.evaluation;
    if (asked != fr.meta.frames)
      spdlog::info("(systems.{}.datasets.{} in the input asks `boltzmap sample` for another number; import keeps all {} frames)",
                   label, set, fr.meta.frames);
  }
  return 0;
}

}  // namespace boltzmap
