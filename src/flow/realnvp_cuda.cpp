// See realnvp_cuda.hpp. The passes follow RealNvp<T> (src/flow/realnvp.cpp) step for step, with
// the Eigen products replaced by cuBLAS calls and the element-wise lines by kernels/realnvp.cu.
// cuBLAS is column-major: a row-major [rows][n] matrix is, to it, the column-major n × rows
// matrix with leading dimension n. With W [out][in] row-major (column-major in × out, ld in):
//   Y = X·Wᵀ            → Yᵀ (out × rows) = op_T(W_cm) · Xᵀ          gemm(T, N, out, rows, in)
//   dW += δᵀ·X          → dWᵀ (in × out) += Xᵀ · op_T(δᵀ)            gemm(N, T, in, out, rows)
//   db += δᵀ·1          → gemv(N, out × rows) on the ones vector
//   dX (+)= δ·W         → dXᵀ (in × rows) = W_cm · δᵀ                 gemm(N, N, in, rows, out)
#include "flow/realnvp_cuda.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "realnvp.cuh"

namespace boltzmap {

namespace {

constexpr float one = 1.0f, zero = 0.0f;

cuda::CouplingColumns columns(const NvpBlockLayout& b, int dim) {
  return {dim, b.keep.first, b.keep.count, b.trans.first, b.trans.count};
}

std::vector<int> shape_key(const FlowShape& s) {
  std::vector<int> k{s.dim, s.blocks};
  k.insert(k.end(), s.hidden.begin(), s.hidden.end());
  return k;
}

void check_pointer(const void* p, const char* what, const char* pass) {
  if (!p) throw Error(ExitCode::failure, std::string("CudaRealNvp::") + pass + ": " + what + " is null");
}

}  // namespace

CudaRealNvp::CudaRealNvp(const RealNvp<float>& cpu, GemmMath math)
    : CudaRealNvp(cpu.shape(), std::span<const float>(cpu.parameters().data(), cpu.parameters().size()), math) {}

CudaRealNvp::CudaRealNvp(FlowShape shape, std::span<const float> params, GemmMath math)
    : shape_(std::move(shape)), layout_(realnvp_layout(shape_)), math_(math), params_(layout_.size) {
  CUBLAS_CHECK(cublasCreate(&cublas_));
  try {
    CUBLAS_CHECK(cublasSetStream(cublas_, stream_.get()));
    CUBLAS_CHECK(cublasSetPointerMode(cublas_, CUBLAS_POINTER_MODE_HOST));
    // Never TF32 (nor any reduced-precision or emulated path): the flow is trained in FP32 and
    // compared with the CPU at float tolerance.
    const cublasMath_t wanted = math == GemmMath::pedantic ? CUBLAS_PEDANTIC_MATH : CUBLAS_DEFAULT_MATH;
    CUBLAS_CHECK(cublasSetMathMode(cublas_, wanted));
    cublasMath_t mode{};
    CUBLAS_CHECK(cublasGetMathMode(cublas_, &mode));
    // The low bits are the mode (the high ones are flags such as DISALLOW_REDUCED_PRECISION_REDUCTION).
    if ((static_cast<int>(mode) & 0xF) != static_cast<int>(wanted))
      throw Error(ExitCode::failure, "CudaRealNvp: cuBLAS math mode " + std::to_string(static_cast<int>(mode)) +
                                         " instead of " + std::to_string(static_cast<int>(wanted)) +
                                         " (the flow needs plain FP32, never TF32)");
    upload_parameters(params);
  } catch (...) {
    cublasDestroy(cublas_);
    throw;
  }
}

CudaRealNvp::~CudaRealNvp() {
  if (cublas_) cublasDestroy(cublas_);  // no throw from a destructor
}

std::string CudaRealNvp::description() const {
  return cuda::current_device_name() + ", cuBLAS FP32 " + (math_ == GemmMath::pedantic ? "pedantic" : "default");
}

void CudaRealNvp::upload_parameters(std::span<const float> params) {
  if (params.size() != layout_.size)
    throw Error(ExitCode::failure, "CudaRealNvp::upload_parameters: " + std::to_string(params.size()) +
                                       " parameters for a flow of " + std::to_string(layout_.size));
  cuda::copy_to_device(params_, params, stream_.get());
  stream_.synchronize();
}

void CudaRealNvp::download_parameters(std::span<float> params) const {
  if (params.size() != layout_.size)
    throw Error(ExitCode::failure, "CudaRealNvp::download_parameters: room for " + std::to_string(params.size()) +
                                       " parameters, the flow has " + std::to_string(layout_.size));
  cuda::copy_to_host(params, params_, stream_.get());
  stream_.synchronize();
}

void CudaRealNvp::prepare(Workspace& ws, int rows) const {
  if (rows < 0) throw Error(ExitCode::failure, "CudaRealNvp: negative batch size");
  std::vector<int> key = shape_key(shape_);
  if (ws.rows_ == rows && ws.key_ == key && ws.allocations_ > 0) return;
  const std::size_t R = static_cast<std::size_t>(rows), half = static_cast<std::size_t>(shape_.dim + 1) / 2;
  ws.block_.clear();
  ws.block_.resize(layout_.blocks.size());
  for (std::size_t b = 0; b < layout_.blocks.size(); ++b) {
    const NvpBlockLayout& L = layout_.blocks[b];
    Workspace::BlockBuffers& B = ws.block_[b];
    B.keep = cuda::DeviceBuffer<float>(R * L.keep.count);
    B.xt = cuda::DeviceBuffer<float>(R * L.trans.count);
    B.s = cuda::DeviceBuffer<float>(R * L.trans.count);
    for (int h : shape_.hidden) {
      B.hid_s.emplace_back(R * h);
      B.hid_t.emplace_back(R * h);
    }
  }
  ws.t_ = cuda::DeviceBuffer<float>(R * half);
  ws.g_trans_ = cuda::DeviceBuffer<float>(R * half);
  ws.g_keep_ = cuda::DeviceBuffer<float>(R * half);
  ws.gs_ = cuda::DeviceBuffer<float>(R * half);
  ws.gt_ = cuda::DeviceBuffer<float>(R * half);
  ws.delta_.clear();
  for (int h : shape_.hidden) ws.delta_.emplace_back(R * h);
  ws.ones_ = cuda::DeviceBuffer<float>(R);
  cuda::realnvp_fill(ws.ones_.data(), R, 1.0f, stream_.get());
  ws.key_ = std::move(key);
  ws.rows_ = rows;
  ws.pass_ = Workspace::Pass::none;
  ++ws.allocations_;
}

void CudaRealNvp::mlp_forward(const std::vector<NvpLayer>& m, const float* h,
                              std::vector<cuda::DeviceBuffer<float>>& hid, float* out, bool bounded, int rows) const {
  const float* x = h;
  for (std::size_t l = 0; l < m.size(); ++l) {
    const NvpLayer& ly = m[l];
    const bool last = l + 1 == m.size();
    float* dst = last ? out : hid[l].data();
    CUBLAS_CHECK(cublasSgemm(cublas_, CUBLAS_OP_T, CUBLAS_OP_N, ly.out, rows, ly.in, &one, params_.data() + ly.w,
                             ly.in, x, ly.in, &zero, dst, ly.out));
    const cuda::LayerActivation act = !last ? cuda::LayerActivation::tanh
                                            : bounded ? cuda::LayerActivation::bound : cuda::LayerActivation::linear;
    cuda::realnvp_bias_activation(dst, params_.data() + ly.b, rows, ly.out, act,
                                  static_cast<float>(shape_.scale_bound), stream_.get());
    x = dst;
  }
}

void CudaRealNvp::mlp_backward(const std::vector<NvpLayer>& m, const float* h,
                               const std::vector<cuda::DeviceBuffer<float>>& hid, const float* g_out, float* grad,
                               float* gh, Workspace& ws) const {
  const int rows = ws.rows_;
  const float* g = g_out;  // dL/d(layer l's output before its activation), [row][out]
  for (std::size_t l = m.size(); l-- > 0;) {
    const NvpLayer& ly = m[l];
    const float* x = l == 0 ? h : hid[l - 1].data();  // the layer's input, [row][in]
    CUBLAS_CHECK(cublasSgemm(cublas_, CUBLAS_OP_N, CUBLAS_OP_T, ly.in, ly.out, rows, &one, x, ly.in, g, ly.out, &one,
                             grad + ly.w, ly.in));
    CUBLAS_CHECK(cublasSgemv(cublas_, CUBLAS_OP_N, ly.out, rows, &one, g, ly.out, ws.ones_.data(), 1, &one,
                             grad + ly.b, 1));
    if (l > 0) {
      float* d = ws.delta_[l - 1].data();  // dL/d(tanh output of layer l − 1), then through the tanh
      CUBLAS_CHECK(cublasSgemm(cublas_, CUBLAS_OP_N, CUBLAS_OP_N, ly.in, rows, ly.out, &one, params_.data() + ly.w,
                               ly.in, g, ly.out, &zero, d, ly.in));
      cuda::realnvp_tanh_backward(d, hid[l - 1].data(), static_cast<std::size_t>(rows) * ly.in, stream_.get());
      g = d;
    } else {
      CUBLAS_CHECK(cublasSgemm(cublas_, CUBLAS_OP_N, CUBLAS_OP_N, ly.in, rows, ly.out, &one, params_.data() + ly.w,
                               ly.in, g, ly.out, &one, gh, ly.in));
    }
  }
}

void CudaRealNvp::forward(const float* x, float* y, float* logdet, int rows, Workspace& ws) const {
  prepare(ws, rows);
  ws.pass_ = Workspace::Pass::none;
  if (rows == 0) {
    ws.pass_ = Workspace::Pass::forward;
    return;
  }
  check_pointer(x, "x", "forward");
  check_pointer(y, "y", "forward");
  check_pointer(logdet, "logdet", "forward");
  const cudaStream_t st = stream_.get();
  const std::size_t R = static_cast<std::size_t>(rows);
  if (y != x) CUDA_CHECK(cudaMemcpyAsync(y, x, R * shape_.dim * sizeof(float), cudaMemcpyDeviceToDevice, st));
  CUDA_CHECK(cudaMemsetAsync(logdet, 0, R * sizeof(float), st));
  for (std::size_t b = 0; b < layout_.blocks.size(); ++b) {
    const NvpBlockLayout& L = layout_.blocks[b];
    Workspace::BlockBuffers& B = ws.block_[b];
    cuda::realnvp_gather(y, rows, shape_.dim, L.keep.first, L.keep.count, B.keep.data(), st);
    mlp_forward(L.s, B.keep.data(), B.hid_s, B.s.data(), true, rows);
    mlp_forward(L.t, B.keep.data(), B.hid_t, ws.t_.data(), false, rows);
    cuda::realnvp_coupling_forward(y, columns(L, shape_.dim), B.s.data(), ws.t_.data(), B.xt.data(), logdet, rows, st);
  }
  ws.pass_ = Workspace::Pass::forward;
}

void CudaRealNvp::inverse(const float* y, float* x, float* logdet, int rows, Workspace& ws) const {
  prepare(ws, rows);
  ws.pass_ = Workspace::Pass::none;
  if (rows == 0) {
    ws.pass_ = Workspace::Pass::inverse;
    return;
  }
  check_pointer(y, "y", "inverse");
  check_pointer(x, "x", "inverse");
  check_pointer(logdet, "logdet", "inverse");
  const cudaStream_t st = stream_.get();
  const std::size_t R = static_cast<std::size_t>(rows);
  if (x != y) CUDA_CHECK(cudaMemcpyAsync(x, y, R * shape_.dim * sizeof(float), cudaMemcpyDeviceToDevice, st));
  CUDA_CHECK(cudaMemsetAsync(logdet, 0, R * sizeof(float), st));
  for (std::size_t b = layout_.blocks.size(); b-- > 0;) {
    const NvpBlockLayout& L = layout_.blocks[b];
    Workspace::BlockBuffers& B = ws.block_[b];
    cuda::realnvp_gather(x, rows, shape_.dim, L.keep.first, L.keep.count, B.keep.data(), st);
    mlp_forward(L.s, B.keep.data(), B.hid_s, B.s.data(), true, rows);
    mlp_forward(L.t, B.keep.data(), B.hid_t, ws.t_.data(), false, rows);
    cuda::realnvp_coupling_inverse(x, columns(L, shape_.dim), B.s.data(), ws.t_.data(), B.xt.data(), logdet, rows, st);
  }
  ws.pass_ = Workspace::Pass::inverse;
}

void CudaRealNvp::backward_forward(Workspace& ws, const float* gy, const float* gld, float* grad, float* gx) const {
  if (ws.pass_ != Workspace::Pass::forward || ws.key_ != shape_key(shape_))
    throw Error(ExitCode::failure, "CudaRealNvp::backward_forward: the workspace holds no forward pass of this flow");
  const int rows = ws.rows_;
  if (rows == 0) return;
  check_pointer(gy, "gy", "backward_forward");
  check_pointer(grad, "grad", "backward_forward");
  check_pointer(gx, "gx", "backward_forward");
  const cudaStream_t st = stream_.get();
  const float a = static_cast<float>(shape_.scale_bound);
  if (gx != gy)
    CUDA_CHECK(cudaMemcpyAsync(gx, gy, static_cast<std::size_t>(rows) * shape_.dim * sizeof(float),
                               cudaMemcpyDeviceToDevice, st));
  for (std::size_t b = layout_.blocks.size(); b-- > 0;) {
    const NvpBlockLayout& L = layout_.blocks[b];
    const Workspace::BlockBuffers& B = ws.block_[b];
    const cuda::CouplingColumns c = columns(L, shape_.dim);
    // y_T = x_T e^s + t: dL/ds = g x_T e^s + gld (through the bound), dL/dt = g, dL/dx_T = g e^s.
    cuda::realnvp_backward_forward_split(gx, c, B.xt.data(), B.s.data(), gld, a, ws.g_trans_.data(),
                                         ws.g_keep_.data(), ws.gs_.data(), rows, st);
    mlp_backward(L.s, B.keep.data(), B.hid_s, ws.gs_.data(), grad, ws.g_keep_.data(), ws);
    mlp_backward(L.t, B.keep.data(), B.hid_t, ws.g_trans_.data(), grad, ws.g_keep_.data(), ws);
    cuda::realnvp_backward_forward_merge(gx, c, ws.g_trans_.data(), ws.g_keep_.data(), B.s.data(), rows, st);
  }
}

void CudaRealNvp::backward_inverse(Workspace& ws, const float* gx, const float* gld, float* grad, float* gy) const {
  if (ws.pass_ != Workspace::Pass::inverse || ws.key_ != shape_key(shape_))
    throw Error(ExitCode::failure, "CudaRealNvp::backward_inverse: the workspace holds no inverse pass of this flow");
  const int rows = ws.rows_;
  if (rows == 0) return;
  check_pointer(gx, "gx", "backward_inverse");
  check_pointer(grad, "grad", "backward_inverse");
  check_pointer(gy, "gy", "backward_inverse");
  const cudaStream_t st = stream_.get();
  const float a = static_cast<float>(shape_.scale_bound);
  if (gy != gx)
    CUDA_CHECK(cudaMemcpyAsync(gy, gx, static_cast<std::size_t>(rows) * shape_.dim * sizeof(float),
                               cudaMemcpyDeviceToDevice, st));
  for (std::size_t b = 0; b < layout_.blocks.size(); ++b) {
    const NvpBlockLayout& L = layout_.blocks[b];
    const Workspace::BlockBuffers& B = ws.block_[b];
    const cuda::CouplingColumns c = columns(L, shape_.dim);
    // x_T = (y_T − t) e^(−s): dL/ds = −g x_T − gld (through the bound), dL/dt = −g e^(−s), dL/dy_T = −dL/dt.
    cuda::realnvp_backward_inverse_split(gy, c, B.xt.data(), B.s.data(), gld, a, ws.g_keep_.data(), ws.gs_.data(),
                                         ws.gt_.data(), rows, st);
    mlp_backward(L.s, B.keep.data(), B.hid_s, ws.gs_.data(), grad, ws.g_keep_.data(), ws);
    mlp_backward(L.t, B.keep.data(), B.hid_t, ws.gt_.data(), grad, ws.g_keep_.data(), ws);
    cuda::realnvp_backward_inverse_merge(gy, c, ws.gt_.data(), ws.g_keep_.data(), rows, st);
  }
}

}  // namespace boltzmap
