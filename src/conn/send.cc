// Sending: choosing what goes into each packet, coalescing, padding, protection (RFC 9000 12.2,
// 13, 14.1; RFC 9002 congestion and pacing; RFC 9000 8.1 anti-amplification).
#include <algorithm>

#include "conn/connection.h"
#include "crypto/packet_protection.h"
#include "wire/frames.h"
#include "wire/packet_number.h"

namespace roam::conn {

namespace {
constexpr std::size_t kTagLen = 16;
constexpr std::size_t kMinInitialDatagram = 1200;
constexpr std::size_t kCloseReasonMax = 64;
}  // namespace

bool Connection::ack_due(Level level, Instant now) const {
  const auto& sp = spaces_[static_cast<std::size_t>(level)];
  if (sp.discarded || !sp.acks.has_unacked_eliciting()) return false;
  const Duration delay =
      level == Level::kApplication ? std::chrono::milliseconds(config_.max_ack_delay_ms) : Duration::zero();
  auto d = sp.acks.ack_deadline(delay);
  return d && now >= *d;
}

bool Connection::has_data_to_send(Level level, Instant now) const {
  const auto& sp = spaces_[static_cast<std::size_t>(level)];
  if (sp.discarded) return false;
  if (level == Level::kApplication) {
    if (!app_keys_ && !sending_0rtt()) return false;
  } else if (!sp.write.valid()) {
    return false;
  }
  if (ack_due(level, now) || sp.pto_probes > 0 || sp.crypto.has_pending()) return true;
  if (level != Level::kApplication) return false;
  if (sending_0rtt()) {
    // 0-RTT (RFC 9001 4.6): stream data and its control frames only, within the window.
    return active_->recovery->cc().can_send(active_->max_datagram()) &&
           (streams_->has_stream_data() || streams_->has_control_frames());
  }
  if (!handshake_complete_ && side_ == Side::kClient) return false;
  const bool cwnd_ok = active_->recovery->cc().can_send(active_->max_datagram());
  if (ping_pending_) return true;
  if (!cwnd_ok) return false;
  return handshake_done_pending_ || !ncid_pending_.empty() || peer_cids_.has_retire_pending() ||
         streams_->has_control_frames() ||
         streams_->has_stream_data() || !datagrams_out_.empty();
}

std::optional<Transmit> Connection::poll_transmit(Instant now, MutBytes buf, std::size_t max_datagrams) {
  if (state_ == State::kClosed || state_ == State::kDraining) return std::nullopt;
  now_hint_ = now;
  Transmit t;
  t.local = active_->local;
  t.peer = active_->peer;
  if (state_ == State::kClosing) {
    if (!close_pending_send_) return std::nullopt;
    close_pending_send_ = false;
    const std::size_t n = build_close_datagram(buf, std::min(buf.size(), active_->max_datagram()));
    if (n == 0) return std::nullopt;
    t.size = t.segment_size = n;
    return t;
  }
  // Path validation first: PATH_CHALLENGE and PATH_RESPONSE datagrams, one per call, on the path
  // they belong to (RFC 9000 8.2); they are neither paced nor held by the congestion window.
  if (Path* p = path_needing_probe(now)) {
    const std::size_t n = build_probe_datagram(*p, now, buf);
    if (n > 0) {
      t.local = p->local;
      t.peer = p->peer;
      t.ecn = tx_ecn_;
      t.size = t.segment_size = n;
      return t;
    }
  }
  tx_ecn_ = active_->ecn.codepoint();
  t.ecn = tx_ecn_;
  // A PMTU probe when one is due and the window has room for it (RFC 9000 14.3).
  if (handshake_confirmed_ && active_->validated()) {
    if (auto size = active_->pmtu.probe_due(now);
        size && *size <= buf.size() && active_->recovery->cc().can_send(*size)) {
      if (const std::size_t n = build_mtu_probe(*active_, *size, now, buf); n > 0) {
        t.size = t.segment_size = n;
        return t;
      }
    }
  }
  // Pacing: ack-only datagrams are not paced, but everything we build here may carry data.
  pacing_wakeup_.reset();
  if (auto when = active_->recovery->next_send_time(now, active_->max_datagram()); when && *when > now) {
    // Still send ACKs and probes that are due; data waits for the pacer, which needs a timer:
    // nothing else may wake the caller before the next ACK arrives.
    bool urgent = false;
    bool pending = false;
    for (std::size_t i = 0; i < kLevels; ++i) {
      const auto lvl = static_cast<Level>(i);
      urgent = urgent || ack_due(lvl, now) || spaces_[i].pto_probes > 0;
      pending = pending || has_data_to_send(lvl, now);
    }
    if (pending) pacing_wakeup_ = *when;
    if (!urgent) return std::nullopt;
    max_datagrams = 1;
  }
  std::size_t off = 0;
  std::size_t count = 0;
  while (count < max_datagrams) {
    std::size_t limit = std::min(active_->max_datagram(), buf.size() - off);
    limit = std::min(limit, active_->amplification_budget());
    if (t.segment_size) limit = std::min(limit, t.segment_size);
    if (limit < 64) break;
    bool eliciting = false;
    const std::size_t n = build_datagram(now, buf.subspan(off, limit), limit, eliciting);
    if (n == 0) break;
    active_->bytes_sent += n;
    stats_.bytes_sent += n;
    if (count == 0) t.segment_size = n;
    off += n;
    ++count;
    if (n < t.segment_size) break;  // a short datagram ends a GSO batch
  }
  if (!active_->validated()) loss_->set_amplification_limited(active_->amplification_budget() < 64, now);
  if (count == 0) return std::nullopt;
  t.size = off;
  if (count == 1) t.segment_size = off;
  return t;
}

std::size_t Connection::build_datagram(Instant now, MutBytes out, std::size_t limit, bool& ack_eliciting_sent) {
  std::array<Level, kLevels> todo{};
  std::size_t n_todo = 0;
  for (std::size_t i = 0; i < kLevels; ++i) {
    const auto lvl = static_cast<Level>(i);
    if (has_data_to_send(lvl, now)) todo[n_todo++] = lvl;
  }
  if (n_todo == 0) return 0;
  // RFC 9000 14.1: a client's datagrams with Initial packets, and a server's with ack-eliciting
  // Initial packets, are padded to 1200 bytes. We pad every datagram that carries an Initial.
  const bool has_initial = todo[0] == Level::kInitial;
  std::size_t off = 0;
  for (std::size_t k = 0; k < n_todo; ++k) {
    const bool last = k + 1 == n_todo;
    std::size_t min_size = 0;
    if (last && has_initial && limit >= kMinInitialDatagram) min_size = kMinInitialDatagram - std::min(off, kMinInitialDatagram);
    bool eliciting = false;
    const std::size_t n = build_packet(todo[k], now, out.subspan(off, limit - off), min_size, eliciting);
    off += n;
    ack_eliciting_sent = ack_eliciting_sent || eliciting;
    if (limit - off < 64) break;
  }
  return off;
}

std::size_t Connection::build_packet(Level level, Instant now, MutBytes out, std::size_t min_size,
                                     bool& ack_eliciting) {
  auto& sp = spaces_[static_cast<std::size_t>(level)];
  const bool zero_rtt = level == Level::kApplication && sending_0rtt();
  const crypto::PacketKeys& keys = zero_rtt ? *zero_rtt_write_ : level == Level::kApplication ? app_keys_->write_keys() : sp.write;
  const std::uint64_t pn = sp.next_pn;
  const auto largest_acked = loss_->largest_acked(space_of(level));
  const std::size_t pn_len = wire::packet_number_length(pn, largest_acked.value_or(0), largest_acked.has_value());
  const std::uint64_t truncated = pn & ((std::uint64_t{1} << (8 * pn_len)) - 1);

  wire::Writer w(out);
  std::size_t pn_offset = 0;
  std::size_t length_offset = 0;
  const bool long_header = level != Level::kApplication || zero_rtt;
  if (long_header) {
    wire::LongHeaderOut lho;
    const auto type = zero_rtt                     ? wire::PacketType::kZeroRtt
                      : level == Level::kInitial ? wire::PacketType::kInitial
                                                 : wire::PacketType::kHandshake;
    Bytes token = level == Level::kInitial ? Bytes(token_) : Bytes{};
    if (!wire::write_long_header(w, type, wire::kVersion1, peer_cid_, initial_scid_, token, truncated, pn_len, lho)) {
      return 0;
    }
    pn_offset = lho.pn_offset;
    length_offset = lho.length_offset;
  } else {
    if (!wire::write_short_header(w, active_->dcid, app_keys_->key_phase(), false, truncated, pn_len, pn_offset)) {
      return 0;
    }
  }
  const std::size_t header_len = w.size();
  if (out.size() < header_len + kTagLen + 4) return 0;
  wire::Writer pw(out.subspan(header_len, out.size() - header_len - kTagLen));
  const std::uint64_t token = sent_.begin();
  bool in_flight = false;
  bool ack_needed = false;
  bool ack_written = false;
  write_frames(level, pw, token, now, ack_eliciting, ack_needed, ack_written);
  if (pw.size() == 0 || (!ack_eliciting && !ack_needed)) {
    sent_.settle(token);
    return 0;
  }
  if (ack_written) sp.acks.on_ack_sent();
  in_flight = ack_eliciting;
  // Padding: room for the header-protection sample, and the datagram minimum.
  std::size_t pad = 0;
  if (pn_len + pw.size() < 4) pad = 4 - pn_len - pw.size();
  const std::size_t total = header_len + pw.size() + pad + kTagLen;
  if (total < min_size) pad += std::min(min_size - total, pw.remaining());
  if (pad) {
    pw.write_zeros(pad);
    in_flight = true;  // PADDING counts toward bytes in flight (RFC 9002 2)
  }
  const std::size_t payload_len = pw.size();
  if (long_header) wire::patch_length(out, length_offset, pn_len + payload_len + kTagLen);
  qlog_packet(now, true, level, pn, header_len + payload_len + kTagLen, Bytes(out.data() + header_len, payload_len),
              active_->id);
  const std::size_t size = crypto::seal_packet(keys, out, pn_offset, pn_len, pn, payload_len);
  if (size == 0) {
    sent_.settle(token);
    return 0;
  }
  ++sp.next_pn;
  ++stats_.packets_sent;
  if (level == Level::kApplication && !zero_rtt) app_keys_->on_packet_sent(pn);
  if (zero_rtt) ++stats_.zero_rtt_packets_sent;
  recovery::SentPacket rec;
  rec.pn = pn;
  rec.time_sent = now;
  rec.bytes = static_cast<std::uint32_t>(size);
  rec.ack_eliciting = ack_eliciting;
  rec.in_flight = in_flight;
  rec.path = active_->id;
  rec.ecn = tx_ecn_;
  rec.token = token;
  active_->ecn.on_packet_sent(tx_ecn_);
  if (tx_ecn_ == kEcnEct0) ++sp.ect0_sent;
  (void)loss_->on_packet_sent(space_of(level), rec);  // charges the path's window and pacer
  if (ack_eliciting && sp.pto_probes > 0) --sp.pto_probes;
  // Client: the first Handshake packet sent ends the Initial space (RFC 9001 4.9.1).
  if (side_ == Side::kClient && level == Level::kHandshake) discard_space(Level::kInitial);
  return size;
}

std::size_t Connection::write_frames(Level level, wire::Writer& w, std::uint64_t token, Instant now,
                                     bool& ack_eliciting, bool& ack_needed, bool& ack_written) {
  auto& sp = spaces_[static_cast<std::size_t>(level)];
  const std::size_t start = w.size();
  // ACK first whenever there is something to acknowledge: it is cheap and helps the peer. A
  // packet that would carry nothing but a non-urgent ACK is abandoned by the caller.
  ack_needed = sp.acks.has_unacked_eliciting() && (ack_due(level, now) || level != Level::kApplication);
  ack_written = false;
  if (sp.acks.has_ranges_to_ack()) {
    std::array<PnRange, AckTracker::kMaxRanges> ranges{};
    const std::size_t n = sp.acks.ack_ranges(ranges.data(), ranges.size());
    std::array<wire::AckRange, AckTracker::kMaxRanges> wr{};
    for (std::size_t i = 0; i < n; ++i) wr[i] = wire::AckRange{ranges[i].smallest, ranges[i].largest};
    std::uint64_t delay_enc = 0;
    if (level == Level::kApplication) {
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - sp.acks.largest_received_time());
      delay_enc = static_cast<std::uint64_t>(std::max<std::int64_t>(us.count(), 0)) >> config_.ack_delay_exponent;
    }
    const wire::EcnCounts& rc = sp.ecn_received;
    const bool with_ecn = rc.ect0 || rc.ect1 || rc.ce;
    if (wire::encode_ack(w, delay_enc, std::span(wr.data(), n), with_ecn ? &rc : nullptr, n) > 0) {
      sent_.add(token, SentFrame{SentFrame::Kind::kAck, 0, false, 0, ranges[0].largest, 0, {}});
      ack_written = true;
    }
  }
  auto remaining = [&w]() { return w.remaining(); };
  if (level == Level::kApplication && sending_0rtt()) {
    // 0-RTT carries no ACK, NEW_CONNECTION_ID or the like (RFC 9000 12.4): streams only.
    if (!active_->recovery->cc().can_send(active_->max_datagram())) return w.size() - start;
    while (streams_->has_stream_data() && remaining() > 24) {
      auto sf = streams_->next_stream_frame(remaining());
      if (!sf) break;
      wire::StreamFrame f{sf->id, sf->offset, sf->data, sf->fin, true};
      if (!wire::encode_frame(w, f)) {
        streams_->on_stream_data_lost(sf->id, sf->offset, sf->data.size(), sf->fin);
        break;
      }
      sent_.add(token, SentFrame{SentFrame::Kind::kStream, 0, sf->fin, sf->id.value, sf->offset, sf->data.size(), {}});
      ack_eliciting = true;
    }
    return w.size() - start;
  }
  if (level == Level::kApplication) {
    if (handshake_done_pending_ && side_ == Side::kServer && remaining() >= 1) {
      wire::encode_frame(w, wire::HandshakeDoneFrame{});
      sent_.add(token, SentFrame{SentFrame::Kind::kHandshakeDone, 0, false, 0, 0, 0, {}});
      handshake_done_pending_ = false;
      ack_eliciting = true;
    }
    if (new_token_pending_ && side_ == Side::kServer && config_.new_token) {
      // A token for the client's next connection (RFC 9000 8.1.3), bound to its address.
      const auto tok = config_.new_token(active_->peer);
      if (!tok.empty() && remaining() >= tok.size() + 4) {
        wire::encode_frame(w, wire::NewTokenFrame{Bytes(tok)});
        sent_.add(token, SentFrame{SentFrame::Kind::kNewToken, 0, false, 0, 0, 0, {}});
        new_token_pending_ = false;
        ack_eliciting = true;
      } else if (tok.empty()) {
        new_token_pending_ = false;
      }
    }
  }
  if (level == Level::kApplication) {
    while (!ncid_pending_.empty() && remaining() >= 1 + 8 + 8 + 1 + 20 + 16) {
      const std::uint64_t seq = ncid_pending_.front();
      ncid_pending_.pop_front();
      const auto* l = local_cids_->find(seq);
      if (!l) continue;  // retired meanwhile
      // Retire Prior To stays 0: roam only retires its CIDs when the peer does.
      wire::encode_frame(w, wire::NewConnectionIdFrame{seq, 0, l->cid, l->reset_token});
      sent_.add(token, SentFrame{SentFrame::Kind::kNewConnectionId, 0, false, 0, seq, 0, {}});
      ack_eliciting = true;
    }
    while (peer_cids_.has_retire_pending() && remaining() >= 9) {
      const std::uint64_t seq = peer_cids_.pop_retire();
      wire::encode_frame(w, wire::RetireConnectionIdFrame{seq});
      sent_.add(token, SentFrame{SentFrame::Kind::kRetireConnectionId, 0, false, 0, seq, 0, {}});
      ack_eliciting = true;
    }
  }
  // CRYPTO data (handshake messages, and post-handshake NewSessionTicket at 1-RTT).
  while (sp.crypto.has_pending() && remaining() > 16) {
    const std::size_t room = remaining();
    auto chunk = sp.crypto.next_frame(room);
    if (!chunk) break;
    wire::CryptoFrame cf{chunk->offset, chunk->data};
    if (!wire::encode_frame(w, cf)) break;
    sent_.add(token, SentFrame{SentFrame::Kind::kCrypto, static_cast<std::uint8_t>(level), false, 0, chunk->offset,
                               chunk->data.size(), {}});
    ack_eliciting = true;
  }
  if (level == Level::kApplication && (handshake_complete_ || side_ == Side::kServer)) {
    const bool probe = sp.pto_probes > 0;
    const bool cwnd_ok = probe || active_->recovery->cc().can_send(active_->max_datagram());
    if (cwnd_ok) {
      while (streams_->has_control_frames() && remaining() > 0) {
        auto cf = streams_->pop_control_frame(remaining(), now);
        if (!cf) break;
        const bool ok = std::visit(
            [&w](const auto& f) -> bool {
              using T = std::decay_t<decltype(f)>;
              if constexpr (std::is_same_v<T, streams::ResetStreamFrame>) {
                return wire::encode_frame(w, wire::ResetStreamFrame{f.id, f.error_code, f.final_size});
              } else if constexpr (std::is_same_v<T, streams::StopSendingFrame>) {
                return wire::encode_frame(w, wire::StopSendingFrame{f.id, f.error_code});
              } else if constexpr (std::is_same_v<T, streams::MaxDataFrame>) {
                return wire::encode_frame(w, wire::MaxDataFrame{f.maximum_data});
              } else if constexpr (std::is_same_v<T, streams::MaxStreamDataFrame>) {
                return wire::encode_frame(w, wire::MaxStreamDataFrame{f.id, f.maximum_stream_data});
              } else if constexpr (std::is_same_v<T, streams::MaxStreamsFrame>) {
                return wire::encode_frame(w, wire::MaxStreamsFrame{f.dir == streams::Direction::kBidi,
                                                                   f.maximum_streams});
              } else if constexpr (std::is_same_v<T, streams::DataBlockedFrame>) {
                return wire::encode_frame(w, wire::DataBlockedFrame{f.maximum_data});
              } else if constexpr (std::is_same_v<T, streams::StreamDataBlockedFrame>) {
                return wire::encode_frame(w, wire::StreamDataBlockedFrame{f.id, f.maximum_stream_data});
              } else {
                return wire::encode_frame(w, wire::StreamsBlockedFrame{f.dir == streams::Direction::kBidi,
                                                                       f.maximum_streams});
              }
            },
            *cf);
        if (!ok) {
          streams_->on_control_frame_lost(*cf);  // did not fit after all: requeue
          break;
        }
        SentFrame sf{SentFrame::Kind::kControl, 0, false, 0, 0, 0, {}};
        sf.control = *cf;
        sent_.add(token, sf);
        ack_eliciting = true;
      }
      while (!datagrams_out_.empty() && remaining() >= datagrams_out_.front().size() + 3) {
        const auto& d = datagrams_out_.front();
        wire::encode_frame(w, wire::DatagramFrame{Bytes(d.data(), d.size()), true});
        datagrams_out_.pop_front();
        ack_eliciting = true;
      }
      while (streams_->has_stream_data() && remaining() > 24) {
        auto sf = streams_->next_stream_frame(remaining());
        if (!sf) break;
        wire::StreamFrame f{sf->id, sf->offset, sf->data, sf->fin, true};
        if (!wire::encode_frame(w, f)) {
          streams_->on_stream_data_lost(sf->id, sf->offset, sf->data.size(), sf->fin);
          break;
        }
        sent_.add(token, SentFrame{SentFrame::Kind::kStream, 0, sf->fin, sf->id.value, sf->offset,
                                   sf->data.size(), {}});
        ack_eliciting = true;
      }
    }
  }
  if ((sp.pto_probes > 0 || (ping_pending_ && level == Level::kApplication)) && !ack_eliciting && remaining() >= 1) {
    wire::encode_frame(w, wire::PingFrame{});
    if (level == Level::kApplication) ping_pending_ = false;
    ack_eliciting = true;
  }
  // A client that only sends ACKs (a download) has nothing in flight, so no probe timeout ever
  // fires for it: it would never notice that its path died (auto_failover) nor reveal a NAT
  // rebinding to a server whose packets now go to the old mapping. Keeping one ack-eliciting
  // packet in flight costs a PING about once per round trip (RFC 9000 13.2.4 suggests as much).
  // Only the client does it: the server answers a PING with a bare ACK, which asks for nothing,
  // so an idle connection stays quiet (two sides doing it would ping-pong forever).
  if (side_ == Side::kClient && level == Level::kApplication && ack_written && !ack_eliciting &&
      handshake_confirmed_ && remaining() >= 1 && loss_->ack_eliciting_in_flight(recovery::Space::kApplication) == 0) {
    wire::encode_frame(w, wire::PingFrame{});
    ack_eliciting = true;
  }
  return w.size() - start;
}

