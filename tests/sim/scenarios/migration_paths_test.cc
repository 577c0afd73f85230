// Path management under migration (roam issue 4, scenarios 4, 5 and 9): flapping between two
// interfaces, a new path that never validates (probe fails; switch-now falls back), and the
// server's preferred address (RFC 9000 9.6).
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>

#include "migration_util.h"
#include "seeds.h"

namespace roam::sim {
namespace {

LinkConfig fast_link(Duration one_way) {
  LinkConfig l;
  l.delay = one_way;
  l.rate_bytes_per_s = 40'000'000 / 8;
  l.queue_bytes = 200'000;
  l.loss = 0.0005;
  return l;
}

PairOptions two_interfaces(std::uint64_t seed) {
  PairOptions o;
  o.seed = seed;
  o.up = o.down = fast_link(milliseconds(10));
  return o;
}

// The largest number of paths either side held at the end of any step.
struct PathCensus {
  explicit PathCensus(Pair& p) {
    p.net().on_step([this, &p] {
      if (auto* c = p.client_conn()) client_max = std::max(client_max, c->paths().size());
      if (auto* s = p.server_conn()) server_max = std::max(server_max, s->paths().size());
    });
  }
  std::size_t client_max = 0;
  std::size_t server_max = 0;
};

class Flapping : public ::testing::TestWithParam<std::uint64_t> {};

// Ten migrations back and forth during a download, each validated before the switch.
TEST_P(Flapping, TenTimesBetweenTwoInterfaces) {
  constexpr int kFlaps = 10;
  Pair p(two_interfaces(GetParam()));
  p.add_client_address(kLteAddr, fast_link(milliseconds(30)), fast_link(milliseconds(30)));
  PathCensus census(p);
  ASSERT_TRUE(p.handshake(seconds(10))) << p.summary();
  const std::size_t i = p.app().add(Op::kDownload, 20'000'000, 8000 + GetParam(), p.net().now());
  auto* c = p.client_conn();
  for (int k = 0; k < kFlaps; ++k) {
    p.net().run_for(milliseconds(300));
    ASSERT_FALSE(p.app().transfers()[i].done) << "flap " << k << ": the download should outlast the flapping";
    const SocketAddress to = k % 2 == 0 ? kLteAddr : p.client_addr;
    const std::size_t validated_before = events_of<conn::PathValidated>(p.app().path_events()).size();
    auto id = c->probe_path(to, p.net().now());
    ASSERT_TRUE(id.ok()) << "flap " << k << ": " << id.error().reason;
    ASSERT_TRUE(p.net().run_until(
        [&] { return events_of<conn::PathValidated>(p.app().path_events()).size() > validated_before; },
        seconds(5)))
        << "flap " << k << ": " << describe(p.app().path_events());
    ASSERT_TRUE(c->migrate(*id, p.net().now()).ok());
    EXPECT_EQ(c->local_address(), to);
  }
  ASSERT_TRUE(p.run_transfers(seconds(120))) << p.summary();
  EXPECT_TRUE(p.app().transfers()[i].ok()) << p.summary();

  const auto cs = c->stats();
  EXPECT_EQ(cs.paths_probed, static_cast<std::uint64_t>(kFlaps));
  EXPECT_EQ(cs.paths_validated, static_cast<std::uint64_t>(kFlaps));
  EXPECT_EQ(cs.paths_failed, 0u);
  EXPECT_EQ(cs.migrations, static_cast<std::uint64_t>(kFlaps));
  EXPECT_EQ(count_changes(p.app().path_events(), conn::PathChangeReason::kMigration),
            static_cast<std::size_t>(kFlaps));
  // Every abandoned path gave its CID back (RETIRE_CONNECTION_ID), and the server issued new ones.
  EXPECT_GE(cs.peer_cids_retired, static_cast<std::uint64_t>(kFlaps));
  const auto ss = p.server_conn()->stats();
  EXPECT_EQ(ss.migrations, static_cast<std::uint64_t>(kFlaps));
  EXPECT_GE(ss.cids_retired, static_cast<std::uint64_t>(kFlaps));
  EXPECT_EQ(count_changes(p.server_app()->path_events(), conn::PathChangeReason::kMigration),
            static_cast<std::size_t>(kFlaps));
  // No path leak: at most the active path and the one being probed, on either side.
  EXPECT_LE(census.client_max, 2u);
  EXPECT_LE(census.server_max, 3u);
  EXPECT_EQ(c->paths().size(), 1u);
  EXPECT_LE(p.server_conn()->paths().size(), 2u);
  std::cout << "[ sim      ] " << kFlaps << " flaps; paths at most " << census.client_max << " (client), "
            << census.server_max << " (server); " << p.summary() << '\n';
}

INSTANTIATE_TEST_SUITE_P(Seeds, Flapping, scenario_seeds(), seed_name);

class ValidationFails : public ::testing::TestWithParam<std::uint64_t> {};

// The LTE path is a black hole: the probe times out (PathFailed), and the connection never leaves
// Wi-Fi.
TEST_P(ValidationFails, ProbeFailsAndConnectionStays) {
  Pair p(two_interfaces(GetParam()));
  p.add_client_address(kLteAddr, fast_link(milliseconds(30)), fast_link(milliseconds(30)));
  p.set_link_up(kLteAddr, p.server_addr, false);
  ASSERT_TRUE(p.handshake(seconds(10))) << p.summary();
  const std::size_t i = p.app().add(Op::kDownload, 5'000'000, 9000 + GetParam(), p.net().now());
  p.net().run_for(milliseconds(200));
  auto* c = p.client_conn();
  const PathId before = c->active_path();
  auto id = c->probe_path(kLteAddr, p.net().now());
  ASSERT_TRUE(id.ok()) << id.error().reason;
  ASSERT_TRUE(p.net().run_until([&] { return !events_of<conn::PathFailed>(p.app().path_events()).empty(); },
                                seconds(30)))
      << describe(p.app().path_events());
  const auto failed = events_of<conn::PathFailed>(p.app().path_events());
  EXPECT_EQ(failed.front().path, *id);
  EXPECT_EQ(failed.front().local, kLteAddr);
  EXPECT_EQ(c->active_path(), before);
  EXPECT_EQ(c->paths().size(), 1u);  // the failed path is gone
  ASSERT_TRUE(p.run_transfers(seconds(60))) << p.summary();
  EXPECT_TRUE(p.app().transfers()[i].ok()) << p.summary();
  EXPECT_TRUE(events_of<conn::PathChanged>(p.app().path_events()).empty()) << describe(p.app().path_events());
  EXPECT_EQ(c->stats().paths_failed, 1u);
  EXPECT_EQ(p.server_conn()->peer_address(), p.client_addr);
}

// Switch-now to the black hole: the client moves before validating, validation fails, and it
// falls back to Wi-Fi (PathChanged with reason fallback); the transfer still completes.
TEST_P(ValidationFails, SwitchNowFallsBack) {
  Pair p(two_interfaces(GetParam()));
  p.add_client_address(kLteAddr, fast_link(milliseconds(30)), fast_link(milliseconds(30)));
  p.set_link_up(kLteAddr, p.server_addr, false);
  ASSERT_TRUE(p.handshake(seconds(10))) << p.summary();
  const std::size_t i = p.app().add(Op::kDownload, 5'000'000, 9100 + GetParam(), p.net().now());
  p.net().run_for(milliseconds(200));
  auto* c = p.client_conn();
  const PathId wifi = c->active_path();
  auto id = c->probe_path(kLteAddr, p.net().now());
  ASSERT_TRUE(id.ok()) << id.error().reason;
  ASSERT_TRUE(c->migrate(*id, p.net().now()).ok());
  EXPECT_EQ(c->active_path(), *id);
  ASSERT_TRUE(p.run_transfers(seconds(60))) << p.summary() << ' ' << describe(p.app().path_events());
  EXPECT_TRUE(p.app().transfers()[i].ok()) << p.summary();
  const auto& log = p.app().path_events();
  EXPECT_EQ(count_changes(log, conn::PathChangeReason::kMigration), 1u) << describe(log);
  EXPECT_EQ(count_changes(log, conn::PathChangeReason::kFallback), 1u) << describe(log);
  EXPECT_EQ(events_of<conn::PathFailed>(log).size(), 1u) << describe(log);
  EXPECT_EQ(c->active_path(), wifi);
  EXPECT_EQ(c->local_address(), p.client_addr);
  EXPECT_EQ(c->paths().size(), 1u);
  // The server never saw the client leave.
  EXPECT_EQ(p.server_conn()->stats().migrations, 0u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, ValidationFails, scenario_seeds(), seed_name);

class PreferredAddress : public ::testing::TestWithParam<std::uint64_t> {};

// The server advertises a second address; the client validates it after the handshake and moves
// there (RFC 9000 9.6.1); the server reports the move as preferred-address.
TEST_P(PreferredAddress, ClientMovesAfterHandshake) {
  PairOptions o = two_interfaces(GetParam());
  o.server.preferred_address_v4 = kServerAddr2;
  Pair p(o);
  p.add_server_address(kServerAddr2, fast_link(milliseconds(5)), fast_link(milliseconds(5)));
  ASSERT_TRUE(p.handshake(seconds(10))) << p.summary();
  const std::size_t i = p.app().add(Op::kDownload, 5'000'000, 9200 + GetParam(), p.net().now());
  ASSERT_TRUE(p.run_transfers(seconds(60))) << p.summary();
  EXPECT_TRUE(p.app().transfers()[i].ok()) << p.summary();
  auto* c = p.client_conn();
  const auto& log = p.app().path_events();
  EXPECT_EQ(count_changes(log, conn::PathChangeReason::kPreferredAddress), 1u) << describe(log);
  EXPECT_EQ(c->peer_address(), kServerAddr2);
  EXPECT_EQ(c->local_address(), p.client_addr);
  const auto& slog = p.server_app()->path_events();
  EXPECT_EQ(count_changes(slog, conn::PathChangeReason::kPreferredAddress), 1u) << describe(slog);
  EXPECT_EQ(p.server_conn()->local_address(), kServerAddr2);
  EXPECT_EQ(p.server_conn()->peer_address(), p.client_addr);
  // Most of the download went to the preferred address.
  EXPECT_GT(p.link(kServerAddr2, p.client_addr).stats().bytes_delivered, 4'000'000u);
}

// With follow_preferred_address off, the client stays where it connected.
TEST_P(PreferredAddress, ClientMayStay) {
  PairOptions o = two_interfaces(GetParam());
  o.server.preferred_address_v4 = kServerAddr2;
  o.client.follow_preferred_address = false;
  Pair p(o);
  p.add_server_address(kServerAddr2, fast_link(milliseconds(5)), fast_link(milliseconds(5)));
  ASSERT_TRUE(p.handshake(seconds(10))) << p.summary();
  const std::size_t i = p.app().add(Op::kDownload, 1'000'000, 9300 + GetParam(), p.net().now());
  ASSERT_TRUE(p.run_transfers(seconds(60))) << p.summary();
  EXPECT_TRUE(p.app().transfers()[i].ok()) << p.summary();
  EXPECT_TRUE(p.app().path_events().empty()) << describe(p.app().path_events());
  EXPECT_EQ(p.client_conn()->peer_address(), p.server_addr);
  EXPECT_EQ(p.link(kServerAddr2, p.client_addr).stats().offered, 0u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, PreferredAddress, scenario_seeds(), seed_name);

}  // namespace
}  // namespace roam::sim
