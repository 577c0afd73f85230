// decode_frame: one decoder per frame type (RFC 9000 19, RFC 9221 4), dispatched on the type.
#include "wire/frames.h"

#include <algorithm>

namespace roam::wire {
namespace {

namespace ft = frame_type;

Error encoding_error(std::uint64_t type, std::string_view reason) {
  return Error{TransportError::kFrameEncodingError, reason, type};
}

// Reads a varint length and that many bytes; false if either runs past the end.
bool read_length_prefixed(Reader& r, Bytes& out) {
  std::uint64_t len = 0;
  if (!r.read_varint(len) || len > r.remaining()) return false;
  return r.read_bytes(static_cast<std::size_t>(len), out);
}

bool read_stream_id(Reader& r, StreamId& id) { return r.read_varint(id.value); }

Result<Frame> decode_padding(Reader& r) {
  PaddingFrame f;  // the type byte already read is the first PADDING byte
  std::uint8_t b = 0;
  while (r.peek_u8(b) && b == 0) {
    r.skip(1);
    ++f.length;
  }
  return Frame{f};
}

Result<Frame> decode_ack(Reader& r, std::uint64_t type) {
  AckFrame f;
  std::uint64_t count = 0, first_range = 0;
  if (!r.read_varint(f.largest) || !r.read_varint(f.ack_delay) || !r.read_varint(count) ||
      !r.read_varint(first_range)) {
    return encoding_error(type, "truncated ACK frame");
  }
  if (first_range > f.largest) return encoding_error(type, "ACK range below packet number 0");
  // Each further range takes at least two bytes: a count beyond that cannot be honest, and
  // checking it first bounds the allocation by the input size.
  if (count > r.remaining() / 2) return encoding_error(type, "truncated ACK frame");
  f.ranges.reserve(static_cast<std::size_t>(count) + 1);
  std::uint64_t smallest = f.largest - first_range;
  f.ranges.push_back({smallest, f.largest});
  for (std::uint64_t i = 0; i < count; ++i) {
    std::uint64_t gap = 0, len = 0;
    if (!r.read_varint(gap) || !r.read_varint(len)) return encoding_error(type, "truncated ACK frame");
    if (smallest < gap + 2) return encoding_error(type, "ACK range below packet number 0");
    const std::uint64_t largest = smallest - gap - 2;
    if (len > largest) return encoding_error(type, "ACK range below packet number 0");
    smallest = largest - len;
    f.ranges.push_back({smallest, largest});
  }
  if (type == ft::kAckEcn) {
    EcnCounts ecn;
    if (!r.read_varint(ecn.ect0) || !r.read_varint(ecn.ect1) || !r.read_varint(ecn.ce)) {
      return encoding_error(type, "truncated ACK frame");
    }
    f.ecn = ecn;
  }
  return Frame{std::move(f)};
}

Result<Frame> decode_reset_stream(Reader& r, std::uint64_t type) {
  ResetStreamFrame f;
  if (!read_stream_id(r, f.stream_id) || !r.read_varint(f.app_error) || !r.read_varint(f.final_size)) {
    return encoding_error(type, "truncated RESET_STREAM frame");
  }
  return Frame{f};
}

Result<Frame> decode_stop_sending(Reader& r, std::uint64_t type) {
  StopSendingFrame f;
  if (!read_stream_id(r, f.stream_id) || !r.read_varint(f.app_error)) {
    return encoding_error(type, "truncated STOP_SENDING frame");
  }
  return Frame{f};
}

Result<Frame> decode_crypto(Reader& r, std::uint64_t type) {
  CryptoFrame f;
  if (!r.read_varint(f.offset) || !read_length_prefixed(r, f.data)) {
    return encoding_error(type, "truncated CRYPTO frame");
  }
  if (f.data.size() > kMaxStreamOffset - f.offset) return encoding_error(type, "CRYPTO data beyond 2^62-1");
  return Frame{f};
}

Result<Frame> decode_new_token(Reader& r, std::uint64_t type) {
  NewTokenFrame f;
  if (!read_length_prefixed(r, f.token)) return encoding_error(type, "truncated NEW_TOKEN frame");
  if (f.token.empty()) return encoding_error(type, "empty NEW_TOKEN token");
  return Frame{f};
}

Result<Frame> decode_stream(Reader& r, std::uint64_t type) {
  StreamFrame f;
  f.fin = (type & ft::kStreamFinBit) != 0;
  f.has_length = (type & ft::kStreamLenBit) != 0;
  if (!read_stream_id(r, f.stream_id)) return encoding_error(type, "truncated STREAM frame");
  if ((type & ft::kStreamOffBit) != 0 && !r.read_varint(f.offset)) {
    return encoding_error(type, "truncated STREAM frame");
  }
  if (f.has_length) {
    if (!read_length_prefixed(r, f.data)) return encoding_error(type, "truncated STREAM frame");
  } else {
    r.read_bytes(r.remaining(), f.data);
  }
  if (f.data.size() > kMaxStreamOffset - f.offset) return encoding_error(type, "STREAM data beyond 2^62-1");
  return Frame{f};
}

// Frames made of a single varint.
template <class F>
Result<Frame> decode_one_varint(Reader& r, std::uint64_t type, std::uint64_t F::*field, std::string_view truncated) {
  F f;
  if (!r.read_varint(f.*field)) return encoding_error(type, truncated);
  return Frame{f};
}

template <class F>
Result<Frame> decode_stream_and_varint(Reader& r, std::uint64_t type, std::uint64_t F::*field,
                                       std::string_view truncated) {
  F f;
  if (!read_stream_id(r, f.stream_id) || !r.read_varint(f.*field)) return encoding_error(type, truncated);
  return Frame{f};
}

template <class F>
Result<Frame> decode_stream_count(Reader& r, std::uint64_t type, std::uint64_t F::*field, bool bidi,
                                  std::string_view truncated, std::string_view too_large) {
  F f;
  f.bidi = bidi;
  if (!r.read_varint(f.*field)) return encoding_error(type, truncated);
  if (f.*field > kMaxStreamCount) return encoding_error(type, too_large);
  return Frame{f};
}

Result<Frame> decode_new_connection_id(Reader& r, std::uint64_t type) {
  NewConnectionIdFrame f;
  std::uint8_t len = 0;
  if (!r.read_varint(f.seq) || !r.read_varint(f.retire_prior_to) || !r.read_u8(len)) {
    return encoding_error(type, "truncated NEW_CONNECTION_ID frame");
  }
  if (len < 1 || len > ConnectionId::kMaxLength) return encoding_error(type, "NEW_CONNECTION_ID length not 1..20");
  Bytes cid, token;
  if (!r.read_bytes(len, cid) || !r.read_bytes(f.reset_token.size(), token)) {
    return encoding_error(type, "truncated NEW_CONNECTION_ID frame");
  }
  if (f.retire_prior_to > f.seq) return encoding_error(type, "NEW_CONNECTION_ID Retire Prior To above Sequence");
  f.cid = ConnectionId(cid);
  std::copy(token.begin(), token.end(), f.reset_token.begin());
  return Frame{f};
}

template <class F>
Result<Frame> decode_path(Reader& r, std::uint64_t type, std::string_view truncated) {
  F f;
  Bytes data;
  if (!r.read_bytes(f.data.size(), data)) return encoding_error(type, truncated);
  std::copy(data.begin(), data.end(), f.data.begin());
  return Frame{f};
}

Result<Frame> decode_connection_close(Reader& r, std::uint64_t type) {
  ConnectionCloseFrame f;
  f.application = type == ft::kConnectionCloseApp;
  if (!r.read_varint(f.error_code) || (!f.application && !r.read_varint(f.frame_type)) ||
      !read_length_prefixed(r, f.reason)) {
    return encoding_error(type, "truncated CONNECTION_CLOSE frame");
  }
  return Frame{f};
}

Result<Frame> decode_datagram(Reader& r, std::uint64_t type) {
  DatagramFrame f;
  f.has_length = type == ft::kDatagramLength;
  if (f.has_length) {
    if (!read_length_prefixed(r, f.data)) return encoding_error(type, "truncated DATAGRAM frame");
  } else {
    r.read_bytes(r.remaining(), f.data);
  }
  return Frame{f};
}

Result<Frame> decode_body(Reader& r, std::uint64_t type) {
  switch (type) {
    case ft::kPadding: return decode_padding(r);
    case ft::kPing: return Frame{PingFrame{}};
    case ft::kAck:
    case ft::kAckEcn: return decode_ack(r, type);
    case ft::kResetStream: return decode_reset_stream(r, type);
    case ft::kStopSending: return decode_stop_sending(r, type);
    case ft::kCrypto: return decode_crypto(r, type);
    case ft::kNewToken: return decode_new_token(r, type);
    case ft::kMaxData:
      return decode_one_varint(r, type, &MaxDataFrame::max, "truncated MAX_DATA frame");
    case ft::kMaxStreamData:
      return decode_stream_and_varint(r, type, &MaxStreamDataFrame::max, "truncated MAX_STREAM_DATA frame");
    case ft::kMaxStreamsBidi:
    case ft::kMaxStreamsUni:
      return decode_stream_count(r, type, &MaxStreamsFrame::max, type == ft::kMaxStreamsBidi,
                                 "truncated MAX_STREAMS frame", "MAX_STREAMS above 2^60");
    case ft::kDataBlocked:
      return decode_one_varint(r, type, &DataBlockedFrame::limit, "truncated DATA_BLOCKED frame");
    case ft::kStreamDataBlocked:
      return decode_stream_and_varint(r, type, &StreamDataBlockedFrame::limit,
                                      "truncated STREAM_DATA_BLOCKED frame");
    case ft::kStreamsBlockedBidi:
    case ft::kStreamsBlockedUni:
      return decode_stream_count(r, type, &StreamsBlockedFrame::limit, type == ft::kStreamsBlockedBidi,
                                 "truncated STREAMS_BLOCKED frame", "STREAMS_BLOCKED above 2^60");
    case ft::kNewConnectionId: return decode_new_connection_id(r, type);
    case ft::kRetireConnectionId:
      return decode_one_varint(r, type, &RetireConnectionIdFrame::seq, "truncated RETIRE_CONNECTION_ID frame");
    case ft::kPathChallenge: return decode_path<PathChallengeFrame>(r, type, "truncated PATH_CHALLENGE frame");
    case ft::kPathResponse: return decode_path<PathResponseFrame>(r, type, "truncated PATH_RESPONSE frame");
    case ft::kConnectionClose:
    case ft::kConnectionCloseApp: return decode_connection_close(r, type);
    case ft::kHandshakeDone: return Frame{HandshakeDoneFrame{}};
    case ft::kDatagram:
    case ft::kDatagramLength: return decode_datagram(r, type);
    default: break;
  }
  if (type >= ft::kStream && type <= ft::kStreamMax) return decode_stream(r, type);
  return encoding_error(type, "unknown frame type");
}

}  // namespace

Result<Frame> decode_frame(Reader& r) {
  const Reader start = r;
  std::uint64_t type = 0;
  if (!r.read_varint(type)) return encoding_error(0, "truncated frame type");
  if (r.position() - start.position() != varint_size(type)) {
    r = start;
    return Error{TransportError::kProtocolViolation, "non-minimal frame type encoding", type};
  }
  Result<Frame> f = decode_body(r, type);
  if (!f.ok()) r = start;
  return f;
}

}  // namespace roam::wire
