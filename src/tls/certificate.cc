#include "tls/certificate.h"

#include <arpa/inet.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <memory>

#include "tls/file_io.h"
#include "tls/gnutls_util.h"

namespace roam::tls {
namespace {

using detail::OwnedDatum;
using CrtPtr = std::unique_ptr<gnutls_x509_crt_int, detail::CrtDeleter>;
using PrivkeyPtr = std::unique_ptr<gnutls_x509_privkey_int, detail::PrivkeyDeleter>;

struct PubkeyDeleter {
  void operator()(gnutls_pubkey_st* p) const { gnutls_pubkey_deinit(p); }
};
using PubkeyPtr = std::unique_ptr<gnutls_pubkey_st, PubkeyDeleter>;

Error cert_error(std::string_view reason) { return Error{TransportError::kInternalError, reason}; }

// Parses a textual IPv4/IPv6 address into network-order bytes; returns the length, 0 if invalid.
std::size_t parse_ip(const std::string& text, std::array<std::uint8_t, 16>& out) {
  if (::inet_pton(AF_INET, text.c_str(), out.data()) == 1) return 4;
  if (::inet_pton(AF_INET6, text.c_str(), out.data()) == 1) return 16;
  return 0;
}

std::time_t to_time_t(std::chrono::system_clock::time_point t) {
  return std::chrono::system_clock::to_time_t(t);
}

// Fills the two fingerprints of the leaf certificate.
Status fingerprints(gnutls_x509_crt_t leaf, std::string& fingerprint, std::string& spki_sha256) {
  std::array<std::uint8_t, 32> digest{};
  std::size_t size = digest.size();
  if (gnutls_x509_crt_get_fingerprint(leaf, GNUTLS_DIG_SHA256, digest.data(), &size) < 0 ||
      size != digest.size()) {
    return cert_error("cannot compute the certificate fingerprint");
  }
  fingerprint = detail::hex_colon(digest);

  gnutls_pubkey_t raw_pub = nullptr;
  if (gnutls_pubkey_init(&raw_pub) < 0) return cert_error("out of memory");
  PubkeyPtr pub(raw_pub);
  OwnedDatum spki;
  if (gnutls_pubkey_import_x509(pub.get(), leaf, 0) < 0 ||
      gnutls_pubkey_export2(pub.get(), GNUTLS_X509_FMT_DER, spki.out()) < 0) {
    return cert_error("cannot extract the certificate's public key");
  }
  if (gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.bytes().data(), spki.bytes().size(), digest.data()) <
      0) {
    return cert_error("cannot hash the certificate's public key");
  }
  spki_sha256 = detail::base64(digest);
  return {};
}

}  // namespace

