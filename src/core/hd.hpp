// One macro for code that CPU and GPU share (pair potentials, minimum image, RNG, Metropolis test):
// written once, compiled by g++ for the CPU reference and by nvcc for kernels/.
#pragma once
#if defined(__CUDACC__)
#define BOLTZMAP_HD __host__ __device__ inline
#else
#define BOLTZMAP_HD inline
#endif
