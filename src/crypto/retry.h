// Retry Integrity Tag for QUIC v1 (RFC 9001 5.8): AES-128-GCM with a fixed key and nonce over the
// Retry pseudo-packet, empty plaintext. The header code builds the Retry packet; this only needs
// the pseudo-packet bytes: ODCID Length (1 byte) || ODCID || Retry packet without its tag.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "common/error.h"
#include "common/types.h"
#include "crypto/aead.h"

namespace roam::crypto {

inline constexpr std::size_t kRetryIntegrityTagSize = 16;
using RetryIntegrityTag = std::array<std::uint8_t, kRetryIntegrityTagSize>;

inline constexpr std::array<std::uint8_t, 16> kRetryKeyV1 = {0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66, 0x57, 0x5a,
                                                             0x1d, 0x76, 0x6b, 0x54, 0xe3, 0x68, 0xc8, 0x4e};
inline constexpr std::array<std::uint8_t, 12> kRetryNonceV1 = {0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63,
                                                               0x2b, 0xf2, 0x23, 0x98, 0x25, 0xbb};

// Holds the fixed-key AEAD so a server sending many Retries under load sets it up once.
// Not thread-safe (one per endpoint worker).
class RetryIntegrity {
 public:
  static Result<RetryIntegrity> create(Backend backend = Backend::kAuto);

  // The tag over a complete pseudo-packet.
  Result<RetryIntegrityTag> compute(Bytes pseudo_packet) const;
  // True if `tag` (16 bytes) is the tag of `pseudo_packet` (constant-time comparison).
  bool verify(Bytes pseudo_packet, Bytes tag) const;

  // Conveniences that build the pseudo-packet from the original DCID and the Retry packet:
  // `retry_without_tag` is the Retry packet up to (not including) its tag; `retry_packet` is the
  // whole received Retry packet, tag last. verify_packet() is false if it is shorter than a tag.
  Result<RetryIntegrityTag> compute(const ConnectionId& odcid, Bytes retry_without_tag) const;
  bool verify_packet(const ConnectionId& odcid, Bytes retry_packet) const;

 private:
  explicit RetryIntegrity(std::unique_ptr<Aead> aead) : aead_(std::move(aead)) {}
  std::unique_ptr<Aead> aead_;
};

}  // namespace roam::crypto
