// The load balancer's routing decision for one datagram, without per-connection state (draft
// section 4, "Load Balancer Forwarding", steps 1 and 5):
//
// 1. A routable DCID (a config for its rotation bits, long enough, a server ID that names a
//    backend) goes to that backend, whatever the client's address.
// 2. Anything else is unroutable and takes the fallback, a rendezvous hash under a secret key:
//    - long header: of the DCID. A client's first Initials (and 0-RTT) carry the DCID it chose,
//      so its retransmissions reach the same server even from another port;
//    - short header: of the 4-tuple, the draft's baseline fallback. The DCID's length is not on the
//      wire and an unroutable one cannot be measured, so the 4-tuple is the stable input.
//    Unknown server IDs (a decoded ID that names no backend) fall back the same way, as the draft
//    counts them unroutable.
// Rendezvous hashing over backend IDs (not list positions) makes the decision independent of the
// order of the backend list, and removing a backend moves only the flows that hashed to it. Two
// instances with the same settings route every datagram identically.
#pragma once

#include <array>
#include <optional>
#include <vector>

#include "common/socket_address.h"
#include "common/types.h"
#include "lb/codec.h"
#include "lb/settings.h"

namespace roam::lb {

enum class RouteReason : std::uint8_t {
  kServerId,       // routable: the backend named by the server ID
  kNoConfig,       // fallback: no config for the rotation bits (0b111 included)
  kUndecodable,    // fallback: too short for the config, or self-described length inconsistent
  kUnknownServer,  // fallback: the server ID names no backend
  kMalformed,      // dropped: empty datagram or truncated long header
  kNoBackends,     // dropped: nowhere to send
  kFourTuple,      // 4-tuple mode: the hash of the 4-tuple, whatever the CID says
};
inline constexpr std::size_t kRouteReasonCount = 7;

std::string_view to_string(RouteReason r);

struct Route {
  RouteReason reason = RouteReason::kMalformed;
  bool long_header = false;
  std::optional<std::size_t> backend;  // index into Router::backends(); nullopt: drop
};

class Router {
 public:
  // Runs check(settings) and builds a codec per config.
  static ConfigResult<Router> create(const Settings& settings);

  // client: the datagram's source; listen: the address it was sent to (the 4-tuple's other half).
  // Not thread-safe (the codecs' cipher contexts are reused): one Router per thread.
  Route route(Bytes datagram, const SocketAddress& client, const SocketAddress& listen) const;
  // What a plain layer-4 balancer does, for comparison (roam-lb --mode 4tuple): every datagram,
  // long or short header, by the keyed hash of its 4-tuple. A client that migrates or is
  // rebound by a NAT gets a new 4-tuple and, with several backends, most likely another backend
  // that does not know its connection. Empty datagrams are dropped (kMalformed).
  Route route_by_tuple(Bytes datagram, const SocketAddress& client, const SocketAddress& listen) const;

  // The backend whose ID is a prefix of server_id, if any.
  std::optional<std::size_t> backend_for(const ServerId& server_id) const;
  // Fallback choices; nullopt only without backends.
  std::optional<std::size_t> fallback_for_dcid(Bytes dcid) const;
  std::optional<std::size_t> fallback_for_tuple(const SocketAddress& client, const SocketAddress& listen) const;

  const std::vector<Backend>& backends() const { return settings_.backends; }
  const Settings& settings() const { return settings_; }
  const CidCodec* codec(std::uint8_t config_id) const {
    return config_id <= kMaxConfigId && codecs_[config_id] ? &*codecs_[config_id] : nullptr;
  }

 private:
  explicit Router(Settings settings) : settings_(std::move(settings)) {}
  std::optional<std::size_t> rendezvous(Bytes input) const;

  Settings settings_;
  std::array<std::optional<CidCodec>, kMaxConfigId + 1> codecs_;
  std::vector<std::size_t> by_id_;                // backend indexes sorted by (ID length, ID)
  std::vector<std::size_t> id_lengths_;           // distinct backend ID lengths
  std::vector<std::uint64_t> backend_hashes_;     // keyed hash of each backend's ID
};

}  // namespace roam::lb
