#include "recovery/loss_detector.h"

#include <algorithm>
#include <limits>

namespace roam::recovery {
namespace {

constexpr unsigned kMaxBackoffExponent = 30;
constexpr std::array<Space, kSpaceCount> kSpaces = {Space::kInitial, Space::kHandshake, Space::kApplication};

Duration backoff(Duration d, unsigned pto_count) {
  const unsigned shift = std::min(pto_count, kMaxBackoffExponent);
  if (d <= Duration::zero()) return d;
  if (d.count() > (std::numeric_limits<Duration::rep>::max() >> shift)) return Duration::max();
  return Duration(d.count() << shift);
}

Instant add_saturating(Instant t, Duration d) {
  const auto since = t.time_since_epoch().count();
  const auto room = std::numeric_limits<Duration::rep>::max() - std::max<Duration::rep>(since, 0);
  if (d.count() > room) return Instant::max();
  return t + d;
}

}  // namespace

LossDetector::LossDetector(Role role, PathRecoveryLookup& paths, const RecoveryConfig& config)
    : role_(role), paths_(paths), config_(config), fallback_rtt_(config.initial_rtt) {
  config_.packet_threshold = std::max<std::uint64_t>(config_.packet_threshold, 1);
  config_.persistent_congestion_threshold = std::max(config_.persistent_congestion_threshold, 1u);
  config_.pto_probe_packets = std::clamp<std::uint8_t>(config_.pto_probe_packets, 1, 2);
}

const RttEstimator& LossDetector::rtt_of(PathId path) {
  PathRecovery* p = paths_.find(path);
  return p ? p->rtt() : fallback_rtt_;
}

bool LossDetector::peer_completed_address_validation() const {
  // Servers treat the client as having validated them implicitly (RFC 9002 A.8).
  return role_ == Role::kServer || received_handshake_ack_ || handshake_confirmed_;
}

Status LossDetector::on_packet_sent(Space space, const SentPacket& packet) {
  SpaceState& s = state(space);
  if (s.discarded) return Error{TransportError::kInternalError, "packet sent in a discarded packet number space"};
  if (Status st = s.log.push(packet); !st) return st;
  last_path_ = packet.path;
  if (!packet.in_flight) return {};
  if (packet.ack_eliciting) {
    s.last_ack_eliciting_time = packet.time_sent;
    s.last_ack_eliciting_path = packet.path;
    ++s.ack_eliciting_in_flight;
  }
  if (PathRecovery* p = paths_.find(packet.path)) p->on_packet_sent(packet.time_sent, packet.bytes);
  set_timer(packet.time_sent);
  return {};
}

Result<AckOutcome> LossDetector::on_ack_received(Space space, std::span<const AckRange> ranges, Duration ack_delay,
                                                 std::optional<std::uint64_t> ecn_ce_count, Instant now) {
  const std::uint64_t frame_type = ecn_ce_count ? 0x03 : 0x02;
  if (ranges.empty()) return Error{TransportError::kFrameEncodingError, "ACK frame without ranges", frame_type};
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    if (ranges[i].smallest > ranges[i].largest || (i > 0 && ranges[i].largest >= ranges[i - 1].smallest)) {
      return Error{TransportError::kFrameEncodingError, "ACK ranges out of order", frame_type};
    }
  }
  SpaceState& s = state(space);
  if (s.discarded) return AckOutcome{};
  // Validate everything before changing anything (RFC 9000 13.1).
  for (const AckRange& r : ranges) {
    if (s.log.contains_unsent(r.smallest, r.largest)) {
      return Error{TransportError::kProtocolViolation, "ACK of a packet that was never sent", frame_type};
    }
  }
  if (space == Space::kHandshake) received_handshake_ack_ = true;
  const std::uint64_t largest = ranges.front().largest;
  s.largest_acked = std::max(s.largest_acked.value_or(0), largest);

