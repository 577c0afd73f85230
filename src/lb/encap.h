// The header roam-lb puts in front of every datagram it exchanges with a backend, so the backend
// sees the client's real address although the datagram comes from the load balancer, and can
// answer the client through it (docs/load-balancing.md, "Forwarding").
//
//   Encap Header {
//     Version (8) = 1,          top two bits zero: never a QUIC packet with its fixed bit set
//     Client Family (4),        4 or 6
//     Listen Family (4),        4 or 6
//     Client Port (16),
//     Listen Port (16),
//     Client IP (32 or 128),
//     Listen IP (32 or 128),
//   }
//   followed by the client's UDP payload, unchanged.
//
// LB -> backend: client = the datagram's source, listen = the address the client sent it to.
// Backend -> LB: the same fields name the client to send to and the address to send from.
// Network byte order throughout; 14 octets for IPv4/IPv4, 38 for IPv6/IPv6. IPv6 scope IDs are
// not carried (a load balancer's clients are not link-local), and IPv4-mapped IPv6 addresses are
// carried as IPv4 (SocketAddress normalises them).
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/error.h"
#include "common/socket_address.h"
#include "common/types.h"

namespace roam::lb {

inline constexpr std::uint8_t kEncapVersion = 1;
inline constexpr std::size_t kEncapMinHeaderSize = 14;
inline constexpr std::size_t kEncapMaxHeaderSize = 38;

struct EncapHeader {
  SocketAddress client;
  SocketAddress listen;
  friend bool operator==(const EncapHeader&, const EncapHeader&) = default;
};

struct Decapsulated {
  EncapHeader header;
  Bytes payload;  // points into the datagram passed to decode_encap
};

// Size of the encoded header (14, 26 or 38).
std::size_t encap_header_size(const EncapHeader& header);

// Writes the header at the start of out and returns its size; an error (kInternalError) when out
// is shorter than encap_header_size(header).
Result<std::size_t> encode_encap_header(const EncapHeader& header, MutBytes out);

// Header then payload into out; returns the total size. An error when out is too small.
Result<std::size_t> encapsulate(const EncapHeader& header, Bytes payload, MutBytes out);

// A GSO batch behind headers, in place: buf starts with `size` octets of segments of
// segment_size octets (the last one may be shorter; segment_size 0 or >= size: one datagram).
// Each segment is moved back to make room and the header written before it, so the batch stays
// a GSO batch, of segment_size + header octets per segment. Needs buf.size() >= size + segments
// * header size; an error (kInternalError) otherwise, with buf unchanged.
struct EncapsulatedBatch {
  std::size_t size = 0;
  std::size_t segment_size = 0;  // 0 when the batch is one datagram
};
Result<EncapsulatedBatch> encapsulate_segments(const EncapHeader& header, MutBytes buf, std::size_t size,
                                               std::size_t segment_size);

// Splits a datagram into header and payload. Errors (kProtocolViolation, with a reason): too short
// for its header, an unknown version, an address family other than 4 or 6. The payload may be
// empty. Never reads outside datagram.
Result<Decapsulated> decode_encap(Bytes datagram);

}  // namespace roam::lb
