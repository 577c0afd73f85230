// Stateless reset tokens (RFC 9000 10.3.2) and address-validation token protection for Retry
// and NEW_TOKEN tokens (RFC 9000 8.1.3, 8.1.4).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/error.h"
#include "common/random.h"
#include "common/types.h"
#include "crypto/aead.h"

namespace roam::crypto {

inline constexpr std::size_t kStatelessResetTokenSize = 16;
using StatelessResetToken = std::array<std::uint8_t, kStatelessResetTokenSize>;

// HMAC-SHA256(static_key, cid) truncated to 16 bytes. Every server that may receive packets for
// `cid` (a fleet behind a load balancer) computes the same token from the same static key, so a
// server that lost the connection state can still send a valid stateless reset. The key must be
// secret and random (32 bytes recommended) and should differ per QUIC-LB config rotation
// codepoint. A failure of the HMAC primitive in both libraries is unrecoverable and aborts: a
// predictable token would let anyone reset connections.
StatelessResetToken stateless_reset_token(Bytes static_key, const ConnectionId& cid);

// AES-256-GCM under a static server key with a fresh random 96-bit nonce per token.
// Token layout: nonce (12) || ciphertext || tag (16). `aad` binds the token to context the server
// knows when it checks it (e.g. the client address or the token kind) without carrying it.
// Random nonces stay safe for about 2^32 tokens per key; rotate the key long before that.
// Not thread-safe (one per endpoint worker).
class TokenCipher {
 public:
  static constexpr std::size_t kKeySize = 32;
  static constexpr std::size_t kNonceSize = kAeadNonceSize;
  static constexpr std::size_t kOverhead = kNonceSize + kAeadTagSize;

  // `rng` must outlive the TokenCipher; it is the only source of nonces.
  static Result<TokenCipher> create(Bytes key, Random& rng, Backend backend = Backend::kAuto);

  Result<std::vector<std::uint8_t>> seal(Bytes plaintext, Bytes aad = {}) const;
  // The plaintext, or INVALID_TOKEN if the token is malformed or was not sealed under this key
  // with this aad.
  Result<std::vector<std::uint8_t>> open(Bytes token, Bytes aad = {}) const;

 private:
  TokenCipher(std::unique_ptr<Aead> aead, Random& rng) : aead_(std::move(aead)), rng_(&rng) {}
  std::unique_ptr<Aead> aead_;
  Random* rng_;
};

}  // namespace roam::crypto
