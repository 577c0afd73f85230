// Connection lifecycle: creation, TLS and keys, timers, closing. Receiving is in receive.cc,
// sending in send.cc.
#include "conn/connection.h"

#include <algorithm>

#include "crypto/packet_protection.h"

namespace roam::conn {

namespace {

crypto::AeadAlgorithm aead_of(tls::Aead a) {
  switch (a) {
    case tls::Aead::kAes256Gcm: return crypto::AeadAlgorithm::kAes256Gcm;
    case tls::Aead::kChaCha20Poly1305: return crypto::AeadAlgorithm::kChaCha20Poly1305;
    case tls::Aead::kAes128Gcm: break;
  }
  return crypto::AeadAlgorithm::kAes128Gcm;
}

ConnectionConfig with_defaults(ConnectionConfig c, Random& rng) {
  if (!c.cid_generator) c.cid_generator = std::make_shared<cid::RandomCidGenerator>(c.local_cid_length);
  c.local_cid_length = c.cid_generator->length();
  if (c.reset_key.empty()) {
    c.reset_key.resize(32);
    rng.fill(c.reset_key);
  }
  return c;
}

ConnectionId random_cid(Random& rng, std::size_t len) {
  ConnectionId cid;
  cid.resize(len);
  rng.fill(MutBytes(cid.mutable_data(), len));
  return cid;
}

recovery::RecoveryConfig recovery_config(const ConnectionConfig& c) {
  recovery::RecoveryConfig rc;
  rc.initial_rtt = c.initial_rtt;
  rc.congestion = c.congestion_control == CongestionControl::kNewReno ? recovery::CongestionAlgorithm::kNewReno
                                                                      : recovery::CongestionAlgorithm::kCubic;
  rc.cc.max_datagram_size = c.max_datagram_size;
  return rc;
}

}  // namespace

Connection::Connection(const ConnectionConfig& config, Side side, std::shared_ptr<tls::TlsContext> tls,
                       Random& random, const SocketAddress& local, const SocketAddress& peer, Instant now)
    : config_(with_defaults(config, random)),
      side_(side),
      random_(random),
      tls_ctx_(std::move(tls)),
      peer_cids_(config.active_connection_id_limit) {
  local_cids_ = std::make_unique<cid::LocalCidPool>(*config_.cid_generator, config_.reset_key);
  // The handshake path: a client knows its server's address; a server has not validated the
  // client's until the handshake (or a Retry) proves it.
  Path& first = add_path(local, peer, now);
  first.validation = side == Side::kClient ? PathValidation::kValidated : PathValidation::kValidating;
  first.dcid_seq = 0;
  active_ = &first;
  loss_ = std::make_unique<recovery::LossDetector>(
      side == Side::kClient ? recovery::Role::kClient : recovery::Role::kServer, path_lookup_,
      recovery_config(config));
  streams::StreamConfig sc;
  sc.side = side == Side::kClient ? streams::Side::kClient : streams::Side::kServer;
  sc.local.max_data = config.initial_max_data;
  sc.local.max_stream_data_bidi_local = config.initial_max_stream_data_bidi_local;
  sc.local.max_stream_data_bidi_remote = config.initial_max_stream_data_bidi_remote;
  sc.local.max_stream_data_uni = config.initial_max_stream_data_uni;
  sc.local.max_streams_bidi = config.initial_max_streams_bidi;
  sc.local.max_streams_uni = config.initial_max_streams_uni;
  streams_ = std::make_unique<streams::StreamManager>(sc);
  idle_timeout_ = std::chrono::milliseconds(config.max_idle_timeout_ms);
  last_activity_ = now;
  idle_deadline_ = now + idle_timeout_;
  if (!active_->validated()) loss_->set_amplification_limited(false, now);
}

Connection::~Connection() = default;

Result<std::unique_ptr<Connection>> Connection::connect(const ConnectionConfig& config,
                                                        std::shared_ptr<tls::TlsContext> tls,
                                                        std::string_view server_name, const SocketAddress& local,
                                                        const SocketAddress& peer, Random& random, Instant now,
                                                        const ResumptionState* resume) {
  std::unique_ptr<Connection> c(new Connection(config, Side::kClient, std::move(tls), random, local, peer, now));
  c->original_dcid_ = random_cid(random, 8);  // RFC 9000 7.2: at least 8 bytes
  c->initial_scid_ = c->config_.cid_generator->generate(random);
  c->peer_cid_ = c->original_dcid_;
  c->active_->dcid = c->peer_cid_;
  c->peer_cids_.set_initial(c->peer_cid_);
  c->local_cids_->add_initial(c->initial_scid_);
  c->cids_added_.push_back(c->initial_scid_);
  c->start_qlog(now);
  if (auto s = c->install_initial_keys(c->original_dcid_); !s) return s.error();
  if (resume) {
    c->token_ = resume->token;  // an address-validation token from NEW_TOKEN (8.1.3)
    // 0-RTT obeys the limits the server gave last time (7.4.1); the handshake replaces them.
    const auto& offered = c->tls_ctx_->alpn();
    const bool same_alpn = offered.size() == 1 && offered.front() == resume->alpn;
    if (same_alpn && !resume->transport_params.empty()) {
      auto tp = wire::decode_transport_parameters(resume->transport_params, wire::Perspective::kServer);
      if (tp) {
        streams::StreamLimits lim;
        lim.max_data = tp->initial_max_data;
        lim.max_stream_data_bidi_local = tp->initial_max_stream_data_bidi_local;
        lim.max_stream_data_bidi_remote = tp->initial_max_stream_data_bidi_remote;
        lim.max_stream_data_uni = tp->initial_max_stream_data_uni;
        lim.max_streams_bidi = tp->initial_max_streams_bidi;
        lim.max_streams_uni = tp->initial_max_streams_uni;
        if (c->streams_->set_peer_limits(lim)) c->remembered_params_ = true;
      }
    }
  }
  if (auto s = c->init_tls(server_name, resume && c->remembered_params_ ? Bytes(resume->tls_session) : Bytes{});
      !s) {
    return s.error();
  }
  return c;
}

Result<std::unique_ptr<Connection>> Connection::accept(const ConnectionConfig& config,
                                                       std::shared_ptr<tls::TlsContext> tls,
                                                       const wire::PacketHeader& initial,
                                                       const ConnectionId& original_dcid,
                                                       std::optional<ConnectionId> retry_scid,
                                                       const SocketAddress& local, const SocketAddress& peer,
                                                       Random& random, Instant now, bool address_validated) {
  std::unique_ptr<Connection> c(new Connection(config, Side::kServer, std::move(tls), random, local, peer, now));
  c->original_dcid_ = original_dcid;
  c->retry_scid_ = std::move(retry_scid);
  // After a Retry the client already proved its address.
  if (c->retry_scid_ || address_validated) c->active_->validation = PathValidation::kValidated;
  c->initial_scid_ = c->config_.cid_generator->generate(random);
  c->peer_cid_ = initial.scid;
  c->active_->dcid = c->peer_cid_;
  c->peer_cids_.set_initial(c->peer_cid_);
  c->local_cids_->add_initial(c->initial_scid_);
  // The preferred address gets its own CID, sequence number 1 (RFC 9000 5.1.1).
  if (c->config_.preferred_address_v4 || c->config_.preferred_address_v6) {
    for (const auto& l : c->local_cids_->top_up(2, random)) c->cids_added_.push_back(l.cid);
  }
  c->cids_added_.push_back(c->initial_scid_);
  c->start_qlog(now);
  if (auto s = c->install_initial_keys(initial.dcid); !s) return s.error();
  if (auto s = c->init_tls({}); !s) return s.error();
  return c;
}

wire::TransportParameters Connection::local_transport_params() const {
  wire::TransportParameters tp;
  tp.max_idle_timeout_ms = config_.max_idle_timeout_ms;
  tp.initial_max_data = config_.initial_max_data;
  tp.initial_max_stream_data_bidi_local = config_.initial_max_stream_data_bidi_local;
  tp.initial_max_stream_data_bidi_remote = config_.initial_max_stream_data_bidi_remote;
  tp.initial_max_stream_data_uni = config_.initial_max_stream_data_uni;
  tp.initial_max_streams_bidi = config_.initial_max_streams_bidi;
  tp.initial_max_streams_uni = config_.initial_max_streams_uni;
  tp.active_connection_id_limit = config_.active_connection_id_limit;
  tp.ack_delay_exponent = config_.ack_delay_exponent;
  tp.max_ack_delay_ms = config_.max_ack_delay_ms;
  tp.disable_active_migration = config_.disable_active_migration;
  if (config_.max_datagram_frame_size) tp.max_datagram_frame_size = config_.max_datagram_frame_size;
  tp.initial_source_connection_id = initial_scid_;
  if (side_ == Side::kServer) {
    tp.original_destination_connection_id = original_dcid_;
    tp.stateless_reset_token = local_cids_->token_for(initial_scid_);
    if (retry_scid_) tp.retry_source_connection_id = *retry_scid_;
    if (const auto* l = local_cids_->find(1); l && (config_.preferred_address_v4 || config_.preferred_address_v6)) {
      wire::PreferredAddress pa;
      if (const auto& a = config_.preferred_address_v4; a && a->is_ipv4()) {
        std::copy_n(a->ip_bytes().begin(), 4, pa.ipv4.begin());
        pa.ipv4_port = a->port();
      }
      if (const auto& a = config_.preferred_address_v6; a && a->is_ipv6()) {
        std::copy_n(a->ip_bytes().begin(), 16, pa.ipv6.begin());
        pa.ipv6_port = a->port();
      }
      pa.cid = l->cid;
      pa.reset_token = l->reset_token;
      tp.preferred_address = pa;
    }
  }
  return tp;
}

Status Connection::init_tls(std::string_view server_name, Bytes resumption) {
  auto tp = wire::encode_transport_parameters(
      local_transport_params(), side_ == Side::kClient ? wire::Perspective::kClient : wire::Perspective::kServer);
  if (!tp) return tp.error();
  auto session = tls::TlsSession::create(tls_ctx_, *tp, server_name);
  if (!session) return session.error();
  tls_ = std::move(session).value();
  // A session that cannot be resumed (expired, another server) just means a full handshake.
  if (side_ == Side::kClient && !resumption.empty()) (void)tls_->set_resumption_data(resumption);
  if (side_ == Side::kClient) {
    if (auto s = tls_->start(); !s) return s;
    return drive_tls();
  }
  return {};
}

Status Connection::install_initial_keys(const ConnectionId& client_dcid) {
  auto keys = crypto::derive_initial_keys(client_dcid);
  if (!keys) return keys.error();
  auto& sp = spaces_[0];
  if (side_ == Side::kClient) {
    sp.write = std::move(keys->client);
    sp.read = std::move(keys->server);
  } else {
    sp.write = std::move(keys->server);
    sp.read = std::move(keys->client);
  }
  return {};
}

Status Connection::drive_tls() {
  tls::Level level;
  std::vector<std::uint8_t> data;
  while (tls_->take_output(level, data)) {
    switch (level) {
      case tls::Level::kInitial: spaces_[0].crypto.write(data); break;
      case tls::Level::kHandshake: spaces_[1].crypto.write(data); break;
      case tls::Level::kApplication: spaces_[2].crypto.write(data); break;
      case tls::Level::kEarlyData: break;  // never carries handshake messages
    }
  }
  while (auto ev = tls_->poll_secret()) {
    if (auto s = install_secret(*ev); !s) return s;
  }
  if (!peer_params_ && tls_->peer_transport_params()) {
    peer_tp_encoded_ = *tls_->peer_transport_params();
    if (auto s = apply_peer_transport_params(); !s) return s;
  }
  if (!handshake_complete_ && tls_->handshake_complete()) on_handshake_complete();
  return {};
}

Status Connection::install_secret(const tls::SecretEvent& ev) {
  if (ev.level != tls::Level::kEarlyData) suite_ = ev.cipher_suite;
  const auto alg = aead_of(ev.cipher_suite.aead);
  if (ev.level == tls::Level::kHandshake) {
    auto keys = crypto::derive_packet_keys(alg, ev.secret);
    if (!keys) return keys.error();
    (ev.direction == tls::Direction::kRead ? spaces_[1].read : spaces_[1].write) = std::move(keys).value();
    if (ev.direction == tls::Direction::kWrite) loss_->on_handshake_keys_available();
  } else if (ev.level == tls::Level::kApplication) {
    (ev.direction == tls::Direction::kRead ? pending_app_read_ : pending_app_write_) = ev.secret;
    if (!pending_app_read_.empty() && !pending_app_write_.empty()) {
      auto keys = crypto::OneRttKeys::create(alg, pending_app_read_, pending_app_write_);
      if (!keys) return keys.error();
      app_keys_.emplace(std::move(keys).value());
      std::fill(pending_app_read_.begin(), pending_app_read_.end(), 0);
      std::fill(pending_app_write_.begin(), pending_app_write_.end(), 0);
      pending_app_read_.clear();
      pending_app_write_.clear();
    }
  } else if (ev.level == tls::Level::kEarlyData) {
    auto keys = crypto::derive_packet_keys(alg, ev.secret);
    if (!keys) return keys.error();
    if (ev.direction == tls::Direction::kWrite && side_ == Side::kClient) {
      zero_rtt_write_.emplace(std::move(keys).value());
      attempted_0rtt_ = true;
    } else if (ev.direction == tls::Direction::kRead && side_ == Side::kServer) {
      zero_rtt_read_.emplace(std::move(keys).value());
    }
  }
  return {};
}

Status Connection::apply_peer_transport_params() {
  const auto sender = side_ == Side::kClient ? wire::Perspective::kServer : wire::Perspective::kClient;
  auto tp = wire::decode_transport_parameters(*tls_->peer_transport_params(), sender);
  if (!tp) return tp.error();
  // RFC 9000 7.3: authenticate the connection IDs used in the handshake.
  if (side_ == Side::kClient) {
    if (auto s = wire::validate_cid_parameters(*tp, sender, original_dcid_, peer_cid_, retry_scid_); !s) return s;
  } else {
    if (auto s = wire::validate_cid_parameters(*tp, sender, original_dcid_, peer_cid_, std::nullopt); !s) return s;
  }
  peer_params_ = *tp;
  qlog_parameters(now_hint_, false, *tp);
  streams::StreamLimits lim;
  lim.max_data = tp->initial_max_data;
  lim.max_stream_data_bidi_local = tp->initial_max_stream_data_bidi_local;
  lim.max_stream_data_bidi_remote = tp->initial_max_stream_data_bidi_remote;
  lim.max_stream_data_uni = tp->initial_max_stream_data_uni;
  lim.max_streams_bidi = tp->initial_max_streams_bidi;
  lim.max_streams_uni = tp->initial_max_streams_uni;
  if (auto s = streams_->set_peer_limits(lim); !s) return s;
  peer_max_ack_delay_ = tp->max_ack_delay();
  peer_ack_delay_exponent_ = tp->ack_delay_exponent;
  loss_->set_peer_max_ack_delay(peer_max_ack_delay_);
  // Idle timeout: the minimum of both advertised values, zero meaning "none" (RFC 9000 10.1).
  Duration peer_idle = tp->max_idle_timeout();
  if (peer_idle > Duration::zero() && (idle_timeout_ == Duration::zero() || peer_idle < idle_timeout_)) {
    idle_timeout_ = peer_idle;
  }
  if (tp->stateless_reset_token) peer_cids_.set_initial_token(*tp->stateless_reset_token);
  if (tp->preferred_address && !peer_cid_.empty()) {
    if (auto s = peer_cids_.add_preferred(tp->preferred_address->cid, tp->preferred_address->reset_token); !s) return s;
  }
  return {};
}

void Connection::on_handshake_complete() {
  handshake_complete_ = true;
  stats_.resumed = tls_->resumed();
  stats_.zero_rtt_accepted = tls_->early_data_accepted();
  if (side_ == Side::kClient) {
    // 1-RTT keys are in: no more 0-RTT (RFC 9001 4.9.3). If the server refused the 0-RTT data,
    // every 0-RTT packet counts as lost and its frames go again in 1-RTT (RFC 9001 4.6.2).
    zero_rtt_write_.reset();
    if (attempted_0rtt_ && !stats_.zero_rtt_accepted) {
      for (const auto& p : loss_->discard_space(recovery::Space::kApplication, last_activity_)) {
        on_packet_lost(p, Level::kApplication);
      }
    }
  }
  push_event(HandshakeCompleted{tls_->alpn()});
  if (side_ == Side::kServer) {
    // RFC 9001 4.1.2: the server's handshake is confirmed when it completes.
    handshake_done_pending_ = true;
    new_token_pending_ = static_cast<bool>(config_.new_token);
    zero_rtt_read_.reset();  // 0-RTT ends with the handshake (RFC 9001 4.9.3)
    handshake_confirmed_ = true;
    loss_->on_handshake_confirmed(last_activity_);
    discard_space(Level::kHandshake);
    issue_connection_ids();
    start_pmtu_search(*active_);
    push_event(HandshakeConfirmed{});
  }
}

void Connection::issue_connection_ids() {
  // A peer that uses zero-length CIDs itself still gets ours; the limit is what it advertised.
  if (!peer_params_) return;
  for (const auto& l : local_cids_->top_up(peer_params_->active_connection_id_limit, random_)) {
    cids_added_.push_back(l.cid);
    ncid_pending_.push_back(l.seq);
  }
}

void Connection::confirm_handshake(Instant now) {
  if (handshake_confirmed_) return;
  handshake_confirmed_ = true;
  loss_->on_handshake_confirmed(now);
  discard_space(Level::kHandshake);
  issue_connection_ids();
  start_pmtu_search(*active_);
  push_event(HandshakeConfirmed{});
  maybe_follow_preferred_address(now);
}

void Connection::discard_space(Level level) {
  auto& sp = spaces_[static_cast<std::size_t>(level)];
  if (sp.discarded) return;
  sp.discarded = true;
  sp.read = {};
  sp.write = {};
  sp.crypto.discard();
  sp.pto_probes = 0;
  for (const auto& p : loss_->discard_space(space_of(level), last_activity_)) {
    sent_.settle(p.token);  // the loss detector took the bytes out of flight
  }
}

Duration Connection::pto() const {
  return active_->recovery->rtt().pto_duration(handshake_confirmed_ ? peer_max_ack_delay_ : Duration::zero());
}

std::optional<Instant> Connection::next_timeout() const {
  if (state_ == State::kClosed) return std::nullopt;
  std::optional<Instant> t;
  auto consider = [&t](std::optional<Instant> x) {
    if (x && (!t || *x < *t)) t = x;
  };
  if (close_deadline_) return close_deadline_;
  consider(idle_deadline_);
  consider(loss_->timeout());
  for (std::size_t i = 0; i < kLevels; ++i) {
    const auto& sp = spaces_[i];
    if (sp.discarded) continue;
    // A deadline we cannot act on would make the caller spin: 0-RTT packets are acknowledged in
    // 1-RTT packets (not before the 1-RTT keys exist), and nothing leaves a path whose
    // anti-amplification budget is spent (the next datagram from the peer reopens it).
    if (i == 2 && !app_keys_) continue;
    if (active_->amplification_budget() < 64) continue;
    const Duration delay = i == 2 ? std::chrono::milliseconds(config_.max_ack_delay_ms) : Duration::zero();
    consider(sp.acks.ack_deadline(delay));
  }
  consider(prev_read_keys_discard_at_);
  consider(pacing_wakeup_);
  for (const auto& p : paths_) {
    consider(p->next_challenge_at);
    consider(p->validation_deadline);
  }
  if (config_.keep_alive > Duration::zero() && handshake_confirmed_) consider(last_activity_ + config_.keep_alive);
  return t;
}

void Connection::on_timeout(Instant now) {
  if (state_ == State::kClosed) return;
  now_hint_ = now;
  if (pacing_wakeup_ && now >= *pacing_wakeup_) pacing_wakeup_.reset();  // poll_transmit may send now
  if (close_deadline_) {
    if (now >= *close_deadline_) {
      state_ = State::kClosed;
      close_deadline_.reset();
    }
    return;
  }
  if (now >= idle_deadline_) {
    // RFC 9000 10.1: silently close.
    ConnectionClosed ev;
    ev.idle_timeout = true;
    ev.reason = "idle timeout";
    push_event(std::move(ev));
    state_ = State::kClosed;
    return;
  }
  if (prev_read_keys_discard_at_ && now >= *prev_read_keys_discard_at_) {
    if (app_keys_) app_keys_->discard_previous_read_keys();
    prev_read_keys_discard_at_.reset();
  }
  if (config_.keep_alive > Duration::zero() && handshake_confirmed_ && now >= last_activity_ + config_.keep_alive) {
    ping_pending_ = true;
    last_activity_ = now;
  }
  if (auto t = loss_->timeout(); t && now >= *t) {
    auto out = loss_->on_timeout(now);
    for (const auto& p : out.lost) {
      qlog_lost(now, p);
      on_packet_lost(p, static_cast<Level>(0));
    }
    stats_.packets_lost += out.lost.size();
    if (out.probe) {
      auto level = static_cast<std::size_t>(out.probe->space);
      if (out.probe->anti_deadlock && side_ == Side::kClient) {
        // Client with nothing in flight before the handshake completes: Handshake if it has keys.
        level = spaces_[1].write.valid() && !spaces_[1].discarded ? 1 : 0;
      }
      spaces_[level].pto_probes = out.probe->count;
    }
    maybe_fail_over(now);
    // Nothing acknowledged through repeated timeouts: maybe the path's MTU shrank (RFC 8899 4.3).
    if (loss_->pto_count() >= 3 && active_->pmtu.on_black_hole_suspected()) {
      active_->recovery->set_max_datagram_size(active_->max_datagram());
      qlog_mtu(now, *active_);
    }
  }
  on_path_timers(now);
}

std::optional<Event> Connection::poll_event() {
  while (auto se = streams_->poll_event()) {
    switch (se->kind) {
      case streams::StreamEvent::Kind::kOpened: events_.push_back(StreamOpened{se->id}); break;
      case streams::StreamEvent::Kind::kReadable: events_.push_back(StreamReadable{se->id}); break;
      case streams::StreamEvent::Kind::kWritable: events_.push_back(StreamWritable{se->id}); break;
      case streams::StreamEvent::Kind::kStopped: events_.push_back(StreamStopSending{se->id, se->error_code}); break;
    }
  }
  if (events_.empty()) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

Result<StreamId> Connection::open_stream(bool bidirectional) {
  if (state_ != State::kOpen) return Error{TransportError::kInternalError, "connection is closing"};
  if (!peer_params_ && !remembered_params_) return Error{TransportError::kStreamLimitError, "handshake not complete"};
  return streams_->open_stream(bidirectional ? streams::Direction::kBidi : streams::Direction::kUni);
}

Result<std::size_t> Connection::write(StreamId id, Bytes data, bool fin) {
  if (state_ != State::kOpen) return Error{TransportError::kInternalError, "connection is closing"};
  return streams_->write(id, data, fin);
}

Result<ReadResult> Connection::read(StreamId id, MutBytes out) { return streams_->read(id, out); }

Status Connection::reset_stream(StreamId id, std::uint64_t app_error) { return streams_->reset_stream(id, app_error); }

Status Connection::stop_sending(StreamId id, std::uint64_t app_error) { return streams_->stop_sending(id, app_error); }

Status Connection::send_datagram(Bytes data) {
  if (!peer_params_ || !peer_params_->max_datagram_frame_size) {
    return Error{TransportError::kProtocolViolation, "peer does not accept DATAGRAM frames"};
  }
  if (data.size() + 3 > *peer_params_->max_datagram_frame_size || data.size() + 64 > config_.max_datagram_size) {
    return Error{TransportError::kInternalError, "datagram too large"};
  }
  datagrams_out_.emplace_back(data.begin(), data.end());
  return {};
}

Status Connection::initiate_key_update() {
  if (!app_keys_ || !handshake_confirmed_) {
    return Error{TransportError::kKeyUpdateError, "key update before the handshake is confirmed"};
  }
  if (!app_keys_->can_initiate_update()) {
    return Error{TransportError::kKeyUpdateError, "previous key update not yet acknowledged"};
  }
  return app_keys_->initiate_update();
}

void Connection::close(std::uint64_t app_error, std::string_view reason) {
  if (state_ != State::kOpen) return;
  PendingClose pc;
  pc.application = true;
  pc.app_code = app_error;
  pc.reason = std::string(reason);
  close_ = std::move(pc);
  close_pending_send_ = true;
  state_ = State::kClosing;
  close_deadline_ = last_activity_ + 3 * pto();
  ConnectionClosed ev;
  ev.error_code = app_error;
  ev.application = true;
  ev.reason = std::string(reason);
  push_event(std::move(ev));
}

void Connection::close_with_error(const Error& e, Instant now) {
  if (state_ != State::kOpen) return;
  PendingClose pc;
  pc.code = e.code;
  pc.frame_type = e.frame_type;
  pc.reason = std::string(e.reason);
  close_ = std::move(pc);
  close_pending_send_ = true;
  state_ = State::kClosing;
  close_deadline_ = now + 3 * pto();
  ConnectionClosed ev;
  ev.error_code = static_cast<std::uint64_t>(e.code);
  ev.reason = std::string(e.reason);
  push_event(std::move(ev));
}

void Connection::enter_draining(Instant now) {
  if (state_ == State::kDraining || state_ == State::kClosed) return;
  state_ = State::kDraining;
  close_pending_send_ = false;
  close_deadline_ = now + 3 * pto();
}

bool Connection::take_cid_update(std::vector<ConnectionId>& added, std::vector<ConnectionId>& retired) {
  if (cids_added_.empty() && cids_retired_.empty()) return false;
  added.swap(cids_added_);
  retired.swap(cids_retired_);
  cids_added_.clear();
  cids_retired_.clear();
  return true;
}

std::optional<ResumptionState> Connection::resumption_state() const {
  if (side_ != Side::kClient || !tls_) return std::nullopt;
  auto session = tls_->resumption_data();
  if (!session) return std::nullopt;
  ResumptionState r;
  r.tls_session = std::move(*session);
  r.transport_params = peer_tp_encoded_;
  r.token = new_token_;
  r.alpn = tls_->alpn();
  return r;
}

ConnectionStats Connection::stats() const {
  ConnectionStats s = stats_;
  s.smoothed_rtt = active_->recovery->rtt().smoothed_rtt();
  s.min_rtt = active_->recovery->rtt().min_rtt();
  s.cwnd = active_->recovery->cc().cwnd();
  // Known once the handshake completed (GnuTLS sets its flags as the last message is processed).
  if (tls_ && handshake_complete_) {
    s.resumed = tls_->resumed();
    s.zero_rtt_accepted = tls_->early_data_accepted();
  }
  s.cids_issued = local_cids_->issued();
  s.cids_retired = local_cids_->retired_count();
  s.peer_cids_retired = peer_cids_.retired_count();
  return s;
}

}  // namespace roam::conn
