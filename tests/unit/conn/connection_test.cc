// A client and a server Connection exchanging datagrams in memory (no sockets, virtual time).
#include "conn/connection.h"

#include <gtest/gtest.h>

#include <deque>
#include <functional>

#include "common/random.h"
#include "tls/context.h"

namespace roam::conn {
namespace {

struct Pair {
  SeededRandom rng{42};
  SocketAddress client_addr = *SocketAddress::parse("127.0.0.1:50000");
  SocketAddress server_addr = *SocketAddress::parse("127.0.0.1:4433");
  std::unique_ptr<Connection> client;
  std::unique_ptr<Connection> server;
  Instant now{};
  ConnectionConfig cfg;
  std::shared_ptr<tls::TlsContext> server_tls;
  // Drop every n-th datagram (0: none), for loss tests.
  std::size_t drop_every = 0;
  std::size_t datagrams = 0;
  Duration one_way = std::chrono::milliseconds(10);
  // What the network does to the ECN codepoint (nullptr: carries it unchanged).
  std::function<std::uint8_t(std::uint8_t)> ecn_network;
  // The path MTU: larger datagrams are dropped (0: no limit).
  std::size_t max_wire = 0;
  struct InFlight {
    Instant arrival;
    bool to_server;
    std::vector<std::uint8_t> bytes;
    std::uint8_t ecn = 0;
  };
  std::deque<InFlight> wire;

  static std::shared_ptr<tls::TlsContext> make_server_tls(bool early_data = true) {
    tls::ServerOptions so;
    so.alpn = {"perf"};
    so.self_signed.dns_names = {"localhost"};
    so.self_signed.now = std::chrono::system_clock::now();
    so.early_data = early_data;
    auto st = tls::TlsContext::create_server(so);
    if (!st) ADD_FAILURE() << "server tls: " << st.error().reason;
    return st ? *st : nullptr;
  }
  static std::shared_ptr<tls::TlsContext> make_client_tls() {
    tls::ClientOptions co;
    co.alpn = {"perf"};
    co.insecure_skip_verify = true;
    auto ct = tls::TlsContext::create_client(co);
    if (!ct) ADD_FAILURE() << "client tls: " << ct.error().reason;
    return ct ? *ct : nullptr;
  }

  Pair() : Pair(make_server_tls(), make_client_tls()) {}
  // With given TLS contexts (a second connection resumes the first one's session).
  Pair(std::shared_ptr<tls::TlsContext> stls, std::shared_ptr<tls::TlsContext> ctls,
       const ResumptionState* resume = nullptr)
      : server_tls(std::move(stls)) {
    cfg.new_token = [](const SocketAddress&) { return std::vector<std::uint8_t>{'t', 'o', 'k'}; };
    auto c = Connection::connect(cfg, ctls, "localhost", client_addr, server_addr, rng, now, resume);
    if (!c) ADD_FAILURE() << "connect: " << c.error().reason;
    client = std::move(c).value();
  }

  void flush(Connection& c, bool to_server) {
    std::vector<std::uint8_t> buf(64 * 1500);
    while (auto t = c.poll_transmit(now, buf, 32)) {
      for (std::size_t off = 0; off < t->size; off += t->segment_size) {
        const std::size_t n = std::min(t->segment_size, t->size - off);
        ++datagrams;
        if (drop_every && datagrams % drop_every == 0) continue;
        if (max_wire && n > max_wire) continue;
        const std::uint8_t ecn = ecn_network ? ecn_network(t->ecn) : t->ecn;
        wire.push_back(
            {now + one_way, to_server, std::vector<std::uint8_t>(buf.begin() + off, buf.begin() + off + n), ecn});
      }
    }
  }

  void deliver(InFlight& d) {
    if (d.to_server) {
      if (!server) {
        auto hdr = wire::parse_packet_header(d.bytes, 8);
        ASSERT_TRUE(hdr.ok());
        auto s = Connection::accept(cfg, server_tls, *hdr, hdr->dcid, std::nullopt, server_addr, client_addr, rng, now);
        ASSERT_TRUE(s.ok()) << s.error().reason;
        server = std::move(s).value();
      }
      server->on_datagram(Datagram{server_addr, client_addr, d.ecn, d.bytes}, now);
    } else {
      client->on_datagram(Datagram{client_addr, server_addr, d.ecn, d.bytes}, now);
    }
  }

