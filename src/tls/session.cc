#include "tls/session.h"

#include <arpa/inet.h>

#include <cerrno>

#include "tls/gnutls_util.h"

namespace roam::tls {
namespace {

constexpr unsigned kTransportParametersExtension = 0x39;  // RFC 9001 section 8.2
constexpr std::uint64_t kCryptoFrame = 0x06;

// TLS alert descriptions (RFC 8446 section 6).
constexpr std::uint8_t kAlertHandshakeFailure = 40;
constexpr std::uint8_t kAlertBadCertificate = 42;
constexpr std::uint8_t kAlertCertificateRevoked = 44;
constexpr std::uint8_t kAlertCertificateExpired = 45;
constexpr std::uint8_t kAlertUnknownCa = 48;
constexpr std::uint8_t kAlertInternalError = 80;
constexpr std::uint8_t kAlertMissingExtension = 109;
constexpr std::uint8_t kAlertNoApplicationProtocol = 120;

Level from_gnutls(gnutls_record_encryption_level_t level) {
  switch (level) {
    case GNUTLS_ENCRYPTION_LEVEL_INITIAL:
      return Level::kInitial;
    case GNUTLS_ENCRYPTION_LEVEL_EARLY:
      return Level::kEarlyData;
    case GNUTLS_ENCRYPTION_LEVEL_HANDSHAKE:
      return Level::kHandshake;
    case GNUTLS_ENCRYPTION_LEVEL_APPLICATION:
      return Level::kApplication;
  }
  return Level::kInitial;
}

gnutls_record_encryption_level_t to_gnutls(Level level) {
  switch (level) {
    case Level::kInitial:
      return GNUTLS_ENCRYPTION_LEVEL_INITIAL;
    case Level::kEarlyData:
      return GNUTLS_ENCRYPTION_LEVEL_EARLY;
    case Level::kHandshake:
      return GNUTLS_ENCRYPTION_LEVEL_HANDSHAKE;
    case Level::kApplication:
      return GNUTLS_ENCRYPTION_LEVEL_APPLICATION;
  }
  return GNUTLS_ENCRYPTION_LEVEL_INITIAL;
}

bool is_ip_literal(const std::string& name) {
  std::uint8_t buf[16];
  return ::inet_pton(AF_INET, name.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

// QUIC carries no TLS records: GnuTLS must never touch a transport. Should it try, it fails.
ssize_t refuse_push(gnutls_transport_ptr_t, const void*, std::size_t) {
  errno = EIO;
  return -1;
}
ssize_t refuse_pull(gnutls_transport_ptr_t, void*, std::size_t) {
  errno = EIO;
  return -1;
}

// Certificate verification failures, from the verification status to an alert and a reason.
Error verification_error(unsigned status) {
  if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA)) {
    return {crypto_error(kAlertUnknownCa), "server certificate is not issued by a trusted CA",
            kCryptoFrame};
  }
  if (status & GNUTLS_CERT_UNEXPECTED_OWNER) {
    return {crypto_error(kAlertBadCertificate), "server certificate does not match the server name",
            kCryptoFrame};
  }
  if (status & GNUTLS_CERT_EXPIRED) {
    return {crypto_error(kAlertCertificateExpired), "server certificate has expired", kCryptoFrame};
  }
  if (status & GNUTLS_CERT_NOT_ACTIVATED) {
    return {crypto_error(kAlertBadCertificate), "server certificate is not valid yet",
            kCryptoFrame};
  }
  if (status & GNUTLS_CERT_REVOKED) {
    return {crypto_error(kAlertCertificateRevoked), "server certificate is revoked", kCryptoFrame};
  }
  return {crypto_error(kAlertBadCertificate), "server certificate verification failed",
          kCryptoFrame};
}

}  // namespace

// The GnuTLS callbacks. Each finds its TlsSession through the session pointer.
struct TlsSession::Callbacks {
  static TlsSession& self(gnutls_session_t s) {
    return *static_cast<TlsSession*>(gnutls_session_get_ptr(s));
  }

