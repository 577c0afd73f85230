// Which frames may appear in which packet types (RFC 9000 12.4 table 3 and 12.5; RFC 9221 4),
// and a payload walker that decodes every frame of a packet and enforces those rules.
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

#include "common/error.h"
#include "common/types.h"
#include "wire/frames.h"
#include "wire/packet_header.h"
#include "wire/varint.h"

namespace roam::wire {

// True for the frame types of RFC 9000 and DATAGRAM (RFC 9221).
bool is_known_frame_type(std::uint64_t type);

// Whether a frame of this type may be carried in a packet of type pt:
// - Initial and Handshake: PADDING, PING, ACK, CRYPTO and CONNECTION_CLOSE of type 0x1c only;
// - 0-RTT: the application data frames except ACK, CRYPTO, HANDSHAKE_DONE, NEW_TOKEN,
//   PATH_RESPONSE and RETIRE_CONNECTION_ID (12.5 says these cannot be sent in 0-RTT and lets a
//   server reject them; table 3 marks RETIRE_CONNECTION_ID "__01", we follow 12.5);
// - 1-RTT: every known frame;
// - Retry and Version Negotiation carry no frames.
// Receipt of a frame where it is not allowed is a PROTOCOL_VIOLATION (RFC 9000 12.4).
bool frame_allowed_in(std::uint64_t type, PacketType pt);

// Decodes every frame of a decrypted packet payload in order and calls fn(Frame&) for each; fn
// returns void or Status (a failed Status stops the walk and is returned). Errors: an empty
// payload (PROTOCOL_VIOLATION, RFC 9000 12.4), any decode_frame error, and a frame not allowed
// in pt (PROTOCOL_VIOLATION with the frame type). Frames before the failing one have already
// been passed to fn; a connection that gets an error closes, so nothing is undone.
template <class Fn>
Status for_each_frame(Bytes payload, PacketType pt, Fn&& fn) {
  if (payload.empty()) return Error{TransportError::kProtocolViolation, "packet without frames", 0};
  Reader r(payload);
  while (!r.empty()) {
    Reader peek = r;
    std::uint64_t type = 0;  // the type as sent, for the error report (decode_frame checks it)
    peek.read_varint(type);
    Result<Frame> frame = decode_frame(r);
    if (!frame.ok()) return frame.error();
    if (!frame_allowed_in(type, pt)) {
      return Error{TransportError::kProtocolViolation, "frame not allowed in this packet type", type};
    }
    if constexpr (std::is_void_v<std::invoke_result_t<Fn&, Frame&>>) {
      fn(*frame);
    } else {
      Status s = fn(*frame);
      if (!s.ok()) return s;
    }
  }
  return {};
}

}  // namespace roam::wire
