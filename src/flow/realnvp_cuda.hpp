// The real-NVP on the current CUDA device (built only with CUDA): the twin of RealNvp<float>
// (src/flow/realnvp.hpp), the same flow with its parameters in device memory in exactly
// RealNvp's flat layout (src/flow/realnvp_layout.hpp), so that they copy both ways unchanged.
// The passes are src/flow/realnvp_passes.hpp (run on the CPU too, by the model test) with
// products as cuBLAS SGEMM/SGEMV in pure FP32 (no TF32: pedantic math by default), the weight
// gradients dW += δᵀh and db += δᵀ1 included, and everything element-wise in kernels/realnvp.cu
// (src/flow/realnvp_elements.hpp, whose formulas are src/flow/coupling_math.hpp, the functions
// the CPU uses). No host round trip inside a pass: every call only enqueues work on the object's
// stream (stream()) and returns.
// Batches: device pointers, row-major [row][dim] float32 (rows = configurations), logdet and gld
// [row]. A Workspace holds a pass's activations for its backward pass and the scratch; it is
// sized for one batch size and reused without allocation while that size is unchanged.
// Ordering: the caller's inputs must be ready on stream() (produce them there, or make it wait on
// an event); outputs are ready when stream() reaches that point (synchronize(), or an event).
// Tests: tests/gpu/test_realnvp_parity.cpp (against RealNvp<float> on the CPU);
// tests/flow/test_realnvp_gpu_model.cpp (the same passes and element code on the CPU, against
// RealNvp<double>); bench/bench_flow_gpu.cpp times it.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "cuda_check.cuh"
#include "flow/realnvp.hpp"
#include "flow/realnvp_layout.hpp"
#include "flow/realnvp_passes.hpp"

namespace boltzmap {

// cuBLAS math mode of the flow's products; both are plain FP32 (never TF32 or emulation).
enum class GemmMath {
  pedantic,  // CUBLAS_PEDANTIC_MATH: the prescribed precision in every phase (the default)
  fp32,      // CUBLAS_DEFAULT_MATH: FP32 with cuBLAS's own choice of kernels
};

// The real-NVP behind `flow`, for a CUDA path that exists for it alone; another flow kind is
// Error(backend): "<who> the real-NVP; flow.kind = "…" has no CUDA implementation (…)", with who
// e.g. "the map stage on CUDA needs".
const RealNvp<float>& realnvp_for_cuda(const Flow<float>& flow, const std::string& who);

class CudaRealNvp {
 public:
  // A pass's activations and the backward passes' scratch, on the device. Allocated by the first
  // pass of a batch size (or after a change of it), reused after; one per flow object in flight.
  class Workspace {
   public:
    int rows() const { return rows_; }
    // How many times buffers were (re)allocated: unchanged while the batch size is.
    std::size_t allocations() const { return allocations_; }

   private:
    friend class CudaRealNvp;
    enum class Pass { none, forward, inverse };
    struct BlockBuffers {
      cuda::DeviceBuffer<float> keep;  // [row][keep count]: x_K, the networks' input
      cuda::DeviceBuffer<float> xt;    // [row][trans count]: x_T (forward: its input; inverse: its output)
      cuda::DeviceBuffer<float> s;     // [row][trans count]: S after the bound
      std::vector<cuda::DeviceBuffer<float>> hid_s, hid_t;  // [row][hidden[l]]: tanh outputs of S's, T's layers
    };
    std::vector<BlockBuffers> block_;
    cuda::DeviceBuffer<float> t_;                    // [row][(D+1)/2]: T's output (forward and inverse scratch)
    cuda::DeviceBuffer<float> g_trans_, g_keep_;     // [row][(D+1)/2]: dL/d(transformed), dL/d(kept) part
    cuda::DeviceBuffer<float> gs_, gt_;              // [row][(D+1)/2]: dL/dS (raw), dL/dT
    std::vector<cuda::DeviceBuffer<float>> delta_;  // [row][hidden[l]]: dL/d(pre-activation of layer l)
    cuda::DeviceBuffer<float> ones_;                // [row]: 1 (the bias gradients as δᵀ·1)
    nvp::WorkView<float> view_;                     // pointers into the buffers above, for the passes
    std::vector<int> key_;                          // the shape the buffers were made for
    int rows_ = 0;
    Pass pass_ = Pass::none;
    std::size_t allocations_ = 0;
  };

  // A copy of `cpu` (shape and parameters) on the current device.
  explicit CudaRealNvp(const RealNvp<float>& cpu, GemmMath math = GemmMath::pedantic);
  // `params`: the flat RealNvp<float> layout of `shape` (realnvp_layout(shape).size elements).
  CudaRealNvp(FlowShape shape, std::span<const float> params, GemmMath math = GemmMath::pedantic);
  ~CudaRealNvp();
  CudaRealNvp(const CudaRealNvp&) = delete;
  CudaRealNvp& operator=(const CudaRealNvp&) = delete;

  const FlowShape& shape() const { return shape_; }
  const NvpLayout& layout() const { return layout_; }
  int width() const { return shape_.dim; }
  std::size_t parameter_count() const { return layout_.size; }
  GemmMath gemm_math() const { return math_; }
  std::string description() const;  // "device 0 (NVIDIA H200), cuBLAS FP32 pedantic"

  // Host ↔ device copies of the flat parameter vector (parameter_count() elements; a wrong size
  // throws). Both synchronise the stream.
  void upload_parameters(std::span<const float> params);
  void download_parameters(std::span<float> params) const;
  // The parameters in device memory (parameter_count() floats): for the optimiser's step and
  // the gradient allreduce, on stream() or ordered with it.
  float* parameters_device() { return params_.data(); }
  const float* parameters_device() const { return params_.data(); }

  cudaStream_t stream() const { return stream_.get(); }
  void synchronize() const { stream_.synchronize(); }

  // F (A → B): y = F(x), logdet[r] = log|det ∂F/∂x| of row r. x == y is allowed (in place).
  void forward(const float* x, float* y, float* logdet, int rows, Workspace& ws) const;
  // F⁻¹ (B → A): x = F⁻¹(y), logdet[r] = log|det ∂F⁻¹/∂y|. y == x is allowed.
  void inverse(const float* y, float* x, float* logdet, int rows, Workspace& ws) const;
  // Reverse pass of the last forward() on ws (same rows): from gy = dL/dy [row][D] and gld =
  // dL/dlogdet [row] (null: 0), ADDS dL/dθ into grad (device, parameter_count() floats, the flat
  // layout) and WRITES gx = dL/dx [row][D]. gx == gy is allowed. ws is left valid (a second
  // backward pass from the same forward is allowed).
  void backward_forward(Workspace& ws, const float* gy, const float* gld, float* grad, float* gx) const;
  // Reverse pass of the last inverse() on ws: from gx = dL/dx and gld, adds dL/dθ into grad and
  // writes gy = dL/dy. gy == gx is allowed.
  void backward_inverse(Workspace& ws, const float* gx, const float* gld, float* grad, float* gy) const;

 private:
  void prepare(Workspace& ws, int rows) const;  // (re)allocates for rows when needed

  FlowShape shape_;
  NvpLayout layout_;
  GemmMath math_;
  cuda::Stream stream_;
  cublasHandle_t cublas_ = nullptr;
  cuda::DeviceBuffer<float> params_;  // the flat layout
};

}  // namespace boltzmap
