#include "recovery/loss_detector.h"

#include <gtest/gtest.h>

#include <chrono>

#include "loss_detector_harness.h"

namespace roam::recovery {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using test::at;
using test::Harness;
using test::pns;
using V = std::vector<std::uint64_t>;

constexpr Space kApp = Space::kApplication;

TEST(LossDetector, AckReturnsNewlyAckedPacketsAndSamplesRtt) {
  Harness h;
  for (std::uint64_t pn = 0; pn < 3; ++pn) h.send(kApp, pn, at(0_ms));
  EXPECT_EQ(h.path.cc().bytes_in_flight(), 3600u);
  EXPECT_EQ(h.ld.ack_eliciting_in_flight(kApp), 3u);
  auto r = h.ack(kApp, {{0, 2}}, at(100_ms));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(pns(r->acked), (V{2, 1, 0}));
  EXPECT_EQ(r->acked[0].token, 1002u);  // the connection finds its frames by token
  EXPECT_TRUE(r->lost.empty());
  ASSERT_TRUE(r->rtt_sample.has_value());
  EXPECT_EQ(r->rtt_sample->path, PathId{0});
  EXPECT_EQ(r->rtt_sample->latest_rtt, milliseconds(100));
  EXPECT_EQ(h.path.rtt().smoothed_rtt(), milliseconds(100));
  EXPECT_EQ(h.path.cc().bytes_in_flight(), 0u);
  EXPECT_EQ(h.path.cc().cwnd(), 12000u + 3600u);  // slow start
  EXPECT_EQ(h.ld.largest_acked(kApp), 2u);
  EXPECT_EQ(h.ld.tracked_packets(kApp), 0u);
  EXPECT_FALSE(h.ld.timeout().has_value());  // server, nothing in flight
  // Acknowledging the same packets again changes nothing.
  auto again = h.ack(kApp, {{0, 2}}, at(150_ms));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->acked.empty());
  EXPECT_FALSE(again->rtt_sample.has_value());
}

TEST(LossDetector, RttSampleNeedsNewLargestAndAckElicitingPacket) {
  Harness h;
  h.send_ack_only(kApp, 0, at(0_ms));
  auto only_acks = h.ack(kApp, {{0, 0}}, at(500_ms), milliseconds(300));
  ASSERT_TRUE(only_acks.ok());
  EXPECT_EQ(pns(only_acks->acked), (V{0}));
  EXPECT_FALSE(only_acks->rtt_sample.has_value());  // only a non-ack-eliciting packet acked
  EXPECT_FALSE(h.path.rtt().has_sample());

  h.send(kApp, 1, at(600_ms));
  h.send(kApp, 2, at(600_ms));
  auto first = h.ack(kApp, {{2, 2}}, at(700_ms));
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->rtt_sample.has_value());
  // Packet 1 acknowledged later, but the largest (2) is not new: no second sample.
  auto second = h.ack(kApp, {{1, 2}}, at(900_ms));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(pns(second->acked), (V{1}));
  EXPECT_FALSE(second->rtt_sample.has_value());
  EXPECT_EQ(h.path.rtt().smoothed_rtt(), milliseconds(100));
}

TEST(LossDetector, AckDelayIgnoredForInitialUsedOtherwise) {
  Harness h;
  h.send(Space::kInitial, 0, at(0_ms));
  h.send(Space::kHandshake, 0, at(0_ms));
  auto initial = h.ack(Space::kInitial, {{0, 0}}, at(100_ms), milliseconds(40));
  ASSERT_TRUE(initial.ok());
  EXPECT_EQ(initial->rtt_sample->ack_delay, Duration::zero());
  auto handshake = h.ack(Space::kHandshake, {{0, 0}}, at(140_ms), milliseconds(30));
  ASSERT_TRUE(handshake.ok());
  EXPECT_EQ(handshake->rtt_sample->ack_delay, milliseconds(30));
  // 140 - 30 = 110 adjusted (not confirmed: no cap): smoothed (700 + 110) / 8.
  EXPECT_EQ(h.path.rtt().smoothed_rtt(), microseconds(101250));
}

