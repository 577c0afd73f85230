// 1-RTT keys across key updates (RFC 9001 section 6). Holds the current write keys, the current,
// next (precomputed) and, for a while, previous read keys, and the Key Phase bookkeeping. Policy
// that needs time or handshake state stays with the connection: it confirms the handshake before
// initiating, waits 3 PTO after an update before the next one, and decides when previous read
// keys are discarded (discard_previous_read_keys(), RFC 9001 6.5: about 3 PTO after the update).
//
// Receive path:
//   auto h = remove_header_protection(keys.read_header_protector(), pkt, pn_offset, largest, has);
//   auto sel = keys.select_read_keys(h->key_phase, h->packet_number);
//   auto payload = decrypt_payload(*sel.keys, pkt, h->header_len, h->packet_number);
//   if (!payload) -> drop (count toward integrity_limit)
//   if (!keys.on_packet_decrypted(sel.epoch, h->packet_number)) -> close with its error code
// A change of read_generation() across on_packet_decrypted() means the keys rolled: that is when
// the connection (re)starts its timer for discard_previous_read_keys(). has_previous_read_keys()
// stays true across consecutive updates, so it does not signal a second roll.
// Send path: write_keys() and key_phase() for the header; on_packet_sent(pn) for each 1-RTT packet;
// on_ack_received(largest_acked) for each 1-RTT ACK frame; initiate_update() when
// can_initiate_update() and the connection's own conditions hold.
#pragma once

#include <cstdint>
#include <optional>

#include "common/error.h"
#include "common/types.h"
#include "crypto/packet_keys.h"
#include "crypto/secret.h"

namespace roam::crypto {

// Which generation of read keys relative to the current one.
enum class KeyEpoch : std::uint8_t { kPrevious, kCurrent, kNext };

class OneRttKeys {
 public:
  struct ReadKeys {
    const PacketKeys* keys;  // never null
    KeyEpoch epoch;
  };

  // read_secret / write_secret: the 1-RTT traffic secrets TLS exported (a client reads with the
  // server's application secret and writes with its own). Derives the current keys of both
  // directions and the next generation of both.
  static Result<OneRttKeys> create(AeadAlgorithm algorithm, Bytes read_secret, Bytes write_secret,
                                   Backend backend = Backend::kAuto);

  // --- sending
  // The Key Phase bit for outgoing short headers.
  bool key_phase() const { return (write_generation_ & 1) != 0; }
  const PacketKeys& write_keys() const { return write_; }
  // Records that a 1-RTT packet with this number was sent with the current write keys.
  void on_packet_sent(std::uint64_t pn);
  // The largest packet number acknowledged by a 1-RTT ACK frame.
  void on_ack_received(std::uint64_t largest_acked);
  // RFC 9001 6.1 conditions this object can see: the peer has answered the last update (it sent
  // with our current write phase) and an ACK covers a packet sent with the current write keys.
  bool can_initiate_update() const;
  // Switches the write side to the next generation (flips key_phase()). Fails with
  // KEY_UPDATE_ERROR if can_initiate_update() is false; fails with INTERNAL_ERROR if deriving
  // the following generation fails.
  Status initiate_update();

  // --- receiving
  const HeaderProtector& read_header_protector() const { return *read_.header_protector; }
  // Keys for a packet whose header protection is removed (RFC 9001 6.3, 6.5): the current phase
  // -> current keys; the other phase with a packet number below every current-phase packet and
  // previous keys retained -> previous keys; otherwise -> next keys. No decision reads secrets
  // late: next keys are always precomputed, so trial decryption costs the same on every branch.
  ReadKeys select_read_keys(bool key_phase, std::uint64_t pn) const;
  // After a packet authenticated with select_read_keys(...).keys. Promotes next keys to current
  // when they were used (and, if the peer initiated, updates the write keys in response) and
  // records the packet number. Returns KEY_UPDATE_ERROR if keys went backwards (RFC 9001 6.4: a
  // packet protected with older keys than a lower-numbered packet), INTERNAL_ERROR if deriving
  // the following generation failed.
  Status on_packet_decrypted(KeyEpoch epoch, std::uint64_t pn);
  bool has_previous_read_keys() const { return read_prev_.has_value(); }
  void discard_previous_read_keys() { read_prev_.reset(); }

  std::uint64_t read_generation() const { return read_generation_; }
  std::uint64_t write_generation() const { return write_generation_; }
  AeadAlgorithm algorithm() const { return algorithm_; }

 private:
  OneRttKeys() = default;
  Status roll_read();
  Status roll_write();

  AeadAlgorithm algorithm_ = AeadAlgorithm::kAes128Gcm;
  HashAlgorithm hash_ = HashAlgorithm::kSha256;

  PacketKeys write_;
  PacketKeys write_next_;
  Secret write_next_secret_;  // secret of write_next_ (the one after it derives from it)
  std::uint64_t write_generation_ = 0;
  std::optional<std::uint64_t> first_sent_pn_;  // lowest pn sent in the current write phase
  std::optional<std::uint64_t> largest_acked_;

  PacketKeys read_;
  PacketKeys read_next_;
  std::optional<PacketKeys> read_prev_;
  Secret read_next_secret_;
  std::uint64_t read_generation_ = 0;
  // Lowest and highest packet numbers authenticated in the current read phase, and the highest
  // authenticated with the keys that are now previous: what "older keys for a higher packet
  // number" is checked against.
  std::optional<std::uint64_t> read_min_pn_;
  std::optional<std::uint64_t> read_max_pn_;
  std::optional<std::uint64_t> prev_max_pn_;
};

}  // namespace roam::crypto
