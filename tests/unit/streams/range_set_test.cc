#include "streams/range_set.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/random.h"

namespace roam::streams {
namespace {

std::vector<ByteRange> ranges(const RangeSet& s) {
  std::vector<ByteRange> out;
  for (const auto& [start, end] : s) out.push_back({start, end});
  return out;
}

TEST(RangeSet, InsertMergesOverlappingAndAdjacent) {
  RangeSet s;
  s.insert(10, 20);
  s.insert(30, 40);
  EXPECT_EQ(ranges(s), (std::vector<ByteRange>{{10, 20}, {30, 40}}));
  s.insert(20, 25);  // adjacent to the first
  EXPECT_EQ(ranges(s), (std::vector<ByteRange>{{10, 25}, {30, 40}}));
  s.insert(5, 35);  // swallows and bridges both
  EXPECT_EQ(ranges(s), (std::vector<ByteRange>{{5, 40}}));
  s.insert(12, 13);  // inside
  s.insert(7, 7);    // empty
  EXPECT_EQ(ranges(s), (std::vector<ByteRange>{{5, 40}}));
}

TEST(RangeSet, EraseSplitsAndTrims) {
  RangeSet s;
  s.insert(0, 100);
  s.erase(40, 60);
  EXPECT_EQ(ranges(s), (std::vector<ByteRange>{{0, 40}, {60, 100}}));
  s.erase(30, 70);
  EXPECT_EQ(ranges(s), (std::vector<ByteRange>{{0, 30}, {70, 100}}));
  s.erase(0, 10);
  s.erase(90, 200);
  EXPECT_EQ(ranges(s), (std::vector<ByteRange>{{10, 30}, {70, 90}}));
  s.erase_below(75);
  EXPECT_EQ(ranges(s), (std::vector<ByteRange>{{75, 90}}));
  EXPECT_TRUE(s.contains(75, 90));
  EXPECT_FALSE(s.contains(74, 80));
  EXPECT_TRUE(s.contains(80, 80));
}

TEST(RangeSet, GapsAreTheUncoveredParts) {
  RangeSet s;
  s.insert(10, 20);
  s.insert(30, 40);
  std::vector<ByteRange> gaps;
  s.for_each_gap(0, 50, [&](std::uint64_t a, std::uint64_t b) { gaps.push_back({a, b}); });
  EXPECT_EQ(gaps, (std::vector<ByteRange>{{0, 10}, {20, 30}, {40, 50}}));
  gaps.clear();
  s.for_each_gap(15, 35, [&](std::uint64_t a, std::uint64_t b) { gaps.push_back({a, b}); });
  EXPECT_EQ(gaps, (std::vector<ByteRange>{{20, 30}}));
  gaps.clear();
  s.for_each_gap(12, 18, [&](std::uint64_t a, std::uint64_t b) { gaps.push_back({a, b}); });
  EXPECT_TRUE(gaps.empty());
}

TEST(RangeSet, MatchesABitmapModelUnderRandomOperations) {
  constexpr std::uint64_t kSpan = 512;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    SeededRandom rng(seed);
    RangeSet s;
    std::vector<bool> model(kSpan, false);
    for (int op = 0; op < 300; ++op) {
      const std::uint64_t a = rng.uniform(kSpan);
      const std::uint64_t b = a + rng.uniform(kSpan - a + 1);
      switch (rng.uniform(3)) {
        case 0:
          s.insert(a, b);
          for (auto i = a; i < b; ++i) model[i] = true;
          break;
        case 1:
          s.erase(a, b);
          for (auto i = a; i < b; ++i) model[i] = false;
          break;
        default:
          s.erase_below(a);
          for (std::uint64_t i = 0; i < a; ++i) model[i] = false;
      }
      // Rebuild the model's ranges and compare: also proves the set stays merged.
      std::vector<ByteRange> expect;
      for (std::uint64_t i = 0; i < kSpan; ++i) {
        if (!model[i]) continue;
        if (!expect.empty() && expect.back().end == i) expect.back().end = i + 1;
        else expect.push_back({i, i + 1});
      }
      ASSERT_EQ(ranges(s), expect) << "seed " << seed << " op " << op;
    }
  }
}

}  // namespace
}  // namespace roam::streams