TEST(LossDetector, PacketThresholdThenTimeThresholdLoss) {
  Harness h;
  for (std::uint64_t pn = 0; pn < 5; ++pn) h.send(kApp, pn, at(milliseconds(pn)));
  auto r = h.ack(kApp, {{4, 4}}, at(104_ms));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(pns(r->acked), (V{4}));
  // 0 and 1 are three or more below the largest acknowledged: lost at once.
  EXPECT_EQ(pns(r->lost), (V{0, 1}));
  EXPECT_EQ(r->lost[0].token, 1000u);
  // 2 and 3 wait for the time threshold, 9/8 * 100 ms after they were sent.
  EXPECT_EQ(h.ld.loss_time(kApp), at(microseconds(114500)));
  EXPECT_EQ(h.ld.timeout(), at(microseconds(114500)));
  EXPECT_EQ(h.path.cc().bytes_in_flight(), 2400u);
  EXPECT_EQ(h.path.cc().cwnd(), 6000u);  // one congestion event

  auto early = h.ld.on_timeout(at(114_ms));
  EXPECT_TRUE(early.lost.empty());
  EXPECT_FALSE(early.probe.has_value());

  auto t1 = h.ld.on_timeout(at(microseconds(114500)));
  EXPECT_EQ(pns(t1.lost), (V{2}));
  EXPECT_FALSE(t1.probe.has_value());
  EXPECT_EQ(h.ld.timeout(), at(microseconds(115500)));
  auto t2 = h.ld.on_timeout(at(microseconds(115500)));
  EXPECT_EQ(pns(t2.lost), (V{3}));
  EXPECT_EQ(h.path.cc().bytes_in_flight(), 0u);
  EXPECT_EQ(h.path.cc().cwnd(), 6000u);  // same recovery period: no second reduction
  EXPECT_FALSE(h.ld.timeout().has_value());
  EXPECT_EQ(h.ld.tracked_packets(kApp), 0u);
}

TEST(LossDetector, ConfigurablePacketThreshold) {
  test::PathTable paths(test::newreno_config());
  paths.add(0);
  RecoveryConfig config = test::newreno_config();
  config.packet_threshold = 5;
  LossDetector ld(Role::kServer, paths, config);
  for (std::uint64_t pn = 0; pn < 6; ++pn) ASSERT_TRUE(ld.on_packet_sent(kApp, test::packet(pn, at(0_ms))).ok());
  const AckRange range{5, 5};
  auto r = ld.on_ack_received(kApp, std::span(&range, 1), Duration::zero(), std::nullopt, at(10_ms));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(pns(r->lost), (V{0}));
}

TEST(LossDetector, AckOfUnsentPacketIsProtocolViolation) {
  Harness h;
  // Nothing sent yet.
  auto none = h.ack(kApp, {{0, 0}}, at(1_ms));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, TransportError::kProtocolViolation);
  EXPECT_EQ(none.error().frame_type, 0x02u);

  h.send(kApp, 0, at(0_ms));
  h.send(kApp, 1, at(0_ms));
  h.send(kApp, 3, at(0_ms));  // 2 skipped (optimistic-ACK defence)
  // Beyond the largest sent.
  auto beyond = h.ack(kApp, {{4, 4}}, at(10_ms), Duration::zero(), 0);
  ASSERT_FALSE(beyond.ok());
  EXPECT_EQ(beyond.error().code, TransportError::kProtocolViolation);
  EXPECT_EQ(beyond.error().frame_type, 0x03u);  // ACK with ECN counts
  // The skipped packet number, inside an otherwise valid frame.
  auto skipped = h.ack(kApp, {{3, 3}, {0, 2}}, at(10_ms));
  ASSERT_FALSE(skipped.ok());
  EXPECT_EQ(skipped.error().code, TransportError::kProtocolViolation);
  // Nothing was changed by the refused frames.
  EXPECT_EQ(h.ld.tracked_packets(kApp), 3u);
  EXPECT_FALSE(h.ld.largest_acked(kApp).has_value());
  EXPECT_EQ(h.path.cc().bytes_in_flight(), 3600u);
  auto ok = h.ack(kApp, {{3, 3}, {0, 1}}, at(10_ms));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(pns(ok->acked), (V{3, 1, 0}));
}

TEST(LossDetector, AckBelowFirstSentPacketIsProtocolViolation) {
  Harness h;
  h.send(kApp, 100, at(0_ms));
  auto below = h.ack(kApp, {{99, 100}}, at(10_ms));
  ASSERT_FALSE(below.ok());
  EXPECT_EQ(below.error().code, TransportError::kProtocolViolation);
}

