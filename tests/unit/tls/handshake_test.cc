// Full client/server handshakes in memory: transport parameters, ALPN, secrets, cipher suites.
#include <gtest/gtest.h>

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
using testing::Side;

// For each level with keys on both sides: the client's write secret is the server's read secret
// and vice versa, with the expected suite and the hash's length.
void expect_matching_secrets(const Pair& p, Level level, CipherSuite suite) {
  SCOPED_TRACE(std::string(to_string(level)));
  const SecretEvent* cw = p.client.find(level, Direction::kWrite);
  const SecretEvent* cr = p.client.find(level, Direction::kRead);
  const SecretEvent* sw = p.server.find(level, Direction::kWrite);
  const SecretEvent* sr = p.server.find(level, Direction::kRead);
  ASSERT_NE(cw, nullptr);
  ASSERT_NE(cr, nullptr);
  ASSERT_NE(sw, nullptr);
  ASSERT_NE(sr, nullptr);
  EXPECT_EQ(cw->secret, sr->secret);
  EXPECT_EQ(sw->secret, cr->secret);
  EXPECT_NE(cw->secret, cr->secret);
  EXPECT_EQ(cw->secret.size(), crypto::hash_size(suite.hash));
  for (const auto* ev : {cw, cr, sw, sr}) EXPECT_EQ(ev->cipher_suite, suite);
}

TEST(TlsHandshake, CompletesAndExchangesTransportParameters) {
  Pair p = make_pair(client_context(), server_context());
  ASSERT_TRUE(p.run()) << (p.client.error ? p.client.error->reason : "")
                       << (p.server.error ? p.server.error->reason : "");
  EXPECT_TRUE(p.client.session->handshake_complete());
  EXPECT_TRUE(p.server.session->handshake_complete());

  ASSERT_TRUE(p.server.session->peer_transport_params().has_value());
  ASSERT_TRUE(p.client.session->peer_transport_params().has_value());
  EXPECT_EQ(*p.server.session->peer_transport_params(), client_params());
  EXPECT_EQ(*p.client.session->peer_transport_params(), server_params());

  EXPECT_EQ(p.client.session->alpn(), "h3");
  EXPECT_EQ(p.server.session->alpn(), "h3");
  EXPECT_EQ(p.server.session->requested_server_name(), "localhost");
  EXPECT_NE(p.client.session->peer_certificate_info().find("localhost"), std::string::npos)
      << p.client.session->peer_certificate_info();
  EXPECT_EQ(p.client.session->read_level(), Level::kApplication);
  EXPECT_EQ(p.server.session->read_level(), Level::kApplication);
  EXPECT_FALSE(p.client.session->error().has_value());
}

TEST(TlsHandshake, DeliversSecretsInInstallOrder) {
  Pair p = make_pair(client_context(), server_context());
  ASSERT_TRUE(p.run());
  // No 0-RTT without resumption: handshake then application keys, read before write per call.
  auto levels = [](const Side& s) {
    std::vector<std::pair<Level, Direction>> v;
    for (const auto& e : s.secrets) v.emplace_back(e.level, e.direction);
    return v;
  };
  using L = Level;
  using D = Direction;
  const std::vector<std::pair<Level, Direction>> client_expected = {
      {L::kHandshake, D::kRead}, {L::kHandshake, D::kWrite},
      {L::kApplication, D::kRead}, {L::kApplication, D::kWrite}};
  EXPECT_EQ(levels(p.client), client_expected);
  // The server can send 1-RTT data before it can read it (RFC 9001 figure 5).
  const std::vector<std::pair<Level, Direction>> server_expected = {
      {L::kHandshake, D::kRead}, {L::kHandshake, D::kWrite},
      {L::kApplication, D::kWrite}, {L::kApplication, D::kRead}};
  EXPECT_EQ(levels(p.server), server_expected);
}

