// See stage_start.hpp.
#include "app/stage_start.hpp"

#include <omp.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/error.hpp"

namespace boltzmap {

Backend resolve_stage_backend(const Experiment& e, PipelineStage s, const Accelerators& acc) {
  // The train and map stages' CUDA code exists for the real-NVP only (flow/train_steps_cuda.hpp,
  // analysis/mapping_cuda.hpp).
  if ((s == PipelineStage::train || s == PipelineStage::map) && e.flow.kind != "realnvp") {
    const std::string why = "flow.kind = \"" + e.flow.kind + "\" has no CUDA implementation in this version";
    const std::string stage = stage_name(s);
    if (e.backend == "cuda")
      throw Error(ExitCode::backend, e.source_file + ": backend = \"cuda\" for the " + stage + " stage, but " + why +
                                         "; use backend = \"cpu\" or \"auto\"");
    Backend b = resolve_backend("cpu", s, acc, e.source_file);
    b.requested = e.backend;
    if (e.backend == "auto") b.reason = "backend auto: the " + stage + " stage runs on the CPU (" + why + ")";
    return b;
  }
  return resolve_backend(e.backend, s, acc, e.source_file);
}

std::vector<Role> job_roles(const Experiment& e, const Comm& comm, bool from_command_line) {
  try {
    return assign_roles(comm.size(), e.parallel.sampler_ranks, from_command_line ? "--sampler-ranks" : e.parallel.where);
  } catch (const Error& err) {
    if (!comm.root()) throw ReportedError(err.code());
    throw;
  }
}

void log_role_split(const Experiment& e, const Comm& comm, const std::vector<Role>& roles) {
  if (!comm.root()) return;
  bool pool = false;  // a phase trains L_inv: there is a source pool
  for (const auto& p : e.training.phases) pool |= p.lambda_inv > 0;
  const bool samplers = e.parallel.sampler_ranks > 0 && comm.size() > 1;
  spdlog::info("role split (sampler_ranks = {} of {} rank(s)): {}; the trainer ranks split each batch{}",
               e.parallel.sampler_ranks, comm.size(), describe_roles(roles),
               !samplers ? " and keep the source pool themselves"
               : pool    ? "; the sampler ranks hold the source pool and stream each step's batch to them"
                         : "; the sampler ranks wait (no phase trains L_inv: there is no source pool)");
}

void log_stage_start(const Comm& comm, const std::string& role, const Backend& backend) {
  const std::string device =
      backend.kind == BackendKind::cpu ? fmt::format("cpu ({} threads)", omp_get_max_threads()) : backend.device;
  const auto lines = comm.gather(fmt::format("{:>5}  {:<20} {:<26} {}", comm.rank(), host_name(), role, device));
  if (!comm.root()) return;
  spdlog::info("{}", backend.reason);
  spdlog::info("{:>5}  {:<20} {:<26} {}", "rank", "host", "role", "backend/device");
  for (const auto& l : lines) spdlog::info("{}", l);
}

}  // namespace boltzmap
