// What every subcommand does and says at start (STYLE 10): the backend of its stage, resolved from
// the input's `backend` key and the accelerators main() probed once (core/backend.hpp: a stage
// without a CUDA implementation refuses backend = "cuda" with exit 6). Tests: tests/app/stages.sh.
#pragma once
#include <string>

#include "core/backend.hpp"
#include "core/config.hpp"
#include "parallel/comm.hpp"

namespace boltzmap {

// The backend stage `s` of experiment e runs on (the same on every rank of one host).
Backend resolve_stage_backend(const Experiment& e, PipelineStage s, const Accelerators& acc);

}  // namespace boltzmap