std::size_t Connection::build_close_datagram(MutBytes out, std::size_t limit) {
  // Send CONNECTION_CLOSE at the highest level we have keys for (and at Initial/Handshake too
  // before the handshake is confirmed, as an application close becomes a transport 0x0c there:
  // RFC 9000 10.2.3).
  if (!close_) return 0;
  std::size_t off = 0;
  for (int i = static_cast<int>(kLevels) - 1; i >= 0; --i) {
    const auto lvl = static_cast<Level>(i);
    auto& sp = spaces_[static_cast<std::size_t>(i)];
    if (sp.discarded) continue;
    if (lvl == Level::kApplication ? !app_keys_ : !sp.write.valid()) continue;
    const bool app_level = lvl == Level::kApplication;
    wire::ConnectionCloseFrame cf;
    const std::string& reason = close_->reason;
    const std::size_t rlen = std::min(reason.size(), kCloseReasonMax);
    cf.reason = Bytes(reinterpret_cast<const std::uint8_t*>(reason.data()), rlen);
    if (close_->application && app_level) {
      cf.application = true;
      cf.error_code = close_->app_code;
    } else if (close_->application) {
      cf.error_code = static_cast<std::uint64_t>(TransportError::kApplicationError);
      cf.reason = {};
    } else {
      cf.error_code = static_cast<std::uint64_t>(close_->code);
      cf.frame_type = close_->frame_type;
    }
    // Build one packet holding just this frame.
    auto& sp2 = sp;
    const crypto::PacketKeys& keys = app_level ? app_keys_->write_keys() : sp2.write;
    const std::uint64_t pn = sp2.next_pn++;
    const std::size_t pn_len = 4;
    wire::Writer w(out.subspan(off, limit - off));
    std::size_t pn_offset = 0;
    std::size_t length_offset = 0;
    if (!app_level) {
      wire::LongHeaderOut lho;
      const auto type = lvl == Level::kInitial ? wire::PacketType::kInitial : wire::PacketType::kHandshake;
      if (!wire::write_long_header(w, type, wire::kVersion1, peer_cid_, initial_scid_,
                                   lvl == Level::kInitial ? Bytes(token_) : Bytes{}, pn & 0xffffffff, pn_len, lho)) {
        continue;
      }
      pn_offset = lho.pn_offset;
      length_offset = lho.length_offset;
    } else if (!wire::write_short_header(w, active_->dcid, app_keys_->key_phase(), false, pn & 0xffffffff, pn_len,
                                         pn_offset)) {
      continue;
    }
    const std::size_t header_len = w.size();
    if (w.remaining() < kTagLen + 8) continue;
    MutBytes pkt = out.subspan(off, limit - off);
    wire::Writer pw(pkt.subspan(header_len, pkt.size() - header_len - kTagLen));
    if (!wire::encode_frame(pw, cf)) continue;
    std::size_t plen = pw.size();
    const bool pad_initial = lvl == Level::kInitial && side_ == Side::kClient;
    if (pad_initial && header_len + plen + kTagLen < kMinInitialDatagram && pkt.size() >= kMinInitialDatagram) {
      pw.write_zeros(kMinInitialDatagram - header_len - plen - kTagLen);
      plen = pw.size();
    }
    if (!app_level) wire::patch_length(pkt, length_offset, pn_len + plen + kTagLen);
    const std::size_t n = crypto::seal_packet(keys, pkt, pn_offset, pn_len, pn, plen);
    off += n;
    if (handshake_confirmed_) break;  // 1-RTT alone suffices once the handshake is confirmed
  }
  return off;
}

