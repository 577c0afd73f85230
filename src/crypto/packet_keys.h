// Packet protection keys for one direction and one epoch, derived from a traffic secret
// (RFC 9001 5.1), the Initial secrets (5.2) and the key update secret (6.1).
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "common/error.h"
#include "common/types.h"
#include "crypto/aead.h"
#include "crypto/algorithms.h"
#include "crypto/header_protection.h"
#include "crypto/secret.h"

namespace roam::crypto {

// AEAD + IV + header protector. The header protector is shared (not copied) between the key
// generations of one direction: key updates change the AEAD key and IV, never the HP key.
struct PacketKeys {
  std::unique_ptr<Aead> aead;
  std::array<std::uint8_t, kAeadNonceSize> iv{};
  std::shared_ptr<const HeaderProtector> header_protector;

  bool valid() const { return aead != nullptr && header_protector != nullptr; }
  AeadAlgorithm algorithm() const { return aead->algorithm(); }
  // RFC 9001 5.3: the 62-bit packet number, big-endian, left-padded to 12 bytes, XOR the IV.
  std::array<std::uint8_t, kAeadNonceSize> nonce(std::uint64_t packet_number) const;
};

// key = "quic key", iv = "quic iv", hp = "quic hp" from `secret` with the suite's hash.
// `backend` applies to the AEAD and the header protector (kAuto chooses each separately).
Result<PacketKeys> derive_packet_keys(AeadAlgorithm algorithm, Bytes secret, Backend backend = Backend::kAuto);

// secret_<n+1> = HKDF-Expand-Label(secret_<n>, "quic ku", "", Hash.length)  (RFC 9001 6.1).
Result<Secret> next_traffic_secret(HashAlgorithm hash, Bytes secret);

// Keys of the next key phase: AEAD key and IV from `next_secret`, the header protector of
// `current` (shared), the backend of `current`'s AEAD.
Result<PacketKeys> derive_updated_packet_keys(const PacketKeys& current, Bytes next_secret);

// QUIC v1 Initial salt (RFC 9001 5.2).
inline constexpr std::array<std::uint8_t, 20> kInitialSaltV1 = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34,
                                                                0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8,
                                                                0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};

struct InitialSecrets {
  Secret client;  // "client in": protects packets the client sends
  Secret server;  // "server in": protects packets the server sends
};

// initial_secret = HKDF-Extract(v1 salt, client_dcid), then the two 32-byte SHA-256 secrets.
// client_dcid is the DCID of the client's first Initial (or the Retry's SCID after a Retry).
Result<InitialSecrets> derive_initial_secrets(const ConnectionId& client_dcid);

struct InitialKeys {
  PacketKeys client;  // a client writes with these, a server reads with them
  PacketKeys server;  // a server writes with these, a client reads with them
};

// Both directions' AES-128-GCM Initial keys.
Result<InitialKeys> derive_initial_keys(const ConnectionId& client_dcid, Backend backend = Backend::kAuto);

}  // namespace roam::crypto
