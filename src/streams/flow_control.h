// Data flow control (RFC 9000 4.1, 4.2), one controller per stream and one per connection in each
// direction.
//
// Receive side: the peer may send up to limit(), the largest value we advertised. Once the reader
// has consumed half the window past the last advertisement, update_due() asks for a
// MAX_STREAM_DATA / MAX_DATA of consumed + window. Auto-tuning: if an update becomes due less than
// two smoothed RTTs after the previous one, the reader drains a window faster than one window per
// two round trips, so flow control (not the application) would limit throughput: the window doubles,
// up to max_window. Without an RTT hint (zero) the window stays fixed.
//
// Send side: the peer's limit and the credit used; blocked() tells when to send DATA_BLOCKED /
// STREAM_DATA_BLOCKED, once per peer limit.
#pragma once

#include <cstdint>
#include <optional>

#include "common/error.h"
#include "common/types.h"

namespace roam::streams {

class RecvFlowController {
 public:
  // initial_window is what the transport parameter advertised; max_window >= initial_window caps
  // auto-tuning (equal: no tuning).
  RecvFlowController(std::uint64_t initial_window, std::uint64_t max_window);

  std::uint64_t limit() const { return limit_; }
  std::uint64_t received() const { return received_; }
  std::uint64_t consumed() const { return consumed_; }
  std::uint64_t window() const { return window_; }

  // The peer's data now reaches `new_received` (a stream's highest offset, or the connection's sum
  // of them). FLOW_CONTROL_ERROR beyond limit(); otherwise records the maximum.
  Status on_received(std::uint64_t new_received);
  // The application consumed (or the stack released on its behalf) `bytes` more.
  void on_consumed(std::uint64_t bytes);

  // True when an update should be sent: the remaining credit fell to half the window or below.
  bool update_due() const;
  struct Update {
    std::uint64_t limit = 0;
    std::uint64_t window = 0;
  };
  // The update to send now (with auto-tuning applied); commit() it once it is in a packet.
  Update propose(Instant now, Duration rtt) const;
  void commit(const Update& u, Instant now);
  // Raises the window (not beyond max_window); used to keep the connection window at least as
  // large as a tuned stream window.
  void ensure_window(std::uint64_t window);

 private:
  std::uint64_t limit_;
  std::uint64_t window_;
  std::uint64_t max_window_;
  std::uint64_t received_ = 0;
  std::uint64_t consumed_ = 0;
  std::optional<Instant> last_update_;
};

class SendFlowController {
 public:
  explicit SendFlowController(std::uint64_t limit = 0) : limit_(limit) {}

  std::uint64_t limit() const { return limit_; }
  std::uint64_t used() const { return used_; }
  std::uint64_t credit() const { return limit_ > used_ ? limit_ - used_ : 0; }

  // MAX_DATA / MAX_STREAM_DATA / transport parameter: returns true if the limit increased
  // (smaller values are ignored, RFC 9000 4.1).
  bool raise_limit(std::uint64_t limit);
  // Precondition: bytes <= credit().
  void consume(std::uint64_t bytes) { used_ += bytes; }

  // Blocked at the current limit and not yet reported for it.
  bool should_report_blocked() const { return credit() == 0 && (!reported_ || reported_limit_ != limit_); }
  void mark_blocked_reported() {
    reported_ = true;
    reported_limit_ = limit_;
  }
  // A lost *_BLOCKED frame for `limit` is worth resending only while we are still blocked there.
  bool still_blocked_at(std::uint64_t limit) const { return credit() == 0 && limit_ == limit; }

 private:
  std::uint64_t limit_;
  std::uint64_t used_ = 0;
  std::uint64_t reported_limit_ = 0;
  bool reported_ = false;
};

}  // namespace roam::streams
