// See device.cuh.
#include <cuda_runtime.h>

#include <cstdio>

#include "cuda_check.cuh"
#include "device.cuh"

namespace boltzmap::cuda {

std::vector<std::string> visible_devices() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver / no device" error
    return {};
  }
  std::vector<std::string> out;
  for (int d = 0; d < n; ++d) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, d) != cudaSuccess) continue;
    char buf[512];
    std::snprintf(buf, sizeof buf, "%s (sm_%d%d, %.0f GiB)", p.name, p.major, p.minor,
                  static_cast<double>(p.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
    out.emplace_back(buf);
  }
  return out;
}

void select_device(int index) { CUDA_CHECK(cudaSetDevice(index)); }

std::string pci_bus_id(int index) {
  char buf[64] = {};
  CUDA_CHECK(cudaDeviceGetPCIBusId(buf, static_cast<int>(sizeof buf), index));
  return buf;
}

}  // namespace boltzmap::cuda