Result<Certificate> Certificate::generate_self_signed(const SelfSignedOptions& options) {
  if (options.now.time_since_epoch().count() == 0) {
    return cert_error("self-signed certificate needs the current time");
  }
  if (options.validity <= std::chrono::seconds(0)) {
    return cert_error("self-signed certificate validity must be positive");
  }
  std::vector<std::string> dns = options.dns_names;
  std::vector<std::string> ips = options.ip_addresses;
  if (dns.empty() && ips.empty()) {
    dns = {"localhost"};
    ips = {"127.0.0.1", "::1"};
  }

  gnutls_x509_privkey_t raw_key = nullptr;
  if (gnutls_x509_privkey_init(&raw_key) < 0) return cert_error("out of memory");
  PrivkeyPtr key(raw_key);
  if (gnutls_x509_privkey_generate(key.get(), GNUTLS_PK_ECDSA,
                                   GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0) {
    return cert_error("cannot generate an ECDSA P-256 key");
  }

  gnutls_x509_crt_t raw_crt = nullptr;
  if (gnutls_x509_crt_init(&raw_crt) < 0) return cert_error("out of memory");
  CrtPtr crt(raw_crt);

  // A positive 16-byte serial number (top bit clear, leading byte non-zero).
  std::array<std::uint8_t, 16> serial{};
  if (gnutls_rnd(GNUTLS_RND_NONCE, serial.data(), serial.size()) < 0) {
    return cert_error("cannot draw a certificate serial number");
  }
  serial[0] = static_cast<std::uint8_t>((serial[0] & 0x7f) | 0x40);

  const std::string common_name = dns.empty() ? std::string("roam") : dns.front();
  const auto not_before = options.now - std::chrono::hours(1);
  const auto not_after = options.now + options.validity;

  int rc = gnutls_x509_crt_set_version(crt.get(), 3);
  if (rc >= 0) rc = gnutls_x509_crt_set_serial(crt.get(), serial.data(), serial.size());
  if (rc >= 0) rc = gnutls_x509_crt_set_activation_time(crt.get(), to_time_t(not_before));
  if (rc >= 0) rc = gnutls_x509_crt_set_expiration_time(crt.get(), to_time_t(not_after));
  if (rc >= 0) {
    rc =
        gnutls_x509_crt_set_dn_by_oid(crt.get(), GNUTLS_OID_X520_COMMON_NAME, 0, common_name.data(),
                                      static_cast<unsigned>(common_name.size()));
  }
  if (rc >= 0) rc = gnutls_x509_crt_set_key(crt.get(), key.get());
  if (rc >= 0) rc = gnutls_x509_crt_set_basic_constraints(crt.get(), 0, -1);
  if (rc >= 0) rc = gnutls_x509_crt_set_key_usage(crt.get(), GNUTLS_KEY_DIGITAL_SIGNATURE);
  if (rc >= 0) rc = gnutls_x509_crt_set_key_purpose_oid(crt.get(), GNUTLS_KP_TLS_WWW_SERVER, 0);
  if (rc < 0) return cert_error("cannot fill in the certificate");

  for (const auto& name : dns) {
    if (name.empty()) return cert_error("empty DNS name for the certificate");
    if (gnutls_x509_crt_set_subject_alt_name(crt.get(), GNUTLS_SAN_DNSNAME, name.data(),
                                             static_cast<unsigned>(name.size()),
                                             GNUTLS_FSAN_APPEND) < 0) {
      return cert_error("cannot add a DNS name to the certificate");
    }
  }
  for (const auto& text : ips) {
    std::array<std::uint8_t, 16> ip{};
    const std::size_t len = parse_ip(text, ip);
    if (len == 0) return cert_error("invalid IP address for the certificate");
    if (gnutls_x509_crt_set_subject_alt_name(crt.get(), GNUTLS_SAN_IPADDRESS, ip.data(),
                                             static_cast<unsigned>(len), GNUTLS_FSAN_APPEND) < 0) {
      return cert_error("cannot add an IP address to the certificate");
    }
  }

  std::array<std::uint8_t, 64> key_id{};
  std::size_t key_id_size = key_id.size();
  if (gnutls_x509_crt_get_key_id(crt.get(), GNUTLS_KEYID_USE_SHA1, key_id.data(), &key_id_size) <
          0 ||
      gnutls_x509_crt_set_subject_key_id(crt.get(), key_id.data(), key_id_size) < 0) {
    return cert_error("cannot set the certificate's key identifier");
  }
  if (gnutls_x509_crt_sign2(crt.get(), crt.get(), key.get(), GNUTLS_DIG_SHA256, 0) < 0) {
    return cert_error("cannot sign the certificate");
  }

  OwnedDatum cert_pem;
  OwnedDatum key_pem;
  if (gnutls_x509_crt_export2(crt.get(), GNUTLS_X509_FMT_PEM, cert_pem.out()) < 0 ||
      gnutls_x509_privkey_export2_pkcs8(key.get(), GNUTLS_X509_FMT_PEM, nullptr, GNUTLS_PKCS_PLAIN,
                                        key_pem.out()) < 0) {
    return cert_error("cannot encode the certificate as PEM");
  }

  Certificate out;
  out.cert_pem_ = std::string(cert_pem.view());
  out.key_pem_ = std::string(key_pem.view());
  if (auto st = fingerprints(crt.get(), out.fingerprint_, out.spki_sha256_); !st) return st.error();
  return out;
}

Result<Certificate> Certificate::from_pem(std::string cert_pem, std::string key_pem) {
  const gnutls_datum_t cert_datum = detail::as_datum(cert_pem);
  gnutls_x509_crt_t* list = nullptr;
  unsigned count = 0;
  if (gnutls_x509_crt_list_import2(&list, &count, &cert_datum, GNUTLS_X509_FMT_PEM, 0) < 0 ||
      count == 0) {
    return cert_error("no PEM certificate could be parsed");
  }
  std::vector<CrtPtr> chain;
  for (unsigned i = 0; i < count; ++i) chain.emplace_back(list[i]);
  gnutls_free(list);

  gnutls_x509_privkey_t raw_key = nullptr;
  if (gnutls_x509_privkey_init(&raw_key) < 0) return cert_error("out of memory");
  PrivkeyPtr key(raw_key);
  const gnutls_datum_t key_datum = detail::as_datum(key_pem);
  if (gnutls_x509_privkey_import2(key.get(), &key_datum, GNUTLS_X509_FMT_PEM, nullptr,
                                  GNUTLS_PKCS_PLAIN) < 0) {
    return cert_error("no unencrypted PEM private key could be parsed");
  }

  std::array<std::uint8_t, 64> cert_id{};
  std::array<std::uint8_t, 64> key_id{};
  std::size_t cert_id_size = cert_id.size();
  std::size_t key_id_size = key_id.size();
  if (gnutls_x509_crt_get_key_id(chain.front().get(), GNUTLS_KEYID_USE_SHA256, cert_id.data(),
                                 &cert_id_size) < 0 ||
      gnutls_x509_privkey_get_key_id(key.get(), GNUTLS_KEYID_USE_SHA256, key_id.data(),
                                     &key_id_size) < 0) {
    return cert_error("cannot compare the private key with the certificate");
  }
  if (cert_id_size != key_id_size ||
      !std::equal(cert_id.begin(), cert_id.begin() + static_cast<long>(cert_id_size),
                  key_id.begin())) {
    return cert_error("private key does not match the certificate");
  }

  Certificate out;
  if (auto st = fingerprints(chain.front().get(), out.fingerprint_, out.spki_sha256_); !st) {
    return st.error();
  }
  out.cert_pem_ = std::move(cert_pem);
  out.key_pem_ = std::move(key_pem);
  return out;
}

Result<Certificate> Certificate::load_pem_files(const std::string& cert_path,
                                                const std::string& key_path) {
  std::string cert_pem;
  std::string key_pem;
  if (!detail::read_file(cert_path, cert_pem))
    return cert_error("cannot read the certificate file");
  if (!detail::read_file(key_path, key_pem)) return cert_error("cannot read the private key file");
  return from_pem(std::move(cert_pem), std::move(key_pem));
}

Status Certificate::write_pem_files(const std::string& cert_path,
                                    const std::string& key_path) const {
  if (!detail::write_file(cert_path, cert_pem_, 0644)) {
    return cert_error("cannot write the certificate file");
  }
  if (!detail::write_file(key_path, key_pem_, 0600)) {
    return cert_error("cannot write the private key file");
  }
  return {};
}

}  // namespace roam::tls
