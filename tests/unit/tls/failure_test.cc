// Handshake failures and protocol violations: ALPN, transport parameters, levels, garbage input.
#include <gtest/gtest.h>

#include <algorithm>

#include "common/random.h"
#include "tls/session.h"
#include "tls_test_util.h"

namespace roam::tls {
namespace {

using testing::client_context;
using testing::client_params;
using testing::make_pair;
using testing::Pair;
using testing::server_context;
using testing::server_params;

constexpr TransportError kNoApplicationProtocol = crypto_error(120);  // 0x178
constexpr TransportError kMissingExtension = crypto_error(109);       // 0x16d
constexpr TransportError kUnexpectedMessage = crypto_error(10);       // 0x10a

bool is_crypto_error(TransportError e) {
  const auto v = static_cast<std::uint64_t>(e);
  return v >= 0x100 && v <= 0x1ff;
}

// The client's first flight and the server's answer, split by level.
struct Flights {
  std::vector<std::uint8_t> client_hello;
  std::vector<std::uint8_t> server_initial;
  std::vector<std::uint8_t> server_handshake;
};

Flights first_flights(Pair& p) {
  Flights f;
  Level level;
  EXPECT_TRUE(p.client.session->start());
  EXPECT_TRUE(p.client.session->take_output(level, f.client_hello));
  EXPECT_TRUE(p.server.session->provide_data(Level::kInitial, f.client_hello));
  std::vector<std::uint8_t> data;
  while (p.server.session->take_output(level, data)) {
    auto& into = level == Level::kInitial ? f.server_initial : f.server_handshake;
    into.insert(into.end(), data.begin(), data.end());
  }
  return f;
}

TEST(TlsFailure, AlpnMismatchFailsWithNoApplicationProtocol) {
  ClientOptions co;
  co.alpn = {"unknown-protocol"};
  Pair p = make_pair(client_context(std::move(co)), server_context());
  EXPECT_FALSE(p.run());
  ASSERT_TRUE(p.server.error.has_value());
  EXPECT_EQ(p.server.error->code, kNoApplicationProtocol) << p.server.error->reason;
  EXPECT_EQ(static_cast<std::uint64_t>(p.server.error->code), 0x178u);
  EXPECT_FALSE(p.client.error.has_value());  // the client just never hears back
}

TEST(TlsFailure, ClientOfferingNoAlpnIsRefused) {
  ClientOptions co;
  co.testing.omit_alpn = true;
  Pair p = make_pair(client_context(std::move(co)), server_context());
  EXPECT_FALSE(p.run());
  ASSERT_TRUE(p.server.error.has_value());
  EXPECT_EQ(p.server.error->code, kNoApplicationProtocol) << p.server.error->reason;
}

TEST(TlsFailure, ServerSelectingNoAlpnIsRefusedByTheClient) {
  ServerOptions so;
  so.testing.omit_alpn = true;
  Pair p = make_pair(client_context(), server_context(std::move(so)));
  EXPECT_FALSE(p.run());
  ASSERT_TRUE(p.client.error.has_value());
  EXPECT_EQ(p.client.error->code, kNoApplicationProtocol) << p.client.error->reason;
}

TEST(TlsFailure, ClientWithoutTransportParametersIsRefused) {
  ClientOptions co;
  co.testing.omit_transport_parameters = true;
  Pair p = make_pair(client_context(std::move(co)), server_context());
  EXPECT_FALSE(p.run());
  ASSERT_TRUE(p.server.error.has_value());
  EXPECT_EQ(p.server.error->code, kMissingExtension) << p.server.error->reason;
  EXPECT_EQ(static_cast<std::uint64_t>(p.server.error->code), 0x16du);
  // The server refused before answering: no ServerHello went out.
  Level level;
  std::vector<std::uint8_t> data;
  EXPECT_FALSE(p.server.session->take_output(level, data));
  EXPECT_FALSE(p.server.session->peer_transport_params().has_value());
}

TEST(TlsFailure, ServerWithoutTransportParametersIsRefused) {
  ServerOptions so;
  so.testing.omit_transport_parameters = true;
  Pair p = make_pair(client_context(), server_context(std::move(so)));
  EXPECT_FALSE(p.run());
  ASSERT_TRUE(p.client.error.has_value());
  EXPECT_EQ(p.client.error->code, kMissingExtension) << p.client.error->reason;
  EXPECT_FALSE(p.client.session->handshake_complete());
}

TEST(TlsFailure, EmptyLocalTransportParametersAreRejected) {
  auto s = TlsSession::create(server_context(), {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, TransportError::kInternalError);
}

TEST(TlsFailure, TamperedTransportParametersFailTheHandshake) {
  Pair p = make_pair(client_context(), server_context());
  ASSERT_TRUE(p.client.session->start());
  Level level;
  std::vector<std::uint8_t> hello;
  ASSERT_TRUE(p.client.session->take_output(level, hello));
  const auto params = client_params();
  auto it = std::search(hello.begin(), hello.end(), params.begin(), params.end());
  ASSERT_NE(it, hello.end());
  *it ^= 0x20;  // an on-path attacker edits the (unauthenticated) Initial
  ASSERT_TRUE(p.server.session->provide_data(Level::kInitial, hello));
  auto tampered = *p.server.session->peer_transport_params();
  EXPECT_NE(tampered, params);
  EXPECT_FALSE(p.finish());
  ASSERT_TRUE(p.client.error.has_value());  // the server's Finished covers what it saw
  EXPECT_TRUE(is_crypto_error(p.client.error->code)) << p.client.error->reason;
  EXPECT_FALSE(p.server.session->handshake_complete());
}

TEST(TlsFailure, CompatibilityModeClientHelloIsAProtocolViolation) {
  Pair p = make_pair(client_context(), server_context());
  ASSERT_TRUE(p.client.session->start());
  Level level;
  std::vector<std::uint8_t> hello;
  ASSERT_TRUE(p.client.session->take_output(level, hello));
  // header(4) legacy_version(2) random(32), then the session id length: give it 32 bytes, as
  // a TLS-over-TCP client in middlebox compatibility mode does (RFC 9001 8.4).
  constexpr std::size_t kSessionIdAt = 4 + 2 + 32;
  ASSERT_EQ(hello.at(kSessionIdAt), 0);
  hello[kSessionIdAt] = 32;
  hello.insert(hello.begin() + kSessionIdAt + 1, 32, 0x5a);
  const std::size_t body = hello.size() - 4;
  hello[1] = static_cast<std::uint8_t>(body >> 16);
  hello[2] = static_cast<std::uint8_t>(body >> 8);
  hello[3] = static_cast<std::uint8_t>(body);
  auto st = p.server.session->provide_data(Level::kInitial, hello);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, TransportError::kProtocolViolation) << st.error().reason;
}

TEST(TlsFailure, CryptoDataInZeroRttIsAProtocolViolation) {
  auto s = TlsSession::create(server_context(), server_params()).value();
  const std::uint8_t byte = 1;
  auto st = s->provide_data(Level::kEarlyData, Bytes(&byte, 1));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, TransportError::kProtocolViolation);
}

TEST(TlsFailure, DataAtALevelWithoutKeysIsAProtocolViolation) {
  auto s = TlsSession::create(server_context(), server_params()).value();
  const std::uint8_t byte = 20;
  auto st = s->provide_data(Level::kHandshake, Bytes(&byte, 1));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, TransportError::kProtocolViolation);
}

