// Counter-based random numbers (Philox4x32-10 of Salmon et al., SC'11), usable on host and device.
// A draw is keyed by (seed, stream, id, counter): the seed and the named stream form the key,
// the id (walker, configuration, replicate) and a 64-bit counter (move number, step) form the
// counter. Walker w's chain is therefore identical whatever the number of threads, ranks or GPUs.
// Philox is written out here in plain 32×32→64-bit products so the compiler can vectorise it
// across walkers (src/sampling/mc_block.hpp); tests/core/test_rng.cpp checks it against
// Random123's implementation and known-answer vectors.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "core/hd.hpp"

namespace boltzmap {

// Named streams: each use of randomness has its own, so adding draws in one place never shifts
// the numbers drawn in another.
enum class RngStream : std::uint32_t {
  Lattice = 1,
  Move = 2,       // MCMC: particle choice, displacement, acceptance (one Philox call per move)
  Tuning = 3,
  Pool = 4,
  Batch = 5,
  Augment = 6,
  Bootstrap = 7,
  Init = 8,       // network initialisation
  Test = 100,
};

struct Random4 {
  std::uint32_t v[4];
};

// The Philox4x32-10 bijection of the counter (c0, c1, c2, c3) under key (k0, k1), in place.
// Scalars, not an array, and a fully unrolled round loop, so a loop over walkers that calls it
// vectorises (GCC 12 does not split a local array into registers before vectorising).
BOLTZMAP_HD void philox4x32_10(std::uint32_t& c0, std::uint32_t& c1, std::uint32_t& c2, std::uint32_t& c3,
                               std::uint32_t k0, std::uint32_t k1) {
#pragma GCC unroll 10
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = std::uint64_t{0xD2511F53u} * c0;
    const std::uint64_t p1 = std::uint64_t{0xCD9E8D57u} * c2;
    const std::uint32_t n0 = static_cast<std::uint32_t>(p1 >> 32) ^ c1 ^ k0;
    const std::uint32_t n2 = static_cast<std::uint32_t>(p0 >> 32) ^ c3 ^ k1;
    c0 = n0;
    c1 = static_cast<std::uint32_t>(p1);
    c2 = n2;
    c3 = static_cast<std::uint32_t>(p0);
    k0 += 0x9E3779B9u;  // key schedule (the bump after the last round is unused)
    k1 += 0xBB67AE85u;
  }
}

// Four independent 32-bit words for (seed, stream, id, counter): key = (seed lo, seed hi),
// counter = (counter lo, counter hi, id, stream).
BOLTZMAP_HD Random4 philox(std::uint64_t seed, RngStream stream, std::uint32_t id, std::uint64_t counter) {
  Random4 r{{static_cast<std::uint32_t>(counter), static_cast<std::uint32_t>(counter >> 32), id,
             static_cast<std::uint32_t>(stream)}};
  philox4x32_10(r.v[0], r.v[1], r.v[2], r.v[3], static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32));
  return r;
}

// Uniform float in [0, 1) from the top 24 bits (exactly representable, never 1).
BOLTZMAP_HD float uniform_float(std::uint32_t u) { return static_cast<float>(u >> 8) * (1.0f / 16777216.0f); }
// Uniform double in [0, 1) from 32 bits.
BOLTZMAP_HD double uniform_double(std::uint32_t u) { return static_cast<double>(u) * (1.0 / 4294967296.0); }
// Uniform double in the open interval (0, 1) from 32 bits: (u + ½)·2⁻³². Never 0, so a Metropolis
// test u < exp(−βΔU) cannot accept an overlap with exp(−βΔU) = 0 (P = 2⁻³² per move otherwise).
BOLTZMAP_HD double uniform_open_double(std::uint32_t u) { return (static_cast<double>(u) + 0.5) * (1.0 / 4294967296.0); }
// Uniform double in [0, 1) with 53 random bits from two words.
BOLTZMAP_HD double uniform_double(std::uint32_t hi, std::uint32_t lo) {
  const std::uint64_t bits = (static_cast<std::uint64_t>(hi) << 21) | (lo >> 11);
  return static_cast<double>(bits) * (1.0 / 9007199254740992.0);
}
// Unbiased enough integer in [0, n) for n << 2^32 (multiply-shift; bias < n / 2^32).
BOLTZMAP_HD std::uint32_t uniform_index(std::uint32_t u, std::uint32_t n) {
  return static_cast<std::uint32_t>((static_cast<std::uint64_t>(u) * n) >> 32);
}

// p = a uniformly random permutation of 0..n−1 (Fisher–Yates, host only) keyed by (seed, stream, id):
// the batch order of an epoch, the pool members of a step.
inline void keyed_permutation(std::int64_t n, std::uint64_t seed, RngStream stream, std::uint32_t id,
                              std::vector<std::int64_t>& p) {
  p.resize(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) p[static_cast<std::size_t>(i)] = i;
  for (std::int64_t i = n - 1; i > 0; --i) {
    const Random4 r = philox(seed, stream, id, static_cast<std::uint64_t>(i));
    std::swap(p[static_cast<std::size_t>(i)], p[uniform_index(r.v[0], static_cast<std::uint32_t>(i + 1))]);
  }
}

}  // namespace boltzmap

namespace boltzmap {
// SplitMix64 finaliser: derives independent 64-bit seeds from (seed, tag), e.g. one per system.
BOLTZMAP_HD std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t tag) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * (tag + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
}  // namespace boltzmap
