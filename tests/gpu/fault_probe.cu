// gpu_fault_probe: what --debug-sync buys (STYLE 8), shown on a kernel that really faults (an
// illegal address). A fault leaves the CUDA context unusable, so each mode runs in its own process
// (ctest: gpu.debug_sync_names_the_faulting_kernel, gpu.without_debug_sync_the_fault_surfaces_later):
//   --debug-sync: CUDA_LAUNCH_CHECK synchronises and throws, naming the faulting kernel's launch;
//   without it:   the launch check passes (the fault is asynchronous), and the next synchronising
//                 call reports it without naming the kernel.
// Prints one verdict line ("fault-probe: ..."), exit 0 when the behaviour is as described, 1 when
// not; without a GPU it prints "fault-probe: SKIP" and exits 0, or 1 with BOLTZMAP_REQUIRE_GPU=1.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/debug_sync.hpp"
#include "core/error.hpp"
#include "cuda_check.cuh"

namespace {

__global__ void fault_probe_kernel(int* p) {
  // An address no allocation has (the top of the 48-bit space, aligned): an illegal-address fault.
  p[threadIdx.x] = 1;
}

int verdict(bool ok, const std::string& what) {
  std::printf("fault-probe: %s: %s\n", ok ? "PASS" : "FAIL", what.c_str());
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const bool sync = argc > 1 && std::strcmp(argv[1], "--debug-sync") == 0;
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
    const char* req = std::getenv("BOLTZMAP_REQUIRE_GPU");
    const bool required = req && std::string(req) == "1";
    std::printf("fault-probe: %s: no CUDA device\n", required ? "FAIL (BOLTZMAP_REQUIRE_GPU=1)" : "SKIP");
    return required ? 1 : 0;
  }
  boltzmap::set_debug_sync(sync);
  int* bad = reinterpret_cast<int*>(std::uintptr_t{0x7ff000000000});
  cudaStream_t s = nullptr;
  try {
    fault_probe_kernel<<<1, 32, 0, s>>>(bad);
    CUDA_LAUNCH_CHECK("fault_probe_kernel", s);
    if (sync) return verdict(false, "--debug-sync: the launch check did not report the fault");
  } catch (const boltzmap::Error& e) {
    const std::string m = e.what();
    if (!sync) return verdict(false, std::string("without --debug-sync the launch check threw: ") + m);
    return verdict(m.find("fault_probe_kernel (--debug-sync") != std::string::npos && m.find("fault_probe.cu:") != std::string::npos,
                   "--debug-sync names the faulting kernel: " + m);
  }
  // Without --debug-sync: the fault surfaces at the next synchronisation, which cannot name it.
  const cudaError_t later = cudaDeviceSynchronize();
  return verdict(later != cudaSuccess, std::string("without --debug-sync the launch check passed and the next "
                                                   "synchronisation reported ") + cudaGetErrorName(later));
}
