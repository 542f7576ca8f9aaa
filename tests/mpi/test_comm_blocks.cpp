// mpi_comm_blocks_np{1,2,3,4}: Comm::gather_blocks and Comm::allgather_blocks (src/parallel/comm.hpp)
// by exact integer contents (STYLE 14). Row i of `items` rows of `stride` elements holds
// code(i, c, w) = 8·(i·stride + c) + w + 1 where w is the rank that wrote it, so a row must
// arrive whole, in place, from its owner block_of(items, ·, size) and from no other rank. Every
// value is an integer below 2^24, exact in float. Row counts are uneven across ranks, with ranks of
// 0 rows (items < size) and an empty gather (items = 0). Unwritten elements hold a sentinel, so a
// row left out or an element written on a rank that should not receive anything is caught.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "parallel/comm.hpp"

namespace boltzmap {
namespace {

template <class T> T code(std::int64_t row, int col, int stride, int writer) {
  return static_cast<T>(8 * (row * stride + col) + writer + 1);
}
template <class T> constexpr T kSentinel = static_cast<T>(7);  // no code is 7 (mod 8): writer + 1 ≤ 4 < 7

int owner_of(std::int64_t row, std::int64_t items, int size) {
  for (int r = 0; r < size; ++r)
    if (const Range b = block_of(items, r, size); row >= b.begin && row < b.end) return r;
  return -1;
}

struct Shape {
  std::int64_t items;
  int stride;
};
// Uneven splits for 1–4 ranks: 0 rows, fewer rows than ranks (some ranks own none), one more
// than a multiple, primes, and a block of 3 elements per row as the positions are.
const Shape kShapes[] = {{0, 1}, {1, 1}, {2, 3}, {3, 1}, {5, 2}, {7, 3}, {10, 1}, {13, 5}, {64, 3}};

template <class T> class CommBlocks : public ::testing::Test {};
using Types = ::testing::Types<float, double, int, std::int64_t, std::uint64_t>;
TYPED_TEST_SUITE(CommBlocks, Types);

TYPED_TEST(CommBlocks, GatherBlocksPutsEveryRowOnRankZero) {
  using T = TypeParam;
  const Comm world;
  const int P = world.size(), me = world.rank();
  for (const Shape& s : kShapes) {
    SCOPED_TRACE(::testing::Message() << "items " << s.items << ", stride " << s.stride << ", rank " << me << " of " << P);
    const Range mine = block_of(s.items, me, P);
    std::vector<T> part(static_cast<std::size_t>(mine.count() * s.stride));
    for (std::int64_t i = mine.begin; i < mine.end; ++i)
      for (int c = 0; c < s.stride; ++c) part[static_cast<std::size_t>((i - mine.begin) * s.stride + c)] = code<T>(i, c, s.stride, me);
    std::vector<T> all(static_cast<std::size_t>(s.items * s.stride), kSentinel<T>);
    world.gather_blocks(std::span<const T>(part), std::span<T>(all), s.items, s.stride);
    std::int64_t wrong = 0;
    for (std::int64_t i = 0; i < s.items; ++i)
      for (int c = 0; c < s.stride; ++c) {
        const T got = all[static_cast<std::size_t>(i * s.stride + c)];
        // Rank 0 holds every row from its owner; the others' buffers are untouched.
        const T want = me == 0 ? code<T>(i, c, s.stride, owner_of(i, s.items, P)) : kSentinel<T>;
        if (got != want && wrong++ < 5) ADD_FAILURE() << "row " << i << " col " << c << ": got " << got << ", want " << want;
      }
    EXPECT_EQ(wrong, 0);
    // Every rank learns whether any rank saw a wrong element, so all of them fail together.
    EXPECT_EQ(world.sum(wrong), 0);
  }
}

TYPED_TEST(CommBlocks, AllgatherBlocksPutsEveryRowOnEveryRank) {
  using T = TypeParam;
  const Comm world;
  const int P = world.size(), me = world.rank();
  for (const Shape& s : kShapes) {
    SCOPED_TRACE(::testing::Message() << "items " << s.items << ", stride " << s.stride << ", rank " << me << " of " << P);
    const Range mine = block_of(s.items, me, P);
    std::vector<T> v(static_cast<std::size_t>(s.items * s.stride), kSentinel<T>);  // only my rows filled in
    for (std::int64_t i = mine.begin; i < mine.end; ++i)
      for (int c = 0; c < s.stride; ++c) v[static_cast<std::size_t>(i * s.stride + c)] = code<T>(i, c, s.stride, me);
    world.allgather_blocks(std::span<T>(v), s.items, s.stride);
    std::int64_t wrong = 0;
    for (std::int64_t i = 0; i < s.items; ++i)
      for (int c = 0; c < s.stride; ++c) {
        const T got = v[static_cast<std::size_t>(i * s.stride + c)];
        const T want = code<T>(i, c, s.stride, owner_of(i, s.items, P));
        if (got != want && wrong++ < 5) ADD_FAILURE() << "row " << i << " col " << c << ": got " << got << ", want " << want;
      }
    EXPECT_EQ(wrong, 0);
    EXPECT_EQ(world.sum(wrong), 0);
  }
}

// The split itself: blocks tile [0, items) in rank order, sizes differ by at most one, and a rank
// owns no row exactly when items < size makes it so.
TEST(CommBlocksSplit, BlocksTileTheRowsInRankOrder) {
  const Comm world;
  const int P = world.size();
  for (const Shape& s : kShapes) {
    std::int64_t next = 0, lo = s.items, hi = 0;
    for (int r = 0; r < P; ++r) {
      const Range b = block_of(s.items, r, P);
      EXPECT_EQ(b.begin, next) << "items " << s.items << " rank " << r;
      next = b.end;
      lo = std::min(lo, b.count());
      hi = std::max(hi, b.count());
    }
    EXPECT_EQ(next, s.items);
    EXPECT_LE(hi - lo, 1) << "items " << s.items;
    EXPECT_EQ(world.sum(block_of(s.items, world.rank(), P).count()), s.items);
  }
}

}  // namespace
}  // namespace boltzmap
