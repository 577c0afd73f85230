#include "recovery/pacer.h"

#include <algorithm>
#include <cmath>

namespace roam::recovery {

Pacer::Pacer(std::size_t max_datagram_size, const PacerConfig& config)
    : config_(config), max_datagram_size_(max_datagram_size) {
  if (!(config_.gain > 0)) config_.gain = 1.25;
  config_.burst_packets = std::max<std::size_t>(config_.burst_packets, 1);
  tokens_ = static_cast<double>(burst_bytes());
}

double Pacer::tokens(Instant now) const {
  const double capacity = static_cast<double>(burst_bytes());
  if (rate_ <= 0 || !last_) return std::max(tokens_, capacity);
  if (now <= *last_) return tokens_;
  const double elapsed = static_cast<double>((now - *last_).count());
  return std::min(capacity, tokens_ + elapsed * rate_);
}

void Pacer::refill(Instant now) {
  tokens_ = tokens(now);
  if (!last_ || now > *last_) last_ = now;
}

void Pacer::update_rate(Instant now, std::size_t cwnd, Duration smoothed_rtt) {
  refill(now);
  if (smoothed_rtt <= Duration::zero() || cwnd == 0) {
    rate_ = 0;
    return;
  }
  rate_ = config_.gain * static_cast<double>(cwnd) / static_cast<double>(smoothed_rtt.count());
}

std::optional<Instant> Pacer::next_send_time(Instant now, std::size_t bytes) const {
  if (rate_ <= 0) return std::nullopt;
  const double needed = std::min(static_cast<double>(bytes), static_cast<double>(burst_bytes()));
  const double have = tokens(now);
  // A hundredth of a byte of slack absorbs floating-point rounding, so that a send at exactly
  // the returned instant is allowed.
  constexpr double kSlackBytes = 0.01;
  if (have + kSlackBytes >= needed) return std::nullopt;
  const double wait_ns = std::round((needed - have) / rate_);
  // Bounded by burst / rate, which is finite since rate_ > 0; clamp against absurd inputs anyway.
  const double max_ns = 1e15;  // ~11.6 days
  return now + Duration(static_cast<Duration::rep>(std::min(std::max(wait_ns, 1.0), max_ns)));
}

void Pacer::on_packet_sent(Instant now, std::size_t bytes) {
  refill(now);
  if (rate_ <= 0) return;
  // May go negative after a batch larger than the bucket: the debt is paid back at the pacing
  // rate, so the average rate holds and the wait stays bounded by bytes / rate.
  tokens_ -= static_cast<double>(bytes);
}

void Pacer::reset() {
  tokens_ = static_cast<double>(burst_bytes());
  last_.reset();
}

}  // namespace roam::recovery
