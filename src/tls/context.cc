#include "tls/context.h"

#include <map>
#include <mutex>
#include <string>

#include "tls/gnutls_util.h"

namespace roam::tls {

// The ClientHellos that carried early data within the anti-replay window (GnuTLS calls add() for
// each; an entry already present means a replay, and the 0-RTT data is refused). Bounded by the
// window: expired entries go first.
struct TlsContext::ReplayCache {
  std::mutex mu;
  std::map<std::string, time_t> entries;
  static constexpr std::size_t kMaxEntries = 100'000;

  static int add(void* ptr, time_t expires, const gnutls_datum_t* key, const gnutls_datum_t* /*data*/) {
    auto* self = static_cast<ReplayCache*>(ptr);
    const std::lock_guard<std::mutex> lock(self->mu);
    const time_t now = time(nullptr);
    if (self->entries.size() >= kMaxEntries / 2) {
      std::erase_if(self->entries, [now](const auto& kv) { return kv.second < now; });
    }
    std::string k(reinterpret_cast<const char*>(key->data), key->size);
    if (self->entries.count(k) != 0) return GNUTLS_E_DB_ENTRY_EXISTS;
    if (self->entries.size() >= kMaxEntries) return GNUTLS_E_DB_ENTRY_EXISTS;  // full: refuse 0-RTT
    self->entries.emplace(std::move(k), expires);
    return 0;
  }
};
namespace {

Error setup_error(std::string_view reason) {
  return Error{TransportError::kInternalError, reason};
}

// TLS 1.3 only, the three QUIC AEADs, elliptic-curve groups only (small key shares keep the
// ClientHello in one packet), and no middlebox compatibility mode (RFC 9001 section 8.4).
std::string priority_string(const std::vector<Aead>& ciphers, const std::string& suffix) {
  std::string s = "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL";
  if (ciphers.empty()) {
    for (Aead a : {Aead::kAes128Gcm, Aead::kAes256Gcm, Aead::kChaCha20Poly1305}) {
      s += ':';
      s += detail::priority_keyword(a);
    }
  } else {
    for (Aead a : ciphers) {
      s += ':';
      s += detail::priority_keyword(a);
    }
  }
  s += ":-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1";
  s += ":%DISABLE_TLS13_COMPAT_MODE";
  s += suffix;
  return s;
}

Status check_alpn(const std::vector<std::string>& alpn) {
  if (alpn.empty()) return setup_error("at least one ALPN protocol is required");
  for (const auto& p : alpn) {
    if (p.empty() || p.size() > 255) return setup_error("ALPN protocol names are 1..255 bytes");
  }
  return {};
}

// Fills the parts every context has: priority, credentials object, key log.
Status init_common(gnutls_certificate_credentials_st*& credentials, gnutls_priority_st*& priority,
                   std::unique_ptr<KeylogWriter>& keylog, const std::vector<Aead>& ciphers,
                   const std::string& keylog_file, const TestingOptions& testing) {
  const std::string prio = priority_string(ciphers, testing.priority_suffix);
  if (gnutls_priority_init2(&priority, prio.c_str(), nullptr, 0) < 0) {
    priority = nullptr;
    return setup_error("GnuTLS rejected the TLS 1.3 priority string");
  }
  if (gnutls_certificate_allocate_credentials(&credentials) < 0) {
    credentials = nullptr;
    return setup_error("out of memory");
  }
  if (!keylog_file.empty()) {
    auto writer = KeylogWriter::open(keylog_file);
    if (!writer) return writer.error();
    keylog = std::move(writer.value());
  }
  return {};
}

}  // namespace

TlsContext::TlsContext() = default;

TlsContext::~TlsContext() {
  if (anti_replay_ != nullptr) gnutls_anti_replay_deinit(anti_replay_);
  std::fill(ticket_key_.begin(), ticket_key_.end(), 0);
  if (credentials_ != nullptr) gnutls_certificate_free_credentials(credentials_);
  if (priority_ != nullptr) gnutls_priority_deinit(priority_);
}

Result<std::shared_ptr<TlsContext>> TlsContext::create_server(ServerOptions options) {
  if (auto st = check_alpn(options.alpn); !st) return st.error();
  std::shared_ptr<TlsContext> ctx(new TlsContext());
  ctx->server_ = true;
  ctx->alpn_ = std::move(options.alpn);
  ctx->testing_ = options.testing;
  if (auto st = init_common(ctx->credentials_, ctx->priority_, ctx->keylog_, options.ciphers,
                            options.keylog_file, options.testing);
      !st) {
    return st.error();
  }

  if (options.certificate) {
    ctx->certificate_ = std::move(options.certificate);
  } else if (!options.cert_file.empty() || !options.key_file.empty()) {
    if (options.cert_file.empty() || options.key_file.empty()) {
      return setup_error("a certificate file needs its key file and vice versa");
    }
    auto loaded = Certificate::load_pem_files(options.cert_file, options.key_file);
    if (!loaded) return loaded.error();
    ctx->certificate_ = std::move(loaded.value());
  } else {
    auto generated = Certificate::generate_self_signed(options.self_signed);
    if (!generated) return generated.error();
    ctx->certificate_ = std::move(generated.value());
  }

  const gnutls_datum_t cert = detail::as_datum(ctx->certificate_->cert_pem());
  const gnutls_datum_t key = detail::as_datum(ctx->certificate_->key_pem());
  if (gnutls_certificate_set_x509_key_mem2(ctx->credentials_, &cert, &key, GNUTLS_X509_FMT_PEM,
                                           nullptr, 0) < 0) {
    return setup_error("GnuTLS rejected the certificate or its key");
  }

  ctx->resumption_ = options.resumption;
  ctx->early_data_ = options.resumption && options.early_data;
  if (ctx->resumption_) {
    if (!options.ticket_key.empty()) {
      ctx->ticket_key_ = std::move(options.ticket_key);
    } else {
      gnutls_datum_t k{};
      if (gnutls_session_ticket_key_generate(&k) < 0) return setup_error("cannot generate a session ticket key");
      ctx->ticket_key_.assign(k.data, k.data + k.size);
      gnutls_memset(k.data, 0, k.size);
      gnutls_free(k.data);
    }
  }
  if (ctx->early_data_) {
    if (gnutls_anti_replay_init(&ctx->anti_replay_) < 0) {
      ctx->anti_replay_ = nullptr;
      return setup_error("cannot set up 0-RTT anti-replay");
    }
    ctx->replay_cache_ = std::make_unique<ReplayCache>();
    gnutls_anti_replay_set_window(ctx->anti_replay_, static_cast<unsigned>(options.anti_replay_window.count()));
    gnutls_anti_replay_set_add_function(ctx->anti_replay_, &ReplayCache::add);
    gnutls_anti_replay_set_ptr(ctx->anti_replay_, ctx->replay_cache_.get());
  }
  return ctx;
}

Result<std::shared_ptr<TlsContext>> TlsContext::create_client(ClientOptions options) {
  if (auto st = check_alpn(options.alpn); !st) return st.error();
  std::shared_ptr<TlsContext> ctx(new TlsContext());
  ctx->server_ = false;
  ctx->insecure_ = options.insecure_skip_verify;
  ctx->alpn_ = std::move(options.alpn);
  ctx->testing_ = options.testing;
  if (auto st = init_common(ctx->credentials_, ctx->priority_, ctx->keylog_, options.ciphers,
                            options.keylog_file, options.testing);
      !st) {
    return st.error();
  }

  if (!options.ca_file.empty()) {
    if (gnutls_certificate_set_x509_trust_file(ctx->credentials_, options.ca_file.c_str(),
                                               GNUTLS_X509_FMT_PEM) <= 0) {
      return setup_error("the CA file holds no readable PEM certificate");
    }
  }
  if (!options.ca_pem.empty()) {
    const gnutls_datum_t ca = detail::as_datum(options.ca_pem);
    if (gnutls_certificate_set_x509_trust_mem(ctx->credentials_, &ca, GNUTLS_X509_FMT_PEM) <= 0) {
      return setup_error("the CA PEM holds no readable certificate");
    }
  }
  if (options.ca_file.empty() && options.ca_pem.empty() && !ctx->insecure_) {
    if (gnutls_certificate_set_x509_system_trust(ctx->credentials_) < 0) {
      return setup_error("cannot load the system trust store");
    }
  }
  return ctx;
}

}  // namespace roam::tls
