#include "cid/peer_cid_pool.h"

#include <algorithm>

namespace roam::cid {

namespace {
constexpr std::uint64_t kNewConnectionIdFrame = 0x18;
}  // namespace

void PeerCidPool::set_initial(const ConnectionId& cid) {
  auto it = std::find_if(active_.begin(), active_.end(), [](const PeerCid& p) { return p.seq == 0; });
  if (it == active_.end()) {
    active_.push_back(PeerCid{0, cid, std::nullopt, true});
    next_seq_ = std::max<std::uint64_t>(next_seq_, 1);
  } else {
    it->cid = cid;
  }
}

void PeerCidPool::set_initial_token(const crypto::StatelessResetToken& token) {
  for (auto& p : active_) {
    if (p.seq == 0) p.reset_token = token;
  }
}

Status PeerCidPool::add_preferred(const ConnectionId& cid, const crypto::StatelessResetToken& token) {
  auto fresh = note_seq(1);
  if (!fresh) return fresh.error();
  if (!*fresh) return {};
  active_.push_back(PeerCid{1, cid, token, false});
  return check_limit();
}

Status PeerCidPool::check_limit() const {
  if (active_.size() > limit_) {
    return Error{TransportError::kConnectionIdLimitError, "more connection IDs than active_connection_id_limit",
                 kNewConnectionIdFrame};
  }
  return {};
}

Result<std::vector<std::uint64_t>> PeerCidPool::on_new_connection_id(std::uint64_t seq, std::uint64_t retire_prior_to,
                                                                     const ConnectionId& cid,
                                                                     const crypto::StatelessResetToken& token) {
  // The same CID under another sequence number, or a sequence number with other values: 19.15
  // lets us treat both as PROTOCOL_VIOLATION.
  for (const auto& p : active_) {
    if (p.seq == seq && (p.cid != cid || (p.reset_token && *p.reset_token != token))) {
      return Error{TransportError::kProtocolViolation, "connection ID sequence number reused", kNewConnectionIdFrame};
    }
    if (p.seq != seq && p.cid == cid) {
      return Error{TransportError::kProtocolViolation, "connection ID issued twice", kNewConnectionIdFrame};
    }
  }
  // A duplicate of an active one, or a late copy of a retired one, changes nothing.
  auto fresh = note_seq(seq);
  if (!fresh) return fresh.error();
  std::vector<std::uint64_t> in_use_retired;
  if (retire_prior_to > retire_prior_to_) {
    retire_prior_to_ = retire_prior_to;
    for (auto it = active_.begin(); it != active_.end();) {
      if (it->seq < retire_prior_to_) {
        if (it->in_use) in_use_retired.push_back(it->seq);
        retire_seq(it->seq);
        it = active_.erase(it);
      } else {
        ++it;
      }
    }
    // Numbers below it whose NEW_CONNECTION_ID has not arrived yet are retired now, so the late
    // frame is a no-op and each gets exactly one RETIRE_CONNECTION_ID (19.15).
    while (!gaps_.empty() && *gaps_.begin() < retire_prior_to_) {
      retire_seq(*gaps_.begin());
      gaps_.erase(gaps_.begin());
    }
  }
  if (*fresh) active_.push_back(PeerCid{seq, cid, token, false});
  if (auto s = check_limit(); !s) return s.error();
  return in_use_retired;
}

std::optional<PeerCid> PeerCidPool::take_unused() {
  // The lowest sequence number first: the peer is likelier to retire old ones with Retire Prior To.
  PeerCid* best = nullptr;
  for (auto& p : active_) {
    if (!p.in_use && (!best || p.seq < best->seq)) best = &p;
  }
  if (!best) return std::nullopt;
  best->in_use = true;
  return *best;
}

bool PeerCidPool::has_unused() const {
  return std::any_of(active_.begin(), active_.end(), [](const PeerCid& p) { return !p.in_use; });
}

void PeerCidPool::retire(std::uint64_t seq) {
  auto it = std::find_if(active_.begin(), active_.end(), [seq](const PeerCid& p) { return p.seq == seq; });
  if (it == active_.end()) return;
  active_.erase(it);
  retire_seq(seq);
}

std::uint64_t PeerCidPool::pop_retire() {
  const std::uint64_t seq = retire_pending_.front();
  retire_pending_.pop_front();
  return seq;
}

const PeerCid* PeerCidPool::find(std::uint64_t seq) const {
  for (const auto& p : active_) {
    if (p.seq == seq) return &p;
  }
  return nullptr;
}

bool PeerCidPool::matches_reset_token(Bytes token) const {
  if (token.size() != crypto::kStatelessResetTokenSize) return false;
  return std::any_of(active_.begin(), active_.end(), [token](const PeerCid& p) {
    return p.reset_token && std::equal(token.begin(), token.end(), p.reset_token->begin());
  });
}

bool PeerCidPool::is_retired(std::uint64_t seq) const {
  return seq < next_seq_ && !find(seq) && gaps_.count(seq) == 0;
}

Result<bool> PeerCidPool::note_seq(std::uint64_t seq) {
  if (seq < next_seq_) return gaps_.erase(seq) != 0;
  // The peer numbers its CIDs one by one (5.1.1): a jump means frames still on their way, never
  // more than a few; a huge one (and the state it would need) is a protocol violation.
  if (seq - next_seq_ > kMaxGap - gaps_.size()) {
    return Error{TransportError::kProtocolViolation, "connection ID sequence numbers skipped", kNewConnectionIdFrame};
  }
  for (std::uint64_t s = next_seq_; s < seq; ++s) gaps_.insert(s);
  next_seq_ = seq + 1;
  return true;
}

void PeerCidPool::retire_seq(std::uint64_t seq) {
  retire_pending_.push_back(seq);
  ++retired_count_;
}

}  // namespace roam::cid
