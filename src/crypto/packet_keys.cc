#include "crypto/packet_keys.h"

#include "crypto/hkdf.h"

namespace roam::crypto {

std::array<std::uint8_t, kAeadNonceSize> PacketKeys::nonce(std::uint64_t packet_number) const {
  std::array<std::uint8_t, kAeadNonceSize> n = iv;
  for (std::size_t i = 0; i < 8; ++i) {
    n[kAeadNonceSize - 1 - i] ^= static_cast<std::uint8_t>(packet_number >> (8 * i));
  }
  return n;
}

namespace {

// AEAD key and IV for `secret`; the header protector is filled in by the caller.
Result<PacketKeys> derive_aead_and_iv(AeadAlgorithm algorithm, Bytes secret, Backend backend) {
  const HashAlgorithm hash = aead_hash(algorithm);
  std::array<std::uint8_t, kMaxAeadKeySize> key;
  const MutBytes key_bytes(key.data(), aead_key_size(algorithm));
  PacketKeys keys;
  Status st = hkdf_expand_label(hash, secret, "quic key", {}, key_bytes);
  if (st) st = hkdf_expand_label(hash, secret, "quic iv", {}, keys.iv);
  if (!st) {
    cleanse(key);
    return st.error();
  }
  auto aead = make_aead(algorithm, key_bytes, backend);
  cleanse(key);
  if (!aead) return aead.error();
  keys.aead = std::move(aead.value());
  return keys;
}

}  // namespace

Result<PacketKeys> derive_packet_keys(AeadAlgorithm algorithm, Bytes secret, Backend backend) {
  auto keys = derive_aead_and_iv(algorithm, secret, backend);
  if (!keys) return keys;
  std::array<std::uint8_t, kMaxAeadKeySize> hp;
  const MutBytes hp_bytes(hp.data(), hp_key_size(algorithm));
  Status st = hkdf_expand_label(aead_hash(algorithm), secret, "quic hp", {}, hp_bytes);
  if (!st) {
    cleanse(hp);
    return st.error();
  }
  auto protector = make_header_protector(algorithm, hp_bytes, backend);
  cleanse(hp);
  if (!protector) return protector.error();
  keys->header_protector = std::move(protector.value());
  return keys;
}

Result<Secret> next_traffic_secret(HashAlgorithm hash, Bytes secret) {
  return hkdf_expand_label(hash, secret, "quic ku", hash_size(hash));
}

Result<PacketKeys> derive_updated_packet_keys(const PacketKeys& current, Bytes next_secret) {
  if (!current.valid()) return Error{TransportError::kInternalError, "key update from empty keys"};
  auto keys = derive_aead_and_iv(current.algorithm(), next_secret, current.aead->backend());
  if (!keys) return keys;
  keys->header_protector = current.header_protector;
  return keys;
}

Result<InitialSecrets> derive_initial_secrets(const ConnectionId& client_dcid) {
  auto initial = hkdf_extract(HashAlgorithm::kSha256, kInitialSaltV1, client_dcid.bytes());
  if (!initial) return initial.error();
  auto client = hkdf_expand_label(HashAlgorithm::kSha256, initial->bytes(), "client in", 32);
  if (!client) return client.error();
  auto server = hkdf_expand_label(HashAlgorithm::kSha256, initial->bytes(), "server in", 32);
  if (!server) return server.error();
  return InitialSecrets{std::move(client.value()), std::move(server.value())};
}

Result<InitialKeys> derive_initial_keys(const ConnectionId& client_dcid, Backend backend) {
  auto secrets = derive_initial_secrets(client_dcid);
  if (!secrets) return secrets.error();
  auto client = derive_packet_keys(AeadAlgorithm::kAes128Gcm, secrets->client.bytes(), backend);
  if (!client) return client.error();
  auto server = derive_packet_keys(AeadAlgorithm::kAes128Gcm, secrets->server.bytes(), backend);
  if (!server) return server.error();
  return InitialKeys{std::move(client.value()), std::move(server.value())};
}

}  // namespace roam::crypto
