// Loss detection for one connection (RFC 9002 section 6 and appendix A): three packet number
// spaces, acknowledgment processing, packet- and time-threshold loss, the probe timeout and the
// single loss detection timer, persistent congestion.
//
// Packet number spaces belong to the connection, RTT and congestion state to paths. Every sent
// packet names its path; when acks and losses arrive, the detector looks the path up through
// PathRecoveryLookup and updates that path's RttEstimator (before detecting losses, which use
// it) and CongestionController itself, so the connection only has to act on the frames of the
// packets it gets back (by their token). A path that no longer exists is skipped.
//
// Results are views into buffers owned by the detector: valid until its next non-const call.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <ranges>
#include <span>
#include <vector>

#include "common/error.h"
#include "recovery/path_recovery.h"
#include "recovery/recovery_config.h"
#include "recovery/sent_packet.h"
#include "recovery/sent_packet_log.h"

namespace roam::recovery {

class PathRecoveryLookup {
 public:
  // The recovery state of a path, or nullptr if the path is gone.
  virtual PathRecovery* find(PathId path) = 0;

 protected:
  ~PathRecoveryLookup() = default;
};

// A lookup for a connection with a single path (and tests).
class SinglePathLookup final : public PathRecoveryLookup {
 public:
  SinglePathLookup(PathId id, PathRecovery& path) : id_(id), path_(&path) {}
  PathRecovery* find(PathId path) override { return path == id_ ? path_ : nullptr; }

 private:
  PathId id_;
  PathRecovery* path_;
};

enum class Role : std::uint8_t { kClient, kServer };

struct RttSample {
  PathId path;              // whose estimator took the sample
  Duration latest_rtt{};
  Duration ack_delay{};     // as reported (zero for Initial), before any max_ack_delay cap
  Instant largest_acked_time_sent{};
};

struct AckOutcome {
  std::span<const SentPacket> acked;   // newly acknowledged, descending packet number
  std::span<const SentPacket> lost;    // newly declared lost in this space, ascending
  std::optional<RttSample> rtt_sample;
  bool ecn_ce_increased = false;       // a congestion event was signalled for ECN-CE
  bool persistent_congestion = false;  // established on at least one path
};

struct ProbeRequest {
  Space space = Space::kInitial;
  std::uint8_t count = 1;     // ack-eliciting datagrams to send, not blocked by the window
  bool anti_deadlock = false; // client with nothing in flight: a Handshake packet if it has the
                              // keys, else an Initial padded to 1200 bytes
};

struct TimeoutOutcome {
  std::span<const SentPacket> lost;     // time-threshold losses
  std::optional<ProbeRequest> probe;    // PTO expired
  bool persistent_congestion = false;
};

class LossDetector {
 public:
  LossDetector(Role role, PathRecoveryLookup& paths, const RecoveryConfig& config = {});

  // Records a packet sent at packet.time_sent. Every packet must be recorded, ACK-only ones too
  // (not ack-eliciting, not in flight): packet numbers increase within a space and numbers jumped
  // over count as never sent, so that the peer acknowledging them is a PROTOCOL_VIOLATION (the
  // optimistic-ACK defence of RFC 9000 21.4 is skipping a number on purpose). In-flight packets
  // are charged to their path's congestion controller and pacer. kInternalError for a packet
  // number that does not increase, or a discarded space.
  Status on_packet_sent(Space space, const SentPacket& packet);

  // Processes an ACK frame received at `now` in `space`: ranges largest first as in the frame,
  // ack_delay decoded with the peer's exponent, ecn_ce_count present when the frame carried ECN
  // counts that the connection validated (RFC 9000 13.4.2). Errors: kFrameEncodingError for
  // ranges out of order, kProtocolViolation for an acknowledgment of a packet never sent.
  //
  // Cost: O(ranges * log n) plus the packets newly acked or lost. Ranges are intersected with the
  // log, never walked pn by pn. Between ACKs the log holds at most packet_threshold entries at or
  // below the largest acknowledged (older ones were acked or declared lost and dropped), so
  // re-acknowledged ranges cost O(1) each.
  Result<AckOutcome> on_ack_received(Space space, std::span<const AckRange> ranges, Duration ack_delay,
                                     std::optional<std::uint64_t> ecn_ce_count, Instant now);
  // The same for any range of records with `smallest` and `largest` members (e.g. the wire
  // module's decoded ACK ranges), copied into a reused buffer.
  template <std::ranges::input_range Ranges>
    requires(!std::convertible_to<const Ranges&, std::span<const AckRange>>) &&
            requires(std::ranges::range_reference_t<const Ranges> r) {
              { r.smallest } -> std::convertible_to<std::uint64_t>;
              { r.largest } -> std::convertible_to<std::uint64_t>;
            }
  Result<AckOutcome> on_ack_received(Space space, const Ranges& ranges, Duration ack_delay,
                                     std::optional<std::uint64_t> ecn_ce_count, Instant now) {
    ranges_.clear();
    for (const auto& r : ranges) ranges_.push_back(AckRange{r.smallest, r.largest});
    return on_ack_received(space, std::span<const AckRange>(ranges_), ack_delay, ecn_ce_count, now);
  }

