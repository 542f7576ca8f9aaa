// See realnvp_cuda.hpp. The passes are nvp::run_pass / nvp::run_backward
// (src/flow/realnvp_passes.hpp, which also states the products' cuBLAS arguments) with CudaOps:
// cuBLAS on the flow's handle and the launchers of kernels/realnvp.cu, all on the flow's stream.
#include "flow/realnvp_cuda.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "realnvp.cuh"

namespace boltzmap {

const RealNvp<float>& realnvp_for_cuda(const Flow<float>& flow, const std::string& who) {
  const auto* r = dynamic_cast<const RealNvp<float>*>(&flow);
  if (!r)
    throw Error(ExitCode::backend, who + " the real-NVP; flow.kind = \"" + flow.kind() +
                                       "\" has no CUDA implementation (use backend = \"cpu\" or \"auto\")");
  return *r;
}


namespace {

cublasOperation_t op(bool trans) { return trans ? CUBLAS_OP_T : CUBLAS_OP_N; }

// The Ops of realnvp_passes.hpp on the GPU.
struct CudaOps {
  cublasHandle_t h;
  cudaStream_t st;

  void copy(float* dst, const float* src, std::size_t n) {
    CUDA_CHECK(cudaMemcpyAsync(dst, src, n * sizeof(float), cudaMemcpyDeviceToDevice, st));
  }
  void zero(float* p, std::size_t n) { CUDA_CHECK(cudaMemsetAsync(p, 0, n * sizeof(float), st)); }
  void gemm(const nvp::GemmCall& g, const float* A, const float* B, float beta, float* C) {
    const float alpha = 1.0f;
    CUBLAS_CHECK(cublasSgemm(h, op(g.trans_a), op(g.trans_b), g.m, g.n, g.k, &alpha, A, g.lda, B, g.ldb, &beta, C, g.ldc));
  }
  void bias_grad(int out, int rows, const float* delta, const float* ones, float* gb) {
    const float alpha = 1.0f, beta = 1.0f;
    CUBLAS_CHECK(cublasSgemv(h, CUBLAS_OP_N, out, rows, &alpha, delta, out, ones, 1, &beta, gb, 1));
  }
  void bias_activation(float* z, const float* b, int rows, int width, nvp::LayerActivation act, float a) {
    cuda::realnvp_bias_activation(z, b, rows, width, act, a, st);
  }
  void gather(const float* src, int rows, int dim, int first, int count, float* dst) {
    cuda::realnvp_gather(src, rows, dim, first, count, dst, st);
  }
  template <bool Forward>
  void coupling(float* y, const nvp::CouplingColumns& c, const float* s, const float* t, float* xt, float* logdet,
                int rows) {
    cuda::realnvp_coupling(Forward, y, c, s, t, xt, logdet, rows, st);
  }
  void tanh_backward(float* d, const float* hh, std::size_t n) { cuda::realnvp_tanh_backward(d, hh, n, st); }
  void backward_forward_split(const float* g, const nvp::CouplingColumns& c, const float* xt, const float* s,
                              const float* gld, float a, float* g_trans, float* g_keep, float* gs, int rows) {
    cuda::realnvp_backward_forward_split(g, c, xt, s, gld, a, g_trans, g_keep, gs, rows, st);
  }
  void backward_forward_merge(float* g, const nvp::CouplingColumns& c, const float* g_trans, const float* g_keep,
                              const float* s, int rows) {
    cuda::realnvp_backward_forward_merge(g, c, g_trans, g_keep, s, rows, st);
  }
  void backward_inverse_split(const float* g, const nvp::CouplingColumns& c, const float* xt, const float* s,
                              const float* gld, float a, float* g_keep, float* gs, float* gt, int rows) {
    cuda::realnvp_backward_inverse_split(g, c, xt, s, gld, a, g_keep, gs, gt, rows, st);
  }
  void backward_inverse_merge(float* g, const nvp::CouplingColumns& c, const float* gt, const float* g_keep, int rows) {
    cuda::realnvp_backward_inverse_merge(g, c, gt, g_keep, rows, st);
  }
};

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
  nvp::WorkView<float>& v = ws.view_;
  v.block.clear();
  for (Workspace::BlockBuffers& B : ws.block_) {
    nvp::BlockView<float> bv{B.keep.data(), B.xt.data(), B.s.data(), {}, {}};
    for (auto& h : B.hid_s) bv.hid_s.push_back(h.data());
    for (auto& h : B.hid_t) bv.hid_t.push_back(h.data());
    v.block.push_back(std::move(bv));
  }
  v.t = ws.t_.data();
  v.g_trans = ws.g_trans_.data();
  v.g_keep = ws.g_keep_.data();
  v.gs = ws.gs_.data();
  v.gt = ws.gt_.data();
  v.delta.clear();
  for (auto& d : ws.delta_) v.delta.push_back(d.data());
  v.ones = ws.ones_.data();
  ws.key_ = std::move(key);
  ws.rows_ = rows;
  ws.pass_ = Workspace::Pass::none;
  ++ws.allocations_;
}

void CudaRealNvp::forward(const float* x, float* y, float* logdet, int rows, Workspace& ws) const {
  prepare(ws, rows);
  ws.pass_ = Workspace::Pass::none;
  if (rows > 0) {
    check_pointer(x, "x", "forward");
    check_pointer(y, "y", "forward");
    check_pointer(logdet, "logdet", "forward");
    CudaOps ops{cublas_, stream_.get()};
    nvp::run_pass(ops, layout_, shape_.dim, static_cast<float>(shape_.scale_bound), params_.data(), true, x, y, logdet,
                  rows, ws.view_);
  }
  ws.pass_ = Workspace::Pass::forward;
}

void CudaRealNvp::inverse(const float* y, float* x, float* logdet, int rows, Workspace& ws) const {
  prepare(ws, rows);
  ws.pass_ = Workspace::Pass::none;
  if (rows > 0) {
    check_pointer(y, "y", "inverse");
    check_pointer(x, "x", "inverse");
    check_pointer(logdet, "logdet", "inverse");
    CudaOps ops{cublas_, stream_.get()};
    nvp::run_pass(ops, layout_, shape_.dim, static_cast<float>(shape_.scale_bound), params_.data(), false, y, x, logdet,
                  rows, ws.view_);
  }
  ws.pass_ = Workspace::Pass::inverse;
}

void CudaRealNvp::backward_forward(Workspace& ws, const float* gy, const float* gld, float* grad, float* gx) const {
  if (ws.pass_ != Workspace::Pass::forward || ws.key_ != shape_key(shape_))
    throw Error(ExitCode::failure, "CudaRealNvp::backward_forward: the workspace holds no forward pass of this flow");
  if (ws.rows_ == 0) return;
  check_pointer(gy, "gy", "backward_forward");
  check_pointer(grad, "grad", "backward_forward");
  check_pointer(gx, "gx", "backward_forward");
  CudaOps ops{cublas_, stream_.get()};
  nvp::run_backward(ops, layout_, shape_.dim, static_cast<float>(shape_.scale_bound), params_.data(), true, gy, gld,
                    grad, gx, ws.rows_, ws.view_);
}

void CudaRealNvp::backward_inverse(Workspace& ws, const float* gx, const float* gld, float* grad, float* gy) const {
  if (ws.pass_ != Workspace::Pass::inverse || ws.key_ != shape_key(shape_))
    throw Error(ExitCode::failure, "CudaRealNvp::backward_inverse: the workspace holds no inverse pass of this flow");
  if (ws.rows_ == 0) return;
  check_pointer(gx, "gx", "backward_inverse");
  check_pointer(grad, "grad", "backward_inverse");
  check_pointer(gy, "gy", "backward_inverse");
  CudaOps ops{cublas_, stream_.get()};
  nvp::run_backward(ops, layout_, shape_.dim, static_cast<float>(shape_.scale_bound), params_.data(), false, gx, gld,
                    grad, gy, ws.rows_, ws.view_);
}

}  // namespace boltzmap
