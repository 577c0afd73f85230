// Stateless reset (RFC 9000 10.3): a server that lost its state (restarted with the same static
// reset key) answers the client's packets with a stateless reset, and the client closes at once
// instead of retransmitting until its idle timeout.
#include <gtest/gtest.h>

#include "netsim_pair.h"
#include "seeds.h"

namespace roam::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::vector<std::uint8_t> key_from(std::uint64_t seed) {
  std::vector<std::uint8_t> k(32);
  SeededRandom(seed * 7919 + 1).fill(k);
  return k;
}

struct ResetRun {
  bool closed_by_reset = false;
  bool closed_by_idle = false;
  Duration time_to_close{};
  std::uint64_t resets_sent = 0;
  std::string summary;
};

// Establishes a connection, transfers a little, restarts the server (with `same_key` its reset
// key survives), then has the client send again and waits up to `wait` for it to close.
ResetRun run(std::uint64_t seed, bool same_key, Duration wait) {
  PairOptions o;
  o.seed = seed;
  o.server.reset_key = key_from(seed);
  o.client.max_idle_timeout_ms = o.server.max_idle_timeout_ms = 30'000;
  o.up.delay = o.down.delay = milliseconds(20);
  o.up.loss = o.down.loss = 0.05;
  Pair p(o);
  ResetRun r;
  EXPECT_TRUE(p.handshake(seconds(30))) << p.summary();
  p.app().add(Op::kDownload, 200'000, seed, p.net().now());
  EXPECT_TRUE(p.run_transfers(seconds(60))) << p.summary();
  EXPECT_TRUE(p.app().all_ok()) << p.summary();
  p.net().run_for(milliseconds(200));

  // Without the old key the new instance still answers, but with tokens the client never saw.
  p.restart_server(same_key ? std::vector<std::uint8_t>{} : key_from(seed + 1000));
  EXPECT_EQ(p.server_ep().connection_count(), 0u);
  const Instant restart = p.net().now();
  p.app().add(Op::kEcho, 5000, seed + 1, p.net().now());
  p.net().run_until([&] { return p.client_conn()->is_closing() || p.client_conn()->is_closed(); }, wait);
  r.time_to_close = p.net().now() - restart;
  if (p.app().close_event()) {
    r.closed_by_reset = p.app().close_event()->stateless_reset;
    r.closed_by_idle = p.app().close_event()->idle_timeout;
  }
  r.resets_sent = p.server_ep().stats().stateless_resets_sent;
  r.summary = p.summary();
  return r;
}

class StatelessReset : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(StatelessReset, RestartedServerResetsClientQuickly) {
  const ResetRun r = run(GetParam(), true, seconds(10));
  EXPECT_TRUE(r.closed_by_reset) << r.summary;
  EXPECT_GE(r.resets_sent, 1u) << r.summary;
  // Far sooner than the 30 s idle timeout: a few round trips (with 5% loss) at most.
  EXPECT_LT(r.time_to_close, seconds(3)) << r.summary;
}

// A reset with the wrong token is just an undecryptable packet: the client ignores it and ends
// with its idle timeout.
TEST_P(StatelessReset, ResetWithUnknownTokenIsIgnored) {
  const ResetRun r = run(GetParam(), false, seconds(40));
  EXPECT_GE(r.resets_sent, 1u) << r.summary;
  EXPECT_FALSE(r.closed_by_reset) << r.summary;
  EXPECT_TRUE(r.closed_by_idle) << r.summary;
  EXPECT_GE(r.time_to_close, seconds(25)) << r.summary;
}

INSTANTIATE_TEST_SUITE_P(Seeds, StatelessReset, scenario_seeds(), seed_name);

}  // namespace
}  // namespace roam::sim
