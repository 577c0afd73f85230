// The receiving part of a stream (RFC 9000 3.2): its state machine, reassembly buffer and our
// stream-level flow-control limit, plus the bookkeeping of connection-level credit it releases.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/error.h"
#include "common/types.h"
#include "streams/flow_control.h"
#include "streams/recv_buffer.h"

namespace roam::streams {

enum class RecvState : std::uint8_t { kRecv, kSizeKnown, kDataRecvd, kDataRead, kResetRecvd, kResetRead };
std::string_view to_string(RecvState s);

// What a read delivered: `bytes` copied; `fin` when the read reached the end of the stream;
// `reset` when the peer abandoned the stream (with its application error code) instead.
struct ReadResult {
  std::size_t bytes = 0;
  bool fin = false;
  bool reset = false;
  std::uint64_t reset_code = 0;
};

class RecvStream {
 public:
  // initial_window: our initial MAX_STREAM_DATA for this stream; max_window caps auto-tuning.
  RecvStream(std::uint64_t initial_window, std::uint64_t max_window) : fc_(initial_window, max_window) {}

  RecvState state() const { return state_; }
  bool terminal() const { return state_ == RecvState::kDataRead || state_ == RecvState::kResetRead; }
  const RecvBuffer& buffer() const { return buf_; }
  const RecvFlowController& flow() const { return fc_; }

  // --- peer ---
  // STREAM frame. conn_credit: how far the connection-level limit lets the peer's highest offsets
  // grow. Returns the growth of this stream's highest received offset (connection credit used).
  // FINAL_SIZE_ERROR / FLOW_CONTROL_ERROR / FRAME_ENCODING_ERROR leave the stream unchanged.
  Result<std::uint64_t> on_data(std::uint64_t offset, Bytes data, bool fin, std::uint64_t conn_credit);
  // RESET_STREAM. Same rules for the final size; returns the connection credit it uses.
  Result<std::uint64_t> on_reset(std::uint64_t code, std::uint64_t final_size, std::uint64_t conn_credit);

  // --- application ---
  ReadResult read(MutBytes out);
  // Zero-copy reading: peek() then consume(n); consume() reports the FIN like read().
  Bytes peek() const;
  ReadResult consume(std::size_t n);
  // Something for the application: data, the end of the stream, or a reset.
  bool has_event() const;
  // The application stops reading: buffered and future data is dropped. True if a STOP_SENDING
  // should be sent (Recv / Size Known); Data Recvd -> Data Read, Reset Recvd -> Reset Read.
  bool stop_sending(std::uint64_t code);
  bool stopped() const { return stopped_; }
  std::uint64_t stop_code() const { return stop_code_; }
  // A STOP_SENDING is worth (re)sending: stopped and the peer has not finished or reset.
  bool stop_sending_relevant() const {
    return stopped_ && (state_ == RecvState::kRecv || state_ == RecvState::kSizeKnown);
  }

  // Connection-level credit released since the last call: bytes read, dropped after
  // stop_sending(), or never to arrive after a reset (RFC 9000 4.5).
  std::uint64_t take_released();

  // --- flow control ---
  // A MAX_STREAM_DATA should be sent (Recv state, reader consumed half the window).
  bool update_due() const { return state_ == RecvState::kRecv && !stopped_ && fc_.update_due(); }
  // A lost MAX_STREAM_DATA carrying `limit` is still the latest and still useful.
  bool update_relevant(std::uint64_t limit) const {
    return state_ == RecvState::kRecv && !stopped_ && fc_.limit() == limit;
  }
  RecvFlowController::Update propose_update(Instant now, Duration rtt) const { return fc_.propose(now, rtt); }
  void commit_update(const RecvFlowController::Update& u, Instant now) { fc_.commit(u, now); }

 private:
  void after_progress();
  ReadResult after_read(std::size_t n);

  RecvBuffer buf_;
  RecvFlowController fc_;
  std::uint64_t released_ = 0;      // connection credit handed back so far
  std::uint64_t reset_code_ = 0;
  std::uint64_t stop_code_ = 0;
  RecvState state_ = RecvState::kRecv;
  bool stopped_ = false;
};

}  // namespace roam::streams
