#include "recovery/pacer.h"

#include <gtest/gtest.h>

#include "recovery/path_recovery.h"
#include "recovery_test_util.h"

namespace roam::recovery {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using test::at;

// cwnd 12000 bytes over 100 ms at N = 1.25: 150000 bytes/s, one 1200-byte packet every 8 ms.
Pacer paced(Instant now) {
  Pacer pacer(1200);
  pacer.update_rate(now, 12000, milliseconds(100));
  return pacer;
}

TEST(Pacer, RateIsGainTimesWindowOverRtt) {
  Pacer pacer = paced(at(0_ms));
  EXPECT_DOUBLE_EQ(pacer.rate_bytes_per_second(), 150000.0);
  EXPECT_EQ(pacer.burst_bytes(), 12000u);
}

TEST(Pacer, InitialBurstThenEvenSpacing) {
  Pacer pacer = paced(at(0_ms));
  Instant now = at(0_ms);
  for (int i = 0; i < 10; ++i) {
    EXPECT_FALSE(pacer.next_send_time(now, 1200).has_value()) << i;
    pacer.on_packet_sent(now, 1200);
  }
  // The bucket is empty: the 11th packet waits for 1200 bytes of credit, 8 ms.
  auto next = pacer.next_send_time(now, 1200);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next, at(8_ms));
  // Sending at each allowed time keeps the 8 ms spacing.
  for (int i = 0; i < 5; ++i) {
    now = *next;
    EXPECT_FALSE(pacer.next_send_time(now, 1200).has_value());
    pacer.on_packet_sent(now, 1200);
    next = pacer.next_send_time(now, 1200);
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(*next - now, milliseconds(8));
  }
  // A half-way query asks for the remaining time only.
  EXPECT_EQ(*pacer.next_send_time(now + milliseconds(5), 1200), now + milliseconds(8));
}

TEST(Pacer, IdleRefillIsCappedAtOneBurst) {
  Pacer pacer = paced(at(0_ms));
  for (int i = 0; i < 10; ++i) pacer.on_packet_sent(at(0_ms), 1200);
  const Instant later = at(10000_ms);  // long idle
  EXPECT_DOUBLE_EQ(pacer.tokens(later), 12000.0);
  for (int i = 0; i < 10; ++i) {
    EXPECT_FALSE(pacer.next_send_time(later, 1200).has_value());
    pacer.on_packet_sent(later, 1200);
  }
  EXPECT_TRUE(pacer.next_send_time(later, 1200).has_value());
}

TEST(Pacer, GsoBatchLargerThanBurstIsAllowedWhenFull) {
  Pacer pacer = paced(at(0_ms));
  // A 20-segment batch exceeds the 10-packet bucket but must not stall forever.
  EXPECT_FALSE(pacer.next_send_time(at(0_ms), 24000).has_value());
  pacer.on_packet_sent(at(0_ms), 24000);
  // The debt (12000 bytes) plus a full packet is paid at 150000 bytes/s: 88 ms.
  auto next = pacer.next_send_time(at(0_ms), 1200);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next, at(88_ms));
  // The next oversized batch waits for a full bucket: 12000 debt + 12000 = 160 ms.
  EXPECT_EQ(*pacer.next_send_time(at(0_ms), 24000), at(160_ms));
}

TEST(Pacer, NeverStallsOnTinyRates) {
  Pacer pacer(1200);
  pacer.update_rate(at(0_ms), 2400, std::chrono::hours(1));  // absurdly slow path
  for (int i = 0; i < 10; ++i) pacer.on_packet_sent(at(0_ms), 1200);
  auto next = pacer.next_send_time(at(0_ms), 1200);
  ASSERT_TRUE(next.has_value());
  EXPECT_LT(*next, at(std::chrono::hours(10)));  // finite: 1200 / (1.25 * 2400 / 3600 s) = 1440 s
  EXPECT_NEAR(static_cast<double>((*next - at(0_ms)).count()), 1440e9, 1e3);
}

TEST(Pacer, ZeroRttDisablesPacing) {
  Pacer pacer(1200);
  pacer.update_rate(at(0_ms), 12000, Duration::zero());
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(pacer.next_send_time(at(0_ms), 1200).has_value());
    pacer.on_packet_sent(at(0_ms), 1200);
  }
  EXPECT_EQ(pacer.rate_bytes_per_second(), 0.0);
}

TEST(Pacer, RateChangeCreditsElapsedTimeAtOldRate) {
  Pacer pacer = paced(at(0_ms));
  for (int i = 0; i < 10; ++i) pacer.on_packet_sent(at(0_ms), 1200);
  // 4 ms at 150 bytes/ms = 600 bytes, then the rate doubles (cwnd 24000).
  pacer.update_rate(at(4_ms), 24000, milliseconds(100));
  EXPECT_NEAR(pacer.tokens(at(4_ms)), 600.0, 1e-6);
  // 600 more bytes at 300 bytes/ms: 2 ms.
  EXPECT_EQ(*pacer.next_send_time(at(4_ms), 1200), at(6_ms));
}

TEST(Pacer, ResetRefillsTheBucket) {
  Pacer pacer = paced(at(0_ms));
  for (int i = 0; i < 10; ++i) pacer.on_packet_sent(at(0_ms), 1200);
  pacer.reset();
  EXPECT_FALSE(pacer.next_send_time(at(0_ms), 1200).has_value());
}

TEST(PathRecovery, PacesWithItsOwnWindowAndRtt) {
  RecoveryConfig config;
  config.congestion = CongestionAlgorithm::kNewReno;
  PathRecovery path(config);
  path.rtt().on_sample(at(0_ms), milliseconds(100), Duration::zero(), true, milliseconds(25));
  for (int i = 0; i < 10; ++i) {
    EXPECT_FALSE(path.next_send_time(at(0_ms), 1200).has_value());
    path.on_packet_sent(at(0_ms), 1200);
  }
  EXPECT_EQ(path.cc().bytes_in_flight(), 12000u);
  EXPECT_FALSE(path.can_send(1200));
  EXPECT_EQ(*path.next_send_time(at(0_ms), 1200), at(8_ms));
  path.set_max_datagram_size(1500);
  EXPECT_EQ(path.pacer().burst_bytes(), 15000u);
  path.reset();
  EXPECT_FALSE(path.rtt().has_sample());
  EXPECT_EQ(path.cc().cwnd(), 14720u);  // the initial window for 1500-byte datagrams
}

}  // namespace
}  // namespace roam::recovery
