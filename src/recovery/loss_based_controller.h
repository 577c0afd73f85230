// The part NewReno and CUBIC share (RFC 9002 B): bytes-in-flight accounting, slow start, the
// recovery period, the minimum and initial windows, application-limited periods. Subclasses
// decide how the window grows in congestion avoidance and how it shrinks on a congestion event.
#pragma once

#include <optional>

#include "recovery/congestion_controller.h"

namespace roam::recovery {

class LossBasedController : public CongestionController {
 public:
  explicit LossBasedController(const CongestionConfig& config);

  void on_packet_sent(Instant now, std::size_t bytes) final;
  void on_packets_acked(std::span<const SentPacket> acked, Instant now, const RttEstimator& rtt) final;
  void on_packets_lost(std::span<const SentPacket> lost, Instant now) final;
  void on_congestion_event(Instant sent_time, Instant now) final;
  void on_ecn_ce(Instant sent_time, Instant now) final;
  void on_persistent_congestion(Instant now) final;
  void on_packet_discarded(std::size_t bytes) final;
  void on_app_limited(Instant now) final;
  void set_max_datagram_size(std::size_t bytes) final;
  void reset() final;

  std::size_t cwnd() const final { return cwnd_; }
  std::size_t ssthresh() const final { return ssthresh_; }
  std::size_t bytes_in_flight() const final { return bytes_in_flight_; }
  std::size_t max_datagram_size() const final { return max_datagram_size_; }
  std::size_t minimum_window() const final { return minimum_window_; }
  bool can_send(std::size_t bytes) const final;
  std::size_t available() const final;
  bool in_slow_start() const final { return cwnd_ < ssthresh_; }
  bool in_recovery() const final { return in_recovery_; }
  bool app_limited() const final { return app_limited_; }

 protected:
  // Congestion avoidance growth for one acked in-flight packet (not app-limited, not in recovery,
  // cwnd >= ssthresh).
  virtual void grow_in_avoidance(const SentPacket& packet, Instant now, const RttEstimator& rtt) = 0;
  // Entering a recovery period: set ssthresh_ and cwnd_ (cwnd_ at least minimum_window_).
  virtual void reduce_window(Instant now) = 0;
  // Persistent congestion: cwnd_ is already the minimum window.
  virtual void on_window_collapsed() {}
  // The sender stopped being application-limited after `length`.
  virtual void on_app_limited_period(Duration /*length*/) {}
  // reset() was called; subclass state back to initial.
  virtual void on_reset() {}
  void clear_flight() { bytes_in_flight_ = 0; }

  std::size_t cwnd_;
  std::size_t ssthresh_ = kInfiniteWindow;
  std::size_t max_datagram_size_;
  std::size_t minimum_window_;

 private:
  bool in_congestion_recovery(Instant sent_time) const {
    return recovery_start_ && sent_time <= *recovery_start_;
  }

  CongestionConfig config_;
  std::size_t initial_window_;
  std::size_t bytes_in_flight_ = 0;
  std::optional<Instant> recovery_start_;  // congestion_recovery_start_time
  bool in_recovery_ = false;
  bool recovery_send_allowed_ = false;     // one packet may exceed the window after a reduction
  bool app_limited_ = false;
  Instant app_limited_since_{};
};

}  // namespace roam::recovery