  // Newly acknowledged packets. Work is bounded by the log entries inside the ranges, never by
  // the width of a range; ranges older than the log are skipped whole.
  acked_.clear();
  lost_.clear();
  bool ack_eliciting_acked = false;
  for (const AckRange& r : ranges) {
    if (s.log.empty() || r.largest < s.log[0].packet.pn) break;
    const std::size_t lo = s.log.lower_bound(r.smallest);
    for (std::size_t i = s.log.lower_bound(r.largest + 1); i-- > lo;) {
      SentPacketLog::Entry& e = s.log[i];
      if (e.state != SentPacketLog::State::kOutstanding) continue;
      e.state = SentPacketLog::State::kAcked;
      acked_.push_back(e.packet);
      if (e.packet.ack_eliciting) {
        ack_eliciting_acked = true;
        if (e.packet.in_flight) --s.ack_eliciting_in_flight;
      }
    }
  }
  AckOutcome out;
  if (acked_.empty()) return out;

  // An RTT sample when the largest acknowledged is newly acknowledged and something
  // ack-eliciting was (RFC 9002 5.1). Initial acknowledgments are not delayed by the peer.
  const SentPacket& newest = acked_.front();
  PathRecovery* newest_path = paths_.find(newest.path);
  if (newest.pn == largest && ack_eliciting_acked && newest_path) {
    const Duration delay = space == Space::kInitial ? Duration::zero() : std::max(ack_delay, Duration::zero());
    const Duration latest_rtt = std::max(now - newest.time_sent, Duration::zero());
    newest_path->rtt().on_sample(now, latest_rtt, delay, handshake_confirmed_, max_ack_delay_);
    out.rtt_sample = RttSample{newest.path, latest_rtt, delay, newest.time_sent};
  }
  if (ecn_ce_count && *ecn_ce_count > s.ecn_ce) {
    s.ecn_ce = *ecn_ce_count;
    if (newest_path) newest_path->cc().on_ecn_ce(newest.time_sent, now);
    out.ecn_ce_increased = true;
  }

  detect_lost(space, now);
  if (!lost_.empty()) out.persistent_congestion = process_lost(space, now);
  for_each_path_run(acked_, [&](PathId id, std::span<const SentPacket> run) {
    if (PathRecovery* p = paths_.find(id)) p->cc().on_packets_acked(run, now, p->rtt());
  });
  s.log.pop_settled();

  // A client not yet sure the server validated its address keeps its backoff (RFC 9002 6.2.1).
  if (peer_completed_address_validation()) pto_count_ = 0;
  set_timer(now);
  out.acked = acked_;
  out.lost = lost_;
  return out;
}

void LossDetector::detect_lost(Space space, Instant now) {
  SpaceState& s = state(space);
  s.loss_time.reset();
  if (!s.largest_acked) return;
  const std::uint64_t largest = *s.largest_acked;
  const RttEstimator* rtt = nullptr;
  PathId rtt_path{};
  for (std::size_t i = 0; i < s.log.size(); ++i) {
    SentPacketLog::Entry& e = s.log[i];
    if (e.packet.pn > largest) break;
    if (e.state != SentPacketLog::State::kOutstanding) continue;
    if (!rtt || e.packet.path != rtt_path) {
      rtt = &rtt_of(e.packet.path);
      rtt_path = e.packet.path;
    }
    // Time threshold uses the RTT of the path the packet went on.
    const Instant lost_at = add_saturating(e.packet.time_sent, rtt->loss_delay());
    if (lost_at <= now || largest >= e.packet.pn + config_.packet_threshold) {
      e.state = SentPacketLog::State::kLost;
      lost_.push_back(e.packet);
      if (e.packet.ack_eliciting && e.packet.in_flight) --s.ack_eliciting_in_flight;
    } else if (!s.loss_time || lost_at < *s.loss_time) {
      s.loss_time = lost_at;
    }
  }
}

