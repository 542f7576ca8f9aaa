// CUDA device discovery (host functions only; kernels stay private to their .cu files).
// Built only when CMake finds a CUDA compiler (BOLTZMAP_HAVE_CUDA); src/core/backend.cpp calls it.
#pragma once
#include <string>
#include <vector>

namespace boltzmap::cuda {

// Visible CUDA devices as "name (sm_XY, N GiB)"; empty when there is no driver or no GPU.
std::vector<std::string> visible_devices();
// Makes device `index` current for this process (cudaSetDevice; Error on failure).
void select_device(int index);
// The PCI bus id of device `index` ("0000:3b:00.0"): with the host name, a GPU's identity across
// ranks whatever CUDA_VISIBLE_DEVICES each rank was given.
std::string pci_bus_id(int index);

}  // namespace boltzmap::cuda
