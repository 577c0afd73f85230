// The TLS 1.3 cipher suites QUIC uses here: the AEAD protecting packets and the hash of the key
// schedule (HKDF). The algorithm enums are the crypto module's, so secrets go straight to it.
#pragma once

#include <string_view>

#include "crypto/algorithms.h"

namespace roam::tls {

using Aead = crypto::AeadAlgorithm;
using Hash = crypto::HashAlgorithm;

struct CipherSuite {
  Aead aead = Aead::kAes128Gcm;
  Hash hash = Hash::kSha256;
  friend constexpr bool operator==(const CipherSuite&, const CipherSuite&) = default;
};

inline constexpr CipherSuite kAes128GcmSha256{Aead::kAes128Gcm, Hash::kSha256};
inline constexpr CipherSuite kAes256GcmSha384{Aead::kAes256Gcm, Hash::kSha384};
inline constexpr CipherSuite kChaCha20Poly1305Sha256{Aead::kChaCha20Poly1305, Hash::kSha256};

// The TLS 1.3 suite that uses this AEAD (each AEAD appears in exactly one suite).
constexpr CipherSuite suite_for(Aead aead) { return {aead, crypto::aead_hash(aead)}; }

// IANA name, e.g. "TLS_AES_128_GCM_SHA256".
std::string_view to_string(const CipherSuite& suite);

}  // namespace roam::tls
