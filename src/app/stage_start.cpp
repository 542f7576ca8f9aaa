// See stage_start.hpp.
#include "app/stage_start.hpp"

#include <omp.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace boltzmap {

Backend resolve_stage_backend(const Experiment& e, PipelineStage s, const Accelerators& acc) {
  return resolve_backend(e.backend, s, acc, e.source_file);
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
