// The connection IDs we issued to the peer (RFC 9000 5.1.1, 5.1.2): sequence numbers, stateless
// reset tokens derived from a static key (10.3.2), retirement, and topping up to the peer's
// active_connection_id_limit.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "cid/generator.h"
#include "common/error.h"
#include "crypto/tokens.h"

namespace roam::cid {

struct LocalCid {
  std::uint64_t seq = 0;
  ConnectionId cid;
  crypto::StatelessResetToken reset_token{};
};

class LocalCidPool {
 public:
  // Upper bound on CIDs we keep active for one peer, whatever limit it advertises.
  static constexpr std::size_t kMaxActive = 8;

  LocalCidPool(const CidGenerator& generator, Bytes reset_key) : gen_(&generator), key_(reset_key.begin(), reset_key.end()) {}

  // Sequence number 0: the CID of the handshake (our Initial SCID).
  const LocalCid& add_initial(const ConnectionId& cid);
  // Issues new CIDs until min(peer_limit, kMaxActive) are active; returns the new ones (to send in
  // NEW_CONNECTION_ID frames).
  std::vector<LocalCid> top_up(std::uint64_t peer_limit, Random& random);
  // The peer retired `seq` (RETIRE_CONNECTION_ID) in a packet sent to `packet_dcid`. Returns the
  // retired CID (nullopt when already retired), or PROTOCOL_VIOLATION for a sequence number never
  // issued or for the CID the frame arrived on (19.16).
  Result<std::optional<ConnectionId>> retire(std::uint64_t seq, const ConnectionId& packet_dcid);

  const LocalCid* find(std::uint64_t seq) const;
  bool is_active(std::uint64_t seq) const { return find(seq) != nullptr; }
  const std::vector<LocalCid>& active() const { return active_; }
  std::uint64_t issued() const { return next_seq_; }
  std::uint64_t retired_count() const { return retired_; }
  crypto::StatelessResetToken token_for(const ConnectionId& cid) const { return crypto::stateless_reset_token(key_, cid); }

 private:
  const CidGenerator* gen_;
  std::vector<std::uint8_t> key_;
  std::vector<LocalCid> active_;
  std::uint64_t next_seq_ = 0;
  std::uint64_t retired_ = 0;
};

}  // namespace roam::cid
