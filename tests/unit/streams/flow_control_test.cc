#include "streams/flow_control.h"

#include <gtest/gtest.h>

namespace roam::streams {
namespace {

Instant at_ms(int ms) { return Instant{} + std::chrono::milliseconds(ms); }

TEST(RecvFlowController, DataBeyondTheLimitIsAFlowControlError) {
  RecvFlowController fc(1000, 1000);
  EXPECT_TRUE(fc.on_received(1000));
  auto s = fc.on_received(1001);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, TransportError::kFlowControlError);
  EXPECT_EQ(fc.received(), 1000u);
  EXPECT_TRUE(fc.on_received(10));  // lower offsets never reduce what was received
  EXPECT_EQ(fc.received(), 1000u);
}

TEST(RecvFlowController, UpdateIsDueWhenHalfTheWindowIsConsumed) {
  RecvFlowController fc(1000, 1000);
  ASSERT_TRUE(fc.on_received(1000));
  fc.on_consumed(499);
  EXPECT_FALSE(fc.update_due());
  fc.on_consumed(1);  // 500 consumed: 500 of credit left = half the window
  EXPECT_TRUE(fc.update_due());
  const auto u = fc.propose(at_ms(0), Duration::zero());
  EXPECT_EQ(u.limit, 1500u);  // consumed + window
  EXPECT_EQ(u.window, 1000u);
  fc.commit(u, at_ms(0));
  EXPECT_EQ(fc.limit(), 1500u);
  EXPECT_FALSE(fc.update_due());
  EXPECT_TRUE(fc.on_received(1500));
}

TEST(RecvFlowController, ConsumptionCannotExceedWhatWasReceived) {
  RecvFlowController fc(1000, 1000);
  ASSERT_TRUE(fc.on_received(100));
  fc.on_consumed(500);
  EXPECT_EQ(fc.consumed(), 100u);
  EXPECT_FALSE(fc.update_due());
}

TEST(RecvFlowController, WindowDoublesWhenUpdatesComeFasterThanTwoRtts) {
  const Duration rtt = std::chrono::milliseconds(50);
  RecvFlowController fc(1000, 4000);
  std::uint64_t got = 0;
  auto consume_half = [&] {
    got = fc.limit();
    ASSERT_TRUE(fc.on_received(got));
    fc.on_consumed(got - fc.consumed());
    ASSERT_TRUE(fc.update_due());
  };
  consume_half();
  fc.commit(fc.propose(at_ms(0), rtt), at_ms(0));  // first update: no history, no tuning
  EXPECT_EQ(fc.window(), 1000u);
  consume_half();
  auto u = fc.propose(at_ms(60), rtt);  // 60 ms < 2 RTT: the reader outpaces the window
  EXPECT_EQ(u.window, 2000u);
  EXPECT_EQ(u.limit, fc.consumed() + 2000);
  fc.commit(u, at_ms(60));
  consume_half();
  fc.commit(fc.propose(at_ms(100), rtt), at_ms(100));
  EXPECT_EQ(fc.window(), 4000u);
  consume_half();
  fc.commit(fc.propose(at_ms(120), rtt), at_ms(120));
  EXPECT_EQ(fc.window(), 4000u);  // capped at max_window
  // A slow reader does not grow the window.
  RecvFlowController slow(1000, 4000);
  ASSERT_TRUE(slow.on_received(1000));
  slow.on_consumed(1000);
  slow.commit(slow.propose(at_ms(0), rtt), at_ms(0));
  ASSERT_TRUE(slow.on_received(2000));
  slow.on_consumed(1000);
  EXPECT_EQ(slow.propose(at_ms(500), rtt).window, 1000u);
  // Without an RTT hint there is no tuning.
  EXPECT_EQ(slow.propose(at_ms(1), Duration::zero()).window, 1000u);
}

TEST(RecvFlowController, EnsureWindowRespectsTheCap) {
  RecvFlowController fc(1000, 3000);
  fc.ensure_window(500);
  EXPECT_EQ(fc.window(), 1000u);
  fc.ensure_window(10000);
  EXPECT_EQ(fc.window(), 3000u);
}

TEST(SendFlowController, SmallerLimitsAreIgnored) {
  SendFlowController fc(1000);
  EXPECT_FALSE(fc.raise_limit(500));
  EXPECT_FALSE(fc.raise_limit(1000));
  EXPECT_EQ(fc.limit(), 1000u);
  EXPECT_TRUE(fc.raise_limit(1500));
  EXPECT_EQ(fc.credit(), 1500u);
}

TEST(SendFlowController, BlockedIsReportedOncePerLimit) {
  SendFlowController fc(1000);
  EXPECT_FALSE(fc.should_report_blocked());
  fc.consume(1000);
  EXPECT_TRUE(fc.should_report_blocked());
  fc.mark_blocked_reported();
  EXPECT_FALSE(fc.should_report_blocked());
  EXPECT_TRUE(fc.still_blocked_at(1000));
  fc.raise_limit(2000);
  EXPECT_FALSE(fc.still_blocked_at(1000));
  EXPECT_FALSE(fc.should_report_blocked());
  fc.consume(1000);
  EXPECT_TRUE(fc.should_report_blocked());  // a new limit: report again
}

}  // namespace
}  // namespace roam::streams
