// The stream-related control frames (RFC 9000 19.4, 19.5, 19.9-19.14) as plain values: the stream
// manager queues them, the connection encodes them, and reports them back when the packet carrying
// them is acknowledged or lost.
#pragma once

#include <cstddef>
#include <cstdint>
#include <variant>

#include "common/types.h"
#include "streams/stream_id.h"

namespace roam::streams {

struct ResetStreamFrame {  // 0x04
  StreamId id;
  std::uint64_t error_code = 0;
  std::uint64_t final_size = 0;
  bool operator==(const ResetStreamFrame&) const = default;
};
struct StopSendingFrame {  // 0x05
  StreamId id;
  std::uint64_t error_code = 0;
  bool operator==(const StopSendingFrame&) const = default;
};
struct MaxDataFrame {  // 0x10
  std::uint64_t maximum_data = 0;
  bool operator==(const MaxDataFrame&) const = default;
};
struct MaxStreamDataFrame {  // 0x11
  StreamId id;
  std::uint64_t maximum_stream_data = 0;
  bool operator==(const MaxStreamDataFrame&) const = default;
};
struct MaxStreamsFrame {  // 0x12 bidirectional, 0x13 unidirectional
  Direction dir = Direction::kBidi;
  std::uint64_t maximum_streams = 0;
  bool operator==(const MaxStreamsFrame&) const = default;
};
struct DataBlockedFrame {  // 0x14
  std::uint64_t maximum_data = 0;
  bool operator==(const DataBlockedFrame&) const = default;
};
struct StreamDataBlockedFrame {  // 0x15
  StreamId id;
  std::uint64_t maximum_stream_data = 0;
  bool operator==(const StreamDataBlockedFrame&) const = default;
};
struct StreamsBlockedFrame {  // 0x16 bidirectional, 0x17 unidirectional
  Direction dir = Direction::kBidi;
  std::uint64_t maximum_streams = 0;
  bool operator==(const StreamsBlockedFrame&) const = default;
};

using ControlFrame = std::variant<ResetStreamFrame, StopSendingFrame, MaxDataFrame, MaxStreamDataFrame,
                                  MaxStreamsFrame, DataBlockedFrame, StreamDataBlockedFrame, StreamsBlockedFrame>;

// The frame type byte (for STREAMS/MAX_STREAMS it depends on the direction).
std::uint64_t frame_type(const ControlFrame& f);
// Bytes the frame takes on the wire: type plus its varint fields.
std::size_t encoded_size(const ControlFrame& f);

// Frame type codes used in errors.
inline constexpr std::uint64_t kFrameResetStream = 0x04;
inline constexpr std::uint64_t kFrameStopSending = 0x05;
inline constexpr std::uint64_t kFrameStream = 0x08;
inline constexpr std::uint64_t kFrameMaxData = 0x10;
inline constexpr std::uint64_t kFrameMaxStreamData = 0x11;
inline constexpr std::uint64_t kFrameMaxStreamsBidi = 0x12;
inline constexpr std::uint64_t kFrameMaxStreamsUni = 0x13;
inline constexpr std::uint64_t kFrameDataBlocked = 0x14;
inline constexpr std::uint64_t kFrameStreamDataBlocked = 0x15;
inline constexpr std::uint64_t kFrameStreamsBlockedBidi = 0x16;
inline constexpr std::uint64_t kFrameStreamsBlockedUni = 0x17;

}  // namespace roam::streams
