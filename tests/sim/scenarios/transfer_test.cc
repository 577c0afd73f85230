// Bulk transfers checked byte for byte: under loss with reordering, and through a rate-limited
// bottleneck with a drop-tail queue.
#include <gtest/gtest.h>

#include "netsim_pair.h"
#include "seeds.h"

namespace roam::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class LossyTransfer : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(LossyTransfer, TenMegabytesUnderFivePercentLossWithReordering) {
  PairOptions o;
  o.seed = GetParam();
  for (LinkConfig* l : {&o.up, &o.down}) {
    l->delay = milliseconds(15);
    l->jitter = milliseconds(2);
    l->loss = 0.05;
    l->reorder = 0.05;
    l->reorder_delay = milliseconds(8);
  }
  Pair p(o);
  const std::uint64_t n = 10'000'000;
  const std::size_t i = p.app().add(Op::kDownload, n, 100 + GetParam(), p.net().now());
  ASSERT_TRUE(p.run_transfers(seconds(300))) << p.summary();
  const Transfer& t = p.app().transfers()[i];
  EXPECT_TRUE(t.ok()) << p.summary();
  EXPECT_EQ(t.received, n);
  EXPECT_EQ(t.mismatches, 0u);
  EXPECT_EQ(t.checksum, t.expected_checksum);
  const auto k = p.counters();
  // The network really dropped and reordered, and the server noticed and repaired losses.
  EXPECT_GT(p.down().stats().dropped_loss, 100u) << p.summary();
  EXPECT_GT(p.down().stats().reordered, 100u) << p.summary();
  EXPECT_GT(k.server_packets_lost, 0u) << p.summary();
  EXPECT_FALSE(p.client_conn()->is_closing()) << p.summary();
  std::cout << "[ sim      ] " << p.summary() << " took " << format_duration(t.finished_at - t.opened_at) << '\n';
}

TEST_P(LossyTransfer, UploadUnderLoss) {
  PairOptions o;
  o.seed = GetParam();
  for (LinkConfig* l : {&o.up, &o.down}) {
    l->delay = milliseconds(10);
    l->loss = 0.05;
    l->reorder = 0.05;
  }
  Pair p(o);
  const std::uint64_t n = 2'000'000;
  const std::size_t i = p.app().add(Op::kUpload, n, 200 + GetParam(), p.net().now());
  ASSERT_TRUE(p.run_transfers(seconds(120))) << p.summary();
  EXPECT_TRUE(p.app().transfers()[i].ok()) << p.summary();
  EXPECT_EQ(p.server_apps().total().upload_mismatches, 0u);
  EXPECT_EQ(p.server_apps().total().bytes_received, n);
}

INSTANTIATE_TEST_SUITE_P(Seeds, LossyTransfer, scenario_seeds(), seed_name);

class Bottleneck : public ::testing::TestWithParam<std::uint64_t> {};

// 20 Mbit/s, 40 ms RTT, a drop-tail queue of about one bandwidth-delay product (100 kB).
TEST_P(Bottleneck, TwentyMegabytesAtSaneGoodput) {
  constexpr std::uint64_t kRate = 20'000'000 / 8;  // bytes per second
  PairOptions o;
  o.seed = GetParam();
  o.up.delay = o.down.delay = milliseconds(20);
  o.down.rate_bytes_per_s = kRate;
  o.down.queue_bytes = 100'000;
  o.up.rate_bytes_per_s = kRate;
  o.up.queue_bytes = 100'000;
  // A trace of random loss on top of the queue's, so each seed takes its own course.
  o.down.loss = 0.0005;
  Pair p(o);
  const std::uint64_t n = 20'000'000;
  const std::size_t i = p.app().add(Op::kDownload, n, 300 + GetParam(), p.net().now());
  ASSERT_TRUE(p.run_transfers(seconds(120))) << p.summary();
  const Transfer& t = p.app().transfers()[i];
  ASSERT_TRUE(t.ok()) << p.summary();
  const double secs = static_cast<double>((t.finished_at - t.opened_at).count()) / 1e9;
  const double goodput = static_cast<double>(n) / secs;
  std::cout << "[ sim      ] " << p.summary() << " goodput " << goodput * 8 / 1e6 << " Mbit/s, queue drops "
            << p.down().stats().dropped_queue << '\n';
  // Deterministic virtual time: at least half the bottleneck, and never more than the link.
  EXPECT_GE(goodput, 0.5 * kRate) << p.summary();
  EXPECT_LE(goodput, 1.0 * kRate) << p.summary();
}

INSTANTIATE_TEST_SUITE_P(Seeds, Bottleneck, scenario_seeds(), seed_name);

}  // namespace
}  // namespace roam::sim