TEST(TlsFailure, MoreInitialDataAfterKeysMovedOnIsAProtocolViolation) {
  Pair p = make_pair(client_context(), server_context());
  Flights f = first_flights(p);
  ASSERT_TRUE(p.client.session->provide_data(Level::kInitial, f.server_initial));
  ASSERT_EQ(p.client.session->read_level(), Level::kHandshake);
  auto st = p.client.session->provide_data(Level::kInitial, std::vector<std::uint8_t>{2, 0, 0, 0});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, TransportError::kProtocolViolation);
}

TEST(TlsFailure, ExtraMessageBehindServerHelloIsAProtocolViolation) {
  Pair p = make_pair(client_context(), server_context());
  Flights f = first_flights(p);
  auto initial = f.server_initial;
  initial.insert(initial.end(), {2, 0, 0, 2, 3, 3});  // a second complete "ServerHello"
  auto st = p.client.session->provide_data(Level::kInitial, initial);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, TransportError::kProtocolViolation) << st.error().reason;
}

TEST(TlsFailure, PartialMessageBehindServerHelloIsAProtocolViolation) {
  Pair p = make_pair(client_context(), server_context());
  Flights f = first_flights(p);
  auto initial = f.server_initial;
  initial.insert(initial.end(), {2, 0});
  auto st = p.client.session->provide_data(Level::kInitial, initial);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, TransportError::kProtocolViolation) << st.error().reason;
}

