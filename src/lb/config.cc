#include "lb/config.h"

namespace roam::lb {

std::string_view to_string(Algorithm a) {
  switch (a) {
    case Algorithm::kPlaintext:
      return "plaintext";
    case Algorithm::kSinglePass:
      return "single-pass";
    case Algorithm::kFourPass:
      return "four-pass";
  }
  return "unknown";
}

ConfigStatus validate(const Config& c) {
  if (c.id > kMaxConfigId) {
    return ConfigError{"config ID " + std::to_string(c.id) + " is out of range (0..6; 7 is reserved for unroutable CIDs)"};
  }
  if (c.server_id_len < kMinServerIdLen || c.server_id_len > kMaxServerIdLen) {
    return ConfigError{"server ID length " + std::to_string(c.server_id_len) + " is out of range (1..15)"};
  }
  if (c.nonce_len < kMinNonceLen || c.nonce_len > kMaxNonceLen) {
    return ConfigError{"nonce length " + std::to_string(c.nonce_len) + " is out of range (4..18)"};
  }
  if (c.plaintext_len() > kMaxPlaintextLen) {
    return ConfigError{"server ID length + nonce length is " + std::to_string(c.plaintext_len()) +
                       "; they must sum to 19 or less"};
  }
  return {};
}

ConfigResult<std::basic_string<std::uint8_t>> parse_hex(std::string_view hex, std::string_view what) {
  if (hex.size() >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) hex.remove_prefix(2);
  std::string digits;
  digits.reserve(hex.size());
  for (char ch : hex) {
    if (ch != ':' && ch != '-') digits.push_back(ch);
  }
  std::basic_string<std::uint8_t> out;
  if (digits.empty() || digits.size() % 2 != 0 || !from_hex(digits, out)) {
    return ConfigError{std::string(what) + " '" + std::string(hex) + "' is not hex (an even number of digits 0-9, a-f)"};
  }
  return out;
}

ConfigResult<Key> parse_key(std::string_view hex) {
  auto bytes = parse_hex(hex, "key");
  if (!bytes) return bytes.error();
  if (bytes->size() != kKeySize) {
    return ConfigError{"key '" + std::string(hex) + "' has " + std::to_string(bytes->size()) +
                       " octets; AES-128 wants 16 (32 hex digits)"};
  }
  Key key;
  std::copy(bytes->begin(), bytes->end(), key.begin());
  return key;
}

}  // namespace roam::lb
