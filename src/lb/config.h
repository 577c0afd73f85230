// One QUIC-LB configuration (draft-ietf-quic-load-balancers, "Configuration Agent Actions"):
// the config rotation codepoint, the server ID and nonce lengths, an optional AES-128 key and
// whether the first octet self-describes the CID length. Also the small value types the codec
// hands out (server IDs, nonces) and the error type of everything configurable.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/types.h"
#include "lb/aes_ecb.h"

namespace roam::lb {

// Limits from the draft: server ID >= 1 octet, nonce >= 4 octets, together <= 19 octets (a QUIC
// v1 CID is at most 20 octets and the first octet is taken).
inline constexpr std::size_t kMinServerIdLen = 1;
inline constexpr std::size_t kMaxServerIdLen = 15;
inline constexpr std::size_t kMinNonceLen = 4;
inline constexpr std::size_t kMaxNonceLen = 18;
inline constexpr std::size_t kMaxPlaintextLen = 19;
// Config rotation codepoints 0..6 name configurations; 0b111 marks a CID as unroutable.
inline constexpr std::uint8_t kMaxConfigId = 6;
inline constexpr std::uint8_t kUnroutableConfigId = 7;
// The first octet: 3 config rotation bits, then 5 bits of length (CID length - 1) or random.
inline constexpr unsigned kConfigIdShift = 5;
inline constexpr std::uint8_t kLengthMask = 0x1f;

constexpr std::uint8_t config_id_of(std::uint8_t first_octet) {
  return static_cast<std::uint8_t>(first_octet >> kConfigIdShift);
}

// A problem in a configuration or a command-line value, as one line for the user.
struct ConfigError {
  std::string message;
};
template <class T>
using ConfigResult = Result<T, ConfigError>;
using ConfigStatus = Result<void, ConfigError>;

// Up to N bytes stored inline (server IDs, nonces): values, comparable, no allocation.
template <std::size_t N>
class ShortBytes {
 public:
  static constexpr std::size_t kCapacity = N;
  constexpr ShortBytes() = default;
  // Precondition: b.size() <= N (callers check lengths first).
  explicit ShortBytes(Bytes b) : size_(static_cast<std::uint8_t>(std::min(b.size(), N))) {
    std::copy_n(b.begin(), size_, data_.begin());
  }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const std::uint8_t* data() const { return data_.data(); }
  Bytes bytes() const { return {data_.data(), size_}; }
  std::uint8_t operator[](std::size_t i) const { return data_[i]; }
  std::string hex() const { return to_hex(bytes()); }
  friend bool operator==(const ShortBytes& a, const ShortBytes& b) {
    return a.size_ == b.size_ && std::equal(a.data_.begin(), a.data_.begin() + a.size_, b.data_.begin());
  }

 private:
  std::array<std::uint8_t, N> data_{};
  std::uint8_t size_ = 0;
};

using ServerId = ShortBytes<kMaxServerIdLen>;
using Nonce = ShortBytes<kMaxNonceLen>;

enum class Algorithm : std::uint8_t {
  kPlaintext,   // no key: server ID and nonce in the clear
  kSinglePass,  // key, server ID + nonce = 16 octets: one AES-128-ECB block
  kFourPass,    // key, any other length: a four-round Feistel network with AES as round function
};

std::string_view to_string(Algorithm a);

struct Config {
  std::uint8_t id = 0;  // config rotation codepoint, 0..6
  std::size_t server_id_len = 0;
  std::size_t nonce_len = 0;
  std::optional<Key> key;
  // The low 5 bits of the first octet carry the CID length - 1 (the draft's option for hardware
  // offload). The load balancer then also checks that length; when false the bits are random.
  bool encode_length = true;

  std::size_t plaintext_len() const { return server_id_len + nonce_len; }
  // Length of a CID with this config (first octet + server ID + nonce), before any suffix.
  std::size_t cid_len() const { return 1 + plaintext_len(); }
  Algorithm algorithm() const {
    if (!key) return Algorithm::kPlaintext;
    return plaintext_len() == kAesBlockSize ? Algorithm::kSinglePass : Algorithm::kFourPass;
  }
};

// Checks the draft's limits; the message names the value that is wrong.
ConfigStatus validate(const Config& config);

// "8f95f09245765f80256934e50c66207f" (32 hex digits; ':' or '-' between octets are accepted, as
// in the YANG model's hex-string) -> key.
ConfigResult<Key> parse_key(std::string_view hex);
// Even-length hex ("0x" prefix, ":" and "-" separators allowed) -> bytes; `what` names the value
// in the message.
ConfigResult<std::basic_string<std::uint8_t>> parse_hex(std::string_view hex, std::string_view what);

}  // namespace roam::lb