Path* Connection::path_needing_probe(Instant now) {
  (void)now;
  if (!app_keys_ || !handshake_complete_) return nullptr;
  for (auto& p : paths_) {
    if ((p->challenge_due || !p->responses.empty()) && p->amplification_budget() >= 64) return p.get();
  }
  return nullptr;
}

std::size_t Connection::build_probe_datagram(Path& path, Instant now, MutBytes out) {
  // One 1-RTT packet with PATH_CHALLENGE and/or PATH_RESPONSE, sent with the path's own CID and
  // expanded to 1200 bytes unless the path's anti-amplification budget forbids it (8.2.1, 8.2.2).
  auto& sp = spaces_[static_cast<std::size_t>(Level::kApplication)];
  tx_ecn_ = path.ecn.codepoint();
  const std::size_t limit = std::min({out.size(), path.max_datagram(), path.amplification_budget()});
  if (limit < 64) return 0;
  const std::uint64_t pn = sp.next_pn;
  const auto largest_acked = loss_->largest_acked(recovery::Space::kApplication);
  const std::size_t pn_len = wire::packet_number_length(pn, largest_acked.value_or(0), largest_acked.has_value());
  const std::uint64_t truncated = pn & ((std::uint64_t{1} << (8 * pn_len)) - 1);
  MutBytes pkt = out.first(limit);
  wire::Writer w(pkt);
  std::size_t pn_offset = 0;
  if (!wire::write_short_header(w, path.dcid, app_keys_->key_phase(), false, truncated, pn_len, pn_offset)) return 0;
  const std::size_t header_len = w.size();
  wire::Writer pw(pkt.subspan(header_len, pkt.size() - header_len - kTagLen));
  bool challenged = false;
  if (path.challenge_due) {
    PathChallengeData data{};
    random_.fill(MutBytes(data.data(), data.size()));
    wire::encode_frame(pw, wire::PathChallengeFrame{data});
    path.challenges.push_back(data);
    if (path.challenges.size() > 4) path.challenges.pop_front();
    path.challenge_due = false;
    ++path.challenges_sent;
    // The next challenge if this one goes unanswered: the active path's PTO, doubling.
    const Duration base = std::max(pto(), std::chrono::duration_cast<Duration>(std::chrono::milliseconds(10)));
    path.next_challenge_at = now + base * (1u << std::min(path.challenges_sent - 1, 5u));
    challenged = true;
  }
  while (!path.responses.empty() && pw.remaining() >= 9) {
    wire::encode_frame(pw, wire::PathResponseFrame{path.responses.front()});
    path.responses.pop_front();
  }
  const std::size_t target = std::min<std::size_t>(kMinInitialDatagram, pkt.size());
  if (header_len + pw.size() + kTagLen < target) pw.write_zeros(target - header_len - pw.size() - kTagLen);
  const std::size_t payload_len = pw.size();
  qlog_packet(now, true, Level::kApplication, pn, header_len + payload_len + kTagLen,
              Bytes(pkt.data() + header_len, payload_len), path.id);
  const std::size_t size = crypto::seal_packet(app_keys_->write_keys(), pkt, pn_offset, pn_len, pn, payload_len);
  if (size == 0) return 0;
  // Nothing in it is retransmitted: the validation timer sends anew.
  record_probe_packet(path, pn, size, now, nullptr);
  if (challenged) qlog_tuple(now, path, false);
  return size;
}

