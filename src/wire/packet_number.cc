#include "wire/packet_number.h"

namespace roam::wire {

std::size_t packet_number_length(std::uint64_t full_pn, std::uint64_t largest_acked, bool has_acked) {
  const std::uint64_t num_unacked = has_acked ? full_pn - largest_acked : full_pn + 1;
  // The encoding must represent at least twice the number of unacknowledged packets.
  const std::uint64_t range = 2 * num_unacked;
  if (range < (1ull << 8)) return 1;
  if (range < (1ull << 16)) return 2;
  if (range < (1ull << 24)) return 3;
  return 4;
}

std::uint64_t decode_packet_number(std::uint64_t largest_pn, bool has_largest, std::uint64_t truncated_pn,
                                   unsigned pn_nbits) {
  const std::uint64_t expected = has_largest ? largest_pn + 1 : 0;
  const std::uint64_t win = 1ull << pn_nbits;
  const std::uint64_t hwin = win / 2;
  const std::uint64_t mask = win - 1;
  const std::uint64_t candidate = (expected & ~mask) | truncated_pn;
  // Written to avoid unsigned underflow and overflow past 2^62 (RFC 9000 A.3).
  if (candidate + hwin <= expected && candidate < (1ull << 62) - win) return candidate + win;
  if (candidate > expected + hwin && candidate >= win) return candidate - win;
  return candidate;
}

}  // namespace roam::wire
