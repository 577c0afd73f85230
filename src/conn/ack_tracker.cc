#include "conn/ack_tracker.h"

#include <algorithm>

namespace roam::conn {

bool AckTracker::contains(std::uint64_t pn) const {
  if (pn < dup_floor_) return true;
  for (const auto& r : ranges_) {
    if (pn > r.largest) return false;
    if (pn >= r.smallest) return true;
  }
  return false;
}

bool AckTracker::on_packet_received(std::uint64_t pn, bool ack_eliciting, Instant now) {
  if (pn < dup_floor_) return false;
  const bool was_empty = ranges_.empty();
  const std::uint64_t prev_largest = was_empty ? 0 : ranges_.front().largest;
  auto it = ranges_.begin();
  while (it != ranges_.end() && it->smallest > pn + 1) ++it;  // skip ranges entirely above pn + 1
  if (it != ranges_.end() && it->smallest <= pn && pn <= it->largest) return false;  // duplicate
  if (it != ranges_.end() && it->smallest == pn + 1) {
    it->smallest = pn;  // extends downward; may now touch the range below
    auto below = it + 1;
    if (below != ranges_.end() && below->largest + 1 == pn) {
      it->smallest = below->smallest;
      ranges_.erase(below);
    }
  } else if (it != ranges_.end() && it->largest + 1 == pn) {
    it->largest = pn;  // extends upward; the range above starts beyond pn + 1 by construction
  } else {
    ranges_.insert(it, PnRange{pn, pn});
    if (ranges_.size() > kMaxRanges) {
      dup_floor_ = ranges_.back().largest + 1;
      ranges_.pop_back();
    }
  }

  if (was_empty || pn > prev_largest) largest_time_ = now;
  // Out of order: a gap below the new packet, or an older packet filling a hole (13.2.1).
  const bool out_of_order = !was_empty && (pn < prev_largest || pn > prev_largest + 1);
  if (out_of_order && ack_eliciting) immediate_ = true;
  ack_pending_ = true;
  if (ack_eliciting) {
    if (eliciting_since_ack_ == 0) first_unacked_eliciting_ = now;
    ++eliciting_since_ack_;
    if (eliciting_since_ack_ >= kAckElicitingThreshold) immediate_ = true;
  }
  return true;
}

std::size_t AckTracker::ack_ranges(PnRange* out, std::size_t max) const {
  std::size_t n = 0;
  for (const auto& r : ranges_) {
    if (n == max || r.largest < ack_floor_) break;
    out[n++] = PnRange{std::max(r.smallest, ack_floor_), r.largest};
  }
  return n;
}

std::optional<Instant> AckTracker::ack_deadline(Duration max_ack_delay) const {
  if (eliciting_since_ack_ == 0) return std::nullopt;
  if (immediate_) return first_unacked_eliciting_;
  return first_unacked_eliciting_ + max_ack_delay;
}

void AckTracker::on_ack_sent() {
  eliciting_since_ack_ = 0;
  immediate_ = false;
  ack_pending_ = false;
}

void AckTracker::on_ack_frame_acked(std::uint64_t largest_acked_in_frame) {
  // RFC 9000 13.2.4: packets at or below the Largest Acknowledged of an ACK frame the peer has
  // seen need not be reported again. Keep the newest packet reportable so an ACK is never empty.
  const std::uint64_t floor = largest_acked_in_frame + 1;
  if (!ranges_.empty() && floor <= ranges_.front().largest) ack_floor_ = std::max(ack_floor_, floor);
}

}  // namespace roam::conn
