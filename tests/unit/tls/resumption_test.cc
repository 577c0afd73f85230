// Session resumption and 0-RTT over GnuTLS's QUIC interface (RFC 8446 2.2-2.3, RFC 9001 4.6).
#include <gtest/gtest.h>

#include "tls_test_util.h"

namespace roam::tls {
namespace {

using namespace testing;

// A full handshake, then the client's saved session.
std::vector<std::uint8_t> first_session(std::shared_ptr<TlsContext> cctx, std::shared_ptr<TlsContext> sctx) {
  Pair p = make_pair(cctx, sctx);
  EXPECT_TRUE(p.run());
  EXPECT_FALSE(p.client.session->resumed());
  auto data = p.client.session->resumption_data();
  EXPECT_TRUE(data.has_value()) << "no NewSessionTicket reached the client";
  return data.value_or(std::vector<std::uint8_t>{});
}

TEST(TlsResumption, ResumesWithEarlyDataAccepted) {
  auto sctx = server_context();
  auto cctx = client_context();
  const auto saved = first_session(cctx, sctx);
  ASSERT_FALSE(saved.empty());

  Pair p = make_pair(cctx, sctx);
  ASSERT_TRUE(p.client.session->set_resumption_data(saved).ok());
  ASSERT_TRUE(p.client.session->start().ok());
  p.client.drain_secrets();
  // The ClientHello comes with a 0-RTT write secret.
  ASSERT_NE(p.client.find(Level::kEarlyData, Direction::kWrite), nullptr);
  const auto client_early = p.client.find(Level::kEarlyData, Direction::kWrite)->secret;  // a copy
  ASSERT_TRUE(p.finish());
  const SecretEvent* sr = p.server.find(Level::kEarlyData, Direction::kRead);
  ASSERT_NE(sr, nullptr);
  EXPECT_EQ(client_early, sr->secret);
  EXPECT_TRUE(p.client.session->resumed());
  EXPECT_TRUE(p.server.session->resumed());
  EXPECT_TRUE(p.client.session->early_data_accepted());
  EXPECT_TRUE(p.server.session->early_data_accepted());
  // The peer's transport parameters still travel in a resumed handshake.
  ASSERT_TRUE(p.client.session->peer_transport_params().has_value());
  EXPECT_EQ(*p.client.session->peer_transport_params(), server_params());
}

TEST(TlsResumption, ReplayedClientHelloGetsNoEarlyData) {
  auto sctx = server_context();
  auto cctx = client_context();
  const auto saved = first_session(cctx, sctx);
  ASSERT_FALSE(saved.empty());
  // The same ClientHello twice (an attacker replaying it): only the first may use 0-RTT.
  Pair a = make_pair(cctx, sctx);
  ASSERT_TRUE(a.client.session->set_resumption_data(saved).ok());
  ASSERT_TRUE(a.client.session->start().ok());
  Level level;
  std::vector<std::uint8_t> hello;
  ASSERT_TRUE(a.client.session->take_output(level, hello));
  auto first = TlsSession::create(sctx, server_params());
  auto second = TlsSession::create(sctx, server_params());
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_TRUE((*first)->provide_data(Level::kInitial, hello).ok());
  ASSERT_TRUE((*second)->provide_data(Level::kInitial, hello).ok());
  auto has_early_read = [](TlsSession& s) {
    bool found = false;
    while (auto ev = s.poll_secret()) found = found || (ev->level == Level::kEarlyData && ev->direction == Direction::kRead);
    return found;
  };
  EXPECT_TRUE(has_early_read(**first));
  EXPECT_FALSE(has_early_read(**second));
}

TEST(TlsResumption, ServerWithoutEarlyDataResumesButRefuses0Rtt) {
  ServerOptions so;
  so.early_data = false;
  auto sctx = server_context(so);
  auto cctx = client_context();
  const auto saved = first_session(cctx, sctx);
  ASSERT_FALSE(saved.empty());
  Pair p = make_pair(cctx, sctx);
  ASSERT_TRUE(p.client.session->set_resumption_data(saved).ok());
  ASSERT_TRUE(p.run());
  EXPECT_TRUE(p.client.session->resumed());
  EXPECT_FALSE(p.client.session->early_data_accepted());
  EXPECT_EQ(p.server.find(Level::kEarlyData, Direction::kRead), nullptr);
}

TEST(TlsResumption, AnotherServerKeyMeansAFullHandshake) {
  auto cctx = client_context();
  const auto saved = first_session(cctx, server_context());
  ASSERT_FALSE(saved.empty());
  Pair p = make_pair(cctx, server_context());  // a fresh ticket key
  ASSERT_TRUE(p.client.session->set_resumption_data(saved).ok());
  ASSERT_TRUE(p.run());
  EXPECT_FALSE(p.client.session->resumed());
  EXPECT_FALSE(p.client.session->early_data_accepted());
}

TEST(TlsResumption, GarbageSessionDataIsRefused) {
  Pair p = make_pair(client_context(), server_context());
  const std::vector<std::uint8_t> junk(40, 0xab);
  EXPECT_FALSE(p.client.session->set_resumption_data(junk).ok());
}

}  // namespace
}  // namespace roam::tls
