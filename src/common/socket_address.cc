#include "common/socket_address.h"

#include <netinet/in.h>

#include <cstring>

namespace roam {
namespace {

constexpr std::array<std::uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decimal digits only, no sign, value <= max, at most max_digits characters.
std::optional<std::uint32_t> parse_decimal(std::string_view s, std::uint32_t max, std::size_t max_digits) {
  if (s.empty() || s.size() > max_digits) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > max) return std::nullopt;
  return static_cast<std::uint32_t>(v);
}

// Strict dotted quad: four decimal octets, no leading zeros ("01" is rejected, as inet_pton does).
bool parse_ipv4(std::string_view s, std::uint8_t* out) {
  for (int part = 0; part < 4; ++part) {
    const std::size_t dot = s.find('.');
    const bool last = part == 3;
    if (last != (dot == std::string_view::npos)) return false;
    const std::string_view octet = last ? s : s.substr(0, dot);
    if (octet.size() > 1 && octet[0] == '0') return false;
    const auto v = parse_decimal(octet, 255, 3);
    if (!v) return false;
    out[part] = static_cast<std::uint8_t>(*v);
    if (!last) s.remove_prefix(dot + 1);
  }
  return true;
}

// RFC 4291 section 2.2 text forms: eight hex groups, one optional "::" standing for one or more
// zero groups, and an optional trailing dotted quad standing for the last two groups.
bool parse_ipv6(std::string_view s, std::array<std::uint8_t, 16>& out) {
  std::array<std::uint16_t, 8> groups{};
  std::size_t n = 0;
  int gap = -1;  // index in groups where "::" sits
  std::size_t i = 0;
  if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
    gap = 0;
    i = 2;
  } else if (!s.empty() && s[0] == ':') {
    return false;
  }
  while (i < s.size()) {
    std::size_t j = i;
    std::uint32_t value = 0;
    while (j < s.size() && hex_digit(s[j]) >= 0 && j - i < 5) {
      value = value << 4 | static_cast<std::uint32_t>(hex_digit(s[j]));
      ++j;
    }
    if (j < s.size() && s[j] == '.') {
      if (n > 6) return false;
      std::uint8_t v4[4];
      if (!parse_ipv4(s.substr(i), v4)) return false;
      groups[n++] = static_cast<std::uint16_t>(v4[0] << 8 | v4[1]);
      groups[n++] = static_cast<std::uint16_t>(v4[2] << 8 | v4[3]);
      i = s.size();
      break;
    }
    if (j == i || j - i > 4 || n == 8) return false;
    groups[n++] = static_cast<std::uint16_t>(value);
    if (j == s.size()) {
      i = j;
      break;
    }
    if (s[j] != ':') return false;
    if (j + 1 < s.size() && s[j + 1] == ':') {
      if (gap >= 0) return false;
      gap = static_cast<int>(n);
      i = j + 2;
    } else {
      i = j + 1;
      if (i == s.size()) return false;  // trailing single colon
    }
  }
  std::array<std::uint16_t, 8> full{};
  if (gap >= 0) {
    if (n > 7) return false;  // "::" must stand for at least one group
    const auto g = static_cast<std::size_t>(gap);
    for (std::size_t k = 0; k < g; ++k) full[k] = groups[k];
    for (std::size_t k = g; k < n; ++k) full[8 - (n - k)] = groups[k];
  } else {
    if (n != 8) return false;
    full = groups;
  }
  for (std::size_t k = 0; k < 8; ++k) {
    out[2 * k] = static_cast<std::uint8_t>(full[k] >> 8);
    out[2 * k + 1] = static_cast<std::uint8_t>(full[k] & 0xff);
  }
  return true;
}

void append_hex16(std::string& s, std::uint16_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  bool started = false;
  for (int shift = 12; shift >= 0; shift -= 4) {
    const unsigned d = (v >> shift) & 0xf;
    if (d != 0 || started || shift == 0) {
      s.push_back(kDigits[d]);
      started = true;
    }
  }
}

