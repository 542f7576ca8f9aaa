// The backend choice (input key `backend` = auto | cpu | cuda), resolved once at start and said
// out loud (STYLE 10): auto picks CUDA when compiled in and a GPU is visible; cuda fails hard when
// it is not usable; never a silent fallback. Each stage also says whether it has a CUDA
// implementation (in this version the MCMC sampler runs on the CPU only).
#pragma once
#include <string>
#include <vector>

namespace boltzmap {

struct BackendInfo {
  bool cuda_compiled = false;
  std::vector<std::string> devices;  // visible CUDA devices (empty without CUDA or GPU)
  std::string chosen;                // "cpu" or "cuda"
  std::string reason;                // one line for the log
};

// Throws Error(ExitCode::backend) for backend = "cuda" when CUDA is not usable.
BackendInfo resolve_backend(const std::string& requested);

}  // namespace boltzmap
