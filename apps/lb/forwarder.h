// roam-lb's datapath: client datagrams in on the listen socket, routed by lb::Router, out to the
// chosen backend behind an encapsulation header (lb/encap.h) from a second socket; backend
// replies in on that socket, header checked and stripped, out to the client from the listen
// socket. No per-connection state: every decision comes from the datagram and the settings.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "io/event_loop.h"
#include "io/udp_socket.h"
#include "lb/router.h"

namespace roam::lbapp {

// How client datagrams pick a backend.
enum class RoutingMode : std::uint8_t {
  kRoutable,   // by the server ID in the DCID (QUIC-LB), with the draft's fallbacks: lb::Router::route
  kFourTuple,  // by the 4-tuple hash alone, as a plain L4 balancer: lb::Router::route_by_tuple
};

struct ForwarderOptions {
  SocketAddress listen;
  RoutingMode mode = RoutingMode::kRoutable;
  // Where datagrams to backends leave from (and replies arrive); default: an ephemeral port on
  // the wildcard address of the family the backends need.
  std::optional<SocketAddress> backend_source;
  int socket_buffer_bytes = 8 << 20;
};

// Counters since start: one per reason a datagram was routed, passed on or dropped.
struct ForwarderStats {
  std::uint64_t from_clients = 0;
  std::array<std::uint64_t, lb::kRouteReasonCount> by_reason{};  // routing outcome per client datagram
  std::uint64_t fallback_long = 0;   // of those that fell back: long headers (DCID hash)
  std::uint64_t fallback_short = 0;  // short headers (4-tuple hash)
  std::uint64_t to_backends = 0;
  std::uint64_t from_backends = 0;
  std::uint64_t to_clients = 0;
  std::uint64_t dropped_unknown_source = 0;  // a datagram on the backend socket from a non-backend
  std::uint64_t dropped_bad_encap = 0;       // a backend reply without a valid header
  std::uint64_t dropped_wrong_listen = 0;    // a reply naming a listen address that is not ours
  std::uint64_t dropped_too_big = 0;         // payload + header above the UDP maximum
  std::uint64_t dropped_send = 0;            // the kernel refused or the send buffer was full
};

class Forwarder {
 public:
  // Opens both sockets and watches them on loop. Errors are one line for the user.
  static Result<std::unique_ptr<Forwarder>, std::string> create(io::EventLoop& loop, lb::Router router,
                                                                const ForwarderOptions& options);
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // New settings (SIGHUP): takes effect from the next datagram. Refused (with a message) when a
  // backend's address family cannot be reached from the backend socket.
  Result<void, std::string> replace_router(lb::Router router);

  const SocketAddress& listen_address() const { return listen_.local_address(); }
  const SocketAddress& backend_socket_address() const { return backends_.local_address(); }
  const lb::Router& router() const { return router_; }
  const ForwarderStats& stats() const { return stats_; }
  // "from-clients=... server-id=... ..." on one line.
  std::string stats_line() const;

 private:
  Forwarder(io::EventLoop& loop, lb::Router router, io::UdpSocket listen, io::UdpSocket backends, RoutingMode mode);
  void index_backends();
  void on_client_datagrams();
  void on_backend_datagrams();
  void send(io::UdpSocket& socket, std::uint64_t& sent_counter);

  io::EventLoop& loop_;
  lb::Router router_;
  RoutingMode mode_;
  io::UdpSocket listen_;
  io::UdpSocket backends_;
  bool listen_wildcard_;
  std::unordered_set<SocketAddress> backend_addresses_;
  io::ReceiveBatch batch_;
  std::vector<std::uint8_t> arena_;  // encapsulated datagrams of one batch
  std::vector<io::Transmit> out_;
  ForwarderStats stats_;
};

}  // namespace roam::lbapp
