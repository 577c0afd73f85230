// ECN validation (RFC 9000 13.4.2) of one path.
#include "conn/ecn.h"

#include <gtest/gtest.h>

namespace roam::conn {
namespace {

wire::EcnCounts counts(std::uint64_t ect0, std::uint64_t ect1, std::uint64_t ce) { return {ect0, ect1, ce}; }

// Sends n marked packets; returns how many were marked.
std::uint64_t send(EcnValidator& v, int n) {
  std::uint64_t marked = 0;
  for (int i = 0; i < n; ++i) {
    const auto cp = v.codepoint();
    v.on_packet_sent(cp);
    marked += cp == kEcnEct0;
  }
  return marked;
}

TEST(Ecn, TestsTenPacketsThenWaitsThenBecomesCapable) {
  EcnValidator v;
  EXPECT_EQ(v.state(), EcnState::kTesting);
  EXPECT_EQ(send(v, 12), EcnValidator::kTestingPackets);  // marking pauses after ten
  EXPECT_EQ(v.state(), EcnState::kUnknown);
  EXPECT_EQ(v.codepoint(), kEcnNotEct);
  wire::EcnCounts prev;
  EXPECT_FALSE(v.on_ack(5, counts(5, 0, 0), prev, 10));
  EXPECT_EQ(v.state(), EcnState::kCapable);
  EXPECT_EQ(v.codepoint(), kEcnEct0);
  EXPECT_EQ(prev, counts(5, 0, 0));
}

TEST(Ecn, CeIncreaseIsACongestionSignal) {
  EcnValidator v;
  send(v, 4);
  wire::EcnCounts prev;
  EXPECT_FALSE(v.on_ack(2, counts(2, 0, 0), prev, 4));
  EXPECT_TRUE(v.on_ack(2, counts(3, 0, 1), prev, 4));
  EXPECT_EQ(v.state(), EcnState::kCapable);
}

TEST(Ecn, MissingCountsForMarkedPacketsFail) {
  EcnValidator v;
  send(v, 3);
  wire::EcnCounts prev;
  EXPECT_FALSE(v.on_ack(1, std::nullopt, prev, 3));
  EXPECT_EQ(v.state(), EcnState::kFailed);
  EXPECT_EQ(v.codepoint(), kEcnNotEct);
  send(v, 3);
  EXPECT_FALSE(v.on_ack(1, counts(1, 0, 0), prev, 3));  // failure is final on this path
  EXPECT_EQ(v.state(), EcnState::kFailed);
}

TEST(Ecn, NoCountsAndNothingMarkedAckedIsFine) {
  EcnValidator v;
  wire::EcnCounts prev;
  EXPECT_FALSE(v.on_ack(0, std::nullopt, prev, 0));
  EXPECT_EQ(v.state(), EcnState::kTesting);
}

TEST(Ecn, BleachedMarksFail) {
  // The network cleared the marks: the peer's ECT(0) count grows less than what it acknowledges.
  EcnValidator v;
  send(v, 5);
  wire::EcnCounts prev;
  EXPECT_FALSE(v.on_ack(5, counts(2, 0, 0), prev, 5));
  EXPECT_EQ(v.state(), EcnState::kFailed);
}

TEST(Ecn, DecreasingCountsFail) {
  EcnValidator v;
  send(v, 6);
  wire::EcnCounts prev;
  EXPECT_FALSE(v.on_ack(4, counts(4, 0, 0), prev, 6));
  EXPECT_FALSE(v.on_ack(0, counts(3, 0, 0), prev, 6));
  EXPECT_EQ(v.state(), EcnState::kFailed);
}

TEST(Ecn, CountsBeyondWhatWasSentOrEct1Fail) {
  {
    EcnValidator v;
    send(v, 2);
    wire::EcnCounts prev;
    EXPECT_FALSE(v.on_ack(2, counts(5, 0, 0), prev, 2));
    EXPECT_EQ(v.state(), EcnState::kFailed);
  }
  {
    EcnValidator v;
    send(v, 2);
    wire::EcnCounts prev;
    EXPECT_FALSE(v.on_ack(2, counts(2, 1, 0), prev, 2));  // we never send ECT(1)
    EXPECT_EQ(v.state(), EcnState::kFailed);
  }
}

TEST(Ecn, AllTestingPacketsLostFails) {
  EcnValidator v;
  send(v, 10);
  v.on_marked_lost(9);
  EXPECT_EQ(v.state(), EcnState::kUnknown);
  v.on_marked_lost(1);
  EXPECT_EQ(v.state(), EcnState::kFailed);
}

TEST(Ecn, DisabledNeverMarks) {
  EcnValidator v(false);
  EXPECT_EQ(v.codepoint(), kEcnNotEct);
  EXPECT_EQ(send(v, 20), 0u);
}

}  // namespace
}  // namespace roam::conn
