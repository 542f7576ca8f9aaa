// CUDA device discovery (host functions only; kernels stay private to their .cu files).
// Built only when CMake finds a CUDA compiler (BOLTZMAP_HAVE_CUDA); src/core/backend.cpp calls it.
#pragma once
#include <string>
#include <vector>

namespace boltzmap::cuda {

// Visible CUDA devices as "name (sm_XY, N GiB)"; empty when there is no driver or no GPU.
std::vector<std::string> visible_devices();

}  // namespace boltzmap::cuda
