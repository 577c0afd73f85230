// The algorithms QUIC packet protection uses (RFC 9001 section 5): the three TLS 1.3 AEADs that
// have a header protection scheme, their hash functions, sizes, and the usage limits of 6.6.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace roam::crypto {

enum class AeadAlgorithm : std::uint8_t { kAes128Gcm, kAes256Gcm, kChaCha20Poly1305 };
enum class HashAlgorithm : std::uint8_t { kSha256, kSha384 };

// Which library performs the symmetric operations. kAuto lets the factories pick the faster one
// for each algorithm on this machine (see choose_backend() and docs/crypto.md); tests and the
// benchmark name a backend explicitly.
enum class Backend : std::uint8_t { kAuto, kGnuTls, kOpenSsl };

inline constexpr std::size_t kAeadTagSize = 16;    // all three AEADs: 16-byte tag, 16-byte expansion
inline constexpr std::size_t kAeadNonceSize = 12;  // and a 12-byte nonce (= the "quic iv" length)
inline constexpr std::size_t kHpSampleSize = 16;   // RFC 9001 5.4.2
inline constexpr std::size_t kHpMaskSize = 5;      // 1 byte for the first byte, up to 4 for the PN
inline constexpr std::size_t kMaxAeadKeySize = 32;
inline constexpr std::size_t kMaxHashSize = 48;

constexpr std::size_t aead_key_size(AeadAlgorithm a) {
  return a == AeadAlgorithm::kAes128Gcm ? 16 : 32;
}

// Header protection key length ("quic hp"): AES-128 for AES-128-GCM, AES-256 for AES-256-GCM,
// a 256-bit ChaCha20 key for ChaCha20-Poly1305.
constexpr std::size_t hp_key_size(AeadAlgorithm a) { return aead_key_size(a); }

// The hash of the TLS 1.3 cipher suite that carries the AEAD: TLS_AES_128_GCM_SHA256,
// TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256.
constexpr HashAlgorithm aead_hash(AeadAlgorithm a) {
  return a == AeadAlgorithm::kAes256Gcm ? HashAlgorithm::kSha384 : HashAlgorithm::kSha256;
}

constexpr std::size_t hash_size(HashAlgorithm h) { return h == HashAlgorithm::kSha384 ? 48 : 32; }

// RFC 9001 6.6, limits the connection enforces.
// Confidentiality limit: packets that may be sealed with one key. The connection must initiate a
// key update before sending more than this many packets with the current 1-RTT keys (and must
// close with AEAD_LIMIT_REACHED if an update is not possible). For ChaCha20-Poly1305 the limit
// exceeds the 2^62 packet numbers that exist, so it can never be reached.
constexpr std::uint64_t confidentiality_limit(AeadAlgorithm a) {
  return a == AeadAlgorithm::kChaCha20Poly1305 ? (std::uint64_t{1} << 62) : (std::uint64_t{1} << 23);
}

// Integrity limit: packets that may fail authentication over the whole connection, across all
// keys. Past it the connection closes with AEAD_LIMIT_REACHED and processes no more packets.
constexpr std::uint64_t integrity_limit(AeadAlgorithm a) {
  return a == AeadAlgorithm::kChaCha20Poly1305 ? (std::uint64_t{1} << 36) : (std::uint64_t{1} << 52);
}

std::string_view to_string(AeadAlgorithm a);
std::string_view to_string(Backend b);

// The backend kAuto resolves to for an algorithm. The choice comes from bench/bench_crypto.cc on
// the project machine (numbers in docs/crypto.md); an explicit backend is returned unchanged.
Backend choose_backend(AeadAlgorithm a, Backend requested);
// The same for header protection (AES-ECB / raw ChaCha20), measured separately.
Backend choose_hp_backend(AeadAlgorithm a, Backend requested);

}  // namespace roam::crypto
