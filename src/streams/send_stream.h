// The sending part of a stream (RFC 9000 3.1): its state machine, data buffer and the peer's
// stream-level flow-control limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/error.h"
#include "common/types.h"
#include "streams/flow_control.h"
#include "streams/send_buffer.h"

namespace roam::streams {

enum class SendState : std::uint8_t { kReady, kSend, kDataSent, kDataRecvd, kResetSent, kResetRecvd };
std::string_view to_string(SendState s);

class SendStream {
 public:
  // peer_limit: the peer's initial MAX_STREAM_DATA for this stream; buffer_limit: how many
  // unacknowledged bytes write() accepts (the application sees back-pressure beyond).
  SendStream(std::uint64_t peer_limit, std::uint64_t buffer_limit)
      : fc_(peer_limit), buffer_limit_(buffer_limit) {}

  SendState state() const { return state_; }
  bool terminal() const { return state_ == SendState::kDataRecvd || state_ == SendState::kResetRecvd; }
  const SendBuffer& buffer() const { return buf_; }
  const SendFlowController& flow() const { return fc_; }

  // --- application ---
  // Buffers as much of data as fits under the buffer limit and returns the count; fin ends the
  // stream, and applies only when all of data was taken. STREAM_STATE_ERROR after FIN or reset.
  Result<std::size_t> write(Bytes data, bool fin);
  // Room left under the buffer limit.
  std::uint64_t writable() const;
  // Abandons the stream with an application error code: true if a RESET_STREAM must be sent
  // (Ready, Send, Data Sent -> Reset Sent), false if already reset or fully acknowledged.
  bool reset(std::uint64_t code);
  std::uint64_t reset_code() const { return reset_code_; }
  // The final size a RESET_STREAM carries: the flow-control credit consumed.
  std::uint64_t final_size() const { return buf_.sent_high(); }

  // --- packet builder ---
  // Retransmissions first, then new data within the stream limit and conn_credit more bytes.
  // *new_bytes is set to the connection credit the chunk consumed.
  std::optional<SendChunk> next_chunk(std::size_t max_bytes, std::uint64_t conn_credit, std::uint64_t* new_bytes);
  bool has_retransmit() const { return sending() && buf_.has_retransmit(); }
  // New data with stream credit, or a FIN still to send.
  bool has_sendable() const;
  // Unsent data waiting on stream credit (for STREAM_DATA_BLOCKED).
  bool blocked() const { return sending() && buf_.sent_high() < buf_.end() && fc_.credit() == 0; }
  bool should_report_blocked() const { return blocked() && fc_.should_report_blocked(); }
  // A STREAM_DATA_BLOCKED for the current limit went into a packet.
  void on_blocked_reported();
  bool still_blocked_at(std::uint64_t limit) const { return blocked() && fc_.still_blocked_at(limit); }

  // --- peer ---
  // MAX_STREAM_DATA; true if the limit grew.
  bool on_max_stream_data(std::uint64_t limit) { return fc_.raise_limit(limit); }
  void on_acked(std::uint64_t offset, std::uint64_t len, bool fin);
  void on_lost(std::uint64_t offset, std::uint64_t len, bool fin);
  // The packet with our RESET_STREAM was acknowledged: Reset Sent -> Reset Recvd.
  void on_reset_acked();

 private:
  bool sending() const {
    return state_ == SendState::kReady || state_ == SendState::kSend || state_ == SendState::kDataSent;
  }

  SendBuffer buf_;
  SendFlowController fc_;
  std::uint64_t buffer_limit_;
  std::uint64_t reset_code_ = 0;
  SendState state_ = SendState::kReady;
};

}  // namespace roam::streams
