// The host side of the analysis' GPU seam: the shared BOLTZMAP_HD functions (observables.hpp
// pair_distance2/pair_bin, set_terms.hpp row_weight/ScalarSums) equal, bit for bit, the inline
// formulas they replaced (copied here from the code before the refactoring), on edge cases; and the
// CPU SetKernels (src/analysis/set_kernels.hpp) equals the direct calls (pair_histograms +
// SetAccumulator::add) bitwise, for any chunking the caller would use; its argument checks; and
// the CUDA factory's refusal where no GPU is visible. The GPU itself: tests/gpu/test_analysis_parity.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "analysis/set_kernels.hpp"
#include "analysis/set_terms.hpp"
#include "core/error.hpp"
#include "physics/box.hpp"
#include "support/set_cases.hpp"

namespace boltzmap {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity(), kNaN = std::numeric_limits<double>::quiet_NaN();

// add_pair_histogram as it was before pair_distance2/pair_bin (observables.cpp, git 200d61c).
void old_pair_histogram(const float* x, int n_particles, int dim, double L, const Bins& bins, double* out) {
  const double inv_l = 1.0 / L, lo2 = bins.lo * bins.lo, hi2 = bins.hi * bins.hi, inv_w = 1.0 / bins.width();
  for (int i = 0; i < n_particles; ++i)
    for (int j = i + 1; j < n_particles; ++j) {
      double r2 = 0;
      for (int d = 0; d < dim; ++d) {
        const double u = minimum_image(static_cast<double>(x[i * dim + d]) - x[j * dim + d], L, inv_l);
        r2 += u * u;
      }
      if (!(r2 >= lo2 && r2 < hi2)) continue;  // also skips NaN
      const int b = static_cast<int>((std::sqrt(r2) - bins.lo) * inv_w);
      out[b < bins.count ? b : bins.count - 1] += 1.0;
    }
}

int old_bin(double r2, const Bins& bins) {
  const double lo2 = bins.lo * bins.lo, hi2 = bins.hi * bins.hi, inv_w = 1.0 / bins.width();
  if (!(r2 >= lo2 && r2 < hi2)) return -1;
  const int b = static_cast<int>((std::sqrt(r2) - bins.lo) * inv_w);
  return b < bins.count ? b : bins.count - 1;
}

TEST(PairBin, EqualsTheFormulaItReplacedOnEdgeCases) {
  for (const Bins& b : {Bins{0.0, 4.0, 16}, Bins{0.5, 3.3, 7}, Bins{0.0, 3.3, 100}, Bins{1.0, 1.5, 1}}) {
    const PairBins pb = pair_bins(b);
    std::vector<double> r2s = {0.0, -0.0, kInf, kNaN, -1.0, 1e-300, b.lo * b.lo, b.hi * b.hi};
    for (int e = 0; e <= b.count; ++e) {  // every edge, squared, and its neighbours
      const double r = b.lo + e * b.width(), r2 = r * r;
      for (double v : {r2, std::nextafter(r2, 0.0), std::nextafter(r2, kInf), std::nextafter(std::nextafter(r2, 0.0), 0.0)})
        r2s.push_back(v);
    }
    for (double r2 : r2s) EXPECT_EQ(pair_bin(r2, pb), old_bin(r2, b)) << "r2 = " << r2 << ", bins [" << b.lo << ", " << b.hi << ") × " << b.count;
  }
}

TEST(PairBin, HistogramsEqualTheFormerCodeOnEdgeDistances) {
  for (int D : {2, 3}) {
    const test::SetCase c = test::make_set_case(D, 0, 60, 17 + D);
    const std::size_t row = static_cast<std::size_t>(c.N) * D, G = c.rb.count;
    int on_edge = 0;
    for (std::size_t i = 0; i < c.n; ++i) {
      std::vector<double> now(G, 0.0), before(G, 0.0);
      add_pair_histogram(c.x.data() + i * row, c.N, D, c.L, c.rb, now.data());
      old_pair_histogram(c.x.data() + i * row, c.N, D, c.L, c.rb, before.data());
      EXPECT_EQ(std::memcmp(now.data(), before.data(), G * sizeof(double)), 0) << "D = " << D << ", configuration " << i;
      for (int p = 0; p < c.N; ++p)
        for (int q = p + 1; q < c.N; ++q) {
          const double r = std::sqrt(pair_distance2(c.x.data() + i * row, p, q, D, c.L, 1.0 / c.L)) * 4.0;
          on_edge += r == std::floor(r) && r < 4.0 * c.rb.hi;
        }
    }
    EXPECT_GT(on_edge, 20) << "the cases must contain pair distances exactly on bin edges (D = " << D << ")";
    // A pair at distance L/2 along an axis (the excluded upper edge) and one at 0 (bin 0).
    std::vector<float> x(static_cast<std::size_t>(3) * D, 0.0f);
    x[D] = static_cast<float>(c.L / 2);
    std::vector<double> h(G, 0.0), old(G, 0.0);
    add_pair_histogram(x.data(), 3, D, c.L, c.rb, h.data());
    old_pair_histogram(x.data(), 3, D, c.L, c.rb, old.data());
    EXPECT_EQ(h, old);
    EXPECT_EQ(h[0], 1.0);  // particles 0 and 2 coincide; the pairs at L/2 lie beyond the last bin
  }
}

// The loop body of SetAccumulator::add as it was (git 200d61c), for one replicate.
struct OldSums {
  double s[7] = {};
  std::vector<double> hist, cw;
};
OldSums old_replicate(const std::uint8_t* c, std::size_t m, const double* lwv, const std::uint8_t* inside, double shift,
                      double shift_raw, const double* energy, const Bins& eb) {
  std::vector<double> w(m), wraw(m);
  std::vector<std::uint8_t> in(m);
  for (std::size_t j = 0; j < m; ++j) {
    in[j] = inside == nullptr || inside[j];
    const double lw = lwv == nullptr ? 0.0 : lwv[j];
    w[j] = in[j] ? std::exp(lw - shift) : 0.0;
    wraw[j] = std::exp(lw - shift_raw);
  }
  OldSums o;
  o.hist.assign(eb.count, 0.0);
  o.cw.assign(m, 0.0);
  double s0 = 0, s1 = 0, s2 = 0, su = 0, sin = 0, s1raw = 0, s1out = 0;
  for (std::size_t j = 0; j < m; ++j) {
    if (c[j] == 0) continue;
    const double cj = c[j], x = cj * w[j];
    s0 += cj;
    s1 += x;
    s2 += x * w[j];
    sin += in[j] ? cj : 0.0;
    s1raw += cj * wraw[j];
    s1out += in[j] ? 0.0 : cj * wraw[j];
    if (x == 0.0) continue;
    su += x * energy[j];
    if (eb.index(energy[j]) >= 0) o.hist[eb.index(energy[j])] += x;
    o.cw[j] = x;
  }
  const double add[7] = {s0, s1, s2, su, sin, s1raw, s1out};
  std::copy(add, add + 7, o.s);
  return o;
}

TEST(SetTerms, EqualTheLoopTheyReplacedBitForBit) {
  const std::size_t m = 400;
  std::mt19937_64 g(8);
  std::normal_distribution<double> z(0, 1);
  std::uniform_int_distribution<int> cnt(0, 3);
  std::vector<double> lw(m), u(m);
  std::vector<std::uint8_t> in(m), c(m);
  for (std::size_t j = 0; j < m; ++j) {
    lw[j] = 50 + 3 * z(g);
    u[j] = z(g);
    in[j] = j % 5 != 1;
    c[j] = static_cast<std::uint8_t>(cnt(g));
  }
  lw[3] = -kInf;       // weight 0 inside
  u[3] = kInf;         // whose energy must not enter
  in[7] = 0, u[7] = kNaN;  // outside: weight 0, its energy must not enter
  lw[9] = 1e6;         // underflows nothing, overflows the unshifted exp
  const Bins eb{-2, 2, 10};
  for (const bool weighted : {false, true}) {
    const double* lwp = weighted ? lw.data() : nullptr;
    const std::uint8_t* inp = weighted ? in.data() : nullptr;
    const double shift = weighted ? 1e6 : 0.0, shift_raw = weighted ? 1e6 + 1 : 0.0;
    const OldSums old = old_replicate(c.data(), m, lwp, inp, shift, shift_raw, u.data(), eb);
    ScalarSums s;
    std::vector<double> hist(eb.count, 0.0), cw(m, 0.0);
    for (std::size_t j = 0; j < m; ++j) {
      if (c[j] == 0) continue;
      const RowWeight rw = row_weight(lwp, inp, j, shift, shift_raw);
      const double x = s.add(c[j], rw.w, rw.wraw, rw.in, u[j]);
      if (x == 0.0) continue;
      if (eb.index(u[j]) >= 0) hist[eb.index(u[j])] += x;
      cw[j] = x;
    }
    for (int q = 0; q < kSetScalars; ++q) {
      const double now = s.get(q);
      EXPECT_EQ(std::memcmp(&now, &old.s[q], sizeof now), 0) << "scalar " << q << ": " << now << " vs " << old.s[q];
    }
    EXPECT_EQ(std::memcmp(hist.data(), old.hist.data(), hist.size() * sizeof(double)), 0);
    EXPECT_EQ(std::memcmp(cw.data(), old.cw.data(), cw.size() * sizeof(double)), 0);
    if (weighted) {
      EXPECT_TRUE(std::isfinite(s.su)) << "a zero-weight row's inf/NaN energy entered";
    }
  }
}

// The CPU SetKernels, chunk by chunk, gives the direct calls' sums bitwise.
TEST(SetKernels, CpuEqualsTheDirectCallsBitwise) {
  for (int D : {2, 3})
    for (int R : {0, 30}) {
      const test::SetCase c = test::make_set_case(D, R, 700, 100 + D + R);
      SetAccumulator direct = c.accumulator(), seam = c.accumulator();
      auto k = make_set_kernels(BackendKind::cpu);
      ASSERT_EQ(k->kind(), BackendKind::cpu);
      std::vector<double> h;
      for (const auto& [f, m] : {std::pair<std::size_t, std::size_t>{0, 333}, {333, 1}, {334, 366}}) {
        const std::vector<std::uint8_t> counts = c.chunk_counts(f, m);
        pair_histograms(c.positions(f, m), m, c.N, D, c.L, c.rb, h);
        direct.add(h, std::span<const double>(c.u).subspan(f, m), c.weightings(f, m), counts, m);
        k->set_counts(counts, R, m);
        k->add(seam, c.positions(f, m), c.N, D, c.L, std::span<const double>(c.u).subspan(f, m), c.weightings(f, m));
        std::vector<double> hk;
        k->pair_histograms(c.positions(f, m), m, c.N, D, c.L, c.rb, hk);
        EXPECT_EQ(hk, h);
      }
      k->flush(seam);
      ASSERT_EQ(seam.sums().size(), direct.sums().size());
      EXPECT_EQ(std::memcmp(seam.sums().data(), direct.sums().data(), seam.sums().size() * sizeof(double)), 0)
          << "D = " << D << ", R = " << R;
    }
}

// cuBLAS's column-major DGEMM without transposes, alpha = beta = 1: C[m×n] += A[m×k]·B[k×n].
void dgemm_nn(int m, int n, int k, const double* A, int lda, const double* B, int ldb, double* C, int ldc) {
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) {
      double s = 0;
      for (int p = 0; p < k; ++p) s += A[i + static_cast<std::size_t>(p) * lda] * B[p + static_cast<std::size_t>(j) * ldb];
      C[i + static_cast<std::size_t>(j) * ldc] += s;
    }
}

