#include "conn/ack_tracker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "common/random.h"

namespace roam::conn {
namespace {

std::vector<PnRange> ranges(const AckTracker& t) {
  std::vector<PnRange> out(AckTracker::kMaxRanges);
  out.resize(t.ack_ranges(out.data(), out.size()));
  return out;
}

TEST(AckTracker, MergesAdjacentAndDetectsDuplicates) {
  AckTracker t;
  const Instant now{};
  for (std::uint64_t pn : {0, 1, 2, 5, 6, 4}) EXPECT_TRUE(t.on_packet_received(pn, true, now));
  EXPECT_FALSE(t.on_packet_received(5, true, now));
  auto r = ranges(t);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].smallest, 4u);
  EXPECT_EQ(r[0].largest, 6u);
  EXPECT_EQ(r[1].smallest, 0u);
  EXPECT_EQ(r[1].largest, 2u);
  EXPECT_TRUE(t.on_packet_received(3, true, now));
  r = ranges(t);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].smallest, 0u);
  EXPECT_EQ(r[0].largest, 6u);
  EXPECT_EQ(*t.largest_pn(), 6u);
}

TEST(AckTracker, RandomOrderMatchesSet) {
  SeededRandom rng(7);
  std::set<std::uint64_t> seen;
  AckTracker t;
  for (int i = 0; i < 2000; ++i) {
    const std::uint64_t pn = rng.uniform(100);
    const bool fresh = seen.insert(pn).second;
    EXPECT_EQ(t.on_packet_received(pn, false, Instant{}), fresh) << pn;
  }
  for (std::uint64_t pn = 0; pn < 100; ++pn) EXPECT_EQ(t.contains(pn), seen.count(pn) > 0) << pn;
}

TEST(AckTracker, AckTimingRules) {
  AckTracker t;
  const Instant t0{};
  t.on_packet_received(0, true, t0);
  EXPECT_FALSE(t.ack_immediately());
  ASSERT_TRUE(t.ack_deadline(25_ms).has_value());
  EXPECT_EQ(*t.ack_deadline(25_ms), t0 + 25_ms);
  t.on_packet_received(1, true, t0 + 1_ms);
  EXPECT_TRUE(t.ack_immediately());  // second ack-eliciting packet
  t.on_ack_sent();
  EXPECT_FALSE(t.ack_deadline(25_ms).has_value());
  t.on_packet_received(5, true, t0 + 2_ms);  // gap: out of order
  EXPECT_TRUE(t.ack_immediately());
  t.on_ack_sent();
  t.on_packet_received(6, false, t0 + 3_ms);  // not ack-eliciting: no deadline
  EXPECT_FALSE(t.ack_deadline(25_ms).has_value());
}

TEST(AckTracker, AckedFrameRaisesReportingFloorButNotDuplicateDetection) {
  AckTracker t;
  for (std::uint64_t pn = 0; pn < 10; ++pn) t.on_packet_received(pn, true, Instant{});
  t.on_ack_frame_acked(7);
  auto r = ranges(t);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].smallest, 8u);
  EXPECT_EQ(r[0].largest, 9u);
  EXPECT_FALSE(t.on_packet_received(3, true, Instant{}));  // still a duplicate
}

TEST(AckTracker, RangeCountIsBoundedAndOldPacketsBecomeDuplicates) {
  AckTracker t;
  for (std::uint64_t pn = 0; pn < 1000; pn += 2) t.on_packet_received(pn, false, Instant{});
  EXPECT_EQ(ranges(t).size(), AckTracker::kMaxRanges);
  EXPECT_FALSE(t.on_packet_received(1, false, Instant{}));  // below the floor: treated as seen
  EXPECT_TRUE(t.on_packet_received(997, false, Instant{}));
}

}  // namespace
}  // namespace roam::conn
