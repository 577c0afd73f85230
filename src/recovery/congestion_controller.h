// The congestion controller of one path (RFC 9002 section 7), as an interface with two
// implementations: NewReno (RFC 9002 B) and CUBIC (RFC 9438). Created by make_congestion_controller.
//
// Who calls what: the LossDetector reports sent, acknowledged, lost and discarded packets and
// congestion signals (loss, ECN-CE, persistent congestion); the connection asks can_send() before
// building a packet that is not a probe, tells on_app_limited() when it ran out of data while the
// window still had room, and set_max_datagram_size() when the path MTU changes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string_view>

#include "common/types.h"
#include "recovery/rtt_estimator.h"
#include "recovery/sent_packet.h"

namespace roam::recovery {

enum class CongestionAlgorithm : std::uint8_t { kNewReno, kCubic };
std::string_view to_string(CongestionAlgorithm algorithm);

inline constexpr std::size_t kMinMaxDatagramSize = 1200;  // RFC 9000 14
inline constexpr std::size_t kInfiniteWindow = std::numeric_limits<std::size_t>::max();

struct CongestionConfig {
  std::size_t max_datagram_size = kMinMaxDatagramSize;
  std::size_t initial_window_packets = 10;  // RFC 9002 7.2, capped at max(14720, 2 * size) bytes
  std::size_t minimum_window_packets = 2;   // kMinimumWindow = 2 * max_datagram_size
  bool cubic_fast_convergence = true;       // RFC 9438 4.7
};

// Initial window for a datagram size: min(10 * size, max(14720, 2 * size)) (RFC 9002 7.2), with
// `packets` in place of 10.
std::size_t initial_window(std::size_t max_datagram_size, std::size_t packets = 10);

class CongestionController {
 public:
  virtual ~CongestionController() = default;
  virtual CongestionAlgorithm algorithm() const = 0;

  // An in-flight packet of `bytes` was sent (OnPacketSentCC).
  virtual void on_packet_sent(Instant now, std::size_t bytes) = 0;
  // Newly acknowledged packets of this path; packets not in flight are skipped.
  virtual void on_packets_acked(std::span<const SentPacket> acked, Instant now, const RttEstimator& rtt) = 0;
  // Packets of this path declared lost: removed from flight, and a congestion event for the
  // newest in-flight one (OnPacketsLost without the persistent-congestion part).
  virtual void on_packets_lost(std::span<const SentPacket> lost, Instant now) = 0;
  // A congestion signal about a packet sent at `sent_time`. Enters a recovery period unless that
  // packet was sent before the current one started (one reduction per round trip).
  virtual void on_congestion_event(Instant sent_time, Instant now) = 0;
  // The peer's ECN-CE count increased; `sent_time` is that of the largest acknowledged packet.
  virtual void on_ecn_ce(Instant sent_time, Instant now) = 0;
  // Persistent congestion was established on this path: the window drops to the minimum.
  virtual void on_persistent_congestion(Instant now) = 0;
  // An in-flight packet will never be acked or declared lost (its keys were discarded).
  virtual void on_packet_discarded(std::size_t bytes) = 0;
  // The sender had nothing to send although the window had room: until the window is full again
  // acknowledgments do not grow it (RFC 9002 7.8). Ignored when the window is already full.
  virtual void on_app_limited(Instant now) = 0;
  // Path MTU changed. The minimum and initial windows follow; a window still at its initial value
  // becomes the new initial window (RFC 9002 7.2).
  virtual void set_max_datagram_size(std::size_t bytes) = 0;
  // Back to the initial state for a new path (RFC 9000 9.4). Bytes in flight are kept: those
  // packets are still tracked and will be acked, lost or discarded.
  virtual void reset() = 0;
  // A copy of this controller's window and state with nothing in flight, for a path that
  // inherits it (a NAT rebinding, RFC 9000 9.4): packets sent on the old path stay with the old
  // controller, so their fate does not disturb the new path's accounting.
  virtual std::unique_ptr<CongestionController> clone_without_flight() const = 0;

  virtual std::size_t cwnd() const = 0;
  virtual std::size_t ssthresh() const = 0;  // kInfiniteWindow until the first congestion event
  virtual std::size_t bytes_in_flight() const = 0;
  virtual std::size_t max_datagram_size() const = 0;
  virtual std::size_t minimum_window() const = 0;
  // True if a non-probe packet of `bytes` may be sent now: it fits in the window, or it is the
  // one packet allowed right after entering recovery (RFC 9002 7.3.2).
  virtual bool can_send(std::size_t bytes) const = 0;
  // Bytes that fit in the window now (0 when full).
  virtual std::size_t available() const = 0;
  virtual bool in_slow_start() const = 0;
  virtual bool in_recovery() const = 0;
  virtual bool app_limited() const = 0;
};

std::unique_ptr<CongestionController> make_congestion_controller(CongestionAlgorithm algorithm,
                                                                 const CongestionConfig& config = {});

}  // namespace roam::recovery
