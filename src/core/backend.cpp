// See backend.hpp.
#include "core/backend.hpp"

#include "core/error.hpp"
#ifdef BOLTZMAP_HAVE_CUDA
#include "device.cuh"
#endif

namespace boltzmap {

BackendInfo resolve_backend(const std::string& requested) {
  BackendInfo b;
#ifdef BOLTZMAP_HAVE_CUDA
  b.cuda_compiled = true;
  b.devices = cuda::visible_devices();
#endif
  const bool usable = b.cuda_compiled && !b.devices.empty();
  if (requested == "cuda" && !usable)
    throw Error(ExitCode::backend, std::string("backend = \"cuda\" but ") +
                                       (b.cuda_compiled ? "no CUDA device is visible"
                                                        : "this binary was built without CUDA (-DBOLTZMAP_CUDA=ON to require it)") +
                                       "; use backend = \"cpu\" or \"auto\"");
  b.chosen = (requested == "cpu" || !usable) ? "cpu" : "cuda";
  if (requested == "auto")
    b.reason = usable ? "backend auto: CUDA (" + b.devices.front() + ")"
                      : std::string("backend auto: CPU (") + (b.cuda_compiled ? "CUDA compiled in, no GPU visible" : "built without CUDA") + ")";
  else
    b.reason = "backend " + requested;
  return b;
}

}  // namespace boltzmap
