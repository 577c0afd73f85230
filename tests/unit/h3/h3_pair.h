// A client and a server Connection (ALPN h3) exchanging datagrams in memory in virtual time, each
// with an h3::Session on top once its handshake completes. Tests drive it with step()/run_until()
// and look at what each session reported.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "common/random.h"
#include "conn/connection.h"
#include "h3/session.h"
#include "tls/context.h"
#include "wire/packet_header.h"

namespace roam::h3::testing {

struct Side {
  std::unique_ptr<conn::Connection> conn;
  std::unique_ptr<Session> session;
  std::vector<Event> events;  // everything the session reported, in order
  std::vector<conn::Event> conn_events;
};

struct H3Pair {
  SeededRandom rng{7};
  SocketAddress client_addr = *SocketAddress::parse("127.0.0.1:50000");
  SocketAddress server_addr = *SocketAddress::parse("127.0.0.1:443");
  Instant now{};
  conn::ConnectionConfig cfg;
  SessionConfig client_session_cfg, server_session_cfg;
  std::shared_ptr<tls::TlsContext> server_tls;
  Side client, server;
  Duration one_way = std::chrono::milliseconds(5);
  // Called for each session event as it is polled, before it is stored (servers answer here).
  std::function<void(const Event&)> on_client_event, on_server_event;
  struct InFlight {
    Instant arrival;
    bool to_server;
    std::vector<std::uint8_t> bytes;
  };
  std::deque<InFlight> wire;

  explicit H3Pair(std::vector<std::string> alpn = {"h3"}) {
    tls::ServerOptions so;
    so.alpn = alpn;
    so.self_signed.dns_names = {"localhost"};
    so.self_signed.now = std::chrono::system_clock::now();
    auto st = tls::TlsContext::create_server(so);
    if (!st) ADD_FAILURE() << "server tls: " << st.error().reason;
    server_tls = *st;
    tls::ClientOptions co;
    co.alpn = alpn;
    co.insecure_skip_verify = true;
    auto ct = tls::TlsContext::create_client(co);
    if (!ct) ADD_FAILURE() << "client tls: " << ct.error().reason;
    auto c = conn::Connection::connect(cfg, *ct, "localhost", client_addr, server_addr, rng, now);
    if (!c) ADD_FAILURE() << "connect: " << c.error().reason;
    client.conn = std::move(c).value();
  }

  void flush(conn::Connection& c, bool to_server) {
    std::vector<std::uint8_t> buf(32 * 1500);
    while (auto t = c.poll_transmit(now, buf, 32)) {
      for (std::size_t off = 0; off < t->size; off += t->segment_size) {
        const std::size_t n = std::min(t->segment_size, t->size - off);
        wire.push_back({now + one_way, to_server, std::vector<std::uint8_t>(buf.begin() + off, buf.begin() + off + n)});
      }
    }
  }

  void deliver(InFlight& d) {
    if (d.to_server) {
      if (!server.conn) {
        auto hdr = wire::parse_packet_header(d.bytes, 8);
        ASSERT_TRUE(hdr.ok());
        auto s = conn::Connection::accept(cfg, server_tls, *hdr, hdr->dcid, std::nullopt, server_addr, client_addr, rng,
                                          now);
        ASSERT_TRUE(s.ok()) << s.error().reason;
        server.conn = std::move(s).value();
      }
      server.conn->on_datagram(conn::Datagram{server_addr, client_addr, 0, d.bytes}, now);
    } else {
      client.conn->on_datagram(conn::Datagram{client_addr, server_addr, 0, d.bytes}, now);
    }
  }

  // The application's round for one side: start the session once the handshake is done, hand it
  // the connection's events, pump, collect the session's events (reacting through the hooks),
  // pump again so reactions go out.
  void app_round(Side& s, const SessionConfig& scfg, const std::function<void(const Event&)>& hook) {
    if (!s.conn) return;
    if (!s.session && s.conn->is_handshake_complete() && !s.conn->is_closing()) {
      auto started = Session::start(*s.conn, scfg);
      ASSERT_TRUE(started.ok()) << started.error().reason;
      s.session = std::move(started).value();
    }
    while (auto ev = s.conn->poll_event()) {
      if (s.session) s.session->on_connection_event(*ev);
      s.conn_events.push_back(std::move(*ev));
    }
    if (!s.session) return;
    s.session->pump();
    while (auto e = s.session->poll_event()) {
      if (hook) hook(*e);
      s.events.push_back(std::move(*e));
    }
    s.session->pump();
  }

  // Advances virtual time by one event (a delivery or a timer), but not past `limit`. False when
  // nothing is left before it.
  bool step(std::optional<Instant> limit = std::nullopt) {
    app_round(client, client_session_cfg, on_client_event);
    app_round(server, server_session_cfg, on_server_event);
    flush(*client.conn, true);
    if (server.conn) flush(*server.conn, false);
    std::optional<Instant> next;
    if (!wire.empty()) next = wire.front().arrival;
    for (conn::Connection* c : {client.conn.get(), server.conn.get()}) {
      if (!c) continue;
      if (auto t = c->next_timeout(); t && (!next || *t < *next)) next = t;
    }
    if (!next) return false;
    if (limit && *next > *limit) {
      now = std::max(now, *limit);
      return false;
    }
    now = std::max(now, *next);
    while (!wire.empty() && wire.front().arrival <= now) {
      InFlight d = std::move(wire.front());
      wire.pop_front();
      deliver(d);
    }
    for (conn::Connection* c : {client.conn.get(), server.conn.get()}) {
      if (c) {
        if (auto t = c->next_timeout(); t && *t <= now) c->on_timeout(now);
      }
    }
    return true;
  }

  // Steps until done() or the step budget runs out; returns done().
  bool run_until(const std::function<bool()>& done, int max_steps = 200'000) {
    for (int i = 0; i < max_steps && !done(); ++i) {
      if (!step()) break;
    }
    return done();
  }

  // Lets virtual time run for `d` (application rounds included), whatever happens.
  void run_for(Duration d) {
    const Instant end = now + d;
    for (int i = 0; i < 1'000'000 && step(end);) ++i;
    app_round(client, client_session_cfg, on_client_event);
    app_round(server, server_session_cfg, on_server_event);
  }

  bool sessions_up() {
    return run_until([&] { return client.session && server.session; });
  }
};

}  // namespace roam::h3::testing