  static int secret(gnutls_session_t s, gnutls_record_encryption_level_t glevel,
                    const void* read_secret, const void* write_secret, std::size_t size) {
    TlsSession& t = self(s);
    const Level level = from_gnutls(glevel);
    const bool early = level == Level::kEarlyData;
    const auto suite =
        early ? detail::suite_from_gnutls(gnutls_early_cipher_get(s), gnutls_early_prf_hash_get(s))
              : detail::suite_from_gnutls(gnutls_cipher_get(s), gnutls_prf_hash_get(s));
    if (!suite) {
      t.local_error_ = Error{crypto_error(kAlertHandshakeFailure),
                             "negotiated cipher suite is not supported for QUIC", kCryptoFrame};
      return GNUTLS_E_INTERNAL_ERROR;
    }
    if (size != crypto::hash_size(suite->hash)) {
      t.local_error_ = Error{crypto_error(kAlertInternalError),
                             "TLS secret length does not match the cipher suite", kCryptoFrame};
      return GNUTLS_E_INTERNAL_ERROR;
    }
    if (read_secret != nullptr) {
      if (!early && level > t.read_level_) {
        // RFC 9001 4.1.3: no unconsumed data may remain at the level TLS is leaving.
        const auto from = index_of(t.read_level_);
        if (!t.framers_[from].at_boundary() ||
            t.framers_[from].messages_complete() != t.processed_[from]) {
          t.local_error_ =
              Error{TransportError::kProtocolViolation,
                    "unprocessed crypto data left at the previous encryption level", kCryptoFrame};
          return GNUTLS_E_INTERNAL_ERROR;
        }
        t.read_level_ = level;
      }
      const auto* p = static_cast<const std::uint8_t*>(read_secret);
      t.secrets_.push_back({level, Direction::kRead, {p, p + size}, *suite});
    }
    if (write_secret != nullptr) {
      const auto* p = static_cast<const std::uint8_t*>(write_secret);
      t.secrets_.push_back({level, Direction::kWrite, {p, p + size}, *suite});
    }
    return 0;
  }

  // GnuTLS hands over handshake bytes it wants sent ("read" from the application's side).
  static int handshake_output(gnutls_session_t s, gnutls_record_encryption_level_t glevel,
                              gnutls_handshake_description_t htype, const void* data,
                              std::size_t size) {
    if (htype == GNUTLS_HANDSHAKE_CHANGE_CIPHER_SPEC) return 0;  // never sent in QUIC
    TlsSession& t = self(s);
    const Level level = from_gnutls(glevel);
    const auto* p = static_cast<const std::uint8_t*>(data);
    if (t.output_.empty() || t.output_.back().level != level) t.output_.push_back({level, {}});
    t.output_.back().bytes.insert(t.output_.back().bytes.end(), p, p + size);
    return 0;
  }

  // An alert GnuTLS would send; QUIC turns it into CONNECTION_CLOSE (RFC 9001 4.8).
  static int alert(gnutls_session_t s, gnutls_record_encryption_level_t, gnutls_alert_level_t,
                   gnutls_alert_description_t description) {
    TlsSession& t = self(s);
    if (!t.sent_alert_) t.sent_alert_ = static_cast<std::uint8_t>(description);
    return 0;
  }

  // Always installed, so GnuTLS's own $SSLKEYLOGFILE writer never runs as well.
  static int keylog(gnutls_session_t s, const char* label, const gnutls_datum_t* secret) {
    TlsSession& t = self(s);
    if (t.ctx_->keylog_ == nullptr) return 0;
    gnutls_datum_t client_random{nullptr, 0};
    gnutls_session_get_random(s, &client_random, nullptr);
    t.ctx_->keylog_->write(label, {client_random.data, client_random.size},
                           {secret->data, secret->size});
    return 0;
  }

  // Called before GnuTLS processes each handshake message; `msg` is the body (no header).
  static int hook(gnutls_session_t s, unsigned htype, unsigned when, unsigned incoming,
                  const gnutls_datum_t* msg) {
    TlsSession& t = self(s);
    if (when != GNUTLS_HOOK_PRE) return 0;
    if (incoming != 0) {
      ++t.processed_[index_of(t.read_level_)];
      if (t.server_ && htype == GNUTLS_HANDSHAKE_CLIENT_HELLO) {
        t.peer_tp_.reset();  // a second ClientHello (after HelloRetryRequest) must carry its own
        // legacy_version(2) random(32) legacy_session_id<0..32>: RFC 9001 8.4 forbids the
        // middlebox compatibility mode, whose mark is a non-empty session id.
        constexpr std::size_t kSessionIdLength = 34;
        if (msg != nullptr && msg->size > kSessionIdLength && msg->data[kSessionIdLength] != 0) {
          t.local_error_ =
              Error{TransportError::kProtocolViolation,
                    "ClientHello asks for TLS middlebox compatibility mode", kCryptoFrame};
          return GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER;
        }
      }
      // The client checks EncryptedExtensions once the next server message arrives.
      if (!t.server_ && !t.peer_checked_ && t.read_level_ == Level::kHandshake &&
          htype != GNUTLS_HANDSHAKE_ENCRYPTED_EXTENSIONS) {
        return t.check_peer_extensions();
      }
    } else if (t.server_ && (htype == GNUTLS_HANDSHAKE_SERVER_HELLO ||
                             htype == GNUTLS_HANDSHAKE_HELLO_RETRY_REQUEST)) {
      // The server checks the ClientHello before answering it.
      return t.check_peer_extensions();
    }
    return 0;
  }