bool LossDetector::process_lost(Space space, Instant now) {
  for_each_path_run(lost_, [&](PathId id, std::span<const SentPacket> run) {
    if (PathRecovery* p = paths_.find(id)) p->cc().on_packets_lost(run, now);
  });
  return detect_persistent_congestion(space, now);
}

// RFC 9002 7.6.2: two ack-eliciting packets of a path declared lost, sent after the path's first
// RTT sample, more than the persistent congestion duration apart, with no packet of that path
// acknowledged in between. Only this space's packets are compared (allowed by 7.6.2). The scan
// covers the log between the oldest and newest packet just declared lost: every packet there is
// now either lost or acknowledged, because packet numbers follow send order.
bool LossDetector::detect_persistent_congestion(Space space, Instant now) {
  runs_.clear();
  const SentPacketLog& log = state(space).log;
  const std::uint64_t last_pn = lost_.back().pn;
  for (std::size_t i = log.lower_bound(lost_.front().pn); i < log.size() && log[i].packet.pn <= last_pn; ++i) {
    const SentPacketLog::Entry& e = log[i];
    auto it = std::find_if(runs_.begin(), runs_.end(), [&](const CongestionRun& r) { return r.path == e.packet.path; });
    if (e.state == SentPacketLog::State::kAcked) {
      if (it != runs_.end()) it->start.reset();
      continue;
    }
    if (e.state != SentPacketLog::State::kLost || !e.packet.ack_eliciting) continue;
    if (it == runs_.end()) {
      CongestionRun run;
      run.path = e.packet.path;
      PathRecovery* p = paths_.find(e.packet.path);
      if (p && p->rtt().first_sample_time()) {
        run.recovery = p;
        run.duration = p->rtt().persistent_congestion_duration(max_ack_delay_, config_.persistent_congestion_threshold);
        run.first_sample = *p->rtt().first_sample_time();
      }
      runs_.push_back(run);
      it = runs_.end() - 1;
    }
    if (!it->recovery || e.packet.time_sent <= it->first_sample) continue;
    if (!it->start) {
      it->start = e.packet.time_sent;
    } else if (e.packet.time_sent - *it->start > it->duration) {
      it->established = true;
    }
  }
  bool any = false;
  for (const CongestionRun& run : runs_) {
    if (!run.established) continue;
    run.recovery->cc().on_persistent_congestion(now);
    run.recovery->rtt().on_persistent_congestion();
    any = true;
  }
  return any;
}

bool LossDetector::ack_eliciting_in_flight_for_pto() const {
  // The Application space only counts once it may carry a PTO (handshake confirmed). A client
  // whose only ack-eliciting packets are 0-RTT therefore still arms the anti-deadlock timer, as
  // RFC 9002 6.2.2.1 requires of a client not yet sure its address was validated.
  return state(Space::kInitial).ack_eliciting_in_flight > 0 || state(Space::kHandshake).ack_eliciting_in_flight > 0 ||
         (handshake_confirmed_ && state(Space::kApplication).ack_eliciting_in_flight > 0);
}

std::optional<LossDetector::PtoTarget> LossDetector::pto_time_and_space(Instant now) {
  if (!ack_eliciting_in_flight_for_pto()) {
    // Anti-deadlock PTO, counted from now.
    const Duration d = backoff(rtt_of(last_path_).pto_duration(Duration::zero()), pto_count_);
    return PtoTarget{add_saturating(now, d), has_handshake_keys_ ? Space::kHandshake : Space::kInitial};
  }
  std::optional<PtoTarget> best;
  for (Space space : kSpaces) {
    const SpaceState& s = state(space);
    if (s.ack_eliciting_in_flight == 0 || !s.last_ack_eliciting_time) continue;
    if (space == Space::kApplication && !handshake_confirmed_) break;
    const Duration max_ack_delay = space == Space::kApplication ? max_ack_delay_ : Duration::zero();
    const Duration d = backoff(rtt_of(s.last_ack_eliciting_path).pto_duration(max_ack_delay), pto_count_);
    const Instant t = add_saturating(*s.last_ack_eliciting_time, d);
    if (!best || t < best->time) best = PtoTarget{t, space};
  }
  return best;
}

