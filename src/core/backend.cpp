// See backend.hpp.
#include "core/backend.hpp"

#include "core/error.hpp"
#ifdef BOLTZMAP_HAVE_CUDA
#include "device.cuh"
#endif

namespace boltzmap {

Accelerators probe_accelerators() {
  Accelerators a;
#ifdef BOLTZMAP_HAVE_CUDA
  a.cuda_compiled = true;
  a.devices = cuda::visible_devices();
#endif
  return a;
}

int device_for_local_rank(int local_rank, int device_count) {
  if (device_count <= 0) throw Error(ExitCode::failure, "device_for_local_rank: no device to choose from");
  if (local_rank < 0) throw Error(ExitCode::failure, "device_for_local_rank: negative node-local rank");
  return local_rank % device_count;
}

void assign_device(Accelerators& acc, int local_rank) {
  if (!acc.cuda_usable()) return;
  acc.device = device_for_local_rank(local_rank, static_cast<int>(acc.devices.size()));
#ifdef BOLTZMAP_HAVE_CUDA
  cuda::select_device(acc.device);
#endif
}

const char* stage_name(PipelineStage s) {
  switch (s) {
    case PipelineStage::sample: return "sample";
    case PipelineStage::preprocess: return "preprocess";
    case PipelineStage::train: return "train";
    case PipelineStage::map: return "map";
    case PipelineStage::analyze: return "analyze";
  }
  return "?";
}

bool has_cuda_implementation(PipelineStage s) {
  switch (s) {  // issue 14 fills the table stage by stage
    case PipelineStage::sample: return true;  // the CUDA MC engine (sampling/mc_engine.hpp, kernels/mcmc.cu)
    case PipelineStage::train: return true;  // the real-NVP's steps on the GPU (flow/train_steps_cuda.hpp)
    case PipelineStage::map: return true;  // the real-NVP's mapping and weights on the GPU (analysis/mapping_cuda.hpp)
    case PipelineStage::analyze: return true;  // the per-chunk pair histograms and sums (analysis/set_kernels.hpp, kernels/analysis.cu)
    case PipelineStage::preprocess: return false;  // fitted once, on the CPU (the device runs the fitted transform)
  }
  return false;
}

Backend resolve_backend(const std::string& requested, PipelineStage stage, const Accelerators& acc,
                        const std::string& origin) {
  const std::string name = stage_name(stage);
  const bool implemented = has_cuda_implementation(stage);
  const std::string unusable = acc.cuda_compiled ? "no CUDA device is visible"
                                                 : "this binary was built without CUDA (-DBOLTZMAP_CUDA=ON to require it)";
  if (requested == "cuda" && !implemented)
    throw Error(ExitCode::backend, origin + ": backend = \"cuda\", but the " + name +
                                       " stage has no CUDA implementation in this version; use backend = \"cpu\" or \"auto\"");
  if (requested == "cuda" && !acc.cuda_usable())
    throw Error(ExitCode::backend, origin + ": backend = \"cuda\" for the " + name + " stage, but " + unusable +
                                       "; use backend = \"cpu\" or \"auto\"");
  Backend b;
  b.requested = requested;
  if (requested != "cpu" && implemented && acc.cuda_usable()) {
    b.kind = BackendKind::cuda;
    b.device = "cuda:" + std::to_string(acc.device) + " " + acc.devices.at(static_cast<std::size_t>(acc.device));
  }
  if (requested == "cpu")
    b.reason = "backend cpu: the " + name + " stage runs on the CPU";
  else if (requested == "cuda")
    b.reason = "backend cuda: the " + name + " stage runs on " + b.device;
  else if (b.kind == BackendKind::cuda)
    b.reason = "backend auto: the " + name + " stage runs on CUDA (" + b.device + ")";
  else
    b.reason = "backend auto: the " + name + " stage runs on the CPU (" +
               (!implemented ? std::string("it has no CUDA implementation in this version; ") : std::string()) +
               (acc.cuda_usable() ? "CUDA compiled in, " + std::to_string(acc.devices.size()) + " GPU(s) visible"
                                  : acc.cuda_compiled ? std::string("CUDA compiled in, no GPU visible")
                                                      : std::string("built without CUDA")) +
               ")";
  return b;
}

std::vector<Backend> resolve_backends(const std::string& requested, const std::vector<PipelineStage>& stages,
                                      const Accelerators& acc, const std::string& origin) {
  std::vector<std::string> missing;
  for (PipelineStage s : stages)
    if (!has_cuda_implementation(s)) missing.emplace_back(stage_name(s));
  if (requested == "cuda" && !missing.empty()) {  // named first, whatever else is missing
    std::string names;
    for (std::size_t i = 0; i < missing.size(); ++i)
      names += (i == 0 ? "" : i + 1 == missing.size() ? " and " : ", ") + missing[i];
    throw Error(ExitCode::backend, origin + ": backend = \"cuda\", but the " + names +
                                       (missing.size() > 1 ? " stages have" : " stage has") +
                                       " no CUDA implementation in this version; use backend = \"cpu\" or \"auto\"");
  }
  std::vector<Backend> out;
  for (PipelineStage s : stages) out.push_back(resolve_backend(requested, s, acc, origin));
  return out;
}

}  // namespace boltzmap
