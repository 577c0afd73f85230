// Stream ID rules (RFC 9000 section 2.1): the two low bits name the initiator and the direction,
// the remaining bits count the streams of that type.
#pragma once

#include <cstdint>

#include "common/types.h"

namespace roam::streams {

enum class Side : std::uint8_t { kClient, kServer };
enum class Direction : std::uint8_t { kBidi, kUni };

// Largest stream ID a varint can carry, and the largest stream count (MAX_STREAMS) that keeps every
// ID of a type below it (RFC 9000 4.6).
inline constexpr std::uint64_t kMaxStreamId = (1ull << 62) - 1;
inline constexpr std::uint64_t kMaxStreamCount = 1ull << 60;
// Largest stream offset / final size (RFC 9000 19.8).
inline constexpr std::uint64_t kMaxStreamOffset = (1ull << 62) - 1;

constexpr Side peer_of(Side s) { return s == Side::kClient ? Side::kServer : Side::kClient; }

constexpr Side initiator(StreamId id) { return (id.value & 0x1) ? Side::kServer : Side::kClient; }
constexpr Direction direction(StreamId id) { return (id.value & 0x2) ? Direction::kUni : Direction::kBidi; }
constexpr bool is_bidi(StreamId id) { return direction(id) == Direction::kBidi; }
constexpr bool is_uni(StreamId id) { return direction(id) == Direction::kUni; }
// Position of the stream among the streams of its type: 0 for the first one.
constexpr std::uint64_t stream_index(StreamId id) { return id.value >> 2; }

// Precondition: index < kMaxStreamCount.
constexpr StreamId make_stream_id(Side init, Direction dir, std::uint64_t index) {
  return StreamId{index << 2 | (dir == Direction::kUni ? 0x2u : 0x0u) | (init == Side::kServer ? 0x1u : 0x0u)};
}

// Seen from endpoint `self`.
constexpr bool is_local(StreamId id, Side self) { return initiator(id) == self; }
// True when `self` has a sending part on the stream: bidirectional, or unidirectional opened by self.
constexpr bool has_send_part(StreamId id, Side self) { return is_bidi(id) || is_local(id, self); }
// True when `self` has a receiving part: bidirectional, or unidirectional opened by the peer.
constexpr bool has_recv_part(StreamId id, Side self) { return is_bidi(id) || !is_local(id, self); }

constexpr int direction_index(Direction d) { return d == Direction::kBidi ? 0 : 1; }

}  // namespace roam::streams
