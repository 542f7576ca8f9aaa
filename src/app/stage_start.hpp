// What every subcommand does and says at start (STYLE 10): the backend of its stage, resolved from
// the input's `backend` key and the accelerators main() probed once (core/backend.hpp: a stage
// without a CUDA implementation refuses backend = "cuda" with exit 6), and the table rank → host →
// role → backend/device, gathered on rank 0, one line per rank, that every subcommand prints.
// Also the role split of [parallel] (parallel/roles.hpp), checked against the job's rank count.
// Tests: tests/app/stages.sh, tests/mpi/determinism.sh (the sampler rows).
#pragma once
#include <string>

#include "core/backend.hpp"
#include "core/config.hpp"
#include "parallel/comm.hpp"
#include "parallel/roles.hpp"

namespace boltzmap {

// The backend stage `s` of experiment e runs on (the same on every rank of one host).
Backend resolve_stage_backend(const Experiment& e, PipelineStage s, const Accelerators& acc);

// Collective in effect (every rank decides alike): each rank's role under [parallel] sampler_ranks
// (or --sampler-ranks, when `from_command_line`) for this job's ranks. An impossible split is an
// input error, reported by rank 0 with where the value came from (ReportedError elsewhere).
std::vector<Role> job_roles(const Experiment& e, const Comm& comm, bool from_command_line);

// Rank 0 logs the split and what it does (trainers train; sampler ranks serve the source pool).
void log_role_split(const Experiment& e, const Comm& comm, const std::vector<Role>& roles);

// The role of a rank that waits while rank 0 does a stage alone (preprocess, train, analyze).
inline constexpr const char* kIdleRole = "idle (waits for rank 0)";

// Collective over comm: rank 0 logs the stage's backend line and the rank table; `role` is what
// this rank does in the stage (sampler, preprocessor, trainer, mapper, analyst, or kIdleRole).
void log_stage_start(const Comm& comm, const std::string& role, const Backend& backend);

}  // namespace boltzmap
