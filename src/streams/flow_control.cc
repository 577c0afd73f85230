#include "streams/flow_control.h"

#include <algorithm>

#include "streams/stream_id.h"

namespace roam::streams {

RecvFlowController::RecvFlowController(std::uint64_t initial_window, std::uint64_t max_window)
    : limit_(initial_window), window_(initial_window), max_window_(std::max(initial_window, max_window)) {}

Status RecvFlowController::on_received(std::uint64_t new_received) {
  if (new_received > limit_) return Error{TransportError::kFlowControlError, "data beyond the flow control limit"};
  received_ = std::max(received_, new_received);
  return {};
}

void RecvFlowController::on_consumed(std::uint64_t bytes) { consumed_ = std::min(consumed_ + bytes, received_); }

bool RecvFlowController::update_due() const {
  if (window_ == 0) return false;
  return limit_ - std::min(limit_, consumed_) <= window_ / 2 && consumed_ + window_ > limit_;
}

RecvFlowController::Update RecvFlowController::propose(Instant now, Duration rtt) const {
  std::uint64_t window = window_;
  if (rtt > Duration::zero() && last_update_ && now - *last_update_ < 2 * rtt) {
    window = std::min(max_window_, window * 2);
  }
  const std::uint64_t limit = std::min(consumed_ + window, kMaxStreamOffset);
  return {std::max(limit, limit_), window};
}

void RecvFlowController::commit(const Update& u, Instant now) {
  limit_ = std::max(limit_, u.limit);
  window_ = std::max(window_, u.window);
  last_update_ = now;
}

void RecvFlowController::ensure_window(std::uint64_t window) {
  window_ = std::max(window_, std::min(window, max_window_));
}

bool SendFlowController::raise_limit(std::uint64_t limit) {
  if (limit <= limit_) return false;
  limit_ = limit;
  return true;
}

}  // namespace roam::streams
