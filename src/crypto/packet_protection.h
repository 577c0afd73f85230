// Whole-packet protection on a datagram buffer (RFC 9001 5.3 and 5.4): what the connection calls
// for every packet it sends and receives. Everything works in place, nothing allocates.
//
// Sending:   [header .. packet number][plaintext payload][16 spare bytes]
//              seal_packet() -> [protected header][ciphertext][tag]
// Receiving: remove_header_protection() -> first byte, packet number (and key phase) in the clear,
//            then pick keys (for 1-RTT: OneRttKeys::select_read_keys) -> decrypt_payload().
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/error.h"
#include "common/types.h"
#include "crypto/header_protection.h"
#include "crypto/packet_keys.h"

namespace roam::crypto {

// Protects one packet in place and returns its protected length, or 0 if a precondition is
// violated or the library failed (nothing useful is left in the buffer then).
//   buf:         the buffer holding the packet from its first byte; the caller has written the
//                header including the truncated packet number (pn_len bytes at pn_offset, with
//                the matching Packet Number Length bits in the first byte), then payload_len
//                bytes of plaintext, and buf has >= kAeadTagSize more bytes after the payload.
//   pn:          the full packet number (nonce = IV xor pn).
// Preconditions (RFC 9001 5.4.2): 1 <= pn_len <= 4, pn_offset >= 1, and pn_len + payload_len >= 4
// so that a 16-byte sample exists at pn_offset + 4; the caller pads with PADDING frames to get
// there. The encoded packet number bytes and length bits must agree with pn.
std::size_t seal_packet(const PacketKeys& keys, MutBytes buf, std::size_t pn_offset, std::size_t pn_len,
                        std::uint64_t pn, std::size_t payload_len);

struct UnprotectedHeader {
  std::uint8_t first_byte = 0;     // with header protection removed
  std::size_t pn_len = 0;          // 1..4
  std::uint64_t packet_number = 0; // full packet number, decoded against largest_pn
  bool key_phase = false;          // short header only (always false for long headers)
  std::size_t header_len = 0;      // pn_offset + pn_len: the AAD length for decrypt_payload

  // The reserved bits (0x0c long, 0x18 short) must be zero, but this may only be acted on after
  // the payload authenticated (RFC 9000 17.2/17.3: PROTOCOL_VIOLATION).
  bool reserved_bits_set() const { return (first_byte & ((first_byte & 0x80) ? 0x0c : 0x18)) != 0; }
};

// Removes header protection in place: unmasks the first byte and the packet number bytes of
// `packet` and decodes the full packet number (RFC 9000 A.3) against the largest packet number
// received in the space (has_largest false: none yet). `packet` must end where the packet ends
// (for long headers: at pn_offset + Length), since the tag is taken to be its last 16 bytes.
// Fails (the packet is to be discarded, RFC 9001 5.4.2) if the packet is too short for the sample.
// On failure the packet is left unmodified.
Result<UnprotectedHeader> remove_header_protection(const HeaderProtector& hp, MutBytes packet, std::size_t pn_offset,
                                                   std::uint64_t largest_pn, bool has_largest);

// Authenticates and decrypts the payload in place, after remove_header_protection().
// `packet` is the same span (header through tag), header_len = UnprotectedHeader::header_len,
// pn = UnprotectedHeader::packet_number. Returns the plaintext payload (a span inside `packet`).
// An error means the packet did not authenticate: drop it silently and count it toward the
// integrity limit (integrity_limit()); it is never a reason to close the connection by itself.
Result<MutBytes> decrypt_payload(const PacketKeys& keys, MutBytes packet, std::size_t header_len, std::uint64_t pn);

}  // namespace roam::crypto
