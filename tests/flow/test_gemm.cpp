// The flow's matrix products (src/flow/gemm.hpp): bitwise equal to Eigen's single-threaded
// `noalias()` product, assigned and accumulated, for every operand order the flow uses, on shapes
// that exercise the edges (rows not a multiple of the register block, depth above Eigen's kc, a
// single row, the coefficient-based small sizes), with 1 and 2 threads; the workspace grows once.
// Eigen's AVX-512 kernels trip GCC's -Wmaybe-uninitialized (false positives, silenced for the
// library's sources in src/CMakeLists.txt too).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <gtest/gtest.h>
#include <omp.h>

#include <cstdint>
#include <string>

#include "core/rng.hpp"
#include "flow/gemm.hpp"

namespace boltzmap {
namespace {

template <class T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <class T>
RowMat<T> random_matrix(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
  RowMat<T> m(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i)
    for (Eigen::Index j = 0; j < cols; ++j) {
      const Random4 r = philox(seed, RngStream::Test, static_cast<std::uint32_t>(i), static_cast<std::uint64_t>(j));
      m(i, j) = static_cast<T>(2 * uniform_double(r.v[0], r.v[1]) - 1);
    }
  return m;
}

// gemm(dst, a, b) against Eigen's product with one thread, assigned and accumulated (onto the same
// start), with `threads` threads for gemm.
template <class T, class A, class B>
void expect_bitwise_equal(const A& a, const B& b, int threads, GemmWorkspace<T>& ws, const std::string& what) {
  SCOPED_TRACE(what + ", threads " + std::to_string(threads));
  const RowMat<T> start = random_matrix<T>(a.rows(), b.cols(), 99);
  Eigen::setNbThreads(1);
  RowMat<T> want = start, want_sum = start;
  want.noalias() = a * b;
  want_sum.noalias() += a * b;
  Eigen::setNbThreads(threads);
  RowMat<T> got = start, got_sum = start;
  gemm(got, a, b, false, ws);
  gemm(got_sum, a, b, true, ws);
  Eigen::setNbThreads(0);
  EXPECT_TRUE(got == want);
  EXPECT_TRUE(got_sum == want_sum);
}

template <class T>
void check_shapes() {
  GemmWorkspace<T> ws;
  // (batch, in, out): the flow's shapes, a batch not a multiple of any register block, a depth
  // (the batch, for the weight gradients) above Eigen's kc, a single row, tiny sizes.
  const int shapes[][3] = {{2048, 31, 128}, {509, 128, 128}, {1021, 64, 31}, {37, 9, 5}, {1, 128, 31}, {6, 4, 5}};
  for (const auto& s : shapes) {
    const int batch = s[0], in = s[1], out = s[2];
    const std::string shape = std::to_string(batch) + "×" + std::to_string(in) + "→" + std::to_string(out);
    const RowMat<T> x = random_matrix<T>(batch, in, 1), W = random_matrix<T>(out, in, 2), g = random_matrix<T>(batch, out, 3);
    const Eigen::Map<const RowMat<T>> Wm(W.data(), out, in);
    for (int threads : {1, 2}) {
      expect_bitwise_equal<T>(x, Wm.transpose(), threads, ws, "layer " + shape);          // x · Wᵀ
      expect_bitwise_equal<T>(g.transpose(), x, threads, ws, "weight gradient " + shape);  // gᵀ · x
      expect_bitwise_equal<T>(g, Wm, threads, ws, "input gradient " + shape);              // g · W
    }
  }
}

TEST(Gemm, BitwiseEqualToEigensSingleThreadedProductInFloat) { check_shapes<float>(); }
TEST(Gemm, BitwiseEqualToEigensSingleThreadedProductInDouble) { check_shapes<double>(); }

TEST(Gemm, WritesIntoAMapOfTheResultAndReusesTheWorkspace) {
  GemmWorkspace<float> ws;
  const RowMat<float> a = random_matrix<float>(300, 64, 4), b = random_matrix<float>(64, 40, 5);
  RowMat<float> storage = RowMat<float>::Zero(300, 40);
  Eigen::Map<RowMat<float>> dst(storage.data(), 300, 40);
  gemm(dst, a, b, false, ws);
  const float* buffer = ws.a(0);
  gemm(dst, a, b, true, ws);
  EXPECT_EQ(ws.a(0), buffer) << "the same product must not grow the workspace";
  Eigen::setNbThreads(1);
  RowMat<float> want = a * b;
  want.noalias() += a * b;
  Eigen::setNbThreads(0);
  EXPECT_TRUE(storage == want);
}

}  // namespace
}  // namespace boltzmap
