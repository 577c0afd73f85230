// Round-trip time estimation for one path (RFC 9002 section 5): latest, minimum, smoothed RTT and
// RTT variation, plus the durations derived from them (PTO, loss delay, persistent congestion).
#pragma once

#include <chrono>
#include <optional>

#include "common/types.h"

namespace roam::recovery {

inline constexpr Duration kDefaultInitialRtt = std::chrono::milliseconds(333);  // RFC 9002 6.2.2
inline constexpr Duration kGranularity = std::chrono::milliseconds(1);           // RFC 9002 6.1.2

class RttEstimator {
 public:
  explicit RttEstimator(Duration initial_rtt = kDefaultInitialRtt);

  // Feeds one RTT sample: `latest_rtt` is ack time minus the send time of the largest newly acked
  // packet, `ack_delay` the peer's decoded ACK Delay. The peer's `max_ack_delay` caps the delay
  // only once the handshake is confirmed (RFC 9002 5.3), and the delay is subtracted only when
  // the result stays at or above min_rtt. `now` is when the sample was taken.
  void on_sample(Instant now, Duration latest_rtt, Duration ack_delay, bool handshake_confirmed,
                 Duration max_ack_delay);

  // After persistent congestion, min_rtt restarts from the newest sample (RFC 9002 5.2).
  void on_persistent_congestion();

  // Back to the state before any sample (new path, RFC 9000 9.4): smoothed_rtt = initial RTT.
  void reset();
  // Changes the initial RTT (resumption, or a PATH_CHALLENGE round trip, RFC 9002 6.2.2). It takes
  // effect immediately when no sample has been taken yet, otherwise at the next reset().
  void set_initial_rtt(Duration initial_rtt);

  bool has_sample() const { return first_sample_time_.has_value(); }
  std::optional<Instant> first_sample_time() const { return first_sample_time_; }
  Duration initial_rtt() const { return initial_rtt_; }
  Duration latest_rtt() const { return latest_rtt_; }
  Duration min_rtt() const { return min_rtt_; }
  Duration smoothed_rtt() const { return smoothed_rtt_; }
  Duration rttvar() const { return rttvar_; }

  // smoothed_rtt + max(4 * rttvar, kGranularity) + max_ack_delay, without backoff (RFC 9002 6.2.1).
  // Pass zero for the Initial and Handshake spaces.
  Duration pto_duration(Duration max_ack_delay) const;
  // max(9/8 * max(smoothed_rtt, latest_rtt), kGranularity) (RFC 9002 6.1.2).
  Duration loss_delay() const;
  // PTO period with max_ack_delay, times the threshold (RFC 9002 7.6.1).
  Duration persistent_congestion_duration(Duration max_ack_delay, unsigned threshold = 3) const;

 private:
  Duration initial_rtt_;
  Duration latest_rtt_{};
  Duration min_rtt_{};
  Duration smoothed_rtt_;
  Duration rttvar_;
  std::optional<Instant> first_sample_time_;
};

}  // namespace roam::recovery
