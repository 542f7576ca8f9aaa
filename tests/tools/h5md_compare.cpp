// h5md_compare A.h5 B.h5: exit 0 if both files hold bitwise identical frames (positions,
// energies, walker ids, trial-move counts) and box; otherwise print the first difference and exit 1.
// Used by tests/mpi/determinism.sh.
#include <cstdio>
#include <cstring>

#include "io/h5md.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: h5md_compare A.h5 B.h5\n");
    return 2;
  }
  boltzmap::MpiSession mpi(&argc, &argv);
  const auto a = boltzmap::read_h5md(argv[1]);
  const auto b = boltzmap::read_h5md(argv[2]);
  auto same = [](const auto& x, const auto& y) {
    return x.size() == y.size() && (x.empty() || std::memcmp(x.data(), y.data(), x.size() * sizeof(x[0])) == 0);
  };
  const char* diff = nullptr;
  if (a.meta.frames != b.meta.frames || a.meta.particles != b.meta.particles) diff = "shape";
  else if (a.meta.box_length != b.meta.box_length) diff = "box";
  else if (!same(a.positions, b.positions)) diff = "positions";
  else if (!same(a.energies, b.energies)) diff = "energies";
  else if (!same(a.walkers, b.walkers)) diff = "walkers";
  else if (!same(a.mc_moves, b.mc_moves)) diff = "mc_moves";
  if (diff) {
    std::printf("DIFFERENT (%s): %s vs %s\n", diff, argv[1], argv[2]);
    return 1;
  }
  std::printf("identical: %s (%lld frames)\n", argv[1], static_cast<long long>(a.meta.frames));
  return 0;
}
