// A batch of configurations for the preprocessing layers: rows = configurations, each row a
// [particle][dim] float32 block (the file layout). A view: it does not own the data.
#pragma once
#include <cstddef>
#include <span>

namespace boltzmap {

struct BatchView {
  float* data = nullptr;
  int rows = 0;
  int particles = 0;
  int dim = 0;

  int row_size() const { return particles * dim; }
  float* row(int r) const { return data + static_cast<std::size_t>(r) * row_size(); }
  std::span<float> span() const { return {data, static_cast<std::size_t>(rows) * row_size()}; }
};

}  // namespace boltzmap
