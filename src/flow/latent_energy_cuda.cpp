// See latent_energy_cuda.hpp.
#include "flow/latent_energy_cuda.hpp"

#include <vector>

#include "cuda_check.cuh"
#include "latent_energy.cuh"

namespace boltzmap {

struct CudaLatentEnergy::Impl {
  LatentRowParams row;
  int m = 0, nd = 0;
  cublasHandle_t blas = nullptr;
  cuda::DeviceBuffer<double> w_inv;  // [m][m] column-major (Eigen's layout): W⁻¹(i, j) at i + j·m
  cuda::DeviceBuffer<double> mu;     // [m]
  mutable cuda::DeviceBuffer<double> y, gy, scratch;  // [rows][m], [rows][m], [rows][2·N·D]
  mutable int capacity = 0;                           // rows the buffers hold
  ~Impl() {
    if (blas) cublasDestroy(blas);
  }
};

CudaLatentEnergy::CudaLatentEnergy(const LatentEnergy& host) : impl_(std::make_unique<Impl>()), box_log_det_(host.box_log_det()) {
  Impl& s = *impl_;
  s.row = host.row_params();
  s.m = s.row.latent_dim;
  s.nd = s.row.system.n_particles * s.row.system.box.dimension;
  const Eigen::MatrixXd& w = host.inverse_pca();
  if (w.rows() != s.m || w.cols() != s.m || host.pca_mean().size() != s.m)
    throw Error(ExitCode::failure, "CudaLatentEnergy: the PCA's matrices do not match the latent dimension");
  CUBLAS_CHECK(cublasCreate(&s.blas));
  // No TF32 or other reduced-precision paths for DGEMM (the default; said so that a change of
  // cuBLAS defaults cannot slip in): the products round as IEEE double.
  CUBLAS_CHECK(cublasSetMathMode(s.blas, CUBLAS_PEDANTIC_MATH));
  s.w_inv = cuda::DeviceBuffer<double>(static_cast<std::size_t>(s.m) * s.m);
  s.mu = cuda::DeviceBuffer<double>(static_cast<std::size_t>(s.m));
  cuda::copy_to_device(s.w_inv, std::span<const double>(w.data(), static_cast<std::size_t>(w.size())), nullptr);
  const Eigen::VectorXd& mean = host.pca_mean();
  cuda::copy_to_device(s.mu, std::span<const double>(mean.data(), static_cast<std::size_t>(mean.size())), nullptr);
  CUDA_CHECK(cudaStreamSynchronize(nullptr));
}

CudaLatentEnergy::~CudaLatentEnergy() = default;

int CudaLatentEnergy::latent_dim() const { return impl_->m; }

void CudaLatentEnergy::evaluate(const double* z, int rows, double* e, double* gz, CUstream_st* stream) const {
  if (rows <= 0) return;
  Impl& s = *impl_;
  if (rows > s.capacity) {
    const auto r = static_cast<std::size_t>(rows);
    s.y = cuda::DeviceBuffer<double>(r * s.m);
    s.gy = cuda::DeviceBuffer<double>(r * s.m);
    s.scratch = cuda::DeviceBuffer<double>(r * 2 * s.nd);
    s.capacity = rows;
  }
  CUBLAS_CHECK(cublasSetStream(s.blas, stream));
  const double one = 1.0, zero = 0.0;
  // Row-major z [rows][m] is the column-major m × rows matrix Zᵀ: Yᵀ = W⁻¹ Zᵀ.
  CUBLAS_CHECK(cublasDgemm(s.blas, CUBLAS_OP_N, CUBLAS_OP_N, s.m, rows, s.m, &one, s.w_inv.data(), s.m, z, s.m, &zero,
                           s.y.data(), s.m));
  cuda::latent_row_energies(s.row, s.y.data(), s.mu.data(), rows, s.scratch.data(), e, gz ? s.gy.data() : nullptr,
                            stream);
  if (!gz) return;
  // (∂e/∂z)ᵀ = W⁻ᵀ (∂e/∂y)ᵀ.
  CUBLAS_CHECK(cublasDgemm(s.blas, CUBLAS_OP_T, CUBLAS_OP_N, s.m, rows, s.m, &one, s.w_inv.data(), s.m, s.gy.data(), s.m,
                           &zero, gz, s.m));
}

}  // namespace boltzmap
