// Handshakes over lossy links: the connection must complete and confirm on both sides, with the
// Initial/Handshake retransmission and PTO machinery doing the work.
#include <gtest/gtest.h>

#include "netsim_pair.h"

namespace roam::sim {
namespace {

// Runs one handshake (and a small echo to prove both directions' keys) and returns the
// datagrams the network dropped on the way.
std::uint64_t handshake_once(double loss, std::uint64_t seed) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  PairOptions o;
  o.seed = seed;
  o.up.delay = o.down.delay = std::chrono::milliseconds(20);
  o.up.loss = o.down.loss = loss;
  Pair p(o);
  const bool ok = p.handshake(std::chrono::seconds(60));
  EXPECT_TRUE(ok) << p.summary();
  if (!ok) return 0;
  EXPECT_EQ(p.client_conn()->alpn(), kAlpn);
  EXPECT_EQ(p.server_conn()->alpn(), kAlpn);
  EXPECT_FALSE(p.client_conn()->is_closing()) << p.summary();
  EXPECT_FALSE(p.server_conn()->is_closing()) << p.summary();
  EXPECT_EQ(p.server_ep().stats().connections_accepted, 1u) << p.summary();
  p.app().add(Op::kEcho, 3000, seed, p.net().now());
  EXPECT_TRUE(p.run_transfers(std::chrono::seconds(60))) << p.summary();
  EXPECT_TRUE(p.app().all_ok()) << p.summary();
  return p.net().link_drops();
}

class HandshakeUnderLoss : public ::testing::TestWithParam<int> {};

// Twenty seeds per loss rate (a handshake is only about ten datagrams, so few seeds would leave
// some runs without a single loss); each must complete, and together they must have lost a
// share of datagrams close to the configured rate.
TEST_P(HandshakeUnderLoss, CompletesAndConfirmsBothSides) {
  const double loss = GetParam() / 100.0;
  std::uint64_t drops = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) drops += handshake_once(loss, seed);
  if (loss > 0) {
    EXPECT_GT(drops, 20u);
  } else {
    EXPECT_EQ(drops, 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(LossPercent, HandshakeUnderLoss, ::testing::Values(0, 10, 30),
                         [](const ::testing::TestParamInfo<int>& i) { return "loss" + std::to_string(i.param); });

}  // namespace
}  // namespace roam::sim
