#include "common/socket_address.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <unordered_set>

namespace roam {
namespace {

SocketAddress must_parse(std::string_view s) {
  auto a = SocketAddress::parse(s);
  EXPECT_TRUE(a.has_value()) << s;
  return a.value_or(SocketAddress{});
}

TEST(SocketAddress, DefaultIsUnspecifiedIpv4) {
  SocketAddress a;
  EXPECT_TRUE(a.is_ipv4());
  EXPECT_TRUE(a.is_unspecified());
  EXPECT_EQ(a.port(), 0);
  EXPECT_EQ(a.to_string(), "0.0.0.0:0");
  EXPECT_EQ(a, SocketAddress::any_ipv4());
}

TEST(SocketAddress, ParsesIpv4) {
  const auto a = must_parse("1.2.3.4:443");
  EXPECT_TRUE(a.is_ipv4());
  EXPECT_FALSE(a.is_ipv6());
  EXPECT_EQ(a.port(), 443);
  ASSERT_EQ(a.ip_bytes().size(), 4u);
  EXPECT_EQ(a.ip_bytes()[0], 1);
  EXPECT_EQ(a.ip_bytes()[3], 4);
  EXPECT_EQ(a, SocketAddress::from_ipv4({1, 2, 3, 4}, 443));
  EXPECT_EQ(a.to_string(), "1.2.3.4:443");
  EXPECT_EQ(a.ip_string(), "1.2.3.4");
  EXPECT_EQ(must_parse("255.255.255.255:65535").to_string(), "255.255.255.255:65535");
  EXPECT_EQ(must_parse("0.0.0.0:0").port(), 0);
}

TEST(SocketAddress, ParsesIpv6) {
  const auto a = must_parse("[::1]:443");
  EXPECT_TRUE(a.is_ipv6());
  EXPECT_EQ(a.port(), 443);
  ASSERT_EQ(a.ip_bytes().size(), 16u);
  EXPECT_EQ(a.ip_bytes()[15], 1);
  EXPECT_EQ(a, SocketAddress::loopback_ipv6(443));
  EXPECT_EQ(a.to_string(), "[::1]:443");
  EXPECT_EQ(a.ip_string(), "::1");
  EXPECT_TRUE(a.is_loopback());
}

TEST(SocketAddress, ParsesScopeId) {
  const auto a = must_parse("[fe80::1%3]:4433");
  EXPECT_EQ(a.scope_id(), 3u);
  EXPECT_EQ(a.to_string(), "[fe80::1%3]:4433");
  EXPECT_NE(a, must_parse("[fe80::1%4]:4433"));
  EXPECT_FALSE(a.same_ip(must_parse("[fe80::1]:4433")));
  EXPECT_FALSE(SocketAddress::parse("[fe80::1%]:1").has_value());
  EXPECT_FALSE(SocketAddress::parse("[fe80::1%eth0]:1").has_value());
}

TEST(SocketAddress, RejectsMalformed) {
  for (const char* s : {"", "1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1", "1.2.3.4:44a",
                        "1.2.3:443", "1.2.3.4.5:443", "256.1.1.1:1", "01.2.3.4:1", "1..3.4:1", "a.b.c.d:1",
                        "localhost:443", "example.com:443", "::1:443", "[::1]", "[::1]443", "[::1:443",
                        "[1.2.3.4]:443", "[]:1", "[:::]:1", "[1:::2]:1", "[1::2::3]:1", "[12345::]:1",
                        "[1:2:3:4:5:6:7:8:9]:1", "[1:2:3:4:5:6:7]:1", "[1:2:3:4:5:6:7:8::]:1",
                        "[::1:2:3:4:5:6:7:8]:1", "[:1::]:1", "[1:]:1", "[1::2:]:1", "[g::]:1",
                        "[::1.2.3]:1", "[1:2:3:4:5:6:7:1.2.3.4]:1", "[::1.2.3.4:5]:1", " 1.2.3.4:1",
                        "1.2.3.4:1 ", "1.2.3.4:+1", "1.2.3.4:000443x"}) {
    EXPECT_FALSE(SocketAddress::parse(s).has_value()) << s;
  }
}

// Every accepted IPv6 text must mean what inet_pton says it means, and every text inet_pton
// accepts (for these forms) must be accepted.
TEST(SocketAddress, Ipv6ParsingAgreesWithInetPton) {
  for (const char* s : {"::", "::1", "1::", "1::2", "2001:db8::1", "2001:DB8:0:0:8:800:200C:417A",
                        "ff02::1:ff00:1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8",
                        "1:0:0:2::3", "::1.2.3.4", "64:ff9b::192.0.2.33", "fe80::abcd:ef01:2345:6789",
                        "0:0:0:0:0:0:0:0", "a:b:c:d:e:f:0:1"}) {
    in6_addr expected{};
    ASSERT_EQ(inet_pton(AF_INET6, s, &expected), 1) << s;
    const auto a = SocketAddress::parse_ip(s, 1);
    ASSERT_TRUE(a.has_value()) << s;
    ASSERT_EQ(a->ip_bytes().size(), 16u) << s;
    EXPECT_EQ(std::memcmp(a->ip_bytes().data(), &expected, 16), 0) << s;
    // The text form round-trips.
    EXPECT_EQ(SocketAddress::parse(a->to_string()), a) << s;
  }
}

TEST(SocketAddress, Ipv6TextIsRfc5952) {
  const std::pair<const char*, const char*> cases[] = {
      {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
      {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},  // first of two equal runs
      {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},  // a single zero group stays
      {"2001:DB8::AB", "2001:db8::ab"},
      {"1:0:0:2:0:0:0:3", "1:0:0:2::3"},  // the longest run wins
      {"::", "::"},
      {"1::", "1::"},
      {"0:0:0:0:0:0:0:1", "::1"},
  };
  for (const auto& [in, out] : cases) {
    const auto a = SocketAddress::parse_ip(in);
    ASSERT_TRUE(a.has_value()) << in;
    EXPECT_EQ(a->ip_string(), out) << in;
    char buf[INET6_ADDRSTRLEN];
    in6_addr raw{};
    std::memcpy(&raw, a->ip_bytes().data(), 16);
    ASSERT_NE(inet_ntop(AF_INET6, &raw, buf, sizeof(buf)), nullptr);
    EXPECT_EQ(a->ip_string(), buf) << in;
  }
}

TEST(SocketAddress, Ipv4MappedIsNormalized) {
  const auto mapped = must_parse("[::ffff:10.0.0.1]:80");
  EXPECT_TRUE(mapped.is_ipv4());
  EXPECT_EQ(mapped, must_parse("10.0.0.1:80"));
  EXPECT_EQ(mapped.to_string(), "10.0.0.1:80");

  std::array<std::uint8_t, 16> raw{};
  raw[10] = raw[11] = 0xff;
  raw[12] = 192;
  raw[13] = 0;
  raw[14] = 2;
  raw[15] = 7;
  EXPECT_EQ(SocketAddress::from_ipv6(raw, 9, 5), SocketAddress::from_ipv4({192, 0, 2, 7}, 9));

  // A dual-stack socket reports the peer as a mapped sockaddr_in6; a v4 socket as sockaddr_in.
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(4433);
  std::memcpy(&sin6.sin6_addr, raw.data(), 16);
  const auto from6 = SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&sin6), sizeof(sin6));
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(4433);
  sin.sin_addr.s_addr = htonl(0xc0000207);
  const auto from4 = SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&sin), sizeof(sin));
  ASSERT_TRUE(from6 && from4);
  EXPECT_EQ(*from6, *from4);
  EXPECT_EQ(std::hash<SocketAddress>{}(*from6), std::hash<SocketAddress>{}(*from4));
}

