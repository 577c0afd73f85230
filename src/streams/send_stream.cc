#include "streams/send_stream.h"

#include <algorithm>
#include <limits>

namespace roam::streams {

std::string_view to_string(SendState s) {
  switch (s) {
    case SendState::kReady: return "Ready";
    case SendState::kSend: return "Send";
    case SendState::kDataSent: return "DataSent";
    case SendState::kDataRecvd: return "DataRecvd";
    case SendState::kResetSent: return "ResetSent";
    case SendState::kResetRecvd: return "ResetRecvd";
  }
  return "?";
}

Result<std::size_t> SendStream::write(Bytes data, bool fin) {
  if (state_ == SendState::kResetSent || state_ == SendState::kResetRecvd) {
    return Error{TransportError::kStreamStateError, "stream was reset"};
  }
  if (buf_.finished()) return Error{TransportError::kStreamStateError, "stream already finished"};
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(data.size(), writable()));
  buf_.append(data.first(n));
  if (fin && n == data.size()) buf_.finish();
  return n;
}

std::uint64_t SendStream::writable() const {
  if (!sending() || buf_.finished()) return 0;
  return buffer_limit_ > buf_.buffered() ? buffer_limit_ - buf_.buffered() : 0;
}

bool SendStream::reset(std::uint64_t code) {
  if (!sending()) return false;
  state_ = SendState::kResetSent;
  reset_code_ = code;
  buf_.reset();
  return true;
}

bool SendStream::has_sendable() const {
  if (!sending()) return false;
  if (buf_.sent_high() < buf_.end()) return fc_.credit() > 0;
  return buf_.finished() && !buf_.fin_sent();
}

std::optional<SendChunk> SendStream::next_chunk(std::size_t max_bytes, std::uint64_t conn_credit,
                                                std::uint64_t* new_bytes) {
  *new_bytes = 0;
  if (!sending()) return std::nullopt;
  const std::uint64_t before = buf_.sent_high();
  const std::uint64_t headroom = std::numeric_limits<std::uint64_t>::max() - before;
  const std::uint64_t flow_limit = std::min(fc_.limit(), before + std::min(conn_credit, headroom));
  auto chunk = buf_.next_chunk(max_bytes, flow_limit);
  if (!chunk) return chunk;
  *new_bytes = buf_.sent_high() - before;
  fc_.consume(*new_bytes);
  if (state_ == SendState::kReady) state_ = SendState::kSend;
  if (chunk->fin) state_ = SendState::kDataSent;
  return chunk;
}

void SendStream::on_blocked_reported() {
  fc_.mark_blocked_reported();
  if (state_ == SendState::kReady) state_ = SendState::kSend;
}

void SendStream::on_acked(std::uint64_t offset, std::uint64_t len, bool fin) {
  if (!sending()) return;
  buf_.on_acked(offset, len, fin);
  if (state_ == SendState::kDataSent && buf_.all_acked()) state_ = SendState::kDataRecvd;
}

void SendStream::on_lost(std::uint64_t offset, std::uint64_t len, bool fin) {
  if (!sending()) return;
  buf_.on_lost(offset, len, fin);
}

void SendStream::on_reset_acked() {
  if (state_ == SendState::kResetSent) state_ = SendState::kResetRecvd;
}

}  // namespace roam::streams