TEST(TlsHandshake, OutputLevelsFollowTheProtocol) {
  // Without resumption: a server that issues tickets adds a NewSessionTicket at 1-RTT to its first
  // flight (it can, as it does not ask for a client certificate: RFC 8446 4.6.1).
  ServerOptions no_tickets;
  no_tickets.resumption = false;
  Pair p = make_pair(client_context(), server_context(no_tickets));
  ASSERT_TRUE(p.client.session->start());
  Level level;
  std::vector<std::uint8_t> data;
  ASSERT_TRUE(p.client.session->take_output(level, data));
  EXPECT_EQ(level, Level::kInitial);
  ASSERT_GE(data.size(), 4u);
  EXPECT_EQ(data[0], 1);  // ClientHello
  EXPECT_FALSE(p.client.session->take_output(level, data));

  ASSERT_TRUE(p.server.session->provide_data(Level::kInitial, data));
  std::vector<Level> server_levels;
  std::vector<std::uint8_t> server_initial;
  std::vector<std::uint8_t> server_handshake;
  while (p.server.session->take_output(level, data)) {
    server_levels.push_back(level);
    (level == Level::kInitial ? server_initial : server_handshake) = data;
  }
  EXPECT_EQ(server_levels, (std::vector<Level>{Level::kInitial, Level::kHandshake}));
  EXPECT_EQ(server_initial.at(0), 2);    // ServerHello
  EXPECT_EQ(server_handshake.at(0), 8);  // EncryptedExtensions first
  EXPECT_FALSE(p.server.session->handshake_complete());

  ASSERT_TRUE(p.client.session->provide_data(Level::kInitial, server_initial));
  EXPECT_EQ(p.client.session->read_level(), Level::kHandshake);
  EXPECT_FALSE(p.client.session->take_output(level, data));
  ASSERT_TRUE(p.client.session->provide_data(Level::kHandshake, server_handshake));
  EXPECT_TRUE(p.client.session->handshake_complete());
  ASSERT_TRUE(p.client.session->take_output(level, data));
  EXPECT_EQ(level, Level::kHandshake);
  EXPECT_EQ(data.at(0), 20);  // client Finished

  ASSERT_TRUE(p.server.session->provide_data(Level::kHandshake, data));
  EXPECT_TRUE(p.server.session->handshake_complete());
}

TEST(TlsHandshake, AcceptsHandshakeBytesOneAtATime) {
  Pair p = make_pair(client_context(), server_context());
  ASSERT_TRUE(p.client.session->start());
  auto dribble = [](TlsSession& from, TlsSession& to) {
    Level level;
    std::vector<std::uint8_t> data;
    while (from.take_output(level, data)) {
      for (std::uint8_t b : data) {
        auto st = to.provide_data(level, Bytes(&b, 1));
        if (!st) return false;
      }
    }
    return true;
  };
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(dribble(*p.client.session, *p.server.session));
    ASSERT_TRUE(dribble(*p.server.session, *p.client.session));
  }
  EXPECT_TRUE(p.client.session->handshake_complete());
  EXPECT_TRUE(p.server.session->handshake_complete());
}

class TlsCipherSuite : public ::testing::TestWithParam<Aead> {};

TEST_P(TlsCipherSuite, SecretsMatchForEachSuite) {
  const Aead aead = GetParam();
  ClientOptions co;
  co.ciphers = {aead};
  Pair p = make_pair(client_context(std::move(co)), server_context());
  ASSERT_TRUE(p.run());
  const CipherSuite suite = suite_for(aead);
  EXPECT_EQ(p.client.session->cipher_suite(), suite);
  EXPECT_EQ(p.server.session->cipher_suite(), suite);
  expect_matching_secrets(p, Level::kHandshake, suite);
  expect_matching_secrets(p, Level::kApplication, suite);
}

std::string suite_name(const ::testing::TestParamInfo<Aead>& param) {
  switch (param.param) {
    case Aead::kAes128Gcm: return "Aes128Gcm";
    case Aead::kAes256Gcm: return "Aes256Gcm";
    case Aead::kChaCha20Poly1305: break;
  }
  return "ChaCha20Poly1305";
}

INSTANTIATE_TEST_SUITE_P(AllSuites, TlsCipherSuite,
                         ::testing::Values(Aead::kAes128Gcm, Aead::kAes256Gcm,
                                           Aead::kChaCha20Poly1305),
                         suite_name);

TEST(TlsHandshake, ServerPriorityRestrictsTheSuite) {
  ServerOptions so;
  so.ciphers = {Aead::kChaCha20Poly1305};
  Pair p = make_pair(client_context(), server_context(std::move(so)));
  ASSERT_TRUE(p.run());
  EXPECT_EQ(p.client.session->cipher_suite(), kChaCha20Poly1305Sha256);
}

