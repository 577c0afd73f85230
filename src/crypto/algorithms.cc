#include "crypto/algorithms.h"

namespace roam::crypto {

std::string_view to_string(AeadAlgorithm a) {
  switch (a) {
    case AeadAlgorithm::kAes128Gcm:
      return "AES-128-GCM";
    case AeadAlgorithm::kAes256Gcm:
      return "AES-256-GCM";
    case AeadAlgorithm::kChaCha20Poly1305:
      return "ChaCha20-Poly1305";
  }
  return "unknown";
}

std::string_view to_string(Backend b) {
  switch (b) {
    case Backend::kAuto:
      return "auto";
    case Backend::kGnuTls:
      return "GnuTLS";
    case Backend::kOpenSsl:
      return "OpenSSL";
  }
  return "unknown";
}

// Measured with bench/bench_crypto.cc on the project machine (docs/crypto.md has the table).
Backend choose_backend(AeadAlgorithm a, Backend requested) {
  if (requested != Backend::kAuto) return requested;
  switch (a) {
    case AeadAlgorithm::kAes128Gcm:
    case AeadAlgorithm::kAes256Gcm:
      return Backend::kGnuTls;
    case AeadAlgorithm::kChaCha20Poly1305:
      return Backend::kOpenSsl;
  }
  return Backend::kOpenSsl;
}

Backend choose_hp_backend(AeadAlgorithm a, Backend requested) {
  if (requested != Backend::kAuto) return requested;
  (void)a;
  return Backend::kOpenSsl;
}

}  // namespace roam::crypto
