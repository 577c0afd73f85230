#include "recovery/cubic.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "recovery_test_util.h"

namespace roam::recovery {
namespace {

using std::chrono::milliseconds;
using test::at;
using test::packet;

constexpr double kMds = 1200;

RttEstimator rtt_of(Duration sample) {
  RttEstimator rtt;
  rtt.on_sample(at(0_ms), sample, Duration::zero(), true, milliseconds(25));
  return rtt;
}

// Sends one packet of `bytes` at `sent` and acknowledges it at `acked`.
void send_and_ack(Cubic& cc, const RttEstimator& rtt, Instant sent, Instant acked, std::size_t bytes, std::uint64_t pn = 0) {
  SentPacket p = packet(pn, sent, static_cast<std::uint32_t>(bytes));
  cc.on_packet_sent(sent, bytes);
  cc.on_packets_acked(std::span(&p, 1), acked, rtt);
}

// Grows a fresh controller in slow start to `packets` datagrams, then loses a packet at `when`.
void grow_then_lose(Cubic& cc, const RttEstimator& rtt, std::size_t packets, Instant when) {
  const std::size_t grow = packets * 1200 - cc.cwnd();
  send_and_ack(cc, rtt, at(0_ms), at(1_ms), grow);
  ASSERT_EQ(cc.cwnd(), packets * 1200);
  cc.on_packet_sent(at(1_ms), 1200);
  cc.on_packets_lost(std::array{packet(1, at(1_ms))}, when);
}

TEST(CubicMath, WindowAndKMatchTheFormula) {
  // W_max = 100, beta = 0.7: cwnd_epoch = 70, K = cbrt(30 / 0.4) = cbrt(75).
  const double k = cubic_k(100, 70);
  EXPECT_NEAR(k, 4.217163, 1e-6);
  EXPECT_NEAR(cubic_window(0, k, 100), 70.0, 1e-9);        // starts at the reduced window
  EXPECT_NEAR(cubic_window(k, k, 100), 100.0, 1e-9);       // plateau at W_max
  EXPECT_NEAR(cubic_window(k - 1, k, 100), 99.6, 1e-9);    // concave: 100 - 0.4
  EXPECT_NEAR(cubic_window(k + 2, k, 100), 103.2, 1e-9);   // convex: 100 + 0.4 * 8
  EXPECT_NEAR(cubic_window(1, 2, 10, 1.0), 9.0, 1e-12);
  EXPECT_EQ(cubic_k(50, 60), 0.0);                         // no reduction to recover from
}

TEST(Cubic, SlowStartGrowsByAckedBytes) {
  Cubic cc;
  RttEstimator rtt = rtt_of(milliseconds(100));
  send_and_ack(cc, rtt, at(0_ms), at(100_ms), 6000);
  EXPECT_EQ(cc.cwnd(), 18000u);
  EXPECT_TRUE(cc.in_slow_start());
}

TEST(Cubic, CongestionEventMultipliesByBeta) {
  Cubic cc;
  RttEstimator rtt = rtt_of(milliseconds(100));
  grow_then_lose(cc, rtt, 100, at(200_ms));
  EXPECT_EQ(cc.cwnd(), 84000u);  // 0.7 * 120000
  EXPECT_EQ(cc.ssthresh(), 84000u);
  EXPECT_DOUBLE_EQ(cc.w_max(), 120000.0);
  EXPECT_TRUE(cc.in_recovery());
  EXPECT_FALSE(cc.epoch_start().has_value());  // the epoch starts with congestion avoidance
}

TEST(Cubic, FastConvergenceLowersWMax) {
  RttEstimator rtt = rtt_of(milliseconds(100));
  for (bool fast : {true, false}) {
    CongestionConfig config;
    config.cubic_fast_convergence = fast;
    Cubic cc(config);
    grow_then_lose(cc, rtt, 100, at(200_ms));  // W_max 120000, cwnd 84000
    // A second loss, in a later round trip, before the window got back to W_max.
    cc.on_congestion_event(at(300_ms), at(400_ms));
    EXPECT_EQ(cc.cwnd(), 58800u);  // 0.7 * 84000
    if (fast) {
      EXPECT_DOUBLE_EQ(cc.w_max(), 84000.0 * 1.7 / 2);  // released: (1 + beta) / 2
    } else {
      EXPECT_DOUBLE_EQ(cc.w_max(), 84000.0);
    }
  }
}

TEST(Cubic, CongestionAvoidanceFollowsTheCubicCurve) {
  Cubic cc;
  RttEstimator rtt = rtt_of(milliseconds(100));
  grow_then_lose(cc, rtt, 100, at(200_ms));
  // The first acknowledgment of a packet sent after recovery started opens the epoch (t = 0).
  const Instant epoch = at(300_ms);
  send_and_ack(cc, rtt, at(250_ms), epoch, 1, 2);
  ASSERT_EQ(cc.epoch_start(), epoch);
  const double k = cc.k();
  EXPECT_NEAR(k, std::cbrt(75.0), 1e-9);  // (120000 - 84000) / (0.4 * 1200) = 75
  // Acknowledging a full window at time t moves cwnd to W_cubic(t + RTT) (RFC 9438 4.2). The
  // Reno-friendly estimate grows by alpha = 0.53 datagrams per window and stays below the curve.
  std::uint64_t pn = 3;
  for (double t : {0.5, 1.0, 2.0, 3.0, k - 0.1, k + 0.5, k + 1.0, k + 1.5}) {
    const Instant now = epoch + std::chrono::duration_cast<Duration>(std::chrono::duration<double>(t));
    send_and_ack(cc, rtt, now - milliseconds(100), now, cc.cwnd(), pn++);
    const double expected = cubic_window(t + 0.1, k, 100) * kMds;
    EXPECT_NEAR(static_cast<double>(cc.cwnd()), expected, 2.0) << "t=" << t;
    EXPECT_LT(cc.w_est(), cubic_window(t, k, 100) * kMds) << "t=" << t;
  }
  // Concave then convex: growth slows toward W_max (120000) and speeds up after it.
  EXPECT_GT(cc.cwnd(), 120000u);
}

TEST(Cubic, GrowthIsCappedAtHalfTheWindowPerWindow) {
  Cubic cc;
  RttEstimator rtt = rtt_of(milliseconds(100));
  grow_then_lose(cc, rtt, 100, at(200_ms));
  const Instant epoch = at(300_ms);
  send_and_ack(cc, rtt, at(250_ms), epoch, 1, 2);
  // Long after K the curve is far above 1.5 * cwnd: one window of acks adds at most 50%.
  const std::size_t before = cc.cwnd();
  send_and_ack(cc, rtt, epoch, epoch + std::chrono::seconds(30), before, 3);
  EXPECT_NEAR(static_cast<double>(cc.cwnd()), 1.5 * static_cast<double>(before), 2.0);
}

TEST(Cubic, RenoFriendlyRegionWinsOnShortRtt) {
  Cubic cc;
  RttEstimator rtt = rtt_of(milliseconds(1));
  grow_then_lose(cc, rtt, 20, at(10_ms));  // W_max 24000, cwnd 16800, K = cbrt(15) = 2.47 s
  ASSERT_EQ(cc.cwnd(), 16800u);
  Instant now = at(20_ms);
  send_and_ack(cc, rtt, at(15_ms), now, 1, 2);  // epoch start
  const Instant epoch = now;
  // One window acknowledged per millisecond: Reno would add a datagram per RTT, far faster than
  // the cubic curve on a 1 ms path.
  std::uint64_t pn = 3;
  for (int i = 0; i < 30; ++i) {
    now += milliseconds(1);
    send_and_ack(cc, rtt, now - milliseconds(1), now, cc.cwnd(), pn++);
  }
  const double t = std::chrono::duration<double>(now - epoch).count();
  const double cubic = cubic_window(t, cc.k(), 24000, 0.4 * kMds);
  EXPECT_LT(cubic, cc.w_est());
  EXPECT_NEAR(static_cast<double>(cc.cwnd()), cc.w_est(), 1.0);
  // alpha = 0.53 until the estimate passes the window at the loss (20 datagrams), then 1.
  EXPECT_GT(cc.w_est(), 24000.0);
  EXPECT_GT(static_cast<double>(cc.cwnd()), cubic + 5 * kMds);
}

TEST(Cubic, AppLimitedTimeDoesNotAdvanceTheCurve) {
  Cubic cc;
  RttEstimator rtt = rtt_of(milliseconds(100));
  grow_then_lose(cc, rtt, 100, at(200_ms));
  send_and_ack(cc, rtt, at(250_ms), at(300_ms), 1, 2);
  ASSERT_EQ(cc.epoch_start(), at(300_ms));
  cc.on_app_limited(at(1000_ms));
  ASSERT_TRUE(cc.app_limited());
  // Acks while application-limited change nothing.
  const std::size_t before = cc.cwnd();
  send_and_ack(cc, rtt, at(1000_ms), at(1500_ms), 1200, 3);
  EXPECT_EQ(cc.cwnd(), before);
  // Filling the window at 3 s ends the period: the epoch moves 2 s later.
  cc.on_packet_sent(at(3000_ms), cc.cwnd());
  EXPECT_FALSE(cc.app_limited());
  EXPECT_EQ(cc.epoch_start(), at(2300_ms));
}

TEST(Cubic, PersistentCongestionRestartsWithKZero) {
  Cubic cc;
  RttEstimator rtt = rtt_of(milliseconds(100));
  grow_then_lose(cc, rtt, 100, at(200_ms));
  cc.on_persistent_congestion(at(300_ms));
  EXPECT_EQ(cc.cwnd(), 2400u);
  EXPECT_TRUE(cc.in_slow_start());
  // Slow start back up to ssthresh, then the first congestion avoidance ack opens an epoch at the
  // current window with K = 0 (RFC 9438 4.8).
  send_and_ack(cc, rtt, at(400_ms), at(500_ms), 84000 - 2400, 3);
  ASSERT_EQ(cc.cwnd(), 84000u);
  send_and_ack(cc, rtt, at(500_ms), at(600_ms), 1, 4);
  EXPECT_EQ(cc.k(), 0.0);
  EXPECT_DOUBLE_EQ(cc.w_max(), 84000.0);
}

TEST(Cubic, MinimumWindowFloor) {
  Cubic cc;
  for (int i = 1; i <= 20; ++i) {
    const Instant t = at(std::chrono::milliseconds(100 * i));
    cc.on_congestion_event(t, t);
  }
  EXPECT_EQ(cc.cwnd(), 2400u);
  EXPECT_EQ(cc.ssthresh(), 2400u);
}

TEST(Cubic, ResetForgetsTheCurve) {
  Cubic cc;
  RttEstimator rtt = rtt_of(milliseconds(100));
  grow_then_lose(cc, rtt, 100, at(200_ms));
  cc.reset();
  EXPECT_EQ(cc.cwnd(), 12000u);
  EXPECT_EQ(cc.w_max(), 0.0);
  EXPECT_FALSE(cc.epoch_start().has_value());
}

}  // namespace
}  // namespace roam::recovery
