#include "recovery/sent_packet_log.h"

#include <gtest/gtest.h>

#include "recovery_test_util.h"

namespace roam::recovery {
namespace {

using test::at;
using test::packet;
using State = SentPacketLog::State;

TEST(SentPacketLog, KeepsPacketNumberOrderAcrossRingGrowthAndWrap) {
  SentPacketLog log;
  std::uint64_t next = 0;
  std::uint64_t front = 0;
  // Push and settle in waves so that the ring wraps and then grows while wrapped.
  for (int wave = 0; wave < 6; ++wave) {
    for (int i = 0; i < 50 + 30 * wave; ++i) ASSERT_TRUE(log.push(packet(next++, at(0_ms))).ok());
    for (int i = 0; i < 40; ++i) log[static_cast<std::size_t>(i)].state = State::kAcked;
    log.pop_settled();
    front += 40;
    ASSERT_EQ(log.size(), next - front);
    for (std::size_t i = 0; i < log.size(); ++i) ASSERT_EQ(log[i].packet.pn, front + i);
  }
  EXPECT_EQ(log.lower_bound(front), 0u);
  EXPECT_EQ(log.lower_bound(front + 7), 7u);
  EXPECT_EQ(log.lower_bound(0), 0u);
  EXPECT_EQ(log.lower_bound(next + 5), log.size());
}

TEST(SentPacketLog, PopStopsAtOutstandingEntry) {
  SentPacketLog log;
  for (std::uint64_t pn = 0; pn < 4; ++pn) ASSERT_TRUE(log.push(packet(pn, at(0_ms))).ok());
  log[0].state = State::kLost;
  log[2].state = State::kAcked;
  log.pop_settled();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].packet.pn, 1u);
  log[0].state = State::kAcked;
  log.pop_settled();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].packet.pn, 3u);
}

TEST(SentPacketLog, KnowsWhatWasNeverSent) {
  SentPacketLog log;
  EXPECT_TRUE(log.contains_unsent(0, 0));
  ASSERT_TRUE(log.push(packet(10, at(0_ms))).ok());
  ASSERT_TRUE(log.push(packet(11, at(0_ms))).ok());
  ASSERT_TRUE(log.push(packet(15, at(0_ms))).ok());  // 12..14 skipped
  ASSERT_TRUE(log.push(packet(16, at(0_ms))).ok());
  EXPECT_EQ(log.next_pn(), 17u);
  EXPECT_FALSE(log.contains_unsent(10, 11));
  EXPECT_FALSE(log.contains_unsent(15, 16));
  EXPECT_TRUE(log.contains_unsent(9, 10));    // below the first
  EXPECT_TRUE(log.contains_unsent(11, 12));   // into the gap
  EXPECT_TRUE(log.contains_unsent(14, 15));
  EXPECT_TRUE(log.contains_unsent(13, 13));
  EXPECT_TRUE(log.contains_unsent(10, 16));   // spans the gap
  EXPECT_TRUE(log.contains_unsent(16, 17));   // beyond the last
  // History survives clearing.
  log.clear();
  EXPECT_TRUE(log.empty());
  EXPECT_TRUE(log.contains_unsent(12, 12));
  EXPECT_FALSE(log.contains_unsent(16, 16));
}

TEST(SentPacketLog, RefusesDecreasingOrOversizedPacketNumbers) {
  SentPacketLog log;
  ASSERT_TRUE(log.push(packet(5, at(0_ms))).ok());
  auto repeat = log.push(packet(5, at(0_ms)));
  ASSERT_FALSE(repeat.ok());
  EXPECT_EQ(repeat.error().code, TransportError::kInternalError);
  EXPECT_FALSE(log.push(packet(4, at(0_ms))).ok());
  EXPECT_FALSE(log.push(packet(std::uint64_t{1} << 62, at(0_ms))).ok());
  EXPECT_EQ(log.size(), 1u);
}

TEST(SentPacketLog, ForgetsOnlyTheOldestSkippedRanges) {
  SentPacketLog log;
  std::uint64_t pn = 0;
  for (std::size_t i = 0; i < SentPacketLog::kMaxSkippedRanges + 10; ++i) {
    ASSERT_TRUE(log.push(packet(pn, at(0_ms))).ok());
    pn += 2;  // skips pn + 1
  }
  EXPECT_TRUE(log.contains_unsent(pn - 3, pn - 3));   // the most recent skip
  EXPECT_FALSE(log.contains_unsent(1, 1));            // the oldest ones were dropped
  EXPECT_EQ(to_string(Space::kHandshake), "handshake");
}

}  // namespace
}  // namespace roam::recovery