TEST(SocketAddress, SockaddrRoundTrip) {
  for (const char* s : {"1.2.3.4:443", "[2001:db8::5]:65535", "[fe80::1%7]:1", "0.0.0.0:0", "[::]:9"}) {
    const auto a = must_parse(s);
    sockaddr_storage ss;
    const socklen_t len = a.to_sockaddr(ss);
    EXPECT_EQ(len, a.is_ipv4() ? sizeof(sockaddr_in) : sizeof(sockaddr_in6)) << s;
    EXPECT_EQ(ss.ss_family, a.is_ipv4() ? AF_INET : AF_INET6) << s;
    EXPECT_EQ(SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len), a) << s;
  }
  // The kernel's view of an IPv4 sockaddr matches ours byte for byte.
  sockaddr_storage ss;
  ASSERT_EQ(must_parse("10.1.2.3:8080").to_sockaddr(ss), sizeof(sockaddr_in));
  sockaddr_in sin;
  std::memcpy(&sin, &ss, sizeof(sin));
  EXPECT_EQ(ntohs(sin.sin_port), 8080);
  EXPECT_EQ(ntohl(sin.sin_addr.s_addr), 0x0a010203u);
}

TEST(SocketAddress, ToSockaddrIn6MapsIpv4) {
  const auto a = must_parse("10.1.2.3:8080");
  sockaddr_storage ss;
  ASSERT_EQ(a.to_sockaddr_in6(ss), sizeof(sockaddr_in6));
  sockaddr_in6 sin6;
  std::memcpy(&sin6, &ss, sizeof(sin6));
  EXPECT_EQ(sin6.sin6_family, AF_INET6);
  EXPECT_EQ(ntohs(sin6.sin6_port), 8080);
  in6_addr expected{};
  ASSERT_EQ(inet_pton(AF_INET6, "::ffff:10.1.2.3", &expected), 1);
  EXPECT_EQ(std::memcmp(&sin6.sin6_addr, &expected, 16), 0);
  // ... and reading it back gives the IPv4 address again.
  EXPECT_EQ(SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), sizeof(sin6)), a);
}

