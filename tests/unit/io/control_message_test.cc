#include "io/control_message.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/udp.h>

#include <cstring>

#include "io/datagram.h"

namespace roam::io {
namespace {

struct ControlBuffer {
  alignas(cmsghdr) std::uint8_t bytes[kControlBufferSize]{};
  msghdr msg{};
  void finish(std::size_t len) {
    msg.msg_control = bytes;
    msg.msg_controllen = len;
  }
};

TEST(ControlMessage, ParsesIpv4PktinfoTosAndGro) {
  ControlBuffer b;
  ControlWriter w(b.bytes);
  in_pktinfo info{};
  info.ipi_ifindex = 7;
  const std::uint8_t dst[4] = {127, 0, 0, 3};
  std::memcpy(&info.ipi_addr, dst, 4);
  ASSERT_TRUE(w.add(IPPROTO_IP, IP_PKTINFO, &info, sizeof(info)));
  const std::uint8_t tos = 0xb9;  // DSCP 46, ECT(1)
  ASSERT_TRUE(w.add(IPPROTO_IP, IP_TOS, &tos, 1));
  const int gro = 1200;
  ASSERT_TRUE(w.add(SOL_UDP, UDP_GRO, &gro, sizeof(gro)));
  b.finish(w.size());

  const ReceiveControl c = parse_receive_control(b.msg);
  ASSERT_TRUE(c.local_ip.has_value());
  EXPECT_EQ(*c.local_ip, SocketAddress::from_ipv4({127, 0, 0, 3}, 0));
  EXPECT_EQ(c.interface_index, 7u);
  ASSERT_TRUE(c.tos.has_value());
  EXPECT_EQ(*c.tos, 0xb9);
  EXPECT_EQ(c.gro_segment_size, 1200);
}

TEST(ControlMessage, ParsesIpv6PktinfoAndTclass) {
  ControlBuffer b;
  ControlWriter w(b.bytes);
  in6_pktinfo info{};
  info.ipi6_ifindex = 3;
  const auto link_local = SocketAddress::parse_ip("fe80::1234");
  ASSERT_TRUE(link_local);
  std::memcpy(&info.ipi6_addr, link_local->ip_bytes().data(), 16);
  ASSERT_TRUE(w.add(IPPROTO_IPV6, IPV6_PKTINFO, &info, sizeof(info)));
  const int tclass = 0x03;
  ASSERT_TRUE(w.add(IPPROTO_IPV6, IPV6_TCLASS, &tclass, sizeof(tclass)));
  b.finish(w.size());

  const ReceiveControl c = parse_receive_control(b.msg);
  ASSERT_TRUE(c.local_ip.has_value());
  EXPECT_EQ(c.local_ip->ip_string(), "fe80::1234%3");  // link-local keeps its interface
  EXPECT_EQ(c.interface_index, 3u);
  EXPECT_EQ(c.tos, 3);
  EXPECT_EQ(c.gro_segment_size, 0);
}

TEST(ControlMessage, MappedPktinfoOnDualStackIsIpv4) {
  ControlBuffer b;
  ControlWriter w(b.bytes);
  in6_pktinfo info{};
  const auto mapped = SocketAddress::parse_ip("::ffff:127.0.0.2");
  ASSERT_TRUE(mapped && mapped->is_ipv4());
  sockaddr_storage ss;
  mapped->to_sockaddr_in6(ss);
  sockaddr_in6 sin6;
  std::memcpy(&sin6, &ss, sizeof(sin6));
  info.ipi6_addr = sin6.sin6_addr;
  ASSERT_TRUE(w.add(IPPROTO_IPV6, IPV6_PKTINFO, &info, sizeof(info)));
  b.finish(w.size());
  const ReceiveControl c = parse_receive_control(b.msg);
  ASSERT_TRUE(c.local_ip.has_value());
  EXPECT_EQ(c.local_ip->to_string(), "127.0.0.2:0");
}

TEST(ControlMessage, IgnoresShortAndUnknownMessages) {
  ControlBuffer b;
  ControlWriter w(b.bytes);
  const std::uint8_t two[2] = {1, 2};
  ASSERT_TRUE(w.add(IPPROTO_IP, IP_PKTINFO, two, sizeof(two)));  // too short for in_pktinfo
  ASSERT_TRUE(w.add(SOL_UDP, UDP_GRO, two, sizeof(two)));         // too short for int
  ASSERT_TRUE(w.add(IPPROTO_IP, IP_TTL, two, sizeof(two)));       // not ours
  const int negative = -5;
  ASSERT_TRUE(w.add(SOL_UDP, UDP_GRO, &negative, sizeof(negative)));
  b.finish(w.size());
  const ReceiveControl c = parse_receive_control(b.msg);
  EXPECT_FALSE(c.local_ip.has_value());
  EXPECT_FALSE(c.tos.has_value());
  EXPECT_EQ(c.gro_segment_size, 0);

  // A header claiming less than a header's length ends the walk instead of looping.
  ControlBuffer bad;
  auto* h = reinterpret_cast<cmsghdr*>(bad.bytes);
  h->cmsg_len = 4;
  h->cmsg_level = IPPROTO_IP;
  h->cmsg_type = IP_TOS;
  bad.finish(sizeof(bad.bytes));
  EXPECT_FALSE(parse_receive_control(bad.msg).tos.has_value());

  msghdr empty{};
  EXPECT_FALSE(parse_receive_control(empty).local_ip.has_value());
}

TEST(ControlMessage, WriterRefusesOverflow) {
  alignas(cmsghdr) std::uint8_t small[CMSG_SPACE(sizeof(int))];
  ControlWriter w(small);
  const int v = 1;
  EXPECT_TRUE(w.add(IPPROTO_IP, IP_TOS, &v, sizeof(v)));
  EXPECT_FALSE(w.add(IPPROTO_IP, IP_TOS, &v, sizeof(v)));
  EXPECT_EQ(w.size(), CMSG_SPACE(sizeof(int)));
}

// What a send carries, read back with the CMSG macros the kernel's layout follows.
TEST(ControlMessage, BuildsSendControl) {
  ControlBuffer b;
  SendControl sc;
  sc.source = SocketAddress::from_ipv4({127, 0, 0, 5}, 999);
  sc.ipv4_peer = true;
  sc.ecn = kEcnCe;
  sc.gso_segment_size = 1350;
  b.finish(build_send_control(b.bytes, sc));
  int seen = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&b.msg); c != nullptr; c = CMSG_NXTHDR(&b.msg, c)) {
    if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_SEGMENT) {
      ASSERT_EQ(c->cmsg_len, CMSG_LEN(sizeof(std::uint16_t)));
      std::uint16_t seg;
      std::memcpy(&seg, CMSG_DATA(c), sizeof(seg));
      EXPECT_EQ(seg, 1350);
      seen |= 1;
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) {
      int tos;
      std::memcpy(&tos, CMSG_DATA(c), sizeof(tos));
      EXPECT_EQ(tos, 3);
      seen |= 2;
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof(info));
      EXPECT_EQ(ntohl(info.ipi_spec_dst.s_addr), 0x7f000005u);
      EXPECT_EQ(info.ipi_ifindex, 0);
      seen |= 4;
    } else {
      ADD_FAILURE() << "unexpected cmsg " << c->cmsg_level << "/" << c->cmsg_type;
    }
  }
  EXPECT_EQ(seen, 7);

  // Nothing to say: no control data at all.
  EXPECT_EQ(build_send_control(b.bytes, SendControl{}), 0u);

  // IPv6 peer: TCLASS and IPV6_PKTINFO with the scope as interface.
  SendControl v6;
  v6.source = *SocketAddress::parse_ip("fe80::9%4");
  v6.ipv4_peer = false;
  v6.ecn = kEcnEct0;
  ControlBuffer b6;
  b6.finish(build_send_control(b6.bytes, v6));
  seen = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&b6.msg); c != nullptr; c = CMSG_NXTHDR(&b6.msg, c)) {
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS) {
      int tclass;
      std::memcpy(&tclass, CMSG_DATA(c), sizeof(tclass));
      EXPECT_EQ(tclass, 2);
      seen |= 1;
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof(info));
      EXPECT_EQ(info.ipi6_ifindex, 4u);
      EXPECT_EQ(std::memcmp(&info.ipi6_addr, v6.source.ip_bytes().data(), 16), 0);
      seen |= 2;
    }
  }
  EXPECT_EQ(seen, 3);
}

}  // namespace
}  // namespace roam::io
