// See stage_start.hpp.
#include "app/stage_start.hpp"

namespace boltzmap {

Backend resolve_stage_backend(const Experiment& e, PipelineStage s, const Accelerators& acc) {
  return resolve_backend(e.backend, s, acc, e.source_file);
}

}  // namespace boltzmap
