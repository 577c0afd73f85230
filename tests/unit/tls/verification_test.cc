// Server certificate verification on the client: trust anchors, names, insecure mode.
#include <gtest/gtest.h>

#include "tls/session.h"
#include "tls_test_util.h"

namespace roam::tls {
namespace {

using testing::client_context;
using testing::client_params;
using testing::make_pair;
using testing::now;
using testing::Pair;
using testing::server_context;
using testing::TempDir;

Certificate other_certificate() {
  SelfSignedOptions o;
  o.now = now();
  auto c = Certificate::generate_self_signed(o);
  EXPECT_TRUE(c.ok());
  return std::move(c.value());
}

bool is_crypto_error(TransportError e) {
  const auto v = static_cast<std::uint64_t>(e);
  return v >= 0x100 && v <= 0x1ff;
}

TEST(TlsVerify, GeneratedCertificateAsCaFileVerifiesLocalhost) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const auto& cert = testing::test_certificate();
  ASSERT_TRUE(cert.write_pem_files(dir.file("cert.pem"), dir.file("key.pem")));
  ClientOptions co;
  co.ca_file = dir.file("cert.pem");
  Pair p = make_pair(client_context(std::move(co)), server_context(), "localhost");
  ASSERT_TRUE(p.run()) << (p.client.error ? p.client.error->reason : "");
}

TEST(TlsVerify, WrongCaFailsWithUnknownCa) {
  ClientOptions co;
  co.ca_pem = other_certificate().cert_pem();
  Pair p = make_pair(client_context(std::move(co)), server_context());
  EXPECT_FALSE(p.run());
  ASSERT_TRUE(p.client.error.has_value());
  EXPECT_TRUE(is_crypto_error(p.client.error->code));
  EXPECT_EQ(p.client.error->code, crypto_error(48)) << p.client.error->reason;  // unknown_ca
  EXPECT_EQ(p.client.error->frame_type, 0x06u);
  EXPECT_FALSE(p.client.session->handshake_complete());
  EXPECT_FALSE(p.server.session->handshake_complete());
  // The failure is sticky and nothing more is sent.
  Level level;
  std::vector<std::uint8_t> data;
  EXPECT_FALSE(p.client.session->take_output(level, data));
  const std::uint8_t byte = 0;
  auto again = p.client.session->provide_data(Level::kHandshake, Bytes(&byte, 1));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, crypto_error(48));
}

TEST(TlsVerify, SystemTrustDoesNotTrustASelfSignedCertificate) {
  ClientOptions co;
  co.alpn = {"h3"};
  auto ctx = TlsContext::create_client(std::move(co));
  ASSERT_TRUE(ctx.ok()) << ctx.error().reason;
  Pair p = make_pair(ctx.value(), server_context());
  EXPECT_FALSE(p.run());
  ASSERT_TRUE(p.client.error.has_value());
  EXPECT_EQ(p.client.error->code, crypto_error(48));
}

TEST(TlsVerify, WrongHostnameFailsWithBadCertificate) {
  Pair p = make_pair(client_context(), server_context(), "example.com");
  EXPECT_FALSE(p.run());
  ASSERT_TRUE(p.client.error.has_value());
  EXPECT_EQ(p.client.error->code, crypto_error(42)) << p.client.error->reason;  // bad_certificate
  EXPECT_EQ(p.server.session->requested_server_name(), "example.com");
}

TEST(TlsVerify, IpAddressesVerifyAgainstIpNamesWithoutSni) {
  for (const char* ip : {"127.0.0.1", "::1"}) {
    SCOPED_TRACE(ip);
    Pair p = make_pair(client_context(), server_context(), ip);
    ASSERT_TRUE(p.run()) << (p.client.error ? p.client.error->reason : "");
    EXPECT_EQ(p.server.session->requested_server_name(), "");  // no SNI for IP literals
  }
  Pair p = make_pair(client_context(), server_context(), "192.0.2.7");
  EXPECT_FALSE(p.run());
  ASSERT_TRUE(p.client.error.has_value());
  EXPECT_EQ(p.client.error->code, crypto_error(42));
}

TEST(TlsVerify, CustomNamesAreVerified) {
  SelfSignedOptions o;
  o.now = now();
  o.dns_names = {"roam.example"};
  o.ip_addresses = {"192.0.2.10"};
  auto cert = Certificate::generate_self_signed(o);
  ASSERT_TRUE(cert.ok());
  ServerOptions so;
  so.certificate = cert.value();
  auto sctx = server_context(std::move(so));
  ClientOptions co;
  co.ca_pem = cert->cert_pem();
  auto cctx = client_context(std::move(co));
  for (const char* name : {"roam.example", "192.0.2.10"}) {
    Pair p = make_pair(cctx, sctx, name);
    EXPECT_TRUE(p.run()) << name;
  }
  for (const char* name : {"localhost", "127.0.0.1", "other.example"}) {
    Pair p = make_pair(cctx, sctx, name);
    EXPECT_FALSE(p.run()) << name;
  }
}

TEST(TlsVerify, ExpiredCertificateFails) {
  SelfSignedOptions o;
  o.now = now() - std::chrono::hours(24 * 30);
  o.validity = std::chrono::hours(24);
  auto cert = Certificate::generate_self_signed(o);
  ASSERT_TRUE(cert.ok());
  ServerOptions so;
  so.certificate = cert.value();
  ClientOptions co;
  co.ca_pem = cert->cert_pem();
  Pair p = make_pair(client_context(std::move(co)), server_context(std::move(so)));
  EXPECT_FALSE(p.run());
  ASSERT_TRUE(p.client.error.has_value());
  EXPECT_EQ(p.client.error->code, crypto_error(45)) << p.client.error->reason;  // expired
}

TEST(TlsVerify, NotYetValidCertificateFails) {
  SelfSignedOptions o;
  o.now = now() + std::chrono::hours(24 * 30);
  auto cert = Certificate::generate_self_signed(o);
  ASSERT_TRUE(cert.ok());
  ServerOptions so;
  so.certificate = cert.value();
  ClientOptions co;
  co.ca_pem = cert->cert_pem();
  Pair p = make_pair(client_context(std::move(co)), server_context(std::move(so)));
  EXPECT_FALSE(p.run());
  ASSERT_TRUE(p.client.error.has_value());
  EXPECT_EQ(p.client.error->code, crypto_error(42)) << p.client.error->reason;
}

TEST(TlsVerify, InsecureModeAcceptsAnyCertificate) {
  ServerOptions so;
  so.certificate = other_certificate();
  ClientOptions co;
  co.insecure_skip_verify = true;
  auto cctx = client_context(std::move(co));
  ASSERT_FALSE(cctx->verifies_peer());
  Pair p = make_pair(cctx, server_context(std::move(so)), "not-the-name.example");
  ASSERT_TRUE(p.run()) << (p.client.error ? p.client.error->reason : "");
  // Insecure clients may also omit the name.
  auto s = TlsSession::create(cctx, client_params());
  EXPECT_TRUE(s.ok());
}

TEST(TlsVerify, VerifyingClientNeedsAServerName) {
  auto s = TlsSession::create(client_context(), client_params(), "");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, TransportError::kInternalError);
}

TEST(TlsVerify, UnreadableCaFileIsAnError) {
  ClientOptions co;
  co.alpn = {"h3"};
  co.ca_file = "/nonexistent/roam-ca.pem";
  EXPECT_FALSE(TlsContext::create_client(co).ok());
  co.ca_file.clear();
  co.ca_pem = "not a certificate";
  EXPECT_FALSE(TlsContext::create_client(co).ok());
}

}  // namespace
}  // namespace roam::tls
