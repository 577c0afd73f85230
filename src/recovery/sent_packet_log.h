// The sent packets of one packet number space, in packet number order, in a ring buffer that
// grows by doubling (no allocation per packet in the steady state). Entries are marked acked or
// lost in place and dropped from the front once settled. The log also remembers which packet
// numbers were never sent (below the first, skipped, at or above the next), so that an ACK of a
// packet that was never sent can be refused (RFC 9000 13.1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "common/error.h"
#include "recovery/sent_packet.h"

namespace roam::recovery {

class SentPacketLog {
 public:
  enum class State : std::uint8_t { kOutstanding, kAcked, kLost };
  struct Entry {
    SentPacket packet;
    State state = State::kOutstanding;
  };
  // Skipped packet number ranges remembered; older ones are forgotten.
  static constexpr std::size_t kMaxSkippedRanges = 64;

  // Appends a record. Its packet number must be above every one recorded before
  // (kInternalError otherwise); numbers jumped over are remembered as never sent.
  Status push(const SentPacket& packet);

  // True if any packet number in [smallest, largest] was certainly never sent.
  bool contains_unsent(std::uint64_t smallest, std::uint64_t largest) const;
  // One past the largest packet number recorded (0 before the first).
  std::uint64_t next_pn() const { return next_pn_; }

  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  Entry& operator[](std::size_t i) { return ring_[(head_ + i) & (ring_.size() - 1)]; }
  const Entry& operator[](std::size_t i) const { return ring_[(head_ + i) & (ring_.size() - 1)]; }
  // Index of the first entry whose packet number is >= pn (size() if none).
  std::size_t lower_bound(std::uint64_t pn) const;

  // Drops acked and lost entries from the front.
  void pop_settled();
  // Drops every entry; packet number history (first, next, skipped) is kept.
  void clear();

 private:
  void grow();

  std::vector<Entry> ring_;  // capacity is zero or a power of two
  std::size_t head_ = 0;
  std::size_t size_ = 0;
  std::optional<std::uint64_t> first_pn_;
  std::uint64_t next_pn_ = 0;
  std::deque<AckRange> skipped_;  // ascending, disjoint
};

}  // namespace roam::recovery
