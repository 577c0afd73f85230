// The encapsulation header between roam-lb and its backends: golden bytes, round trips, and
// every malformed form a decoder must refuse without reading past the datagram.
#include <gtest/gtest.h>

#include <vector>

#include "lb/encap.h"

namespace roam::lb {
namespace {

std::vector<std::uint8_t> hex(std::string_view h) {
  std::basic_string<std::uint8_t> out;
  EXPECT_TRUE(from_hex(h, out)) << h;
  return {out.begin(), out.end()};
}

EncapHeader header(const char* client, const char* listen) {
  return EncapHeader{*SocketAddress::parse(client), *SocketAddress::parse(listen)};
}

TEST(Encap, GoldenIpv4) {
  const EncapHeader h = header("198.51.100.7:50000", "203.0.113.1:443");
  EXPECT_EQ(encap_header_size(h), 14u);
  const std::uint8_t payload[] = {0x40, 0xaa, 0xbb};
  std::vector<std::uint8_t> out(64);
  auto n = encapsulate(h, payload, out);
  ASSERT_TRUE(n.ok());
  out.resize(*n);
  // version 1, families 4/4, ports 50000 (c350) and 443 (01bb), then the IPs, then the payload.
  EXPECT_EQ(out, hex("0144c35001bbc6336407cb00710140aabb"));
  auto d = decode_encap(out);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->header, h);
  EXPECT_EQ(std::vector<std::uint8_t>(d->payload.begin(), d->payload.end()), hex("40aabb"));
}

TEST(Encap, GoldenIpv6AndMixed) {
  const EncapHeader h6 = header("[2001:db8::7]:1", "[2001:db8::1]:443");
  EXPECT_EQ(encap_header_size(h6), 38u);
  std::vector<std::uint8_t> out(38);
  auto n = encode_encap_header(h6, out);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 38u);
  EXPECT_EQ(out, hex("0166000101bb"
                     "20010db8000000000000000000000007"
                     "20010db8000000000000000000000001"));
  // A client over IPv4 to a dual-stack listener on [::]: families 4 and 6.
  const EncapHeader mixed = header("192.0.2.9:9", "[2001:db8::1]:443");
  std::vector<std::uint8_t> m(26);
  ASSERT_TRUE(encode_encap_header(mixed, m).ok());
  EXPECT_EQ(m, hex("0146000901bbc0000209" "20010db8000000000000000000000001"));
  auto d = decode_encap(m);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->header, mixed);
  EXPECT_TRUE(d->payload.empty());
}

TEST(Encap, MappedIpv6ComesBackAsIpv4) {
  // ::ffff:192.0.2.1 on the wire (family 6) is the IPv4 address, as SocketAddress has it.
  auto d = decode_encap(hex("0164000101bb" "00000000000000000000ffffc0000201" "c0000202" "ff"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->header.client.to_string(), "192.0.2.1:1");
  EXPECT_EQ(d->header.listen.to_string(), "192.0.2.2:443");
  EXPECT_EQ(d->payload.size(), 1u);
}

TEST(Encap, RoundTripEveryFamilyPair) {
  const char* addrs[] = {"10.1.2.3:1234", "[fd00::1:2]:65535", "127.0.0.1:0", "[::1]:4433"};
  for (const char* c : addrs) {
    for (const char* l : addrs) {
      const EncapHeader h = header(c, l);
      std::vector<std::uint8_t> payload(100);
      for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(i * 7);
      std::vector<std::uint8_t> out(kEncapMaxHeaderSize + payload.size());
      auto n = encapsulate(h, payload, out);
      ASSERT_TRUE(n.ok());
      EXPECT_EQ(*n, encap_header_size(h) + payload.size());
      auto d = decode_encap(Bytes(out.data(), *n));
      ASSERT_TRUE(d.ok());
      EXPECT_EQ(d->header, h) << c << " " << l;
      EXPECT_TRUE(std::equal(d->payload.begin(), d->payload.end(), payload.begin(), payload.end()));
    }
  }
}

TEST(Encap, EncodeWantsRoom) {
  const EncapHeader h = header("[2001:db8::7]:1", "192.0.2.1:443");
  std::vector<std::uint8_t> out(encap_header_size(h) - 1);
  EXPECT_FALSE(encode_encap_header(h, out).ok());
  out.resize(encap_header_size(h) + 2);
  const std::uint8_t payload[3] = {1, 2, 3};
  EXPECT_FALSE(encapsulate(h, payload, out).ok());
  out.resize(encap_header_size(h) + 3);
  EXPECT_TRUE(encapsulate(h, payload, out).ok());
}

TEST(Encap, MalformedHeadersAreErrors) {
  struct Case {
    const char* hex;
    const char* reason;
  };
  const Case cases[] = {
      {"", "encap: shorter than a header"},
      {"0144c35001", "encap: shorter than a header"},
      {"0244c35001bbc6336407cb007101", "encap: unknown version"},
      {"4044c35001bbc6336407cb007101", "encap: unknown version"},  // a QUIC short header
      {"c044c35001bbc6336407cb007101", "encap: unknown version"},  // a QUIC long header
      {"0145c35001bbc6336407cb007101", "encap: address family is not 4 or 6"},
      {"0104c35001bbc6336407cb007101", "encap: address family is not 4 or 6"},
      {"0164c35001bbc6336407cb007101", "encap: truncated addresses"},  // says IPv6 client, has 8 IP octets
  };
  for (const Case& c : cases) {
    auto d = decode_encap(hex(c.hex));
    ASSERT_FALSE(d.ok()) << c.hex;
    EXPECT_EQ(d.error().reason, c.reason) << c.hex;
  }
}

TEST(Encap, EveryTruncationFails) {
  for (const char* c : {"10.1.2.3:1", "[fd00::1]:2"}) {
    for (const char* l : {"10.9.9.9:3", "[fd00::9]:4"}) {
      const EncapHeader h = header(c, l);
      std::vector<std::uint8_t> out(kEncapMaxHeaderSize);
      auto n = encode_encap_header(h, out);
      ASSERT_TRUE(n.ok());
      for (std::size_t len = 0; len < *n; ++len) {
        // A copy of exactly len octets, so a read past the end would be caught by ASan.
        std::vector<std::uint8_t> cut(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(len));
        EXPECT_FALSE(decode_encap(cut).ok()) << c << " " << l << " " << len;
      }
      EXPECT_TRUE(decode_encap(Bytes(out.data(), *n)).ok());
    }
  }
}

}  // namespace
}  // namespace roam::lb
