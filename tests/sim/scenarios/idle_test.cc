// Idle timeout: with no traffic, both sides close silently after the negotiated idle timeout.
#include <gtest/gtest.h>

#include "netsim_pair.h"
#include "seeds.h"

namespace roam::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class IdleTimeout : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(IdleTimeout, BothSidesCloseAfterMaxIdleTimeout) {
  PairOptions o;
  o.seed = GetParam();
  o.client.max_idle_timeout_ms = 8'000;
  o.server.max_idle_timeout_ms = 5'000;  // the smaller one wins (RFC 9000 10.1)
  o.up.delay = o.down.delay = milliseconds(25);
  o.up.loss = o.down.loss = 0.05;
  Pair p(o);
  ASSERT_TRUE(p.handshake(seconds(30))) << p.summary();
  // One small exchange, then silence.
  p.app().add(Op::kEcho, 100, 7, p.net().now());
  ASSERT_TRUE(p.run_transfers(seconds(30))) << p.summary();
  // Let outstanding ACKs settle; from then on nothing is sent.
  p.net().run_for(milliseconds(500));
  const Instant quiet = p.net().now();
  const auto sent_before = p.net().stats().datagrams_sent;

  std::optional<Instant> client_closed, server_closed;
  p.net().on_step([&] {
    if (!client_closed && p.client_conn()->is_closed()) client_closed = p.net().now();
    if (!server_closed && p.server_conn()->is_closed()) server_closed = p.net().now();
  });
  ASSERT_TRUE(p.net().run_until([&] { return client_closed && server_closed; }, seconds(20))) << p.summary();
  // Silent close: not a single datagram after the quiet point.
  EXPECT_EQ(p.net().stats().datagrams_sent, sent_before);
  // Both close at 5 s (the effective timeout) after their last activity, which was before `quiet`.
  for (Instant t : {*client_closed, *server_closed}) {
    EXPECT_LE(t - quiet, seconds(5)) << p.summary();
    EXPECT_GE(t - quiet, seconds(5) - milliseconds(600)) << p.summary();
  }
  ASSERT_TRUE(p.app().close_event().has_value());
  EXPECT_TRUE(p.app().close_event()->idle_timeout);
  EXPECT_FALSE(p.app().close_event()->by_peer);
  const auto* sc = p.server_apps().first_close();
  ASSERT_NE(sc, nullptr);
  EXPECT_TRUE((*sc)->idle_timeout);
  // The endpoint forgets them.
  EXPECT_EQ(p.client_ep().reap(), 1u);
  EXPECT_EQ(p.server_ep().reap(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, IdleTimeout, scenario_seeds(), seed_name);

}  // namespace
}  // namespace roam::sim
