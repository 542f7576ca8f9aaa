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

// A quantity's full-sample value (index 0) and bootstrap error: the sample standard deviation of
// the finite replicates 1 … R (NaN when fewer than two are finite).
struct Estimate {
  double value = 0, error = 0;
  int finite = 0;  // replicates that entered the error
};
Estimate summarise(std::span<const double> per_replicate);

}  // namespace boltzmap
