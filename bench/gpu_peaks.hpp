// The current CUDA device's arithmetic and memory ceilings, for the GPU benchmarks' "fraction of
// peak" figures (bench_flow_gpu, bench_analysis_gpu): one place for the formulas.
//   FP32 peak = SMs × FP32 lanes per SM × 2 (an FMA is two operations) × clock;
//   FP64 peak = SMs × FP64 FMA units per SM × 2 × clock (the vector rate; on sm_80/sm_90 the DGEMM's
//               tensor-core rate is twice it);
//   memory    = 2 (double data rate) × memory clock × bus width / 8.
// Lanes and units per SM: CUDA C Programming Guide, "Arithmetic Instructions" throughput table.
// Host code; CUDA builds only.
#pragma once
#include <cuda_runtime.h>

#include "cuda_check.cuh"

namespace boltzmap::bench {

// FP32 add/multiply/FMA results per clock per SM: 64 on sm_60, sm_70, sm_75 and sm_80 (A100), 128
// on sm_61/62, sm_86/87/89 (Ampere/Ada consumer), sm_90 (H100/H200) and sm_100+.
inline int fp32_lanes_per_sm(int major, int minor) {
  if (major == 6) return minor == 0 ? 64 : 128;
  if (major == 7) return 64;
  if (major == 8) return minor == 0 ? 64 : 128;
  return 128;
}

// FP64 FMA units per SM: 64 on the data-centre parts sm_80 and sm_90, 2 on the others benchmarked.
inline int fp64_fma_units_per_sm(int major, int minor) { return (major == 8 && minor == 0) || major == 9 ? 64 : 2; }

struct GpuPeaks {
  int sms = 0, major = 0, minor = 0, fp32_lanes = 0, fp64_units = 0;
  double clock_khz = 0, memory_clock_khz = 0, bus_bits = 0;
  double fp32_flops = 0, fp64_flops = 0, bytes_per_second = 0;
};

inline GpuPeaks gpu_peaks() {
  int dev = 0;
  CUDA_CHECK(cudaGetDevice(&dev));
  auto attribute = [dev](cudaDeviceAttr a) {
    int v = 0;
    CUDA_CHECK(cudaDeviceGetAttribute(&v, a, dev));
    return v;
  };
  GpuPeaks p;
  p.sms = attribute(cudaDevAttrMultiProcessorCount);
  p.major = attribute(cudaDevAttrComputeCapabilityMajor);
  p.minor = attribute(cudaDevAttrComputeCapabilityMinor);
  p.clock_khz = attribute(cudaDevAttrClockRate);
  p.memory_clock_khz = attribute(cudaDevAttrMemoryClockRate);
  p.bus_bits = attribute(cudaDevAttrGlobalMemoryBusWidth);
  p.fp32_lanes = fp32_lanes_per_sm(p.major, p.minor);
  p.fp64_units = fp64_fma_units_per_sm(p.major, p.minor);
  p.fp32_flops = static_cast<double>(p.sms) * p.fp32_lanes * 2.0 * p.clock_khz * 1e3;
  p.fp64_flops = static_cast<double>(p.sms) * p.clock_khz * 1e3 * 2 * p.fp64_units;
  p.bytes_per_second = 2.0 * p.memory_clock_khz * 1e3 * p.bus_bits / 8.0;
  return p;
}

}  // namespace boltzmap::bench
