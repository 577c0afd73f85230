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
// AES-GCM: GnuTLS's x86 AES-GCM is ~20% faster per 1200-1350-byte packet than OpenSSL's EVP path
// (379 vs 481 ns for AES-128-GCM at 1350 B; OpenSSL pays ~100 ns more per call for the EVP
// re-init and tag ctrl), and only at 16 KiB do they meet. ChaCha20-Poly1305: GnuTLS goes through
// nettle's portable C code here, 5x slower than OpenSSL (5.2 us vs 1.04 us at 1350 B).
Backend choose_backend(AeadAlgorithm a, Backend requested) {
  if (requested != Backend::kAuto) return requested;
  return a == AeadAlgorithm::kChaCha20Poly1305 ? Backend::kOpenSsl : Backend::kGnuTls;
}

// AES-ECB masks cost the same in both libraries (21 ns AES-128, 26 ns AES-256), so the AES header
// protection stays with the AEAD's library; the raw ChaCha20 mask is cheaper through OpenSSL
// (194 vs 223 ns).
Backend choose_hp_backend(AeadAlgorithm a, Backend requested) {
  if (requested != Backend::kAuto) return requested;
  return a == AeadAlgorithm::kChaCha20Poly1305 ? Backend::kOpenSsl : Backend::kGnuTls;
}

}  // namespace roam::crypto
