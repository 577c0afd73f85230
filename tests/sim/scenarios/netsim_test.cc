// The simulator itself: link behaviour, NAT, event order and reproducibility.
#include <gtest/gtest.h>

#include "netsim.h"
#include "netsim_pair.h"

namespace roam::sim {
namespace {

using std::chrono::milliseconds;

Instant t0() { return Instant{} + std::chrono::seconds(1); }

TEST(NetsimLink, DelayAndJitterBounds) {
  SeededRandom r(1);
  LinkConfig c;
  c.delay = milliseconds(30);
  c.jitter = milliseconds(4);
  Link l(c, r);
  for (int i = 0; i < 1000; ++i) {
    auto a = l.transmit(t0(), 1200);
    ASSERT_TRUE(a);
    EXPECT_GE(*a - t0(), milliseconds(30));
    EXPECT_LE(*a - t0(), milliseconds(34));
  }
  EXPECT_EQ(l.stats().delivered, 1000u);
}

TEST(NetsimLink, RandomLossRateIsNearConfigured) {
  SeededRandom r(7);
  LinkConfig c;
  c.loss = 0.2;
  Link l(c, r);
  for (int i = 0; i < 20000; ++i) (void)l.transmit(t0(), 100);
  const double rate = static_cast<double>(l.stats().dropped_loss) / 20000.0;
  EXPECT_NEAR(rate, 0.2, 0.02);
}

TEST(NetsimLink, BurstLossComesInRuns) {
  SeededRandom r(3);
  LinkConfig c;
  c.burst = GilbertElliott{0.02, 0.25, 0.0, 1.0};
  Link l(c, r);
  int runs = 0, lost = 0;
  bool prev = false;
  for (int i = 0; i < 20000; ++i) {
    const bool drop = !l.transmit(t0(), 100);
    lost += drop;
    runs += drop && !prev;
    prev = drop;
  }
  ASSERT_GT(runs, 0);
  // Mean burst length 1 / p_bad_to_good = 4: clearly longer than independent loss gives.
  EXPECT_GT(static_cast<double>(lost) / runs, 2.5);
}

TEST(NetsimLink, MtuAndDownDrop) {
  SeededRandom r(1);
  LinkConfig c;
  c.mtu = 1300;
  Link l(c, r);
  EXPECT_TRUE(l.transmit(t0(), 1300));
  EXPECT_FALSE(l.transmit(t0(), 1301));
  EXPECT_EQ(l.stats().dropped_mtu, 1u);
  l.config().up = false;
  EXPECT_FALSE(l.transmit(t0(), 100));
  EXPECT_EQ(l.stats().dropped_down, 1u);
}

TEST(NetsimLink, RateLimitSerialisesAndDropsTail) {
  SeededRandom r(1);
  LinkConfig c;
  c.delay = milliseconds(10);
  c.rate_bytes_per_s = 1'000'000;  // 1 byte per microsecond
  c.queue_bytes = 10'000;
  Link l(c, r);
  // Ten 1000-byte datagrams at once: they leave 1 ms apart.
  for (int i = 0; i < 10; ++i) {
    auto a = l.transmit(t0(), 1000);
    ASSERT_TRUE(a) << i;
    EXPECT_EQ(*a - t0(), milliseconds(10) + milliseconds(i + 1));
  }
  // The queue is full now.
  EXPECT_FALSE(l.transmit(t0(), 1000));
  EXPECT_EQ(l.stats().dropped_queue, 1u);
  // After 5 ms half of it drained.
  EXPECT_TRUE(l.transmit(t0() + milliseconds(5), 1000));
}

TEST(NetsimLink, ReorderDelaysSome) {
  SeededRandom r(5);
  LinkConfig c;
  c.reorder = 0.5;
  c.reorder_delay = milliseconds(7);
  Link l(c, r);
  for (int i = 0; i < 1000; ++i) (void)l.transmit(t0(), 100);
  EXPECT_GT(l.stats().reordered, 400u);
  EXPECT_LT(l.stats().reordered, 600u);
}

TEST(NetsimNat, RewritesAndRebinds) {
  const auto in = *SocketAddress::parse("192.168.1.2:5000");
  const auto out = *SocketAddress::parse("203.0.113.1:40000");
  Nat n(in, out);
  EXPECT_EQ(n.translate_out(in), out);
  EXPECT_FALSE(n.translate_out(*SocketAddress::parse("192.168.1.3:5000")));
  EXPECT_EQ(n.translate_in(out), in);
  n.rebind_port(40001);
  EXPECT_FALSE(n.translate_in(out));
  EXPECT_EQ(n.translate_in(out.with_port(40001)), in);
  EXPECT_EQ(n.translate_out(in), out.with_port(40001));
  EXPECT_EQ(n.rebinds(), 1u);
}

TEST(NetsimNetwork, ActionsRunInTimeThenInsertionOrder) {
  Network net(1);
  std::vector<int> order;
  const Instant base = net.now();
  net.at(base + milliseconds(5), [&] { order.push_back(3); });
  net.at(base + milliseconds(1), [&] { order.push_back(1); });
  net.at(base + milliseconds(1), [&] { order.push_back(2); });
  net.run_for(milliseconds(10));
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(net.now(), base + milliseconds(10));
}

TEST(NetsimNetwork, RunUntilStopsAtDeadline) {
  Network net(1);
  const Instant base = net.now();
  EXPECT_FALSE(net.run_until([] { return false; }, milliseconds(50)));
  EXPECT_EQ(net.now(), base + milliseconds(50));
}

// A client behind a NAT talks to a server; the server sees the NAT's outside address; after a
// rebinding, datagrams for the old mapping are dropped.
TEST(NetsimNetwork, NatRewritesSourceSeenByServer) {
  PairOptions o;
  o.seed = 11;
  Pair p(o);
  // Re-route: a NAT in front of the client, and links from the NAT's public IP.
  const auto outside = *SocketAddress::parse("198.51.100.7:61000");
  Nat& nat = p.net().add_nat(p.client_addr, outside);
  p.net().connect(outside, p.server_addr, LinkConfig{});
  ASSERT_TRUE(p.handshake(std::chrono::seconds(5))) << p.summary();
  ASSERT_NE(p.server_conn(), nullptr);
  EXPECT_EQ(p.server_conn()->peer_address(), outside);
  EXPECT_EQ(nat.dropped_unmapped(), 0u);
  // Rebind with a datagram on its way to the old mapping: a ping from the server is dropped.
  nat.rebind_port(61001);
  p.app().add(Op::kEcho, 10, 1, p.net().now());
  p.net().run_for(milliseconds(200));
  EXPECT_GT(nat.dropped_unmapped(), 0u);
}

// The same seed gives the same run: the simulator adds no nondeterminism of its own.
TEST(NetsimNetwork, SameSeedSameRun) {
  auto run = [](std::uint64_t seed) {
    PairOptions o;
    o.seed = seed;
    o.up.loss = o.down.loss = 0.05;
    o.up.jitter = o.down.jitter = milliseconds(3);
    Pair p(o);
    p.app().add(Op::kDownload, 300'000, 5, p.net().now());
    EXPECT_TRUE(p.run_transfers(std::chrono::seconds(30))) << p.summary();
    EXPECT_TRUE(p.app().all_ok()) << p.summary();
    return std::make_tuple(p.net().stats().datagrams_sent, p.net().link_drops(), p.net().now());
  };
  EXPECT_EQ(run(21), run(21));
}

}  // namespace
}  // namespace roam::sim
