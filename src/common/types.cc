#include "common/types.h"

namespace roam {

std::string to_hex(Bytes bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (auto b : bytes) {
    s.push_back(kDigits[b >> 4]);
    s.push_back(kDigits[b & 0xf]);
  }
  return s;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool from_hex(std::string_view hex, std::basic_string<std::uint8_t>& out) {
  out.clear();
  if (hex.size() % 2 != 0) return false;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = hex_value(hex[i]);
    const int lo = hex_value(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
  }
  return true;
}

std::string ConnectionId::hex() const { return to_hex(bytes()); }

std::size_t ConnectionIdHash::operator()(const ConnectionId& cid) const noexcept {
  // FNV-1a over the bytes. Lookup tables keyed by CID are filled with CIDs we chose (random or
  // encrypted), so a simple hash is not an attack surface.
  std::uint64_t h = 1469598103934665603ull;
  for (auto b : cid.bytes()) {
    h ^= b;
    h *= 1099511628211ull;
  }
  return static_cast<std::size_t>(h ^ cid.size());
}

}  // namespace roam
