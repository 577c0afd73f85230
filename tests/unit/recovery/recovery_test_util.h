// Helpers for recovery tests: a virtual clock (Instants built from offsets, never a real clock)
// and sent-packet records.
#pragma once

#include <chrono>
#include <cstdint>

#include "common/types.h"
#include "recovery/sent_packet.h"

namespace roam::recovery::test {

// The instant `d` after the virtual epoch.
inline Instant at(Duration d) { return Instant{} + d; }

inline SentPacket packet(std::uint64_t pn, Instant sent, std::uint32_t bytes = 1200, bool ack_eliciting = true,
                         PathId path = PathId{0}) {
  SentPacket p;
  p.pn = pn;
  p.time_sent = sent;
  p.bytes = bytes;
  p.ack_eliciting = ack_eliciting;
  p.in_flight = true;
  p.path = path;
  p.token = 1000 + pn;
  return p;
}

// A packet holding only ACK frames: neither ack-eliciting nor in flight.
inline SentPacket ack_only(std::uint64_t pn, Instant sent, PathId path = PathId{0}) {
  SentPacket p = packet(pn, sent, 50, false, path);
  p.in_flight = false;
  return p;
}

}  // namespace roam::recovery::test