  static int tp_recv(gnutls_session_t s, const unsigned char* data, std::size_t size) {
    self(s).peer_tp_.emplace(data, data + size);
    return 0;
  }

  static int tp_send(gnutls_session_t s, gnutls_buffer_t out) {
    TlsSession& t = self(s);
    if (t.ctx_->testing_.omit_transport_parameters) return 0;
    if (gnutls_buffer_append_data(out, t.local_tp_.data(), t.local_tp_.size()) < 0) {
      return GNUTLS_E_MEMORY_ERROR;
    }
    return 0;
  }
};

TlsSession::TlsSession(std::shared_ptr<TlsContext> context, Bytes local_transport_params,
                       std::string_view server_name)
    : ctx_(std::move(context)),
      server_(ctx_->is_server()),
      server_name_(server_name),
      local_tp_(local_transport_params.begin(), local_transport_params.end()),
      framers_{HandshakeFramer(server_, Level::kInitial),
               HandshakeFramer(server_, Level::kEarlyData),
               HandshakeFramer(server_, Level::kHandshake),
               HandshakeFramer(server_, Level::kApplication)} {}

TlsSession::~TlsSession() {
  if (session_ != nullptr) gnutls_deinit(session_);
}

Result<std::unique_ptr<TlsSession>> TlsSession::create(std::shared_ptr<TlsContext> context,
                                                       Bytes local_transport_params,
                                                       std::string_view server_name) {
  if (context == nullptr) return Error{TransportError::kInternalError, "no TLS context"};
  if (local_transport_params.empty() && !context->testing_.omit_transport_parameters) {
    return Error{TransportError::kInternalError, "local transport parameters are empty"};
  }
  if (!context->is_server() && server_name.empty() && context->verifies_peer()) {
    return Error{TransportError::kInternalError,
                 "a client needs a server name to verify the server certificate"};
  }
  std::unique_ptr<TlsSession> t(
      new TlsSession(std::move(context), local_transport_params, server_name));
  const Error setup{TransportError::kInternalError, "cannot set up the GnuTLS session"};
  // 0-RTT: a client asks for it when its resumed ticket allows it; a server with anti-replay
  // accepts it (the end_of_early_data message does not exist in QUIC, RFC 9001 8.3).
  unsigned flags = (t->server_ ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_NO_END_OF_EARLY_DATA;
  if (!t->server_ || t->ctx_->early_data_) flags |= GNUTLS_ENABLE_EARLY_DATA;
  if (gnutls_init(&t->session_, flags) < 0) {
    t->session_ = nullptr;
    return setup;
  }
  gnutls_session_t s = t->session_;
  gnutls_session_set_ptr(s, t.get());
  if (gnutls_priority_set(s, t->ctx_->priority_) < 0 ||
      gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, t->ctx_->credentials_) < 0) {
    return setup;
  }
  // Time belongs to the connection (idle timeout on its injected clock), not to GnuTLS.
  gnutls_handshake_set_timeout(s, 0);
  gnutls_transport_set_push_function(s, refuse_push);
  gnutls_transport_set_pull_function(s, refuse_pull);
  gnutls_handshake_set_secret_function(s, Callbacks::secret);
  gnutls_handshake_set_read_function(s, Callbacks::handshake_output);
  gnutls_alert_set_read_function(s, Callbacks::alert);
  gnutls_session_set_keylog_function(s, Callbacks::keylog);
  gnutls_handshake_set_hook_function(s, GNUTLS_HANDSHAKE_ANY, GNUTLS_HOOK_PRE, Callbacks::hook);
  if (t->server_ && t->ctx_->resumption_) {
    auto& tk = t->ctx_->ticket_key_;
    const gnutls_datum_t key{tk.data(), static_cast<unsigned>(tk.size())};
    if (gnutls_session_ticket_enable_server(s, &key) < 0) return setup;
    if (t->ctx_->early_data_) {
      gnutls_anti_replay_enable(s, t->ctx_->anti_replay_);
      // RFC 9001 4.6.1: a QUIC server's tickets say 0xffffffff; the transport limits 0-RTT.
      if (gnutls_record_set_max_early_data_size(s, 0xffffffff) < 0) return setup;
    }
  }
  if (gnutls_session_ext_register(
          s, "quic_transport_parameters", kTransportParametersExtension, GNUTLS_EXT_TLS,
          Callbacks::tp_recv, Callbacks::tp_send, nullptr, nullptr, nullptr,
          GNUTLS_EXT_FLAG_TLS | GNUTLS_EXT_FLAG_CLIENT_HELLO | GNUTLS_EXT_FLAG_EE) < 0) {
    return setup;
  }

  if (!t->ctx_->testing_.omit_alpn) {
    std::vector<gnutls_datum_t> protocols;
    for (const auto& p : t->ctx_->alpn_) protocols.push_back(detail::as_datum(p));
    const unsigned alpn_flags =
        t->server_ ? GNUTLS_ALPN_MANDATORY | GNUTLS_ALPN_SERVER_PRECEDENCE : 0;
    if (gnutls_alpn_set_protocols(s, protocols.data(), static_cast<unsigned>(protocols.size()),
                                  alpn_flags) < 0) {
      return setup;
    }
  }

  if (!t->server_ && !t->server_name_.empty()) {
    // SNI carries DNS names only (RFC 6066 section 3); IP addresses are verified all the same.
    if (!is_ip_literal(t->server_name_) &&
        gnutls_server_name_set(s, GNUTLS_NAME_DNS, t->server_name_.data(), t->server_name_.size()) <
            0) {
      return setup;
    }
    if (t->ctx_->verifies_peer()) gnutls_session_set_verify_cert(s, t->server_name_.c_str(), 0);
  }
  return t;
}

Status TlsSession::start() {
  if (failure_) return *failure_;
  if (started_) return {};
  started_ = true;
  if (server_) return {};
  return drive();
}

Status TlsSession::provide_data(Level level, Bytes data) {
  if (failure_) return *failure_;
  if (!server_ && !started_) {
    return Error{TransportError::kInternalError, "client TLS session not started"};
  }
  if (level == Level::kEarlyData) {
    // RFC 9001 8.3: CRYPTO frames are not allowed in 0-RTT packets.
    return fail({TransportError::kProtocolViolation, "crypto data in 0-RTT", kCryptoFrame});
  }
  if (level != read_level_) {
    return fail({TransportError::kProtocolViolation,
                 level < read_level_ ? "crypto data beyond the end of a finished encryption level"
                                     : "crypto data at an encryption level not yet in use",
                 kCryptoFrame});
  }
  if (data.empty()) return {};
  if (auto st = framers_[index_of(level)].feed(data); !st) {
    Error e = st.error();
    e.frame_type = kCryptoFrame;
    return fail(e);
  }
  const int rc = gnutls_handshake_write(session_, to_gnutls(level), data.data(), data.size());
  if (rc < 0 && gnutls_error_is_fatal(rc)) return fail(error_from_gnutls(rc));
  if (local_error_) return fail(*local_error_);
  if (!complete_) return drive();
  return {};
}

Status TlsSession::drive() {
  const int rc = gnutls_handshake(session_);
  if (rc == 0) {
    complete_ = true;
    return {};
  }
  if (gnutls_error_is_fatal(rc)) return fail(error_from_gnutls(rc));
  if (local_error_) return fail(*local_error_);
  return {};  // waiting for more handshake data
}

Status TlsSession::fail(Error error) {
  failure_ = error;
  output_.clear();  // the connection closes instead of sending the rest of the flight
  return error;
}

Error TlsSession::error_from_gnutls(int code) const {
  if (local_error_) return *local_error_;
  if (code == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
    return verification_error(gnutls_session_get_verify_cert_status(session_));
  }
  if (sent_alert_) return {crypto_error(*sent_alert_), gnutls_strerror(code), kCryptoFrame};
  int level = 0;
  const int alert = gnutls_error_to_alert(code, &level);
  const auto description =
      alert >= 0 && alert <= 255 ? static_cast<std::uint8_t>(alert) : kAlertInternalError;
  // gnutls_strerror returns static strings, as Error::reason requires.
  return {crypto_error(description), gnutls_strerror(code), kCryptoFrame};
}

int TlsSession::check_peer_extensions() {
  if (!peer_tp_) {
    local_error_ = Error{crypto_error(kAlertMissingExtension),
                         "peer sent no quic_transport_parameters extension", kCryptoFrame};
    return GNUTLS_E_MISSING_EXTENSION;
  }
  gnutls_datum_t selected{nullptr, 0};
  if (!ctx_->testing_.omit_alpn &&
      (gnutls_alpn_get_selected_protocol(session_, &selected) < 0 || selected.size == 0)) {
    local_error_ = Error{crypto_error(kAlertNoApplicationProtocol),
                         "no application protocol agreed with ALPN", kCryptoFrame};
    return GNUTLS_E_NO_APPLICATION_PROTOCOL;
  }
  peer_checked_ = true;
  return 0;
}

bool TlsSession::take_output(Level& level, std::vector<std::uint8_t>& data) {
  if (output_.empty()) return false;
  level = output_.front().level;
  data = std::move(output_.front().bytes);
  output_.pop_front();
  return true;
}

std::optional<SecretEvent> TlsSession::poll_secret() {
  if (secrets_.empty()) return std::nullopt;
  SecretEvent ev = std::move(secrets_.front());
  secrets_.pop_front();
  return ev;
}

std::string TlsSession::alpn() const {
  gnutls_datum_t selected{nullptr, 0};
  if (gnutls_alpn_get_selected_protocol(session_, &selected) < 0) return {};
  return {reinterpret_cast<const char*>(selected.data), selected.size};
}

std::optional<CipherSuite> TlsSession::cipher_suite() const {
  return detail::suite_from_gnutls(gnutls_cipher_get(session_), gnutls_prf_hash_get(session_));
}

std::string TlsSession::peer_certificate_info() const {
  unsigned count = 0;
  const gnutls_datum_t* certs = gnutls_certificate_get_peers(session_, &count);
  if (certs == nullptr || count == 0) return {};
  gnutls_x509_crt_t raw = nullptr;
  if (gnutls_x509_crt_init(&raw) < 0) return {};
  std::unique_ptr<gnutls_x509_crt_int, detail::CrtDeleter> crt(raw);
  if (gnutls_x509_crt_import(crt.get(), &certs[0], GNUTLS_X509_FMT_DER) < 0) return {};
  detail::OwnedDatum text;
  if (gnutls_x509_crt_print(crt.get(), GNUTLS_CRT_PRINT_ONELINE, text.out()) < 0) return {};
  return std::string(text.view());
}

std::string TlsSession::requested_server_name() const {
  char name[256];
  std::size_t size = sizeof(name);
  unsigned type = 0;
  if (gnutls_server_name_get(session_, name, &size, &type, 0) < 0 || type != GNUTLS_NAME_DNS) {
    return {};
  }
  return std::string(name, size);
}

Status TlsSession::set_resumption_data(Bytes data) {
  if (server_ || started_) return Error{TransportError::kInternalError, "resumption data is for a client before start()"};
  const gnutls_datum_t d{const_cast<unsigned char*>(data.data()), static_cast<unsigned>(data.size())};
  if (gnutls_session_set_data(session_, d.data, d.size) < 0) {
    return Error{TransportError::kInternalError, "the saved TLS session is not usable"};
  }
  return {};
}

std::optional<std::vector<std::uint8_t>> TlsSession::resumption_data() const {
  if (server_ || !complete_) return std::nullopt;
  if ((gnutls_session_get_flags(session_) & GNUTLS_SFLAGS_SESSION_TICKET) == 0) return std::nullopt;
  gnutls_datum_t d{};
  if (gnutls_session_get_data2(session_, &d) < 0) return std::nullopt;
  std::vector<std::uint8_t> out(d.data, d.data + d.size);
  gnutls_free(d.data);
  return out;
}

bool TlsSession::resumed() const { return complete_ && gnutls_session_is_resumed(session_) != 0; }

bool TlsSession::early_data_accepted() const {
  return complete_ && (gnutls_session_get_flags(session_) & GNUTLS_SFLAGS_EARLY_DATA) != 0;
}

}  // namespace roam::tls
