// Paths and connection migration (RFC 9000 8.2, 9, 5.1.2): path validation with PATH_CHALLENGE
// and PATH_RESPONSE, following a peer to a new address, client-driven migration, NAT
// rebinding, the server's preferred address, failover and fallback, and a fresh peer CID for
// every path so that paths cannot be linked by an observer.
#include <algorithm>

#include "conn/connection.h"

namespace roam::conn {

namespace {

// Challenges sent on one path before giving up (the validation timer ends it anyway).
constexpr unsigned kMaxChallenges = 6;

}  // namespace

std::string_view to_string(PathChangeReason r) {
  switch (r) {
    case PathChangeReason::kMigration: return "migration";
    case PathChangeReason::kNatRebinding: return "nat-rebinding";
    case PathChangeReason::kPreferredAddress: return "preferred-address";
    case PathChangeReason::kFailover: return "failover";
    case PathChangeReason::kFallback: return "fallback";
  }
  return "migration";
}

recovery::PathRecovery* Connection::PathLookup::find(PathId id) {
  Path* p = c_.find_path(id);
  return p ? p->recovery.get() : nullptr;
}

Path* Connection::find_path(PathId id) {
  for (auto& p : paths_) {
    if (p->id == id) return p.get();
  }
  return nullptr;
}

Path* Connection::find_path(const SocketAddress& local, const SocketAddress& peer) {
  for (auto& p : paths_) {
    if (p->local == local && p->peer == peer) return p.get();
  }
  // A socket bound to the wildcard address: datagrams name the real local address (PKTINFO).
  for (auto& p : paths_) {
    if (p->peer == peer && p->local.is_unspecified() && p->local.port() == local.port()) return p.get();
  }
  return nullptr;
}

std::vector<PathChanged> Connection::path_changes_since(std::uint64_t seen) const {
  const std::uint64_t total = stats_.migrations;
  const std::uint64_t kept = recent_path_changes_.size();
  const std::uint64_t skip = seen + kept >= total ? kept - (total - std::min(seen, total)) : 0;
  return std::vector<PathChanged>(recent_path_changes_.begin() + static_cast<std::ptrdiff_t>(skip),
                                  recent_path_changes_.end());
}

std::vector<PathInfo> Connection::paths() const {
  std::vector<PathInfo> out;
  for (const auto& p : paths_) {
    out.push_back(PathInfo{p->id, p->local, p->peer, p->validated(), p.get() == active_,
                           p->recovery->rtt().smoothed_rtt(), p->ecn.state(), p->max_datagram()});
  }
  return out;
}

Path& Connection::add_path(const SocketAddress& local, const SocketAddress& peer, Instant now) {
  // Bounded: drop the oldest path that is neither active nor the fallback.
  while (paths_.size() >= std::max<std::size_t>(config_.max_paths, 2)) {
    auto victim = std::find_if(paths_.begin(), paths_.end(),
                               [&](const auto& p) { return p.get() != active_ && p->id != fallback_; });
    if (victim == paths_.end()) break;
    const PathId id = (*victim)->id;
    Path& v = **victim;
    if (v.validation == PathValidation::kValidating) {
      ++stats_.paths_failed;
      push_event(PathFailed{v.id, v.local, v.peer});
    }
    remove_path(id, true);
  }
  auto p = std::make_unique<Path>();
  p->id = next_path_id_;
  next_path_id_ = PathId{next_path_id_.value + 1};
  p->local = local;
  p->peer = peer;
  p->created = now;
  p->last_received = now;
  recovery::RecoveryConfig rc;
  rc.initial_rtt = config_.initial_rtt;
  rc.congestion = config_.congestion_control == CongestionControl::kNewReno ? recovery::CongestionAlgorithm::kNewReno
                                                                           : recovery::CongestionAlgorithm::kCubic;
  rc.cc.max_datagram_size = config_.max_datagram_size;
  p->recovery = std::make_unique<recovery::PathRecovery>(rc);
  p->ecn = EcnValidator(config_.ecn);
  paths_.push_back(std::move(p));
  return *paths_.back();
}

void Connection::remove_path(PathId id, bool retire_cid) {
  auto it = std::find_if(paths_.begin(), paths_.end(), [id](const auto& p) { return p->id == id; });
  if (it == paths_.end() || it->get() == active_) return;
  Path& p = **it;
  if (retire_cid && p.dcid_seq) {
    // Two paths share a CID only after a NAT rebinding without a spare CID (RFC 9000 9.5).
    const bool shared = std::any_of(paths_.begin(), paths_.end(), [&](const auto& o) {
      return o.get() != &p && o->dcid_seq == p.dcid_seq;
    });
    if (!shared) peer_cids_.retire(*p.dcid_seq);
  }
  qlog_tuple(now_hint_, p, true);
  paths_.erase(it);
}

Duration Connection::validation_timeout(const Path& path) const {
  // RFC 9000 8.2.4: three times the larger of the current PTO and the new path's (from
  // kInitialRtt if it has no sample), and at least 6 * kInitialRtt is recommended.
  const Duration ad = handshake_confirmed_ ? peer_max_ack_delay_ : Duration::zero();
  const Duration cur = active_->recovery->rtt().pto_duration(ad);
  const Duration fresh = path.recovery->rtt().pto_duration(ad);
  return std::max(3 * std::max(cur, fresh), 6 * config_.initial_rtt);
}

void Connection::start_validation(Path& path, Instant now) {
  path.validation = PathValidation::kValidating;
  path.challenge_due = true;
  path.challenges_sent = 0;
  path.next_challenge_at.reset();
  path.validation_deadline = now + validation_timeout(path);
  ++stats_.paths_probed;
  qlog_migration(now, "probing_started", path);
}

Path* Connection::last_validated_path(const Path* except) {
  Path* best = nullptr;
  for (auto& p : paths_) {
    if (p.get() == except || !p->validated()) continue;
    if (!best || p->last_received > best->last_received) best = p.get();
  }
  return best;
}

Path* Connection::on_new_path(const SocketAddress& local, const SocketAddress& peer, const ConnectionId& dcid,
                              Instant now) {
  // A client talks to the addresses it chose; a server follows its peer only once the handshake
  // is confirmed (RFC 9000 9: migrating earlier is not allowed, such packets may be dropped).
  if (side_ == Side::kClient || !handshake_confirmed_) return nullptr;
  // disable_active_migration does not stop us from following a NAT rebinding: the peer did not
  // choose to move (9.5).
  const bool same_cid = std::any_of(paths_.begin(), paths_.end(), [&](const auto& p) {
    return !p->last_local_cid.empty() && p->last_local_cid == dcid;
  });
  ConnectionId cid;
  std::optional<std::uint64_t> seq;
  if (!active_->dcid.empty()) {
    // A fresh CID for every new destination address (9.5); a peer whose NAT rebound kept its CID,
    // so we may keep ours if it gave us no spare one.
    if (auto pc = peer_cids_.take_unused()) {
      cid = pc->cid;
      seq = pc->seq;
    } else if (same_cid) {
      cid = active_->dcid;
      seq = active_->dcid_seq;
    } else {
      return nullptr;  // cannot answer a migration without a new CID (9.5)
    }
  }
  Path& p = add_path(local, peer, now);
  p.dcid = cid;
  p.dcid_seq = seq;
  p.last_local_cid = dcid;
  const auto is_preferred = [&](const std::optional<SocketAddress>& a) { return a && *a == local; };
  p.preferred_address = is_preferred(config_.preferred_address_v4) || is_preferred(config_.preferred_address_v6);
  // RFC 9000 9.4: only a port change keeps the RTT and congestion state.
  if (peer.same_ip(active_->peer) && local.same_ip(active_->local)) p.recovery = active_->recovery->inherit();
  // Validate every new peer address: the first packet we send there carries a PATH_CHALLENGE.
  start_validation(p, now);
  qlog_tuple(now, p, false);
  return &p;
}

void Connection::on_packet_path(Path& path, const ConnectionId& dcid, bool probing_only, bool largest,
                                Instant now) {
  path.last_received = now;
  const bool cid_changed = !path.last_local_cid.empty() && path.last_local_cid != dcid;
  path.last_local_cid = dcid;
  if (cid_changed) qlog_tuple(now, path, false);
  if (&path == active_ || side_ == Side::kClient) return;
  // RFC 9000 9.3: a non-probing packet with the largest packet number so far moves us to its
  // path (this also brings us back from a spoofed address to the real one).
  if (probing_only || !largest) return;
  const Path& from = *active_;
  PathChangeReason reason = PathChangeReason::kMigration;
  if (path.preferred_address && !from.preferred_address) {
    reason = PathChangeReason::kPreferredAddress;
  } else if (dcid == from.last_local_cid) {
    reason = PathChangeReason::kNatRebinding;
  }
  switch_active(path, reason, now);
}

void Connection::switch_active(Path& to, PathChangeReason reason, Instant now) {
  if (&to == active_) return;
  Path& from = *active_;
  active_ = &to;
  ++stats_.migrations;
  if (reason == PathChangeReason::kNatRebinding) ++stats_.nat_rebindings;
  const PathChanged change{to.id, from.local, from.peer, to.local, to.peer, reason};
  push_event(change);
  recent_path_changes_.push_back(change);
  if (recent_path_changes_.size() > 16) recent_path_changes_.pop_front();
  qlog_migration(now, "migration_started", to);
  if (to.validated()) {
    qlog_migration(now, "migration_complete", to);
    if (fallback_ == to.id) fallback_.reset();
    abandon_path(from);
  } else if (from.validated()) {
    // An unvalidated new path keeps the old one as the fallback until validation ends.
    if (fallback_ && *fallback_ != from.id) remove_path(*fallback_, true);
    fallback_ = from.id;
  }
  auto& rec = *to.recovery;
  rec.pacer().update_rate(now, rec.cc().cwnd(), rec.rtt().smoothed_rtt());
  streams_->set_rtt_hint(rec.rtt().smoothed_rtt());
  // The loss detector's anti-amplification block described the path we left; a server that kept
  // it on a validated path would never arm its PTO again, and a lost tail would stall for good.
  loss_->set_amplification_limited(!to.validated() && to.amplification_budget() < 64, now);
  if (side_ == Side::kClient) ping_pending_ = true;  // tell the peer at once, even if we only receive
}

void Connection::abandon_path(Path& path) {
  if (&path == active_) return;
  remove_path(path.id, true);
}

void Connection::on_path_response(const PathChallengeData& data, Instant now) {
  for (auto& up : paths_) {
    Path& p = *up;
    if (std::find(p.challenges.begin(), p.challenges.end(), data) == p.challenges.end()) continue;
    if (p.validated()) return;
    p.validation = PathValidation::kValidated;
    // A validated path has no anti-amplification limit: unblock the PTO (set while it had one).
    if (&p == active_) loss_->set_amplification_limited(false, now);
    p.challenges.clear();
    p.challenge_due = false;
    p.next_challenge_at.reset();
    p.validation_deadline.reset();
    ++stats_.paths_validated;
    // PMTU discovery starts over on every new path (RFC 9000 14.3), from the 1200-byte base.
    start_pmtu_search(p);
    p.recovery->set_max_datagram_size(p.max_datagram());
    push_event(PathValidated{p.id, p.local, p.peer});
    qlog_migration(now, "probing_successful", p);
    if (&p == active_) {
      // A migration that ran ahead of validation is now complete: drop the fallback.
      qlog_migration(now, "migration_complete", p);
      if (fallback_) {
        const PathId old = *fallback_;
        fallback_.reset();
        remove_path(old, true);
      }
    } else if (side_ == Side::kClient && p.preferred_address) {
      switch_active(p, PathChangeReason::kPreferredAddress, now);
    }
    return;
  }
  // A response to nothing we sent (or to a forgotten challenge) is ignored (8.2.3).
}

void Connection::fail_path(Path& path, Instant now) {
  path.validation = PathValidation::kFailed;
  path.challenge_due = false;
  path.next_challenge_at.reset();
  path.validation_deadline.reset();
  ++stats_.paths_failed;
  push_event(PathFailed{path.id, path.local, path.peer});
  if (&path != active_) {
    qlog_migration(now, "probing_abandoned", path);
    remove_path(path.id, true);
    return;
  }
  qlog_migration(now, "migration_abandoned", path);
  // RFC 9000 9.3.2: back to the last validated path, if there is one.
  Path* fb = fallback_ ? find_path(*fallback_) : nullptr;
  if (!fb) fb = last_validated_path(&path);
  fallback_.reset();
  if (fb) {
    switch_active(*fb, PathChangeReason::kFallback, now);
    remove_path(path.id, true);
  } else {
    // Nowhere to go back to: stay, limited by the anti-amplification budget, and try again.
    start_validation(path, now);
  }
}

void Connection::on_path_timers(Instant now) {
  // Collect first: failing a path may remove it.
  std::vector<PathId> expired;
  for (auto& p : paths_) {
    if (p->next_challenge_at && now >= *p->next_challenge_at) {
      p->next_challenge_at.reset();
      if (p->challenges_sent < kMaxChallenges) p->challenge_due = true;
    }
    if (p->validation_deadline && now >= *p->validation_deadline) expired.push_back(p->id);
  }
  for (PathId id : expired) {
    if (Path* p = find_path(id)) fail_path(*p, now);
  }
}

Result<PathId> Connection::probe_path(const SocketAddress& local, Instant now, std::optional<SocketAddress> peer) {
  now_hint_ = now;
  if (side_ != Side::kClient) return Error{TransportError::kInternalError, "only a client starts migration"};
  if (state_ != State::kOpen) return Error{TransportError::kInternalError, "connection is closing"};
  if (!handshake_confirmed_) {
    return Error{TransportError::kInternalError, "migration before the handshake is confirmed (RFC 9000 9)"};
  }
  const SocketAddress to = peer.value_or(active_->peer);
  const bool to_preferred = peer && *peer != active_->peer;
  if (peer_params_ && peer_params_->disable_active_migration && !to_preferred) {
    return Error{TransportError::kInternalError, "the server disabled active migration"};
  }
  if (active_->dcid.empty()) {
    // 9.5: traffic on the new path would be trivially linkable to the old one.
    return Error{TransportError::kInternalError, "the server uses zero-length connection IDs"};
  }
  if (find_path(local, to)) return Error{TransportError::kInternalError, "that path exists already"};
  auto pc = peer_cids_.take_unused();
  if (!pc) return Error{TransportError::kInternalError, "no spare connection ID from the peer"};
  Path& p = add_path(local, to, now);
  p.dcid = pc->cid;
  p.dcid_seq = pc->seq;
  p.amplification_limited = false;  // our own new address; the server's was validated or is its choice
  if (local.same_ip(active_->local) && to.same_ip(active_->peer)) p.recovery = active_->recovery->inherit();
  start_validation(p, now);
  qlog_tuple(now, p, false);
  return p.id;
}

Status Connection::migrate(PathId id, Instant now) {
  now_hint_ = now;
  if (side_ != Side::kClient) return Error{TransportError::kInternalError, "only a client starts migration"};
  if (state_ != State::kOpen) return Error{TransportError::kInternalError, "connection is closing"};
  Path* p = find_path(id);
  if (!p) return Error{TransportError::kInternalError, "no such path"};
  if (p == active_) return {};
  if (peer_params_ && peer_params_->disable_active_migration && !p->preferred_address) {
    return Error{TransportError::kInternalError, "the server disabled active migration"};
  }
  switch_active(*p, p->preferred_address ? PathChangeReason::kPreferredAddress : PathChangeReason::kMigration, now);
  return {};
}

Status Connection::rebind(const SocketAddress& new_local, Instant now) {
  now_hint_ = now;
  if (state_ != State::kOpen) return Error{TransportError::kInternalError, "connection is closing"};
  if (find_path(new_local, active_->peer)) return Error{TransportError::kInternalError, "that path exists already"};
  active_->local = new_local;
  qlog_tuple(now, *active_, false);
  ping_pending_ = true;  // so the peer learns the new address even if we only receive
  return {};
}

void Connection::maybe_follow_preferred_address(Instant now) {
  if (side_ != Side::kClient || !config_.follow_preferred_address || !peer_params_ ||
      !peer_params_->preferred_address) {
    return;
  }
  const auto& pa = *peer_params_->preferred_address;
  std::optional<SocketAddress> to;
  if (active_->peer.is_ipv4() && pa.has_ipv4()) to = SocketAddress::from_ipv4(pa.ipv4, pa.ipv4_port);
  if (active_->peer.is_ipv6() && pa.has_ipv6()) to = SocketAddress::from_ipv6(pa.ipv6, pa.ipv6_port);
  if (!to || *to == active_->peer) return;
  auto id = probe_path(active_->local, now, *to);
  if (!id) return;
  if (Path* p = find_path(*id)) p->preferred_address = true;
}

void Connection::maybe_fail_over(Instant now) {
  // The active path stopped answering: two probe timeouts in a row with another validated path
  // at hand (a client that probed a second interface in advance).
  if (side_ != Side::kClient || !config_.auto_failover || !handshake_confirmed_ || loss_->pto_count() < 2) return;
  // A path we moved to before validating it is judged by its validation timer: failing there
  // reports PathFailed and falls back (RFC 9000 9.3.2), which tells the application more than a
  // failover would.
  if (!active_->validated()) return;
  Path* to = last_validated_path(active_);
  if (!to) return;
  switch_active(*to, PathChangeReason::kFailover, now);
}

Status Connection::give_path_new_cid(Path& path) {
  auto pc = peer_cids_.take_unused();
  if (!pc) return Error{TransportError::kInternalError, "no spare connection ID"};
  path.dcid = pc->cid;
  path.dcid_seq = pc->seq;
  qlog_tuple(now_hint_, path, false);
  return {};
}

}  // namespace roam::conn
