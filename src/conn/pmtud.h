// Datagram packetization layer PMTU discovery for one path (RFC 8899 DPLPMTUD, as RFC 9000 14.3
// applies it to QUIC): start from the 1200-byte base every QUIC path supports, send padded PING
// probes of larger sizes, and raise the path's datagram size when one is acknowledged.
//
// Search: the largest candidate first (most paths carry a full Ethernet MTU), then a binary search
// between the largest size confirmed and the smallest size that failed, down to kGranularity. A
// size fails after kMaxProbes unacknowledged probes. Probe losses are not congestion signals (RFC
// 9000 14.4). A path whose packets stop being acknowledged at all (repeated probe timeouts: maybe
// a black hole, the route's MTU shrank) goes back to the base and searches again. After the
// search, a new one starts when kRaiseInterval has passed (RFC 8899 5.1.1 PMTU_RAISE_TIMER).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/types.h"

namespace roam::conn {

class PmtuSearch {
 public:
  static constexpr std::size_t kBase = 1200;
  static constexpr std::size_t kGranularity = 16;
  static constexpr unsigned kMaxProbes = 3;
  static constexpr Duration kRaiseInterval = std::chrono::minutes(10);

  // `max`: the largest UDP payload the path may carry (local limit and the peer's
  // max_udp_payload_size); 0 or <= kBase disables the search.
  explicit PmtuSearch(std::size_t max = 0) : max_(max), high_(max) {}

  std::size_t current() const { return current_; }
  bool searching() const { return max_ > current_ && !done_; }
  // The size of the probe to send now, if one is due.
  std::optional<std::size_t> probe_due(Instant now) const;
  void on_probe_sent(std::size_t size, Instant now);
  // Returns true if current() changed.
  bool on_probe_acked(std::size_t size);
  void on_probe_lost(std::size_t size, Instant now);
  // Repeated probe timeouts on the path: if above the base, fall back to it and search again
  // (RFC 8899 4.3 black hole detection). Returns true if current() changed.
  bool on_black_hole_suspected();

 private:
  std::size_t next_candidate() const;

  std::size_t max_;
  std::size_t current_ = kBase;    // confirmed
  std::size_t high_;               // smallest size known not to work, or max_ (untested) + 1
  bool max_tried_ = false;
  std::size_t in_flight_ = 0;      // size of the outstanding probe (0: none)
  unsigned failures_ = 0;          // unacknowledged probes of the current candidate
  bool done_ = false;
  std::optional<Instant> raise_at_;
};

}  // namespace roam::conn
