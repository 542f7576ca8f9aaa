// The --debug-sync switch (main's global option; tests/gpu switch it on): after every kernel
// launch the CUDA code synchronises its stream and checks (CUDA_LAUNCH_CHECK in
// kernels/cuda_check.cuh, built on core/check.hpp's generator), so an asynchronous fault is
// reported at the launch that caused it. Process-wide, off by default (a round trip per launch).
// Defined in core/check.cpp.
#pragma once

namespace boltzmap {

void set_debug_sync(bool on);
bool debug_sync();

}  // namespace boltzmap
