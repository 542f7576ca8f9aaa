// The preprocessing's per-row kernels (host launchers; the kernels stay private to
// preprocess.cu): a thread per configuration running the BOLTZMAP_HD row functions of
// src/transforms/preprocess_row.hpp, which the CPU's Preprocessor runs too, and the element-wise
// steps around the PCA's product (src/transforms/preprocessor_cuda.cpp does the product with
// cuBLAS). Every array is in device memory, row-major; p's pointers (sites, centres) too.
// Tests: tests/gpu/test_preprocess_parity.cpp.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "transforms/preprocess_row.hpp"

namespace boltzmap::cuda {

// Row scratch for `rows` rows: preprocess_row_floats/doubles/ints(N) each per row.
struct PreprocessScratch {
  float* f;
  double* d;
  int* i;
};

// y [rows][(N − 1)·D] = canonical_row(x [rows][N·D], centre[r], element[r]); centre/element null:
// 0 for every row (the evaluation choices). *error: set to the first failing row r (as
// atomicMin of r) when a row's relabelling meets a non-finite cost; untouched otherwise.
void canonical_rows(const PreprocessRowParams& p, const float* x, const int* centre, const int* element, int rows,
                    float* y, PreprocessScratch s, int* error, cudaStream_t stream);

// inside[r] = in_domain_row(y [rows][(N − 1)·D] row r).
void in_domain_rows(const PreprocessRowParams& p, const float* y, int rows, PreprocessScratch s,
                    std::uint8_t* inside, cudaStream_t stream);

// x [rows][N·D] from y (y is wrapped in place): uncanonical_row.
void uncanonical_rows(const PreprocessRowParams& p, float* y, int rows, float* x, cudaStream_t stream);

// a[r·m + j] += sign·mean[j] for rows × m floats (the PCA's −μ before and +μ after its product).
void add_row_vector(float* a, int rows, int m, const float* mean, float sign, cudaStream_t stream);

// x ← scale_coordinate(x, factor, L_new) for n floats (the box-scaling layer, preprocessor.hpp).
void scale_coordinates(float* x, std::size_t n, double factor, double L_new, cudaStream_t stream);

}  // namespace boltzmap::cuda
