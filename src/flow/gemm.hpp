// Matrix products of the flow without heap allocation (issue 4: "no allocation inside a step").
// gemm(dst, a, b, accumulate, ws): dst = a·b or dst += a·b for a row-major dst and operands that
// are plain matrices, maps or their transposes. Eigen's `dst.noalias() = a * b` allocates its
// packing buffers on the heap for every product above 128 KiB of them, and always in its
// OpenMP-parallel path; gemm() runs Eigen's own kernel (Eigen::internal::
// general_matrix_matrix_product, Eigen 3.4) with those buffers in a GemmWorkspace that the caller
// keeps (the flow's Cache), so they are allocated once.
// Result: bitwise that of Eigen's single-threaded product, for any number of threads: the blocking
// is Eigen's for one thread, and outside a parallel region the rows of dst are split among the
// OpenMP threads at multiples of the kernel's register block, which leaves every element's
// sequence of operations unchanged (a thread never waits on another, unlike Eigen's parallel
// product, which spins: costly when the cores are shared).
// Small products (Eigen's coefficient-based and matrix-vector paths, which do not allocate) are
// left to Eigen. With another Eigen version everything is left to Eigen (correct, but allocating).
// Tests: tests/flow/test_gemm.cpp (bitwise equal to Eigen's product for 1 and 2 threads);
// tests/flow/allocations (no allocation).
#pragma once
#include <omp.h>

#include <algorithm>
#include <vector>

#include <Eigen/Dense>

#if EIGEN_VERSION_AT_LEAST(3, 4, 0) && !EIGEN_VERSION_AT_LEAST(3, 4, 90)
#define BOLTZMAP_GEMM_WITH_EIGEN_KERNEL 1
#else
#define BOLTZMAP_GEMM_WITH_EIGEN_KERNEL 0
#endif

namespace boltzmap {

// Packing buffers of gemm(), one pair per thread; they grow to the largest product seen and stay.
// One workspace serves one thread of the caller at a time (it is not shared between callers).
template <class T>
class GemmWorkspace {
 public:
  using Buffer = std::vector<T, Eigen::aligned_allocator<T>>;
  // Makes room for `threads` pairs of at least `a` and `b` elements (no-op once large enough).
  void reserve(int threads, std::size_t a, std::size_t b) {
    if (static_cast<int>(a_.size()) < threads) {
      a_.resize(threads);
      b_.resize(threads);
    }
    for (int t = 0; t < threads; ++t) {
      if (a_[t].size() < a) a_[t].resize(a);
      if (b_[t].size() < b) b_[t].resize(b);
    }
  }
  T* a(int thread) { return a_[thread].data(); }
  T* b(int thread) { return b_[thread].data(); }

