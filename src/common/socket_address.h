// An IPv4 or IPv6 address with a port: the value type the core uses for every path, datagram and
// preferred_address. Pure value semantics, no syscalls, no name resolution (applications resolve
// host names themselves and hand numeric addresses in).
//
// Normalization: an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is always stored as the IPv4
// address a.b.c.d — by from_sockaddr, from_ipv6 and parse alike — so that a datagram received on
// a dual-stack IPv6 socket and one received on an IPv4 socket from the same peer compare equal.
// to_sockaddr_in6() turns an IPv4 address back into its mapped form for dual-stack sockets.
#pragma once

#include <sys/socket.h>

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/types.h"

namespace roam {

class SocketAddress {
 public:
  enum class Family : std::uint8_t { kIpv4 = 4, kIpv6 = 6 };

  // 0.0.0.0:0 — unspecified (is_unspecified() is true).
  constexpr SocketAddress() = default;

  // "1.2.3.4:443", "[::1]:443", "[fe80::1%3]:443" (numeric scope id only). The port is
  // required and decimal (0..65535). Host names are not accepted. Returns nullopt on any error.
  static std::optional<SocketAddress> parse(std::string_view text);
  // A bare IP literal without brackets or port: "1.2.3.4", "::1", "fe80::1%3".
  static std::optional<SocketAddress> parse_ip(std::string_view ip, std::uint16_t port = 0);

  static SocketAddress from_ipv4(const std::array<std::uint8_t, 4>& ip, std::uint16_t port);
  // An IPv4-mapped address becomes IPv4 (see the header comment); scope_id is then dropped.
  static SocketAddress from_ipv6(const std::array<std::uint8_t, 16>& ip, std::uint16_t port,
                                 std::uint32_t scope_id = 0);
  // Accepts AF_INET (len >= sizeof(sockaddr_in)) and AF_INET6 (len >= sizeof(sockaddr_in6));
  // anything else (null, short, other family) gives nullopt.
  static std::optional<SocketAddress> from_sockaddr(const sockaddr* sa, socklen_t len);

  static SocketAddress any_ipv4(std::uint16_t port = 0);
  static SocketAddress any_ipv6(std::uint16_t port = 0);
  static SocketAddress loopback_ipv4(std::uint16_t port = 0);
  static SocketAddress loopback_ipv6(std::uint16_t port = 0);

  // Writes sockaddr_in or sockaddr_in6 (zero-filled first) and returns its length.
  socklen_t to_sockaddr(sockaddr_storage& out) const;
  // Always writes a sockaddr_in6: an IPv4 address becomes ::ffff:a.b.c.d (for dual-stack sockets).
  socklen_t to_sockaddr_in6(sockaddr_storage& out) const;

  Family family() const { return family_; }
  bool is_ipv4() const { return family_ == Family::kIpv4; }
  bool is_ipv6() const { return family_ == Family::kIpv6; }
  std::uint16_t port() const { return port_; }
  std::uint32_t scope_id() const { return scope_id_; }
  SocketAddress with_port(std::uint16_t port) const;

  // 4 bytes for IPv4, 16 for IPv6, network order.
  Bytes ip_bytes() const { return {ip_.data(), is_ipv4() ? 4u : 16u}; }
  // Same family, IP and scope; the port may differ. A peer whose port changed but whose IP did
  // not is a NAT rebinding rather than a new address.
  bool same_ip(const SocketAddress& other) const;
  // 0.0.0.0 or :: (any port).
  bool is_unspecified() const;
  // 127.0.0.0/8 or ::1.
  bool is_loopback() const;

  // "1.2.3.4:443", "[2001:db8::1]:443", "[fe80::1%3]:443" (RFC 5952 text for IPv6).
  std::string to_string() const;
  // The IP alone: "1.2.3.4", "2001:db8::1", "fe80::1%3".
  std::string ip_string() const;

  // Ordered by family (IPv4 first), then IP, then port, then scope id.
  friend auto operator<=>(const SocketAddress&, const SocketAddress&) = default;
  friend bool operator==(const SocketAddress&, const SocketAddress&) = default;

  std::size_t hash() const noexcept;

 private:
  Family family_ = Family::kIpv4;
  std::array<std::uint8_t, 16> ip_{};  // IPv4 uses the first 4 bytes; the rest stay zero
  std::uint16_t port_ = 0;
  std::uint32_t scope_id_ = 0;  // IPv6 only
};

}  // namespace roam

template <>
struct std::hash<roam::SocketAddress> {
  std::size_t operator()(const roam::SocketAddress& a) const noexcept { return a.hash(); }
};