  // Advances virtual time by one event: a delivery or a timer.
  bool step() {
    flush(*client, true);
    if (server) flush(*server, false);
    std::optional<Instant> next;
    if (!wire.empty()) next = wire.front().arrival;
    for (Connection* c : {client.get(), server.get()}) {
      if (!c) continue;
      if (auto t = c->next_timeout(); t && (!next || *t < *next)) next = t;
    }
    if (!next) return false;
    now = std::max(now, *next);
    while (!wire.empty() && wire.front().arrival <= now) {
      InFlight d = std::move(wire.front());
      wire.pop_front();
      deliver(d);
    }
    for (Connection* c : {client.get(), server.get()}) {
      if (c) {
        if (auto t = c->next_timeout(); t && *t <= now) c->on_timeout(now);
      }
    }
    return true;
  }
};

TEST(Connection, HandshakeCompletesAndConfirms) {
  Pair p;
  for (int i = 0; i < 200 && !(p.client->is_established() && p.server && p.server->is_established()); ++i) p.step();
  ASSERT_TRUE(p.server);
  EXPECT_TRUE(p.client->is_established());
  EXPECT_TRUE(p.server->is_established());
  EXPECT_EQ(p.client->alpn(), "perf");
  EXPECT_EQ(p.server->alpn(), "perf");
}

std::uint64_t fnv(Bytes b, std::uint64_t h = 1469598103934665603ull) {
  for (auto x : b) h = (h ^ x) * 1099511628211ull;
  return h;
}

void transfer(Pair& p, std::size_t total, bool key_update = false) {
  for (int i = 0; i < 200 && !(p.client->is_established() && p.server && p.server->is_established()); ++i) p.step();
  ASSERT_TRUE(p.client->is_established());
  auto sid = p.client->open_stream(true);
  ASSERT_TRUE(sid.ok());
  std::vector<std::uint8_t> data(total);
  SeededRandom r(9);
  r.fill(data);
  std::size_t written = 0;
  std::uint64_t h = 1469598103934665603ull;
  std::size_t received = 0;
  bool fin = false;
  std::vector<std::uint8_t> rbuf(65536);
  bool updated = false;
  for (int i = 0; i < 200000 && !fin; ++i) {
    if (key_update && !updated && received > total / 3 && p.client->initiate_key_update().ok()) updated = true;
    if (written < total) {
      auto n = p.client->write(*sid, Bytes(data).subspan(written), true);
      ASSERT_TRUE(n.ok());
      written += *n;
    }
    ASSERT_TRUE(p.step());
    while (auto ev = p.server->poll_event()) {
      (void)ev;
    }
    for (;;) {
      auto rr = p.server->read(*sid, rbuf);
      if (!rr.ok() || (rr->bytes == 0 && !rr->fin)) break;
      h = fnv(Bytes(rbuf.data(), rr->bytes), h);
      received += rr->bytes;
      if (rr->fin) {
        fin = true;
        break;
      }
    }
  }
  EXPECT_TRUE(fin);
  EXPECT_EQ(received, total);
  EXPECT_EQ(h, fnv(data));
}

TEST(Connection, TransfersOneMegabyteByteExact) {
  Pair p;
  transfer(p, 1 << 20);
}

TEST(Connection, KeyUpdateMidTransfer) {
  Pair p;
  transfer(p, 2 << 20, true);
  EXPECT_EQ(p.client->write_key_generation(), 1u);
  EXPECT_EQ(p.server->read_key_generation(), 1u);
  // The server follows with its own write keys (RFC 9001 6.2).
  EXPECT_EQ(p.server->write_key_generation(), 1u);
  EXPECT_EQ(p.client->read_key_generation(), 1u);
}

TEST(Connection, TransfersUnderLoss) {
  Pair p;
  p.drop_every = 7;
  transfer(p, 512 * 1024);
  EXPECT_GT(p.server->stats().packets_received, 0u);
}

// ECN (RFC 9000 13.4): marks that the network carries validate the path; marks it clears stop
// the marking without hurting the transfer; CE marks make the sender back off like a loss.
EcnState server_ecn(const Pair& p) {
  for (const auto& path : p.server->paths()) {
    if (path.active) return path.ecn;
  }
  return EcnState::kFailed;
}

TEST(Connection, EcnCarriedValidatesThePath) {
  Pair p;
  transfer(p, 1 << 20);
  EXPECT_EQ(server_ecn(p), EcnState::kCapable);
}

TEST(Connection, EcnBleachedByTheNetworkIsDisabled) {
  Pair p;
  p.ecn_network = [](std::uint8_t) { return kEcnNotEct; };
  transfer(p, 1 << 20);
  EXPECT_EQ(server_ecn(p), EcnState::kFailed);
}

TEST(Connection, EcnCongestionExperiencedShrinksTheWindow) {
  Pair clean;
  transfer(clean, 2 << 20);
  Pair marked;
  int n = 0;
  // An AQM that marks one in twenty ECT packets Congestion Experienced.
  marked.ecn_network = [&n](std::uint8_t cp) { return cp == kEcnEct0 && ++n % 20 == 0 ? kEcnCe : cp; };
  transfer(marked, 2 << 20);
  EXPECT_EQ(server_ecn(marked), EcnState::kCapable);
  EXPECT_LT(marked.server->stats().cwnd, clean.server->stats().cwnd);
  EXPECT_EQ(marked.server->stats().packets_lost, 0u);
}

// PMTU discovery (RFC 8899, RFC 9000 14.3).
std::size_t active_pmtu(const Connection& c) {
  for (const auto& path : c.paths()) {
    if (path.active) return path.max_datagram;
  }
  return 0;
}
std::size_t server_pmtu(const Pair& p) { return active_pmtu(*p.server); }

TEST(Connection, PmtuDiscoveryReachesTheLargestSize) {
  Pair p;
  transfer(p, 1 << 20);
  EXPECT_EQ(server_pmtu(p), 1472u);
  EXPECT_EQ(active_pmtu(*p.client), 1472u);
  EXPECT_EQ(p.client->stats().packets_lost + p.server->stats().packets_lost, 0u);
}

TEST(Connection, PmtuDiscoveryFindsASmallerPathMtu) {
  Pair p;
  p.max_wire = 1350;
  transfer(p, 2 << 20);
  for (std::size_t m : {server_pmtu(p), active_pmtu(*p.client)}) {
    EXPECT_LE(m, 1350u);
    EXPECT_GE(m, 1350u - PmtuSearch::kGranularity);
  }
}

TEST(Connection, PmtuDiscoveryCanBeTurnedOff) {
  Pair p;
  p.cfg.pmtu_max = 0;  // the server is created from this config on the first Initial
  transfer(p, 256 * 1024);
  EXPECT_EQ(server_pmtu(p), 1200u);
}

TEST(Connection, PmtuBlackHoleFallsBackAndTheTransferCompletes) {
  Pair p;
  transfer(p, 512 * 1024);
  ASSERT_EQ(server_pmtu(p), 1472u);
  p.max_wire = 1280;  // the route changed: big datagrams vanish from now on
  transfer(p, 1 << 20);
  EXPECT_LE(active_pmtu(*p.client), 1280u);
}

// Resumption and 0-RTT (RFC 9001 4.6): a second connection sends its request with the first
// flight; the server reads it before the handshake completes.
std::optional<ResumptionState> first_connection(const std::shared_ptr<tls::TlsContext>& stls,
                                                const std::shared_ptr<tls::TlsContext>& ctls) {
  Pair p(stls, ctls);
  transfer(p, 10000);
  for (int i = 0; i < 50; ++i) p.step();  // the NewSessionTicket and NEW_TOKEN arrive
  return p.client->resumption_state();
}

// Opens a stream on a client that has not sent anything yet, writes `data` with FIN, and runs
// until the server read all of it. Returns what the server read.
std::vector<std::uint8_t> early_request(Pair& p, const std::vector<std::uint8_t>& data) {
  auto sid = p.client->open_stream(true);
  EXPECT_TRUE(sid.ok()) << (sid.ok() ? "" : sid.error().reason);
  if (!sid.ok()) return {};
  auto n = p.client->write(*sid, data, true);
  EXPECT_TRUE(n.ok() && *n == data.size());
  std::vector<std::uint8_t> got;
  std::vector<std::uint8_t> buf(65536);
  for (int i = 0; i < 2000; ++i) {
    if (!p.step()) break;
    if (!p.server) continue;
    while (p.server->poll_event()) {
    }
    auto rr = p.server->read(*sid, buf);
    if (rr.ok()) got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(rr->bytes));
    if (rr.ok() && rr->fin) break;
  }
  return got;
}

TEST(Connection, ZeroRttRequestArrivesBeforeTheHandshakeEnds) {
  auto stls = Pair::make_server_tls();
  auto ctls = Pair::make_client_tls();
  auto resume = first_connection(stls, ctls);
  ASSERT_TRUE(resume.has_value());
  EXPECT_FALSE(resume->transport_params.empty());
  EXPECT_EQ(resume->token, (std::vector<std::uint8_t>{'t', 'o', 'k'}));

  Pair p(stls, ctls, &*resume);
  std::vector<std::uint8_t> request(3000);
  SeededRandom(5).fill(request);
  EXPECT_EQ(early_request(p, request), request);
  ASSERT_TRUE(p.server);
  EXPECT_FALSE(p.server->is_handshake_complete());  // the request was read from 0-RTT packets
  for (int i = 0; i < 200 && !(p.client->is_established() && p.server->is_established()); ++i) p.step();
  while (auto ev = p.client->poll_event()) {
    if (auto* c = std::get_if<ConnectionClosed>(&*ev)) ADD_FAILURE() << "client closed: " << c->error_code << " " << c->reason;
  }
  while (auto ev = p.server->poll_event()) {
    if (auto* c = std::get_if<ConnectionClosed>(&*ev)) ADD_FAILURE() << "server closed: " << c->error_code << " " << c->reason;
  }
  ASSERT_TRUE(p.client->is_established());
  ASSERT_TRUE(p.server->is_established());
  const auto cs = p.client->stats();
  const auto ss = p.server->stats();
  EXPECT_GT(cs.zero_rtt_packets_sent, 0u);
  EXPECT_GT(ss.zero_rtt_packets_received, 0u);
  EXPECT_TRUE(cs.resumed);
  EXPECT_TRUE(cs.zero_rtt_accepted);
  EXPECT_TRUE(ss.zero_rtt_accepted);
}

TEST(Connection, RefusedZeroRttIsSentAgainIn1Rtt) {
  auto stls = Pair::make_server_tls(/*early_data=*/false);
  auto ctls = Pair::make_client_tls();
  auto resume = first_connection(stls, ctls);
  ASSERT_TRUE(resume.has_value());
  Pair p(stls, ctls, &*resume);
  std::vector<std::uint8_t> request(3000);
  SeededRandom(6).fill(request);
  EXPECT_EQ(early_request(p, request), request);
  ASSERT_TRUE(p.server);
  EXPECT_TRUE(p.client->stats().resumed);
  EXPECT_FALSE(p.client->stats().zero_rtt_accepted);
  EXPECT_EQ(p.server->stats().zero_rtt_packets_received, 0u);
}

TEST(Connection, ResumptionWithAnotherServersTicketIsAFullHandshake) {
  auto ctls = Pair::make_client_tls();
  auto resume = first_connection(Pair::make_server_tls(), ctls);
  ASSERT_TRUE(resume.has_value());
  Pair p(Pair::make_server_tls(), ctls, &*resume);  // a fresh ticket key: no resumption
  std::vector<std::uint8_t> request(2000, 7);
  EXPECT_EQ(early_request(p, request), request);
  EXPECT_FALSE(p.client->stats().resumed);
  EXPECT_FALSE(p.client->stats().zero_rtt_accepted);
}

TEST(Connection, ApplicationCloseReachesPeer) {
  Pair p;
  for (int i = 0; i < 200 && !(p.client->is_established() && p.server && p.server->is_established()); ++i) p.step();
  p.client->close(7, "bye");
  bool seen = false;
  for (int i = 0; i < 100 && !seen; ++i) {
    p.step();
    while (auto ev = p.server->poll_event()) {
      if (auto* c = std::get_if<ConnectionClosed>(&*ev)) {
        EXPECT_TRUE(c->by_peer);
        EXPECT_TRUE(c->application);
        EXPECT_EQ(c->error_code, 7u);
        EXPECT_EQ(c->reason, "bye");
        seen = true;
      }
    }
  }
  EXPECT_TRUE(seen);
}

struct StringSink : qlog::Sink {
  std::string* out;
  explicit StringSink(std::string* o) : out(o) {}
  void write(std::string_view r) override { out->append(r); }
};

TEST(Connection, WritesQlogForBothSides) {
  std::string client_log, server_log;
  Pair p;
  p.cfg.qlog_sink_factory = [&](const ConnectionId&, bool server) -> std::unique_ptr<qlog::Sink> {
    return std::make_unique<StringSink>(server ? &server_log : &client_log);
  };
  // Recreate the client with the qlog-enabled config.
  tls::ClientOptions co;
  co.alpn = {"perf"};
  co.insecure_skip_verify = true;
  p.client = std::move(Connection::connect(p.cfg, *tls::TlsContext::create_client(co), "localhost", p.client_addr,
                                           p.server_addr, p.rng, p.now).value());
  transfer(p, 100000);
  p.client->close(0, "done");
  for (int i = 0; i < 50; ++i) p.step();
  for (const std::string* log : {&client_log, &server_log}) {
    EXPECT_NE(log->find("\"vantage_point\""), std::string::npos);
    EXPECT_NE(log->find("\"name\":\"quic:packet_sent\""), std::string::npos);
    EXPECT_NE(log->find("\"name\":\"quic:packet_received\""), std::string::npos);
    EXPECT_NE(log->find("\"frame_type\":\"stream\""), std::string::npos);
    EXPECT_NE(log->find("\"name\":\"quic:recovery_metrics_updated\""), std::string::npos);
    EXPECT_NE(log->find("\"name\":\"quic:parameters_set\""), std::string::npos);
    EXPECT_NE(log->find("\"name\":\"quic:connection_closed\""), std::string::npos);
    // Every record is RS ... LF.
    std::size_t records = 0;
    for (std::size_t pos = 0; pos < log->size();) {
      ASSERT_EQ((*log)[pos], '\x1e');
      const auto end = log->find('\n', pos);
      ASSERT_NE(end, std::string::npos);
      ++records;
      pos = end + 1;
    }
    EXPECT_GT(records, 10u);
  }
  EXPECT_NE(client_log.find("\"name\":\"quic:connection_id_updated\""), std::string::npos);
}

TEST(Connection, KeepAliveHoldsAnIdleConnectionOpen) {
  Pair p;
  p.cfg.keep_alive = std::chrono::seconds(10);
  // Recreate the client so both sides run with keep-alive (the server is created from p.cfg).
  tls::ClientOptions co;
  co.alpn = {"perf"};
  co.insecure_skip_verify = true;
  p.client = std::move(Connection::connect(p.cfg, *tls::TlsContext::create_client(co), "localhost", p.client_addr,
                                           p.server_addr, p.rng, p.now).value());
  for (int i = 0; i < 200 && !(p.client->is_established() && p.server && p.server->is_established()); ++i) p.step();
  ASSERT_TRUE(p.client->is_established());
  const auto sent_before = p.client->stats().packets_sent;
  const Instant start = p.now;
  // Three idle timeouts' worth of silence from the application.
  for (int i = 0; i < 100000 && p.now - start < std::chrono::seconds(90); ++i) ASSERT_TRUE(p.step());
  EXPECT_FALSE(p.client->is_closing());
  EXPECT_FALSE(p.server->is_closing());
  // About one PING per keep-alive interval (each acknowledged), not a flood.
  const auto pings = p.client->stats().packets_sent - sent_before;
  EXPECT_GE(pings, 8u);
  EXPECT_LE(pings, 40u);
}

TEST(Connection, IdleTimeoutClosesSilently) {
  Pair p;
  for (int i = 0; i < 200 && !(p.client->is_established() && p.server && p.server->is_established()); ++i) p.step();
  for (int i = 0; i < 1000 && !p.client->is_closed(); ++i) p.step();
  EXPECT_TRUE(p.client->is_closed());
  EXPECT_GE(p.now - Instant{}, std::chrono::seconds(30));
}

}  // namespace
}  // namespace roam::conn