TEST(TlsFailure, HandshakeMessageAtTheWrongLevelIsUnexpected) {
  Pair p = make_pair(client_context(), server_context());
  Flights f = first_flights(p);
  // The whole server flight delivered as Initial data: EncryptedExtensions is not an Initial
  // message.
  auto all = f.server_initial;
  all.insert(all.end(), f.server_handshake.begin(), f.server_handshake.end());
  auto st = p.client.session->provide_data(Level::kInitial, all);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, kUnexpectedMessage) << st.error().reason;
}

TEST(TlsFailure, TruncatedClientHelloWaitsForMore) {
  Pair p = make_pair(client_context(), server_context());
  ASSERT_TRUE(p.client.session->start());
  Level level;
  std::vector<std::uint8_t> hello;
  ASSERT_TRUE(p.client.session->take_output(level, hello));
  const std::size_t half = hello.size() / 2;
  ASSERT_TRUE(p.server.session->provide_data(Level::kInitial, Bytes(hello).first(half)));
  std::vector<std::uint8_t> out;
  EXPECT_FALSE(p.server.session->take_output(level, out));
  EXPECT_FALSE(p.server.session->poll_secret().has_value());
  ASSERT_TRUE(p.server.session->provide_data(Level::kInitial, Bytes(hello).subspan(half)));
  EXPECT_TRUE(p.server.session->take_output(level, out));
}

TEST(TlsFailure, KeyUpdateAfterTheHandshakeIsRefused) {
  Pair p = make_pair(client_context(), server_context());
  ASSERT_TRUE(p.run());
  const std::vector<std::uint8_t> key_update = {24, 0, 0, 1, 0};
  auto st = p.client.session->provide_data(Level::kApplication, key_update);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, kUnexpectedMessage);  // 0x10a, RFC 9001 section 6
}

TEST(TlsFailure, PostHandshakeCertificateRequestIsAProtocolViolation) {
  Pair p = make_pair(client_context(), server_context());
  ASSERT_TRUE(p.run());
  const std::vector<std::uint8_t> request = {13, 0, 0, 5, 1, 7, 0, 0, 0};
  auto st = p.client.session->provide_data(Level::kApplication, request);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, TransportError::kProtocolViolation);
}

TEST(TlsFailure, ServerAcceptsNoPostHandshakeMessages) {
  Pair p = make_pair(client_context(), server_context());
  ASSERT_TRUE(p.run());
  const std::vector<std::uint8_t> ticket = {4, 0, 0, 0};
  auto st = p.server.session->provide_data(Level::kApplication, ticket);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, kUnexpectedMessage);
}

// A well-formed NewSessionTicket, as QUIC servers send after the handshake (the ticket is opaque
// to the client), optionally with the early_data extension allowing 0-RTT (RFC 9001 4.6.1).
std::vector<std::uint8_t> new_session_ticket(bool with_early_data) {
  std::vector<std::uint8_t> body = {0, 0, 0x1c, 0x20,  // ticket_lifetime 7200 s
                                    1, 2, 3, 4,        // ticket_age_add
                                    8, 0, 0, 0, 0, 0, 0, 0, 1,  // ticket_nonce<0..255>
                                    0, 16};            // ticket<1..2^16-1>
  for (int i = 0; i < 16; ++i) body.push_back(static_cast<std::uint8_t>(0xa0 + i));
  if (with_early_data) {
    body.insert(body.end(), {0, 8, 0, 42, 0, 4, 0xff, 0xff, 0xff, 0xff});
  } else {
    body.insert(body.end(), {0, 0});
  }
  std::vector<std::uint8_t> m = {4, 0, 0, static_cast<std::uint8_t>(body.size())};
  m.insert(m.end(), body.begin(), body.end());
  return m;
}

