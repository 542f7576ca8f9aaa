// See job_input.hpp.
#include "app/job_input.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "physics/experiment_physics.hpp"

namespace boltzmap {

namespace {

// The parser's checks, then those that need physics (core/ knows none): one validated input.
Experiment load_checked(const std::string& path, const std::vector<std::string>& overrides) {
  Experiment e = load_experiment(path, overrides);
  check_experiment_physics(e);
  return e;
}

}  // namespace

Experiment load_job_input(const std::string& path, const std::vector<std::string>& overrides, const Comm& comm) {
  if (comm.size() == 1) return load_checked(path, overrides);
  // Rank 0's outcome: "ok" and the resolved text, or the exit code of its error.
  std::string status = "ok", resolved;
  Experiment e;
  if (comm.root()) {
    try {
      e = load_checked(path, overrides);
      resolved = e.resolved_toml;
    } catch (const Error& err) {
      status = std::to_string(static_cast<int>(err.code()));
      comm.broadcast(status);
      throw;
    }
  }
  comm.broadcast(status);
  if (status != "ok") throw ReportedError(static_cast<ExitCode>(std::stoi(status)));
  comm.broadcast(resolved);
  // What the resolved text cannot say: whether a key with a default was set (it lists every key).
  std::string given = comm.root() && e.analysis.bootstrap_scheme_given ? "1" : "0";
  comm.broadcast(given);
  if (comm.root()) return e;
  // The resolved text names its origin on its first line; parsing it with the same origin gives
  // back the same text exactly (the resolved input is a fixed point of parse + resolve).
  Experiment mine = parse_experiment(resolved, path);
  mine.source_file = path;
  mine.analysis.bootstrap_scheme_given = given == "1";
  if (mine.resolved_toml != resolved)
    throw Error(ExitCode::failure, fmt::format("{}: rank {} re-read rank 0's resolved input differently (a bug)", path,
                                               comm.rank()));
  return mine;
}

void check_same_command_line(int argc, char** argv, const Comm& comm) {
  if (comm.size() == 1) return;
  std::string mine;
  for (int k = 1; k < argc; ++k) mine += std::string(k > 1 ? " " : "") + argv[k];
  std::string root = mine;
  comm.broadcast(root);
  const int first_differing = comm.rank() != 0 && mine != root ? comm.rank() : comm.size();
  int lowest = first_differing;
  MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &lowest, 1, MPI_INT, MPI_MIN, comm.raw()));
  if (lowest == comm.size()) return;
  // The differing rank's command line, for rank 0's message.
  const std::vector<std::string> all = comm.gather(mine);
  if (!comm.root()) throw ReportedError(ExitCode::usage);
  throw Error(ExitCode::usage,
              fmt::format("the ranks of this job were started with different arguments: rank 0 has `{}`, rank {} has "
                          "`{}`; every rank must run the same command (one input, one set of --set overrides)",
                          root, lowest, all[static_cast<std::size_t>(lowest)]));
}

}  // namespace boltzmap