TEST(TlsHandshake, NoCommonCipherSuiteFails) {
  ClientOptions co;
  co.ciphers = {Aead::kAes128Gcm};
  ServerOptions so;
  so.ciphers = {Aead::kAes256Gcm};
  Pair p = make_pair(client_context(std::move(co)), server_context(std::move(so)));
  EXPECT_FALSE(p.run());
  ASSERT_TRUE(p.server.error.has_value());
  EXPECT_EQ(p.server.error->code, crypto_error(40));  // handshake_failure
}

TEST(TlsHandshake, HelloRetryRequestRoundTrip) {
  // The client sends key shares for its first groups only; a server restricted to P-384 must
  // ask again. Both ClientHellos and the HelloRetryRequest stay at the Initial level.
  ServerOptions so;
  so.testing.priority_suffix = ":-GROUP-ALL:+GROUP-SECP384R1";
  Pair p = make_pair(client_context(), server_context(std::move(so)));
  ASSERT_TRUE(p.client.session->start());
  Level level;
  std::vector<std::uint8_t> hello;
  ASSERT_TRUE(p.client.session->take_output(level, hello));
  ASSERT_TRUE(p.server.session->provide_data(Level::kInitial, hello));
  std::vector<std::uint8_t> retry;
  ASSERT_TRUE(p.server.session->take_output(level, retry));
  EXPECT_EQ(level, Level::kInitial);
  EXPECT_EQ(retry.at(0), 2);  // HelloRetryRequest has the ServerHello type
  std::vector<std::uint8_t> more;
  EXPECT_FALSE(p.server.session->take_output(level, more));
  EXPECT_EQ(p.server.session->read_level(), Level::kInitial);
  EXPECT_FALSE(p.server.session->poll_secret().has_value());

  ASSERT_TRUE(p.client.session->provide_data(Level::kInitial, retry));
  EXPECT_EQ(p.client.session->read_level(), Level::kInitial);
  std::vector<std::uint8_t> second_hello;
  ASSERT_TRUE(p.client.session->take_output(level, second_hello));
  EXPECT_EQ(level, Level::kInitial);
  EXPECT_EQ(second_hello.at(0), 1);
  ASSERT_TRUE(p.server.session->provide_data(Level::kInitial, second_hello));

  ASSERT_TRUE(p.finish()) << (p.client.error ? p.client.error->reason : "")
                          << (p.server.error ? p.server.error->reason : "");
  EXPECT_EQ(*p.server.session->peer_transport_params(), client_params());
  EXPECT_EQ(*p.client.session->peer_transport_params(), server_params());
  expect_matching_secrets(p, Level::kHandshake, kAes128GcmSha256);
  expect_matching_secrets(p, Level::kApplication, kAes128GcmSha256);
}

TEST(TlsHandshake, ServerPicksItsPreferredCommonAlpn) {
  ClientOptions co;
  co.alpn = {"h3", "hq-interop"};
  Pair p = make_pair(client_context(std::move(co)), server_context());  // server: hq-interop, h3
  ASSERT_TRUE(p.run());
  EXPECT_EQ(p.client.session->alpn(), "hq-interop");
  EXPECT_EQ(p.server.session->alpn(), "hq-interop");
}

TEST(TlsHandshake, SessionsOfOneContextAreIndependent) {
  auto cctx = client_context();
  auto sctx = server_context();
  Pair a = make_pair(cctx, sctx);
  Pair b = make_pair(cctx, sctx);
  ASSERT_TRUE(a.run());
  ASSERT_TRUE(b.run());
  EXPECT_NE(a.client.find(Level::kApplication, Direction::kWrite)->secret,
            b.client.find(Level::kApplication, Direction::kWrite)->secret);
}

TEST(TlsHandshake, StartIsIdempotentAndServerNeedsNoStart) {
  Pair p = make_pair(client_context(), server_context());
  ASSERT_TRUE(p.client.session->start());
  ASSERT_TRUE(p.client.session->start());
  Level level;
  std::vector<std::uint8_t> data;
  ASSERT_TRUE(p.client.session->take_output(level, data));
  EXPECT_FALSE(p.client.session->take_output(level, data));  // one ClientHello only
  EXPECT_TRUE(p.server.session->provide_data(Level::kInitial, data));
}

TEST(TlsHandshake, ClientMustStartBeforeData) {
  Pair p = make_pair(client_context(), server_context());
  const std::uint8_t byte = 2;
  auto st = p.client.session->provide_data(Level::kInitial, Bytes(&byte, 1));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, TransportError::kInternalError);
}

}  // namespace
}  // namespace roam::tls