void Connection::record_probe_packet(Path& path, std::uint64_t pn, std::size_t size, Instant now,
                                     const SentFrame* frame) {
  auto& sp = spaces_[static_cast<std::size_t>(Level::kApplication)];
  ++sp.next_pn;
  ++stats_.packets_sent;
  stats_.bytes_sent += size;
  path.bytes_sent += size;
  app_keys_->on_packet_sent(pn);
  recovery::SentPacket rec;
  rec.pn = pn;
  rec.time_sent = now;
  rec.bytes = static_cast<std::uint32_t>(size);
  rec.ack_eliciting = true;
  rec.in_flight = true;
  // A probe's loss is no congestion signal: an MTU probe's (RFC 9000 14.4), and a path probe's
  // (9.4 allows it; the validation timer does its own loss detection). Packet numbers are shared
  // by all paths, so a probe on a slower path is routinely "lost" by the packet threshold when
  // ACKs for packets sent after it on the faster path arrive first: counted as congestion, that
  // halved the new path's window before it carried any data.
  rec.mtu_probe = true;
  rec.path = path.id;
  rec.ecn = tx_ecn_;
  path.ecn.on_packet_sent(rec.ecn);
  if (rec.ecn == kEcnEct0) ++sp.ect0_sent;
  rec.token = sent_.begin();
  if (frame) {
    sent_.add(rec.token, *frame);
  } else {
    sent_.settle(rec.token);
  }
  (void)loss_->on_packet_sent(recovery::Space::kApplication, rec);
}

