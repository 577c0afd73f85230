// One network path of a connection (RFC 9000 9): a local and a peer address, the peer CID we send
// with on it, its validation state (8.2), its anti-amplification budget (8.1) and its recovery
// state (RTT, congestion controller, pacer: RFC 9000 9.4). Paths are owned by the connection;
// migration logic is in migration.cc.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>

#include "common/socket_address.h"
#include "common/types.h"
#include "conn/ecn.h"
#include "conn/pmtud.h"
#include "recovery/path_recovery.h"

namespace roam::conn {

using PathChallengeData = std::array<std::uint8_t, 8>;

enum class PathValidation : std::uint8_t {
  kValidating,  // PATH_CHALLENGE sent, no response yet
  kValidated,
  kFailed,
};

struct Path {
  PathId id{};
  SocketAddress local;
  SocketAddress peer;
  PathValidation validation = PathValidation::kValidating;
  bool validated() const { return validation == PathValidation::kValidated; }

  // Anti-amplification (RFC 9000 8.1, 9.3): until validated, at most 3x the bytes received.
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_sent = 0;
  // Only a peer address we have not validated is limited: a client probing from a new address of
  // its own, towards a server it knows, is not (the limit protects the peer's address's owner).
  bool amplification_limited = true;
  std::size_t amplification_budget() const {
    if (validated() || !amplification_limited) return SIZE_MAX;
    const std::uint64_t cap = 3 * bytes_received;
    return cap > bytes_sent ? static_cast<std::size_t>(cap - bytes_sent) : 0;
  }

  // A port-only change (NAT rebinding) keeps the old path's recovery; a new IP gets fresh state.
  std::unique_ptr<recovery::PathRecovery> recovery;

  // The peer CID we send with on this path; nullopt sequence for a zero-length CID.
  ConnectionId dcid;
  std::optional<std::uint64_t> dcid_seq;
  // The CID the peer last used to reach us on this path (tells migration from NAT rebinding).
  ConnectionId last_local_cid;

  // Path validation (RFC 9000 8.2): the challenges in flight (any of them may come back),
  // whether one is due, when to send the next, and when to give up.
  std::deque<PathChallengeData> challenges;
  bool challenge_due = false;
  unsigned challenges_sent = 0;
  std::optional<Instant> next_challenge_at;
  std::optional<Instant> validation_deadline;
  // PATH_RESPONSEs owed on this path (they go back on the path the challenge came from, 8.2.2).
  std::deque<PathChallengeData> responses;

  EcnValidator ecn;  // restarts on every new path (13.4.2)
  PmtuSearch pmtu;   // so does PMTU discovery (RFC 9000 14.3)
  std::size_t max_datagram() const { return pmtu.current(); }
  bool ping_due = false;           // send something non-probing at once (after an address change)
  bool preferred_address = false;  // the server's preferred address, seen from either side
  Instant created{};
  Instant last_received{};
};

}  // namespace roam::conn