bool is_v4_mapped(const std::uint8_t* ip16) {
  return std::memcmp(ip16, kV4MappedPrefix.data(), kV4MappedPrefix.size()) == 0;
}

}  // namespace

std::optional<SocketAddress> SocketAddress::parse_ip(std::string_view ip, std::uint16_t port) {
  if (ip.find(':') == std::string_view::npos) {
    std::array<std::uint8_t, 4> v4{};
    if (!parse_ipv4(ip, v4.data())) return std::nullopt;
    return from_ipv4(v4, port);
  }
  std::uint32_t scope = 0;
  const std::size_t pct = ip.find('%');
  if (pct != std::string_view::npos) {
    const auto v = parse_decimal(ip.substr(pct + 1), 0xffffffffu, 10);
    if (!v) return std::nullopt;
    scope = *v;
    ip = ip.substr(0, pct);
  }
  std::array<std::uint8_t, 16> v6{};
  if (!parse_ipv6(ip, v6)) return std::nullopt;
  return from_ipv6(v6, port, scope);
}

std::optional<SocketAddress> SocketAddress::parse(std::string_view text) {
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text[0] == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
    if (host.find(':') == std::string_view::npos) return std::nullopt;  // "[1.2.3.4]:1" is not a form
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::nullopt;  // IPv6 needs brackets
  }
  const auto port = parse_decimal(port_text, 65535, 5);
  if (!port) return std::nullopt;
  return parse_ip(host, static_cast<std::uint16_t>(*port));
}

SocketAddress SocketAddress::from_ipv4(const std::array<std::uint8_t, 4>& ip, std::uint16_t port) {
  SocketAddress a;
  a.family_ = Family::kIpv4;
  std::copy(ip.begin(), ip.end(), a.ip_.begin());
  a.port_ = port;
  return a;
}

SocketAddress SocketAddress::from_ipv6(const std::array<std::uint8_t, 16>& ip, std::uint16_t port,
                                       std::uint32_t scope_id) {
  SocketAddress a;
  if (is_v4_mapped(ip.data())) {
    std::copy(ip.begin() + 12, ip.end(), a.ip_.begin());
    a.port_ = port;
    return a;
  }
  a.family_ = Family::kIpv6;
  a.ip_ = ip;
  a.port_ = port;
  a.scope_id_ = scope_id;
  return a;
}

std::optional<SocketAddress> SocketAddress::from_sockaddr(const sockaddr* sa, socklen_t len) {
  if (sa == nullptr || len < static_cast<socklen_t>(sizeof(sa_family_t))) return std::nullopt;
  if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    sockaddr_in sin;
    std::memcpy(&sin, sa, sizeof(sin));
    std::array<std::uint8_t, 4> ip;
    std::memcpy(ip.data(), &sin.sin_addr, 4);
    return from_ipv4(ip, ntohs(sin.sin_port));
  }
  if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, sa, sizeof(sin6));
    std::array<std::uint8_t, 16> ip;
    std::memcpy(ip.data(), &sin6.sin6_addr, 16);
    return from_ipv6(ip, ntohs(sin6.sin6_port), sin6.sin6_scope_id);
  }
  return std::nullopt;
}

SocketAddress SocketAddress::any_ipv4(std::uint16_t port) { return from_ipv4({0, 0, 0, 0}, port); }

SocketAddress SocketAddress::any_ipv6(std::uint16_t port) { return from_ipv6({}, port); }

SocketAddress SocketAddress::loopback_ipv4(std::uint16_t port) { return from_ipv4({127, 0, 0, 1}, port); }

SocketAddress SocketAddress::loopback_ipv6(std::uint16_t port) {
  std::array<std::uint8_t, 16> ip{};
  ip[15] = 1;
  return from_ipv6(ip, port);
}

