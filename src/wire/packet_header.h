// QUIC packet headers: the version-independent invariant header (RFC 8999), the QUIC v1 long and
// short headers (RFC 9000 17.2, 17.3; v2 type codes from RFC 9369 3.2), Version Negotiation
// (17.2.1) and Retry (17.2.5). Parsing happens BEFORE header protection is removed, so the packet
// number and the low bits of the first byte are not known yet.
//
// Error policy. A packet whose header cannot be parsed is dropped by the receiver (RFC 9000 5.2,
// 12.2), never answered with a connection error, so the code in the returned Error is
// informative only: every header rejection uses PROTOCOL_VIOLATION, and Error::reason says
// which rule failed. When a packet inside a coalesced datagram fails to parse, the rest of the
// datagram cannot be delimited and is dropped too. A parse failure does not mean the datagram is
// not a Stateless Reset: the endpoint checks the reset token on the raw bytes independently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/error.h"
#include "common/types.h"
#include "wire/varint.h"

namespace roam::wire {

inline constexpr std::uint32_t kVersionNegotiationVersion = 0x00000000;
inline constexpr std::uint32_t kVersion1 = 0x00000001;
inline constexpr std::uint32_t kVersion2 = 0x6b3343cf;  // RFC 9369: same header layout, other type codes

// First-byte bits (RFC 9000 17.2, 17.3).
inline constexpr std::uint8_t kHeaderFormBit = 0x80;
inline constexpr std::uint8_t kFixedBit = 0x40;
inline constexpr std::uint8_t kSpinBit = 0x20;
inline constexpr std::uint8_t kKeyPhaseBit = 0x04;
inline constexpr std::uint8_t kPacketNumberLengthMask = 0x03;
inline constexpr std::uint8_t kLongReservedBits = 0x0c;
inline constexpr std::uint8_t kShortReservedBits = 0x18;
// Bits of the first byte covered by header protection (RFC 9001 5.4.1).
inline constexpr std::uint8_t kLongHeaderProtectedBits = 0x0f;
inline constexpr std::uint8_t kShortHeaderProtectedBits = 0x1f;

// Header protection samples 16 bytes starting 4 bytes after the start of the Packet Number
// field (RFC 9001 5.4.2), for every AEAD defined for v1 and v2. A protected packet shorter than
// that is discarded, so the parser requires at least this many bytes from pn_offset on.
inline constexpr std::size_t kHpSampleOffset = 4;
inline constexpr std::size_t kHpSampleLength = 16;
inline constexpr std::size_t kMinBytesAfterPnOffset = kHpSampleOffset + kHpSampleLength;

inline constexpr std::size_t kRetryIntegrityTagLength = 16;
// Connection IDs of any version fit in one length byte (RFC 8999 5.1).
inline constexpr std::size_t kMaxInvariantCidLength = 255;

enum class PacketType : std::uint8_t { kInitial, kZeroRtt, kHandshake, kRetry, kVersionNegotiation, kOneRtt };

constexpr bool is_long_header(std::uint8_t first_byte) { return (first_byte & kHeaderFormBit) != 0; }

// Packet number length (1..4) from a first byte whose header protection has been removed.
constexpr std::size_t packet_number_length_from_first_byte(std::uint8_t unprotected_first_byte) {
  return static_cast<std::size_t>(unprotected_first_byte & kPacketNumberLengthMask) + 1;
}

// The reserved bits must be zero once header protection is removed; a packet with non-zero
// reserved bits is a connection error of type PROTOCOL_VIOLATION, to be raised only after the
// payload also decrypted successfully (RFC 9000 17.2, 17.3.1; RFC 9001 9.5).
constexpr bool reserved_bits_zero(std::uint8_t unprotected_first_byte, bool long_header) {
  return (unprotected_first_byte & (long_header ? kLongReservedBits : kShortReservedBits)) == 0;
}

constexpr std::uint8_t header_protection_mask_bits(bool long_header) {
  return long_header ? kLongHeaderProtectedBits : kShortHeaderProtectedBits;
}

// True for versions whose long header layout this file parses and writes (v1 and v2).
constexpr bool is_known_version(std::uint32_t version) { return version == kVersion1 || version == kVersion2; }

// The two Long Packet Type bits (mask 0x30) for a packet type in a known version, or nullopt for
// packet types without such bits (Version Negotiation, 1-RTT) or unknown versions.
std::optional<std::uint8_t> long_packet_type_bits(std::uint32_t version, PacketType type);
// The packet type of a long header packet of a known version (never kVersionNegotiation or kOneRtt).
std::optional<PacketType> long_packet_type(std::uint32_t version, std::uint8_t first_byte);

// Reserved versions of the form 0x?a?a?a?a force Version Negotiation (RFC 9000 6.3, 15).
constexpr bool is_grease_version(std::uint32_t version) { return (version & 0x0f0f0f0fu) == 0x0a0a0a0au; }
// A reserved version built from random bits (the caller supplies randomness).
constexpr std::uint32_t grease_version(std::uint32_t random_bits) {
  return (random_bits & 0xf0f0f0f0u) | 0x0a0a0a0au;
}

// ---------------------------------------------------------------------------------------------
// Version-independent view, for demultiplexing and Version Negotiation (RFC 8999 5).
struct InvariantHeader {
  bool is_long = false;
  std::uint8_t first_byte = 0;
  std::uint32_t version = 0;  // 0 for short headers (and for Version Negotiation packets)
  Bytes dcid;                 // long header: 0..255 bytes; short header: short_header_dcid_len bytes
  Bytes scid;                 // long header only: 0..255 bytes
};

// Reads the invariant fields of the packet at the start of datagram. A short header packet's DCID
// length is not on the wire: the endpoint passes the length of the CIDs it issues. Fails only when
// the datagram is empty or too short for the fields it announces.
Result<InvariantHeader> parse_invariant_header(Bytes datagram, std::size_t short_header_dcid_len);

// ---------------------------------------------------------------------------------------------
// A parsed header of a known version, before header protection is removed.
struct PacketHeader {
  PacketType type = PacketType::kOneRtt;
  std::uint8_t first_byte = 0;  // still protected for Initial/0-RTT/Handshake/1-RTT
  std::uint32_t version = 0;    // 0 for Version Negotiation and short headers
  ConnectionId dcid;
  ConnectionId scid;            // long headers only
  Bytes token;                  // Initial token, or Retry token (never empty in a parsed Retry)
  std::size_t pn_offset = 0;    // offset of the Packet Number field from the start of this packet
  // Bytes of this packet inside the datagram: for packets with a Length field, pn_offset +
  // Length; for short header, Retry and Version Negotiation packets, the rest of the datagram.
  std::size_t packet_size = 0;
  Bytes retry_integrity_tag;                   // 16 bytes, Retry only
  std::vector<std::uint32_t> supported_versions;  // Version Negotiation only
};

// Parses the packet at the start of `packet` (for coalesced packets the caller advances by
// packet_size and calls again). Rules enforced, all as PROTOCOL_VIOLATION:
// - empty or truncated input, or a Length/Token Length that runs past the end of the datagram;
// - version other than 0 (Version Negotiation), v1 or v2: "unsupported version" — the endpoint
//   uses parse_invariant_header to decide on Version Negotiation before calling this;
// - CID longer than 20 bytes in a long header of a known version, and also in a Version
//   Negotiation packet (a v1 client never sent such a CID, so the packet cannot be for it);
// - the Fixed Bit is zero (every packet type except Version Negotiation);
// - fewer than kMinBytesAfterPnOffset bytes from the Packet Number field to the end of the
//   packet (Length < 20 or a short packet): such a packet cannot be header-unprotected (RFC 9001
//   5.4.2). The finer check that Length covers the packet number and a tag is done after header
//   protection removal, when the packet number length is known;
// - Version Negotiation with no supported version or a partial (non multiple of 4) version list;
// - Retry shorter than the 16-byte integrity tag, or with an empty token (RFC 9000 17.2.5.2).
Result<PacketHeader> parse_packet_header(Bytes packet, std::size_t short_header_dcid_len);

// ---------------------------------------------------------------------------------------------
// Builders. Offsets they report are positions in the Writer's buffer (the same units as
// Writer::size()), so a packet coalesced after another one gets offsets within the datagram.

struct LongHeaderOut {
  std::size_t length_offset = 0;  // where the 2-byte Length field placeholder starts
  std::size_t pn_offset = 0;      // where the packet number starts
};

// Writes an Initial (with token), 0-RTT or Handshake header for a known version, followed by a
// 2-byte Length placeholder (so packets up to 16383 bytes after the Length field) and the low
// pn_len (1..4) bytes of truncated_pn. Reserved bits are zero; the low bits encode pn_len - 1.
// Returns false (and writes nothing) for other packet types, a token on a non-Initial packet, an
// unknown version, bad pn_len or a buffer too small.
bool write_long_header(Writer& w, PacketType type, std::uint32_t version, const ConnectionId& dcid,
                       const ConnectionId& scid, Bytes token, std::uint64_t truncated_pn, std::size_t pn_len,
                       LongHeaderOut& out);

// Fills in the Length placeholder at length_offset once the payload size is known: length =
// pn_len + payload + AEAD tag. The field width is taken from the placeholder's own varint prefix.
// Returns false if length does not fit that width or the offset is out of range.
bool patch_length(MutBytes packet, std::size_t length_offset, std::uint64_t length);

// Writes a 1-RTT short header: fixed bit set, spin and key phase as given, reserved bits zero.
// Returns false (and writes nothing) for bad pn_len or a buffer too small.
bool write_short_header(Writer& w, const ConnectionId& dcid, bool key_phase, bool spin, std::uint64_t truncated_pn,
                        std::size_t pn_len, std::size_t& pn_offset);

// Writes a Version Negotiation packet whose own Destination and Source Connection IDs are dcid
// and scid (that is, the client's SCID and DCID, already swapped; see the _reply variant).
// The first byte is 0x80 | 0x40 (fixed bit, RFC 9000 17.2.1 SHOULD) | the low 6 random bits.
// Returns the packet size, or 0 when versions is empty, a CID exceeds 255 bytes or out is too small.
std::size_t write_version_negotiation(MutBytes out, Bytes dcid, Bytes scid, std::span<const std::uint32_t> versions,
                                      std::uint8_t random_first_byte_bits);
// Same, answering `received` (a long header packet): echoes its SCID as DCID and its DCID as SCID.
std::size_t write_version_negotiation_reply(MutBytes out, const InvariantHeader& received,
                                            std::span<const std::uint32_t> versions,
                                            std::uint8_t random_first_byte_bits);

// Writes a Retry packet up to, not including, its integrity tag: the crypto module computes the
// tag over retry_pseudo_packet() and appends it. The low 4 bits of unused_bits fill the Unused
// field. Returns the size written, or 0 for an empty token, an unknown version or out too small.
std::size_t write_retry_without_tag(MutBytes out, std::uint32_t version, const ConnectionId& dcid,
                                    const ConnectionId& scid, Bytes token, std::uint8_t unused_bits);

// The Retry Pseudo-Packet of RFC 9001 5.8: ODCID Length (8), ODCID, then the Retry packet
// without its tag.
std::vector<std::uint8_t> retry_pseudo_packet(const ConnectionId& odcid, Bytes retry_packet_without_tag);

}  // namespace roam::wire
