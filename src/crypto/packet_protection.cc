#include "crypto/packet_protection.h"

#include "wire/packet_number.h"

namespace roam::crypto {

namespace {

std::uint8_t first_byte_mask(std::uint8_t first_byte) {
  // Long header: 4 low bits protected; short header: 5 (RFC 9001 5.4.1).
  return (first_byte & 0x80) ? 0x0f : 0x1f;
}

}  // namespace

std::size_t seal_packet(const PacketKeys& keys, MutBytes buf, std::size_t pn_offset, std::size_t pn_len,
                        std::uint64_t pn, std::size_t payload_len) {
  if (!keys.valid() || pn_len < 1 || pn_len > 4 || pn_offset < 1 || pn_len + payload_len < 4) return 0;
  const std::size_t header_len = pn_offset + pn_len;
  // Overflow-safe form of header_len + payload_len + tag <= buf.size().
  if (header_len > buf.size() || payload_len > buf.size() - header_len ||
      buf.size() - header_len - payload_len < kAeadTagSize) {
    return 0;
  }
  // The header must carry what the caller says it does.
  if (static_cast<std::size_t>(buf[0] & 0x03) + 1 != pn_len) return 0;
  std::uint64_t encoded = 0;
  for (std::size_t i = 0; i < pn_len; ++i) encoded = encoded << 8 | buf[pn_offset + i];
  const std::uint64_t pn_mask = pn_len == 4 ? 0xffffffffull : (std::uint64_t{1} << (8 * pn_len)) - 1;
  if (encoded != (pn & pn_mask) || pn > wire::kMaxPacketNumber) return 0;

  const auto nonce = keys.nonce(pn);
  const MutBytes payload = buf.subspan(header_len, payload_len + kAeadTagSize);
  if (!keys.aead->seal(nonce, buf.first(header_len), payload.first(payload_len), payload)) return 0;

  HpMask mask;
  if (!keys.header_protector->mask(HpSample(buf.subspan(pn_offset + 4, kHpSampleSize)), mask)) return 0;
  buf[0] ^= mask[0] & first_byte_mask(buf[0]);
  for (std::size_t i = 0; i < pn_len; ++i) buf[pn_offset + i] ^= mask[1 + i];
  return header_len + payload_len + kAeadTagSize;
}

Result<UnprotectedHeader> remove_header_protection(const HeaderProtector& hp, MutBytes packet, std::size_t pn_offset,
                                                   std::uint64_t largest_pn, bool has_largest) {
  if (pn_offset < 1 || pn_offset > packet.size() || packet.size() - pn_offset < 4 + kHpSampleSize) {
    return Error{TransportError::kProtocolViolation, "packet too short for header protection sample"};
  }
  HpMask mask;
  if (!hp.mask(HpSample(packet.subspan(pn_offset + 4, kHpSampleSize)), mask)) {
    return Error{TransportError::kInternalError, "header protection mask failed"};
  }
  UnprotectedHeader h;
  h.first_byte = static_cast<std::uint8_t>(packet[0] ^ (mask[0] & first_byte_mask(packet[0])));
  h.pn_len = static_cast<std::size_t>(h.first_byte & 0x03) + 1;
  h.header_len = pn_offset + h.pn_len;
  // pn_offset + 4 + 16 <= size, so the packet number and a full tag are always inside `packet`.
  std::uint64_t truncated = 0;
  for (std::size_t i = 0; i < h.pn_len; ++i) {
    packet[pn_offset + i] ^= mask[1 + i];
    truncated = truncated << 8 | packet[pn_offset + i];
  }
  packet[0] = h.first_byte;
  h.packet_number =
      wire::decode_packet_number(largest_pn, has_largest, truncated, static_cast<unsigned>(8 * h.pn_len));
  h.key_phase = (h.first_byte & 0x80) == 0 && (h.first_byte & 0x04) != 0;
  return h;
}

Result<MutBytes> decrypt_payload(const PacketKeys& keys, MutBytes packet, std::size_t header_len, std::uint64_t pn) {
  if (!keys.valid()) return Error{TransportError::kInternalError, "decrypt with empty keys"};
  if (header_len > packet.size() || packet.size() - header_len < kAeadTagSize) {
    return Error{TransportError::kProtocolViolation, "packet too short for AEAD tag"};
  }
  const auto nonce = keys.nonce(pn);
  const MutBytes body = packet.subspan(header_len);
  const MutBytes plaintext = body.first(body.size() - kAeadTagSize);
  if (!keys.aead->open(nonce, packet.first(header_len), body, plaintext)) {
    return Error{TransportError::kProtocolViolation, "packet authentication failed"};
  }
  return plaintext;
}

}  // namespace roam::crypto
