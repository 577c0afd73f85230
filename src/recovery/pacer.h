// Pacing (RFC 9002 7.7) as a token bucket: tokens (bytes) refill at N * cwnd / smoothed_rtt with
// N = 1.25, up to a burst of `burst_packets` full-sized datagrams (the initial window by default).
// Only in-flight packets are paced; ACK-only packets go out at once.
#pragma once

#include <cstddef>
#include <optional>

#include "common/types.h"

namespace roam::recovery {

struct PacerConfig {
  double gain = 1.25;              // N
  std::size_t burst_packets = 10;  // bucket capacity in datagrams
};

class Pacer {
 public:
  explicit Pacer(std::size_t max_datagram_size = 1200, const PacerConfig& config = {});

  // Sets the rate to gain * cwnd / smoothed_rtt, first crediting the time since the last update
  // at the old rate. A zero smoothed_rtt disables pacing.
  void update_rate(Instant now, std::size_t cwnd, Duration smoothed_rtt);
  void set_max_datagram_size(std::size_t bytes) { max_datagram_size_ = bytes; }

  // When `bytes` (one packet, or a whole GSO batch) may be sent: nullopt means now, otherwise the
  // instant the bucket holds enough tokens. A request larger than the bucket is allowed once the
  // bucket is full, so pacing never stalls; the bucket then goes negative and later sends wait.
  std::optional<Instant> next_send_time(Instant now, std::size_t bytes) const;
  void on_packet_sent(Instant now, std::size_t bytes);

  // Full bucket again (new path).
  void reset();

  std::size_t burst_bytes() const { return config_.burst_packets * max_datagram_size_; }
  double rate_bytes_per_second() const { return rate_ * 1e9; }  // 0 when unpaced
  double tokens(Instant now) const;

 private:
  void refill(Instant now);

  PacerConfig config_;
  std::size_t max_datagram_size_;
  double rate_ = 0;  // bytes per nanosecond; 0 means unpaced
  double tokens_;
  std::optional<Instant> last_;
};

}  // namespace roam::recovery
