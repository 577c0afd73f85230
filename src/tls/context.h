// What an endpoint's TLS sessions share: credentials (server certificate or client trust),
// ALPN protocols, cipher suite priority and the key log. Build one per endpoint and pass it to
// every TlsSession it creates.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "tls/certificate.h"
#include "tls/cipher_suite.h"
#include "tls/keylog.h"

struct gnutls_certificate_credentials_st;
struct gnutls_priority_st;
struct gnutls_anti_replay_st;

namespace roam::tls {

// Hooks that make a session misbehave on purpose, for tests of the peer's checks.
struct TestingOptions {
  // Do not send the quic_transport_parameters extension (RFC 9001 8.2 says the peer must fail).
  bool omit_transport_parameters = false;
  // Neither offer (client) nor select (server) an application protocol, and skip this side's
  // own ALPN check (RFC 9001 8.1 says the peer must fail with no_application_protocol).
  bool omit_alpn = false;
  // Appended to the GnuTLS priority string, e.g. ":-GROUP-ALL:+GROUP-SECP384R1" on a server to
  // force a HelloRetryRequest.
  std::string priority_suffix;
};

struct ServerOptions {
  // The certificate: `certificate` when set; else cert_file and key_file (PEM); else a freshly
  // generated self-signed one described by `self_signed` (whose `now` must then be set).
  std::optional<Certificate> certificate;
  std::string cert_file;
  std::string key_file;
  SelfSignedOptions self_signed;
  // Application protocols the server speaks, most preferred first. Required: QUIC negotiates
  // the application protocol with ALPN (RFC 9001 8.1).
  std::vector<std::string> alpn;
  // NSS key log file to append secrets to ($SSLKEYLOGFILE or --keylog); empty: none.
  std::string keylog_file;
  // AEADs allowed, most preferred first; empty: AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305.
  std::vector<Aead> ciphers;
  // Session resumption (RFC 8446 2.2) with tickets sealed under `ticket_key` (64 bytes from
  // gnutls_session_ticket_key_generate; servers that share it resume each other's sessions;
  // empty: a fresh key per context), and 0-RTT (RFC 9001 4.6) with GnuTLS's anti-replay
  // (ClientHellos remembered for `anti_replay_window`).
  bool resumption = true;
  bool early_data = true;
  std::vector<std::uint8_t> ticket_key;
  std::chrono::milliseconds anti_replay_window{10'000};
  TestingOptions testing;
};

struct ClientOptions {
  // Trust anchors: ca_file (PEM) and/or ca_pem; when both are empty, the system trust store.
  std::string ca_file;
  std::string ca_pem;
  // Accept any server certificate. For tests and lab setups only.
  bool insecure_skip_verify = false;
  // Application protocols offered, most preferred first. Required (RFC 9001 8.1).
  std::vector<std::string> alpn;
  std::string keylog_file;
  std::vector<Aead> ciphers;
  TestingOptions testing;
};

class TlsContext {
 public:
  static Result<std::shared_ptr<TlsContext>> create_server(ServerOptions options);
  static Result<std::shared_ptr<TlsContext>> create_client(ClientOptions options);

  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  ~TlsContext();

  bool is_server() const { return server_; }
  // The server's certificate (fingerprints, PEM); nullptr for clients.
  const Certificate* certificate() const { return certificate_ ? &*certificate_ : nullptr; }
  const std::vector<std::string>& alpn() const { return alpn_; }
  bool verifies_peer() const { return !server_ && !insecure_; }

 private:
  friend class TlsSession;
  TlsContext();

  bool server_ = false;
  bool insecure_ = false;
  std::vector<std::string> alpn_;
  std::optional<Certificate> certificate_;
  std::unique_ptr<KeylogWriter> keylog_;
  TestingOptions testing_;
  gnutls_certificate_credentials_st* credentials_ = nullptr;
  gnutls_priority_st* priority_ = nullptr;
  // Server resumption and 0-RTT.
  bool resumption_ = false;
  bool early_data_ = false;
  std::vector<std::uint8_t> ticket_key_;
  gnutls_anti_replay_st* anti_replay_ = nullptr;
  struct ReplayCache;
  std::unique_ptr<ReplayCache> replay_cache_;
};

}  // namespace roam::tls
