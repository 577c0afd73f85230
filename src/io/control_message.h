// Ancillary data (cmsg) of UDP datagrams: parsing what the kernel attaches to received datagrams
// (PKTINFO, TOS/TCLASS, UDP_GRO) and building what a send carries (source address, ECN, GSO).
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/socket_address.h"

namespace roam::io {

// Room for every control message either direction uses, per datagram.
inline constexpr std::size_t kControlBufferSize = 128;

struct ReceiveControl {
  // Destination IP of the datagram (port 0), from IP_PKTINFO or IPV6_PKTINFO. A link-local IPv6
  // destination carries the arrival interface as its scope id so replies leave the same way.
  std::optional<SocketAddress> local_ip;
  std::uint32_t interface_index = 0;
  std::optional<std::uint8_t> tos;  // whole TOS / Traffic Class byte; ECN is its low 2 bits
  std::uint16_t gro_segment_size = 0;  // 0: not coalesced
};

// Reads the control messages of a received msghdr. Unknown or short messages are ignored.
ReceiveControl parse_receive_control(const msghdr& msg);

// Appends control messages to a buffer aligned for cmsghdr.
class ControlWriter {
 public:
  explicit ControlWriter(std::span<std::uint8_t> buffer) : buf_(buffer) {}
  // False (and nothing written) when it does not fit.
  bool add(int level, int type, const void* data, std::size_t len);
  std::size_t size() const { return used_; }

 private:
  std::span<std::uint8_t> buf_;
  std::size_t used_ = 0;
};

struct SendControl {
  SocketAddress source;  // unspecified: no PKTINFO, the kernel picks the source
  bool ipv4_peer = true;  // which IP level the TOS/PKTINFO messages use
  std::uint8_t ecn = 0;   // 0: no TOS message
  std::uint16_t gso_segment_size = 0;  // 0: no UDP_SEGMENT message
};

// Writes the control messages for one send into buffer (aligned for cmsghdr, at least
// kControlBufferSize bytes) and returns how many bytes they take (0: none).
std::size_t build_send_control(std::span<std::uint8_t> buffer, const SendControl& control);

}  // namespace roam::io
