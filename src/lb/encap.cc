#include "lb/encap.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace roam::lb {

namespace {

constexpr std::size_t kFixedSize = 6;  // version, families, two ports

std::uint8_t family_code(const SocketAddress& a) { return a.is_ipv4() ? 4 : 6; }
std::size_t ip_size(std::uint8_t family) { return family == 4 ? 4 : 16; }

void put_port(std::uint8_t* p, std::uint16_t port) {
  p[0] = static_cast<std::uint8_t>(port >> 8);
  p[1] = static_cast<std::uint8_t>(port);
}

std::uint16_t get_port(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }

SocketAddress make_address(std::uint8_t family, const std::uint8_t* ip, std::uint16_t port) {
  if (family == 4) {
    std::array<std::uint8_t, 4> v4;
    std::memcpy(v4.data(), ip, 4);
    return SocketAddress::from_ipv4(v4, port);
  }
  std::array<std::uint8_t, 16> v6;
  std::memcpy(v6.data(), ip, 16);
  return SocketAddress::from_ipv6(v6, port);
}

}  // namespace

std::size_t encap_header_size(const EncapHeader& h) {
  return kFixedSize + h.client.ip_bytes().size() + h.listen.ip_bytes().size();
}

Result<std::size_t> encode_encap_header(const EncapHeader& h, MutBytes out) {
  const std::size_t n = encap_header_size(h);
  if (out.size() < n) return Error{TransportError::kInternalError, "encap: buffer too small for the header"};
  std::uint8_t* p = out.data();
  p[0] = kEncapVersion;
  p[1] = static_cast<std::uint8_t>(family_code(h.client) << 4 | family_code(h.listen));
  put_port(p + 2, h.client.port());
  put_port(p + 4, h.listen.port());
  std::size_t off = kFixedSize;
  for (std::uint8_t b : h.client.ip_bytes()) p[off++] = b;
  for (std::uint8_t b : h.listen.ip_bytes()) p[off++] = b;
  return n;
}

Result<std::size_t> encapsulate(const EncapHeader& h, Bytes payload, MutBytes out) {
  const std::size_t n = encap_header_size(h);
  if (out.size() < n + payload.size()) {
    return Error{TransportError::kInternalError, "encap: buffer too small for header and payload"};
  }
  auto written = encode_encap_header(h, out);
  if (!written) return written.error();
  if (!payload.empty()) std::memcpy(out.data() + n, payload.data(), payload.size());
  return n + payload.size();
}

Result<EncapsulatedBatch> encapsulate_segments(const EncapHeader& h, MutBytes buf, std::size_t size,
                                               std::size_t segment_size) {
  const std::size_t hs = encap_header_size(h);
  if (segment_size == 0 || segment_size >= size) segment_size = size;
  const std::size_t count = size == 0 ? 1 : (size + segment_size - 1) / segment_size;
  if (size > buf.size() || buf.size() - size < count * hs) {
    return Error{TransportError::kInternalError, "encap: buffer too small for the headers of a batch"};
  }
  std::uint8_t header[kEncapMaxHeaderSize];
  if (auto n = encode_encap_header(h, MutBytes(header, sizeof header)); !n) return n.error();
  // Back to front: segment i moves from i * segment_size to i * (segment_size + hs) + hs, never
  // onto a segment not yet moved.
  for (std::size_t i = count; i-- > 0;) {
    const std::size_t from = i * segment_size;
    const std::size_t len = std::min(segment_size, size - from);
    std::uint8_t* to = buf.data() + i * (segment_size + hs);
    std::memmove(to + hs, buf.data() + from, len);
    std::memcpy(to, header, hs);
  }
  EncapsulatedBatch out;
  out.size = size + count * hs;
  out.segment_size = count > 1 ? segment_size + hs : 0;
  return out;
}

Result<Decapsulated> decode_encap(Bytes d) {
  if (d.size() < kFixedSize) return Error{TransportError::kProtocolViolation, "encap: shorter than a header"};
  if (d[0] != kEncapVersion) return Error{TransportError::kProtocolViolation, "encap: unknown version"};
  const std::uint8_t client_family = d[1] >> 4;
  const std::uint8_t listen_family = d[1] & 0x0f;
  if ((client_family != 4 && client_family != 6) || (listen_family != 4 && listen_family != 6)) {
    return Error{TransportError::kProtocolViolation, "encap: address family is not 4 or 6"};
  }
  const std::size_t client_ip = kFixedSize;
  const std::size_t listen_ip = client_ip + ip_size(client_family);
  const std::size_t end = listen_ip + ip_size(listen_family);
  if (d.size() < end) return Error{TransportError::kProtocolViolation, "encap: truncated addresses"};
  Decapsulated out;
  out.header.client = make_address(client_family, d.data() + client_ip, get_port(d.data() + 2));
  out.header.listen = make_address(listen_family, d.data() + listen_ip, get_port(d.data() + 4));
  out.payload = d.subspan(end);
  return out;
}

}  // namespace roam::lb