void LossDetector::set_timer(Instant now) {
  std::optional<Instant> earliest_loss;
  for (const SpaceState& s : spaces_) {
    if (s.loss_time && (!earliest_loss || *s.loss_time < *earliest_loss)) earliest_loss = s.loss_time;
  }
  if (earliest_loss) {
    timer_ = earliest_loss;
    return;
  }
  // A server blocked by the amplification limit could not send a probe anyway.
  if (role_ == Role::kServer && amplification_limited_) {
    timer_.reset();
    return;
  }
  if (!ack_eliciting_in_flight_for_pto() && peer_completed_address_validation()) {
    timer_.reset();
    return;
  }
  const std::optional<PtoTarget> pto = pto_time_and_space(now);
  timer_ = pto ? std::optional<Instant>(pto->time) : std::nullopt;
}

TimeoutOutcome LossDetector::on_timeout(Instant now) {
  TimeoutOutcome out;
  if (!timer_ || now < *timer_) return out;
  lost_.clear();

  std::optional<Space> loss_space;
  for (Space space : kSpaces) {
    const auto& t = state(space).loss_time;
    if (t && (!loss_space || *t < *state(*loss_space).loss_time)) loss_space = space;
  }
  if (loss_space) {
    detect_lost(*loss_space, now);
    if (!lost_.empty()) out.persistent_congestion = process_lost(*loss_space, now);
    state(*loss_space).log.pop_settled();
    set_timer(now);
    out.lost = lost_;
    return out;
  }

  if (!ack_eliciting_in_flight_for_pto()) {
    if (peer_completed_address_validation()) {
      set_timer(now);
      return out;
    }
    out.probe = ProbeRequest{has_handshake_keys_ ? Space::kHandshake : Space::kInitial, 1, true};
  } else {
    const std::optional<PtoTarget> pto = pto_time_and_space(now);
    out.probe = ProbeRequest{pto ? pto->space : Space::kInitial, config_.pto_probe_packets, false};
  }
  ++pto_count_;
  set_timer(now);
  return out;
}

void LossDetector::drop_space_packets(Space space) {
  SpaceState& s = state(space);
  for (std::size_t i = 0; i < s.log.size(); ++i) {
    const SentPacketLog::Entry& e = s.log[i];
    if (e.state != SentPacketLog::State::kOutstanding) continue;
    removed_.push_back(e.packet);
    if (!e.packet.in_flight) continue;
    if (PathRecovery* p = paths_.find(e.packet.path)) p->cc().on_packet_discarded(e.packet.bytes);
  }
  s.log.clear();
  s.ack_eliciting_in_flight = 0;
  s.last_ack_eliciting_time.reset();
  s.loss_time.reset();
}

std::span<const SentPacket> LossDetector::discard_space(Space space, Instant now) {
  removed_.clear();
  drop_space_packets(space);
  // 0-RTT rejection empties the Application space but 1-RTT packets follow in it.
  if (space != Space::kApplication) state(space).discarded = true;
  pto_count_ = 0;
  set_timer(now);
  return removed_;
}

std::span<const SentPacket> LossDetector::on_retry(Instant now) {
  removed_.clear();
  drop_space_packets(Space::kInitial);
  drop_space_packets(Space::kApplication);
  pto_count_ = 0;
  set_timer(now);
  return removed_;
}

void LossDetector::on_handshake_confirmed(Instant now) {
  handshake_confirmed_ = true;
  set_timer(now);
}

void LossDetector::set_amplification_limited(bool limited, Instant now) {
  amplification_limited_ = limited;
  set_timer(now);
}

}  // namespace roam::recovery
