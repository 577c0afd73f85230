// ECN for one path (RFC 9000 13.4, RFC 9002 7.1): mark packets ECT(0), and validate that the
// path and the peer carry the marks and report them honestly, or stop marking.
//
// Testing: the first kTestingPackets packets on a path are marked; then marking pauses until an
// ACK proves the counts work (capable: mark from then on). Validation fails, and marking stops
// for good on this path, when an ACK that newly acknowledges marked packets has no ECN counts,
// when counts go down, when ECT(0)+CE grew by less than the marked packets it newly
// acknowledges, when a count exceeds what we sent with that mark, or when every testing packet
// was lost (a path that drops marked packets). A new path starts over (RFC 9000 13.4.2).
#pragma once

#include <cstdint>
#include <optional>

#include "wire/frames.h"

namespace roam::conn {

inline constexpr std::uint8_t kEcnNotEct = 0;
inline constexpr std::uint8_t kEcnEct1 = 1;
inline constexpr std::uint8_t kEcnEct0 = 2;
inline constexpr std::uint8_t kEcnCe = 3;

enum class EcnState : std::uint8_t { kTesting, kUnknown, kCapable, kFailed };

class EcnValidator {
 public:
  static constexpr std::uint64_t kTestingPackets = 10;

  explicit EcnValidator(bool enabled = true) : state_(enabled ? EcnState::kTesting : EcnState::kFailed) {}

  EcnState state() const { return state_; }
  // The codepoint for the next packet on this path.
  std::uint8_t codepoint() const {
    return state_ == EcnState::kTesting || state_ == EcnState::kCapable ? kEcnEct0 : kEcnNotEct;
  }
  void on_packet_sent(std::uint8_t codepoint);
  // Marked packets declared lost: if every testing packet is lost, the path may drop ECT packets.
  void on_marked_lost(std::uint64_t count);
  // An ACK that increased the largest acknowledged (only those may fail validation): how many of
  // the packets it newly acknowledges were marked ECT(0), and the frame's counts. `previous` holds
  // the counts last seen in this packet number space and is updated; `sent_ect0` is how many
  // packets of the space were marked, on any path. Returns true if the CE count grew and
  // validation holds (a congestion signal to act on).
  bool on_ack(std::uint64_t newly_acked_ect0, const std::optional<wire::EcnCounts>& counts,
              wire::EcnCounts& previous, std::uint64_t sent_ect0);

 private:
  void fail() { state_ = EcnState::kFailed; }

  EcnState state_;
  std::uint64_t testing_sent_ = 0;
  std::uint64_t testing_lost_ = 0;
};

}  // namespace roam::conn
