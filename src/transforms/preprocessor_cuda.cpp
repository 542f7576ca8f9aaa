// See preprocessor_cuda.hpp.
#include "transforms/preprocessor_cuda.hpp"

#include <climits>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "cuda_check.cuh"
#include "preprocess.cuh"

namespace boltzmap {

struct CudaPreprocessor::Impl {
  cudaStream_t stream;
  int n, dim, m;
  double L, L_b;
  bool torus;
  cuda::DeviceBuffer<double> sites, centres;  // [(N − 1)·D] each
  cuda::DeviceBuffer<float> w, w_inv, mean;   // W and W⁻¹ column-major [m][m] (Eigen's own layout), μ [m]
  cuda::DeviceBuffer<float> y;                // [capacity][m]
  cuda::DeviceBuffer<float> scratch_f;
  cuda::DeviceBuffer<double> scratch_d;
  cuda::DeviceBuffer<int> scratch_i;
  cuda::DeviceBuffer<int> error{1};  // the first failing row of a forward(), INT_MAX when none
  cuda::DeviceBuffer<int> none{1};   // INT_MAX, the flag's reset value (copied on the device)
  int capacity = 0;
  cublasHandle_t cublas = nullptr;

  PreprocessRowParams params() {
    PreprocessRowParams p;
    p.n = n;
    p.dim = dim;
    p.L = L;
    p.relabel = !torus;
    p.sites = sites.data();
    p.centres = centres.data();
    return p;
  }
  cuda::PreprocessScratch scratch() { return {scratch_f.data(), scratch_d.data(), scratch_i.data()}; }
  void reserve(int rows) {
    if (rows <= capacity) return;
    const auto r = static_cast<std::size_t>(rows);
    y = cuda::DeviceBuffer<float>(r * m);
    scratch_f = cuda::DeviceBuffer<float>(r * preprocess_row_floats(n, dim));
    scratch_d = cuda::DeviceBuffer<double>(r * preprocess_row_doubles(n));
    scratch_i = cuda::DeviceBuffer<int>(r * preprocess_row_ints(n));
    capacity = rows;
  }
  void reset_error() {
    CUDA_CHECK(cudaMemcpyAsync(error.data(), none.data(), sizeof(int), cudaMemcpyDeviceToDevice, stream));
  }
  // out [rows][m] = A · in, A column-major m×m, in and out row-major [rows][m] (as column-major
  // m×rows, their transposes: outᵀ = A inᵀ).
  void product(const float* a, const float* in, int rows, float* out) {
    const float one = 1.0f, zero = 0.0f;
    CUBLAS_CHECK(cublasSgemm(cublas, CUBLAS_OP_N, CUBLAS_OP_N, m, rows, m, &one, a, m, in, m, &zero, out, m));
  }
};

namespace {

template <class T>
cuda::DeviceBuffer<T> on_device(std::span<const T> host, cudaStream_t stream) {
  cuda::DeviceBuffer<T> d(host.size());
  cuda::copy_to_device(d, host, stream);
  return d;
}

}  // namespace

CudaPreprocessor::CudaPreprocessor(const Preprocessor& pre, cudaStream_t stream) : impl_(std::make_unique<Impl>()) {
  if (!pre.fitted()) throw Error(ExitCode::failure, "CudaPreprocessor: the preprocessing is not fitted");
  Impl& s = *impl_;
  s.stream = stream;
  s.n = pre.n_particles();
  s.dim = pre.dim();
  s.m = pre.latent_dim();
  s.L = pre.box_length();
  s.L_b = pre.box_length_b();
  s.torus = pre.settings().torus;
  const Pca& pca = pre.pca();
  const auto& W = pca.forward_matrix_f();
  const auto& Wi = pca.inverse_matrix_f();
  const auto& mu = pca.mean_f();
  if (W.rows() != s.m || W.cols() != s.m || Wi.rows() != s.m || mu.size() != s.m)
    throw Error(ExitCode::failure, "CudaPreprocessor: the PCA does not fit the latent dimension");
  s.sites = on_device(std::span<const double>(pre.relabel().site_coordinates()), stream);
  s.centres = on_device(std::span<const double>(pre.wrap_centres()), stream);
  s.w = on_device(std::span<const float>(W.data(), static_cast<std::size_t>(W.size())), stream);
  s.w_inv = on_device(std::span<const float>(Wi.data(), static_cast<std::size_t>(Wi.size())), stream);
  s.mean = on_device(std::span<const float>(mu.data(), static_cast<std::size_t>(mu.size())), stream);
  CUBLAS_CHECK(cublasCreate(&s.cublas));
  try {
    CUBLAS_CHECK(cublasSetStream(s.cublas, stream));
    CUBLAS_CHECK(cublasSetPointerMode(s.cublas, CUBLAS_POINTER_MODE_HOST));
    CUBLAS_CHECK(cublasSetMathMode(s.cublas, CUBLAS_PEDANTIC_MATH));  // pure FP32, never TF32
    const int none = INT_MAX;
    CUDA_CHECK(cudaMemcpyAsync(s.none.data(), &none, sizeof none, cudaMemcpyHostToDevice, stream));
    s.reset_error();
    CUDA_CHECK(cudaStreamSynchronize(stream));  // `none` is a local, the copies above read pre's arrays
  } catch (...) {
    cublasDestroy(s.cublas);
    throw;
  }
}

CudaPreprocessor::~CudaPreprocessor() {
  if (impl_ && impl_->cublas) cublasDestroy(impl_->cublas);
}

int CudaPreprocessor::n_particles() const { return impl_->n; }
int CudaPreprocessor::dim() const { return impl_->dim; }
int CudaPreprocessor::latent_dim() const { return impl_->m; }

void CudaPreprocessor::forward(const float* x, const int* centre, const int* element, int rows, float* z) {
  if (rows <= 0) return;
  Impl& s = *impl_;
  s.reserve(rows);
  cuda::canonical_rows(s.params(), x, centre, element, rows, s.y.data(), s.scratch(), s.error.data(), s.stream);
  cuda::add_row_vector(s.y.data(), rows, s.m, s.mean.data(), -1.0f, s.stream);  // y − μ
  s.product(s.w.data(), s.y.data(), rows, z);                                    // W (y − μ)
}

void CudaPreprocessor::pca_inverse(const float* z, int rows, float* y) {
  if (rows <= 0) return;
  Impl& s = *impl_;
  s.product(s.w_inv.data(), z, rows, y);                               // W⁻¹ z
  cuda::add_row_vector(y, rows, s.m, s.mean.data(), 1.0f, s.stream);  // + μ
}

void CudaPreprocessor::inverse(const float* z, int rows, float* x) {
  if (rows <= 0) return;
  Impl& s = *impl_;
  s.reserve(rows);
  pca_inverse(z, rows, s.y.data());
  cuda::uncanonical_rows(s.params(), s.y.data(), rows, x, s.stream);
}

void CudaPreprocessor::in_domain(const float* z, int rows, std::uint8_t* inside) {
  if (rows <= 0) return;
  Impl& s = *impl_;
  if (s.torus) {  // coverage 1 by construction
    CUDA_CHECK(cudaMemsetAsync(inside, 1, static_cast<std::size_t>(rows), s.stream));
    return;
  }
  s.reserve(rows);
  pca_inverse(z, rows, s.y.data());
  cuda::in_domain_rows(s.params(), s.y.data(), rows, s.scratch(), inside, s.stream);
}

void CudaPreprocessor::into_preprocessing_box(char label, float* x, std::size_t count) {
  if (label == 'B') cuda::scale_coordinates(x, count, impl_->L / impl_->L_b, impl_->L, impl_->stream);
}

void CudaPreprocessor::out_of_preprocessing_box(char label, float* x, std::size_t count) {
  if (label == 'B') cuda::scale_coordinates(x, count, impl_->L_b / impl_->L, impl_->L_b, impl_->stream);
}

void CudaPreprocessor::copy_error_async(int* first_row) const {
  CUDA_CHECK(cudaMemcpyAsync(first_row, impl_->error.data(), sizeof(int), cudaMemcpyDeviceToHost, impl_->stream));
}

void CudaPreprocessor::clear_error() { impl_->reset_error(); }

void CudaPreprocessor::check() {
  Impl& s = *impl_;
  int first = INT_MAX;
  CUDA_CHECK(cudaMemcpyAsync(&first, s.error.data(), sizeof first, cudaMemcpyDeviceToHost, s.stream));
  CUDA_CHECK(cudaStreamSynchronize(s.stream));
  if (first == INT_MAX) return;
  s.reset_error();
  CUDA_CHECK(cudaStreamSynchronize(s.stream));
  throw numerical_error("relabelling configuration " + std::to_string(first) +
                        " on the GPU: a coordinate is NaN or infinite");
}

}  // namespace boltzmap
