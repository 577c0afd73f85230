#include "recovery/rtt_estimator.h"

#include <gtest/gtest.h>

#include "recovery_test_util.h"

namespace roam::recovery {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using test::at;

TEST(RttEstimator, StartsFromInitialRtt) {
  RttEstimator rtt;
  EXPECT_FALSE(rtt.has_sample());
  EXPECT_EQ(rtt.smoothed_rtt(), milliseconds(333));
  EXPECT_EQ(rtt.rttvar(), microseconds(166500));
  // 333 + 4 * 166.5 = 999 ms: the 1 second handshake PTO of RFC 9002 6.2.2.
  EXPECT_EQ(rtt.pto_duration(Duration::zero()), milliseconds(999));
  EXPECT_EQ(rtt.pto_duration(milliseconds(25)), milliseconds(1024));
}

TEST(RttEstimator, FirstSampleIgnoresAckDelay) {
  RttEstimator rtt;
  rtt.on_sample(at(1000_ms), milliseconds(100), milliseconds(20), true, milliseconds(25));
  EXPECT_TRUE(rtt.has_sample());
  EXPECT_EQ(rtt.first_sample_time(), at(1000_ms));
  EXPECT_EQ(rtt.latest_rtt(), milliseconds(100));
  EXPECT_EQ(rtt.min_rtt(), milliseconds(100));
  EXPECT_EQ(rtt.smoothed_rtt(), milliseconds(100));
  EXPECT_EQ(rtt.rttvar(), milliseconds(50));
  EXPECT_EQ(rtt.pto_duration(Duration::zero()), milliseconds(300));
}

TEST(RttEstimator, SubtractsAckDelayBeforeConfirmationWithoutCap) {
  RttEstimator rtt;
  rtt.on_sample(at(0_ms), milliseconds(100), Duration::zero(), false, milliseconds(25));
  // 140 - 100 >= 30, so adjusted = 110 (30 ms is above max_ack_delay but not yet capped).
  rtt.on_sample(at(1_ms), milliseconds(140), milliseconds(30), false, milliseconds(25));
  EXPECT_EQ(rtt.min_rtt(), milliseconds(100));
  EXPECT_EQ(rtt.rttvar(), milliseconds(40));                 // (3*50 + |100-110|) / 4
  EXPECT_EQ(rtt.smoothed_rtt(), microseconds(101250));        // (7*100 + 110) / 8
}

TEST(RttEstimator, CapsAckDelayAtMaxAckDelayAfterConfirmation) {
  RttEstimator rtt;
  rtt.on_sample(at(0_ms), milliseconds(100), Duration::zero(), true, milliseconds(25));
  rtt.on_sample(at(1_ms), milliseconds(140), milliseconds(30), true, milliseconds(25));
  // ack_delay capped to 25: adjusted = 115.
  EXPECT_EQ(rtt.rttvar(), microseconds(41250));               // (150 + 15) / 4
  EXPECT_EQ(rtt.smoothed_rtt(), microseconds(101875));        // (700 + 115) / 8
}

TEST(RttEstimator, NeverSubtractsBelowMinRtt) {
  RttEstimator rtt;
  rtt.on_sample(at(0_ms), milliseconds(100), Duration::zero(), true, milliseconds(25));
  // 110 - 20 would be 90 < min_rtt 100: the delay is not subtracted.
  rtt.on_sample(at(1_ms), milliseconds(110), milliseconds(20), true, milliseconds(25));
  EXPECT_EQ(rtt.rttvar(), milliseconds(40));           // (150 + 10) / 4
  EXPECT_EQ(rtt.smoothed_rtt(), microseconds(101250)); // (700 + 110) / 8
  // A peer reporting an absurd delay cannot overflow the comparison either.
  rtt.on_sample(at(2_ms), milliseconds(120), Duration::max(), false, milliseconds(25));
  EXPECT_EQ(rtt.latest_rtt(), milliseconds(120));
  EXPECT_GT(rtt.smoothed_rtt(), microseconds(101250));
}

TEST(RttEstimator, MinRttFollowsLowerSamplesIgnoringDelay) {
  RttEstimator rtt;
  rtt.on_sample(at(0_ms), milliseconds(100), Duration::zero(), true, milliseconds(25));
  rtt.on_sample(at(1_ms), milliseconds(80), milliseconds(10), true, milliseconds(25));
  EXPECT_EQ(rtt.min_rtt(), milliseconds(80));
  rtt.on_sample(at(2_ms), milliseconds(200), Duration::zero(), true, milliseconds(25));
  EXPECT_EQ(rtt.min_rtt(), milliseconds(80));
  rtt.on_persistent_congestion();
  EXPECT_EQ(rtt.min_rtt(), milliseconds(200));  // restarts from the newest sample
}

TEST(RttEstimator, LossDelayIsNineEighthsOfTheLargerRtt) {
  RttEstimator rtt;
  EXPECT_EQ(rtt.loss_delay(), microseconds(374625));  // 9/8 * 333 ms before any sample
  rtt.on_sample(at(0_ms), milliseconds(80), Duration::zero(), true, milliseconds(25));
  EXPECT_EQ(rtt.loss_delay(), milliseconds(90));
  rtt.on_sample(at(1_ms), milliseconds(160), Duration::zero(), true, milliseconds(25));
  // smoothed = (7*80 + 160)/8 = 90 < latest 160: 9/8 * 160.
  EXPECT_EQ(rtt.loss_delay(), milliseconds(180));
}

TEST(RttEstimator, GranularityFloorsPtoAndLossDelay) {
  RttEstimator rtt;
  rtt.on_sample(at(0_ms), microseconds(100), Duration::zero(), true, milliseconds(25));
  // 4 * rttvar = 200 us is below the 1 ms granularity.
  EXPECT_EQ(rtt.pto_duration(Duration::zero()), microseconds(1100));
  EXPECT_EQ(rtt.loss_delay(), milliseconds(1));
  EXPECT_EQ(rtt.persistent_congestion_duration(milliseconds(25)), microseconds(3 * 26100));
}

TEST(RttEstimator, ResetAndInitialRtt) {
  RttEstimator rtt(milliseconds(50));
  EXPECT_EQ(rtt.smoothed_rtt(), milliseconds(50));
  rtt.on_sample(at(0_ms), milliseconds(10), Duration::zero(), true, milliseconds(25));
  rtt.set_initial_rtt(milliseconds(200));  // takes effect at the next reset
  EXPECT_EQ(rtt.smoothed_rtt(), milliseconds(10));
  rtt.reset();
  EXPECT_FALSE(rtt.has_sample());
  EXPECT_EQ(rtt.smoothed_rtt(), milliseconds(200));
  EXPECT_EQ(rtt.rttvar(), milliseconds(100));
  EXPECT_EQ(rtt.latest_rtt(), Duration::zero());
  rtt.set_initial_rtt(milliseconds(40));  // no sample yet: immediate
  EXPECT_EQ(rtt.smoothed_rtt(), milliseconds(40));
  RttEstimator bad(Duration::zero());
  EXPECT_EQ(bad.smoothed_rtt(), kDefaultInitialRtt);
}

TEST(RttEstimator, NegativeSampleClampsToZero) {
  RttEstimator rtt;
  rtt.on_sample(at(0_ms), -milliseconds(5), Duration::zero(), true, milliseconds(25));
  EXPECT_EQ(rtt.latest_rtt(), Duration::zero());
  EXPECT_EQ(rtt.pto_duration(Duration::zero()), kGranularity);
}

}  // namespace
}  // namespace roam::recovery