// The CUDA path's algorithm on the host, step for step as set_kernels_cuda.cpp and
// kernels/analysis.cu do it (B = [one-hot | pair counts], per weighting the row weights, each
// replicate's ScalarSums and A = c·w, then the DGEMM with device_sums_gemm's arguments into the
// device layout, add_device_layout_sums at the end): it must give the CPU's sums, the scalars
// bitwise (the same terms in the same order here) and the histograms to reordering (10⁻¹³
// relative: a few hundred terms). This checks the layouts, offsets and GEMM arguments the GPU
// code uses, which no GPU-less machine can run.
TEST(SetKernels, TheDevicePathsLayoutAndGemmGiveTheCpuSums) {
  for (int D : {2, 3}) {
    const int R = 13;
    const test::SetCase c = test::make_set_case(D, R, 300, 55 + D);
    SetAccumulator cpu = c.accumulator(), emulated = c.accumulator();
    auto k = make_cpu_set_kernels();
    std::vector<double> dev(emulated.sums().size(), 0.0);
    const std::size_t R1 = R + 1, E = c.eb.count, G = c.rb.count, cols = E + G, row = static_cast<std::size_t>(c.N) * D;
    for (const auto& [f, m] : {std::pair<std::size_t, std::size_t>{0, 120}, {120, 180}}) {
      const std::vector<std::uint8_t> counts = c.chunk_counts(f, m);
      k->set_counts(counts, R, m);
      k->add(cpu, c.positions(f, m), c.N, D, c.L, std::span<const double>(c.u).subspan(f, m), c.weightings(f, m));
      std::vector<double> B(m * cols, 0.0), A(R1 * m);
      for (std::size_t j = 0; j < m; ++j) {
        for (std::size_t e = 0; e < E; ++e) B[j * cols + e] = c.eb.index(c.u[f + j]) == static_cast<int>(e) ? 1.0 : 0.0;
        add_pair_histogram(c.x.data() + (f + j) * row, c.N, D, c.L, c.rb, B.data() + j * cols + E);
      }
      const auto ws = c.weightings(f, m);
      for (std::size_t q = 0; q < ws.size(); ++q) {
        const double* lw = ws[q].log_w.empty() ? nullptr : ws[q].log_w.data();
        const std::uint8_t* inside = ws[q].inside.empty() ? nullptr : ws[q].inside.data();
        double* base = dev.data() + q * emulated.per_weighting();
        for (std::size_t r = 0; r < R1; ++r) {
          ScalarSums s;
          for (std::size_t j = 0; j < m; ++j) {
            const unsigned cj = counts[r * m + j];
            const RowWeight rw = row_weight(lw, inside, j, emulated.shift()[q], emulated.shift_raw()[q]);
            A[r * m + j] = cj == 0 ? 0.0 : s.add(static_cast<double>(cj), rw.w, rw.wraw, rw.in, c.u[f + j]);
          }
          for (int p = 0; p < kSetScalars; ++p) base[static_cast<std::size_t>(p) * R1 + r] += s.get(p);
        }
        const DeviceSumsGemm gm = device_sums_gemm(R1, m, static_cast<int>(E), static_cast<int>(G));
        dgemm_nn(gm.m, gm.n, gm.k, B.data(), gm.lda, A.data(), gm.ldb, base + kSetScalars * R1, gm.ldc);
      }
    }
    add_device_layout_sums(emulated, dev);
    for (std::size_t i = 0; i < cpu.sums().size(); ++i) {
      const std::size_t o = i % cpu.per_weighting();
      if (o < kSetScalars * R1)
        EXPECT_TRUE(std::memcmp(&cpu.sums()[i], &emulated.sums()[i], sizeof(double)) == 0)
            << "D = " << D << ", scalar " << o / R1 << " of replicate " << o % R1 << ": " << emulated.sums()[i] << " vs "
            << cpu.sums()[i];
      else
        EXPECT_NEAR(emulated.sums()[i], cpu.sums()[i], 1e-13 * std::abs(cpu.sums()[i])) << "D = " << D << ", sum " << i;
    }
  }
  EXPECT_THROW(device_sums_gemm(std::size_t{1} << 20, std::size_t{1} << 12, 80, 100), Error);  // (R+1)·m > 2³¹
}

