// Mapping on the current CUDA device (built only with CUDA; issue 14): map_configurations
// (analysis/mapping.hpp) with every step on the GPU — the box-scaling layer, the preprocessing
// (transforms/preprocessor_cuda.hpp), the real-NVP (flow/realnvp_cuda.hpp), the canonical-domain
// test, the inverse preprocessing, and the energies and weights (kernels/mapping.cu) — chunk by
// chunk: one upload of the configurations and one download of the results per chunk, nothing in
// between. The same MappedSet as the CPU's, to float rounding (the products sum in cuBLAS's order;
// given the same mapped configuration the energies and weights are the CPU's bits).
// Only the real-NVP has a CUDA twin: another flow kind is Error(backend).
// Tests: tests/gpu/test_mapping_parity.cpp. Bench: bench/bench_flow_gpu.cpp (mapping_2.5e4).
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "analysis/mapping.hpp"

namespace boltzmap {

class CudaMapper {
 public:
  // Copies the preprocessing and the flow to the device; a, b: the two systems (A's first).
  // chunk_rows: configurations per device round (the buffers' size), at most what fits in 2 GiB
  // of device memory (the relabelling's scratch grows as N²: about 4000 rows at N = 256).
  CudaMapper(const Preprocessor& pre, const Flow<float>& flow, const System& a, const System& b,
             int chunk_rows = 16384);
  ~CudaMapper();
  CudaMapper(const CudaMapper&) = delete;
  CudaMapper& operator=(const CudaMapper&) = delete;

  // As map_configurations (x: [n][N][D] of the direction's source system). progress(k): the
  // configurations done, after each chunk.
  MappedSet map(Direction dir, std::span<const float> x, const std::function<void(std::size_t)>& progress = {});
  std::string description() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace boltzmap
