#include "netsim_pair.h"

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <sstream>

namespace roam::sim {

std::shared_ptr<tls::TlsContext> server_tls() {
  static const std::shared_ptr<tls::TlsContext> ctx = [] {
    tls::ServerOptions so;
    so.alpn = {kAlpn};
    so.self_signed.dns_names = {"localhost"};
    // Certificate validity only; the handshake itself runs in virtual time.
    so.self_signed.now = std::chrono::system_clock::now();
    auto r = tls::TlsContext::create_server(so);
    if (!r) {
      std::cerr << "server TLS context: " << r.error().reason << '\n';
      return std::shared_ptr<tls::TlsContext>();
    }
    return *r;
  }();
  return ctx;
}

std::shared_ptr<tls::TlsContext> client_tls() {
  static const std::shared_ptr<tls::TlsContext> ctx = [] {
    tls::ClientOptions co;
    co.alpn = {kAlpn};
    co.insecure_skip_verify = true;
    auto r = tls::TlsContext::create_client(co);
    if (!r) {
      std::cerr << "client TLS context: " << r.error().reason << '\n';
      return std::shared_ptr<tls::TlsContext>();
    }
    return *r;
  }();
  return ctx;
}

Pair::Pair(const PairOptions& options) : net_(options.seed) {
  server_config_.server = true;
  server_config_.connection = options.server;
  endpoint::EndpointConfig ccfg;
  ccfg.connection = options.client;
  server_ = &net_.add_node(
      "server", std::make_unique<endpoint::Endpoint>(server_config_, server_tls(), net_.make_random(1)),
      {server_addr});
  client_ = &net_.add_node(
      "client",
      std::make_unique<endpoint::Endpoint>(ccfg, options.client_tls ? options.client_tls : client_tls(),
                                           net_.make_random(2)),
      {client_addr});
  client_addrs_ = {client_addr};
  server_addrs_ = {server_addr};
  net_.connect(client_addr, server_addr, options.up, options.down);
  if (options.trace || std::getenv("ROAM_SIM_TRACE")) net_.set_trace(&std::cerr);
  auto h = client_ep().connect("localhost", client_addr, server_addr, net_.now());
  if (h) {
    handle_ = *h;
  } else {
    connect_failed_ = true;
  }
  net_.on_step([this] {
    server_apps_.pump(server_ep(), net_.now());
    if (auto* c = client_conn()) app_.pump(*c, net_.now());
  });
}

void Pair::add_client_address(const SocketAddress& a, const LinkConfig& up, const LinkConfig& down) {
  net_.add_address(*client_, a);
  for (const auto& s : server_addrs_) net_.connect(a, s, up, down);
  client_addrs_.push_back(a);
}

void Pair::add_server_address(const SocketAddress& a, const LinkConfig& up, const LinkConfig& down) {
  net_.add_address(*server_, a);
  for (const auto& c : client_addrs_) net_.connect(c, a, up, down);
  server_addrs_.push_back(a);
}

void Pair::set_link_up(const SocketAddress& client_side, const SocketAddress& server_side, bool up) {
  link(client_side, server_side).config().up = up;
  link(server_side, client_side).config().up = up;
}

void Pair::restart_server(std::vector<std::uint8_t> new_reset_key) {
  ++restarts_;
  if (!new_reset_key.empty()) server_config_.connection.reset_key = std::move(new_reset_key);
  server_->replace_endpoint(
      std::make_unique<endpoint::Endpoint>(server_config_, server_tls(), net_.make_random(100 + restarts_)));
  server_apps_.forget_connections();  // the hook and settings stay
}

conn::Connection* Pair::server_conn() {
  conn::Connection* found = nullptr;
  server_ep().for_each_connection([&](endpoint::ConnectionHandle, conn::Connection& c) {
    if (!found) found = &c;
  });
  return found;
}

ServerApp* Pair::server_app() {
  std::optional<endpoint::ConnectionHandle> first;
  server_ep().for_each_connection([&](endpoint::ConnectionHandle h, conn::Connection&) {
    if (!first) first = h;
  });
  return first ? server_apps_.app(*first) : nullptr;
}

bool Pair::handshake(Duration timeout) {
  if (connect_failed_) return false;
  return net_.run_until(
      [this] {
        auto* c = client_conn();
        auto* s = server_conn();
        return c && s && c->is_established() && s->is_established();
      },
      timeout);
}

bool Pair::run_transfers(Duration timeout) {
  if (connect_failed_) return false;
  return net_.run_until(
             [this] {
               auto* c = client_conn();
               return app_.all_done() || !c || c->is_closing() || app_.close_event().has_value();
             },
             timeout) &&
         app_.all_done();
}

PairCounters Pair::counters() {
  PairCounters k;
  if (auto* c = client_conn()) {
    const auto s = c->stats();
    k.client_packets_sent = s.packets_sent;
    k.client_packets_lost = s.packets_lost;
  }
  if (auto* c = server_conn()) {
    const auto s = c->stats();
    k.server_packets_sent = s.packets_sent;
    k.server_packets_lost = s.packets_lost;
  }
  const auto& ns = net_.stats();
  k.network_drops = net_.link_drops() + ns.dropped_no_local + ns.dropped_no_route + ns.dropped_no_node;
  k.datagrams_sent = ns.datagrams_sent;
  return k;
}

std::string Pair::summary() {
  const auto k = counters();
  std::ostringstream o;
  o << "seed=" << net_.seed() << " vtime=" << format_duration(net_.now() - Instant{} - std::chrono::seconds(1000))
    << " steps=" << net_.stats().steps << " datagrams=" << k.datagrams_sent << " net_drops=" << k.network_drops
    << " client(sent=" << k.client_packets_sent << " lost=" << k.client_packets_lost << ")"
    << " server(sent=" << k.server_packets_sent << " lost=" << k.server_packets_lost << ")"
    << " transfers=" << app_.completed() << "/" << app_.transfers().size();
  if (auto* c = client_conn()) o << " client_closing=" << c->is_closing();
  if (app_.close_event()) o << " close=\"" << app_.close_event()->reason << "\" code=" << app_.close_event()->error_code;
  return o.str();
}

}  // namespace roam::sim
