// Packet number encoding and decoding (RFC 9000 section 17.1, appendices A.2 and A.3).
#pragma once

#include <cstddef>
#include <cstdint>

namespace roam::wire {

inline constexpr std::uint64_t kMaxPacketNumber = (1ull << 62) - 1;

// Number of bytes (1..4) needed to send full_pn so that a receiver that has acknowledged
// largest_acked (or nothing: has_acked false) can decode it: twice the unacknowledged range plus one.
std::size_t packet_number_length(std::uint64_t full_pn, std::uint64_t largest_acked, bool has_acked);

// Reconstructs a full packet number from its truncated form of pn_nbits bits, given the largest
// packet number successfully processed in the space (or nothing: has_largest false).
std::uint64_t decode_packet_number(std::uint64_t largest_pn, bool has_largest, std::uint64_t truncated_pn,
                                   unsigned pn_nbits);

}  // namespace roam::wire
