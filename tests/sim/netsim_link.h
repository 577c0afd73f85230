// One direction of a simulated network link and the NAT element, in virtual time.
//
// A Link decides, for each datagram offered to it at time `now`, whether the network drops it and
// otherwise when it arrives: random loss (Bernoulli, or Gilbert-Elliott bursts), MTU, a rate limit
// with a drop-tail queue, one-way delay, jitter and occasional extra delay (reordering). Every
// parameter may be changed between two datagrams (Link::config() is mutable), e.g. from an event
// the Network runs at a chosen virtual time. All randomness comes from the Random it is given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/random.h"
#include "common/socket_address.h"
#include "common/types.h"

namespace roam::sim {

// Two-state burst loss (Gilbert-Elliott): in the good state datagrams are lost with loss_good, in
// the bad state with loss_bad; before each datagram the state flips with the given probability.
struct GilbertElliott {
  double p_good_to_bad = 0.0;
  double p_bad_to_good = 1.0;
  double loss_good = 0.0;
  double loss_bad = 1.0;
};

struct LinkConfig {
  bool up = true;                  // a down link drops everything
  Duration delay = std::chrono::milliseconds(10);  // one-way propagation delay
  Duration jitter = Duration::zero();              // extra delay, uniform in [0, jitter]
  double loss = 0.0;               // independent loss probability (ignored when burst is set)
  std::optional<GilbertElliott> burst;
  double reorder = 0.0;            // probability that a datagram gets reorder_delay on top
  Duration reorder_delay = std::chrono::milliseconds(5);
  std::uint64_t rate_bytes_per_s = 0;   // 0: unlimited
  std::size_t queue_bytes = 64 * 1024;  // drop-tail queue in front of a rate-limited link
  std::size_t mtu = 1500;               // UDP payload bytes; larger datagrams are dropped
};

struct LinkStats {
  std::uint64_t offered = 0;
  std::uint64_t delivered = 0;  // scheduled for arrival (the receiving side may still drop)
  std::uint64_t bytes_delivered = 0;
  std::uint64_t dropped_down = 0;
  std::uint64_t dropped_loss = 0;
  std::uint64_t dropped_queue = 0;
  std::uint64_t dropped_mtu = 0;
  std::uint64_t reordered = 0;  // got the extra reorder delay
  std::uint64_t dropped() const { return dropped_down + dropped_loss + dropped_queue + dropped_mtu; }
};

class Link {
 public:
  Link(const LinkConfig& config, Random& random) : config_(config), random_(random) {}

  LinkConfig& config() { return config_; }
  const LinkConfig& config() const { return config_; }
  const LinkStats& stats() const { return stats_; }

  // The arrival time of a datagram of `size` bytes sent at `now`, or nullopt if it is dropped.
  std::optional<Instant> transmit(Instant now, std::size_t size);

 private:
  bool lost();
  bool chance(double p);

  LinkConfig config_;
  Random& random_;
  LinkStats stats_;
  bool bad_state_ = false;
  Instant busy_until_{};  // the rate limiter finishes serialising its queue at this time
};

// A NAT at a host's egress: datagrams leaving `inside` get the source address `outside`, and
// datagrams arriving for `outside` are delivered to `inside`. rebind() moves the mapping to a new
// outside address (NAT rebinding): datagrams that arrive for the old one are dropped.
class Nat {
 public:
  Nat(const SocketAddress& inside, const SocketAddress& outside) : inside_(inside), outside_(outside) {}

  const SocketAddress& inside() const { return inside_; }
  const SocketAddress& outside() const { return outside_; }
  void rebind(const SocketAddress& new_outside) {
    outside_ = new_outside;
    ++rebinds_;
  }
  void rebind_port(std::uint16_t port) { rebind(outside_.with_port(port)); }
  std::uint64_t rebinds() const { return rebinds_; }
  std::uint64_t dropped_unmapped() const { return dropped_unmapped_; }

  // Egress: the rewritten source, or nullopt if `src` is not the inside address.
  std::optional<SocketAddress> translate_out(const SocketAddress& src) const {
    if (src != inside_) return std::nullopt;
    return outside_;
  }
  // Ingress: the inside address for `dst`, or nullopt if `dst` is not the current outside address.
  std::optional<SocketAddress> translate_in(const SocketAddress& dst) const {
    if (dst != outside_) return std::nullopt;
    return inside_;
  }
  void count_unmapped() { ++dropped_unmapped_; }

 private:
  SocketAddress inside_;
  SocketAddress outside_;
  std::uint64_t rebinds_ = 0;
  std::uint64_t dropped_unmapped_ = 0;
};

}  // namespace roam::sim
