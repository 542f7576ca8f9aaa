// boltzmap check FILE [--ranks R]: everything about a run that can be known before it starts —
// the input validated and resolved, the backend of each stage, the role split, which stages
// `boltzmap run` would run or skip in the run folder as it is, and per stage the work, the files,
// and estimates of wall time, memory per rank and disk (app/resources.hpp) for a job of R ranks ×
// this process's threads. Writes nothing and takes no lock. Exit codes as the run would give them
// for the input (3), the backend (6), the role split (3); 4 when the estimated output does not fit
// in the free space of the run folder's file system. Memory beyond this host's is a note, not an
// error: the job may run on other nodes. Tests: tests/app/check.sh.
#include <omp.h>
#include <sys/statvfs.h>

#include <cstdio>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "app/commands.hpp"
#include "app/job_input.hpp"
#include "app/resources.hpp"
#include "core/backend.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "parallel/roles.hpp"

namespace boltzmap {

namespace {

// Free bytes on the file system that holds `dir` (or its nearest existing parent); < 0 if unknown.
double free_bytes(std::filesystem::path dir) {
  dir = std::filesystem::absolute(dir);
  while (!dir.empty() && !std::filesystem::exists(dir) && dir != dir.parent_path()) dir = dir.parent_path();
  struct statvfs st {};
  if (statvfs(dir.c_str(), &st) != 0) return -1;
  return static_cast<double>(st.f_bavail) * static_cast<double>(st.f_frsize);
}

}  // namespace

int cmd_check(const CheckArgs& args, const Comm& comm, const Accelerators& acc) {
  const Experiment e = load_job_input(args.input, args.sets, comm);
  const std::vector<PipelineStage> stages = {PipelineStage::sample, PipelineStage::train, PipelineStage::map,
                                             PipelineStage::analyze};
  const std::vector<Backend> backends = resolve_backends(e.backend, stages, acc, e.source_file);
  const int ranks = args.ranks > 0 ? args.ranks : comm.size();
  const std::string where = e.parallel.where.empty() ? std::string("parallel.sampler_ranks") : e.parallel.where;
  const std::vector<Role> roles =
      assign_roles(ranks, e.parallel.sampler_ranks, args.sampler_ranks_given ? std::string("--sampler-ranks") : where);
  if (!comm.root()) return 0;
  const int threads = omp_get_max_threads();

  std::string out;
  if (args.show_input) out += fmt::format("# resolved input ({}; every key with its effective value)\n{}\n", args.input, e.resolved_toml);
  out += fmt::format("{}: valid. Run folder {}; a job of {} rank(s) × {} thread(s){}.\n", args.input, e.output_dir, ranks,
                     threads, args.ranks > 0 ? " (--ranks)" : " (this job; --ranks R plans another)");
  for (std::size_t k = 0; k < stages.size(); ++k)
    out += fmt::format("  {:<8} {}\n", stage_name(stages[k]), backends[k].reason);
  out += fmt::format("  roles    {}\n", describe_roles(roles));

  std::map<std::string, bool> current;
  for (const auto& [name, up_to_date] : run_stages_up_to_date(e)) current[name] = up_to_date;
  const std::vector<StagePlan> plans = plan_stages(e, ranks, threads);
  double seconds = 0, disk = 0, memory = 0;
  out += "\nWhat each stage will do (estimates from the rates measured on the reference machine, README "
         "\"Performance\"; good to a factor of 2–3 on similar cores):\n";
  for (const StagePlan& p : plans) {
    std::string key = p.stage;
    if (key.rfind("sample ", 0) == 0) key = "sample_" + key.substr(7);
    const auto it = current.find(key);
    const std::string status = it == current.end() ? "not part of `run`"
                               : it->second         ? "up to date: `run` skips it"
                                                    : "`run` runs it";
    out += fmt::format("\n{} ({})\n  {}\n  on {}; writes {}\n  time ≈ {}, memory ≈ {} per rank, disk ≈ {}\n", p.stage, status,
                       p.work, p.where, p.writes, human_seconds(p.seconds), human_bytes(p.memory), human_bytes(p.disk));
    if (it != current.end() && !it->second) {
      seconds += p.seconds;
      disk += p.disk;
      memory = std::max(memory, p.memory);
    }
  }
  const double have = free_bytes(e.output_dir);
  out += fmt::format("\n`boltzmap run` from here: time ≈ {}, memory ≈ {} per rank at most, disk ≈ {} ({} free there)\n",
                     human_seconds(seconds), human_bytes(memory), human_bytes(disk),
                     have < 0 ? std::string("unknown") : human_bytes(have));
  const double host = available_memory();
  if (host > 0 && memory > host)
    out += fmt::format("Note: a stage needs more memory per rank than this host (or job) has, {}: here `run` would stop "
                       "with exit 3 before that stage; on other nodes, compare with their memory\n",
                       human_bytes(host));
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
  if (have >= 0 && disk > have)
    throw io_error(fmt::format("{}: the run needs about {} of disk, but the file system of {} has {} free", args.input,
                               human_bytes(disk), e.output_dir, human_bytes(have)));
  return 0;
}

}  // namespace boltzmap
