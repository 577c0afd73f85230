#include "wire/packet_header.h"

namespace roam::wire {
namespace {

constexpr Error header_error(std::string_view reason) { return Error{TransportError::kProtocolViolation, reason, 0}; }

// Reads a one-byte length and that many bytes.
bool read_cid(Reader& r, Bytes& out) {
  std::uint8_t len = 0;
  return r.read_u8(len) && r.read_bytes(len, out);
}

constexpr std::uint8_t kV1Bits[] = {0x0, 0x1, 0x2, 0x3};  // Initial, 0-RTT, Handshake, Retry
constexpr std::uint8_t kV2Bits[] = {0x1, 0x2, 0x3, 0x0};

const std::uint8_t* type_table(std::uint32_t version) {
  if (version == kVersion1) return kV1Bits;
  if (version == kVersion2) return kV2Bits;
  return nullptr;
}

Result<PacketHeader> parse_version_negotiation(Reader& r, std::uint8_t first, Bytes packet) {
  Bytes dcid, scid;
  if (!read_cid(r, dcid) || !read_cid(r, scid)) return header_error("truncated Version Negotiation header");
  if (dcid.size() > ConnectionId::kMaxLength || scid.size() > ConnectionId::kMaxLength) {
    return header_error("Version Negotiation CID longer than 20 bytes");
  }
  if (r.empty()) return header_error("Version Negotiation without versions");
  if (r.remaining() % 4 != 0) return header_error("Version Negotiation with a partial version");
  PacketHeader h;
  h.type = PacketType::kVersionNegotiation;
  h.first_byte = first;
  h.version = kVersionNegotiationVersion;
  h.dcid = ConnectionId(dcid);
  h.scid = ConnectionId(scid);
  h.packet_size = packet.size();
  h.supported_versions.reserve(r.remaining() / 4);
  std::uint32_t v = 0;
  while (r.read_u32(v)) h.supported_versions.push_back(v);
  return h;
}

Result<PacketHeader> parse_long(Bytes packet) {
  Reader r(packet);
  std::uint8_t first = 0;
  std::uint32_t version = 0;
  if (!r.read_u8(first) || !r.read_u32(version)) return header_error("truncated long header");
  if (version == kVersionNegotiationVersion) return parse_version_negotiation(r, first, packet);
  if (!is_known_version(version)) return header_error("unsupported version");
  if ((first & kFixedBit) == 0) return header_error("fixed bit is zero");

  Bytes dcid, scid;
  if (!read_cid(r, dcid) || !read_cid(r, scid)) return header_error("truncated long header");
  if (dcid.size() > ConnectionId::kMaxLength || scid.size() > ConnectionId::kMaxLength) {
    return header_error("long header CID longer than 20 bytes");
  }
  PacketHeader h;
  h.type = *long_packet_type(version, first);
  h.first_byte = first;
  h.version = version;
  h.dcid = ConnectionId(dcid);
  h.scid = ConnectionId(scid);

  if (h.type == PacketType::kRetry) {
    if (r.remaining() < kRetryIntegrityTagLength) return header_error("Retry shorter than its integrity tag");
    const std::size_t token_len = r.remaining() - kRetryIntegrityTagLength;
    if (token_len == 0) return header_error("Retry with an empty token");
    (void)r.read_bytes(token_len, h.token);
    (void)r.read_bytes(kRetryIntegrityTagLength, h.retry_integrity_tag);
    h.packet_size = packet.size();
    return h;
  }
  if (h.type == PacketType::kInitial) {
    std::uint64_t token_len = 0;
    if (!r.read_varint(token_len)) return header_error("truncated Initial token length");
    if (token_len > r.remaining() || !r.read_bytes(static_cast<std::size_t>(token_len), h.token)) {
      return header_error("Initial token runs past the datagram");
    }
  }
  std::uint64_t length = 0;
  if (!r.read_varint(length)) return header_error("truncated Length field");
  if (length > r.remaining()) return header_error("Length runs past the datagram");
  if (length < kMinBytesAfterPnOffset) return header_error("packet too short for a header protection sample");
  h.pn_offset = r.position();
  h.packet_size = h.pn_offset + static_cast<std::size_t>(length);
  return h;
}

Result<PacketHeader> parse_short(Bytes packet, std::size_t dcid_len) {
  const std::uint8_t first = packet[0];
  if ((first & kFixedBit) == 0) return header_error("fixed bit is zero");
  if (dcid_len > ConnectionId::kMaxLength) return header_error("short header CID length above 20");
  if (packet.size() < 1 + dcid_len + kMinBytesAfterPnOffset) {
    return header_error("packet too short for a header protection sample");
  }
  PacketHeader h;
  h.type = PacketType::kOneRtt;
  h.first_byte = first;
  h.dcid = ConnectionId(packet.subspan(1, dcid_len));
  h.pn_offset = 1 + dcid_len;
  h.packet_size = packet.size();
  return h;
}

}  // namespace

std::optional<std::uint8_t> long_packet_type_bits(std::uint32_t version, PacketType type) {
  const std::uint8_t* table = type_table(version);
  if (table == nullptr) return std::nullopt;
  switch (type) {
    case PacketType::kInitial: return table[0];
    case PacketType::kZeroRtt: return table[1];
    case PacketType::kHandshake: return table[2];
    case PacketType::kRetry: return table[3];
    case PacketType::kVersionNegotiation:
    case PacketType::kOneRtt: break;
  }
  return std::nullopt;
}

std::optional<PacketType> long_packet_type(std::uint32_t version, std::uint8_t first_byte) {
  const std::uint8_t* table = type_table(version);
  if (table == nullptr) return std::nullopt;
  const std::uint8_t bits = (first_byte >> 4) & 0x3;
  constexpr PacketType kTypes[] = {PacketType::kInitial, PacketType::kZeroRtt, PacketType::kHandshake,
                                   PacketType::kRetry};
  for (std::size_t i = 0; i < 4; ++i) {
    if (table[i] == bits) return kTypes[i];
  }
  return std::nullopt;  // unreachable: each table is a permutation of 0..3
}

Result<InvariantHeader> parse_invariant_header(Bytes datagram, std::size_t short_header_dcid_len) {
  Reader r(datagram);
  InvariantHeader h;
  if (!r.read_u8(h.first_byte)) return header_error("empty datagram");
  h.is_long = is_long_header(h.first_byte);
  if (!h.is_long) {
    if (!r.read_bytes(short_header_dcid_len, h.dcid)) return header_error("truncated short header");
    return h;
  }
  if (!r.read_u32(h.version) || !read_cid(r, h.dcid) || !read_cid(r, h.scid)) {
    return header_error("truncated long header");
  }
  return h;
}

Result<PacketHeader> parse_packet_header(Bytes packet, std::size_t short_header_dcid_len) {
  if (packet.empty()) return header_error("empty packet");
  return is_long_header(packet[0]) ? parse_long(packet) : parse_short(packet, short_header_dcid_len);
}

bool write_long_header(Writer& w, PacketType type, std::uint32_t version, const ConnectionId& dcid,
                       const ConnectionId& scid, Bytes token, std::uint64_t truncated_pn, std::size_t pn_len,
                       LongHeaderOut& out) {
  if (type != PacketType::kInitial && type != PacketType::kZeroRtt && type != PacketType::kHandshake) return false;
  if (type != PacketType::kInitial && !token.empty()) return false;
  if (pn_len < 1 || pn_len > 4 || !w.ok()) return false;
  const auto bits = long_packet_type_bits(version, type);
  if (!bits) return false;
  std::size_t size = 1 + 4 + 1 + dcid.size() + 1 + scid.size() + 2 + pn_len;
  if (type == PacketType::kInitial) size += varint_size(token.size()) + token.size();
  if (w.remaining() < size) return false;

  w.write_u8(static_cast<std::uint8_t>(kHeaderFormBit | kFixedBit | *bits << 4 | (pn_len - 1)));
  w.write_u32(version);
  w.write_u8(static_cast<std::uint8_t>(dcid.size()));
  w.write_bytes(dcid.bytes());
  w.write_u8(static_cast<std::uint8_t>(scid.size()));
  w.write_bytes(scid.bytes());
  if (type == PacketType::kInitial) {
    w.write_varint(token.size());
    w.write_bytes(token);
  }
  out.length_offset = w.size();
  w.write_varint_n(0, 2);
  out.pn_offset = w.size();
  const std::uint64_t mask = pn_len == 4 ? 0xffffffffull : (1ull << (8 * pn_len)) - 1;
  w.write_uint(truncated_pn & mask, pn_len);
  return w.ok();
}

bool patch_length(MutBytes packet, std::size_t length_offset, std::uint64_t length) {
  if (length_offset >= packet.size()) return false;
  const std::size_t width = std::size_t{1} << (packet[length_offset] >> 6);
  if (packet.size() - length_offset < width) return false;
  Writer w(packet.subspan(length_offset, width));
  return w.write_varint_n(length, width);
}

bool write_short_header(Writer& w, const ConnectionId& dcid, bool key_phase, bool spin, std::uint64_t truncated_pn,
                        std::size_t pn_len, std::size_t& pn_offset) {
  if (pn_len < 1 || pn_len > 4 || !w.ok() || w.remaining() < 1 + dcid.size() + pn_len) return false;
  std::uint8_t first = kFixedBit | static_cast<std::uint8_t>(pn_len - 1);
  if (spin) first |= kSpinBit;
  if (key_phase) first |= kKeyPhaseBit;
  w.write_u8(first);
  w.write_bytes(dcid.bytes());
  pn_offset = w.size();
  const std::uint64_t mask = pn_len == 4 ? 0xffffffffull : (1ull << (8 * pn_len)) - 1;
  w.write_uint(truncated_pn & mask, pn_len);
  return w.ok();
}

std::size_t write_version_negotiation(MutBytes out, Bytes dcid, Bytes scid, std::span<const std::uint32_t> versions,
                                      std::uint8_t random_first_byte_bits) {
  if (versions.empty() || dcid.size() > kMaxInvariantCidLength || scid.size() > kMaxInvariantCidLength) return 0;
  Writer w(out);
  w.write_u8(static_cast<std::uint8_t>(kHeaderFormBit | kFixedBit | (random_first_byte_bits & 0x3f)));
  w.write_u32(kVersionNegotiationVersion);
  w.write_u8(static_cast<std::uint8_t>(dcid.size()));
  w.write_bytes(dcid);
  w.write_u8(static_cast<std::uint8_t>(scid.size()));
  w.write_bytes(scid);
  for (std::uint32_t v : versions) w.write_u32(v);
  return w.ok() ? w.size() : 0;
}

std::size_t write_version_negotiation_reply(MutBytes out, const InvariantHeader& received,
                                            std::span<const std::uint32_t> versions,
                                            std::uint8_t random_first_byte_bits) {
  if (!received.is_long) return 0;  // short header packets never trigger Version Negotiation
  return write_version_negotiation(out, received.scid, received.dcid, versions, random_first_byte_bits);
}

std::size_t write_retry_without_tag(MutBytes out, std::uint32_t version, const ConnectionId& dcid,
                                    const ConnectionId& scid, Bytes token, std::uint8_t unused_bits) {
  const auto bits = long_packet_type_bits(version, PacketType::kRetry);
  if (!bits || token.empty()) return 0;
  Writer w(out);
  w.write_u8(static_cast<std::uint8_t>(kHeaderFormBit | kFixedBit | *bits << 4 | (unused_bits & 0x0f)));
  w.write_u32(version);
  w.write_u8(static_cast<std::uint8_t>(dcid.size()));
  w.write_bytes(dcid.bytes());
  w.write_u8(static_cast<std::uint8_t>(scid.size()));
  w.write_bytes(scid.bytes());
  w.write_bytes(token);
  return w.ok() ? w.size() : 0;
}

std::vector<std::uint8_t> retry_pseudo_packet(const ConnectionId& odcid, Bytes retry_packet_without_tag) {
  std::vector<std::uint8_t> out;
  out.reserve(1 + odcid.size() + retry_packet_without_tag.size());
  out.push_back(static_cast<std::uint8_t>(odcid.size()));
  out.insert(out.end(), odcid.bytes().begin(), odcid.bytes().end());
  out.insert(out.end(), retry_packet_without_tag.begin(), retry_packet_without_tag.end());
  return out;
}

}  // namespace roam::wire