socklen_t SocketAddress::to_sockaddr(sockaddr_storage& out) const {
  if (is_ipv6()) return to_sockaddr_in6(out);
  std::memset(&out, 0, sizeof(out));
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port_);
  std::memcpy(&sin.sin_addr, ip_.data(), 4);
  std::memcpy(&out, &sin, sizeof(sin));
  return sizeof(sin);
}

socklen_t SocketAddress::to_sockaddr_in6(sockaddr_storage& out) const {
  std::memset(&out, 0, sizeof(out));
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(port_);
  if (is_ipv6()) {
    std::memcpy(&sin6.sin6_addr, ip_.data(), 16);
    sin6.sin6_scope_id = scope_id_;
  } else {
    std::array<std::uint8_t, 16> mapped{};
    std::copy(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), mapped.begin());
    std::copy(ip_.begin(), ip_.begin() + 4, mapped.begin() + 12);
    std::memcpy(&sin6.sin6_addr, mapped.data(), 16);
  }
  std::memcpy(&out, &sin6, sizeof(sin6));
  return sizeof(sin6);
}

SocketAddress SocketAddress::with_port(std::uint16_t port) const {
  SocketAddress a = *this;
  a.port_ = port;
  return a;
}

bool SocketAddress::same_ip(const SocketAddress& other) const {
  return family_ == other.family_ && ip_ == other.ip_ && scope_id_ == other.scope_id_;
}

bool SocketAddress::is_unspecified() const {
  for (auto b : ip_bytes()) {
    if (b != 0) return false;
  }
  return true;
}

bool SocketAddress::is_loopback() const {
  if (is_ipv4()) return ip_[0] == 127;
  for (std::size_t i = 0; i < 15; ++i) {
    if (ip_[i] != 0) return false;
  }
  return ip_[15] == 1;
}

std::string SocketAddress::ip_string() const {
  std::string s;
  if (is_ipv4()) {
    for (int i = 0; i < 4; ++i) {
      if (i > 0) s.push_back('.');
      s += std::to_string(ip_[static_cast<std::size_t>(i)]);
    }
    return s;
  }
  std::array<std::uint16_t, 8> g{};
  for (std::size_t k = 0; k < 8; ++k) g[k] = static_cast<std::uint16_t>(ip_[2 * k] << 8 | ip_[2 * k + 1]);
  // RFC 5952 section 4.2: compress the longest run of two or more zero groups, the first on a tie.
  std::size_t best_start = 8, best_len = 0;
  for (std::size_t k = 0; k < 8;) {
    if (g[k] != 0) {
      ++k;
      continue;
    }
    std::size_t end = k;
    while (end < 8 && g[end] == 0) ++end;
    if (end - k > best_len && end - k >= 2) {
      best_start = k;
      best_len = end - k;
    }
    k = end;
  }
  for (std::size_t k = 0; k < 8;) {
    if (k == best_start) {
      s += "::";
      k += best_len;
      continue;
    }
    if (k > 0 && k != best_start + best_len) s.push_back(':');
    append_hex16(s, g[k]);
    ++k;
  }
  if (scope_id_ != 0) {
    s.push_back('%');
    s += std::to_string(scope_id_);
  }
  return s;
}

std::string SocketAddress::to_string() const {
  if (is_ipv4()) return ip_string() + ":" + std::to_string(port_);
  return "[" + ip_string() + "]:" + std::to_string(port_);
}

std::size_t SocketAddress::hash() const noexcept {
  // FNV-1a over family, IP, port and scope. Not keyed: a table that peers can fill with
  // addresses of their choosing must bound its own size.
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&h](std::uint8_t b) {
    h ^= b;
    h *= 1099511628211ull;
  };
  mix(static_cast<std::uint8_t>(family_));
  for (auto b : ip_bytes()) mix(b);
  mix(static_cast<std::uint8_t>(port_ >> 8));
  mix(static_cast<std::uint8_t>(port_ & 0xff));
  for (int shift = 0; shift < 32; shift += 8) mix(static_cast<std::uint8_t>(scope_id_ >> shift));
  return static_cast<std::size_t>(h);
}

}  // namespace roam
