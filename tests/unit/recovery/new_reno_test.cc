#include "recovery/new_reno.h"

#include <gtest/gtest.h>

#include <vector>

#include "recovery/congestion_controller.h"
#include "recovery_test_util.h"

namespace roam::recovery {
namespace {

using test::at;
using test::packet;

constexpr std::size_t kMds = 1200;

// Sends `count` full-sized packets at `t` and returns their records.
std::vector<SentPacket> send(CongestionController& cc, Instant t, std::size_t count, std::uint64_t first_pn = 0) {
  std::vector<SentPacket> out;
  for (std::size_t i = 0; i < count; ++i) {
    out.push_back(packet(first_pn + i, t, kMds));
    cc.on_packet_sent(t, kMds);
  }
  return out;
}

TEST(InitialWindow, FollowsRfc9002Section72) {
  EXPECT_EQ(initial_window(1200), 12000u);
  EXPECT_EQ(initial_window(1472), 14720u);
  EXPECT_EQ(initial_window(1500), 14720u);  // 15000 capped at 14720
  EXPECT_EQ(initial_window(9000), 18000u);  // cap is max(14720, 2 * 9000)
  EXPECT_EQ(initial_window(1200, 4), 4800u);
}

TEST(CongestionFactory, MakesTheRequestedAlgorithm) {
  EXPECT_EQ(make_congestion_controller(CongestionAlgorithm::kNewReno)->algorithm(), CongestionAlgorithm::kNewReno);
  EXPECT_EQ(make_congestion_controller(CongestionAlgorithm::kCubic)->algorithm(), CongestionAlgorithm::kCubic);
  EXPECT_EQ(to_string(CongestionAlgorithm::kCubic), "cubic");
  EXPECT_EQ(to_string(CongestionAlgorithm::kNewReno), "newreno");
}

TEST(NewReno, StartsInSlowStartWithInitialWindow) {
  NewReno cc;
  EXPECT_EQ(cc.cwnd(), 12000u);
  EXPECT_EQ(cc.minimum_window(), 2400u);
  EXPECT_EQ(cc.ssthresh(), kInfiniteWindow);
  EXPECT_TRUE(cc.in_slow_start());
  EXPECT_FALSE(cc.in_recovery());
  EXPECT_EQ(cc.bytes_in_flight(), 0u);
  EXPECT_TRUE(cc.can_send(12000));
  EXPECT_FALSE(cc.can_send(12001));
}

TEST(NewReno, SlowStartGrowsByAckedBytes) {
  NewReno cc;
  RttEstimator rtt;
  auto sent = send(cc, at(0_ms), 10);
  EXPECT_EQ(cc.bytes_in_flight(), 12000u);
  EXPECT_FALSE(cc.can_send(kMds));
  EXPECT_EQ(cc.available(), 0u);
  cc.on_packets_acked(sent, at(100_ms), rtt);
  EXPECT_EQ(cc.cwnd(), 24000u);
  EXPECT_EQ(cc.bytes_in_flight(), 0u);
  EXPECT_EQ(cc.available(), 24000u);
}

TEST(NewReno, LossHalvesWindowAndStartsRecovery) {
  NewReno cc;
  RttEstimator rtt;
  auto first = send(cc, at(0_ms), 10);
  cc.on_packets_acked(first, at(100_ms), rtt);  // cwnd 24000
  auto second = send(cc, at(100_ms), 20, 10);
  // Packets 10 and 11 lost, detected at 200 ms.
  cc.on_packets_lost(std::span(second).first(2), at(200_ms));
  EXPECT_EQ(cc.ssthresh(), 12000u);
  EXPECT_EQ(cc.cwnd(), 12000u);
  EXPECT_TRUE(cc.in_recovery());
  EXPECT_FALSE(cc.in_slow_start());
  EXPECT_EQ(cc.bytes_in_flight(), 18u * kMds);

  // Another loss of a packet sent before recovery started: no second reduction.
  cc.on_packets_lost(std::span(second).subspan(2, 1), at(210_ms));
  EXPECT_EQ(cc.cwnd(), 12000u);
  EXPECT_EQ(cc.ssthresh(), 12000u);

  // Acks of packets sent before the recovery period do not grow the window.
  cc.on_packets_acked(std::span(second).subspan(3, 5), at(220_ms), rtt);
  EXPECT_EQ(cc.cwnd(), 12000u);
  EXPECT_TRUE(cc.in_recovery());

  // A packet sent after recovery started is acknowledged: recovery ends, congestion avoidance.
  SentPacket later = packet(100, at(230_ms), kMds);
  cc.on_packet_sent(at(230_ms), kMds);
  cc.on_packets_acked(std::span(&later, 1), at(330_ms), rtt);
  EXPECT_FALSE(cc.in_recovery());
  EXPECT_EQ(cc.cwnd(), 12000u);  // 1200 of 12000 bytes toward one more datagram
}

TEST(NewReno, CongestionAvoidanceAddsOneDatagramPerWindow) {
  NewReno cc;
  RttEstimator rtt;
  cc.on_packet_sent(at(0_ms), kMds);
  cc.on_congestion_event(at(0_ms), at(10_ms));  // cwnd 6000, ssthresh 6000
  ASSERT_EQ(cc.cwnd(), 6000u);
  cc.on_packet_discarded(kMds);
  // Acknowledge exactly one window (6000 bytes = 5 packets sent after recovery started).
  auto window = send(cc, at(20_ms), 5);
  cc.on_packets_acked(std::span(window).first(4), at(120_ms), rtt);
  EXPECT_EQ(cc.cwnd(), 6000u);
  cc.on_packets_acked(std::span(window).subspan(4), at(120_ms), rtt);
  EXPECT_EQ(cc.cwnd(), 7200u);
  // The next increase needs a full 7200-byte window.
  auto next = send(cc, at(130_ms), 6);
  cc.on_packets_acked(std::span(next).first(5), at(230_ms), rtt);
  EXPECT_EQ(cc.cwnd(), 7200u);
  cc.on_packets_acked(std::span(next).subspan(5), at(230_ms), rtt);
  EXPECT_EQ(cc.cwnd(), 8400u);
}

TEST(NewReno, WindowNeverGoesBelowMinimum) {
  NewReno cc;
  for (int i = 0; i < 10; ++i) {
    const Instant t = at(std::chrono::milliseconds(100 * (i + 1)));
    cc.on_congestion_event(t, t);  // each event is about a packet sent after the previous one
    EXPECT_GE(cc.cwnd(), cc.minimum_window());
  }
  EXPECT_EQ(cc.cwnd(), 2400u);
  EXPECT_EQ(cc.minimum_window(), 2 * kMds);
}

TEST(NewReno, PersistentCongestionCollapsesToMinimumWindow) {
  NewReno cc;
  RttEstimator rtt;
  auto sent = send(cc, at(0_ms), 10);
  cc.on_packets_lost(sent, at(1000_ms));
  EXPECT_EQ(cc.cwnd(), 6000u);
  cc.on_persistent_congestion(at(1000_ms));
  EXPECT_EQ(cc.cwnd(), 2400u);
  EXPECT_EQ(cc.bytes_in_flight(), 0u);
  EXPECT_FALSE(cc.in_recovery());
  EXPECT_TRUE(cc.in_slow_start());  // cwnd < ssthresh: slow start again
  // Recovery start was cleared: a loss of an old packet reduces again.
  cc.on_congestion_event(at(500_ms), at(1100_ms));
  EXPECT_EQ(cc.cwnd(), 2400u);
  EXPECT_EQ(cc.ssthresh(), 1200u);
}

TEST(NewReno, EcnCeIsACongestionEvent) {
  NewReno cc;
  cc.on_packet_sent(at(0_ms), kMds);
  cc.on_ecn_ce(at(0_ms), at(50_ms));
  EXPECT_EQ(cc.cwnd(), 6000u);
  EXPECT_TRUE(cc.in_recovery());
  cc.on_ecn_ce(at(10_ms), at(60_ms));  // same round trip
  EXPECT_EQ(cc.cwnd(), 6000u);
}

TEST(NewReno, OnePacketMaySendRightAfterReduction) {
  NewReno cc;
  send(cc, at(0_ms), 10);  // window full
  cc.on_congestion_event(at(0_ms), at(100_ms));
  EXPECT_EQ(cc.cwnd(), 6000u);
  EXPECT_GT(cc.bytes_in_flight(), cc.cwnd());
  EXPECT_TRUE(cc.can_send(kMds));  // the one packet of RFC 9002 7.3.2
  cc.on_packet_sent(at(101_ms), kMds);
  EXPECT_FALSE(cc.can_send(kMds));
}

TEST(NewReno, AppLimitedAcksDoNotGrowWindow) {
  NewReno cc;
  RttEstimator rtt;
  auto sent = send(cc, at(0_ms), 2);
  cc.on_app_limited(at(0_ms));
  EXPECT_TRUE(cc.app_limited());
  cc.on_packets_acked(sent, at(100_ms), rtt);
  EXPECT_EQ(cc.cwnd(), 12000u);
  // Filling the window ends the application-limited period; growth resumes.
  auto full = send(cc, at(110_ms), 10, 2);
  EXPECT_FALSE(cc.app_limited());
  cc.on_packets_acked(full, at(210_ms), rtt);
  EXPECT_EQ(cc.cwnd(), 24000u);
}

TEST(NewReno, AppLimitedIgnoredWhenWindowIsFull) {
  NewReno cc;
  send(cc, at(0_ms), 10);
  cc.on_app_limited(at(0_ms));
  EXPECT_FALSE(cc.app_limited());
}

TEST(NewReno, PacketsNotInFlightAreIgnored) {
  NewReno cc;
  RttEstimator rtt;
  SentPacket ack_only = test::ack_only(0, at(0_ms));
  cc.on_packets_acked(std::span(&ack_only, 1), at(10_ms), rtt);
  cc.on_packets_lost(std::span(&ack_only, 1), at(10_ms));
  EXPECT_EQ(cc.cwnd(), 12000u);
  EXPECT_FALSE(cc.in_recovery());
}

TEST(NewReno, DiscardedPacketsLeaveFlightWithoutSignals) {
  NewReno cc;
  send(cc, at(0_ms), 3);
  cc.on_packet_discarded(2 * kMds);
  EXPECT_EQ(cc.bytes_in_flight(), kMds);
  cc.on_packet_discarded(10 * kMds);  // never underflows
  EXPECT_EQ(cc.bytes_in_flight(), 0u);
  EXPECT_EQ(cc.cwnd(), 12000u);
}

TEST(NewReno, MaxDatagramSizeChangesWindows) {
  NewReno cc;
  cc.set_max_datagram_size(1472);
  EXPECT_EQ(cc.max_datagram_size(), 1472u);
  EXPECT_EQ(cc.cwnd(), 14720u);  // untouched window follows the new initial window
  EXPECT_EQ(cc.minimum_window(), 2944u);
  cc.set_max_datagram_size(1000);  // below the QUIC minimum: clamped to 1200
  EXPECT_EQ(cc.max_datagram_size(), 1200u);
  EXPECT_EQ(cc.cwnd(), 12000u);
  // After a congestion event the window is the controller's own and is kept.
  cc.on_congestion_event(at(0_ms), at(1_ms));
  EXPECT_EQ(cc.cwnd(), 6000u);
  cc.set_max_datagram_size(4000);
  EXPECT_EQ(cc.cwnd(), 8000u);  // raised to the new minimum window, 2 * 4000
  EXPECT_EQ(cc.minimum_window(), 8000u);
}

TEST(NewReno, ResetReturnsToInitialStateKeepingFlight) {
  NewReno cc;
  send(cc, at(0_ms), 4);
  cc.on_congestion_event(at(0_ms), at(1_ms));
  cc.reset();
  EXPECT_EQ(cc.cwnd(), 12000u);
  EXPECT_EQ(cc.ssthresh(), kInfiniteWindow);
  EXPECT_FALSE(cc.in_recovery());
  EXPECT_EQ(cc.bytes_in_flight(), 4 * kMds);
}

}  // namespace
}  // namespace roam::recovery
