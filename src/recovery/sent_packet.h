// What the loss detector remembers about each packet it sent (RFC 9002 A.1.1), the packet number
// spaces, and the ACK ranges it is fed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/types.h"

namespace roam::recovery {

// Packet number spaces (RFC 9000 12.3). 0-RTT and 1-RTT packets share kApplication.
enum class Space : std::uint8_t { kInitial = 0, kHandshake = 1, kApplication = 2 };
inline constexpr std::size_t kSpaceCount = 3;
constexpr std::size_t index_of(Space space) { return static_cast<std::size_t>(space); }
std::string_view to_string(Space space);

// One sent packet. The connection fills it in when it sends; `token` is opaque to recovery and
// lets the connection find the frames it put in the packet when the packet is acked or lost.
struct SentPacket {
  std::uint64_t pn = 0;
  Instant time_sent{};
  std::uint32_t bytes = 0;     // QUIC packet size including header and AEAD tag, no UDP/IP
  bool ack_eliciting = false;  // contains a frame other than ACK, PADDING, CONNECTION_CLOSE
  bool in_flight = false;      // counts toward bytes in flight (ack-eliciting or PADDING)
  PathId path{};               // the path it was sent on: RTT and congestion state live there
  std::uint8_t ecn = 0;        // the ECN codepoint it was sent with (RFC 9000 13.4)
  bool mtu_probe = false;      // a PMTU probe: its loss is no congestion signal (RFC 9000 14.4)
  std::uint64_t token = 0;
};

// One ACK range, both ends inclusive. An ACK frame's ranges are given largest first.
struct AckRange {
  std::uint64_t smallest = 0;
  std::uint64_t largest = 0;
};

// Calls f(path, run) for each maximal run of consecutive packets sent on the same path.
template <class F>
void for_each_path_run(std::span<const SentPacket> packets, F&& f) {
  std::size_t start = 0;
  for (std::size_t i = 1; i <= packets.size(); ++i) {
    if (i == packets.size() || packets[i].path != packets[start].path) {
      f(packets[start].path, packets.subspan(start, i - start));
      start = i;
    }
  }
}

}  // namespace roam::recovery
