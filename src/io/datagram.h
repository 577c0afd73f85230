// What crosses the boundary between the protocol core and the datapath: datagrams received (with
// the local address they arrived on and their ECN bits) and batches to transmit (GSO-shaped).
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/socket_address.h"
#include "common/types.h"

namespace roam::io {

// ECN codepoints (RFC 3168), the low two bits of the IPv4 TOS / IPv6 Traffic Class byte.
inline constexpr std::uint8_t kEcnNotEct = 0;
inline constexpr std::uint8_t kEcnEct1 = 1;
inline constexpr std::uint8_t kEcnEct0 = 2;
inline constexpr std::uint8_t kEcnCe = 3;

// Largest UDP payload in one IPv4 packet (65535 - 20 - 8); also the most a GSO send may carry.
inline constexpr std::size_t kMaxUdpPayload = 65507;

// One received datagram. data points into the ReceiveBatch it came from and stays valid until the
// next receive() into that batch.
struct ReceivedDatagram {
  // The datagram's destination address (from IP_PKTINFO / IPV6_PKTINFO) with the socket's port —
  // on a socket bound to 0.0.0.0 this is the address the peer sent to. Without PKTINFO it is the
  // socket's bound address.
  SocketAddress local;
  SocketAddress peer;
  std::uint8_t ecn = kEcnNotEct;
  Bytes data;
  std::uint32_t interface_index = 0;  // arrival interface when PKTINFO is on, else 0
};

// One send request: a single datagram, or a GSO batch of equal-size segments to one peer.
struct Transmit {
  // Source address to send from; unspecified (0.0.0.0 / ::) lets the kernel choose. Its port is
  // ignored: datagrams always leave from the socket's port.
  SocketAddress local;
  SocketAddress peer;
  std::uint8_t ecn = kEcnNotEct;
  Bytes data;
  // 0 or >= data.size(): data is one datagram. Otherwise data is ceil(size / segment_size)
  // datagrams of segment_size bytes, the last one possibly shorter. The socket uses UDP GSO when
  // it can and splits into datagrams when it cannot.
  std::size_t segment_size = 0;

  std::size_t segment_count() const {
    if (segment_size == 0 || segment_size >= data.size()) return 1;
    return (data.size() + segment_size - 1) / segment_size;
  }
};

enum class SendStatus : std::uint8_t {
  kOk,              // every transmit was handed to the kernel
  kWouldBlock,      // the send buffer is full: retry the rest when the socket is writable
  kMessageTooBig,   // EMSGSIZE: the datagram at [sent] exceeds what the path/interface takes
  kError,           // another error for the datagram at [sent] (see error)
};

// How far send() got. transmits[0, sent) went out in full. When status != kOk, transmits[sent]
// is where it stopped: partial_bytes of it (a whole number of segments) went out already, so a
// retry resumes with its data.subspan(partial_bytes). After kMessageTooBig or kError the caller
// usually drops transmits[sent] (UDP is lossy; recovery or PMTU logic reacts) and continues.
struct SendResult {
  std::size_t sent = 0;
  std::size_t partial_bytes = 0;
  SendStatus status = SendStatus::kOk;
  int error = 0;  // errno when status != kOk
  bool ok() const { return status == SendStatus::kOk; }
};

}  // namespace roam::io
