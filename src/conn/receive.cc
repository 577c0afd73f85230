// Receiving: datagrams -> packets -> frames (RFC 9000 12, 13, 19; RFC 9001 5).
#include <algorithm>

#include "conn/connection.h"
#include "crypto/packet_protection.h"
#include "crypto/retry.h"
#include "wire/frame_rules.h"

namespace roam::conn {

Connection::Level Connection::level_of(wire::PacketType t) const {
  switch (t) {
    case wire::PacketType::kInitial: return Level::kInitial;
    case wire::PacketType::kHandshake: return Level::kHandshake;
    default: return Level::kApplication;
  }
}

void Connection::on_datagram(Datagram dg, Instant now) {
  if (state_ == State::kClosed || state_ == State::kDraining) return;
  now_hint_ = now;
  const std::size_t size = dg.data.size();
  stats_.bytes_received += size;
  rx_path_ = find_path(dg.local, dg.peer);
  rx_local_ = dg.local;
  rx_peer_ = dg.peer;
  rx_size_ = size;
  rx_ecn_ = dg.ecn & 3;
  if (rx_path_) {
    rx_path_->bytes_received += size;
  } else if (!handshake_confirmed_) {
    // A server follows a new address only once the handshake is confirmed (RFC 9000 9), and a
    // client talks to the addresses it chose. Unknown datagrams may still be a stateless reset.
    // Once confirmed, a client still takes what arrives on a path it left: the packets in flight
    // there when it migrated are good data (dropping them turns a handover into a loss episode),
    // nobody without the keys can forge them, and a client never moves because of them.
    if (side_ == Side::kClient && is_stateless_reset(dg.data)) {
      ConnectionClosed ev;
      ev.stateless_reset = true;
      ev.by_peer = true;
      ev.reason = "stateless reset";
      push_event(std::move(ev));
      state_ = State::kClosed;
      return;
    }
    ++stats_.packets_dropped;
    return;
  }
  bool any_valid = false;
  std::size_t off = 0;
  while (off < dg.data.size()) {
    MutBytes rest = dg.data.subspan(off);
    auto hdr = wire::parse_packet_header(rest, config_.local_cid_length);
    if (!hdr) {
      ++stats_.packets_dropped;
      break;  // the rest of the datagram cannot be delimited
    }
    const std::size_t psize = std::min(hdr->packet_size, rest.size());
    process_packet(*hdr, rest.first(psize), now, any_valid);
    if (state_ == State::kDraining || state_ == State::kClosed) return;
    off += psize;
  }
  if (!any_valid) {
    if (is_stateless_reset(dg.data)) {
      ConnectionClosed ev;
      ev.stateless_reset = true;
      ev.by_peer = true;
      ev.reason = "stateless reset";
      push_event(std::move(ev));
      state_ = State::kClosed;
    }
    return;
  }
  last_activity_ = now;
  idle_deadline_ = now + std::max(idle_timeout_, 3 * pto());
  if (state_ == State::kClosing) close_pending_send_ = true;  // answer with CONNECTION_CLOSE again
  // A server that was blocked by the amplification limit may send again.
  if (!active_->validated()) loss_->set_amplification_limited(active_->amplification_budget() == 0, now);
}

void Connection::on_retry(const wire::PacketHeader& hdr, Bytes packet, Instant now) {
  // RFC 9000 17.2.5.2: a client accepts at most one Retry, only before it has processed any
  // server packet, only with a valid integrity tag and a SCID other than the DCID it used.
  if (side_ != Side::kClient || retry_received_ || !spaces_[0].acks.empty() || hdr.scid == peer_cid_ ||
      hdr.version != wire::kVersion1) {
    ++stats_.packets_dropped;
    return;
  }
  auto integrity = crypto::RetryIntegrity::create();
  if (!integrity || !integrity->verify_packet(original_dcid_, packet)) {
    ++stats_.packets_dropped;
    return;
  }
  retry_received_ = true;
  retry_scid_ = hdr.scid;
  peer_cid_ = hdr.scid;
  active_->dcid = peer_cid_;
  peer_cids_.set_initial(peer_cid_);
  token_.assign(hdr.token.begin(), hdr.token.end());
  if (auto s = install_initial_keys(hdr.scid); !s) {
    close_with_error(s.error(), now);
    return;
  }
  // Everything sent in Initial packets goes out again under the new keys (RFC 9002 6.3).
  for (const auto& p : loss_->on_retry(now)) {
    on_packet_lost(p, Level::kInitial);
  }
}

bool Connection::is_stateless_reset(Bytes datagram) const {
  // RFC 9000 10.3.1: the last 16 bytes of a datagram that could not be processed.
  if (datagram.size() < 21) return false;
  return peer_cids_.matches_reset_token(datagram.last(16));
}

void Connection::process_packet(const wire::PacketHeader& hdr, MutBytes packet, Instant now, bool& any_valid) {
  const auto pt = hdr.type;
  if (pt == wire::PacketType::kRetry) {
    on_retry(hdr, packet, now);
    return;
  }
  if (pt == wire::PacketType::kVersionNegotiation ||
      (pt == wire::PacketType::kZeroRtt && (side_ == Side::kClient || !zero_rtt_read_))) {
    // roam speaks only v1, so a Version Negotiation can only mean the server does not: the
    // handshake times out (RFC 9000 6.2 lets a client ignore VN). 0-RTT is read only by a server
    // whose TLS accepted early data (and only until the handshake is confirmed).
    ++stats_.packets_dropped;
    return;
  }
  const bool zero_rtt = pt == wire::PacketType::kZeroRtt;
  if (pt != wire::PacketType::kOneRtt && hdr.version != wire::kVersion1) {
    ++stats_.packets_dropped;
    return;
  }
  const Level level = level_of(pt);
  auto& sp = spaces_[static_cast<std::size_t>(level)];
  if (sp.discarded) {
    ++stats_.packets_dropped;
    return;
  }
  // Client: the server's first Initial (or Handshake) sets the DCID we use from then on.
  if (side_ == Side::kClient && pt != wire::PacketType::kOneRtt) {
    if (!received_handshake_packet_ && spaces_[0].acks.empty() && level == Level::kInitial) {
      if (qlog_ && hdr.scid != peer_cid_) {
        qlog_->emit(now, "connection_id_updated",
                    qlog::Event().field("initiator", "remote").field("old", peer_cid_.hex()).field("new", hdr.scid.hex()).take());
      }
      peer_cid_ = hdr.scid;
      active_->dcid = peer_cid_;
      peer_cids_.set_initial(peer_cid_);
    } else if (hdr.scid != peer_cid_ && !handshake_confirmed_) {
      ++stats_.packets_dropped;
      return;
    }
  }

  const auto largest = sp.acks.largest_pn();
  const crypto::PacketKeys* keys = nullptr;
  crypto::KeyEpoch epoch = crypto::KeyEpoch::kCurrent;
  Result<crypto::UnprotectedHeader> uh = Error{TransportError::kInternalError, "no keys"};
  if (zero_rtt) {
    uh = crypto::remove_header_protection(*zero_rtt_read_->header_protector, packet, hdr.pn_offset,
                                          largest.value_or(0), largest.has_value());
    if (!uh) {
      ++stats_.packets_dropped;
      return;
    }
    keys = &*zero_rtt_read_;
  } else if (level == Level::kApplication) {
    if (!app_keys_) {
      ++stats_.packets_dropped;
      return;
    }
    uh = crypto::remove_header_protection(app_keys_->read_header_protector(), packet, hdr.pn_offset,
                                          largest.value_or(0), largest.has_value());
    if (!uh) {
      ++stats_.packets_dropped;
      return;
    }
    auto sel = app_keys_->select_read_keys(uh->key_phase, uh->packet_number);
    keys = sel.keys;
    epoch = sel.epoch;
  } else {
    if (!sp.read.valid()) {
      ++stats_.packets_dropped;
      return;
    }
    uh = crypto::remove_header_protection(*sp.read.header_protector, packet, hdr.pn_offset, largest.value_or(0),
                                          largest.has_value());
    if (!uh) {
      ++stats_.packets_dropped;
      return;
    }
    keys = &sp.read;
  }
  auto payload = crypto::decrypt_payload(*keys, packet, uh->header_len, uh->packet_number);
  if (!payload) {
    ++stats_.packets_dropped;
    return;
  }
  any_valid = true;
  ++stats_.packets_received;
  qlog_packet(now, false, level, uh->packet_number, packet.size(), *payload, rx_path_ ? rx_path_->id : active_->id);
  if (uh->reserved_bits_set()) {
    close_with_error(Error{TransportError::kProtocolViolation, "reserved header bits set"}, now);
    return;
  }
  if (zero_rtt) ++stats_.zero_rtt_packets_received;
  if (level == Level::kApplication && !zero_rtt) {
    const std::uint64_t generation = app_keys_->read_generation();
    if (auto s = app_keys_->on_packet_decrypted(epoch, uh->packet_number); !s) {
      close_with_error(s.error(), now);
      return;
    }
    // The read keys rolled (a key update): keep the old ones for 3 PTO (RFC 9001 6.5).
    if (app_keys_->read_generation() != generation) prev_read_keys_discard_at_ = now + 3 * pto();
  }
  if (sp.acks.contains(uh->packet_number)) {
    ++stats_.packets_dropped;  // duplicate (a replay from another address moves nothing)
    return;
  }
  if (!rx_path_) {
    // Only 1-RTT packets get here from an unknown address (see on_datagram).
    if (level != Level::kApplication) {
      ++stats_.packets_dropped;
      return;
    }
    rx_path_ = on_new_path(rx_local_, rx_peer_, hdr.dcid, now);
    if (rx_path_) rx_path_->bytes_received += rx_size_;
  }
  const bool largest_so_far = !largest || uh->packet_number > *largest;
  switch (rx_ecn_) {
    case kEcnEct0: ++sp.ecn_received.ect0; break;
    case kEcnEct1: ++sp.ecn_received.ect1; break;
    case kEcnCe: ++sp.ecn_received.ce; break;
    default: break;
  }
  // Server: a Handshake packet proves the client's address and ends the Initial space (RFC 9001 4.9.1).
  if (side_ == Side::kServer && level == Level::kHandshake && !received_handshake_packet_) {
    received_handshake_packet_ = true;
    active_->validation = PathValidation::kValidated;
    loss_->set_amplification_limited(false, now);
    discard_space(Level::kInitial);
  }
  if (side_ == Side::kClient && level == Level::kHandshake) received_handshake_packet_ = true;

  bool ack_eliciting = false;
  bool probing_only = true;
  packet_dcid_ = hdr.dcid;
  if (auto s = process_frames(level, pt, *payload, ack_eliciting, probing_only, now); !s) {
    close_with_error(s.error(), now);
    return;
  }
  if (state_ == State::kDraining || state_ == State::kClosed) return;
  if (!sp.discarded) sp.acks.on_packet_received(uh->packet_number, ack_eliciting, now);
  if (rx_path_ && level == Level::kApplication) on_packet_path(*rx_path_, hdr.dcid, probing_only, largest_so_far, now);
  if (auto s = drive_tls(); !s) close_with_error(s.error(), now);
}

Status Connection::process_frames(Level level, wire::PacketType pt, Bytes payload, bool& ack_eliciting,
                                  bool& probing_only, Instant now) {
  return wire::for_each_frame(payload, pt, [&](wire::Frame& frame) -> Status {
    const auto type = wire::frame_type_of(frame);
    if (wire::is_ack_eliciting(type)) ack_eliciting = true;
    if (!wire::is_probing_frame(type)) probing_only = false;
    return std::visit(
        [&](auto& f) -> Status {
          using T = std::decay_t<decltype(f)>;
          if constexpr (std::is_same_v<T, wire::PaddingFrame> || std::is_same_v<T, wire::PingFrame>) {
            return {};
          } else if constexpr (std::is_same_v<T, wire::AckFrame>) {
            return on_ack_frame(level, f, now);
          } else if constexpr (std::is_same_v<T, wire::CryptoFrame>) {
            return on_crypto_frame(level, f);
          } else if constexpr (std::is_same_v<T, wire::StreamFrame>) {
            return streams_->on_stream_frame(f.stream_id, f.offset, f.data, f.fin);
          } else if constexpr (std::is_same_v<T, wire::ResetStreamFrame>) {
            auto s = streams_->on_reset_stream(f.stream_id, f.app_error, f.final_size);
            if (s) push_event(StreamReset{f.stream_id, f.app_error});
            return s;
          } else if constexpr (std::is_same_v<T, wire::StopSendingFrame>) {
            return streams_->on_stop_sending(f.stream_id, f.app_error);
          } else if constexpr (std::is_same_v<T, wire::MaxDataFrame>) {
            streams_->on_max_data(f.max);
            return {};
          } else if constexpr (std::is_same_v<T, wire::MaxStreamDataFrame>) {
            return streams_->on_max_stream_data(f.stream_id, f.max);
          } else if constexpr (std::is_same_v<T, wire::MaxStreamsFrame>) {
            return streams_->on_max_streams(f.bidi ? streams::Direction::kBidi : streams::Direction::kUni, f.max);
          } else if constexpr (std::is_same_v<T, wire::DataBlockedFrame>) {
            streams_->on_data_blocked(f.limit);
            return {};
          } else if constexpr (std::is_same_v<T, wire::StreamDataBlockedFrame>) {
            return streams_->on_stream_data_blocked(f.stream_id, f.limit);
          } else if constexpr (std::is_same_v<T, wire::StreamsBlockedFrame>) {
            return streams_->on_streams_blocked(f.bidi ? streams::Direction::kBidi : streams::Direction::kUni,
                                                f.limit);
          } else if constexpr (std::is_same_v<T, wire::NewTokenFrame>) {
            if (side_ == Side::kServer) {
              return Error{TransportError::kProtocolViolation, "NEW_TOKEN from a client", type};
            }
            new_token_.assign(f.token.begin(), f.token.end());
            push_event(NewTokenReceived{std::basic_string<std::uint8_t>(f.token.begin(), f.token.end())});
            return {};
          } else if constexpr (std::is_same_v<T, wire::NewConnectionIdFrame>) {
            return on_new_connection_id(f);
          } else if constexpr (std::is_same_v<T, wire::RetireConnectionIdFrame>) {
            return on_retire_connection_id(f);
          } else if constexpr (std::is_same_v<T, wire::PathChallengeFrame>) {
            // Answered on the path it arrived on (8.2.2); a datagram from an address we cannot
            // answer (no CID for it) gets no response.
            if (rx_path_ && rx_path_->responses.size() < 4) rx_path_->responses.push_back(f.data);
            return {};
          } else if constexpr (std::is_same_v<T, wire::PathResponseFrame>) {
            on_path_response(f.data, now);
            return {};
          } else if constexpr (std::is_same_v<T, wire::ConnectionCloseFrame>) {
            on_connection_close(f, now);
            return {};
          } else if constexpr (std::is_same_v<T, wire::HandshakeDoneFrame>) {
            if (side_ == Side::kServer) {
              return Error{TransportError::kProtocolViolation, "HANDSHAKE_DONE from a client", type};
            }
            confirm_handshake(now);
            return {};
          } else if constexpr (std::is_same_v<T, wire::DatagramFrame>) {
            if (config_.max_datagram_frame_size == 0 || f.data.size() > config_.max_datagram_frame_size) {
              return Error{TransportError::kProtocolViolation, "unexpected DATAGRAM frame", type};
            }
            push_event(DatagramReceived{std::basic_string<std::uint8_t>(f.data.begin(), f.data.end())});
            return {};
          } else {
            return {};
          }
        },
        frame);
  });
}

Status Connection::on_crypto_frame(Level level, const wire::CryptoFrame& f) {
  auto& sp = spaces_[static_cast<std::size_t>(level)];
  if (auto s = sp.crypto.on_crypto_frame(f.offset, f.data); !s) return s;
  const tls::Level tl = level == Level::kInitial     ? tls::Level::kInitial
                        : level == Level::kHandshake ? tls::Level::kHandshake
                                                     : tls::Level::kApplication;
  while (sp.crypto.readable() > 0) {
    Bytes chunk = sp.crypto.peek();
    if (auto s = tls_->provide_data(tl, chunk); !s) return s;
    sp.crypto.consume(chunk.size());
  }
  return {};
}

Status Connection::on_new_connection_id(const wire::NewConnectionIdFrame& f) {
  if (peer_cid_.empty()) {
    return Error{TransportError::kProtocolViolation, "NEW_CONNECTION_ID with zero-length CIDs",
                 wire::frame_type::kNewConnectionId};
  }
  auto retired = peer_cids_.on_new_connection_id(f.seq, f.retire_prior_to, f.cid, f.reset_token);
  if (!retired) return retired.error();
  // Paths whose CID the peer asked us to retire move to fresh ones (5.1.2); a path left without
  // any is dropped, unless it is the active one (the peer must give us a replacement first).
  for (std::uint64_t seq : *retired) {
    std::vector<PathId> orphans;
    for (auto& p : paths_) {
      if (p->dcid_seq != seq) continue;
      if (!give_path_new_cid(*p)) orphans.push_back(p->id);
    }
    for (PathId id : orphans) {
      if (Path* p = find_path(id); p && p != active_) remove_path(id, false);
    }
  }
  return {};
}

Status Connection::on_retire_connection_id(const wire::RetireConnectionIdFrame& f) {
  auto r = local_cids_->retire(f.seq, packet_dcid_);
  if (!r) return r.error();
  if (r->has_value()) {
    cids_retired_.push_back(**r);
    issue_connection_ids();
  }
  return {};
}

void Connection::on_connection_close(const wire::ConnectionCloseFrame& f, Instant now) {
  if (state_ == State::kOpen) {
    ConnectionClosed ev;
    ev.by_peer = true;
    ev.application = f.application;
    ev.error_code = f.error_code;
    ev.reason.assign(f.reason.begin(), f.reason.end());
    push_event(std::move(ev));
  }
  enter_draining(now);
}

Status Connection::on_ack_frame(Level level, const wire::AckFrame& ack, Instant now) {
  // ack_delay is in units of 2^exponent microseconds; Initial and Handshake ACKs carry none that
  // counts (RFC 9000 19.3).
  Duration delay{};
  if (level == Level::kApplication) {
    const std::uint64_t us = ack.ack_delay << std::min<std::uint64_t>(peer_ack_delay_exponent_, 20);
    delay = std::chrono::microseconds(std::min<std::uint64_t>(us, 1u << 30));
  }
  std::vector<recovery::AckRange> ranges;
  ranges.reserve(ack.ranges.size());
  for (const auto& r : ack.ranges) ranges.push_back(recovery::AckRange{r.smallest, r.largest});
  // ECN-CE is acted on here, after validating the counts (RFC 9000 13.4.2), not by the detector.
  const auto largest_before = loss_->largest_acked(space_of(level));
  auto out = loss_->on_ack_received(space_of(level), ranges, delay, std::nullopt, now);
  if (!out) return out.error();
  if (!out->acked.empty() && (!largest_before || ack.largest > *largest_before)) {
    std::uint64_t marked = 0;
    for (const auto& p : out->acked) marked += p.ecn == kEcnEct0 ? 1 : 0;
    auto& sp = spaces_[static_cast<std::size_t>(level)];
    const auto& newest = out->acked.front();
    Path* path = find_path(newest.path);
    if (path && path->ecn.on_ack(marked, ack.ecn, sp.ecn_reported, sp.ect0_sent)) {
      path->recovery->cc().on_ecn_ce(newest.time_sent, now);
    }
  }
  handle_recovery_result(*out, level, now);
  if (level == Level::kApplication && app_keys_) app_keys_->on_ack_received(ack.largest);
  return {};
}

void Connection::handle_recovery_result(const recovery::AckOutcome& out, Level level, Instant now) {
  // The loss detector already updated RTT, congestion controllers and in-flight bytes of the
  // paths concerned; what is left is the frames those packets carried.
  for (const auto& p : out.acked) on_packet_acked(p, level);
  for (const auto& p : out.lost) {
    qlog_lost(now, p);
    on_packet_lost(p, level);
    if (p.ecn == kEcnEct0) {
      if (Path* path = find_path(p.path)) path->ecn.on_marked_lost(1);
    }
  }
  stats_.packets_lost += out.lost.size();
  auto& rec = *active_->recovery;
  rec.pacer().update_rate(now, rec.cc().cwnd(), rec.rtt().smoothed_rtt());
  streams_->set_rtt_hint(rec.rtt().smoothed_rtt());
  if (out.rtt_sample || !out.lost.empty()) qlog_metrics(now);
}

void Connection::on_packet_acked(const recovery::SentPacket& p, Level level) {
  auto* frames = sent_.find(p.token);
  if (!frames) return;
  for (const auto& f : *frames) {
    switch (f.kind) {
      case SentFrame::Kind::kCrypto:
        spaces_[f.level].crypto.on_acked(f.a, f.b);
        break;
      case SentFrame::Kind::kStream:
        streams_->on_stream_data_acked(StreamId{f.id}, f.a, f.b, f.flag);
        break;
      case SentFrame::Kind::kAck:
        spaces_[static_cast<std::size_t>(level)].acks.on_ack_frame_acked(f.a);
        break;
      case SentFrame::Kind::kHandshakeDone:
        handshake_done_pending_ = false;
        break;
      case SentFrame::Kind::kControl:
        streams_->on_control_frame_acked(f.control);
        break;
      case SentFrame::Kind::kMtuProbe:
        if (Path* path = find_path(PathId{static_cast<std::uint32_t>(f.id)})) {
          if (path->pmtu.on_probe_acked(f.a)) {
            path->recovery->set_max_datagram_size(path->pmtu.current());
            qlog_mtu(now_hint_, *path);
          }
        }
        break;
      default:
        break;
    }
  }
  sent_.settle(p.token);
}

void Connection::on_packet_lost(const recovery::SentPacket& p, Level level) {
  (void)level;
  auto* frames = sent_.find(p.token);
  if (!frames) return;
  for (const auto& f : *frames) {
    switch (f.kind) {
      case SentFrame::Kind::kCrypto:
        if (!spaces_[f.level].discarded) spaces_[f.level].crypto.on_lost(f.a, f.b);
        break;
      case SentFrame::Kind::kStream:
        streams_->on_stream_data_lost(StreamId{f.id}, f.a, f.b, f.flag);
        break;
      case SentFrame::Kind::kHandshakeDone:
        if (!handshake_done_pending_) handshake_done_pending_ = true;
        break;
      case SentFrame::Kind::kControl:
        streams_->on_control_frame_lost(f.control);
        break;
      case SentFrame::Kind::kNewConnectionId:
        if (local_cids_->is_active(f.a)) ncid_pending_.push_back(f.a);
        break;
      case SentFrame::Kind::kRetireConnectionId:
        peer_cids_.requeue_retire(f.a);
        break;
      case SentFrame::Kind::kNewToken:
        new_token_pending_ = true;  // a fresh one goes out
        break;
      case SentFrame::Kind::kMtuProbe:
        if (Path* path = find_path(PathId{static_cast<std::uint32_t>(f.id)})) path->pmtu.on_probe_lost(f.a, now_hint_);
        break;
      default:
        break;  // ACK, PING and PATH_RESPONSE are never retransmitted as such
    }
  }
  sent_.settle(p.token);
}

}  // namespace roam::conn
