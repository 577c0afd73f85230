// StreamManager: handling the peer's stream-related frames (RFC 9000 19.4-19.14).
#include <algorithm>

#include "streams/stream_manager.h"

namespace roam::streams {
namespace {

Error with_frame(Error e, std::uint64_t frame_type) {
  e.frame_type = frame_type;
  return e;
}

}  // namespace

Result<Stream*> StreamManager::stream_for_frame(StreamId id, bool needs_recv_part, std::uint64_t frame_type) {
  if (needs_recv_part && !has_recv_part(id, cfg_.side)) {
    return Error{TransportError::kStreamStateError, "frame for a locally-initiated unidirectional stream",
                 frame_type};
  }
  if (!needs_recv_part && !has_send_part(id, cfg_.side)) {
    return Error{TransportError::kStreamStateError, "frame for a receive-only stream", frame_type};
  }
  const int d = direction_index(direction(id));
  const std::uint64_t index = stream_index(id);
  if (is_local(id, cfg_.side)) {
    if (index >= next_local_[d]) {
      return Error{TransportError::kStreamStateError, "frame for a local stream not yet opened", frame_type};
    }
    return find(id);
  }
  if (index >= adv_max_streams_[d]) {
    return Error{TransportError::kStreamLimitError, "peer opened more streams than allowed", frame_type};
  }
  // Opening a stream opens every lower-numbered stream of its type (RFC 9000 3.2).
  while (next_peer_[d] <= index) {
    const StreamId opened = make_stream_id(peer_of(cfg_.side), direction(id), next_peer_[d]++);
    create(opened);
    push_event(StreamEvent::Kind::kOpened, opened);
  }
  return find(id);
}

Status StreamManager::on_stream_frame(StreamId id, std::uint64_t offset, Bytes data, bool fin) {
  auto found = stream_for_frame(id, true, kFrameStream);
  if (!found) return found.error();
  Stream* s = *found;
  if (!s) return {};
  const std::uint64_t conn_credit = conn_recv_.limit() - conn_recv_.received();
  auto growth = s->recv->on_data(offset, data, fin, conn_credit);
  if (!growth) return with_frame(growth.error(), kFrameStream);
  (void)conn_recv_.on_received(conn_recv_.received() + *growth);
  after_recv_progress(*s);
  maybe_close(*s);
  return {};
}

Status StreamManager::on_reset_stream(StreamId id, std::uint64_t error_code, std::uint64_t final_size) {
  auto found = stream_for_frame(id, true, kFrameResetStream);
  if (!found) return found.error();
  Stream* s = *found;
  if (!s) return {};
  const std::uint64_t conn_credit = conn_recv_.limit() - conn_recv_.received();
  auto growth = s->recv->on_reset(error_code, final_size, conn_credit);
  if (!growth) return with_frame(growth.error(), kFrameResetStream);
  (void)conn_recv_.on_received(conn_recv_.received() + *growth);
  after_recv_progress(*s);
  maybe_close(*s);
  return {};
}

Status StreamManager::on_stop_sending(StreamId id, std::uint64_t error_code) {
  auto found = stream_for_frame(id, false, kFrameStopSending);
  if (!found) return found.error();
  Stream* s = *found;
  if (!s) return {};
  // The peer will not read: stop sending and answer with RESET_STREAM carrying its code (3.5).
  if (s->send->reset(error_code)) {
    queue(*s, kQueuedReset);
    push_event(StreamEvent::Kind::kStopped, s->id, error_code);
  }
  reschedule(*s);
  return {};
}

void StreamManager::on_max_data(std::uint64_t maximum) { conn_send_.raise_limit(maximum); }

Status StreamManager::on_max_stream_data(StreamId id, std::uint64_t maximum) {
  auto found = stream_for_frame(id, false, kFrameMaxStreamData);
  if (!found) return found.error();
  Stream* s = *found;
  if (s && s->send->on_max_stream_data(maximum)) reschedule(*s);
  return {};
}

Status StreamManager::on_max_streams(Direction dir, std::uint64_t maximum) {
  const std::uint64_t type = dir == Direction::kBidi ? kFrameMaxStreamsBidi : kFrameMaxStreamsUni;
  if (maximum > kMaxStreamCount) return Error{TransportError::kFrameEncodingError, "MAX_STREAMS above 2^60", type};
  auto& limit = peer_max_streams_[direction_index(dir)];
  limit = std::max(limit, maximum);
  return {};
}

void StreamManager::on_data_blocked(std::uint64_t /*maximum*/) {
  // Informational: credit is issued on consumption, never held back waiting for this signal.
}

Status StreamManager::on_stream_data_blocked(StreamId id, std::uint64_t /*maximum*/) {
  // Only the checks and the implicit opening matter; credit follows consumption.
  auto found = stream_for_frame(id, true, kFrameStreamDataBlocked);
  if (!found) return found.error();
  return {};
}

Status StreamManager::on_streams_blocked(Direction dir, std::uint64_t maximum) {
  const std::uint64_t type = dir == Direction::kBidi ? kFrameStreamsBlockedBidi : kFrameStreamsBlockedUni;
  if (maximum > kMaxStreamCount) {
    return Error{TransportError::kFrameEncodingError, "STREAMS_BLOCKED above 2^60", type};
  }
  return {};
}

}  // namespace roam::streams
