// The preprocessing on the current CUDA device (built only with CUDA; issue 14): a copy of a fitted
// Preprocessor (its sites, wrap centres and the PCA's float W, W⁻¹, μ) in device memory, with the
// same three operations on device batches. Layers 1–5 are the CPU's own row functions
// (transforms/preprocess_row.hpp) a thread per configuration (kernels/preprocess.cu), so y is the
// CPU's bit for bit; the PCA is one cuBLAS SGEMM (pure FP32, pedantic) per call with the CPU's
// float matrices, equal to Eigen's product to float rounding (another summation order).
// Every call only enqueues work on the stream given at construction (not owned) and returns; the
// one exception is check(), which synchronises. Scratch grows with the largest batch seen and is
// reused without allocation after.
// Tests: tests/gpu/test_preprocess_parity.cpp (against the Preprocessor on the same inputs).
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "transforms/preprocessor.hpp"

namespace boltzmap {

class CudaPreprocessor {
 public:
  // pre must be fitted (else Error(failure)); its state is copied (pre need not outlive this).
  CudaPreprocessor(const Preprocessor& pre, cudaStream_t stream);
  ~CudaPreprocessor();
  CudaPreprocessor(const CudaPreprocessor&) = delete;
  CudaPreprocessor& operator=(const CudaPreprocessor&) = delete;

  int n_particles() const;
  int dim() const;
  int latent_dim() const;

  // z [rows][(N − 1)·D] from x [rows][N][D] (not modified) with the per-row choices centre[r],
  // element[r] (device arrays; both null: the evaluation choices c = 0, g = identity).
  void forward(const float* x, const int* centre, const int* element, int rows, float* z);
  // x [rows][N][D] in [0, L) from z (not modified): Preprocessor::inverse.
  void inverse(const float* z, int rows, float* x);
  // y [rows][(N − 1)·D] = W⁻¹ z + μ, the PCA's inverse alone (the first step of inverse() and
  // in_domain(); for tests and inspection).
  void pca_inverse(const float* z, int rows, float* y);
  // inside[r] (0/1) for latent rows z: Preprocessor::in_domain.
  void in_domain(const float* z, int rows, std::uint8_t* inside);
  // The box-scaling layer on `count` floats of system `label` (Preprocessor::into_preprocessing_box
  // and out_of_preprocessing_box).
  void into_preprocessing_box(char label, float* x, std::size_t count);
  void out_of_preprocessing_box(char label, float* x, std::size_t count);

  // Synchronises the stream; throws numerical_error naming the first configuration (its row in
  // the forward() call that met it) whose relabelling met a non-finite coordinate since the last
  // check, and clears the flag.
  void check();
  // The same flag without a wait, for a caller that synchronises anyway: enqueues its copy into
  // *first_row (host memory that must stay valid until the stream is synchronised): INT_MAX when
  // no row failed. clear_error() resets it (enqueued).
  void copy_error_async(int* first_row) const;
  void clear_error();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace boltzmap
