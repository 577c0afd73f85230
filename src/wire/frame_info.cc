// Frame properties (type, ack-eliciting, probing, names), sender-side sizing and equality.
#include "wire/frames.h"

#include <algorithm>

namespace roam::wire {
namespace {

namespace ft = frame_type;

bool same_bytes(Bytes a, Bytes b) { return std::ranges::equal(a, b); }

struct TypeOf {
  std::uint64_t operator()(const PaddingFrame&) const { return ft::kPadding; }
  std::uint64_t operator()(const PingFrame&) const { return ft::kPing; }
  std::uint64_t operator()(const AckFrame& f) const { return f.ecn ? ft::kAckEcn : ft::kAck; }
  std::uint64_t operator()(const ResetStreamFrame&) const { return ft::kResetStream; }
  std::uint64_t operator()(const StopSendingFrame&) const { return ft::kStopSending; }
  std::uint64_t operator()(const CryptoFrame&) const { return ft::kCrypto; }
  std::uint64_t operator()(const NewTokenFrame&) const { return ft::kNewToken; }
  std::uint64_t operator()(const StreamFrame& f) const {
    return ft::kStream | (f.offset != 0 ? ft::kStreamOffBit : 0) | (f.has_length ? ft::kStreamLenBit : 0) |
           (f.fin ? ft::kStreamFinBit : 0);
  }
  std::uint64_t operator()(const MaxDataFrame&) const { return ft::kMaxData; }
  std::uint64_t operator()(const MaxStreamDataFrame&) const { return ft::kMaxStreamData; }
  std::uint64_t operator()(const MaxStreamsFrame& f) const { return f.bidi ? ft::kMaxStreamsBidi : ft::kMaxStreamsUni; }
  std::uint64_t operator()(const DataBlockedFrame&) const { return ft::kDataBlocked; }
  std::uint64_t operator()(const StreamDataBlockedFrame&) const { return ft::kStreamDataBlocked; }
  std::uint64_t operator()(const StreamsBlockedFrame& f) const {
    return f.bidi ? ft::kStreamsBlockedBidi : ft::kStreamsBlockedUni;
  }
  std::uint64_t operator()(const NewConnectionIdFrame&) const { return ft::kNewConnectionId; }
  std::uint64_t operator()(const RetireConnectionIdFrame&) const { return ft::kRetireConnectionId; }
  std::uint64_t operator()(const PathChallengeFrame&) const { return ft::kPathChallenge; }
  std::uint64_t operator()(const PathResponseFrame&) const { return ft::kPathResponse; }
  std::uint64_t operator()(const ConnectionCloseFrame& f) const {
    return f.application ? ft::kConnectionCloseApp : ft::kConnectionClose;
  }
  std::uint64_t operator()(const HandshakeDoneFrame&) const { return ft::kHandshakeDone; }
  std::uint64_t operator()(const DatagramFrame& f) const { return f.has_length ? ft::kDatagramLength : ft::kDatagram; }
};

// Largest n with n + varint_size(n) <= avail (a Length field followed by n bytes).
std::size_t fit_with_length(std::size_t avail) {
  if (avail == 0) return 0;
  std::size_t n = std::min<std::uint64_t>(avail - 1, kVarintMax);
  while (n > 0 && n + varint_size(n) > avail) --n;  // at most a few steps at each varint size boundary
  return n;
}

}  // namespace

bool CryptoFrame::operator==(const CryptoFrame& o) const { return offset == o.offset && same_bytes(data, o.data); }

bool NewTokenFrame::operator==(const NewTokenFrame& o) const { return same_bytes(token, o.token); }

bool StreamFrame::operator==(const StreamFrame& o) const {
  return stream_id == o.stream_id && offset == o.offset && fin == o.fin && has_length == o.has_length &&
         same_bytes(data, o.data);
}

bool ConnectionCloseFrame::operator==(const ConnectionCloseFrame& o) const {
  return application == o.application && error_code == o.error_code && frame_type == o.frame_type &&
         same_bytes(reason, o.reason);
}

bool DatagramFrame::operator==(const DatagramFrame& o) const {
  return has_length == o.has_length && same_bytes(data, o.data);
}

std::uint64_t frame_type_of(const Frame& f) { return std::visit(TypeOf{}, f); }

std::string_view frame_type_name(std::uint64_t type) {
  if (type >= ft::kStream && type <= ft::kStreamMax) return "STREAM";
  switch (type) {
    case ft::kPadding: return "PADDING";
    case ft::kPing: return "PING";
    case ft::kAck:
    case ft::kAckEcn: return "ACK";
    case ft::kResetStream: return "RESET_STREAM";
    case ft::kStopSending: return "STOP_SENDING";
    case ft::kCrypto: return "CRYPTO";
    case ft::kNewToken: return "NEW_TOKEN";
    case ft::kMaxData: return "MAX_DATA";
    case ft::kMaxStreamData: return "MAX_STREAM_DATA";
    case ft::kMaxStreamsBidi:
    case ft::kMaxStreamsUni: return "MAX_STREAMS";
    case ft::kDataBlocked: return "DATA_BLOCKED";
    case ft::kStreamDataBlocked: return "STREAM_DATA_BLOCKED";
    case ft::kStreamsBlockedBidi:
    case ft::kStreamsBlockedUni: return "STREAMS_BLOCKED";
    case ft::kNewConnectionId: return "NEW_CONNECTION_ID";
    case ft::kRetireConnectionId: return "RETIRE_CONNECTION_ID";
    case ft::kPathChallenge: return "PATH_CHALLENGE";
    case ft::kPathResponse: return "PATH_RESPONSE";
    case ft::kConnectionClose:
    case ft::kConnectionCloseApp: return "CONNECTION_CLOSE";
    case ft::kHandshakeDone: return "HANDSHAKE_DONE";
    case ft::kDatagram:
    case ft::kDatagramLength: return "DATAGRAM";
    default: return "UNKNOWN";
  }
}

bool is_ack_eliciting(std::uint64_t type) {
  return type != ft::kPadding && type != ft::kAck && type != ft::kAckEcn && type != ft::kConnectionClose &&
         type != ft::kConnectionCloseApp;
}

bool is_ack_eliciting(const Frame& f) { return is_ack_eliciting(frame_type_of(f)); }

bool counts_in_flight(const Frame& f) { return is_ack_eliciting(f) || std::holds_alternative<PaddingFrame>(f); }

bool is_probing_frame(std::uint64_t type) {
  return type == ft::kPathChallenge || type == ft::kPathResponse || type == ft::kNewConnectionId ||
         type == ft::kPadding;
}

std::size_t stream_frame_overhead(StreamId stream_id, std::uint64_t offset, std::size_t data_len, bool with_length) {
  return 1 + varint_size(stream_id.value) + (offset != 0 ? varint_size(offset) : 0) +
         (with_length ? varint_size(data_len) : 0);
}

std::size_t stream_frame_capacity(StreamId stream_id, std::uint64_t offset, std::size_t space, bool with_length) {
  const std::size_t fixed = stream_frame_overhead(stream_id, offset, 0, false);
  if (space < fixed + (with_length ? 1 : 0)) return 0;
  const std::size_t avail = space - fixed;
  const std::size_t n = with_length ? fit_with_length(avail) : avail;
  return static_cast<std::size_t>(std::min<std::uint64_t>(n, kMaxStreamOffset - std::min(offset, kMaxStreamOffset)));
}

std::size_t crypto_frame_overhead(std::uint64_t offset, std::size_t data_len) {
  return 1 + varint_size(offset) + varint_size(data_len);
}

std::size_t crypto_frame_capacity(std::uint64_t offset, std::size_t space) {
  const std::size_t fixed = 1 + varint_size(offset);
  if (space < fixed + 1) return 0;
  const std::size_t n = fit_with_length(space - fixed);
  return static_cast<std::size_t>(std::min<std::uint64_t>(n, kMaxStreamOffset - std::min(offset, kMaxStreamOffset)));
}

std::size_t datagram_frame_overhead(std::size_t data_len, bool with_length) {
  return 1 + (with_length ? varint_size(data_len) : 0);
}

}  // namespace roam::wire
