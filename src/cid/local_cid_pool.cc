#include "cid/local_cid_pool.h"

#include <algorithm>

namespace roam::cid {

const LocalCid& LocalCidPool::add_initial(const ConnectionId& cid) {
  active_.push_back(LocalCid{next_seq_++, cid, token_for(cid)});
  return active_.back();
}

std::vector<LocalCid> LocalCidPool::top_up(std::uint64_t peer_limit, Random& random) {
  std::vector<LocalCid> added;
  // An endpoint that chose zero-length CIDs cannot issue new ones (RFC 9000 5.1.1); there would
  // be no fresh value to draw either.
  if (gen_->length() == 0) return added;
  const std::size_t target = static_cast<std::size_t>(std::min<std::uint64_t>(peer_limit, kMaxActive));
  while (active_.size() < target) {
    ConnectionId cid = gen_->generate(random);
    // A collision with one of ours would make two sequence numbers share a CID; draw again.
    if (std::any_of(active_.begin(), active_.end(), [&](const LocalCid& l) { return l.cid == cid; })) continue;
    LocalCid l{next_seq_++, cid, token_for(cid)};
    active_.push_back(l);
    added.push_back(l);
  }
  return added;
}

Result<std::optional<ConnectionId>> LocalCidPool::retire(std::uint64_t seq, const ConnectionId& packet_dcid) {
  if (seq >= next_seq_) {
    return Error{TransportError::kProtocolViolation, "RETIRE_CONNECTION_ID for a sequence number never issued", 0x19};
  }
  auto it = std::find_if(active_.begin(), active_.end(), [seq](const LocalCid& l) { return l.seq == seq; });
  if (it == active_.end()) return std::optional<ConnectionId>{};
  if (it->cid == packet_dcid) {
    return Error{TransportError::kProtocolViolation, "RETIRE_CONNECTION_ID for the CID in use", 0x19};
  }
  ConnectionId cid = it->cid;
  active_.erase(it);
  ++retired_;
  return std::optional<ConnectionId>{cid};
}

const LocalCid* LocalCidPool::find(std::uint64_t seq) const {
  for (const auto& l : active_) {
    if (l.seq == seq) return &l;
  }
  return nullptr;
}

}  // namespace roam::cid
