#include "wire/frame_rules.h"

namespace roam::wire {
namespace {

namespace ft = frame_type;

bool allowed_in_initial_or_handshake(std::uint64_t type) {
  return type == ft::kPadding || type == ft::kPing || type == ft::kAck || type == ft::kAckEcn ||
         type == ft::kCrypto || type == ft::kConnectionClose;
}

bool forbidden_in_zero_rtt(std::uint64_t type) {
  return type == ft::kAck || type == ft::kAckEcn || type == ft::kCrypto || type == ft::kHandshakeDone ||
         type == ft::kNewToken || type == ft::kPathResponse || type == ft::kRetireConnectionId;
}

}  // namespace

bool is_known_frame_type(std::uint64_t type) {
  return type <= ft::kHandshakeDone || type == ft::kDatagram || type == ft::kDatagramLength;
}

bool frame_allowed_in(std::uint64_t type, PacketType pt) {
  if (!is_known_frame_type(type)) return false;
  switch (pt) {
    case PacketType::kInitial:
    case PacketType::kHandshake: return allowed_in_initial_or_handshake(type);
    case PacketType::kZeroRtt: return !forbidden_in_zero_rtt(type);
    case PacketType::kOneRtt: return true;
    case PacketType::kRetry:
    case PacketType::kVersionNegotiation: return false;
  }
  return false;
}

}  // namespace roam::wire
