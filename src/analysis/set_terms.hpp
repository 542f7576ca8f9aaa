// The per-row terms of SetAccumulator (set_statistics.hpp), written once for the CPU
// (set_statistics.cpp) and the GPU (kernels/analysis.cu): a row's weight w = e^{log w − shift}
// (zero outside the domain) and its unrestricted weight, and the seven scalar sums a replicate
// adds row by row. Only the order of the sums differs between the two sides (the CPU adds a
// replicate's rows in order; the GPU in a block reduction), and the exponential's libm (glibc's
// and CUDA's, each within 1 ulp). Tests: tests/analysis/test_set_kernels.cpp (the CPU side),
// tests/gpu/test_analysis_parity.cpp (GPU = CPU).
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "core/hd.hpp"

namespace boltzmap {

// The scalar sums of one replicate, in the order of SetAccumulator's sums: Σc, Σcw, Σcw², ΣcwU,
// Σc·inside, Σc·w_raw, Σc·w_raw·outside.
constexpr int kSetScalars = 7;

struct RowWeight {
  double w = 0, wraw = 0;
  bool in = true;
};

// Row j's weights: log_w null → log w = 0; inside null → every row inside.
BOLTZMAP_HD RowWeight row_weight(const double* log_w, const std::uint8_t* inside, std::size_t j, double shift,
                                 double shift_raw) {
  RowWeight r;
  r.in = inside == nullptr || inside[j] != 0;
  const double lw = log_w == nullptr ? 0.0 : log_w[j];
  r.w = r.in ? std::exp(lw - shift) : 0.0;
  r.wraw = std::exp(lw - shift_raw);
  return r;
}

struct ScalarSums {
  double s0 = 0, s1 = 0, s2 = 0, su = 0, sin = 0, s1raw = 0, s1out = 0;
  // Adds a row drawn c ≥ 1 times; returns x = c·w, its weight in the histograms and g(r), or 0
  // when it enters none (weight zero: its energy, even inf or NaN, is then not added either).
  BOLTZMAP_HD double add(double c, double w, double wraw, bool in, double energy) {
    const double x = c * w;
    s0 += c;
    s1 += x;
    s2 += x * w;
    sin += in ? c : 0.0;
    s1raw += c * wraw;
    s1out += in ? 0.0 : c * wraw;
    if (x == 0.0) return 0.0;
    su += x * energy;
    return x;
  }
  BOLTZMAP_HD double get(int q) const {
    switch (q) {
      case 0: return s0;
      case 1: return s1;
      case 2: return s2;
      case 3: return su;
      case 4: return sin;
      case 5: return s1raw;
      default: return s1out;
    }
  }
};

}  // namespace boltzmap
