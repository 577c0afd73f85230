// CID retirement churn (roam issue 4, scenario 7): ten thousand migrations back and forth between
// two client interfaces, each with a fresh CID from the server, each abandoned path retiring its
// CID. Nothing may grow with the number of migrations: paths, active CIDs on both sides, the
// heap (the peer CID pools' retired-sequence tracking, the endpoint's CID table and everything
// else included), and a CID retired long ago must be unknown to the server's endpoint.
#include <gtest/gtest.h>
#include <malloc.h>

#include <algorithm>
#include <iostream>

#include "migration_util.h"
#include "seeds.h"

namespace roam::sim {
namespace {

std::size_t heap_in_use() { return mallinfo2().uordblks; }

class CidChurn : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(CidChurn, TenThousandMigrationsInBoundedMemory) {
  constexpr std::uint64_t kMigrations = 10'000;
  constexpr std::uint64_t kWarmup = 1'000;  // the heap is measured from here
  LinkConfig l;
  l.delay = milliseconds(1);
  l.loss = 0.001;
  PairOptions o;
  o.seed = GetParam();
  o.up = o.down = l;
  Pair p(o);
  p.add_client_address(kLteAddr, l, l);
  p.app().set_path_event_log(false);
  p.server_apps().set_path_event_log(false);
  std::uint64_t validated = 0, failed = 0, server_changes = 0;
  p.app().set_event_hook([&](conn::Connection&, const conn::Event& e, Instant) {
    validated += std::holds_alternative<conn::PathValidated>(e);
    failed += std::holds_alternative<conn::PathFailed>(e);
  });
  p.server_apps().set_event_hook([&](conn::Connection&, const conn::Event& e, Instant) {
    server_changes += std::holds_alternative<conn::PathChanged>(e);
  });
  // The first CID the client sends with: retired after the first migration.
  std::optional<ConnectionId> first_dcid;
  p.net().add_tap([&](const WireEvent& e) {
    if (!first_dcid && e.kind == WireEvent::Kind::kSent && e.node == &p.client_node() && !e.bytes.empty() &&
        (e.bytes[0] & 0x80) == 0 && e.bytes.size() > 9) {
      first_dcid = ConnectionId(e.bytes.subspan(1, 8));
    }
  });
  ASSERT_TRUE(p.handshake(seconds(10))) << p.summary();
  p.net().run_for(milliseconds(20));
  ASSERT_TRUE(first_dcid.has_value());
  auto* c = p.client_conn();
  auto* s = p.server_conn();

  std::size_t max_client_paths = 0, max_server_paths = 0, max_client_cids = 0, max_server_cids = 0;
  std::uint64_t waits_for_cid = 0;
  std::size_t heap_warm = 0;
  for (std::uint64_t k = 0; k < kMigrations; ++k) {
    if (k == kWarmup) heap_warm = heap_in_use();
    const SocketAddress to = k % 2 == 0 ? kLteAddr : p.client_addr;
    // The CID of the path just left is being retired and the server's replacement may still be
    // on its way: wait for it (never long).
    Result<PathId> id = Error{TransportError::kInternalError, "not tried"};
    for (int tries = 0; tries < 100; ++tries) {
      id = c->probe_path(to, p.net().now());
      if (id || id.error().reason.find("no spare connection ID") == std::string::npos) break;
      ++waits_for_cid;
      p.net().run_for(milliseconds(1));
    }
    ASSERT_TRUE(id.ok()) << "migration " << k << ": " << id.error().reason << ' ' << p.summary();
    const std::uint64_t v = validated;
    ASSERT_TRUE(p.net().run_until([&] { return validated > v || failed > 0; }, seconds(5)))
        << "migration " << k << ' ' << p.summary();
    ASSERT_EQ(failed, 0u) << "migration " << k << ' ' << p.summary();
    ASSERT_TRUE(c->migrate(*id, p.net().now()).ok());
    ASSERT_TRUE(p.net().run_until([&] { return server_changes > k; }, seconds(5)))
        << "migration " << k << ' ' << p.summary();
    max_client_paths = std::max(max_client_paths, c->paths().size());
    max_server_paths = std::max(max_server_paths, s->paths().size());
    max_client_cids = std::max(max_client_cids, c->local_cids().size());
    max_server_cids = std::max(max_server_cids, s->local_cids().size());
  }
  p.net().run_for(milliseconds(50));  // let the last RETIRE/NEW_CONNECTION_ID exchange settle
  const std::size_t heap_end = heap_in_use();

  const auto cs = c->stats();
  const auto ss = s->stats();
  EXPECT_EQ(cs.migrations, kMigrations);
  EXPECT_EQ(ss.migrations, kMigrations);
  EXPECT_EQ(cs.paths_validated, kMigrations);
  EXPECT_GE(cs.peer_cids_retired, kMigrations);  // one per abandoned path
  EXPECT_GE(ss.cids_retired, kMigrations);
  EXPECT_GE(ss.cids_issued, kMigrations);
  EXPECT_LE(max_client_paths, 2u);
  EXPECT_LE(max_server_paths, 3u);
  EXPECT_LE(max_client_cids, 8u);
  EXPECT_LE(max_server_cids, 8u);
  EXPECT_EQ(p.server_ep().connection_count(), 1u);
  // Flat heap: a leak of a few dozen bytes per migration would show as hundreds of kilobytes.
  const auto growth = static_cast<std::int64_t>(heap_end) - static_cast<std::int64_t>(heap_warm);
  EXPECT_LT(growth, 128 * 1024) << "heap " << heap_warm << " -> " << heap_end;

  // A CID retired 10,000 migrations ago routes nowhere: the server's endpoint drops the datagram
  // as unknown (and answers with a stateless reset) instead of handing it to the connection.
  const auto before = p.server_ep().stats();
  std::vector<std::uint8_t> stale(60);
  SeededRandom(GetParam()).fill(stale);
  stale[0] = 0x40 | (stale[0] & 0x3f);
  std::copy(first_dcid->bytes().begin(), first_dcid->bytes().end(), stale.begin() + 1);
  p.net().inject(*SocketAddress::parse("10.9.9.9:999"), p.server_addr, stale, milliseconds(1));
  p.net().run_for(milliseconds(5));
  EXPECT_EQ(p.server_ep().stats().datagrams_dropped, before.datagrams_dropped + 1);
  EXPECT_EQ(p.server_ep().stats().stateless_resets_sent, before.stateless_resets_sent + 1);

  // And the connection still works.
  const std::size_t i = p.app().add(Op::kEcho, 100'000, 12000 + GetParam(), p.net().now());
  ASSERT_TRUE(p.run_transfers(seconds(30))) << p.summary();
  EXPECT_TRUE(p.app().transfers()[i].ok()) << p.summary();
  std::cout << "[ sim      ] " << kMigrations << " migrations; heap " << heap_warm << " -> " << heap_end << " B ("
            << growth << "); waited for a CID " << waits_for_cid << " times; CIDs issued by the server "
            << ss.cids_issued << ", retired by the client " << cs.peer_cids_retired << "; " << p.summary() << '\n';
}

INSTANTIATE_TEST_SUITE_P(Seeds, CidChurn, scenario_seeds(), seed_name);

}  // namespace
}  // namespace roam::sim