TEST(LossDetector, MalformedRangesAreFrameEncodingErrors) {
  Harness h;
  for (std::uint64_t pn = 0; pn < 10; ++pn) h.send(kApp, pn, at(0_ms));
  for (const std::vector<AckRange>& ranges : std::vector<std::vector<AckRange>>{
           {},                  // no range at all
           {{5, 4}},            // smallest above largest
           {{2, 3}, {5, 6}},    // ascending
           {{4, 6}, {3, 4}},    // overlapping
       }) {
    auto r = h.ack(kApp, ranges, at(10_ms));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, TransportError::kFrameEncodingError);
  }
  EXPECT_EQ(h.ld.tracked_packets(kApp), 10u);
}

TEST(LossDetector, HugeAckRangesCostNothingBeyondTrackedPackets) {
  Harness h;
  // The widest possible range is refused without touching the records.
  h.send(kApp, 0, at(0_ms));
  auto widest = h.ack(kApp, {{0, (std::uint64_t{1} << 62) - 1}}, at(1_ms));
  ASSERT_FALSE(widest.ok());
  EXPECT_EQ(widest.error().code, TransportError::kProtocolViolation);

  // 200000 packets, sent and acknowledged in batches: the log stays small.
  constexpr std::uint64_t kPackets = 200000;
  Instant t = at(0_ms);
  for (std::uint64_t pn = 1; pn < kPackets; ++pn) {
    h.send(kApp, pn, t);
    if (pn % 1000 == 999) {
      ASSERT_TRUE(h.ack(kApp, {{pn - 999, pn}}, t + milliseconds(10)).ok());
      t += milliseconds(10);
    }
  }
  ASSERT_EQ(h.ld.tracked_packets(kApp), 0u);
  // A peer re-acknowledging everything, over and over, and a frame with 10000 ranges over old
  // packets: if the work followed the ranges' width this would be ~10^10 steps.
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 50000; ++i) {
    auto r = h.ack(kApp, {{0, kPackets - 1}}, t);
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(r->acked.empty());
  }
  std::vector<AckRange> many;
  for (std::uint64_t pn = kPackets - 1; many.size() < 10000; pn -= 2) many.push_back({pn, pn});
  auto r = h.ack(kApp, many, t);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->acked.empty());
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(LossDetector, AckOnlyPacketsAreTrackedButNotInFlight) {
  Harness h;
  h.send_ack_only(kApp, 0, at(0_ms));
  EXPECT_EQ(h.path.cc().bytes_in_flight(), 0u);
  EXPECT_EQ(h.ld.ack_eliciting_in_flight(kApp), 0u);
  EXPECT_EQ(h.ld.tracked_packets(kApp), 1u);
  h.send(kApp, 1, at(1_ms));
  h.send(kApp, 2, at(2_ms));
  h.send(kApp, 3, at(3_ms));
  auto r = h.ack(kApp, {{3, 3}}, at(100_ms));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(pns(r->lost), (V{0}));  // declared lost, but it was never in flight
  EXPECT_EQ(h.path.cc().cwnd(), 12000u + 1200u);  // no congestion event for it
  EXPECT_FALSE(h.path.cc().in_recovery());
}

TEST(LossDetector, EcnCeIncreaseSignalsCongestionOnce) {
  Harness h;
  for (std::uint64_t pn = 0; pn < 6; ++pn) h.send(kApp, pn, at(0_ms));
  auto none = h.ack(kApp, {{0, 1}}, at(100_ms), Duration::zero(), 0);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->ecn_ce_increased);
  EXPECT_EQ(h.path.cc().cwnd(), 14400u);
  auto ce = h.ack(kApp, {{0, 3}}, at(110_ms), Duration::zero(), 1);
  ASSERT_TRUE(ce.ok());
  EXPECT_TRUE(ce->ecn_ce_increased);
  EXPECT_TRUE(h.path.cc().in_recovery());
  EXPECT_EQ(h.path.cc().cwnd(), 7200u);
  auto same = h.ack(kApp, {{0, 5}}, at(120_ms), Duration::zero(), 1);
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same->ecn_ce_increased);
  EXPECT_EQ(h.path.cc().cwnd(), 7200u);
}

