// Bootstrap resampling (METHOD.md: 100 replicates, reweighting after resampling). A replicate is
// a vector of multiplicities: configuration i appears counts[i] times. Two schemes (DESIGN.md):
//   multinomial — n draws with replacement (the paper's scheme, exactly n configurations);
//   poisson     — independent Poisson(1) multiplicities per configuration, which split exactly
//                 across ranks because each is keyed by (seed, replicate, configuration).
// Draws come from the counter RNG (RngStream::Bootstrap) keyed by (seed, replicate, index), so a
// replicate is the same whatever the thread count. Row 0 holds ones: the full-sample estimate.
// Tests: tests/analysis/test_bootstrap.cpp (error of a mean = analytic standard error).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace boltzmap {

enum class BootstrapScheme { multinomial, poisson };
BootstrapScheme parse_bootstrap_scheme(const std::string& name);  // throws input_error

struct BootstrapCounts {
  int replicates = 0;  // R; rows 1 … R are replicates
  std::size_t n = 0;
  std::vector<std::uint8_t> data;  // [R + 1][n]
  std::span<const std::uint8_t> row(int r) const { return {data.data() + static_cast<std::size_t>(r) * n, n}; }
};
BootstrapCounts bootstrap_counts(BootstrapScheme scheme, int replicates, std::size_t n, std::uint64_t seed);

// The multiplicities of rows [first, first + m) of a set of n configurations for every replicate,
// made where they are needed (a chunk at a time, on the rank that holds the rows) instead of held
// for the whole set. Poisson counts are computed from their key (seed, replicate, configuration),
// so they are the same whatever the rank count and chunking; the multinomial scheme couples all
// rows of a replicate, so its table (bootstrap_counts) is built whole on one process and is
// refused on several (analysis.cpp).
class Resampler {
 public:
  Resampler(BootstrapScheme scheme, int replicates, std::size_t n, std::uint64_t seed);
  int replicates() const { return replicates_; }
  // out[r·m + j] = multiplicity of configuration first + j in replicate r (r = 0 … R; row 0 ones).
  void fill(std::size_t first, std::size_t m, std::uint8_t* out) const;
  // Replicate r's row only: out[j], j < m.
  void fill_row(int r, std::size_t first, std::size_t m, std::uint8_t* out) const;

 private:
  BootstrapScheme scheme_;
  int replicates_;
  std::size_t n_;
  std::uint64_t seed_;
  BootstrapCounts table_;  // multinomial only
};

// A quantity's full-sample value (index 0) and bootstrap error: the sample standard deviation of
// the finite replicates 1 … R (NaN when fewer than two are finite).
struct Estimate {
  double value = 0, error = 0;
  int finite = 0;  // replicates that entered the error
};
Estimate summarise(std::span<const double> per_replicate);

}  // namespace boltzmap
