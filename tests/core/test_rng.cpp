// Counter-based RNG (src/core/rng.hpp): Philox4x32-10 known answers and the mapping of
// (seed, stream, id, counter) onto Philox's key and counter, determinism, sensitivity to every
// input, the ranges of the conversions on extreme words, uniformity (chi-square at p = 1e-4 with
// fixed inputs), and derive_seed. Also checks the chi-square helper of tests/support/stats.hpp
// against closed forms, since the statistical tests rely on it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <set>
#include <vector>

#include "core/rng.hpp"
#include "support/stats.hpp"

namespace boltzmap {
namespace {

constexpr std::uint64_t kSeed = 0x5EED0123456789ABull;

bool same(const Random4& a, const Random4& b) {
  return a.v[0] == b.v[0] && a.v[1] == b.v[1] && a.v[2] == b.v[2] && a.v[3] == b.v[3];
}
// Number of word positions in which a and b agree (0 expected for unrelated draws: each agrees
// with probability 2^-32).
int agreeing_words(const Random4& a, const Random4& b) {
  int n = 0;
  for (int k = 0; k < 4; ++k) n += a.v[k] == b.v[k];
  return n;
}

TEST(Rng, PhiloxKnownAnswerVectors) {
  // Random123 tests/kat_vectors, the three "philox4x32 10" lines (CTR[4] KEY[2] -> result[4]).
  // philox() puts the key = (seed lo, seed hi) and CTR = (counter lo, counter hi, id, stream), so
  // these also pin that mapping (a change to it would silently change every chain).
  struct Kat {
    std::uint32_t ctr[4], key[2], out[4];
  };
  const Kat kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const auto& k : kats) {
    const std::uint64_t seed = (std::uint64_t{k.key[1]} << 32) | k.key[0];
    const std::uint64_t counter = (std::uint64_t{k.ctr[1]} << 32) | k.ctr[0];
    const Random4 r = philox(seed, static_cast<RngStream>(k.ctr[3]), k.ctr[2], counter);
    for (int w = 0; w < 4; ++w) EXPECT_EQ(r.v[w], k.out[w]) << "KAT ctr0=" << std::hex << k.ctr[0] << " word " << w;
  }
}

TEST(Rng, PhiloxIsDeterministic) {
  for (std::uint64_t c = 0; c < 100; ++c) {
    const Random4 a = philox(kSeed, RngStream::Move, 7, c);
    const Random4 b = philox(kSeed, RngStream::Move, 7, c);
    EXPECT_TRUE(same(a, b)) << "seed " << kSeed << " counter " << c;
  }
}

TEST(Rng, EveryInputChangesEveryWord) {
  // Vary one input at a time, including the high halves of seed and counter (the move counter is
  // shifted left by one in draw_move, so high counter bits are used).
  const Random4 base = philox(kSeed, RngStream::Move, 7, 1000);
  const std::vector<std::pair<const char*, Random4>> variants = {
      {"seed+1", philox(kSeed + 1, RngStream::Move, 7, 1000)},
      {"seed+2^32", philox(kSeed + (1ull << 32), RngStream::Move, 7, 1000)},
      {"stream Lattice", philox(kSeed, RngStream::Lattice, 7, 1000)},
      {"stream Test", philox(kSeed, RngStream::Test, 7, 1000)},
      {"id 8", philox(kSeed, RngStream::Move, 8, 1000)},
      {"id 7+2^31", philox(kSeed, RngStream::Move, 7u + (1u << 31), 1000)},
      {"counter+1", philox(kSeed, RngStream::Move, 7, 1001)},
      {"counter+2^32", philox(kSeed, RngStream::Move, 7, 1000 + (1ull << 32))},
  };
  for (const auto& [name, r] : variants) EXPECT_EQ(agreeing_words(base, r), 0) << "variant " << name;
  // And all variants differ pairwise.
  for (size_t a = 0; a < variants.size(); ++a)
    for (size_t b = a + 1; b < variants.size(); ++b)
      EXPECT_FALSE(same(variants[a].second, variants[b].second)) << variants[a].first << " vs " << variants[b].first;
}

TEST(Rng, ConversionsStayInUnitIntervalOnExtremeWords) {
  EXPECT_EQ(uniform_float(0u), 0.0f);
  EXPECT_LT(uniform_float(0xFFFFFFFFu), 1.0f);
  EXPECT_EQ(uniform_float(0xFFFFFFFFu), 1.0f - 1.0f / 16777216.0f);  // (2^24 − 1)/2^24 exactly
  EXPECT_EQ(uniform_double(0u), 0.0);
  EXPECT_LT(uniform_double(0xFFFFFFFFu), 1.0);
  // Open interval (0, 1) for the Metropolis uniform: never 0 (so exp(−βΔU) = 0 never accepts).
  EXPECT_EQ(uniform_open_double(0u), 0x1p-33);
  EXPECT_GT(uniform_open_double(0u), 0.0);
  EXPECT_LT(uniform_open_double(0xFFFFFFFFu), 1.0);
  EXPECT_EQ(uniform_open_double(0xFFFFFFFFu), 1.0 - 0x1p-33);
  EXPECT_EQ(uniform_double(0u, 0u), 0.0);
  EXPECT_LT(uniform_double(0xFFFFFFFFu, 0xFFFFFFFFu), 1.0);
  EXPECT_EQ(uniform_double(0xFFFFFFFFu, 0xFFFFFFFFu), 1.0 - 0x1p-53);  // (2^53 − 1)/2^53 exactly
  // The 53-bit form uses both words: the low word's top bits matter, its low 11 bits do not.
  EXPECT_NE(uniform_double(5u, 0x80000000u), uniform_double(5u, 0u));
  EXPECT_EQ(uniform_double(5u, 0x7FFu), uniform_double(5u, 0u));
  for (const std::uint32_t n : {1u, 2u, 7u, 32u, 54u, 1000003u}) {
    EXPECT_EQ(uniform_index(0u, n), 0u) << "n " << n;
    EXPECT_EQ(uniform_index(0xFFFFFFFFu, n), n - 1) << "n " << n;
  }
  // Random words: always in range.
  for (std::uint64_t c = 0; c < 20000; ++c) {
    const Random4 r = philox(kSeed, RngStream::Test, 1, c);
    for (int k = 0; k < 4; ++k) {
      const float f = uniform_float(r.v[k]);
      ASSERT_TRUE(f >= 0.0f && f < 1.0f) << "counter " << c;
      ASSERT_LT(uniform_index(r.v[k], 7u), 7u);
    }
    const double o = uniform_open_double(r.v[2]);
    ASSERT_TRUE(o > 0.0 && o < 1.0) << "counter " << c;
    const double d = uniform_double(r.v[0], r.v[1]);
    ASSERT_TRUE(d >= 0.0 && d < 1.0) << "counter " << c;
  }
}

TEST(Rng, ChiSquareHelperMatchesClosedForms) {
  // dof 2: P(χ² ≥ x) = e^{-x/2}; dof 1: erfc(√(x/2)). Covers both the series (x < a + 1) and the
  // continued-fraction branch. Tolerance 1e-10 relative: far below what the tests need (they
  // compare p-values with 1e-4).
  for (double x : {0.01, 0.5, 1.0, 2.5, 7.0, 20.0, 60.0}) {
    EXPECT_NEAR(test::chi_square_p_value(x, 2), std::exp(-x / 2), 1e-10 * std::exp(-x / 2)) << "x " << x;
    const double e1 = std::erfc(std::sqrt(x / 2));
    EXPECT_NEAR(test::chi_square_p_value(x, 1), e1, 1e-10 * e1) << "x " << x;
  }
  // An odd dof far in the tail: P(χ²_31 ≥ 69) = 1.03212e-4, from Simpson integration of the χ²_31
  // density over [69, 469] with 2e5 intervals (done once in Python); 1e-4 relative tolerance.
  EXPECT_NEAR(test::chi_square_p_value(69.0, 31), 1.03212e-4, 1.03212e-8);
}

// Pearson chi-square over `bins` equiprobable bins; p-value threshold 1e-4 (a correct generator
// fails 1 time in 10^4 for a random seed; the seeds are fixed, so the outcome is deterministic).
void expect_uniform_bins(const std::vector<double>& counts, double draws, const char* what) {
  const std::vector<double> expected(counts.size(), draws / counts.size());
  const double chi2 = test::chi_square_statistic(counts, expected);
  const int dof = static_cast<int>(counts.size()) - 1;
  const double p = test::chi_square_p_value(chi2, dof);
  EXPECT_GT(p, 1e-4) << what << ": chi2 " << chi2 << " dof " << dof << " seed " << kSeed;
}

TEST(Rng, UniformIndexIsUniform) {
  // 1e5 draws per n (expected ≥ 1850 per bin, so the chi-square approximation is excellent).
  const int draws = 100000;
  for (const std::uint32_t n : {32u, 7u, 54u}) {
    std::vector<double> counts(n, 0.0);
    for (int c = 0; c < draws; ++c) counts[uniform_index(philox(kSeed, RngStream::Test, n, c).v[0], n)] += 1;
    expect_uniform_bins(counts, draws, "uniform_index");
  }
}

TEST(Rng, UniformFloatAndDoubleAreUniform) {
  const int draws = 100000, bins = 32;
  std::vector<double> cf(bins, 0.0), cd(bins, 0.0), cd2(bins, 0.0), co(bins, 0.0);
  for (int c = 0; c < draws; ++c) {
    const Random4 r = philox(kSeed, RngStream::Test, 99, c);
    cf[static_cast<int>(uniform_float(r.v[1]) * bins)] += 1;
    cd[static_cast<int>(uniform_double(r.v[2]) * bins)] += 1;
    cd2[static_cast<int>(uniform_double(r.v[3], r.v[0]) * bins)] += 1;
    co[static_cast<int>(uniform_open_double(r.v[0]) * bins)] += 1;
  }
  expect_uniform_bins(cf, draws, "uniform_float");
  expect_uniform_bins(cd, draws, "uniform_double(u)");
  expect_uniform_bins(cd2, draws, "uniform_double(hi, lo)");
  expect_uniform_bins(co, draws, "uniform_open_double");
}

TEST(Rng, DeriveSeedSeparatesTagsAndSeeds) {
  std::set<std::uint64_t> seen;
  for (std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{42}, kSeed})
    for (std::uint64_t tag = 0; tag < 1000; ++tag) {
      const std::uint64_t s = derive_seed(seed, tag);
      EXPECT_NE(s, seed) << "seed " << seed << " tag " << tag;
      EXPECT_TRUE(seen.insert(s).second) << "collision at seed " << seed << " tag " << tag;
    }
  EXPECT_EQ(derive_seed(7, 3), derive_seed(7, 3));
}

}  // namespace
}  // namespace boltzmap

#include <Random123/philox.h>

namespace boltzmap {
namespace {

// Our plain Philox equals Random123's on random keys and counters (Random123 is the oracle).
TEST(Rng, PhiloxEqualsRandom123) {
  std::uint32_t state[4] = {1, 2, 3, 4};
  for (int t = 0; t < 2000; ++t) {
    philox4x32_10(state[0], state[1], state[2], state[3], 0xABCDEF01u, static_cast<std::uint32_t>(t));  // test inputs
    r123::Philox4x32 g;
    r123::Philox4x32::ctr_type ctr = {{state[0], state[1], state[2], state[3]}};
    r123::Philox4x32::key_type key = {{state[1] ^ 0x5555u, state[3]}};
    const auto expect = g(ctr, key);
    std::uint32_t got[4] = {state[0], state[1], state[2], state[3]};
    philox4x32_10(got[0], got[1], got[2], got[3], key[0], key[1]);
    for (int w = 0; w < 4; ++w) ASSERT_EQ(got[w], expect[w]) << "case " << t << " word " << w;
  }
}

}  // namespace
}  // namespace boltzmap
