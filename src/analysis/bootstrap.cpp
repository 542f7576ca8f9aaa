// See bootstrap.hpp.
#include "analysis/bootstrap.hpp"

#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "core/rng.hpp"

namespace boltzmap {

BootstrapScheme parse_bootstrap_scheme(const std::string& name) {
  if (name == "multinomial") return BootstrapScheme::multinomial;
  if (name == "poisson") return BootstrapScheme::poisson;
  throw input_error("analysis.bootstrap_scheme: \"" + name + "\" is not allowed (\"multinomial\" or \"poisson\")");
}

namespace {

// Poisson(1) by inversion of its distribution function.
std::uint8_t poisson1(double u) {
  double p = std::exp(-1.0), f = p;
  int k = 0;
  while (u > f && k < 255) {
    ++k;
    p /= k;
    f += p;
  }
  return static_cast<std::uint8_t>(k);
}

}  // namespace

namespace {

// Poisson(1) multiplicities of configurations [first, first + m) in replicate r (r ≥ 1): lane
// i mod 4 of the counter block i / 4.
void poisson_row(std::uint64_t seed, int r, std::size_t first, std::size_t m, std::uint8_t* out) {
  std::size_t i = first;
  const std::size_t end = first + m;
  while (i < end) {
    const Random4 q = philox(seed, RngStream::Bootstrap, static_cast<std::uint32_t>(r), i / 4);
    for (std::size_t lane = i % 4; lane < 4 && i < end; ++lane, ++i) out[i - first] = poisson1(uniform_open_double(q.v[lane]));
  }
}

}  // namespace

BootstrapCounts bootstrap_counts(BootstrapScheme scheme, int replicates, std::size_t n, std::uint64_t seed) {
  if (n >= (std::size_t{1} << 32)) throw input_error("bootstrap: more than 2³² configurations in one set");
  BootstrapCounts c;
  c.replicates = replicates;
  c.n = n;
  c.data.assign(static_cast<std::size_t>(replicates + 1) * n, 0);
  std::fill(c.data.begin(), c.data.begin() + static_cast<std::ptrdiff_t>(n), std::uint8_t{1});
  int overflow = 0;  // no exceptions inside the parallel region
#pragma omp parallel for schedule(dynamic) reduction(+ : overflow)
  for (int r = 1; r <= replicates; ++r) {
    std::uint8_t* row = c.data.data() + static_cast<std::size_t>(r) * n;
    if (scheme == BootstrapScheme::poisson) {
      poisson_row(seed, r, 0, n, row);
      continue;
    }
    for (std::size_t j = 0; j < n; j += 4) {
      const Random4 q = philox(seed, RngStream::Bootstrap, static_cast<std::uint32_t>(r), j / 4);
      for (std::size_t k = 0; k < 4 && j + k < n; ++k) {
        std::uint8_t& slot = row[uniform_index(q.v[k], static_cast<std::uint32_t>(n))];
        if (slot == 255)
          ++overflow;
        else
          ++slot;
      }
    }
  }
  if (overflow > 0) throw Error(ExitCode::failure, "bootstrap: a multiplicity above 255 (n too small?)");
  return c;
}

Resampler::Resampler(BootstrapScheme scheme, int replicates, std::size_t n, std::uint64_t seed)
    : scheme_(scheme), replicates_(replicates), n_(n), seed_(seed) {
  if (n >= (std::size_t{1} << 32)) throw input_error("bootstrap: more than 2³² configurations in one set");
  if (scheme == BootstrapScheme::multinomial) table_ = bootstrap_counts(scheme, replicates, n, seed);
}

void Resampler::fill_row(int r, std::size_t first, std::size_t m, std::uint8_t* out) const {
  if (first + m > n_) throw Error(ExitCode::failure, "Resampler: rows beyond the set");
  if (r == 0) {
    std::fill(out, out + m, std::uint8_t{1});
  } else if (scheme_ == BootstrapScheme::poisson) {
    poisson_row(seed_, r, first, m, out);
  } else {
    const auto row = table_.row(r);
    std::copy(row.begin() + static_cast<std::ptrdiff_t>(first), row.begin() + static_cast<std::ptrdiff_t>(first + m), out);
  }
}

void Resampler::fill(std::size_t first, std::size_t m, std::uint8_t* out) const {
  if (first + m > n_) throw Error(ExitCode::failure, "Resampler: rows beyond the set");  // fill_row cannot throw below
#pragma omp parallel for schedule(static)
  for (int r = 0; r <= replicates_; ++r) fill_row(r, first, m, out + static_cast<std::size_t>(r) * m);
}

Estimate summarise(std::span<const double> v) {
  Estimate e;
  e.value = v.empty() ? std::numeric_limits<double>::quiet_NaN() : v[0];
  double s = 0, s2 = 0;
  int k = 0;
  for (std::size_t r = 1; r < v.size(); ++r)
    if (std::isfinite(v[r])) {
      s += v[r];
      ++k;
    }
  e.finite = k;
  if (k < 2) {
    e.error = std::numeric_limits<double>::quiet_NaN();
    return e;
  }
  const double mean = s / k;
  for (std::size_t r = 1; r < v.size(); ++r)
    if (std::isfinite(v[r])) s2 += (v[r] - mean) * (v[r] - mean);
  e.error = std::sqrt(s2 / (k - 1));
  return e;
}

}  // namespace boltzmap
