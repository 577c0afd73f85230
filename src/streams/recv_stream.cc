#include "streams/recv_stream.h"

#include <algorithm>

namespace roam::streams {

std::string_view to_string(RecvState s) {
  switch (s) {
    case RecvState::kRecv: return "Recv";
    case RecvState::kSizeKnown: return "SizeKnown";
    case RecvState::kDataRecvd: return "DataRecvd";
    case RecvState::kDataRead: return "DataRead";
    case RecvState::kResetRecvd: return "ResetRecvd";
    case RecvState::kResetRead: return "ResetRead";
  }
  return "?";
}

Result<std::uint64_t> RecvStream::on_data(std::uint64_t offset, Bytes data, bool fin, std::uint64_t conn_credit) {
  if (Status s = buf_.validate(offset, data.size(), fin); !s) return s.error();
  // Once every byte is known (all received, or reset), later frames only get the checks above.
  if (state_ != RecvState::kRecv && state_ != RecvState::kSizeKnown) return std::uint64_t{0};
  const std::uint64_t end = offset + data.size();
  if (end > fc_.limit()) return Error{TransportError::kFlowControlError, "stream data beyond MAX_STREAM_DATA"};
  const std::uint64_t growth = end > fc_.received() ? end - fc_.received() : 0;
  if (growth > conn_credit) return Error{TransportError::kFlowControlError, "stream data beyond MAX_DATA"};
  (void)fc_.on_received(end);
  const std::uint64_t read_before = buf_.read_offset();
  (void)buf_.insert(offset, data, fin);
  fc_.on_consumed(buf_.read_offset() - read_before);  // moves only while discarding after stop_sending
  if (buf_.has_final_size() && state_ == RecvState::kRecv) state_ = RecvState::kSizeKnown;
  after_progress();
  return growth;
}

Result<std::uint64_t> RecvStream::on_reset(std::uint64_t code, std::uint64_t final_size, std::uint64_t conn_credit) {
  if (Status s = buf_.validate(final_size, 0, true); !s) return s.error();
  if (state_ != RecvState::kRecv && state_ != RecvState::kSizeKnown) {
    // Already reset, or all data is here: a RESET_STREAM after Data Recvd is suppressed so the
    // application still gets the complete stream (RFC 9000 3.2 allows either).
    return std::uint64_t{0};
  }
  if (final_size > fc_.limit()) return Error{TransportError::kFlowControlError, "final size beyond MAX_STREAM_DATA"};
  const std::uint64_t growth = final_size > fc_.received() ? final_size - fc_.received() : 0;
  if (growth > conn_credit) return Error{TransportError::kFlowControlError, "final size beyond MAX_DATA"};
  (void)fc_.on_received(final_size);
  (void)buf_.set_final_size(final_size);
  buf_.discard();
  reset_code_ = code;
  // If the application already said it does not care, there is nobody to tell.
  state_ = stopped_ ? RecvState::kResetRead : RecvState::kResetRecvd;
  return growth;
}

void RecvStream::after_progress() {
  if (state_ == RecvState::kSizeKnown && buf_.all_received()) {
    state_ = stopped_ ? RecvState::kDataRead : RecvState::kDataRecvd;
  }
}

ReadResult RecvStream::read(MutBytes out) {
  if (state_ == RecvState::kResetRecvd) {
    state_ = RecvState::kResetRead;
    return {0, false, true, reset_code_};
  }
  if (stopped_ || terminal()) return {};
  return after_read(buf_.read(out));
}

Bytes RecvStream::peek() const {
  if (stopped_ || terminal() || state_ == RecvState::kResetRecvd) return {};
  return buf_.peek();
}

ReadResult RecvStream::consume(std::size_t n) {
  if (state_ == RecvState::kResetRecvd) {
    state_ = RecvState::kResetRead;
    return {0, false, true, reset_code_};
  }
  if (stopped_ || terminal()) return {};
  const std::size_t taken = std::min(n, buf_.readable());
  buf_.consume(taken);
  return after_read(taken);
}

ReadResult RecvStream::after_read(std::size_t n) {
  fc_.on_consumed(n);
  ReadResult r{n, false, false, 0};
  if (buf_.fin_read() && state_ == RecvState::kDataRecvd) {
    state_ = RecvState::kDataRead;
    r.fin = true;
  }
  return r;
}

bool RecvStream::has_event() const {
  if (state_ == RecvState::kResetRecvd) return true;
  if (stopped_ || terminal()) return false;
  return buf_.readable() > 0 || (state_ == RecvState::kDataRecvd && buf_.fin_read());
}

bool RecvStream::stop_sending(std::uint64_t code) {
  if (stopped_ || terminal()) return false;
  stopped_ = true;
  stop_code_ = code;
  const std::uint64_t before = buf_.read_offset();
  buf_.discard();
  fc_.on_consumed(buf_.read_offset() - before);
  switch (state_) {
    case RecvState::kRecv:
    case RecvState::kSizeKnown: return true;
    case RecvState::kDataRecvd: state_ = RecvState::kDataRead; return false;
    case RecvState::kResetRecvd: state_ = RecvState::kResetRead; return false;
    default: return false;
  }
}

std::uint64_t RecvStream::take_released() {
  // Reset: the whole final size is accounted; otherwise what the reader (or the discard) consumed.
  const bool reset = state_ == RecvState::kResetRecvd || state_ == RecvState::kResetRead;
  const std::uint64_t target = reset ? buf_.final_size() : buf_.read_offset();
  const std::uint64_t delta = target > released_ ? target - released_ : 0;
  released_ = std::max(released_, target);
  return delta;
}

}  // namespace roam::streams
