#include "recovery/loss_based_controller.h"

#include <algorithm>

namespace roam::recovery {

std::size_t initial_window(std::size_t max_datagram_size, std::size_t packets) {
  const std::size_t cap = std::max<std::size_t>(14720, 2 * max_datagram_size);
  return std::min(packets * max_datagram_size, cap);
}

LossBasedController::LossBasedController(const CongestionConfig& config)
    : max_datagram_size_(std::max(config.max_datagram_size, kMinMaxDatagramSize)),
      config_(config) {
  config_.minimum_window_packets = std::max<std::size_t>(config_.minimum_window_packets, 1);
  config_.initial_window_packets =
      std::max(config_.initial_window_packets, config_.minimum_window_packets);
  minimum_window_ = config_.minimum_window_packets * max_datagram_size_;
  initial_window_ = std::max(initial_window(max_datagram_size_, config_.initial_window_packets), minimum_window_);
  cwnd_ = initial_window_;
}

void LossBasedController::on_packet_sent(Instant now, std::size_t bytes) {
  if (recovery_send_allowed_ && bytes_in_flight_ + bytes > cwnd_) recovery_send_allowed_ = false;
  bytes_in_flight_ += bytes;
  // A window that cannot take another full-sized packet counts as fully used.
  if (app_limited_ && bytes_in_flight_ + max_datagram_size_ > cwnd_) {
    app_limited_ = false;
    on_app_limited_period(now - app_limited_since_);
  }
}

void LossBasedController::on_packets_acked(std::span<const SentPacket> acked, Instant now,
                                           const RttEstimator& rtt) {
  for (const SentPacket& p : acked) {
    if (!p.in_flight) continue;
    bytes_in_flight_ -= std::min<std::size_t>(p.bytes, bytes_in_flight_);
    if (in_congestion_recovery(p.time_sent)) continue;
    // A packet sent after the recovery period started was acknowledged: the period is over.
    in_recovery_ = false;
    recovery_send_allowed_ = false;
    if (app_limited_) continue;
    if (cwnd_ < ssthresh_) {
      cwnd_ += p.bytes;  // slow start
    } else {
      grow_in_avoidance(p, now, rtt);
    }
  }
}

void LossBasedController::on_packets_lost(std::span<const SentPacket> lost, Instant now) {
  std::optional<Instant> newest_lost;
  for (const SentPacket& p : lost) {
    if (!p.in_flight) continue;
    bytes_in_flight_ -= std::min<std::size_t>(p.bytes, bytes_in_flight_);
    if (p.mtu_probe) continue;
    if (!newest_lost || p.time_sent > *newest_lost) newest_lost = p.time_sent;
  }
  if (newest_lost) on_congestion_event(*newest_lost, now);
}

void LossBasedController::on_congestion_event(Instant sent_time, Instant now) {
  if (in_congestion_recovery(sent_time)) return;
  recovery_start_ = now;
  in_recovery_ = true;
  reduce_window(now);
  cwnd_ = std::max(cwnd_, minimum_window_);
  recovery_send_allowed_ = true;
}

void LossBasedController::on_ecn_ce(Instant sent_time, Instant now) { on_congestion_event(sent_time, now); }

void LossBasedController::on_persistent_congestion(Instant /*now*/) {
  cwnd_ = minimum_window_;
  recovery_start_.reset();
  in_recovery_ = false;
  recovery_send_allowed_ = false;
  on_window_collapsed();
}

void LossBasedController::on_packet_discarded(std::size_t bytes) {
  bytes_in_flight_ -= std::min(bytes, bytes_in_flight_);
}

void LossBasedController::on_app_limited(Instant now) {
  if (app_limited_ || bytes_in_flight_ >= cwnd_) return;
  app_limited_ = true;
  app_limited_since_ = now;
}

void LossBasedController::set_max_datagram_size(std::size_t bytes) {
  bytes = std::max(bytes, kMinMaxDatagramSize);
  if (bytes == max_datagram_size_) return;
  const bool untouched = cwnd_ == initial_window_ && ssthresh_ == kInfiniteWindow;
  max_datagram_size_ = bytes;
  minimum_window_ = config_.minimum_window_packets * max_datagram_size_;
  initial_window_ = std::max(initial_window(max_datagram_size_, config_.initial_window_packets), minimum_window_);
  if (untouched) cwnd_ = initial_window_;
  cwnd_ = std::max(cwnd_, minimum_window_);
  if (ssthresh_ != kInfiniteWindow) ssthresh_ = std::max(ssthresh_, minimum_window_);
}

void LossBasedController::reset() {
  cwnd_ = initial_window_;
  ssthresh_ = kInfiniteWindow;
  recovery_start_.reset();
  in_recovery_ = false;
  recovery_send_allowed_ = false;
  app_limited_ = false;
  on_reset();
}

bool LossBasedController::can_send(std::size_t bytes) const {
  return bytes_in_flight_ + bytes <= cwnd_ || recovery_send_allowed_;
}

std::size_t LossBasedController::available() const {
  return bytes_in_flight_ >= cwnd_ ? 0 : cwnd_ - bytes_in_flight_;
}

}  // namespace roam::recovery
