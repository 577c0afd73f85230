#include "recovery/sent_packet_log.h"

#include <algorithm>

namespace roam::recovery {

namespace {
constexpr std::uint64_t kMaxPacketNumber = (std::uint64_t{1} << 62) - 1;
}  // namespace

std::string_view to_string(Space space) {
  switch (space) {
    case Space::kInitial: return "initial";
    case Space::kHandshake: return "handshake";
    case Space::kApplication: return "application";
  }
  return "unknown";
}

Status SentPacketLog::push(const SentPacket& packet) {
  if (packet.pn > kMaxPacketNumber) {
    return Error{TransportError::kInternalError, "packet number beyond 2^62-1"};
  }
  if (!first_pn_) {
    first_pn_ = packet.pn;
  } else if (packet.pn < next_pn_) {
    return Error{TransportError::kInternalError, "packet numbers must increase within a space"};
  } else if (packet.pn > next_pn_) {
    skipped_.push_back({next_pn_, packet.pn - 1});
    if (skipped_.size() > kMaxSkippedRanges) skipped_.pop_front();
  }
  next_pn_ = packet.pn + 1;
  if (size_ == ring_.size()) grow();
  (*this)[size_] = Entry{packet, State::kOutstanding};
  ++size_;
  return {};
}

bool SentPacketLog::contains_unsent(std::uint64_t smallest, std::uint64_t largest) const {
  if (!first_pn_ || largest >= next_pn_ || smallest < *first_pn_) return true;
  // First skipped range that ends at or after `smallest`; it overlaps if it starts by `largest`.
  auto it = std::lower_bound(skipped_.begin(), skipped_.end(), smallest,
                             [](const AckRange& r, std::uint64_t pn) { return r.largest < pn; });
  return it != skipped_.end() && it->smallest <= largest;
}

std::size_t SentPacketLog::lower_bound(std::uint64_t pn) const {
  std::size_t lo = 0;
  std::size_t hi = size_;
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if ((*this)[mid].packet.pn < pn) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

void SentPacketLog::pop_settled() {
  while (size_ > 0 && (*this)[0].state != State::kOutstanding) {
    head_ = (head_ + 1) & (ring_.size() - 1);
    --size_;
  }
  if (size_ == 0) head_ = 0;
}

void SentPacketLog::clear() {
  head_ = 0;
  size_ = 0;
}

void SentPacketLog::grow() {
  std::vector<Entry> bigger(ring_.empty() ? 64 : ring_.size() * 2);
  for (std::size_t i = 0; i < size_; ++i) bigger[i] = (*this)[i];
  ring_ = std::move(bigger);
  head_ = 0;
}

}  // namespace roam::recovery
