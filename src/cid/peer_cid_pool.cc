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
  if (find(1) || is_retired(1)) return {};
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
  std::vector<std::uint64_t> in_use_retired;
  if (retire_prior_to > retire_prior_to_) {
    retire_prior_to_ = retire_prior_to;
    for (auto it = active_.begin(); it != active_.end();) {
      if (it->seq < retire_prior_to_) {
        if (it->in_use) in_use_retired.push_back(it->seq);
        mark_retired(it->seq);
        retire_pending_.push_back(it->seq);
        it = active_.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (!find(seq) && !is_retired(seq)) {
    if (seq < retire_prior_to_) {
      // Already below Retire Prior To: retire it straight away (19.15).
      mark_retired(seq);
      retire_pending_.push_back(seq);
    } else {
      active_.push_back(PeerCid{seq, cid, token, false});
    }
  }
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
  mark_retired(seq);
  retire_pending_.push_back(seq);
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
  return seq < retired_below_ || retired_above_.count(seq) != 0;
}

void PeerCidPool::mark_retired(std::uint64_t seq) {
  if (is_retired(seq)) return;
  ++retired_count_;
  retired_above_.insert(seq);
  // Every number below Retire Prior To is retired by definition; above it, the watermark
  // advances over the contiguous run we retired ourselves (we use CIDs lowest first, so the set
  // stays small).
  if (retired_below_ < retire_prior_to_) retired_below_ = retire_prior_to_;
  while (!retired_above_.empty() && *retired_above_.begin() <= retired_below_) {
    if (*retired_above_.begin() == retired_below_) ++retired_below_;
    retired_above_.erase(retired_above_.begin());
  }
}

}  // namespace roam::cid