TEST(SocketAddress, FromSockaddrRejectsBadInput) {
  EXPECT_FALSE(SocketAddress::from_sockaddr(nullptr, 16).has_value());
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  EXPECT_FALSE(SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&sin), sizeof(sin) - 1));
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  EXPECT_FALSE(SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&sin6), sizeof(sockaddr_in)));
  sockaddr_storage unix_addr{};
  unix_addr.ss_family = AF_UNIX;
  EXPECT_FALSE(SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&unix_addr), sizeof(unix_addr)));
}

TEST(SocketAddress, SameIpTellsNatRebindingFromNewAddress) {
  const auto a = must_parse("203.0.113.5:5000");
  EXPECT_TRUE(a.same_ip(must_parse("203.0.113.5:6000")));   // rebinding: same IP, new port
  EXPECT_FALSE(a.same_ip(must_parse("203.0.113.6:5000")));  // a new address
  EXPECT_FALSE(a.same_ip(must_parse("[::ffff:cb00:7106]:5000")));
  EXPECT_TRUE(a.same_ip(must_parse("[::ffff:203.0.113.5]:1")));
  EXPECT_FALSE(must_parse("[::1]:1").same_ip(must_parse("127.0.0.1:1")));
}

TEST(SocketAddress, WithPortAndUnspecified) {
  const auto a = must_parse("[2001:db8::1]:1").with_port(443);
  EXPECT_EQ(a.to_string(), "[2001:db8::1]:443");
  EXPECT_FALSE(a.is_unspecified());
  EXPECT_TRUE(must_parse("[::]:443").is_unspecified());
  EXPECT_TRUE(must_parse("0.0.0.0:443").is_unspecified());
  EXPECT_FALSE(must_parse("0.0.0.1:0").is_unspecified());
  EXPECT_EQ(SocketAddress::any_ipv6(7).to_string(), "[::]:7");
  EXPECT_EQ(SocketAddress::any_ipv4(7).to_string(), "0.0.0.0:7");
  EXPECT_EQ(SocketAddress::loopback_ipv4(7).to_string(), "127.0.0.1:7");
  EXPECT_TRUE(must_parse("127.9.9.9:1").is_loopback());
  EXPECT_FALSE(must_parse("128.0.0.1:1").is_loopback());
  EXPECT_FALSE(must_parse("[::2]:1").is_loopback());
}