TEST(LossDetector, EachPathKeepsItsOwnRttAndWindow) {
  Harness h;
  PathRecovery& one = h.paths.add(1);
  PathRecovery& two = h.paths.add(2);
  h.send(kApp, 0, at(0_ms), true, 1);
  h.send(kApp, 1, at(10_ms), true, 2);
  auto r = h.ack(kApp, {{0, 1}}, at(60_ms));
  ASSERT_TRUE(r.ok());
  // The sample belongs to the path of the largest acknowledged packet only.
  ASSERT_TRUE(r->rtt_sample.has_value());
  EXPECT_EQ(r->rtt_sample->path, PathId{2});
  EXPECT_EQ(two.rtt().smoothed_rtt(), milliseconds(50));
  EXPECT_FALSE(one.rtt().has_sample());
  EXPECT_EQ(one.cc().cwnd(), 13200u);
  EXPECT_EQ(two.cc().cwnd(), 13200u);

  // A loss on path 1 reduces path 1's window only.
  h.send(kApp, 2, at(100_ms), true, 1);
  for (std::uint64_t pn = 3; pn < 6; ++pn) h.send(kApp, pn, at(100_ms), true, 2);
  r = h.ack(kApp, {{3, 5}}, at(150_ms));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(pns(r->lost), (V{2}));
  EXPECT_EQ(r->lost[0].path, PathId{1});
  EXPECT_EQ(one.cc().cwnd(), 6600u);
  EXPECT_EQ(one.cc().bytes_in_flight(), 0u);
  EXPECT_EQ(two.cc().cwnd(), 13200u + 3600u);

  // Time threshold uses each packet's own path RTT: path 2 (50 ms) declares loss after 56.25 ms,
  // path 1 (no sample: 9/8 * 333 ms) much later.
  h.send(kApp, 6, at(200_ms), true, 1);
  h.send(kApp, 7, at(200_ms), true, 2);
  h.send(kApp, 8, at(210_ms), true, 2);
  r = h.ack(kApp, {{8, 8}}, at(260_ms));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(pns(r->lost), (V{7}));
  EXPECT_EQ(h.ld.loss_time(kApp), at(microseconds(200000 + 374625)));
}

TEST(LossDetector, PacketsOfAGonePathStillResolve) {
  Harness h;
  h.send(kApp, 0, at(0_ms), true, 9);  // path 9 is unknown: e.g. abandoned after migration
  auto r = h.ack(kApp, {{0, 0}}, at(50_ms));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(pns(r->acked), (V{0}));
  EXPECT_FALSE(r->rtt_sample.has_value());
  EXPECT_EQ(h.path.cc().bytes_in_flight(), 0u);
}

TEST(LossDetector, DecreasingPacketNumberIsRefused) {
  Harness h;
  h.send(kApp, 5, at(0_ms));
  auto st = h.ld.on_packet_sent(kApp, test::packet(5, at(1_ms)));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, TransportError::kInternalError);
  EXPECT_FALSE(h.ld.on_packet_sent(kApp, test::packet(std::uint64_t{1} << 62, at(1_ms))).ok());
  EXPECT_EQ(h.path.cc().bytes_in_flight(), 1200u);
}

}  // namespace
}  // namespace roam::recovery

namespace roam::recovery {
namespace {

// Shaped like the wire module's decoded ranges; recovery does not depend on wire.
struct ForeignRange {
  std::uint64_t smallest;
  std::uint64_t largest;
};

TEST(LossDetector, AcceptsAnyRangeRecordShape) {
  test::Harness h;
  for (std::uint64_t pn = 0; pn < 5; ++pn) h.send(Space::kApplication, pn, test::at(0_ms));
  const std::vector<ForeignRange> ranges{{3, 4}, {0, 1}};
  auto r = h.ld.on_ack_received(Space::kApplication, ranges, Duration::zero(), std::nullopt, test::at(10_ms));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(test::pns(r->acked), (std::vector<std::uint64_t>{4, 3, 1, 0}));
  const std::vector<ForeignRange> bad{{6, 6}};
  auto e = h.ld.on_ack_received(Space::kApplication, bad, Duration::zero(), std::nullopt, test::at(11_ms));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, TransportError::kProtocolViolation);
}

}  // namespace
}  // namespace roam::recovery