 private:
  std::vector<Buffer> a_, b_;
};

namespace gemm_detail {

// Eigen's plain product: used for the small shapes, and for every shape without Eigen 3.4.
template <class Dst, class A, class B>
void eigen_product(Dst& dst, const A& a, const B& b, bool accumulate) {
  if (accumulate)
    dst.noalias() += a * b;
  else
    dst.noalias() = a * b;
}

// Pointer to row r of a unit-inner-stride operand.
template <class X>
auto row_pointer(const X& x, Eigen::Index r) {
  return x.data() + (X::IsRowMajor ? r * x.outerStride() : r);
}

#if BOLTZMAP_GEMM_WITH_EIGEN_KERNEL
// Eigen's blocking (kc, mc, nc) of a row-major rows × cols result with inner dimension `depth`,
// exactly as its own product computes it for one thread, with buffers supplied by the caller.
template <class T>
class Blocking : public Eigen::internal::level3_blocking<T, T> {
 public:
  Blocking(Eigen::Index rows, Eigen::Index cols, Eigen::Index depth) {
    // A row-major result is computed as its column-major transpose: Eigen's "rows" are our columns.
    this->m_mc = cols;
    this->m_nc = rows;
    this->m_kc = depth;
    Eigen::internal::computeProductBlockingSizes<T, T, 1>(this->m_kc, this->m_mc, this->m_nc, Eigen::Index(1));
  }
  std::size_t size_a(Eigen::Index cols) const { return this->m_kc * std::min(cols, this->m_mc); }
  std::size_t size_b(Eigen::Index rows) const { return this->m_kc * std::min(rows, this->m_nc); }
  void use(T* a, T* b) {
    this->m_blockA = a;
    this->m_blockB = b;
  }
};

// Threads for a rows × cols × depth product (Eigen's rule: at least one register block of rows
// and 50 000 multiply-adds per thread), 1 inside a parallel region.
inline int product_threads(Eigen::Index rows, Eigen::Index cols, Eigen::Index depth, Eigen::Index block) {
  if (omp_in_parallel()) return 1;
  const double work = static_cast<double>(rows) * static_cast<double>(cols) * static_cast<double>(depth);
  const Eigen::Index by_size = std::max<Eigen::Index>(1, std::min<Eigen::Index>(rows / block, static_cast<Eigen::Index>(work / 50000)));
  return static_cast<int>(std::min<Eigen::Index>(Eigen::nbThreads(), by_size));
}
#endif

}  // namespace gemm_detail

template <class Dst, class A, class B>
void gemm(Dst& dst, const A& a, const B& b, bool accumulate, GemmWorkspace<typename Dst::Scalar>& ws) {
  using T = typename Dst::Scalar;
  using Eigen::Index;
  static_assert(Dst::IsRowMajor && Dst::InnerStrideAtCompileTime == 1, "gemm: row-major, unit-stride result");
  static_assert(A::InnerStrideAtCompileTime == 1 && B::InnerStrideAtCompileTime == 1, "gemm: unit-stride operands");
  const Index rows = a.rows(), cols = b.cols(), depth = a.cols();
  dst.resize(rows, cols);  // a no-op when the size is unchanged (and for a Map of the right size)
#if BOLTZMAP_GEMM_WITH_EIGEN_KERNEL
  // Eigen's own choices for these shapes: coefficient-based below its threshold, matrix-vector
  // products for a single row or column, nothing for an empty product.
  if (rows <= 1 || cols <= 1 || depth == 0 || depth + rows + cols < EIGEN_GEMM_TO_COEFFBASED_THRESHOLD) {
    gemm_detail::eigen_product(dst, a, b, accumulate);
    return;
  }
  using Kernel = Eigen::internal::general_matrix_matrix_product<Index, T, A::IsRowMajor ? Eigen::RowMajor : Eigen::ColMajor,
                                                                false, T, B::IsRowMajor ? Eigen::RowMajor : Eigen::ColMajor,
                                                                false, Eigen::RowMajor, 1>;
  constexpr Index block = Kernel::Traits::nr;  // our rows are the kernel's register-blocked columns
  if (!accumulate) dst.setZero();
  const gemm_detail::Blocking<T> blocking(rows, cols, depth);
  const int threads = gemm_detail::product_threads(rows, cols, depth, block);
  ws.reserve(threads, blocking.size_a(cols), blocking.size_b(rows));
  // Rows [r0, r0 + n) on thread t.
  auto run = [&](int t, Index r0, Index n) {
    gemm_detail::Blocking<T> own = blocking;
    own.use(ws.a(t), ws.b(t));
    Kernel::run(n, cols, depth, gemm_detail::row_pointer(a, r0), a.outerStride(), b.data(), b.outerStride(),
                dst.data() + r0 * dst.outerStride(), 1, dst.outerStride(), T(1), own);
  };
  if (threads == 1) {
    run(0, 0, rows);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), n = omp_get_num_threads();
    const Index share = (rows + n - 1) / n, per = (share + block - 1) / block * block;
    const Index r0 = std::min<Index>(rows, t * per), r1 = std::min<Index>(rows, r0 + per);
    if (r1 > r0) run(t, r0, r1 - r0);
  }
#else
  (void)ws;
  gemm_detail::eigen_product(dst, a, b, accumulate);
#endif
}

}  // namespace boltzmap
