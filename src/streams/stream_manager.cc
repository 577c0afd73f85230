// StreamManager: construction, stream lifetime and the application API. The peer's frames are
// handled in stream_manager_frames.cc, the packet builder interface in stream_manager_tx.cc.
#include "streams/stream_manager.h"

#include <algorithm>

namespace roam::streams {

StreamManager::StreamManager(const StreamConfig& config)
    : cfg_(config),
      conn_recv_(config.local.max_data, std::max(config.local.max_data, config.max_connection_window)) {
  adv_max_streams_[0] = std::min(cfg_.local.max_streams_bidi, kMaxStreamCount);
  adv_max_streams_[1] = std::min(cfg_.local.max_streams_uni, kMaxStreamCount);
}

StreamManager::~StreamManager() = default;

Status StreamManager::set_peer_limits(const StreamLimits& peer) {
  if (peer.max_streams_bidi > kMaxStreamCount || peer.max_streams_uni > kMaxStreamCount) {
    return Error{TransportError::kTransportParameterError, "initial_max_streams above 2^60"};
  }
  peer_.max_data = std::max(peer_.max_data, peer.max_data);
  peer_.max_stream_data_bidi_local = std::max(peer_.max_stream_data_bidi_local, peer.max_stream_data_bidi_local);
  peer_.max_stream_data_bidi_remote = std::max(peer_.max_stream_data_bidi_remote, peer.max_stream_data_bidi_remote);
  peer_.max_stream_data_uni = std::max(peer_.max_stream_data_uni, peer.max_stream_data_uni);
  peer_.max_streams_bidi = std::max(peer_.max_streams_bidi, peer.max_streams_bidi);
  peer_.max_streams_uni = std::max(peer_.max_streams_uni, peer.max_streams_uni);
  conn_send_.raise_limit(peer_.max_data);
  peer_max_streams_[0] = std::max(peer_max_streams_[0], peer_.max_streams_bidi);
  peer_max_streams_[1] = std::max(peer_max_streams_[1], peer_.max_streams_uni);
  // Streams opened before (0-RTT, or peer streams accepted early) get the new initial limits.
  for (auto& [id, s] : streams_) {
    if (s->send && s->send->on_max_stream_data(initial_send_limit(s->id))) reschedule(*s);
  }
  return {};
}

Stream* StreamManager::find(StreamId id) const {
  auto it = streams_.find(id.value);
  return it == streams_.end() ? nullptr : it->second.get();
}

std::uint64_t StreamManager::initial_send_limit(StreamId id) const {
  // The peer's parameters name streams from the peer's point of view.
  if (is_uni(id)) return peer_.max_stream_data_uni;
  return is_local(id, cfg_.side) ? peer_.max_stream_data_bidi_remote : peer_.max_stream_data_bidi_local;
}

std::uint64_t StreamManager::initial_recv_window(StreamId id) const {
  if (is_uni(id)) return cfg_.local.max_stream_data_uni;
  return is_local(id, cfg_.side) ? cfg_.local.max_stream_data_bidi_local : cfg_.local.max_stream_data_bidi_remote;
}

Stream& StreamManager::create(StreamId id) {
  auto owned = std::make_unique<Stream>(id);
  Stream& s = *owned;
  if (has_send_part(id, cfg_.side)) s.send.emplace(initial_send_limit(id), cfg_.send_buffer_limit);
  if (has_recv_part(id, cfg_.side)) {
    const std::uint64_t window = initial_recv_window(id);
    s.recv.emplace(window, std::max(window, cfg_.max_stream_window));
  }
  streams_.emplace(id.value, std::move(owned));
  return s;
}

Result<StreamId> StreamManager::open_stream(Direction dir) {
  const int d = direction_index(dir);
  if (next_local_[d] >= peer_max_streams_[d]) {
    if (!streams_blocked_was_reported_[d] || streams_blocked_reported_[d] != peer_max_streams_[d]) {
      streams_blocked_pending_[d] = true;
    }
    return Error{TransportError::kStreamLimitError, "peer's MAX_STREAMS limit reached"};
  }
  const StreamId id = make_stream_id(cfg_.side, dir, next_local_[d]++);
  create(id);
  return id;
}

Result<Stream*> StreamManager::stream_for_app(StreamId id, bool needs_recv_part) const {
  Stream* s = find(id);
  if (!s) {
    const int d = direction_index(direction(id));
    const bool opened = stream_index(id) < (is_local(id, cfg_.side) ? next_local_[d] : next_peer_[d]);
    return Error{TransportError::kStreamStateError, opened ? "stream is closed" : "no such stream"};
  }
  if (needs_recv_part && !s->recv) return Error{TransportError::kStreamStateError, "stream is send-only"};
  if (!needs_recv_part && !s->send) return Error{TransportError::kStreamStateError, "stream is receive-only"};
  return s;
}

Result<std::size_t> StreamManager::write(StreamId id, Bytes data, bool fin) {
  auto found = stream_for_app(id, false);
  if (!found) return found.error();
  Stream& s = **found;
  auto n = s.send->write(data, fin);
  if (!n) return n;
  if (*n < data.size()) s.want_writable = true;
  reschedule(s);
  check_connection_blocked();
  return n;
}

Result<ReadResult> StreamManager::read(StreamId id, MutBytes out) {
  auto found = stream_for_app(id, true);
  if (!found) return found.error();
  Stream& s = **found;
  s.readable_notified = false;
  const ReadResult r = s.recv->read(out);
  after_recv_progress(s);
  maybe_close(s);
  return r;
}

Result<Bytes> StreamManager::peek(StreamId id) {
  auto found = stream_for_app(id, true);
  if (!found) return found.error();
  return (*found)->recv->peek();
}

Result<ReadResult> StreamManager::consume(StreamId id, std::size_t n) {
  auto found = stream_for_app(id, true);
  if (!found) return found.error();
  Stream& s = **found;
  s.readable_notified = false;
  const ReadResult r = s.recv->consume(n);
  after_recv_progress(s);
  maybe_close(s);
  return r;
}

Status StreamManager::reset_stream(StreamId id, std::uint64_t error_code) {
  auto found = stream_for_app(id, false);
  if (!found) return found.error();
  Stream& s = **found;
  if (s.send->reset(error_code)) queue(s, kQueuedReset);
  reschedule(s);
  return {};
}

Status StreamManager::stop_sending(StreamId id, std::uint64_t error_code) {
  auto found = stream_for_app(id, true);
  if (!found) return found.error();
  Stream& s = **found;
  if (s.recv->stop_sending(error_code)) queue(s, kQueuedStopSending);
  after_recv_progress(s);
  maybe_close(s);
  return {};
}

std::optional<StreamEvent> StreamManager::poll_event() {
  while (!events_.empty()) {
    const StreamEvent e = events_.front();
    events_.pop_front();
    // Readiness of a stream that has since gone away is moot.
    if ((e.kind == StreamEvent::Kind::kReadable || e.kind == StreamEvent::Kind::kWritable) && !find(e.id)) continue;
    return e;
  }
  return std::nullopt;
}

void StreamManager::push_event(StreamEvent::Kind kind, StreamId id, std::uint64_t code) {
  events_.push_back(StreamEvent{kind, id, code});
}

void StreamManager::queue(Stream& s, StreamControl kind) {
  if (s.queued & kind) return;
  s.queued |= kind;
  stream_control_.push_back({s.id.value, kind});
}

void StreamManager::after_recv_progress(Stream& s) {
  if (!s.recv) return;
  const std::uint64_t released = s.recv->take_released();
  if (released) {
    conn_recv_.on_consumed(released);
    if (conn_recv_.update_due()) max_data_pending_ = true;
  }
  if (s.recv->update_due()) queue(s, kQueuedMaxStreamData);
  if (s.recv->has_event() && !s.readable_notified) {
    s.readable_notified = true;
    push_event(StreamEvent::Kind::kReadable, s.id);
  }
}

void StreamManager::after_send_progress(Stream& s) {
  if (!s.send) return;
  if (s.want_writable && s.send->writable() >= cfg_.send_buffer_limit / 2) {
    s.want_writable = false;
    push_event(StreamEvent::Kind::kWritable, s.id);
  }
}

bool StreamManager::maybe_close(Stream& s) {
  if (!s.done()) return false;
  retx_list_.remove(s);
  send_list_.remove(s);
  const StreamId id = s.id;
  if (!is_local(id, cfg_.side)) {
    const int d = direction_index(direction(id));
    ++peer_closed_[d];
    if (max_streams_target(d) > adv_max_streams_[d]) max_streams_pending_[d] = true;
  }
  streams_.erase(id.value);  // destroys s
  return true;
}

std::uint64_t StreamManager::max_streams_target(int d) const {
  // Keep the number of peer streams that may be open at once at the initial limit.
  const std::uint64_t initial = d == 0 ? cfg_.local.max_streams_bidi : cfg_.local.max_streams_uni;
  return std::min(kMaxStreamCount, peer_closed_[d] + initial);
}

std::optional<SendState> StreamManager::send_state(StreamId id) const {
  const Stream* s = find(id);
  if (!s || !s->send) return std::nullopt;
  return s->send->state();
}

std::optional<RecvState> StreamManager::recv_state(StreamId id) const {
  const Stream* s = find(id);
  if (!s || !s->recv) return std::nullopt;
  return s->recv->state();
}

}  // namespace roam::streams
