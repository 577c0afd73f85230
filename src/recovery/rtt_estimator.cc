#include "recovery/rtt_estimator.h"

#include <algorithm>

namespace roam::recovery {

RttEstimator::RttEstimator(Duration initial_rtt)
    : initial_rtt_(initial_rtt > Duration::zero() ? initial_rtt : kDefaultInitialRtt),
      smoothed_rtt_(initial_rtt_),
      rttvar_(initial_rtt_ / 2) {}

void RttEstimator::on_sample(Instant now, Duration latest_rtt, Duration ack_delay,
                             bool handshake_confirmed, Duration max_ack_delay) {
  latest_rtt_ = std::max(latest_rtt, Duration::zero());
  if (!first_sample_time_) {
    min_rtt_ = latest_rtt_;
    smoothed_rtt_ = latest_rtt_;
    rttvar_ = latest_rtt_ / 2;
    first_sample_time_ = now;
    return;
  }
  // min_rtt ignores the acknowledgment delay.
  min_rtt_ = std::min(min_rtt_, latest_rtt_);
  if (handshake_confirmed) ack_delay = std::min(ack_delay, max_ack_delay);
  ack_delay = std::max(ack_delay, Duration::zero());
  // Subtract the delay only if the result is not below min_rtt. Written as a difference so that a
  // huge peer-reported delay cannot overflow the sum min_rtt + ack_delay.
  Duration adjusted = latest_rtt_;
  if (latest_rtt_ - min_rtt_ >= ack_delay) adjusted = latest_rtt_ - ack_delay;
  // RFC 9002 A.7 order (as RFC 6298): rttvar uses the smoothed_rtt before this sample.
  const Duration deviation = smoothed_rtt_ > adjusted ? smoothed_rtt_ - adjusted : adjusted - smoothed_rtt_;
  rttvar_ = (3 * rttvar_ + deviation) / 4;
  smoothed_rtt_ = (7 * smoothed_rtt_ + adjusted) / 8;
}

void RttEstimator::on_persistent_congestion() {
  if (first_sample_time_) min_rtt_ = latest_rtt_;
}

void RttEstimator::reset() {
  latest_rtt_ = Duration::zero();
  min_rtt_ = Duration::zero();
  smoothed_rtt_ = initial_rtt_;
  rttvar_ = initial_rtt_ / 2;
  first_sample_time_.reset();
}

void RttEstimator::set_initial_rtt(Duration initial_rtt) {
  if (initial_rtt <= Duration::zero()) return;
  initial_rtt_ = initial_rtt;
  if (!first_sample_time_) reset();
}

Duration RttEstimator::pto_duration(Duration max_ack_delay) const {
  return smoothed_rtt_ + std::max(4 * rttvar_, kGranularity) + std::max(max_ack_delay, Duration::zero());
}

Duration RttEstimator::loss_delay() const {
  const Duration base = std::max(smoothed_rtt_, latest_rtt_);
  return std::max(base + base / 8, kGranularity);
}

Duration RttEstimator::persistent_congestion_duration(Duration max_ack_delay, unsigned threshold) const {
  return pto_duration(max_ack_delay) * threshold;
}

}  // namespace roam::recovery
