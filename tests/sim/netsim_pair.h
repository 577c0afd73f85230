// A client and a server endpoint on a simulated network, with the scenario application on both
// ends: the starting point of most scenarios.
//
//   client 10.0.0.1:50000  <-- up / down links -->  server 10.0.0.2:4433
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "conn/config.h"
#include "endpoint/endpoint.h"
#include "netsim.h"
#include "netsim_app.h"
#include "tls/context.h"

namespace roam::sim {

struct PairOptions {
  std::uint64_t seed = 1;
  conn::ConnectionConfig client;
  conn::ConnectionConfig server;
  LinkConfig up;    // client -> server
  LinkConfig down;  // server -> client
  bool trace = false;  // datagram trace to stderr (also with ROAM_SIM_TRACE set in the environment)
  // The client's TLS context (e.g. one that writes a key log); nullptr: the shared client_tls().
  std::shared_ptr<tls::TlsContext> client_tls;
};

// Shared TLS contexts (a self-signed certificate is generated once per process).
std::shared_ptr<tls::TlsContext> server_tls();
std::shared_ptr<tls::TlsContext> client_tls();
constexpr const char* kAlpn = "roam-sim";

struct PairCounters {
  std::uint64_t client_packets_sent = 0;
  std::uint64_t client_packets_lost = 0;
  std::uint64_t server_packets_sent = 0;
  std::uint64_t server_packets_lost = 0;
  std::uint64_t network_drops = 0;  // by links, routing or NAT
  std::uint64_t datagrams_sent = 0;
};

class Pair {
 public:
  explicit Pair(const PairOptions& options);

  SocketAddress client_addr = *SocketAddress::parse("10.0.0.1:50000");
  SocketAddress server_addr = *SocketAddress::parse("10.0.0.2:4433");

  Network& net() { return net_; }
  Node& client_node() { return *client_; }
  Node& server_node() { return *server_; }
  endpoint::Endpoint& client_ep() { return client_->endpoint(); }
  endpoint::Endpoint& server_ep() { return server_->endpoint(); }
  // The client's connection (nullptr once reaped); the first server connection, if any.
  conn::Connection* client_conn() { return client_ep().connection(handle_); }
  conn::Connection* server_conn();
  // The application of server_conn(), if any.
  ServerApp* server_app();
  ClientApp& app() { return app_; }
  ServerApps& server_apps() { return server_apps_; }
  Link& up() { return *net_.link(client_addr, server_addr); }
  Link& down() { return *net_.link(server_addr, client_addr); }

  // Multi-homing. Gives the client (or the server) another address, e.g. a second interface,
  // with links between it and every address of the other side (`up`: client to server).
  void add_client_address(const SocketAddress& a, const LinkConfig& up, const LinkConfig& down);
  void add_server_address(const SocketAddress& a, const LinkConfig& up, const LinkConfig& down);
  // The client's addresses, client_addr first; the server's, server_addr first.
  const std::vector<SocketAddress>& client_addresses() const { return client_addrs_; }
  const std::vector<SocketAddress>& server_addresses() const { return server_addrs_; }
  // The link between two addresses (ports ignored); it must exist.
  Link& link(const SocketAddress& from, const SocketAddress& to) { return *net_.link(from, to); }
  // Takes both directions between two addresses down or up (an interface that lost its carrier).
  void set_link_up(const SocketAddress& client_side, const SocketAddress& server_side, bool up);

  // Replaces the server endpoint with a fresh one, as after a crash: every connection is
  // forgotten. The configuration is kept, so is the static reset key if options.server.reset_key
  // was set, unless `new_reset_key` is given.
  void restart_server(std::vector<std::uint8_t> new_reset_key = {});
  std::uint64_t server_restarts() const { return restarts_; }

  // Steps until both sides completed the handshake (or `timeout` of virtual time).
  bool handshake(Duration timeout);
  // Steps until every queued transfer finished or the client connection closed.
  bool run_transfers(Duration timeout);
  PairCounters counters();
  // One line for failure messages: seed, virtual time, counters.
  std::string summary();

 private:
  Network net_;
  endpoint::EndpointConfig server_config_;
  std::uint64_t restarts_ = 0;
  Node* client_ = nullptr;
  Node* server_ = nullptr;
  std::vector<SocketAddress> client_addrs_;
  std::vector<SocketAddress> server_addrs_;
  endpoint::ConnectionHandle handle_ = 0;
  ClientApp app_;
  ServerApps server_apps_;
  bool connect_failed_ = false;
};

}  // namespace roam::sim
