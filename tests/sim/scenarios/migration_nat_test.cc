// NAT rebinding (roam issue 4, scenarios 2 and 10): the client sits behind a NAT whose mapping
// moves to a new port every second for a minute during a download. The client never learns of
// it; the server must follow every time (PathChanged with reason nat-rebinding), validate the new
// address, keep its RTT estimate and congestion window (only the port changed, RFC 9000 9.4), and
// the transfer must complete byte-exact. A server that disabled active migration refuses a
// client's probe but still follows a rebinding (9.5: the client did not choose to move).
#include <gtest/gtest.h>

#include <iostream>

#include "migration_util.h"
#include "seeds.h"

namespace roam::sim {
namespace {

const SocketAddress kNatOutside = *SocketAddress::parse("198.51.100.7:61000");

LinkConfig nat_link() {
  LinkConfig l;
  l.delay = milliseconds(20);
  l.rate_bytes_per_s = 2'000'000 / 8;  // 2 Mbit/s: 16 MB take longer than the minute of rebinds
  l.queue_bytes = 30'000;
  l.loss = 0.0005;
  return l;
}

// The client behind a NAT: every datagram it sends leaves as kNatOutside (then its rebound ports).
struct NatPair {
  explicit NatPair(PairOptions o) : pair(o), nat(pair.net().add_nat(pair.client_addr, kNatOutside)) {
    pair.net().connect(kNatOutside, pair.server_addr, nat_link());
  }
  static PairOptions options(std::uint64_t seed) {
    PairOptions o;
    o.seed = seed;
    // A client behind a NAT sends keep-alives. Here they matter in one case: the server's ACK
    // of the client's last PING arrived just before the rebinding, so the client had nothing in
    // flight and, only receiving, nothing to say; only a timer makes it speak (and show its new
    // port) again.
    o.client.keep_alive = milliseconds(500);
    return o;
  }
  Pair pair;
  Nat& nat;
};

struct Snapshot {
  Duration srtt{};
  std::uint64_t cwnd = 0;
};

struct Rebinding {
  Instant time{};
  Snapshot before;  // the server's stats after the previous simulation step
  Snapshot after;   // at the PathChanged event
  conn::PathChangeReason reason{};
};

class NatRebinding : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(NatRebinding, EverySecondForAMinute) {
  constexpr int kRebinds = 60;
  constexpr std::uint64_t kDownload = 16'000'000;
  NatPair np(NatPair::options(GetParam()));
  Pair& p = np.pair;
  ASSERT_TRUE(p.handshake(seconds(10))) << p.summary();
  ASSERT_EQ(p.server_conn()->peer_address(), kNatOutside);

  // The server's stats as of the end of each step, and a record of every path change it reports.
  Snapshot last;
  std::vector<Rebinding> changes;
  p.server_apps().set_event_hook([&](conn::Connection& c, const conn::Event& e, Instant now) {
    if (const auto* pc = std::get_if<conn::PathChanged>(&e)) {
      const auto s = c.stats();
      changes.push_back(Rebinding{now, last, Snapshot{s.smoothed_rtt, s.cwnd}, pc->reason});
    }
  });
  p.net().on_step([&] {
    if (auto* s = p.server_conn()) {
      const auto st = s->stats();
      last = Snapshot{st.smoothed_rtt, st.cwnd};
    }
  });

  const std::size_t i = p.app().add(Op::kDownload, kDownload, 6000 + GetParam(), p.net().now());
  const Instant start = p.net().now();
  for (int k = 1; k <= kRebinds; ++k) {
    p.net().at(start + seconds(k), [&np, k] { np.nat.rebind_port(static_cast<std::uint16_t>(61000 + k)); });
  }
  ASSERT_TRUE(p.run_transfers(seconds(300))) << p.summary();
  const Transfer& t = p.app().transfers()[i];
  EXPECT_TRUE(t.ok()) << p.summary();
  // The transfer outlasted the minute of rebinds, so each happened mid-transfer.
  EXPECT_GT(t.finished_at - start, seconds(kRebinds)) << p.summary();
  EXPECT_EQ(np.nat.rebinds(), static_cast<std::uint64_t>(kRebinds));

