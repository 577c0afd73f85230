#include "io/control_message.h"

#include <netinet/in.h>
#include <netinet/udp.h>

#include <array>
#include <cstring>

namespace roam::io {
namespace {

bool is_link_local_v6(const std::array<std::uint8_t, 16>& ip) { return ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80; }

int read_int(const std::uint8_t* data) {
  int v;
  std::memcpy(&v, data, sizeof(v));
  return v;
}

}  // namespace

ReceiveControl parse_receive_control(const msghdr& msg) {
  ReceiveControl out;
  auto* m = const_cast<msghdr*>(&msg);  // the CMSG_ macros take non-const; nothing is written
  for (cmsghdr* c = CMSG_FIRSTHDR(m); c != nullptr; c = CMSG_NXTHDR(m, c)) {
    if (c->cmsg_len < CMSG_LEN(0)) break;
    const std::size_t len = c->cmsg_len - CMSG_LEN(0);
    const auto* data = reinterpret_cast<const std::uint8_t*>(CMSG_DATA(c));
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO && len >= sizeof(in_pktinfo)) {
      in_pktinfo info;
      std::memcpy(&info, data, sizeof(info));
      std::array<std::uint8_t, 4> ip;
      std::memcpy(ip.data(), &info.ipi_addr, 4);
      out.local_ip = SocketAddress::from_ipv4(ip, 0);
      out.interface_index = static_cast<std::uint32_t>(info.ipi_ifindex);
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO && len >= sizeof(in6_pktinfo)) {
      in6_pktinfo info;
      std::memcpy(&info, data, sizeof(info));
      std::array<std::uint8_t, 16> ip;
      std::memcpy(ip.data(), &info.ipi6_addr, 16);
      out.interface_index = info.ipi6_ifindex;
      out.local_ip = SocketAddress::from_ipv6(ip, 0, is_link_local_v6(ip) ? info.ipi6_ifindex : 0);
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS && len >= 1) {
      out.tos = data[0];  // the kernel sends one byte for IP_RECVTOS
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS && len >= sizeof(int)) {
      out.tos = static_cast<std::uint8_t>(read_int(data) & 0xff);
    } else if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO && len >= sizeof(int)) {
      const int v = read_int(data);
      out.gro_segment_size = v > 0 && v <= 0xffff ? static_cast<std::uint16_t>(v) : 0;
    }
  }
  return out;
}

bool ControlWriter::add(int level, int type, const void* data, std::size_t len) {
  const std::size_t space = CMSG_SPACE(len);
  if (buf_.size() - used_ < space) return false;
  std::memset(buf_.data() + used_, 0, space);
  auto* c = reinterpret_cast<cmsghdr*>(buf_.data() + used_);
  c->cmsg_level = level;
  c->cmsg_type = type;
  c->cmsg_len = CMSG_LEN(len);
  std::memcpy(CMSG_DATA(c), data, len);
  used_ += space;
  return true;
}

std::size_t build_send_control(std::span<std::uint8_t> buffer, const SendControl& control) {
  ControlWriter w(buffer);
  if (control.gso_segment_size != 0) {
    const std::uint16_t seg = control.gso_segment_size;
    w.add(SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg));
  }
  if (control.ecn != 0) {
    const int tos = control.ecn & 0x3;
    if (control.ipv4_peer) {
      w.add(IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
    } else {
      w.add(IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
    }
  }
  if (!control.source.is_unspecified()) {
    if (control.ipv4_peer && control.source.is_ipv4()) {
      in_pktinfo info{};
      std::memcpy(&info.ipi_spec_dst, control.source.ip_bytes().data(), 4);
      w.add(IPPROTO_IP, IP_PKTINFO, &info, sizeof(info));
    } else if (!control.ipv4_peer && control.source.is_ipv6()) {
      in6_pktinfo info{};
      std::memcpy(&info.ipi6_addr, control.source.ip_bytes().data(), 16);
      info.ipi6_ifindex = control.source.scope_id();
      w.add(IPPROTO_IPV6, IPV6_PKTINFO, &info, sizeof(info));
    }
  }
  return w.size();
}

}  // namespace roam::io