  // The loss detection timer; nullopt when not armed.
  std::optional<Instant> timeout() const { return timer_; }
  // Call when the timer expires (earlier calls do nothing): time-threshold losses, or a probe to
  // send; the PTO backoff grows.
  TimeoutOutcome on_timeout(Instant now);

  // Initial or Handshake keys discarded (or 0-RTT rejected, for kApplication): the space's
  // packets are forgotten and leave bytes in flight; they are returned so their frames can be
  // released. Timers restart and the PTO backoff resets.
  std::span<const SentPacket> discard_space(Space space, Instant now);
  // The client got a Retry (RFC 9002 6.3): Initial and 0-RTT packets are forgotten as above and
  // returned (their data goes out again), without closing the spaces.
  std::span<const SentPacket> on_retry(Instant now);

  void on_handshake_keys_available() { has_handshake_keys_ = true; }
  // Handshake confirmed: max_ack_delay now caps ack delays and the Application space gets a PTO.
  void on_handshake_confirmed(Instant now);
  // The peer's max_ack_delay transport parameter (25 ms until told otherwise).
  void set_peer_max_ack_delay(Duration max_ack_delay) { max_ack_delay_ = max_ack_delay; }
  // Server: whether it is blocked by the anti-amplification limit. When a datagram unblocks it,
  // call with false and then on_timeout(now) if timeout() <= now (RFC 9002 A.6).
  void set_amplification_limited(bool limited, Instant now);

  unsigned pto_count() const { return pto_count_; }
  bool handshake_confirmed() const { return handshake_confirmed_; }
  bool peer_completed_address_validation() const;
  std::optional<std::uint64_t> largest_acked(Space space) const { return state(space).largest_acked; }
  std::optional<Instant> loss_time(Space space) const { return state(space).loss_time; }
  std::size_t ack_eliciting_in_flight(Space space) const { return state(space).ack_eliciting_in_flight; }
  std::size_t tracked_packets(Space space) const { return state(space).log.size(); }
  Duration peer_max_ack_delay() const { return max_ack_delay_; }

 private:
  struct SpaceState {
    SentPacketLog log;
    std::optional<std::uint64_t> largest_acked;
    std::optional<Instant> loss_time;
    std::optional<Instant> last_ack_eliciting_time;
    PathId last_ack_eliciting_path{};
    std::size_t ack_eliciting_in_flight = 0;
    std::uint64_t ecn_ce = 0;
    bool discarded = false;
  };
  struct PtoTarget {
    Instant time;
    Space space;
  };
  // Persistent congestion scan state for one path (RFC 9002 7.6.2).
  struct CongestionRun {
    PathId path;
    PathRecovery* recovery = nullptr;  // nullptr: path gone or without an RTT sample, ignored
    Duration duration{};
    Instant first_sample{};
    std::optional<Instant> start;      // send time of the oldest lost packet of the current run
    bool established = false;
  };

  SpaceState& state(Space s) { return spaces_[index_of(s)]; }
  const SpaceState& state(Space s) const { return spaces_[index_of(s)]; }

  const RttEstimator& rtt_of(PathId path);
  void detect_lost(Space space, Instant now);
  bool process_lost(Space space, Instant now);
  bool detect_persistent_congestion(Space space, Instant now);
  bool ack_eliciting_in_flight_for_pto() const;
  std::optional<PtoTarget> pto_time_and_space(Instant now);
  void set_timer(Instant now);
  void drop_space_packets(Space space);

  Role role_;
  PathRecoveryLookup& paths_;
  RecoveryConfig config_;
  RttEstimator fallback_rtt_;  // for packets of paths that are gone
  std::array<SpaceState, kSpaceCount> spaces_;
  std::optional<Instant> timer_;
  unsigned pto_count_ = 0;
  Duration max_ack_delay_ = std::chrono::milliseconds(25);
  PathId last_path_{};
  bool has_handshake_keys_ = false;
  bool handshake_confirmed_ = false;
  bool received_handshake_ack_ = false;
  bool amplification_limited_ = false;

  // Reused buffers: no allocation per ACK once warmed up.
  std::vector<AckRange> ranges_;
  std::vector<SentPacket> acked_;
  std::vector<SentPacket> lost_;
  std::vector<SentPacket> removed_;
  std::vector<CongestionRun> runs_;
};

}  // namespace roam::recovery
