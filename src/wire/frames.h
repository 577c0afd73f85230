// Every QUIC v1 frame (RFC 9000 section 19) and DATAGRAM (RFC 9221 section 4): one struct per
// frame, a variant of all of them, and the decode/encode pair. Decoded frames refer into the
// packet payload (zero-copy Bytes); they are valid while that buffer is.
//
// Decoding enforces the encoding rules that need no connection state (FRAME_ENCODING_ERROR unless
// noted, with Error::frame_type set to the frame's type): truncation; unknown frame type;
// non-minimal frame type encoding (PROTOCOL_VIOLATION, RFC 9000 12.4); ACK ranges below 0;
// STREAM/CRYPTO offset + length above 2^62-1; MAX_STREAMS/STREAMS_BLOCKED above 2^60;
// NEW_CONNECTION_ID length outside 1..20 or Retire Prior To above Sequence Number; empty
// NEW_TOKEN. Whether a frame may appear in a packet type is frame_rules.h; rules that need state
// (stream direction, flow control, negotiated DATAGRAM support, ...) belong to the connection.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "common/error.h"
#include "common/types.h"
#include "wire/varint.h"

namespace roam::wire {

// Frame type values (RFC 9000 12.4 table 3, RFC 9221 4).
namespace frame_type {
inline constexpr std::uint64_t kPadding = 0x00;
inline constexpr std::uint64_t kPing = 0x01;
inline constexpr std::uint64_t kAck = 0x02;
inline constexpr std::uint64_t kAckEcn = 0x03;
inline constexpr std::uint64_t kResetStream = 0x04;
inline constexpr std::uint64_t kStopSending = 0x05;
inline constexpr std::uint64_t kCrypto = 0x06;
inline constexpr std::uint64_t kNewToken = 0x07;
inline constexpr std::uint64_t kStream = 0x08;  // 0x08..0x0f: | OFF 0x04 | LEN 0x02 | FIN 0x01
inline constexpr std::uint64_t kStreamMax = 0x0f;
inline constexpr std::uint64_t kMaxData = 0x10;
inline constexpr std::uint64_t kMaxStreamData = 0x11;
inline constexpr std::uint64_t kMaxStreamsBidi = 0x12;
inline constexpr std::uint64_t kMaxStreamsUni = 0x13;
inline constexpr std::uint64_t kDataBlocked = 0x14;
inline constexpr std::uint64_t kStreamDataBlocked = 0x15;
inline constexpr std::uint64_t kStreamsBlockedBidi = 0x16;
inline constexpr std::uint64_t kStreamsBlockedUni = 0x17;
inline constexpr std::uint64_t kNewConnectionId = 0x18;
inline constexpr std::uint64_t kRetireConnectionId = 0x19;
inline constexpr std::uint64_t kPathChallenge = 0x1a;
inline constexpr std::uint64_t kPathResponse = 0x1b;
inline constexpr std::uint64_t kConnectionClose = 0x1c;
inline constexpr std::uint64_t kConnectionCloseApp = 0x1d;
inline constexpr std::uint64_t kHandshakeDone = 0x1e;
inline constexpr std::uint64_t kDatagram = 0x30;        // without Length: data runs to the end of the packet
inline constexpr std::uint64_t kDatagramLength = 0x31;  // with Length

inline constexpr std::uint64_t kStreamOffBit = 0x04;
inline constexpr std::uint64_t kStreamLenBit = 0x02;
inline constexpr std::uint64_t kStreamFinBit = 0x01;
}  // namespace frame_type

// Largest sum of offset and length on a stream or in a CRYPTO stream (RFC 9000 19.6, 19.8).
inline constexpr std::uint64_t kMaxStreamOffset = (1ull << 62) - 1;
// Largest MAX_STREAMS / STREAMS_BLOCKED value (RFC 9000 19.11, 19.14).
inline constexpr std::uint64_t kMaxStreamCount = 1ull << 60;

// A run of `length` (>= 1) consecutive PADDING bytes, decoded as one frame.
struct PaddingFrame {
  std::size_t length = 1;
  bool operator==(const PaddingFrame&) const = default;
};

struct PingFrame {
  bool operator==(const PingFrame&) const = default;
};

// Acknowledged packet numbers [smallest, largest], inclusive.
struct AckRange {
  std::uint64_t smallest = 0;
  std::uint64_t largest = 0;
  bool operator==(const AckRange&) const = default;
};

struct EcnCounts {
  std::uint64_t ect0 = 0;
  std::uint64_t ect1 = 0;
  std::uint64_t ce = 0;
  bool operator==(const EcnCounts&) const = default;
};

struct AckFrame {
  std::uint64_t largest = 0;    // equals ranges.front().largest
  std::uint64_t ack_delay = 0;  // raw encoded value (multiply by 2^ack_delay_exponent microseconds)
  // Descending, disjoint and separated by at least one missing packet; the first contains largest.
  std::vector<AckRange> ranges;
  std::optional<EcnCounts> ecn;  // present: frame type 0x03
  bool operator==(const AckFrame&) const = default;
};

struct ResetStreamFrame {
  StreamId stream_id;
  std::uint64_t app_error = 0;
  std::uint64_t final_size = 0;
  bool operator==(const ResetStreamFrame&) const = default;
};

struct StopSendingFrame {
  StreamId stream_id;
  std::uint64_t app_error = 0;
  bool operator==(const StopSendingFrame&) const = default;
};

// CRYPTO always carries a Length field (RFC 9000 19.6), so it has no "to the end" form.
struct CryptoFrame {
  std::uint64_t offset = 0;
  Bytes data;
  bool operator==(const CryptoFrame& o) const;
};

struct NewTokenFrame {
  Bytes token;  // never empty
  bool operator==(const NewTokenFrame& o) const;
};

struct StreamFrame {
  StreamId stream_id;
  std::uint64_t offset = 0;  // the Offset field is written only when non-zero
  Bytes data;
  bool fin = false;
  // false: no Length field, the data runs to the end of the packet (last frame only).
  bool has_length = true;
  bool operator==(const StreamFrame& o) const;
};

struct MaxDataFrame {
  std::uint64_t max = 0;
  bool operator==(const MaxDataFrame&) const = default;
};

struct MaxStreamDataFrame {
  StreamId stream_id;
  std::uint64_t max = 0;
  bool operator==(const MaxStreamDataFrame&) const = default;
};

struct MaxStreamsFrame {
  bool bidi = true;
  std::uint64_t max = 0;  // <= kMaxStreamCount
  bool operator==(const MaxStreamsFrame&) const = default;
};

struct DataBlockedFrame {
  std::uint64_t limit = 0;
  bool operator==(const DataBlockedFrame&) const = default;
};

struct StreamDataBlockedFrame {
  StreamId stream_id;
  std::uint64_t limit = 0;
  bool operator==(const StreamDataBlockedFrame&) const = default;
};

struct StreamsBlockedFrame {
  bool bidi = true;
  std::uint64_t limit = 0;  // <= kMaxStreamCount
  bool operator==(const StreamsBlockedFrame&) const = default;
};

struct NewConnectionIdFrame {
  std::uint64_t seq = 0;
  std::uint64_t retire_prior_to = 0;  // <= seq
  ConnectionId cid;                   // 1..20 bytes
  std::array<std::uint8_t, 16> reset_token{};
  bool operator==(const NewConnectionIdFrame&) const = default;
};

struct RetireConnectionIdFrame {
  std::uint64_t seq = 0;
  bool operator==(const RetireConnectionIdFrame&) const = default;
};

struct PathChallengeFrame {
  std::array<std::uint8_t, 8> data{};
  bool operator==(const PathChallengeFrame&) const = default;
};

struct PathResponseFrame {
  std::array<std::uint8_t, 8> data{};
  bool operator==(const PathResponseFrame&) const = default;
};

struct ConnectionCloseFrame {
  bool application = false;      // type 0x1d; otherwise 0x1c (transport)
  std::uint64_t error_code = 0;
  std::uint64_t frame_type = 0;  // transport close only; not encoded for application close
  Bytes reason;                  // UTF-8 by convention, not validated
  bool operator==(const ConnectionCloseFrame& o) const;
};

struct HandshakeDoneFrame {
  bool operator==(const HandshakeDoneFrame&) const = default;
};

struct DatagramFrame {
  Bytes data;  // may be empty
  // false: no Length field, the data runs to the end of the packet (last frame only).
  bool has_length = true;
  bool operator==(const DatagramFrame& o) const;
};

using Frame = std::variant<PaddingFrame, PingFrame, AckFrame, ResetStreamFrame, StopSendingFrame, CryptoFrame,
                           NewTokenFrame, StreamFrame, MaxDataFrame, MaxStreamDataFrame, MaxStreamsFrame,
                           DataBlockedFrame, StreamDataBlockedFrame, StreamsBlockedFrame, NewConnectionIdFrame,
                           RetireConnectionIdFrame, PathChallengeFrame, PathResponseFrame, ConnectionCloseFrame,
                           HandshakeDoneFrame, DatagramFrame>;

// Decodes one frame from r, which must span exactly the rest of the packet payload (STREAM and
// DATAGRAM frames without Length run to its end). On error, r is left where it was.
// ACK frames: the number of ranges is bounded by the bytes present (each range takes at least
// two), so memory is at most a small multiple of the payload size; no fixed cap is applied.
Result<Frame> decode_frame(Reader& r);

// Encodes f. Returns false and writes nothing when f does not fit in the writer or breaks an
// encoding rule (the same rules decode_frame enforces, plus: PaddingFrame length >= 1, ACK
// ranges well formed and consistent with largest, every integer field <= 2^62-1).
bool encode_frame(Writer& w, const Frame& f);

// Bytes encode_frame writes for a valid f.
std::size_t encoded_size(const Frame& f);

// The frame type encode_frame writes for f (STREAM flag bits, ACK ECN, close kind, DATAGRAM LEN).
std::uint64_t frame_type_of(const Frame& f);
// The RFC name of a frame type ("STREAM" for 0x08..0x0f), or "UNKNOWN".
std::string_view frame_type_name(std::uint64_t type);

// Writes an ACK frame (type 0x03 when ecn is given) for ranges_descending (same shape as
// AckFrame::ranges), including as many ranges as fit in the writer and at most max_ranges,
// always keeping the range that holds the largest packet number. Returns the number of ranges
// written, 0 when nothing was written (first range does not fit, empty or malformed ranges).
std::size_t encode_ack(Writer& w, std::uint64_t ack_delay_encoded, std::span<const AckRange> ranges_descending,
                       const EcnCounts* ecn, std::size_t max_ranges);

// Sender-side sizing. Overhead is the frame minus its data; capacity is the largest data length
// whose frame fits in `space` bytes (0 if not even an empty frame fits).
std::size_t stream_frame_overhead(StreamId stream_id, std::uint64_t offset, std::size_t data_len, bool with_length);
std::size_t stream_frame_capacity(StreamId stream_id, std::uint64_t offset, std::size_t space, bool with_length);
std::size_t crypto_frame_overhead(std::uint64_t offset, std::size_t data_len);
std::size_t crypto_frame_capacity(std::uint64_t offset, std::size_t space);
std::size_t datagram_frame_overhead(std::size_t data_len, bool with_length);

// Packets holding only ACK, PADDING and CONNECTION_CLOSE frames are not ack-eliciting (RFC 9000
// 13.2.1, 12.4 "N").
bool is_ack_eliciting(std::uint64_t frame_type);
bool is_ack_eliciting(const Frame& f);
// Packets count toward bytes in flight when ack-eliciting or holding PADDING (RFC 9002 2).
bool counts_in_flight(const Frame& f);
// Frames that may be sent on a path being probed: PATH_CHALLENGE, PATH_RESPONSE,
// NEW_CONNECTION_ID and PADDING (RFC 9000 9.1, 12.4 "P").
bool is_probing_frame(std::uint64_t frame_type);

}  // namespace roam::wire
