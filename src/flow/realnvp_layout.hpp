// The real-NVP's flat parameter layout and column split, as plain offsets (no Eigen), for code
// that addresses RealNvp<T>'s parameter vector from outside: the CUDA twin CudaRealNvp
// (src/flow/realnvp_cuda.hpp), which holds its parameters on the device in exactly this layout.
// The layout (src/flow/realnvp.hpp): per block, S's layers then T's, each W [out][in] row-major
// then b [out]; widths hidden… then the transformed part's size. Block b keeps the components of
// parity b % 2 (first = parity, stride 2) and transforms the others.
// Tests: tests/flow/test_realnvp_layout.cpp (sizes and offsets against RealNvp<T> itself).
#pragma once
#include <algorithm>
#include <cstddef>
#include <vector>

#include "core/error.hpp"
#include "flow/realnvp.hpp"

namespace boltzmap {

struct NvpLayer {
  std::size_t w, b;  // offsets of W [out][in] and b [out] in the flat vector
  int in, out;
};

// The components first, first + 2, … (count of them) of a D-vector: one parity.
struct NvpColumns {
  int first, count;
};

struct NvpBlockLayout {
  NvpColumns keep, trans;
  std::vector<NvpLayer> s, t;  // the S and T networks' layers, input to output
};

struct NvpLayout {
  std::vector<NvpBlockLayout> blocks;
  std::size_t size = 0;  // parameters in all
  int max_width = 0;     // the widest layer input or output (hidden or D/2 rounded up)
};

inline NvpLayout realnvp_layout(const FlowShape& shape) {
  const int D = shape.dim;
  if (D < 2 || shape.blocks < 1) throw Error(ExitCode::failure, "realnvp_layout: need dim ≥ 2 and at least one block");
  for (int h : shape.hidden)
    if (h < 1) throw Error(ExitCode::failure, "realnvp_layout: hidden widths must be positive");
  NvpLayout L;
  const int even = (D + 1) / 2, odd = D / 2;  // components with 0-based even and odd index
  std::size_t offset = 0;
  auto mlp = [&](int in, int out) {
    std::vector<NvpLayer> layers;
    int prev = in;
    std::vector<int> widths = shape.hidden;
    widths.push_back(out);
    for (int w : widths) {
      NvpLayer ly{offset, offset + static_cast<std::size_t>(prev) * w, prev, w};
      offset = ly.b + w;
      layers.push_back(ly);
      L.max_width = std::max({L.max_width, prev, w});
      prev = w;
    }
    return layers;
  };
  for (int b = 0; b < shape.blocks; ++b) {
    NvpBlockLayout blk;
    blk.keep = b % 2 == 0 ? NvpColumns{0, even} : NvpColumns{1, odd};
    blk.trans = b % 2 == 0 ? NvpColumns{1, odd} : NvpColumns{0, even};
    blk.s = mlp(blk.keep.count, blk.trans.count);
    blk.t = mlp(blk.keep.count, blk.trans.count);
    L.blocks.push_back(std::move(blk));
  }
  L.size = offset;
  return L;
}

}  // namespace boltzmap
