// The connection IDs the peer issued to us (RFC 9000 5.1.1, 5.1.2, 19.15, 19.16): which are
// unused, which a path sends with, which we must retire, and their stateless reset tokens.
//
// Every path sends with its own CID so that an observer cannot link paths (9.5); a CID leaves
// the pool when retired (by us after a path is abandoned, or because the peer's Retire Prior To
// says so) and RETIRE_CONNECTION_ID frames are queued for the connection to send. Memory stays
// bounded however many CIDs go through: the peer numbers its CIDs 0, 1, 2... (5.1.1), so every
// sequence number below the next one expected is either active, retired, or not received yet
// (a NEW_CONNECTION_ID overtaken on the wire); only the active ones and those gaps are stored,
// and a peer that skips more than kMaxGap numbers is in PROTOCOL_VIOLATION.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <vector>

#include "common/error.h"
#include "common/types.h"
#include "crypto/tokens.h"

namespace roam::cid {

struct PeerCid {
  std::uint64_t seq = 0;
  ConnectionId cid;
  std::optional<crypto::StatelessResetToken> reset_token;  // none for the client's handshake CID
  bool in_use = false;                                      // a path sends with it
};

class PeerCidPool {
 public:
  // `limit`: our active_connection_id_limit transport parameter.
  explicit PeerCidPool(std::uint64_t limit) : limit_(limit) {}

  // Sequence number 0: the peer's handshake SCID, in use by the first path. A client calls it
  // again when the server's first Initial names the CID (or after a Retry).
  void set_initial(const ConnectionId& cid);
  // The server's stateless_reset_token transport parameter belongs to sequence number 0.
  void set_initial_token(const crypto::StatelessResetToken& token);
  // A CID from the server's preferred_address parameter: sequence number 1 (RFC 9000 5.1.1).
  Status add_preferred(const ConnectionId& cid, const crypto::StatelessResetToken& token);

  // NEW_CONNECTION_ID. PROTOCOL_VIOLATION when a sequence number comes back with other values,
  // CONNECTION_ID_LIMIT_ERROR when more than `limit` would be active. CIDs below Retire Prior To
  // are retired; the ones a path was using are returned so the connection can move those paths
  // to fresh CIDs.
  Result<std::vector<std::uint64_t>> on_new_connection_id(std::uint64_t seq, std::uint64_t retire_prior_to,
                                                          const ConnectionId& cid,
                                                          const crypto::StatelessResetToken& token);

  // An unused CID for a new path, marked in use; nullopt when the peer gave us none spare.
  std::optional<PeerCid> take_unused();
  bool has_unused() const;
  // Stops using `seq` and queues RETIRE_CONNECTION_ID for it (no-op if already retired).
  void retire(std::uint64_t seq);

  // RETIRE_CONNECTION_ID frames to send; a lost frame is queued again with requeue_retire.
  bool has_retire_pending() const { return !retire_pending_.empty(); }
  std::uint64_t pop_retire();
  void requeue_retire(std::uint64_t seq) { retire_pending_.push_back(seq); }

  const PeerCid* find(std::uint64_t seq) const;
  // True if `token` is the reset token of a CID we have not retired (RFC 10.3.1).
  bool matches_reset_token(Bytes token) const;
  std::size_t active_count() const { return active_.size(); }
  std::uint64_t retired_count() const { return retired_count_; }
  // Memory held besides the active CIDs: sequence numbers not received yet (tests check it
  // stays bounded).
  std::size_t retired_tracking_size() const { return gaps_.size(); }

  // Sequence numbers a NEW_CONNECTION_ID may skip ahead (frames overtaking each other).
  static constexpr std::uint64_t kMaxGap = 1024;

 private:
  bool is_retired(std::uint64_t seq) const;
  // A sequence number we have not seen before (a new one, or a gap filled); false for one that
  // is active or retired. PROTOCOL_VIOLATION for a jump of more than kMaxGap.
  Result<bool> note_seq(std::uint64_t seq);
  void retire_seq(std::uint64_t seq);  // queue RETIRE_CONNECTION_ID and count it
  Status check_limit() const;

  std::uint64_t limit_;
  std::vector<PeerCid> active_;
  std::deque<std::uint64_t> retire_pending_;
  // Every sequence number below next_seq_ that is neither in active_ nor in gaps_ is retired.
  std::uint64_t next_seq_ = 0;
  std::set<std::uint64_t> gaps_;       // below next_seq_, never received, not retired
  std::uint64_t retire_prior_to_ = 0;  // the largest the peer sent
  std::uint64_t retired_count_ = 0;
};

}  // namespace roam::cid
