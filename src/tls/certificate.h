// A server certificate chain and its private key: generated self-signed, or loaded from PEM.
// Exposes the fingerprints browsers and tools ask for (Chromium's
// --ignore-certificate-errors-spki-list takes spki_sha256_base64()).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/error.h"

namespace roam::tls {

struct SelfSignedOptions {
  // Subject alternative names. When both lists are empty the certificate names "localhost",
  // 127.0.0.1 and ::1. The first DNS name (or "roam") is also the subject common name.
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;  // textual IPv4 or IPv6
  // Wall-clock time the certificate is issued at: it is valid from now - 1 hour (clock skew)
  // until now + validity. Required: the library reads no clock.
  std::chrono::system_clock::time_point now{};
  std::chrono::seconds validity = std::chrono::hours(24 * 365);
};

class Certificate {
 public:
  // A fresh ECDSA P-256 key and a self-signed certificate for it (SHA-256 signature,
  // serverAuth, not a CA).
  static Result<Certificate> generate_self_signed(const SelfSignedOptions& options);
  // cert_pem holds the leaf certificate first, then any intermediates; key_pem a PKCS#8, SEC1 or
  // PKCS#1 private key that must match the leaf.
  static Result<Certificate> from_pem(std::string cert_pem, std::string key_pem);
  static Result<Certificate> load_pem_files(const std::string& cert_path,
                                            const std::string& key_path);

  // Writes the chain and the key (the key file with mode 0600), replacing existing files.
  Status write_pem_files(const std::string& cert_path, const std::string& key_path) const;

  const std::string& cert_pem() const { return cert_pem_; }
  const std::string& key_pem() const { return key_pem_; }
  // SHA-256 of the leaf certificate (DER), upper-case hex pairs joined by ':'.
  const std::string& sha256_fingerprint() const { return fingerprint_; }
  // base64 of the SHA-256 of the leaf's DER SubjectPublicKeyInfo.
  const std::string& spki_sha256_base64() const { return spki_sha256_; }

 private:
  Certificate() = default;
  std::string cert_pem_;
  std::string key_pem_;
  std::string fingerprint_;
  std::string spki_sha256_;
};

}  // namespace roam::tls