  // The server followed every rebinding, and nothing else.
  ASSERT_EQ(changes.size(), static_cast<std::size_t>(kRebinds)) << describe(p.server_app()->path_events());
  const auto ss = p.server_conn()->stats();
  EXPECT_EQ(ss.nat_rebindings, static_cast<std::uint64_t>(kRebinds));
  EXPECT_EQ(ss.migrations, static_cast<std::uint64_t>(kRebinds));
  EXPECT_EQ(p.server_conn()->peer_address(), kNatOutside.with_port(61000 + kRebinds));
  // Each new address was validated, and no path was left behind.
  EXPECT_EQ(ss.paths_validated, static_cast<std::uint64_t>(kRebinds));
  EXPECT_LE(p.server_conn()->paths().size(), 2u);
  // The client saw nothing: its address never changed as far as it knows.
  EXPECT_EQ(p.client_conn()->stats().migrations, 0u);
  EXPECT_TRUE(p.app().path_events().empty()) << describe(p.app().path_events());

  // RTT and congestion state were kept (a fresh path would start from the 333 ms initial RTT and
  // a 12,000-byte window).
  const std::uint64_t initial_window = 10 * 1200;
  std::size_t window_kept = 0;
  for (const auto& r : changes) {
    EXPECT_EQ(r.reason, conn::PathChangeReason::kNatRebinding);
    EXPECT_LT(r.after.srtt, milliseconds(200)) << format_duration(r.time.time_since_epoch());
    const auto lo = std::min(r.before.srtt, r.after.srtt);
    const auto hi = std::max(r.before.srtt, r.after.srtt);
    EXPECT_LE(hi - lo, lo / 2) << "srtt " << format_duration(r.before.srtt) << " -> " << format_duration(r.after.srtt);
    window_kept += r.after.cwnd == r.before.cwnd && r.after.cwnd != initial_window;
  }
  // The window is copied when the packet from the new port arrives, before its ACK frames are
  // processed (those acknowledge packets sent on the old path and count there), so it is exactly
  // the window the old path had.
  EXPECT_EQ(window_kept, changes.size());
  std::cout << "[ sim      ] " << kRebinds << " rebinds followed; window kept exactly at " << window_kept
            << "; transfer took " << format_duration(t.finished_at - t.opened_at) << "; " << p.summary() << '\n';
}

INSTANTIATE_TEST_SUITE_P(Seeds, NatRebinding, scenario_seeds(), seed_name);

class DisableActiveMigration : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(DisableActiveMigration, ProbeRefusedButRebindingFollowed) {
  PairOptions o = NatPair::options(GetParam());
  o.server.disable_active_migration = true;
  NatPair np(o);
  Pair& p = np.pair;
  p.add_client_address(kLteAddr, lte_link(), lte_link());
  ASSERT_TRUE(p.handshake(seconds(10))) << p.summary();
  auto* c = p.client_conn();
  const auto before = c->stats();
  auto probe = c->probe_path(kLteAddr, p.net().now());
  ASSERT_FALSE(probe.ok());
  EXPECT_NE(probe.error().reason.find("disabled active migration"), std::string::npos) << probe.error().reason;
  // Refused without side effects: no path, no CID spent, nothing probed.
  EXPECT_EQ(c->paths().size(), 1u);
  EXPECT_EQ(c->stats().paths_probed, before.paths_probed);

  const std::size_t i = p.app().add(Op::kDownload, 2'000'000, 7000 + GetParam(), p.net().now());
  p.net().after(milliseconds(500), [&np] { np.nat.rebind_port(62000); });
  ASSERT_TRUE(p.run_transfers(seconds(60))) << p.summary();
  EXPECT_TRUE(p.app().transfers()[i].ok()) << p.summary();
  const auto& log = p.server_app()->path_events();
  EXPECT_EQ(count_changes(log, conn::PathChangeReason::kNatRebinding), 1u) << describe(log);
  EXPECT_EQ(p.server_conn()->peer_address(), kNatOutside.with_port(62000));
}

INSTANTIATE_TEST_SUITE_P(Seeds, DisableActiveMigration, scenario_seeds(), seed_name);

}  // namespace
}  // namespace roam::sim