TEST(SetKernels, RefusesChunksThatDisagreeInSize) {
  const test::SetCase c = test::make_set_case(2, 4, 20, 3);
  SetAccumulator acc = c.accumulator();
  auto k = make_cpu_set_kernels();
  const std::vector<std::uint8_t> counts = c.chunk_counts(0, 20);
  EXPECT_THROW(k->set_counts(std::span<const std::uint8_t>(counts).first(99), 4, 20), Error);
  k->set_counts(counts, 4, 20);
  const std::span<const double> u(c.u);
  EXPECT_THROW(k->add(acc, c.positions(0, 19), c.N, 2, c.L, u, c.weightings(0, 20)), Error);
  EXPECT_THROW(k->add(acc, c.positions(0, 20), c.N, 2, c.L, u.first(19), c.weightings(0, 20)), Error);
  EXPECT_THROW(k->add(acc, c.positions(0, 20), c.N, 2, c.L, u, {Weighting{}}), Error);
  EXPECT_THROW(k->add(acc, c.positions(0, 20), c.N, 2, c.L, u, c.weightings(0, 19)), Error);
  k->set_counts(std::span<const std::uint8_t>(counts).first(60), 2, 20);  // 2 replicates, acc has 4
  EXPECT_THROW(k->add(acc, c.positions(0, 20), c.N, 2, c.L, u, c.weightings(0, 20)), Error);
}

TEST(SetKernels, CudaRefusedWithoutADevice) {
  const Accelerators acc = probe_accelerators();
  if (acc.cuda_usable()) GTEST_SKIP() << "a GPU is visible: tests/gpu/test_analysis_parity.cpp covers it";
  try {
    make_set_kernels(BackendKind::cuda);
    FAIL() << "make_set_kernels(cuda) succeeded without a usable GPU";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::backend) << e.what();
  }
}

}  // namespace
}  // namespace boltzmap