TEST(TlsPostHandshake, ClientAcceptsWellFormedSessionTickets) {
  for (bool early : {false, true}) {
    Pair p = make_pair(client_context(), server_context());
    ASSERT_TRUE(p.run());
    const auto ticket = new_session_ticket(early);
    // Split across two calls, as CRYPTO frames may be.
    ASSERT_TRUE(p.client.session->provide_data(Level::kApplication, Bytes(ticket).first(7)));
    auto st = p.client.session->provide_data(Level::kApplication, Bytes(ticket).subspan(7));
    EXPECT_TRUE(st) << (st ? "" : st.error().reason);
    Level level;
    std::vector<std::uint8_t> out;
    EXPECT_FALSE(p.client.session->take_output(level, out));
  }
}

TEST(TlsFailure, GarbageNewSessionTicketIsAnErrorNotACrash) {
  Pair p = make_pair(client_context(), server_context());
  ASSERT_TRUE(p.run());
  const std::vector<std::uint8_t> ticket = {4, 0, 0, 3, 0xff, 0xff, 0xff};
  auto st = p.client.session->provide_data(Level::kApplication, ticket);
  ASSERT_FALSE(st);
  EXPECT_TRUE(is_crypto_error(st.error().code)) << st.error().reason;
}

TEST(TlsFailure, RandomGarbageNeverCrashes) {
  SeededRandom rng(20240901);
  int errors = 0;
  for (int i = 0; i < 300; ++i) {
    auto server = TlsSession::create(server_context(), server_params()).value();
    std::vector<std::uint8_t> junk(1 + rng.uniform(600));
    rng.fill(junk);
    if (i % 2 == 0) {
      // A plausible header: ClientHello of the right length, random body.
      junk[0] = 1;
      junk.resize(std::max<std::size_t>(junk.size(), 8));
      const std::size_t body = junk.size() - 4;
      junk[1] = 0;
      junk[2] = static_cast<std::uint8_t>(body >> 8);
      junk[3] = static_cast<std::uint8_t>(body);
    }
    auto st = server->provide_data(Level::kInitial, junk);
    if (!st) {
      ++errors;
      EXPECT_NE(st.error().code, TransportError::kNoError);
      EXPECT_FALSE(st.error().reason.empty());
      Level level;
      std::vector<std::uint8_t> out;
      EXPECT_FALSE(server->take_output(level, out));
    }
  }
  EXPECT_GT(errors, 250);  // the rest are incomplete messages, still waiting for bytes
}

TEST(TlsFailure, GarbageServerFlightNeverCrashesTheClient) {
  SeededRandom rng(77);
  for (int i = 0; i < 100; ++i) {
    Pair p = make_pair(client_context(), server_context());
    Flights f = first_flights(p);
    ASSERT_TRUE(p.client.session->provide_data(Level::kInitial, f.server_initial));
    auto flight = f.server_handshake;
    const std::size_t pos = rng.uniform(flight.size());
    flight[pos] ^= static_cast<std::uint8_t>(1 + rng.uniform(255));
    auto st = p.client.session->provide_data(Level::kHandshake, flight);
    // A flipped byte either breaks parsing, a signature or the Finished MAC, or leaves the
    // client waiting for bytes a corrupted length now claims; it never completes.
    EXPECT_FALSE(p.client.session->handshake_complete()) << "flip at " << pos;
    if (!st) {
      EXPECT_NE(st.error().code, TransportError::kNoError);
    }
  }
}

}  // namespace
}  // namespace roam::tls
