// The loss detection timer (RFC 9002 6.2 and A.8): PTO per space, backoff, anti-deadlock,
// amplification limit, key discard and Retry.
#include <gtest/gtest.h>

#include <chrono>

#include "loss_detector_harness.h"
#include "recovery/loss_detector.h"

namespace roam::recovery {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using test::at;
using test::Harness;
using test::pns;
using V = std::vector<std::uint64_t>;

// With the initial RTT of 333 ms: 333 + 4 * 166.5 = 999 ms.
constexpr Duration kInitialPto = milliseconds(999);

TEST(Pto, FiresWithExponentialBackoff) {
  Harness h(Role::kServer);
  h.send(Space::kInitial, 0, at(0_ms));
  EXPECT_EQ(h.ld.timeout(), at(kInitialPto));
  EXPECT_FALSE(h.ld.on_timeout(at(998_ms)).probe.has_value());
  EXPECT_EQ(h.ld.pto_count(), 0u);

  auto first = h.ld.on_timeout(at(kInitialPto));
  ASSERT_TRUE(first.probe.has_value());
  EXPECT_EQ(first.probe->space, Space::kInitial);
  EXPECT_EQ(first.probe->count, 2);
  EXPECT_FALSE(first.probe->anti_deadlock);
  EXPECT_TRUE(first.lost.empty());  // a PTO never declares loss by itself
  EXPECT_EQ(h.ld.pto_count(), 1u);
  EXPECT_EQ(h.ld.timeout(), at(2 * kInitialPto));

  ASSERT_TRUE(h.ld.on_timeout(at(2 * kInitialPto)).probe.has_value());
  EXPECT_EQ(h.ld.pto_count(), 2u);
  EXPECT_EQ(h.ld.timeout(), at(4 * kInitialPto));
  EXPECT_EQ(h.ld.ack_eliciting_in_flight(Space::kInitial), 1u);

  // The probe is acknowledged: the backoff resets (server), the original is lost by time.
  h.send(Space::kInitial, 1, at(4000_ms));
  auto r = h.ack(Space::kInitial, {{1, 1}}, at(4100_ms));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(pns(r->lost), (V{0}));
  EXPECT_EQ(h.ld.pto_count(), 0u);
  EXPECT_FALSE(h.ld.timeout().has_value());
}

TEST(Pto, ProbeCountIsConfigurable) {
  RecoveryConfig config = test::newreno_config();
  config.pto_probe_packets = 1;
  Harness h(Role::kServer, config);
  h.send(Space::kHandshake, 0, at(0_ms));
  auto t = h.ld.on_timeout(at(kInitialPto));
  ASSERT_TRUE(t.probe.has_value());
  EXPECT_EQ(t.probe->space, Space::kHandshake);
  EXPECT_EQ(t.probe->count, 1);
}

TEST(Pto, EarliestOfInitialAndHandshake) {
  Harness h(Role::kServer);
  h.send(Space::kInitial, 0, at(0_ms));
  h.send(Space::kHandshake, 0, at(500_ms));
  EXPECT_EQ(h.ld.timeout(), at(kInitialPto));
  auto t = h.ld.on_timeout(at(kInitialPto));
  ASSERT_TRUE(t.probe.has_value());
  EXPECT_EQ(t.probe->space, Space::kInitial);
  // Backoff applies across spaces: Initial at 0 + 1998, Handshake at 500 + 1998.
  EXPECT_EQ(h.ld.timeout(), at(2 * kInitialPto));
  // Dropping Initial keys resets the backoff and leaves the Handshake PTO.
  h.ld.discard_space(Space::kInitial, at(1000_ms));
  EXPECT_EQ(h.ld.pto_count(), 0u);
  EXPECT_EQ(h.ld.timeout(), at(500_ms + kInitialPto));
  t = h.ld.on_timeout(at(500_ms + kInitialPto));
  ASSERT_TRUE(t.probe.has_value());
  EXPECT_EQ(t.probe->space, Space::kHandshake);
}

TEST(Pto, ApplicationSpaceWaitsForConfirmationAndAddsMaxAckDelay) {
  Harness h(Role::kServer);
  h.send(Space::kApplication, 0, at(0_ms));
  EXPECT_FALSE(h.ld.timeout().has_value());  // no Application PTO before confirmation
  h.ld.on_handshake_confirmed(at(10_ms));
  EXPECT_EQ(h.ld.timeout(), at(kInitialPto + milliseconds(25)));
  h.ld.set_peer_max_ack_delay(milliseconds(40));
  h.send(Space::kApplication, 1, at(100_ms));
  EXPECT_EQ(h.ld.timeout(), at(100_ms + kInitialPto + milliseconds(40)));
  auto t = h.ld.on_timeout(at(100_ms + kInitialPto + milliseconds(40)));
  ASSERT_TRUE(t.probe.has_value());
  EXPECT_EQ(t.probe->space, Space::kApplication);
  // max_ack_delay is backed off too: (999 + 40) * 2.
  EXPECT_EQ(h.ld.timeout(), at(100_ms + 2 * (kInitialPto + milliseconds(40))));
}

TEST(Pto, HandshakeSpacesIgnoreMaxAckDelay) {
  Harness h(Role::kServer);
  h.ld.set_peer_max_ack_delay(milliseconds(100));
  h.send(Space::kHandshake, 0, at(0_ms));
  EXPECT_EQ(h.ld.timeout(), at(kInitialPto));
}

TEST(Pto, TimeThresholdTimerTakesPrecedence) {
  Harness h(Role::kServer);
  h.ld.on_handshake_confirmed(at(0_ms));
  for (std::uint64_t pn = 0; pn < 3; ++pn) h.send(Space::kApplication, pn, at(milliseconds(pn)));
  ASSERT_TRUE(h.ack(Space::kApplication, {{2, 2}}, at(100_ms)).ok());
  // Packets 0 and 1 are still in flight, but the timer is their loss time, not a PTO.
  EXPECT_EQ(h.ld.ack_eliciting_in_flight(Space::kApplication), 2u);
  EXPECT_EQ(h.ld.timeout(), at(microseconds(110250)));  // 9/8 * 98 ms after packet 0
  auto t = h.ld.on_timeout(at(microseconds(110250)));
  EXPECT_EQ(pns(t.lost), (V{0}));
  EXPECT_FALSE(t.probe.has_value());
  EXPECT_EQ(h.ld.pto_count(), 0u);
}

TEST(Pto, ServerResetsBackoffOnAnyAckClientOnlyOnceValidated) {
  Harness client(Role::kClient);
  client.send(Space::kInitial, 0, at(0_ms));
  client.send(Space::kInitial, 1, at(0_ms));
  ASSERT_TRUE(client.ld.on_timeout(at(kInitialPto)).probe.has_value());
  ASSERT_EQ(client.ld.pto_count(), 1u);
  // An Initial ACK does not prove the server validated the client's address.
  ASSERT_TRUE(client.ack(Space::kInitial, {{0, 0}}, at(1050_ms)).ok());
  EXPECT_EQ(client.ld.pto_count(), 1u);
  EXPECT_FALSE(client.ld.peer_completed_address_validation());
  client.ld.on_handshake_keys_available();
  client.send(Space::kHandshake, 0, at(1100_ms));
  ASSERT_TRUE(client.ack(Space::kHandshake, {{0, 0}}, at(1200_ms)).ok());
  EXPECT_TRUE(client.ld.peer_completed_address_validation());
  EXPECT_EQ(client.ld.pto_count(), 0u);

  Harness server(Role::kServer);
  server.send(Space::kInitial, 0, at(0_ms));
  server.send(Space::kInitial, 1, at(0_ms));
  ASSERT_TRUE(server.ld.on_timeout(at(kInitialPto)).probe.has_value());
  ASSERT_TRUE(server.ack(Space::kInitial, {{0, 0}}, at(1050_ms)).ok());
  EXPECT_EQ(server.ld.pto_count(), 0u);
}

TEST(Pto, ClientArmsAntiDeadlockTimerWithNothingInFlight) {
  Harness h(Role::kClient);
  h.send(Space::kInitial, 0, at(0_ms));
  ASSERT_TRUE(h.ack(Space::kInitial, {{0, 0}}, at(100_ms)).ok());
  EXPECT_EQ(h.ld.ack_eliciting_in_flight(Space::kInitial), 0u);
  // srtt 100, rttvar 50: PTO 300 ms counted from now.
  EXPECT_EQ(h.ld.timeout(), at(400_ms));
  auto t = h.ld.on_timeout(at(400_ms));
  ASSERT_TRUE(t.probe.has_value());
  EXPECT_TRUE(t.probe->anti_deadlock);
  EXPECT_EQ(t.probe->space, Space::kInitial);  // padded Initial: no Handshake keys yet
  EXPECT_EQ(t.probe->count, 1);
  EXPECT_EQ(h.ld.timeout(), at(1000_ms));  // 400 + 2 * 300
  h.ld.on_handshake_keys_available();
  t = h.ld.on_timeout(at(1000_ms));
  ASSERT_TRUE(t.probe.has_value());
  EXPECT_EQ(t.probe->space, Space::kHandshake);
  EXPECT_TRUE(t.probe->anti_deadlock);
  // Once the handshake is confirmed there is nothing to unblock.
  h.ld.on_handshake_confirmed(at(1100_ms));
  EXPECT_FALSE(h.ld.timeout().has_value());
}

TEST(Pto, ClientWithOnlyZeroRttInFlightStillArmsTimer) {
  Harness h(Role::kClient);
  h.send(Space::kInitial, 0, at(0_ms));
  h.send(Space::kApplication, 0, at(0_ms));  // 0-RTT
  ASSERT_TRUE(h.ack(Space::kInitial, {{0, 0}}, at(100_ms)).ok());
  EXPECT_EQ(h.ld.ack_eliciting_in_flight(Space::kApplication), 1u);
  EXPECT_EQ(h.ld.timeout(), at(400_ms));
  auto t = h.ld.on_timeout(at(400_ms));
  ASSERT_TRUE(t.probe.has_value());
  EXPECT_TRUE(t.probe->anti_deadlock);
}

TEST(Pto, ServerAtAmplificationLimitArmsNoTimer) {
  Harness h(Role::kServer);
  h.send(Space::kInitial, 0, at(0_ms));
  ASSERT_TRUE(h.ld.timeout().has_value());
  h.ld.set_amplification_limited(true, at(1_ms));
  EXPECT_FALSE(h.ld.timeout().has_value());
  EXPECT_FALSE(h.ld.on_timeout(at(5000_ms)).probe.has_value());
  // A datagram from the client unblocks it; the PTO it missed runs at once.
  h.ld.set_amplification_limited(false, at(5000_ms));
  ASSERT_TRUE(h.ld.timeout().has_value());
  EXPECT_LE(*h.ld.timeout(), at(5000_ms));
  auto t = h.ld.on_timeout(at(5000_ms));
  ASSERT_TRUE(t.probe.has_value());
  EXPECT_EQ(t.probe->space, Space::kInitial);
}

TEST(Pto, ClientIsNotLimitedByAmplification) {
  Harness h(Role::kClient);
  h.send(Space::kInitial, 0, at(0_ms));
  h.ld.set_amplification_limited(true, at(1_ms));
  EXPECT_EQ(h.ld.timeout(), at(kInitialPto));
}

TEST(DiscardSpace, RemovesPacketsAndTheirBytesInFlight) {
  Harness h(Role::kServer);
  for (std::uint64_t pn = 0; pn < 3; ++pn) h.send(Space::kInitial, pn, at(0_ms));
  h.send_ack_only(Space::kInitial, 3, at(0_ms));
  h.send(Space::kHandshake, 0, at(5_ms));
  ASSERT_EQ(h.path.cc().bytes_in_flight(), 4800u);
  auto removed = h.ld.discard_space(Space::kInitial, at(10_ms));
  EXPECT_EQ(pns(removed), (V{0, 1, 2, 3}));
  EXPECT_EQ(removed[1].token, 1001u);
  EXPECT_EQ(h.path.cc().bytes_in_flight(), 1200u);
  EXPECT_EQ(h.path.cc().cwnd(), 12000u);  // no congestion signal
  EXPECT_EQ(h.ld.ack_eliciting_in_flight(Space::kInitial), 0u);
  EXPECT_EQ(h.ld.tracked_packets(Space::kInitial), 0u);
  EXPECT_EQ(h.ld.timeout(), at(5_ms + kInitialPto));  // the Handshake PTO remains
  // The space is closed.
  EXPECT_FALSE(h.ld.on_packet_sent(Space::kInitial, test::packet(4, at(11_ms))).ok());
  auto late = h.ack(Space::kInitial, {{0, 3}}, at(12_ms));
  ASSERT_TRUE(late.ok());
  EXPECT_TRUE(late->acked.empty());
  // Dropping Handshake as well leaves no timer at a server.
  h.ld.discard_space(Space::kHandshake, at(20_ms));
  EXPECT_EQ(h.path.cc().bytes_in_flight(), 0u);
  EXPECT_FALSE(h.ld.timeout().has_value());
}

TEST(DiscardSpace, RejectedZeroRttKeepsTheApplicationSpaceOpen) {
  Harness h(Role::kClient);
  h.send(Space::kApplication, 0, at(0_ms));
  h.send(Space::kApplication, 1, at(0_ms));
  EXPECT_EQ(h.ld.discard_space(Space::kApplication, at(10_ms)).size(), 2u);
  EXPECT_EQ(h.path.cc().bytes_in_flight(), 0u);
  h.send(Space::kApplication, 2, at(20_ms));  // 1-RTT continues the numbering
  EXPECT_FALSE(h.ld.on_packet_sent(Space::kApplication, test::packet(1, at(21_ms))).ok());
}

TEST(Retry, ForgetsInitialAndZeroRttPackets) {
  Harness h(Role::kClient);
  h.send(Space::kInitial, 0, at(0_ms));
  h.send(Space::kApplication, 0, at(1_ms));
  h.send(Space::kApplication, 1, at(1_ms));
  ASSERT_TRUE(h.ld.on_timeout(at(kInitialPto)).probe.has_value());
  auto removed = h.ld.on_retry(at(1100_ms));
  EXPECT_EQ(removed.size(), 3u);
  EXPECT_EQ(h.path.cc().bytes_in_flight(), 0u);
  EXPECT_EQ(h.ld.pto_count(), 0u);
  // Both spaces continue with the next packet numbers.
  h.send(Space::kInitial, 1, at(1110_ms));
  h.send(Space::kApplication, 2, at(1110_ms));
  EXPECT_EQ(h.ld.timeout(), at(1110_ms + kInitialPto));
}

}  // namespace
}  // namespace roam::recovery
