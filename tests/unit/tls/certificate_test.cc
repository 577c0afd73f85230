// Self-signed certificate generation, PEM files, fingerprints (cross-checked with OpenSSL).
#include "tls/certificate.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <ctime>
#include <memory>

#include "tls/context.h"
#include "tls_test_util.h"

namespace roam::tls {
namespace {

using testing::client_context;
using testing::make_pair;
using testing::now;
using testing::Pair;
using testing::server_context;
using testing::TempDir;

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr parse(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return X509Ptr(x);
}

std::string colon_hex(const unsigned char* p, std::size_t n) {
  static const char* digits = "0123456789ABCDEF";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    if (i) s += ':';
    s += digits[p[i] >> 4];
    s += digits[p[i] & 15];
  }
  return s;
}

Certificate generate(SelfSignedOptions o = {}) {
  if (o.now.time_since_epoch().count() == 0) o.now = now();
  auto c = Certificate::generate_self_signed(o);
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().reason);
  return std::move(c.value());
}

TEST(TlsCertificate, GeneratedCertificateMatchesOpenSslView) {
  const auto issued = now();
  SelfSignedOptions o;
  o.now = issued;
  const Certificate cert = generate(o);
  EXPECT_TRUE(cert.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
  EXPECT_TRUE(cert.key_pem().starts_with("-----BEGIN PRIVATE KEY-----"));

  X509Ptr x = parse(cert.cert_pem());
  ASSERT_NE(x, nullptr);

  // SHA-256 fingerprint of the DER certificate.
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned md_len = 0;
  ASSERT_EQ(X509_digest(x.get(), EVP_sha256(), md, &md_len), 1);
  EXPECT_EQ(cert.sha256_fingerprint(), colon_hex(md, md_len));
  EXPECT_EQ(cert.sha256_fingerprint().size(), 32u * 3 - 1);

  // base64(SHA-256(SubjectPublicKeyInfo)), as Chromium's --ignore-certificate-errors-spki-list.
  unsigned char* spki = nullptr;
  const int spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x.get()), &spki);
  ASSERT_GT(spki_len, 0);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(spki, static_cast<std::size_t>(spki_len), digest);
  OPENSSL_free(spki);
  unsigned char b64[64] = {};
  EVP_EncodeBlock(b64, digest, sizeof(digest));
  EXPECT_EQ(cert.spki_sha256_base64(), reinterpret_cast<const char*>(b64));
  EXPECT_EQ(cert.spki_sha256_base64().size(), 44u);

  // Names: localhost, 127.0.0.1 and ::1 by default.
  EXPECT_EQ(X509_check_host(x.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(x.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(x.get(), "::1", 0), 1);
  EXPECT_NE(X509_check_host(x.get(), "example.com", 0, 0, nullptr), 1);

  // ECDSA P-256, not a CA, for TLS servers, valid for about a year from an hour ago.
  EVP_PKEY* key = X509_get0_pubkey(x.get());
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
  EXPECT_EQ(EVP_PKEY_get_bits(key), 256);
  EXPECT_EQ(X509_check_ca(x.get()), 0);
  EXPECT_EQ(X509_check_purpose(x.get(), X509_PURPOSE_SSL_SERVER, 0), 1);
  const std::time_t issued_t = std::chrono::system_clock::to_time_t(issued);
  std::time_t probe = issued_t - 2 * 3600;
  EXPECT_EQ(X509_cmp_time(X509_get0_notBefore(x.get()), &probe), 1);  // not before > probe
  probe = issued_t - 3600 + 60;
  EXPECT_EQ(X509_cmp_time(X509_get0_notBefore(x.get()), &probe), -1);
  probe = issued_t + 364 * 24 * 3600;
  EXPECT_EQ(X509_cmp_time(X509_get0_notAfter(x.get()), &probe), 1);
  probe = issued_t + 366 * 24 * 3600;
  EXPECT_EQ(X509_cmp_time(X509_get0_notAfter(x.get()), &probe), -1);
}

TEST(TlsCertificate, CustomNamesAndCommonName) {
  SelfSignedOptions o;
  o.dns_names = {"a.example", "b.example"};
  o.ip_addresses = {"192.0.2.1", "2001:db8::1"};
  const Certificate cert = generate(o);
  X509Ptr x = parse(cert.cert_pem());
  ASSERT_NE(x, nullptr);
  for (const char* h : {"a.example", "b.example"}) {
    EXPECT_EQ(X509_check_host(x.get(), h, 0, 0, nullptr), 1) << h;
  }
  for (const char* ip : {"192.0.2.1", "2001:db8::1"})
    EXPECT_EQ(X509_check_ip_asc(x.get(), ip, 0), 1);
  EXPECT_NE(X509_check_host(x.get(), "localhost", 0, 0, nullptr), 1);
  char cn[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(x.get()), NID_commonName, cn, sizeof(cn));
  EXPECT_STREQ(cn, "a.example");
}

TEST(TlsCertificate, EachGenerationHasItsOwnKey) {
  const Certificate a = generate();
  const Certificate b = generate();
  EXPECT_NE(a.sha256_fingerprint(), b.sha256_fingerprint());
  EXPECT_NE(a.spki_sha256_base64(), b.spki_sha256_base64());
}

TEST(TlsCertificate, RejectsBadOptions) {
  SelfSignedOptions o;  // no time
  EXPECT_FALSE(Certificate::generate_self_signed(o).ok());
  o.now = now();
  o.ip_addresses = {"not-an-ip"};
  EXPECT_FALSE(Certificate::generate_self_signed(o).ok());
  o.ip_addresses.clear();
  o.dns_names = {""};
  EXPECT_FALSE(Certificate::generate_self_signed(o).ok());
  o.dns_names = {"ok.example"};
  o.validity = std::chrono::seconds(0);
  EXPECT_FALSE(Certificate::generate_self_signed(o).ok());
}

TEST(TlsCertificate, PemFilesRoundTripAndServeAHandshake) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const Certificate cert = generate();
  const std::string cert_path = dir.file("cert.pem");
  const std::string key_path = dir.file("key.pem");
  ASSERT_TRUE(cert.write_pem_files(cert_path, key_path));
  struct stat st {};
  ASSERT_EQ(::stat(key_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto loaded = Certificate::load_pem_files(cert_path, key_path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().reason;
  EXPECT_EQ(loaded->sha256_fingerprint(), cert.sha256_fingerprint());
  EXPECT_EQ(loaded->spki_sha256_base64(), cert.spki_sha256_base64());

  ServerOptions so;
  so.cert_file = cert_path;
  so.key_file = key_path;
  auto sctx = server_context(std::move(so));
  ASSERT_NE(sctx, nullptr);
  ASSERT_NE(sctx->certificate(), nullptr);
  EXPECT_EQ(sctx->certificate()->sha256_fingerprint(), cert.sha256_fingerprint());
  ClientOptions co;
  co.ca_file = cert_path;
  Pair p = make_pair(client_context(std::move(co)), sctx);
  ASSERT_TRUE(p.run()) << (p.client.error ? p.client.error->reason : "");
  EXPECT_NE(p.client.session->peer_certificate_info().find(cert.spki_sha256_base64()),
            std::string::npos);
}

TEST(TlsCertificate, LoadsAChainWithTheLeafFirst) {
  const Certificate leaf = generate();
  const Certificate other = generate();
  auto chain = Certificate::from_pem(leaf.cert_pem() + other.cert_pem(), leaf.key_pem());
  ASSERT_TRUE(chain.ok()) << chain.error().reason;
  EXPECT_EQ(chain->sha256_fingerprint(), leaf.sha256_fingerprint());
}

TEST(TlsCertificate, RejectsMismatchedOrMissingInputs) {
  const Certificate a = generate();
  const Certificate b = generate();
  auto mismatch = Certificate::from_pem(a.cert_pem(), b.key_pem());
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().reason, "private key does not match the certificate");
  EXPECT_FALSE(Certificate::from_pem("garbage", a.key_pem()).ok());
  EXPECT_FALSE(Certificate::from_pem(a.cert_pem(), "garbage").ok());
  EXPECT_FALSE(Certificate::load_pem_files("/nonexistent/c.pem", "/nonexistent/k.pem").ok());

  ServerOptions so;
  so.alpn = {"h3"};
  so.cert_file = "/nonexistent/c.pem";
  EXPECT_FALSE(TlsContext::create_server(so).ok());  // key file missing too
}

TEST(TlsCertificate, ServerContextGeneratesWhenGivenNothing) {
  ServerOptions so;
  so.alpn = {"h3"};
  EXPECT_FALSE(TlsContext::create_server(so).ok());  // generating needs the time
  so.self_signed.now = now();
  auto ctx = TlsContext::create_server(so);
  ASSERT_TRUE(ctx.ok()) << ctx.error().reason;
  ASSERT_NE(ctx.value()->certificate(), nullptr);
  EXPECT_TRUE(ctx.value()->is_server());

  ClientOptions co;
  co.ca_pem = ctx.value()->certificate()->cert_pem();
  Pair p = make_pair(client_context(std::move(co)), ctx.value());
  EXPECT_TRUE(p.run());
}

TEST(TlsCertificate, ContextsRequireAlpn) {
  ServerOptions so;
  so.certificate = testing::test_certificate();
  EXPECT_FALSE(TlsContext::create_server(so).ok());
  so.alpn = {std::string(256, 'x')};
  EXPECT_FALSE(TlsContext::create_server(so).ok());
  ClientOptions co;
  co.insecure_skip_verify = true;
  EXPECT_FALSE(TlsContext::create_client(co).ok());
}

}  // namespace
}  // namespace roam::tls
