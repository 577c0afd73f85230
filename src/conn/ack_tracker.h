// Received packet numbers of one packet number space and the ACK frames they produce
// (RFC 9000 13.2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/types.h"

namespace roam::conn {

struct PnRange {
  std::uint64_t smallest;
  std::uint64_t largest;
};

// The set of received packet numbers, as disjoint ranges sorted descending (largest first), capped
// in count. Packets below the tracked floor (the oldest dropped range) count as duplicates, so a
// replayed old packet is never processed twice (RFC 9000 12.3).
class AckTracker {
 public:
  static constexpr std::size_t kMaxRanges = 64;
  static constexpr std::size_t kAckElicitingThreshold = 2;  // RFC 9000 13.2.2

  // Records a packet. Returns false if it was a duplicate (already recorded): the caller drops it.
  bool on_packet_received(std::uint64_t pn, bool ack_eliciting, Instant now);
  bool contains(std::uint64_t pn) const;

  // True when an ACK must go out now (two ack-eliciting packets since the last ACK, or an
  // out-of-order arrival); otherwise ack_deadline() says by when.
  bool ack_immediately() const { return immediate_; }
  std::optional<Instant> ack_deadline(Duration max_ack_delay) const;
  bool has_unacked_eliciting() const { return eliciting_since_ack_ > 0; }
  bool empty() const { return ranges_.empty(); }

  // The ranges an ACK frame should report now: everything above the acknowledged floor, largest
  // first. Returns how many were written to out.
  std::size_t ack_ranges(PnRange* out, std::size_t max) const;
  bool has_ranges_to_ack() const { return !ranges_.empty() && ranges_.front().largest >= ack_floor_; }
  Instant largest_received_time() const { return largest_time_; }

  // Called when an ACK frame describing the current state was sent.
  void on_ack_sent();
  // Called when the peer acknowledged one of our packets carrying an ACK with this largest value:
  // ranges at or below it no longer need to be repeated (RFC 9000 13.2.4).
  void on_ack_frame_acked(std::uint64_t largest_acked_in_frame);

  std::optional<std::uint64_t> largest_pn() const {
    if (ranges_.empty()) return std::nullopt;
    return ranges_.front().largest;
  }

 private:
  std::vector<PnRange> ranges_;  // descending, disjoint, non-adjacent
  std::uint64_t dup_floor_ = 0;  // packet numbers below this are treated as already received
  std::uint64_t ack_floor_ = 0;  // packet numbers below this need not be acknowledged any more
  Instant largest_time_{};
  std::size_t eliciting_since_ack_ = 0;
  Instant first_unacked_eliciting_{};
  bool immediate_ = false;
  bool ack_pending_ = false;  // something new arrived since the last ACK we sent
};

}  // namespace roam::conn