void Connection::start_pmtu_search(Path& path) {
  if (!peer_params_) return;
  std::size_t max = std::min<std::uint64_t>(config_.pmtu_max, peer_params_->max_udp_payload_size);
  if (path.peer.is_ipv6() && max > 1452) max = 1452;  // 40-byte IPv6 header instead of 20
  path.pmtu = PmtuSearch(max);
}

std::size_t Connection::build_mtu_probe(Path& path, std::size_t size, Instant now, MutBytes out) {
  // PING and PADDING filling exactly `size` bytes, sent with the path's CID.
  auto& sp = spaces_[static_cast<std::size_t>(Level::kApplication)];
  const std::uint64_t pn = sp.next_pn;
  const auto largest_acked = loss_->largest_acked(recovery::Space::kApplication);
  const std::size_t pn_len = wire::packet_number_length(pn, largest_acked.value_or(0), largest_acked.has_value());
  const std::uint64_t truncated = pn & ((std::uint64_t{1} << (8 * pn_len)) - 1);
  MutBytes pkt = out.first(size);
  wire::Writer w(pkt);
  std::size_t pn_offset = 0;
  if (!wire::write_short_header(w, path.dcid, app_keys_->key_phase(), false, truncated, pn_len, pn_offset)) return 0;
  const std::size_t header_len = w.size();
  if (header_len + kTagLen + 1 > size) return 0;
  wire::Writer pw(pkt.subspan(header_len, size - header_len - kTagLen));
  wire::encode_frame(pw, wire::PingFrame{});
  pw.write_zeros(pw.remaining());
  const std::size_t payload_len = pw.size();
  qlog_packet(now, true, Level::kApplication, pn, size, Bytes(pkt.data() + header_len, payload_len), path.id);
  const std::size_t sealed = crypto::seal_packet(app_keys_->write_keys(), pkt, pn_offset, pn_len, pn, payload_len);
  if (sealed == 0) return 0;
  const SentFrame probe{SentFrame::Kind::kMtuProbe, 0, false, path.id.value, size, 0, {}};
  record_probe_packet(path, pn, sealed, now, &probe);
  path.pmtu.on_probe_sent(size, now);
  return sealed;
}

}  // namespace roam::conn