TEST(SocketAddress, OrderingAndHashing) {
  const auto v4a = must_parse("1.2.3.4:1");
  const auto v4b = must_parse("1.2.3.4:2");
  const auto v4c = must_parse("1.2.3.5:0");
  const auto v6 = must_parse("[::]:0");
  EXPECT_LT(v4a, v4b);
  EXPECT_LT(v4b, v4c);  // IP before port
  EXPECT_LT(v4c, v6);   // IPv4 before IPv6
  EXPECT_FALSE(v4a < v4a);
  std::set<SocketAddress> ordered{v6, v4c, v4b, v4a, v4a};
  EXPECT_EQ(ordered.size(), 4u);
  EXPECT_EQ(*ordered.begin(), v4a);

  std::unordered_set<SocketAddress> set;
  for (int port = 0; port < 100; ++port) {
    set.insert(v4a.with_port(static_cast<std::uint16_t>(port)));
    set.insert(v6.with_port(static_cast<std::uint16_t>(port)));
  }
  set.insert(must_parse("[::ffff:1.2.3.4]:5"));  // same as 1.2.3.4:5
  EXPECT_EQ(set.size(), 200u);
  EXPECT_TRUE(set.contains(must_parse("1.2.3.4:99")));
  EXPECT_FALSE(set.contains(must_parse("1.2.3.4:100")));
}

// Random addresses with runs of zero groups: text round-trips, and IPv6 text matches inet_ntop.
TEST(SocketAddress, RandomRoundTrips) {
  std::mt19937 rng(12345);
  for (int iter = 0; iter < 5000; ++iter) {
    std::array<std::uint8_t, 16> ip{};
    for (std::size_t g = 0; g < 8; ++g) {
      if (rng() % 2 == 0) continue;  // leave a zero group
      ip[2 * g] = static_cast<std::uint8_t>(rng() % 3 == 0 ? 0 : rng());
      ip[2 * g + 1] = static_cast<std::uint8_t>(rng());
    }
    const auto port = static_cast<std::uint16_t>(rng());
    const auto a = SocketAddress::from_ipv6(ip, port);
    EXPECT_EQ(SocketAddress::parse(a.to_string()), a) << a.to_string();
    const bool first_six_zero = std::all_of(ip.begin(), ip.begin() + 12, [](auto b) { return b == 0; });
    if (a.is_ipv6() && !first_six_zero) {  // glibc prints ::a.b.c.d forms in dotted notation
      char buf[INET6_ADDRSTRLEN];
      ASSERT_NE(inet_ntop(AF_INET6, ip.data(), buf, sizeof(buf)), nullptr);
      EXPECT_EQ(a.ip_string(), buf);
    }
    const auto v4 = SocketAddress::from_ipv4({ip[0], ip[1], ip[2], ip[3]}, port);
    EXPECT_EQ(SocketAddress::parse(v4.to_string()), v4) << v4.to_string();
  }
}

// Mutated address text never crashes the parser; whatever it accepts means the same as
// inet_pton says and prints back to an equal address.
TEST(SocketAddress, ParseMutatedText) {
  std::mt19937 rng(777);
  const std::string alphabet = "0123456789abcdefABCDEFg:.[]%x ";
  const std::string seeds[] = {"1.2.3.4:443", "[::1]:443", "[2001:db8::1:2]:65535", "[::ffff:1.2.3.4]:1",
                               "[fe80::1%3]:4433", "[1:2:3:4:5:6:7:8]:9"};
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s = seeds[rng() % std::size(seeds)];
    for (int m = 1 + static_cast<int>(rng() % 3); m > 0 && !s.empty(); --m) {
      const std::size_t pos = rng() % s.size();
      switch (rng() % 3) {
        case 0: s[pos] = alphabet[rng() % alphabet.size()]; break;
        case 1: s.insert(s.begin() + static_cast<std::ptrdiff_t>(pos), alphabet[rng() % alphabet.size()]); break;
        default: s.erase(pos, 1); break;
      }
    }
    const auto a = SocketAddress::parse(s);
    if (!a) continue;
    EXPECT_EQ(SocketAddress::parse(a->to_string()), a) << s;
    if (s[0] == '[' && s.find('%') == std::string::npos) {
      const std::string ip = s.substr(1, s.find(']') - 1);
      in6_addr raw{};
      ASSERT_EQ(inet_pton(AF_INET6, ip.c_str(), &raw), 1) << s;
      sockaddr_in6 sin6{};
      sin6.sin6_family = AF_INET6;
      sin6.sin6_addr = raw;
      sin6.sin6_port = htons(a->port());
      EXPECT_EQ(SocketAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&sin6), sizeof(sin6)), a) << s;
    }
  }
}

}  // namespace
}  // namespace roam
