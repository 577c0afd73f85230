// StreamManager: what the packet builder pulls (control frames, STREAM frames) and the
// acknowledgement / loss callbacks for them.
#include <algorithm>

#include "streams/frame_size.h"
#include "streams/stream_manager.h"

namespace roam::streams {

// ---------------------------------------------------------------- scheduling

void StreamManager::reschedule(Stream& s) {
  if (!s.send) return;
  if (s.send->has_retransmit()) retx_list_.push_back(s);
  else retx_list_.remove(s);
  if (s.send->has_sendable()) send_list_.push_back(s);
  else send_list_.remove(s);
  if (s.send->should_report_blocked()) queue(s, kQueuedStreamDataBlocked);
}

void StreamManager::check_connection_blocked() {
  if (!send_list_.empty() && conn_send_.should_report_blocked()) data_blocked_pending_ = true;
}

bool StreamManager::has_stream_data() const {
  if (!retx_list_.empty()) return true;
  if (send_list_.empty()) return false;
  // Without connection credit only a FIN-only frame at the front can go (as in next_stream_frame).
  return conn_send_.credit() > 0 || send_list_.front()->send->buffer().unsent() == 0;
}

std::optional<StreamFrame> StreamManager::take_chunk(Stream& s, std::size_t max_frame_size,
                                                     std::uint64_t conn_credit, bool* filled) {
  *filled = false;
  const std::size_t header = stream_frame_header(s.id.value, s.send->buffer().next_offset());
  if (max_frame_size <= header) return std::nullopt;
  const std::size_t max_data = max_payload_with_length(max_frame_size - header);
  if (max_data == 0) return std::nullopt;
  std::uint64_t new_bytes = 0;
  auto chunk = s.send->next_chunk(max_data, conn_credit, &new_bytes);
  if (!chunk) return std::nullopt;
  conn_send_.consume(new_bytes);
  *filled = chunk->data.size() == max_data;
  return StreamFrame{s.id, chunk->offset, chunk->data, chunk->fin};
}

std::optional<StreamFrame> StreamManager::next_stream_frame(std::size_t max_frame_size) {
  // Lost data first: it already holds connection credit and the peer's reassembly waits on it.
  if (Stream* s = retx_list_.front()) {
    bool filled = false;
    auto f = take_chunk(*s, max_frame_size, 0, &filled);
    if (!f) return std::nullopt;  // no room for a frame
    reschedule(*s);
    if (filled) retx_list_.move_to_back(*s);
    return f;
  }
  Stream* s = send_list_.front();
  if (!s) return std::nullopt;
  const std::uint64_t credit = conn_send_.credit();
  const bool fin_only = s->send->buffer().unsent() == 0;
  if (credit == 0 && !fin_only) {
    check_connection_blocked();
    return std::nullopt;
  }
  bool filled = false;
  auto f = take_chunk(*s, max_frame_size, credit, &filled);
  if (!f) return std::nullopt;
  reschedule(*s);
  if (filled) send_list_.move_to_back(*s);
  check_connection_blocked();
  return f;
}

void StreamManager::on_stream_data_acked(StreamId id, std::uint64_t offset, std::uint64_t len, bool fin) {
  Stream* s = find(id);
  if (!s || !s->send) return;
  s->send->on_acked(offset, len, fin);
  reschedule(*s);
  after_send_progress(*s);
  maybe_close(*s);
}

void StreamManager::on_stream_data_lost(StreamId id, std::uint64_t offset, std::uint64_t len, bool fin) {
  Stream* s = find(id);
  if (!s || !s->send) return;
  s->send->on_lost(offset, len, fin);
  reschedule(*s);
}

// ---------------------------------------------------------------- control frames

bool StreamManager::has_control_frames() const {
  return max_data_pending_ || data_blocked_pending_ || max_streams_pending_[0] || max_streams_pending_[1] ||
         streams_blocked_pending_[0] || streams_blocked_pending_[1] || !stream_control_.empty();
}

std::optional<ControlFrame> StreamManager::stream_control_frame(Stream& s, StreamControl kind, Instant now,
                                                                bool* relevant) {
  *relevant = true;
  switch (kind) {
    case kQueuedReset:
      if (s.send && s.send->state() == SendState::kResetSent) {
        return ResetStreamFrame{s.id, s.send->reset_code(), s.send->final_size()};
      }
      break;
    case kQueuedStopSending:
      if (s.recv && s.recv->stop_sending_relevant()) return StopSendingFrame{s.id, s.recv->stop_code()};
      break;
    case kQueuedMaxStreamData:
      if (s.recv && s.recv->update_due()) {
        return MaxStreamDataFrame{s.id, s.recv->propose_update(now, rtt_).limit};
      }
      // Queued again after a loss: repeat the current limit while it still matters.
      if (s.recv && s.recv->update_relevant(s.recv->flow().limit())) {
        return MaxStreamDataFrame{s.id, s.recv->flow().limit()};
      }
      break;
    case kQueuedStreamDataBlocked:
      if (s.send && s.send->blocked()) return StreamDataBlockedFrame{s.id, s.send->flow().limit()};
      break;
  }
  *relevant = false;
  return std::nullopt;
}

void StreamManager::commit_stream_control(Stream& s, const ControlFrame& f, Instant now) {
  if (std::holds_alternative<MaxStreamDataFrame>(f) && s.recv->update_due()) {
    const auto u = s.recv->propose_update(now, rtt_);
    s.recv->commit_update(u, now);
    // A tuned stream window must fit in the connection window.
    conn_recv_.ensure_window(u.window);
  } else if (std::holds_alternative<StreamDataBlockedFrame>(f)) {
    s.send->on_blocked_reported();
  }
}

std::optional<ControlFrame> StreamManager::pop_control_frame(std::size_t max_bytes, Instant now) {
  if (max_data_pending_) {
    const bool due = conn_recv_.update_due();
    const auto u = conn_recv_.propose(now, rtt_);
    const ControlFrame f = MaxDataFrame{due ? u.limit : conn_recv_.limit()};
    if (encoded_size(f) > max_bytes) return std::nullopt;
    if (due) conn_recv_.commit(u, now);
    max_data_pending_ = false;
    return f;
  }
  for (int d = 0; d < 2; ++d) {
    if (!max_streams_pending_[d]) continue;
    const std::uint64_t value = std::max(adv_max_streams_[d], max_streams_target(d));
    const ControlFrame f = MaxStreamsFrame{d == 0 ? Direction::kBidi : Direction::kUni, value};
    if (encoded_size(f) > max_bytes) return std::nullopt;
    adv_max_streams_[d] = value;
    max_streams_pending_[d] = false;
    return f;
  }
  while (!stream_control_.empty()) {
    const PendingStreamControl p = stream_control_.front();
    Stream* s = find(StreamId{p.id});
    bool relevant = false;
    std::optional<ControlFrame> f;
    if (s && (s->queued & p.kind)) f = stream_control_frame(*s, p.kind, now, &relevant);
    if (!relevant) {
      if (s) s->queued &= static_cast<std::uint8_t>(~p.kind);
      stream_control_.pop_front();
      continue;
    }
    if (encoded_size(*f) > max_bytes) return std::nullopt;
    stream_control_.pop_front();
    s->queued &= static_cast<std::uint8_t>(~p.kind);
    commit_stream_control(*s, *f, now);
    return f;
  }
  if (data_blocked_pending_) {
    if (conn_send_.credit() == 0 && !send_list_.empty()) {
      const ControlFrame f = DataBlockedFrame{conn_send_.limit()};
      if (encoded_size(f) > max_bytes) return std::nullopt;
      conn_send_.mark_blocked_reported();
      data_blocked_pending_ = false;
      return f;
    }
    data_blocked_pending_ = false;
  }
  for (int d = 0; d < 2; ++d) {
    if (!streams_blocked_pending_[d]) continue;
    if (next_local_[d] >= peer_max_streams_[d]) {
      const ControlFrame f = StreamsBlockedFrame{d == 0 ? Direction::kBidi : Direction::kUni, peer_max_streams_[d]};
      if (encoded_size(f) > max_bytes) return std::nullopt;
      streams_blocked_reported_[d] = peer_max_streams_[d];
      streams_blocked_was_reported_[d] = true;
      streams_blocked_pending_[d] = false;
      return f;
    }
    streams_blocked_pending_[d] = false;
  }
  return std::nullopt;
}

void StreamManager::on_control_frame_acked(const ControlFrame& f) {
  if (const auto* r = std::get_if<ResetStreamFrame>(&f)) {
    Stream* s = find(r->id);
    if (!s || !s->send) return;
    s->send->on_reset_acked();
    maybe_close(*s);
  }
}

void StreamManager::on_control_frame_lost(const ControlFrame& f) {
  if (const auto* r = std::get_if<ResetStreamFrame>(&f)) {
    Stream* s = find(r->id);
    if (s && s->send && s->send->state() == SendState::kResetSent) queue(*s, kQueuedReset);
  } else if (const auto* ss = std::get_if<StopSendingFrame>(&f)) {
    Stream* s = find(ss->id);
    if (s && s->recv && s->recv->stop_sending_relevant()) queue(*s, kQueuedStopSending);
  } else if (const auto* md = std::get_if<MaxDataFrame>(&f)) {
    // A larger MAX_DATA sent since supersedes this one.
    if (md->maximum_data == conn_recv_.limit()) max_data_pending_ = true;
  } else if (const auto* msd = std::get_if<MaxStreamDataFrame>(&f)) {
    Stream* s = find(msd->id);
    if (s && s->recv && s->recv->update_relevant(msd->maximum_stream_data)) queue(*s, kQueuedMaxStreamData);
  } else if (const auto* ms = std::get_if<MaxStreamsFrame>(&f)) {
    const int d = direction_index(ms->dir);
    if (ms->maximum_streams == adv_max_streams_[d]) max_streams_pending_[d] = true;
  } else if (const auto* db = std::get_if<DataBlockedFrame>(&f)) {
    if (conn_send_.still_blocked_at(db->maximum_data) && !send_list_.empty()) data_blocked_pending_ = true;
  } else if (const auto* sdb = std::get_if<StreamDataBlockedFrame>(&f)) {
    Stream* s = find(sdb->id);
    if (s && s->send && s->send->still_blocked_at(sdb->maximum_stream_data)) queue(*s, kQueuedStreamDataBlocked);
  } else if (const auto* sb = std::get_if<StreamsBlockedFrame>(&f)) {
    const int d = direction_index(sb->dir);
    if (peer_max_streams_[d] == sb->maximum_streams && next_local_[d] >= peer_max_streams_[d]) {
      streams_blocked_pending_[d] = true;
    }
  }
}

}  // namespace roam::streams
