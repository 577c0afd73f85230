#include "lb/codec.h"

#include <algorithm>
#include <array>

#include "lb/four_pass.h"

namespace roam::lb {

ConfigResult<CidCodec> CidCodec::create(const Config& config) {
  if (auto ok = validate(config); !ok) return ok.error();
  std::optional<AesEcb> aes;
  if (config.key) {
    aes = AesEcb::create(*config.key);
    if (!aes) return ConfigError{"cannot create an AES-128-ECB context (OpenSSL)"};
  }
  return CidCodec(config, std::move(aes));
}

ConfigResult<ConnectionId> CidCodec::encode(Bytes server_id, Bytes nonce, Bytes suffix,
                                            std::uint8_t random_bits) const {
  if (server_id.size() != config_.server_id_len) {
    return ConfigError{"server ID has " + std::to_string(server_id.size()) + " octets; the config wants " +
                       std::to_string(config_.server_id_len)};
  }
  if (nonce.size() != config_.nonce_len) {
    return ConfigError{"nonce has " + std::to_string(nonce.size()) + " octets; the config wants " +
                       std::to_string(config_.nonce_len)};
  }
  const std::size_t total = config_.cid_len() + suffix.size();
  if (total > ConnectionId::kMaxLength) {
    return ConfigError{"the CID would have " + std::to_string(total) + " octets; QUIC allows 20"};
  }
  ConnectionId cid;
  cid.resize(total);
  std::uint8_t* out = cid.mutable_data();
  const std::uint8_t low = config_.encode_length ? static_cast<std::uint8_t>(total - 1) : random_bits;
  out[0] = static_cast<std::uint8_t>(config_.id << kConfigIdShift | (low & kLengthMask));
  std::copy(server_id.begin(), server_id.end(), out + 1);
  std::copy(nonce.begin(), nonce.end(), out + 1 + server_id.size());
  std::copy(suffix.begin(), suffix.end(), out + config_.cid_len());

  MutBytes block(out + 1, config_.plaintext_len());
  switch (algorithm()) {
    case Algorithm::kPlaintext:
      break;
    case Algorithm::kSinglePass: {
      Block b;
      std::copy(block.begin(), block.end(), b.begin());
      if (!aes_->encrypt(b, b)) return ConfigError{"AES-128-ECB failed (OpenSSL)"};
      std::copy(b.begin(), b.end(), block.begin());
      break;
    }
    case Algorithm::kFourPass:
      if (!four_pass_encrypt(*aes_, block)) return ConfigError{"AES-128-ECB failed (OpenSSL)"};
      break;
  }
  return cid;
}

bool CidCodec::acceptable(Bytes cid, bool exact) const {
  if (cid.size() < config_.cid_len()) return false;
  if (config_id_of(cid[0]) != config_.id) return false;
  if (!config_.encode_length) return true;
  const std::size_t described = cid[0] & kLengthMask;
  if (exact) return described == cid.size() - 1;
  return described >= config_.plaintext_len() && described <= cid.size() - 1;
}

bool CidCodec::open(Bytes cid, bool whole, MutBytes out) const {
  std::copy_n(cid.begin() + 1, config_.plaintext_len(), out.begin());
  switch (algorithm()) {
    case Algorithm::kPlaintext:
      return true;
    case Algorithm::kSinglePass: {
      Block b;
      std::copy_n(out.begin(), kAesBlockSize, b.begin());
      if (!aes_->decrypt(b, b)) return false;
      std::copy(b.begin(), b.end(), out.begin());
      return true;
    }
    case Algorithm::kFourPass:
      // Three passes recover left_0, which holds the whole server ID when it is no longer than
      // the nonce (the first plaintext_len / 2 octets).
      return four_pass_decrypt(*aes_, out, whole || config_.server_id_len > config_.nonce_len);
  }
  return false;
}

std::optional<ServerId> CidCodec::server_id(Bytes cid) const {
  std::array<std::uint8_t, kMaxPlaintextLen> plain;
  if (!acceptable(cid, true) || !open(cid, false, MutBytes(plain.data(), config_.plaintext_len()))) {
    return std::nullopt;
  }
  return ServerId(Bytes(plain.data(), config_.server_id_len));
}

std::optional<ServerId> CidCodec::server_id_in_prefix(Bytes bytes) const {
  std::array<std::uint8_t, kMaxPlaintextLen> plain;
  if (!acceptable(bytes, false) || !open(bytes, false, MutBytes(plain.data(), config_.plaintext_len()))) {
    return std::nullopt;
  }
  return ServerId(Bytes(plain.data(), config_.server_id_len));
}

std::optional<Plaintext> CidCodec::decrypt(Bytes cid) const {
  std::array<std::uint8_t, kMaxPlaintextLen> plain;
  if (!acceptable(cid, true) || !open(cid, true, MutBytes(plain.data(), config_.plaintext_len()))) {
    return std::nullopt;
  }
  return Plaintext{ServerId(Bytes(plain.data(), config_.server_id_len)),
                   Nonce(Bytes(plain.data() + config_.server_id_len, config_.nonce_len))};
}

}  // namespace roam::lb
